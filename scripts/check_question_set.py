"""Validate a short-answer question file (the factual QA format) and print its counts.

A question file is JSONL, one object per line:
`{"id": str, "question": str, "answers": [str, ...], "category": str, "difficulty": "easy"|"medium"|"hard"}`.
Answers are graded by `llminfo.text.alias_match`, so every alias must keep some tokens after
`llminfo.text.normalize_answer`, and no alias may already occur in its own question (a model
that repeats the question would be graded right).

Checks, each reported as `FILE:LINE: FIELD: message`:
- every line is a JSON object with exactly the five fields above, of the right types;
- ids are unique (within the file and against the `--against` files);
- `question` is a non-empty string without surrounding spaces, ending with "?";
- `answers` is a non-empty list of non-empty strings, none normalising to nothing;
- `difficulty` is easy, medium or hard; `category` a non-empty string;
- no two questions are equal after `normalize_answer` (within the file or against the
  `--against` files), and no arithmetic question asks an operation already asked
  ("What is 3 + 2?" repeats "What is 2 + 3?", "12 squared" repeats "12 x 12");
- arithmetic questions that `arithmetic_key` understands have their value among the answers;
- warning (an error with `--strict`): no alias occurs as whole tokens in its own question,
  where a model that merely repeats the question would be graded right.

Exit status 0 when the file is clean (warnings allowed unless `--strict`), 1 when any problem
is found (or a file is unreadable).

Run: python scripts/check_question_set.py bench_results/fresh2_factual_qa.jsonl --strict \
        --against llminfo/data/factual_qa.jsonl bench_results/fresh_factual_qa.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from llminfo.text import alias_match, normalize_answer  # noqa: E402

FIELDS: dict[str, type] = {"id": str, "question": str, "answers": list, "category": str, "difficulty": str}
DIFFICULTIES = ("easy", "medium", "hard")
_WARNING = " [warning]"  # problems that fail the check only with --strict

_NUM = r"(\d+)"
_OPS = {"+": "+", "plus": "+", "-": "-", "minus": "-", "x": "*", "×": "*", "times": "*",
        "multiplied by": "*", "divided by": "/", "÷": "/"}
# (question form without its "?", how its groups make the canonical operation)
_FORMS: list[tuple[re.Pattern, Callable[..., str]]] = [(re.compile(form + r"\?"), build) for form, build in [
    (rf"(?:what|how much) is {_NUM} ({'|'.join(map(re.escape, _OPS))}) {_NUM}",
     lambda a, op, b: _canonical(_OPS[op], [int(a), int(b)])),
    (rf"what is the sum of {_NUM} and {_NUM}", lambda a, b: _canonical("+", [int(a), int(b)])),
    (rf"what is the product of {_NUM} and {_NUM}", lambda a, b: _canonical("*", [int(a), int(b)])),
    (rf"what is the difference between {_NUM} and {_NUM}", lambda a, b: _canonical("-", [int(a), int(b)])),
    (rf"what is {_NUM} to the power of {_NUM}", lambda a, b: _canonical("^", [int(a), int(b)])),
    (rf"what is {_NUM} percent of {_NUM}", lambda a, b: _canonical("%", [int(a), int(b)])),
    (rf"what is {_NUM} squared", lambda a: _canonical("*", [int(a)] * 2)),
    (rf"what is {_NUM} cubed", lambda a: _canonical("*", [int(a)] * 3)),
    (rf"what is the square root of {_NUM}", lambda a: f"sqrt:{int(a)}"),
    (rf"what is half of {_NUM}", lambda a: _canonical("/", [int(a), 2])),
    (rf"what is double {_NUM}", lambda a: _canonical("*", [2, int(a)])),
]]


def _canonical(op: str, args: list[int]) -> str:
    # Commutative operations sort their operands; powers 2 and 3 are written as products, so
    # "12 squared", "12 x 12" and "12 to the power of 2" are one operation.
    if op == "^" and args[1] in (2, 3):
        op, args = "*", [args[0]] * args[1]
    if op in "+*":
        args = sorted(args)
    return op + ":" + ",".join(map(str, args))


def arithmetic_key(question: str) -> str | None:
    """The canonical operation an arithmetic question asks ("*:6,8"), or None if not understood.

    Args:
        question (`str`): e.g. "What is 6 x 8?", "How much is 3 plus 5?", "What is half of 30?".

    Returns:
        `str` or `None`: equal for questions asking the same operation in other words.

    Example:
        >>> arithmetic_key("What is 8 times 6?") == arithmetic_key("What is the product of 6 and 8?")
        True
        >>> arithmetic_key("What is 12 squared?") == arithmetic_key("What is 12 x 12?")
        True
    """
    q = " ".join(question.lower().split())
    for pattern, build in _FORMS:
        m = pattern.fullmatch(q)
        if m:
            return build(*m.groups())
    return None


def arithmetic_value(key: str) -> float:
    """The value of an `arithmetic_key` ("*:6,8" -> 48.0)."""
    op, args_text = key.split(":")
    args = [int(a) for a in args_text.split(",")]
    if op == "+":
        return float(sum(args))
    if op == "*":
        return float(math.prod(args))
    if op == "-":
        return float(args[0] - args[1])
    if op == "/":
        return args[0] / args[1]
    if op == "^":
        return float(args[0] ** args[1])
    if op == "%":
        return args[0] * args[1] / 100
    return math.sqrt(args[0])  # sqrt


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def read_rows(path: Path) -> list[tuple[dict[str, Any], int]]:
    """The JSON objects of a JSONL file with their 1-based line numbers (blank lines skipped).

    Raises:
        ValueError: a line is not a JSON object; the message names the file and line.
    """
    rows, problems = _read(Path(path))
    if problems:
        raise ValueError(problems[0])
    return rows


def _read(path: Path) -> tuple[list[tuple[dict[str, Any], int]], list[str]]:
    rows: list[tuple[dict[str, Any], int]] = []
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return rows, [f"{path}: cannot read the file ({e})"]
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{lineno}: invalid JSON ({e.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            continue
        rows.append((row, lineno))
    if not rows and not problems:
        problems.append(f"{path}: no rows")
    return rows, problems


def _check_row(path: Path, lineno: int, row: dict[str, Any]) -> list[str]:
    where = f"{path}:{lineno}"
    out = [f"{where}: {k}: unexpected field (allowed: {', '.join(FIELDS)})" for k in row if k not in FIELDS]
    for name, kind in FIELDS.items():
        if name not in row:
            out.append(f"{where}: {name}: missing")
        elif not isinstance(row[name], kind):
            out.append(f"{where}: {name}: has to be a {kind.__name__}, got {type(row[name]).__name__}")
        elif kind is str and (not row[name].strip() or row[name] != row[name].strip()):
            out.append(f"{where}: {name}: has to be a non-empty string without surrounding spaces, got {row[name]!r}")
    question = row.get("question")
    if isinstance(question, str) and question.strip() and not question.endswith("?"):
        out.append(f"{where}: question: should end with '?', got {question!r}")
    if isinstance(row.get("difficulty"), str) and row["difficulty"].strip() and row["difficulty"] not in DIFFICULTIES:
        out.append(f"{where}: difficulty: has to be one of {', '.join(DIFFICULTIES)}, got {row['difficulty']!r}")
    answers = row.get("answers")
    if isinstance(answers, list):
        if not answers:
            out.append(f"{where}: answers: empty list, give at least one alias")
        for i, alias in enumerate(answers):
            field = f"answers[{i}]"
            if not isinstance(alias, str):
                out.append(f"{where}: {field}: has to be a str, got {type(alias).__name__}")
            elif not alias.strip() or alias != alias.strip():
                out.append(f"{where}: {field}: has to be a non-empty string without surrounding spaces, got {alias!r}")
            elif not normalize_answer(alias):
                out.append(f"{where}: {field}: {alias!r} normalises to nothing, so it can never match")
            elif isinstance(question, str) and alias_match(question, [alias]):
                out.append(f"{where}: {field}: {alias!r} occurs in the question, "
                           f"so a model repeating the question would be graded right{_WARNING}")
    if row.get("category") == "arithmetic" and isinstance(question, str) and isinstance(answers, list):
        key = arithmetic_key(question)
        good = [a for a in answers if isinstance(a, str)]
        if key is not None and good:
            try:
                value = arithmetic_value(key)
            except ZeroDivisionError:
                return out + [f"{where}: question: {question!r} divides by zero"]
            if not any(normalize_answer(a) == _fmt(value) for a in good):
                out.append(f"{where}: answers: {question!r} is {_fmt(value)}, not among {good}")
    return out


def check(path: Path, against: list[Path] | tuple[Path, ...] = ()) -> tuple[list[str], list[dict[str, Any]]]:
    """Every problem of the question file `path` (see the module docstring), and its valid rows.

    Args:
        path (`Path`): the JSONL file to check.
        against (list of `Path`): other question files; a question of `path` equal to one of
            theirs after normalisation, the same arithmetic operation, or a shared id is a problem.

    Returns:
        `(problems, rows)`: messages `FILE:LINE: FIELD: message` (empty when clean; warnings end
        with " [warning]") and the rows read.
    """
    path = Path(path)
    rows, problems = _read(path)
    other_ids: dict[str, str] = {}
    seen_q: dict[str, str] = {}
    seen_ops: dict[str, str] = {}
    for other in map(Path, against):
        other_rows, other_problems = _read(other)
        problems += other_problems
        for row, lineno in other_rows:
            q = row.get("question")
            if isinstance(q, str):
                seen_q.setdefault(normalize_answer(q), f"{other}:{lineno}")
                key = arithmetic_key(q)
                if key:
                    seen_ops.setdefault(key, f"{other}:{lineno}")
            if isinstance(row.get("id"), str):
                other_ids.setdefault(row["id"], f"{other}:{lineno}")
    seen_ids: dict[str, int] = {}
    for row, lineno in rows:
        where = f"{path}:{lineno}"
        problems += _check_row(path, lineno, row)
        rid = row.get("id")
        if isinstance(rid, str):
            if rid in seen_ids:
                problems.append(f"{where}: id: {rid!r} repeats line {seen_ids[rid]}")
            elif rid in other_ids:
                problems.append(f"{where}: id: {rid!r} is also the id at {other_ids[rid]}")
            seen_ids.setdefault(rid, lineno)
        q = row.get("question")
        if not (isinstance(q, str) and q.strip()):
            continue
        norm, key = normalize_answer(q), arithmetic_key(q)
        if norm in seen_q:
            problems.append(f"{where}: question: {q!r} repeats the question at {seen_q[norm]} after normalisation")
        elif key in seen_ops:
            problems.append(f"{where}: question: {q!r} asks the same operation as {seen_ops[key]}")
        seen_q.setdefault(norm, where)
        if key:
            seen_ops.setdefault(key, where)
    return problems, [row for row, _ in rows]


def counts_table(rows: list[dict[str, Any]]) -> str:
    """Rows per category and difficulty, as a text table with totals."""
    cells = Counter((str(r.get("category")), str(r.get("difficulty"))) for r in rows)
    cats = sorted({c for c, _ in cells})
    width = max([len("category"), len("total")] + [len(c) for c in cats])
    lines = [f"{'category':<{width}} " + " ".join(f"{d:>6}" for d in DIFFICULTIES) + "  total"]
    for c in cats:
        row = [cells[c, d] for d in DIFFICULTIES]
        lines.append(f"{c:<{width}} " + " ".join(f"{n:>6}" for n in row) + f"  {sum(row):>5}")
    totals = [sum(cells[c, d] for c in cats) for d in DIFFICULTIES]
    lines.append(f"{'total':<{width}} " + " ".join(f"{n:>6}" for n in totals) + f"  {len(rows):>5}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the JSONL question file to check")
    parser.add_argument("--against", type=Path, nargs="*", default=[], metavar="PATH",
                        help="question files that must not share a question, an arithmetic operation or an id")
    parser.add_argument("--strict", action="store_true",
                        help="warnings (an alias occurring in its own question) fail the check too")
    args = parser.parse_args(argv)
    problems, rows = check(args.path, args.against)
    print(f"{args.path}: {len(rows)} rows")
    print(counts_table(rows))
    for p in problems:
        print(p, file=sys.stderr)
    failing = [p for p in problems if args.strict or not p.endswith(_WARNING)]
    if failing:
        print(f"{len(failing)} problem(s) found", file=sys.stderr)
        return 1
    print(f"ok ({len(problems)} warning(s))" if problems else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
