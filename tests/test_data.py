"""The shipped datasets (llminfo.data): parse, schema, unique ids, answers, generators, corpus."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from llminfo.data import DATA_DIR, corpus_files, data_path, list_datasets, load_jsonl
from llminfo.text import alias_match, normalize_answer

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclass/typing look-ups need the module registered
    spec.loader.exec_module(mod)
    return mod


def _nonempty_str(x) -> bool:
    return isinstance(x, str) and x.strip() == x and bool(x)


# -- llminfo.data API -----------------------------------------------------------------------


def test_data_path_and_listing():
    names = list_datasets()
    for expected in ("factual_qa.jsonl", "many_answers.jsonl", "icl_classification.jsonl", "icl_tasks.json",
                     "stories.jsonl", "reasoning.jsonl", "corpus"):
        assert expected in names
        assert data_path(expected).exists()
    assert data_path("factual_qa") == DATA_DIR / "factual_qa.jsonl"
    assert data_path("icl_tasks") == DATA_DIR / "icl_tasks.json"
    assert data_path("corpus").is_dir()


def test_data_path_unknown_lists_available():
    with pytest.raises(FileNotFoundError, match="factual_qa.jsonl") as e:
        data_path("no_such_set")
    assert "no_such_set" in str(e.value)
    with pytest.raises(TypeError, match="`name`"):
        data_path(3)  # type: ignore[arg-type]


def test_load_jsonl_reports_line_of_bad_json(tmp_path, monkeypatch):
    import llminfo.data as d

    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n\n{"a": \n', encoding="utf-8")
    (tmp_path / "notobj.jsonl").write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    monkeypatch.setattr(d, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="bad.jsonl line 3"):
        d.load_jsonl("bad")
    with pytest.raises(ValueError, match="notobj.jsonl line 2: expected a JSON object"):
        d.load_jsonl("notobj")


def _check_ids(rows, pattern):
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), [k for k, v in Counter(ids).items() if v > 1]
    for i in ids:
        assert re.fullmatch(pattern, i), i


def _check_aliases(row):
    answers = row["answers"]
    assert isinstance(answers, list) and answers, row["id"]
    for a in answers:
        assert _nonempty_str(a), (row["id"], a)
        assert normalize_answer(a), f"{row['id']}: alias {a!r} normalises to nothing"


# -- factual QA ------------------------------------------------------------------------------


def test_factual_qa_schema():
    rows = load_jsonl("factual_qa")
    assert len(rows) >= 320
    _check_ids(rows, r"fqa-\d{4}")
    cats = {"capitals", "authors", "science", "geography", "history", "arithmetic", "units", "animals", "everyday", "language"}
    for r in rows:
        assert set(r) == {"id", "question", "answers", "category", "difficulty"}, r["id"]
        assert _nonempty_str(r["question"]) and r["question"].endswith("?"), r["id"]
        assert r["category"] in cats, r["id"]
        assert r["difficulty"] in {"easy", "medium", "hard"}, r["id"]
        _check_aliases(r)
    assert {r["category"] for r in rows} == cats
    assert len({r["question"] for r in rows}) == len(rows), "duplicate questions"
    diff = Counter(r["difficulty"] for r in rows)
    assert min(diff.values()) >= 60, diff


def test_factual_answers_do_not_echo_the_question():
    # A model that merely repeats the question must not be judged correct.
    for r in load_jsonl("factual_qa"):
        assert not alias_match(r["question"], r["answers"]), r["id"]


def test_factual_arithmetic_answers_are_right():
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "x": lambda a, b: a * b, "divided by": lambda a, b: a / b}
    checked = 0
    for r in load_jsonl("factual_qa"):
        if r["category"] != "arithmetic":
            continue
        m = re.fullmatch(r"What is (\d+) (\+|-|x|divided by) (\d+)\?", r["question"])
        if m:
            value = ops[m.group(2)](int(m.group(1)), int(m.group(3)))
            assert r["answers"] == [str(int(value))] and value == int(value), r
            checked += 1
    assert checked >= 20


# -- many answers ----------------------------------------------------------------------------


def test_many_answers_schema():
    rows = load_jsonl("many_answers")
    assert len(rows) >= 70
    _check_ids(rows, r"many-\d{3}")
    for r in rows:
        assert set(r) == {"id", "question", "answers", "category"}, r["id"]
        assert r["category"] == "many"
        assert _nonempty_str(r["question"]), r["id"]
        _check_aliases(r)
        assert len(r["answers"]) >= 5, r["id"]
    assert len({r["question"] for r in rows}) == len(rows)


def test_many_answers_do_not_echo_the_question():
    for r in load_jsonl("many_answers"):
        assert not alias_match(r["question"], r["answers"]), r["id"]


def test_many_answers_generator_plurals():
    mod = _script("make_many_answers_data")
    assert mod.plurals("cherry") == ["cherries"]
    assert mod.plurals("box") == ["boxes"]
    assert mod.plurals("blue whale") == ["blue whales"]
    assert mod.plurals("day") == ["days"]
    fruit = next(r for r in load_jsonl("many_answers") if r["question"] == "Name a fruit.")
    assert alias_match("Cherries.", fruit["answers"]) and alias_match("An apple", fruit["answers"])


@pytest.mark.parametrize("name", ["factual", "many_answers", "icl", "stories", "reasoning"])
def test_generators_reproduce_the_shipped_files(name):
    mod = _script(f"make_{name}_data")
    if name == "icl":
        expected = mod.build_rows()
        assert json.loads(data_path("icl_tasks").read_text(encoding="utf-8")) == mod.TASKS
        shipped = load_jsonl("icl_classification")
    else:
        expected = mod.build_rows() if hasattr(mod, "build_rows") else mod.parse()
        shipped = load_jsonl(mod.OUT.stem)
    assert shipped == json.loads(json.dumps(expected))


# -- in-context classification ----------------------------------------------------------------


def test_icl_classification_schema_and_tasks():
    tasks = json.loads(data_path("icl_tasks").read_text(encoding="utf-8"))
    rows = load_jsonl("icl_classification")
    _check_ids(rows, r"(sentiment|topic|parity)-\d{3}")
    counts = Counter(r["task"] for r in rows)
    assert set(counts) == set(tasks) == {"sentiment", "topic", "parity"}
    assert all(c >= 80 for c in counts.values()), counts
    for name, spec in tasks.items():
        assert 2 <= len(spec["labels"]) <= 4 and len(set(spec["labels"])) == len(spec["labels"])
        assert "{text}" in spec["template"] and spec["template"].endswith("{label}")
        assert _nonempty_str(spec["instruction"])
        labels = Counter(r["label"] for r in rows if r["task"] == name)
        assert set(labels) == set(spec["labels"]), (name, labels)
        assert max(labels.values()) - min(labels.values()) <= 2, (name, labels)  # balanced
    for r in rows:
        assert set(r) == {"id", "task", "text", "label"}
        assert _nonempty_str(r["text"]), r["id"]
    texts = [(r["task"], r["text"]) for r in rows]
    assert len(texts) == len(set(texts)), "duplicate texts"


def test_parity_labels_are_right_and_seeded():
    mod = _script("make_icl_data")
    for r in load_jsonl("icl_classification"):
        if r["task"] == "parity":
            assert r["label"] == ("even" if int(r["text"]) % 2 == 0 else "odd"), r
    assert mod.parity_rows(seed=0) == mod.parity_rows(seed=0)
    assert mod.parity_rows(seed=0) != mod.parity_rows(seed=1)


def test_icl_tasks_load_in_the_dispersion_analyzer():
    dispersion_io = pytest.importorskip("llminfo.analyzers.dispersion_io")
    tasks = dispersion_io.load_icl_tasks(str(data_path("icl_tasks")))
    rows = dispersion_io.load_icl_rows(str(data_path("icl_classification")))
    for name, task in tasks.items():
        for _text, label in rows[name]:
            task.label_index(label)


# -- stories -----------------------------------------------------------------------------------


def test_stories_schema():
    rows = load_jsonl("stories")
    assert len(rows) >= 40
    _check_ids(rows, r"story-\d{3}")
    for r in rows:
        assert set(r) == {"id", "prompt", "genre"}
        assert _nonempty_str(r["prompt"]) and 20 <= len(r["prompt"]) <= 300, r["id"]
    assert len({r["genre"] for r in rows}) >= 10
    assert len({r["prompt"] for r in rows}) == len(rows)


# -- reasoning ---------------------------------------------------------------------------------

# Independent of the generator: the answer of every template from its parameters.
SOLVERS = {
    "buy_give": lambda p: p["a"] + p["b"] - p["c"],
    "boxes": lambda p: p["per_box"] * p["boxes"] + p["loose"],
    "reading": lambda p: p["total"] - p["per_day"] * p["days"],
    "change": lambda p: p["bill"] - p["price"] * p["count"],
    "share": lambda p: p["total"] / p["people"],
    "train": lambda p: p["speed"] * p["hours"] + p["speed2"] * p["hours2"],
    "spending": lambda p: p["money"] - p["lunch"] - p["book"],
    "legs": lambda p: 2 * p["chickens"] + 4 * p["cows"],
    "area": lambda p: p["width"] * p["length"] - p["path"],
    "ages": lambda p: p["age"] + p["diff"] + p["years"],
    "bakery": lambda p: p["trays"] * p["per_tray"] - p["sold"],
    "tickets": lambda p: p["adult"] * p["adults"] + p["child"] * p["children"],
    "fence": lambda p: 4 * p["side"] * p["cost"],
    "tables": lambda p: p["students"] - p["moved"],
}


def test_reasoning_schema():
    rows = load_jsonl("reasoning")
    assert len(rows) >= 120
    _check_ids(rows, r"reason-\d{3}")
    types = Counter(r["type"] for r in rows)
    assert set(types) == {"arithmetic", "multiple_choice"} and min(types.values()) >= 30, types
    for r in rows:
        assert _nonempty_str(r["question"]) and _nonempty_str(r["answer"]), r["id"]
        if r["type"] == "multiple_choice":
            assert set(r) == {"id", "question", "answer", "type", "options"}
            assert list(r["options"]) == ["A", "B", "C", "D"], r["id"]
            assert all(_nonempty_str(v) for v in r["options"].values())
            assert len({normalize_answer(v) for v in r["options"].values()}) == 4, r["id"]
            assert r["answer"] in r["options"]
        else:
            assert set(r) == {"id", "question", "answer", "type", "template", "params"}
            assert re.fullmatch(r"\d+", r["answer"]), r["id"]
    letters = Counter(r["answer"] for r in rows if r["type"] == "multiple_choice")
    assert max(letters.values()) - min(letters.values()) <= 1, letters


def test_reasoning_arithmetic_answers_recomputed():
    mod = _script("make_reasoning_data")
    rows = [r for r in load_jsonl("reasoning") if r["type"] == "arithmetic"]
    assert {r["template"] for r in rows} == set(SOLVERS) == set(mod.TEMPLATES)
    for r in rows:
        value = SOLVERS[r["template"]](r["params"])
        assert value == int(value) and value > 0, r
        assert r["answer"] == str(int(value)), r
        for key, v in r["params"].items():  # every parameter is stated in the question
            assert str(v) in r["question"], (r["id"], key)
    regenerated = mod.arithmetic_rows(seed=mod.SEED)
    assert [(g["question"], g["answer"]) for g in regenerated] == [(r["question"], r["answer"]) for r in rows]
    assert mod.arithmetic_rows(seed=1) != regenerated


def test_reasoning_multiple_choice_correct_option_is_the_written_one():
    mod = _script("make_reasoning_data")
    rows = [r for r in load_jsonl("reasoning") if r["type"] == "multiple_choice"]
    assert len(rows) == len(mod.MULTIPLE_CHOICE)
    for r, (question, correct, distractors) in zip(rows, mod.MULTIPLE_CHOICE):
        assert r["question"] == question
        assert r["options"][r["answer"]] == correct
        assert sorted(v for k, v in r["options"].items() if k != r["answer"]) == sorted(distractors)


# -- corpus ----------------------------------------------------------------------------------


def test_corpus_is_utf8_prose_of_enough_size():
    files = corpus_files()
    assert len(files) >= 8
    total = 0
    for f in files:
        raw = f.read_bytes()
        text = raw.decode("utf-8")  # raises on invalid UTF-8
        assert text.strip(), f.name
        assert "\x00" not in text and "\r" not in text, f.name
        assert len(text.split()) >= 500, f.name
        total += len(raw)
    assert total >= 150_000, total
    readme = (data_path("corpus") / "README.md").read_text(encoding="utf-8")
    assert "written for this project" in readme.lower()


def test_corpus_files_are_not_duplicated_text():
    # Written prose, not one paragraph pasted many times: few repeated long lines.
    lines = [ln.strip() for f in corpus_files() for ln in f.read_text(encoding="utf-8").splitlines() if len(ln.strip()) > 80]
    repeated = sum(c - 1 for c in Counter(lines).values() if c > 1)
    assert repeated <= len(lines) * 0.01, repeated
