"""JSONL in, JSONL out: what `llminfo score` and `llminfo calibrate` do, without argparse.

Input rows are `{"id"?, "question", "answer"?, "context"?, ...}`; extra fields are kept. A
row without `id` gets its line number as id. Output rows add `answer`, `scores`
(`{method: value}`, higher = more uncertain), `risk` (in [0, 1]) and `decision`
("answer"/"abstain"). Each batch is appended and flushed to disk as soon as it is scored,
so a crash loses no finished row, and rerunning with the same output skips the ids
already there (resume).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from llminfo.analyzers.base import QAItem, SampleCache
from llminfo.data import json_object

BAD_ROW_POLICIES = ("skip", "stop")


class BadRow(ValueError):
    """A malformed input row (the message names the file and line)."""


@dataclass
class Row:
    line: int
    data: dict[str, Any]
    item: QAItem


def read_rows(path: str | Path, on_bad_row: str = "skip", warn: Callable[[str], None] | None = None,
              require: Callable[[dict, str], None] | None = None) -> list[Row]:
    """Parse a JSONL file into rows; malformed lines are reported with their line number.

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
        raise FileNotFoundError(f"input file not found: {path}")
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    rows: list[Row] = []
    seen: set = set()
    for n, line in _lines(path):
        where = f"{path}: line {n}"
        try:
            try:
                data = json_object(line, where)
                item = QAItem.from_dict(data, where=where)
                if require is not None:
                    require(data, where)
            except (TypeError, ValueError) as e:
                raise BadRow(str(e)) from None
            data.setdefault("id", n)
            key = json.dumps(data["id"])
            if key in seen:
                raise BadRow(f"{where}: duplicate id {data['id']!r}")
            seen.add(key)
            item.id = data["id"]
            rows.append(Row(n, data, item))
        except BadRow as e:
            if on_bad_row == "stop":
                raise
            warn(f"skipping bad row: {e}")
    return rows


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                yield n, line


def finished_ids(output: Path) -> set[str]:
    """Ids already in `output` (JSON-encoded). A torn last line from a crash is cut off."""
    if not output.exists():
        return set()
    raw = output.read_bytes()
    lines = raw.split(b"\n")
    keep = len(raw)
    if lines and lines[-1].strip():  # no trailing newline: the last write was interrupted
        keep = len(raw) - len(lines[-1])
    ids = set()
    for ln in raw[:keep].split(b"\n"):
        if ln.strip():
            try:
                ids.add(json.dumps(json.loads(ln)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ValueError(f"{output}: existing output has a malformed row; move it away or pick another --output") from None
    if keep != len(raw):
        with output.open("r+b") as f:
            f.truncate(keep)
    return ids


def score_file(
    model: Any,
    scorer: Any,
    rows: list[Row],
    output: str | Path,
    *,
    batch_size: int = 8,
    seed: int = 0,
    details: bool = False,
    progress: bool = True,
) -> dict[str, int]:
    """Score `rows` into `output` (appending; ids already there are skipped).

    Returns:
        `{"scored": ..., "skipped_done": ..., "total": ...}`.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`--batch-size` has to be an integer >= 1, got {batch_size!r}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    done = finished_ids(output)
    todo = [r for r in rows if json.dumps(r.data["id"]) not in done]
    bar = _progress(len(todo), progress)
    scored = 0
    with output.open("a", encoding="utf-8") as f:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            results = scorer.score(model, [r.item for r in chunk], seed=seed, cache=SampleCache())
            for r, res in zip(chunk, results):
                out = dict(r.data)
                out.update(answer=res.answer, scores=res.scores, risk=res.risk, decision=res.decision, calibrated=res.calibrated)
                if details:
                    out["details"] = res.details
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
            scored += len(chunk)
            bar.update(len(chunk))
    bar.close()
    return {"scored": scored, "skipped_done": len(rows) - len(todo), "total": len(rows)}


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


def _progress(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency; keep working without it anyway
        enabled = False
    if not enabled:
        class _Null:
            def update(self, n: int) -> None: ...
            def close(self) -> None: ...

        return _Null()
    return tqdm(total=total, unit="q", desc="scoring", file=sys.stderr, dynamic_ncols=True)
