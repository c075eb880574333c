"""Information capacity: how much a model compresses text per unit of compute.

Yuan et al. (2025), "Information Capacity: Evaluating the Efficiency of Large Language Models
via Text Compression": a language model is a compressor whose code length for a token is
−log₂ p. Over a corpus, with every sample truncated to L tokens and its first token dropped
(it has no context), TS = UTF-8 bits of text per token, NLL = model bits per token, and
IC = (TS − NLL + b) / log₂ F with F the decode FLOPs per token (`llminfo.analyzers.flops`)
and b a dataset constant. Bits per byte (NLL·tokens / bytes) is reported too.

The corpus is streamed: files and rows are read one at a time and scored in batches, so
memory is bounded by `batch_size × max_tokens`, not by the corpus size.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.capacity import InformationCapacity
    >>> ic = InformationCapacity(load_model("default"), max_tokens=128)
    >>> r = ic.measure_source("llminfo:corpus", max_samples=2)
    >>> 0 < r.nll_bits_per_token < r.text_bits_per_token, r.bits_per_byte > 0
    (True, True)
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from llminfo import measures
from llminfo.data import json_object
from llminfo.analyzers.flops import flops_per_token
from llminfo.models.base import LanguageModel

# A .txt file is read in pieces of about this many characters, cut at blank lines, so a huge
# file never sits in memory whole; windows of `max_tokens` tokens are cut from each piece.
_PIECE_CHARS = 1 << 16
_TEXT_SUFFIXES = (".txt", ".jsonl")


@dataclass
class Document:
    """A unit of corpus text. `stream=True` (plain-text files): cut into consecutive windows
    of `max_tokens`; `stream=False` (JSONL / dataset rows): one sample, truncated."""

    where: str
    text: str
    stream: bool


@dataclass
class CapacityResult:
    """Information capacity of one model on one corpus (token-weighted means)."""

    model: str
    samples: int
    tokens: int
    bytes: int
    text_bits_per_token: float
    nll_bits_per_token: float
    bits_per_byte: float
    mean_context: float
    flops_per_token: float
    log2_flops: float
    bias: float
    information_capacity: float
    max_tokens: int
    seconds: float
    tokens_per_second: float
    num_parameters: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def iter_documents(source: str | Path | Iterable[str], text_field: str = "text") -> Iterator[Document]:
    """Stream documents from a folder (its .txt and .jsonl files, sorted, recursively), a
    .txt file, a .jsonl file (`text_field` of each row), `llminfo:NAME` (shipped data, e.g.
    `llminfo:corpus`), `hf:NAME[:CONFIG][:SPLIT]` (a `datasets` dataset, streamed), or an
    iterable of strings. Errors name the file and line/row."""
    if not isinstance(source, (str, Path)):
        for i, text in enumerate(source):
            yield _checked(Document(f"texts[{i}]", text, stream=False))
        return
    spec = str(source)
    if spec.startswith("hf:"):
        yield from _iter_dataset(spec[3:], text_field)
        return
    if spec.startswith("llminfo:"):
        path = Path(__file__).resolve().parent.parent / "data" / spec.split(":", 1)[1]
        if not path.exists() and path.with_suffix(".jsonl").exists():
            path = path.with_suffix(".jsonl")
    else:
        path = Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"corpus {spec!r} does not exist")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _TEXT_SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"corpus folder {str(path)!r} has no .txt or .jsonl files")
    for f in files:
        yield from (_iter_jsonl(f, text_field) if f.suffix == ".jsonl" else _iter_text_file(f))


def _checked(doc: Document) -> Document:
    if not isinstance(doc.text, str):
        raise TypeError(f"{doc.where}: text has to be a string, got {type(doc.text).__name__}")
    if not doc.text.strip():
        raise ValueError(f"{doc.where}: text is empty or all whitespace")
    return doc


def _iter_text_file(path: Path) -> Iterator[Document]:
    buf: list[str] = []
    size = 0
    lineno = 0
    pending: Document | None = None  # one piece of look-ahead, so a short tail joins the piece before it
    try:
        with path.open(encoding="utf-8", errors="strict") as f:
            for lineno, line in enumerate(f, 1):
                buf.append(line)
                size += len(line)
                if size >= _PIECE_CHARS and not line.strip():
                    if pending is not None:
                        yield pending
                    pending = Document(f"{path}:{lineno - len(buf) + 1}", "".join(buf), stream=True)
                    buf, size = [], 0
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not valid UTF-8 (after line {lineno}: {e.reason} at byte {e.start})") from None
    tail = "".join(buf)
    if pending is None:
        if not tail.strip():
            raise ValueError(f"{path}: file is empty or all whitespace")
        pending = Document(str(path), tail, stream=True)
    elif tail.strip():
        pending.text += tail
    yield pending


def _iter_jsonl(path: Path, text_field: str) -> Iterator[Document]:
    lineno = 0
    try:
        with path.open(encoding="utf-8", errors="strict") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}, line {lineno}"
                row = json_object(line, where)
                if text_field not in row:
                    raise ValueError(f"{where}: no `{text_field}` field")
                yield _checked(Document(where, row[text_field], stream=False))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not valid UTF-8 (after line {lineno}: {e.reason} at byte {e.start})") from None


def _iter_dataset(spec: str, text_field: str) -> Iterator[Document]:
    import datasets

    parts = spec.split(":")
    name, config = parts[0], (parts[1] or None) if len(parts) > 1 else None
    split = parts[2] if len(parts) > 2 else "train"
    try:
        ds = datasets.load_dataset(name, config, split=split, streaming=True)
    except Exception as e:  # datasets raises many types (not found, offline, bad split): one clear line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(f"could not load dataset {spec!r} (NAME[:CONFIG[:SPLIT]]): {first}") from None
    for i, row in enumerate(ds):
        if text_field not in row:
            raise ValueError(f"dataset {spec!r}, row {i}: no `{text_field}` field (columns: {', '.join(row)})")
        yield _checked(Document(f"dataset {spec!r}, row {i}", row[text_field], stream=False))


class InformationCapacity:
    """Information capacity IC = (TS − NLL + b) / log₂ F of a model on a corpus
    (Yuan et al., 2025).

    Per sample (≤ `max_tokens` tokens), the first token is the context only; the others are
    scored with teacher forcing (`model.score`), giving NLL bits; the text they cover gives TS.
    F = `flops_per_token(model.describe(), mean context)`.

    Args:
        model: a `LanguageModel`.
        max_tokens (`int`, defaults to 1024): L, tokens per sample (>= 2).
        bias (`float`, defaults to -27.0): the dataset constant b.
        batch_size (`int`, defaults to 8): samples per `score` call (bounds memory).
    """

    def __init__(self, model: LanguageModel, max_tokens: int = 1024, bias: float = -27.0, batch_size: int = 8):
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 2:
            raise ValueError(f"`max_tokens` has to be an integer >= 2, got {max_tokens!r}")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not math.isfinite(bias):
            raise ValueError(f"`bias` has to be a finite number, got {bias!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` has to be an integer >= 1, got {batch_size!r}")
        self.model = model
        self.info = model.describe()
        if self.info.max_context and max_tokens > self.info.max_context:
            raise ValueError(f"`max_tokens` ({max_tokens}) exceeds the model's context window ({self.info.max_context})")
        self.max_tokens = max_tokens
        self.bias = float(bias)
        self.batch_size = batch_size
        try:
            self._score_has_entropy_flag = "entropy" in inspect.signature(model.score).parameters
        except (TypeError, ValueError):
            self._score_has_entropy_flag = False

    def samples(self, documents: Iterable[Document]) -> Iterator[tuple[str, str, str]]:
        """(where, context text, continuation text) per sample: the first token's text, then
        the text of tokens 2..L, cut from the original string at token end offsets."""
        tok = self.model.tokenizer
        L = self.max_tokens
        for doc in documents:
            ends = _token_ends(tok, doc.text)
            if len(ends) < 2:
                raise ValueError(f"{doc.where}: sample has {len(ends)} token(s); needs at least 2 (one context, one scored)")
            if not doc.stream:
                ends = ends[:L]
                yield doc.where, doc.text[: ends[0]], doc.text[ends[0] : ends[-1]]
                continue
            start = 0  # char offset where the window's first token starts
            for w in range(0, len(ends), L):
                win = ends[w : w + L]
                if len(win) < 2:
                    break  # a 1-token tail of a long file has nothing to score
                yield f"{doc.where}+{w}tok", doc.text[start : win[0]], doc.text[win[0] : win[-1]]
                start = win[-1]

    def measure(self, documents: Iterable[Document] | Iterable[str], max_samples: int | None = None) -> CapacityResult:
        """Stream `documents` (see `iter_documents`) and return the corpus-level result."""
        if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1):
            raise ValueError(f"`max_samples` has to be an integer >= 1, got {max_samples!r}")
        docs = (d if isinstance(d, Document) else _checked(Document(f"texts[{i}]", d, stream=False)) for i, d in enumerate(documents))
        totals = {"samples": 0, "tokens": 0, "bytes": 0, "nll_nats": 0.0, "context": 0.0}
        batch: list[tuple[str, str, str]] = []
        t0 = time.perf_counter()
        for sample in self.samples(docs):
            batch.append(sample)
            if len(batch) == self.batch_size:
                self._score_batch(batch, totals)
                batch = []
            if max_samples is not None and totals["samples"] + len(batch) >= max_samples:
                break
        if batch:
            self._score_batch(batch, totals)
        seconds = time.perf_counter() - t0
        if totals["tokens"] == 0:
            raise ValueError("the corpus gave no tokens to score")
        tokens = totals["tokens"]
        ts = 8.0 * totals["bytes"] / tokens
        nll = totals["nll_nats"] / tokens / measures.LN2
        ctx = totals["context"] / tokens
        flops = flops_per_token(self.info, ctx)
        return CapacityResult(
            model=self.model.name,
            samples=totals["samples"],
            tokens=tokens,
            bytes=totals["bytes"],
            text_bits_per_token=ts,
            nll_bits_per_token=nll,
            bits_per_byte=totals["nll_nats"] / measures.LN2 / totals["bytes"],
            mean_context=ctx,
            flops_per_token=flops,
            log2_flops=math.log2(flops),
            bias=self.bias,
            information_capacity=measures.information_capacity(ts, nll, flops, self.bias),
            max_tokens=self.max_tokens,
            seconds=seconds,
            tokens_per_second=tokens / seconds if seconds > 0 else float("nan"),
            num_parameters=int(getattr(self.info, "num_parameters", 0) or 0),
        )

    def measure_source(self, source: str | Path | Iterable[str], max_samples: int | None = None, text_field: str = "text") -> CapacityResult:
        """`measure(iter_documents(source))`."""
        return self.measure(iter_documents(source, text_field), max_samples=max_samples)

    def _score_batch(self, batch: list[tuple[str, str, str]], totals: dict[str, Any]) -> None:
        kwargs = {"entropy": False} if self._score_has_entropy_flag else {}  # logprobs only: faster
        scored = self.model.score([c for _w, c, _t in batch], [t for _w, _c, t in batch], **kwargs)
        for (where, _ctx, text), s in zip(batch, scored):
            n = len(s.logprobs)
            if n == 0:
                raise ValueError(f"{where}: nothing left to score after the first token")
            if any(not math.isfinite(lp) for lp in s.logprobs):
                raise ValueError(f"{where}: the model gave a non-finite log-probability")
            totals["samples"] += 1
            totals["tokens"] += n
            totals["bytes"] += len(text.encode("utf-8"))
            totals["nll_nats"] -= float(sum(s.logprobs))
            # token j of the continuation attends to 1 + j earlier tokens (the context token first)
            totals["context"] += n * 1.0 + n * (n - 1) / 2.0


def _token_ends(tokenizer: Any, text: str) -> list[int]:
    """End character offset of each token of `text` (no special tokens)."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ends = [int(e) for _s, e in enc["offset_mapping"]]
    # Byte-level tokens splitting one character share its offsets: keep strictly increasing ends.
    out: list[int] = []
    for e in ends:
        if not out or e > out[-1]:
            out.append(e)
    return out
