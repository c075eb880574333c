"""scripts/check_question_set.py: the shipped and fresh question files pass; every bad row is named by line and field."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "llminfo" / "data" / "factual_qa.jsonl"
FRESH = ROOT / "bench_results" / "fresh_factual_qa.jsonl"
FRESH2 = ROOT / "bench_results" / "fresh2_factual_qa.jsonl"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


chk = _script("check_question_set")

GOOD = {"id": "q-1", "question": "What is the capital of France?", "answers": ["Paris"],
        "category": "capitals", "difficulty": "easy"}


def _write(path: Path, rows: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = chk.main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


# -- the real files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SHIPPED, FRESH])
def test_shipped_and_first_fresh_files_pass(capsys, path):
    rc, out, err = _run(capsys, path)
    assert rc == 0, err
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    total = out.strip().splitlines()[-2]  # the table's total row, then "ok ..."
    diff = Counter(r["difficulty"] for r in rows)
    assert total.split() == ["total", str(diff["easy"]), str(diff["medium"]), str(diff["hard"]), str(len(rows))]
    for category, n in Counter(r["category"] for r in rows).items():
        line = next(ln for ln in out.splitlines() if ln.split()[:1] == [category])
        assert int(line.split()[-1]) == n


def test_fresh2_passes_strictly_against_the_other_two(capsys):
    rc, out, err = _run(capsys, FRESH2, "--strict", "--against", SHIPPED, FRESH)
    assert rc == 0, err
    assert err == ""
    rows = [json.loads(line) for line in FRESH2.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 320
    assert [r["id"] for r in rows] == [f"fresh2-{i:04d}" for i in range(1, 321)]
    diff = Counter(r["difficulty"] for r in rows)
    for level, share in (("easy", 0.35), ("medium", 0.35), ("hard", 0.30)):
        assert abs(diff[level] / len(rows) - share) < 0.03, diff


def test_fresh2_file_is_what_its_generator_writes_and_subject_hits_are_reviewed():
    gen = _script("make_fresh2_data")
    rows = gen.parse()
    on_disk = [json.loads(line) for line in FRESH2.read_text(encoding="utf-8").splitlines()]
    assert [{k: v for k, v in r.items() if k != "subject"} for r in rows] == on_disk
    others = [row for path in gen.OTHERS for row, _ in chk.read_rows(path)]
    hits = gen.subject_hits(rows, others)
    assert set(hits) <= set(gen.REVIEWED), set(hits) - set(gen.REVIEWED)
    # the look-up finds a subject in other questions and in their answers, as whole tokens only
    probe = [{"category": "capitals", "subject": s} for s in ("Morocco", "Tanzania", "Oslo fjord", "Rab")]
    found = gen.subject_hits(probe, others)
    assert {"fqa-0138", "fresh-0001", "fresh-0028"} <= set(found["Morocco"])  # Gibraltar, capital, Marrakesh
    assert found["Tanzania"] == ["fqa-0129"]  # Kilimanjaro's country, an answer
    assert "Oslo fjord" not in found and "Rab" not in found


def test_cli_exit_status(tmp_path):
    bad = _write(tmp_path / "bad.jsonl", [{**GOOD, "difficulty": "trivial"}])
    for path, expected in ((FRESH2, 0), (bad, 1)):
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_question_set.py"), str(path)],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == expected, proc.stderr
    assert f"{bad}:1: difficulty:" in proc.stderr


# -- bad files: each problem names the file, line and field -----------------------------------


BAD_ROWS = [
    ("invalid JSON", '{"id": "q-2", "question": ', "invalid JSON"),
    ("not an object", "[1, 2, 3]", "expected a JSON object"),
    ("missing field", {k: v for k, v in GOOD.items() if k != "category"}, "category: missing"),
    ("wrong type", {**GOOD, "answers": "Paris"}, "answers: has to be a list"),
    ("id not a str", {**GOOD, "id": 7}, "id: has to be a str"),
    ("unexpected field", {**GOOD, "source": "me"}, "source: unexpected field"),
    ("empty answers", {**GOOD, "answers": []}, "answers: empty list"),
    ("empty alias", {**GOOD, "answers": ["Paris", ""]}, "answers[1]: has to be a non-empty string"),
    ("padded alias", {**GOOD, "answers": [" Paris"]}, "answers[0]: has to be a non-empty string"),
    ("alias not a str", {**GOOD, "answers": ["Paris", 3]}, "answers[1]: has to be a str"),
    ("alias normalising to nothing", {**GOOD, "answers": ["Paris", "The"]}, "answers[1]: 'The' normalises to nothing"),
    ("bad difficulty", {**GOOD, "difficulty": "trivial"}, "difficulty: has to be one of easy, medium, hard"),
    ("empty question", {**GOOD, "question": "  "}, "question: has to be a non-empty string"),
    ("not a question", {**GOOD, "question": "Name the capital of France."}, "question: should end with '?'"),
    ("wrong arithmetic", {**GOOD, "question": "What is 6 x 7?", "answers": ["48"], "category": "arithmetic"},
     "answers: 'What is 6 x 7?' is 42"),
    ("division by zero", {**GOOD, "question": "What is 6 divided by 0?", "answers": ["0"], "category": "arithmetic"},
     "question: 'What is 6 divided by 0?' divides by zero"),
]


@pytest.mark.parametrize("name,bad,message", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_row_is_named_by_line_and_field(tmp_path, capsys, name, bad, message):
    path = _write(tmp_path / "set.jsonl", [GOOD, {**GOOD, "id": "q-9", "question": "What is 2 + 2?",
                                                  "answers": ["4"], "category": "arithmetic"}, bad])
    rc, _, err = _run(capsys, path)
    assert rc == 1
    assert f"{path}:3: {message}" in err, err
    assert f"{path}:1:" not in err and f"{path}:2:" not in err, err  # the good rows are not blamed


def test_duplicates_within_a_file(tmp_path, capsys):
    path = _write(tmp_path / "dup.jsonl", [
        GOOD,
        {**GOOD, "question": "what is the capital of  FRANCE?"},  # same id, same question after normalisation
        {**GOOD, "id": "q-3", "question": "What is 3 + 2?", "answers": ["5"], "category": "arithmetic"},
        {**GOOD, "id": "q-4", "question": "What is 2 plus 3?", "answers": ["five"], "category": "arithmetic"},
        {**GOOD, "id": "q-5", "question": "What is 12 squared?", "answers": ["144"], "category": "arithmetic"},
        {**GOOD, "id": "q-6", "question": "What is the product of 12 and 12?", "answers": ["144"], "category": "arithmetic"},
    ])
    rc, _, err = _run(capsys, path)
    assert rc == 1
    assert f"{path}:2: id: 'q-1' repeats line 1" in err
    assert f"{path}:2: question: " in err and f"repeats the question at {path}:1 after normalisation" in err
    assert f"{path}:4: question: 'What is 2 plus 3?' asks the same operation as {path}:3" in err
    assert f"{path}:6: question: 'What is the product of 12 and 12?' asks the same operation as {path}:5" in err
    assert err.count("problem(s) found") == 1 and "4 problem(s)" in err


def test_duplicates_against_other_files(tmp_path, capsys):
    other = _write(tmp_path / "other.jsonl", [
        GOOD, {**GOOD, "id": "o-2", "question": "What is 7 x 8?", "answers": ["56"], "category": "arithmetic"}])
    path = _write(tmp_path / "new.jsonl", [
        {**GOOD, "id": "n-1", "question": "What's the capital of France?"},  # differs after normalisation
        {**GOOD, "id": "n-2", "question": "WHAT is the capital of France"},  # no "?": also a question problem
        {**GOOD, "id": "n-3", "question": "What is 8 times 7?", "answers": ["56"], "category": "arithmetic"},
        {**GOOD, "question": "What is the capital of Peru?", "answers": ["Lima"]},  # id q-1 is other's
    ])
    rc, _, err = _run(capsys, path, "--against", other)
    assert rc == 1
    assert f"{path}:1:" not in err
    assert f"{path}:2: question: 'WHAT is the capital of France' repeats the question at {other}:1" in err
    assert f"{path}:3: question: 'What is 8 times 7?' asks the same operation as {other}:2" in err
    assert f"{path}:4: id: 'q-1' is also the id at {other}:1" in err
    rc, _, _ = _run(capsys, path)  # alone, only the missing "?" is wrong
    assert rc == 1


def test_echo_is_a_warning_unless_strict(tmp_path, capsys):
    path = _write(tmp_path / "echo.jsonl", [
        GOOD, {**GOOD, "id": "q-2", "question": "In which city is the Sydney Opera House?", "answers": ["Sydney"]}])
    rc, out, err = _run(capsys, path)
    assert rc == 0 and "ok (1 warning(s))" in out
    assert f"{path}:2: answers[0]: 'Sydney' occurs in the question" in err and err.rstrip().endswith("[warning]")
    rc, _, err = _run(capsys, path, "--strict")
    assert rc == 1 and "1 problem(s) found" in err


def test_unreadable_or_empty_files(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    rc, _, err = _run(capsys, missing)
    assert rc == 1 and f"{missing}: cannot read the file" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    rc, _, err = _run(capsys, empty)
    assert rc == 1 and f"{empty}: no rows" in err
    rc, _, err = _run(capsys, FRESH2, "--against", missing)
    assert rc == 1 and f"{missing}: cannot read the file" in err
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: invalid JSON"):
        chk.read_rows(_write(tmp_path / "bad.jsonl", [GOOD, "{"]))


# -- arithmetic keys against Python's own arithmetic -------------------------------------------


@pytest.mark.parametrize("question,value", [
    ("What is 17 + 25?", 17 + 25), ("How much is 9 plus 4?", 9 + 4), ("What is 30 - 12?", 30 - 12),
    ("What is 30 minus 12?", 30 - 12), ("What is 6 x 7?", 6 * 7), ("What is 6 times 7?", 6 * 7),
    ("What is 6 multiplied by 7?", 6 * 7), ("What is 6 × 7?", 6 * 7), ("What is 84 divided by 4?", 84 / 4), ("What is 7 divided by 2?", 3.5),
    ("What is the sum of 23 and 45?", 23 + 45), ("What is the product of 7 and 9?", 7 * 9),
    ("What is the difference between 50 and 8?", 50 - 8), ("What is 2 to the power of 10?", 2 ** 10),
    ("What is 15 percent of 200?", 15 * 200 / 100), ("What is 19 squared?", 19 ** 2), ("What is 7 cubed?", 7 ** 3),
    ("What is the square root of 169?", 13), ("What is half of 50?", 25), ("What is double 35?", 70),
])
def test_arithmetic_value_matches_python(question, value):
    key = chk.arithmetic_key(question)
    assert key is not None
    assert chk.arithmetic_value(key) == pytest.approx(value)


def test_arithmetic_key_equates_the_same_operation_only():
    k = chk.arithmetic_key
    assert k("What is 3 + 2?") == k("What is 2 plus 3?") == k("What is the sum of 3 and 2?")
    assert k("What is 12 squared?") == k("What is 12 x 12?") == k("What is 12 to the power of 2?")
    assert k("What is double 6?") == k("What is 6 times 2?")
    assert k("What is 10 - 3?") != k("What is 3 - 10?")
    assert k("What is 8 divided by 2?") != k("What is 2 divided by 8?")
    assert k("What is 2 + 2?") != k("What is 2 x 2?")
    assert k("What is the capital of France?") is None and k("What is 2 + 2 + 2?") is None
    # every arithmetic question of the shipped and fresh files is understood
    for path in (SHIPPED, FRESH, FRESH2):
        for row, lineno in chk.read_rows(path):
            if row["category"] == "arithmetic":
                assert k(row["question"]) is not None, f"{path}:{lineno}"
