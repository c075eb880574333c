"""Information capacity: how much a model compresses text per unit of compute.

Yuan et al. (2025), "Information Capacity: Evaluating the Efficiency of Large Language Models
via Text Compression" (arXiv:2511.08066; code github.com/TeleAI-AI-Flow/InformationCapacity,
which this follows): a language model is a compressor whose code length for a token is
−log₂ p. Each sample is tokenized once as the tokenizer does by default (its BOS included),
truncated to L tokens; the first token is context only. On the sample's own token ids:
TS = UTF-8 bits of the decoded tokens 2..L per token (averaged over samples, as the paper),
NLL = −log₂ p of tokens 2..L (averaged over tokens, as the paper), F = the decode FLOPs per
token the paper counts for L (`flops.paper_flops_per_token`; `flops="llminfo"` for
llminfo's finer count at the samples' mean context, sliding-window layers at their mean
span), and IC = (TS − NLL + b) / log₂ F with
b the paper's constant for its corpora (−24 for mixed_text, −18.7 for Ch-FineWeb-Edu, −27
otherwise; `bias=` sets your own). Bits per byte (NLL·tokens / bytes) is reported too.

Token ids are scored directly (one forward pass over the ids) on backends that expose the
transformers module (`HFModel`); a backend with a `score_ids(list_of_id_lists)` method is
used as is; other backends fall back to scoring the decoded text through `score` and the
result says `exact_tokens=False`.

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

import numpy as np

from llminfo import measures
from llminfo.data import json_object
from llminfo.analyzers.flops import context_sum, flops_per_token, paper_flops_per_token
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
    text_bits_per_token: float  # the paper's: mean over samples of each sample's TS
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
    text_bits_per_token_pooled: float = 0.0  # 8·bytes / tokens over the corpus (token-weighted)
    bias_source: str = "user"
    flops_count: str = "paper"
    exact_tokens: bool = True

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


PAPER_BIAS = {"mixed_text": -24.0, "Ch-FineWeb-Edu": -18.7}  # the authors' calc_ic.py, by corpus file name
PAPER_DEFAULT_BIAS = -27.0
FLOPS_COUNTS = ("paper", "llminfo")


def paper_bias(source: str | Path | None) -> tuple[float, str]:
    """The paper's constant b for a corpus, chosen by its file name as the authors' code does:
    (b, where it came from)."""
    name = str(source or "")
    for key, b in PAPER_BIAS.items():
        if key in name:
            return b, f"paper ({key})"
    return PAPER_DEFAULT_BIAS, "paper (other corpora)"


class InformationCapacity:
    """Information capacity IC = (TS − NLL + b) / log₂ F of a model on a corpus
    (Yuan et al., 2025), with the paper's protocol (see the module docstring).

    Args:
        model: a `LanguageModel`.
        max_tokens (`int`, defaults to 1024): L, tokens per sample (>= 2).
        bias (`float`, *optional*): the dataset constant b; None = the paper's value for the
            corpus (`paper_bias`; −27 for texts passed directly).
        batch_size (`int`, defaults to 8): samples per scoring call (bounds memory).
        flops (`str`, defaults to `"paper"`): "paper" (`paper_flops_per_token` at L) or
            "llminfo" (`flops_per_token` at the samples' mean context; sliding-window layers,
            e.g. Gemma 3's, at their mean span min(context, window − 1)).
    """

    def __init__(self, model: LanguageModel, max_tokens: int = 1024, bias: float | None = None, batch_size: int = 8, flops: str = "paper"):
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 2:
            raise ValueError(f"`max_tokens` has to be an integer >= 2, got {max_tokens!r}")
        if bias is not None and (isinstance(bias, bool) or not isinstance(bias, (int, float)) or not math.isfinite(bias)):
            raise ValueError(f"`bias` has to be a finite number or None, got {bias!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` has to be an integer >= 1, got {batch_size!r}")
        if flops not in FLOPS_COUNTS:
            raise ValueError(f"`flops` has to be one of {', '.join(FLOPS_COUNTS)}, got {flops!r}")
        self.model = model
        self.info = model.describe()
        if self.info.max_context and max_tokens > self.info.max_context:
            raise ValueError(f"`max_tokens` ({max_tokens}) exceeds the model's context window ({self.info.max_context})")
        self.max_tokens = max_tokens
        self.bias = None if bias is None else float(bias)
        self.batch_size = batch_size
        self.flops = flops
        self.exact_tokens = True
        try:
            self._score_has_entropy_flag = "entropy" in inspect.signature(model.score).parameters
        except (TypeError, ValueError):
            self._score_has_entropy_flag = False

    def samples(self, documents: Iterable[Document]) -> Iterator[tuple[str, list[int]]]:
        """(where, token ids) per sample: the document tokenized once with the tokenizer's
        defaults (its BOS included, as the paper); a row is truncated to L ids, a stream cut
        into consecutive windows of L ids."""
        tok = self.model.tokenizer
        L = self.max_tokens
        for doc in documents:
            ids = list(tok(doc.text)["input_ids"])
            if len(ids) < 2:
                raise ValueError(f"{doc.where}: sample has {len(ids)} token(s); needs at least 2 (one context, one scored)")
            if not doc.stream:
                yield doc.where, ids[:L]
                continue
            for w in range(0, len(ids), L):
                win = ids[w : w + L]
                if len(win) < 2:
                    break  # a 1-token tail of a long file has nothing to score
                yield f"{doc.where}+{w}tok", win

    def measure(self, documents: Iterable[Document] | Iterable[str], max_samples: int | None = None, source: str | Path | None = None) -> CapacityResult:
        """Stream `documents` (see `iter_documents`) and return the corpus-level result;
        `source` (the corpus name) picks the paper's b when `bias` is None."""
        if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1):
            raise ValueError(f"`max_samples` has to be an integer >= 1, got {max_samples!r}")
        docs = (d if isinstance(d, Document) else _checked(Document(f"texts[{i}]", d, stream=False)) for i, d in enumerate(documents))
        totals = {"samples": 0, "tokens": 0, "bytes": 0, "nll_nats": 0.0, "context": 0.0, "window_context": 0.0, "ts_sum": 0.0}
        batch: list[tuple[str, list[int]]] = []
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
        ts = totals["ts_sum"] / totals["samples"]
        nll = totals["nll_nats"] / tokens / measures.LN2
        ctx = totals["context"] / tokens
        flops = self.flops_per_token(ctx, totals["window_context"] / tokens)
        bias, bias_source = (self.bias, "user") if self.bias is not None else paper_bias(source)
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
            bias=bias,
            information_capacity=measures.information_capacity(ts, nll, flops, bias),
            max_tokens=self.max_tokens,
            seconds=seconds,
            tokens_per_second=tokens / seconds if seconds > 0 else float("nan"),
            num_parameters=int(getattr(self.info, "num_parameters", 0) or 0),
            text_bits_per_token_pooled=8.0 * totals["bytes"] / tokens,
            bias_source=bias_source,
            flops_count=self.flops,
            exact_tokens=self.exact_tokens,
        )

    def flops_per_token(self, mean_context: float, mean_window_context: float | None = None) -> float:
        """F: the paper's count at L (from the HF config when the backend has one, else from
        `describe()`), or llminfo's at `mean_context` (sliding-window layers at
        `mean_window_context`, default min(mean_context, window − 1))."""
        if self.flops == "llminfo":
            return flops_per_token(self.info, mean_context, mean_window_context)
        cfg = getattr(getattr(self.model, "model", None), "config", None)
        if cfg is None:
            i = self.info
            cfg = {"hidden_size": i.hidden_size, "num_hidden_layers": i.num_layers, "num_attention_heads": i.num_heads,
                   "num_key_value_heads": i.num_kv_heads, "intermediate_size": i.intermediate_size, "vocab_size": i.vocab_size}  # fmt: skip
        return paper_flops_per_token(cfg, self.max_tokens, name=self.model.name)

    def measure_source(self, source: str | Path | Iterable[str], max_samples: int | None = None, text_field: str = "text") -> CapacityResult:
        """`measure(iter_documents(source))`, with the paper's b for `source` when `bias` is None."""
        name = source if isinstance(source, (str, Path)) else None
        return self.measure(iter_documents(source, text_field), max_samples=max_samples, source=name)

    def _score_batch(self, batch: list[tuple[str, list[int]]], totals: dict[str, Any]) -> None:
        tok = self.model.tokenizer
        for (where, ids), lps in zip(batch, self._logprobs([ids for _w, ids in batch])):
            if len(lps) == 0:
                raise ValueError(f"{where}: nothing left to score after the first token")
            if not np.all(np.isfinite(lps)):
                raise ValueError(f"{where}: the model gave a non-finite log-probability")
            n = len(ids) - 1
            nbytes = len(tok.decode(ids[1:]).encode("utf-8"))
            totals["samples"] += 1
            totals["tokens"] += n
            totals["bytes"] += nbytes
            totals["ts_sum"] += 8.0 * nbytes / n
            totals["nll_nats"] -= float(np.sum(lps))
            # token j of the continuation attends to 1 + j earlier tokens (the context token first)
            totals["context"] += context_sum(1, n)
            if self.info.sliding_layers:
                totals["window_context"] += context_sum(1, n, cap=self.info.sliding_window - 1)

    def _logprobs(self, id_lists: list[list[int]]) -> list[np.ndarray]:
        """ln p of tokens 2.. of each id list, on those very ids where the backend allows."""
        score_ids = getattr(self.model, "score_ids", None)
        if callable(score_ids):
            return [np.asarray(x, dtype=np.float64) for x in score_ids(id_lists)]
        module = getattr(self.model, "model", None)
        if module is not None and hasattr(module, "forward") and hasattr(module, "parameters"):
            return _forward_logprobs(module, id_lists)
        self.exact_tokens = False  # text round trip: the backend re-tokenizes
        tok = self.model.tokenizer
        kwargs = {"entropy": False} if self._score_has_entropy_flag else {}  # logprobs only: faster
        scored = self.model.score([tok.decode(ids[:1]) for ids in id_lists], [tok.decode(ids[1:]) for ids in id_lists], **kwargs)
        return [np.asarray(s.logprobs, dtype=np.float64) for s in scored]


def _forward_logprobs(module: Any, id_lists: list[list[int]], max_elements: int = 1 << 26) -> list[np.ndarray]:
    """Direct teacher-forced forward passes over the given ids (right-padded batches sized so
    that one batch's logits stay under `max_elements` floats); ln p of tokens 2.. (float32
    log-softmax, returned as float64)."""
    import torch

    vocab = int(getattr(module.config, "vocab_size", 0) or 1)
    device = next(module.parameters()).device
    rows = max(1, max_elements // max(max(len(x) for x in id_lists) * vocab, 1))
    out: list[np.ndarray] = []
    for i in range(0, len(id_lists), rows):
        chunk = id_lists[i : i + rows]
        width = max(len(x) for x in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, x in enumerate(chunk):
            ids[r, : len(x)] = torch.tensor(x)
            mask[r, : len(x)] = 1
        with torch.no_grad():
            logits = module(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
        for r, x in enumerate(chunk):
            lp = torch.log_softmax(logits[r, : len(x) - 1].float(), dim=-1)  # float32: ~1e-6, far inside 1e-3
            out.append(lp.gather(1, torch.tensor(x[1:], device=lp.device)[:, None])[:, 0].double().cpu().numpy())
        del logits
    return out
