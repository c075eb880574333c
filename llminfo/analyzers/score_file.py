"""JSONL in, JSONL out: what `llminfo score` and `llminfo calibrate` do, without argparse.

Input rows are `{"id"?, "question", "answer"?, "context"?, ...}`; extra fields are kept. A
row without `id` gets an id derived from its content (`"sha256:"` + the first 16 hex digits
of the hash of question, answer and context), so editing other lines of the input never
re-scores or skips the wrong rows. Output rows add `answer`, `scores` (`{method: value}`,
higher = more uncertain), `risk` (in [0, 1]), `decision` ("answer"/"abstain") and
`producer` (llminfo version, model, methods with their parameters, seed, calibrator hash):
what produced the row.

Reliability:
- Each batch is appended and fsynced as soon as it is scored, so a crash loses no finished
  row; rerunning with the same output skips the ids already there (resume) — only when the
  output's rows have the same `producer`; otherwise the resume is refused.
- One writer at a time: the output is locked (`llminfo.fileio.exclusive_output`).
- A row that fails inside a batch (too long for the context, ...) is retried alone; if it
  still fails it is reported by line and id and skipped (or stops the run with
  `on_bad_row="stop"`). Lines that are not valid UTF-8 or JSON are reported the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from llminfo.analyzers.base import QAItem, SampleCache
from llminfo.data import json_object
from llminfo.errors import InputFileNotFound, UserError
from llminfo.fileio import check_output_file, describe_decode_error, exclusive_output, jsonl_lines

BAD_ROW_POLICIES = ("skip", "stop")


class BadRow(UserError):
    """A malformed input row (the message names the file and line)."""


@dataclass
class Row:
    line: int
    data: dict[str, Any]
    item: QAItem


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def content_id(question: str, answer: str | None, context: str | None) -> str:
    """The id of an id-less row: a hash of its question, answer and context."""
    blob = json.dumps([question, answer, context], ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


def effective_params(factory: Any, explicit: dict[str, Any]) -> dict[str, Any]:
    """A method's parameters as it ran: the defaults of `factory` (a class or function) that
    are plain JSON values, overridden by the `explicit` ones. Rows record this, so a results
    file says what produced it even when a later llminfo changes a default."""
    import inspect

    out: dict[str, Any] = {}
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        sig = None
    for name, p in (sig.parameters.items() if sig is not None else ()):
        if p.default is inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        try:
            out[name] = json.loads(json.dumps(p.default))  # tuples become lists, as in the file
        except (TypeError, ValueError):
            continue
    out.update(explicit)
    return out


def _unencodable(obj: Any, path: str = "") -> str | None:
    """The field path of the first string that cannot be written as UTF-8 (a lone surrogate)."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as e:
            return f"{path or 'row'}` has a lone surrogate {obj[e.start]!r} at position {e.start}; it cannot be written as UTF-8"
        return None
    if isinstance(obj, dict):
        for k, v in obj.items():
            bad = _unencodable(k, path) or _unencodable(v, f"{path}.{k}" if path else str(k))
            if bad:
                return bad
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            bad = _unencodable(v, f"{path}[{i}]")
            if bad:
                return bad
    return None


def read_rows(path: str | Path, on_bad_row: str = "skip", warn: Callable[[str], None] | None = None,
              require: Callable[[dict, str], None] | None = None) -> list[Row]:
    """Parse a JSONL file into rows; malformed lines are reported with their line number.

    Each line is decoded on its own, so a line of invalid UTF-8 is one bad row; a UTF-8 BOM at
    the start of the file is accepted.

    Args:
        path: the JSONL file.
        on_bad_row (`str`, defaults to "skip"): "skip" reports a bad line through `warn`
            and goes on; "stop" raises `BadRow` at the first one.
        warn: where skip-reports go (default: one line on stderr).
        require: extra per-row check `(row, where) -> None` raising ValueError/TypeError.
    """
    if on_bad_row not in BAD_ROW_POLICIES:
        raise ValueError(f"`on_bad_row` has to be one of {BAD_ROW_POLICIES}, got {on_bad_row!r}")
    path = Path(path)
    if not path.is_file():
        raise (InputFileNotFound if not path.exists() else UserError)(
            f"input file not found: {path}" if not path.exists() else f"input {path} is not a file")
    warn = warn or _stderr
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for n, line in jsonl_lines(path):
        where = f"{path}: line {n}"
        try:
            if isinstance(line, UnicodeDecodeError):
                raise BadRow(f"{where}: {describe_decode_error(line)}")
            try:
                data = json_object(line, where)
                bad = _unencodable(data)
                if bad:
                    raise ValueError(f"{where}: field `{bad}")
                item = QAItem.from_dict(data, where=where)
                if require is not None:
                    require(data, where)
            except (TypeError, ValueError) as e:
                raise BadRow(str(e)) from None
            if "id" not in data:
                data["id"] = content_id(item.question, item.answer, item.context)
            key = json.dumps(data["id"])
            if key in seen:
                raise BadRow(f"{where}: duplicate id {data['id']!r} (first on line {seen[key]})")
            seen[key] = n
            item.id = data["id"]
            rows.append(Row(n, data, item))
        except BadRow as e:
            if on_bad_row == "stop":
                raise
            warn(f"skipping bad row: {e}")
    return rows


def finished_ids(output: Path, producer: dict[str, Any] | None = None, warn: Callable[[str], None] | None = None) -> set[str]:
    """Ids already in `output` (JSON-encoded), for resuming.

    Only a last line that does not parse (a write torn by a kill) is cut off, and that is
    reported; a valid last line without its newline gets one. Any other unparsable line, or
    a row written by another `producer` (other methods, parameters, model, seed, calibrator
    or llminfo version), raises `UserError`.
    """
    warn = warn or _stderr
    if not output.exists():
        return set()
    raw = output.read_bytes()
    lines = raw.splitlines(keepends=True)
    ids: set[str] = set()
    offset = 0
    for i, ln in enumerate(lines, start=1):
        last = i == len(lines)
        if ln.strip():
            try:
                row = json.loads(ln)
                if not isinstance(row, dict) or "id" not in row:
                    raise ValueError
            except ValueError:
                if last and not ln.endswith(b"\n"):
                    warn(f"{output}: dropping a torn last line ({len(ln)} bytes; the previous run was killed mid-write): "
                         f"{ln[:80]!r}")
                    with output.open("r+b") as f:
                        f.truncate(offset)
                    break
                raise UserError(f"{output}: line {i} is not a scored row (invalid JSON or no `id`); "
                                "move the file away or pick another --output") from None
            if producer is not None and row.get("producer") != json.loads(json.dumps(producer)):
                raise UserError(f"{output}: line {i} was written by a different run ({_producer_diff(row.get('producer'), producer)}); "
                                "resuming would mix results: pick another --output or move the file away")
            ids.add(json.dumps(row["id"]))
            if last and not ln.endswith(b"\n"):
                with output.open("ab") as f:
                    f.write(b"\n")
        offset += len(ln)
    return ids


def _producer_diff(old: Any, new: dict[str, Any]) -> str:
    """The fields that differ, e.g. "methods[0].params.temperature: 1.0 in the file, 0.5 now"."""
    if not isinstance(old, dict):
        return "the row has no `producer` record"
    diffs: list[str] = []

    def walk(a: Any, b: Any, key: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                walk(a.get(k), b.get(k), f"{key}.{k}" if key else str(k))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{key}[{i}]")
        elif a != b:
            diffs.append(f"{key}: {a!r:.60} in the file, {b!r:.60} now")

    walk(old, new, "")
    return "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")


@contextmanager
def resumable_output(output: str | Path, producer: dict[str, Any] | None = None, warn: Callable[[str], None] | None = None,
                     flag: str = "--output") -> Iterator[set[str]]:
    """Check and lock `output`, yield the ids already finished there; the lock is held inside.

    Use it to fail fast (another writer, a mismatching resume) before loading a model.
    """
    output = check_output_file(output, flag)
    output.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_output(output, flag):
        yield finished_ids(output, producer, warn)


def scored_chunks(rows: Sequence[Any], batch_size: int, fn: Callable[[list[Any]], list[Any]], *,
                  on_bad_row: str = "skip", warn: Callable[[str], None] | None = None, source: str = "",
                  describe: Callable[[Any], str] | None = None) -> Iterator[tuple[list[Any], list[Any], int]]:
    """Run `fn` on batches of rows; yields (rows, results, rows consumed).

    A batch that raises ValueError (a row too long for the context, text the tokenizer
    refuses, ...) is retried one row at a time; a row that fails alone is reported (by
    `describe(row)`, default: file line and id) and skipped, or raises `BadRow` with
    `on_bad_row="stop"`. A `UserError` (a problem of the whole run) and other exceptions propagate.
    """
    warn = warn or _stderr
    describe = describe or (lambda r: f"{source}: line {r.line} (id {r.data.get('id')!r})")

    def bad(r: Any, e: Exception) -> None:
        if isinstance(e, UserError):
            raise e
        if on_bad_row == "stop":
            raise BadRow(f"{describe(r)}: {e}") from None
        warn(f"skipping row that failed: {describe(r)}: {e}")

    for start in range(0, len(rows), batch_size):
        chunk = list(rows[start : start + batch_size])
        try:
            results = fn(chunk)
        except ValueError as e:
            if len(chunk) == 1:
                bad(chunk[0], e)
                yield [], [], 1
                continue
            if isinstance(e, UserError):
                raise
            good, results = [], []
            for r in chunk:  # find the row that failed; the others are scored
                try:
                    [res] = fn([r])
                except ValueError as e1:
                    bad(r, e1)
                    continue
                good.append(r)
                results.append(res)
            yield good, results, len(chunk)
            continue
        yield chunk, results, len(chunk)


def score_file(model: Any, scorer: Any, rows: list[Row], output: str | Path, *, producer: dict[str, Any] | None = None,
               warn: Callable[[str], None] | None = None, **options: Any) -> dict[str, int]:
    """Score `rows` into `output` (appending; ids already there are skipped): lock, check, resume.

    `options` are `score_rows`'s (batch_size, seed, details, progress, on_bad_row, source).

    Returns:
        `{"scored": ..., "skipped_done": ..., "failed": ..., "total": ...}`.
    """
    with resumable_output(output, producer, warn) as done:
        return score_rows(model, scorer, rows, output, done, producer=producer, warn=warn, **options)


def score_rows(
    model: Any,
    scorer: Any,
    rows: list[Row],
    output: str | Path,
    done: set[str],
    *,
    batch_size: int = 8,
    seed: int = 0,
    details: bool = False,
    progress: bool = True,
    producer: dict[str, Any] | None = None,
    on_bad_row: str = "skip",
    warn: Callable[[str], None] | None = None,
    source: str = "input",
) -> dict[str, int]:
    """The body of `score_file` once the output is locked and `done` is known."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`--batch-size` has to be an integer >= 1, got {batch_size!r}")
    todo = [r for r in rows if json.dumps(r.data["id"]) not in done]
    bar = progress_bar(len(todo), progress, "scoring", "q")
    scored = 0

    def run(chunk: list[Row]) -> list[Any]:
        return scorer.score(model, [r.item for r in chunk], seed=seed, cache=SampleCache())

    with open(output, "a", encoding="utf-8") as f:
        for chunk, results, consumed in scored_chunks(todo, batch_size, run, on_bad_row=on_bad_row, warn=warn, source=source):
            lines = []
            for r, res in zip(chunk, results):
                out = dict(r.data)
                out.update(answer=res.answer, scores=res.scores, risk=res.risk, decision=res.decision)
                if getattr(model, "approximations", None):  # e.g. OpenAIModel's top-k entropies
                    out["approximations"] = model.approximations
                if details:
                    out["details"] = res.details
                if producer is not None:
                    out["producer"] = producer
                lines.append(json.dumps(out, ensure_ascii=False) + "\n")
            f.write("".join(lines))  # serialised first: a bad value never leaves half a batch
            f.flush()
            os.fsync(f.fileno())
            scored += len(chunk)
            bar.update(consumed)
    bar.close()
    return {"scored": scored, "skipped_done": len(rows) - len(todo), "failed": len(todo) - scored, "total": len(rows)}


def labels_for(model: Any, rows: list[Row], cache: SampleCache | None = None) -> tuple[list[QAItem], list[bool]]:
    """Items with answers and their correctness labels for calibration.

    A row's label is `correct` (bool), else `label` (1/true = correct, 0/false = wrong), else
    `alias_match(answer, answers)` where the answer is the row's or the model's greedy one.
    """
    from llminfo.analyzers.base import answers_for
    from llminfo.text import alias_match

    answers = answers_for(model, [r.item for r in rows], cache=cache)
    items, labels = [], []
    for r, a in zip(rows, answers):
        d = r.data
        if "correct" in d:
            label = d["correct"]
        elif "label" in d:
            label = d["label"]
        else:
            label = alias_match(a, d["answers"])
        items.append(QAItem(r.item.question, a, r.item.context, r.item.id))
        labels.append(bool(label))
    return items, labels


def check_labelled(row: dict, where: str) -> None:
    """`require` hook for calibration rows: a usable label or aliases."""
    for key in ("correct", "label"):
        if key in row:
            v = row[key]
            if isinstance(v, bool) or v in (0, 1):
                return
            raise ValueError(f"{where}: `{key}` has to be true/false or 1/0, got {v!r}")
    aliases = row.get("answers")
    if isinstance(aliases, str):
        aliases = [aliases]
    if isinstance(aliases, list) and aliases and all(isinstance(a, str) for a in aliases):
        return
    raise ValueError(f"{where}: needs `correct`/`label` (true/false) or `answers` (a list of gold aliases)")


def progress_bar(total: int, enabled: bool, desc: str, unit: str = "it"):
    """A tqdm bar on stderr (rate and ETA), or a silent stand-in when disabled."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not enabled, dynamic_ncols=True)
