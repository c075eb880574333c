"""`llminfo score` / `llminfo calibrate` on the tiny model saved to a folder: output contract,
no lost rows on a crash, resume, malformed rows by line number, user errors (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llminfo.cli import main


ROWS = [
    {"id": "a", "question": "What is the capital of France?", "answer": "Paris", "topic": "geo"},
    {"question": "One two three?", "context": "The quick brown fox jumps over the lazy dog."},
    {"id": 7, "question": "The answer is?"},
    {"id": "d", "question": "What is the answer?", "answer": "yes no"},
]


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _score(tmp_path, tiny_model_dir, inp, out, *extra):
    return main(["score", str(inp), "--output", str(out), "--model", tiny_model_dir, "--methods", "msp,edfl",
                 "--no-progress", *extra])


def test_score_contract(tmp_path, tiny_model_dir):
    inp = _write(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out.jsonl"
    assert _score(tmp_path, tiny_model_dir, inp, out, "--batch-size", "3") == 0
    got = _read(out)
    from llminfo.analyzers.score_file import content_id

    # a row without id gets a hash of its content
    assert [r["id"] for r in got] == ["a", content_id(ROWS[1]["question"], None, ROWS[1]["context"]), 7, "d"]
    assert got[1]["id"].startswith("sha256:") and len(got[1]["id"]) == 7 + 16
    assert got[0]["topic"] == "geo" and got[0]["answer"] == "Paris" and got[3]["answer"] == "yes no"
    assert got[1]["context"] == ROWS[1]["context"]
    for r in got:
        assert isinstance(r["answer"], str)
        assert set(r["scores"]) == {"msp", "edfl"}
        assert 0.0 <= r["risk"] <= 1.0 and r["decision"] in ("answer", "abstain")
    # msp is −Σ log p of the answer under the short-answer prompt: check against the model directly.
    from llminfo.analyzers.base import qa_prompt
    from llminfo.models import load_model

    model = load_model(tiny_model_dir)
    [s] = model.score([qa_prompt(model, ROWS[0]["question"])], ["Paris"])
    assert got[0]["scores"]["msp"] == pytest.approx(-sum(s.logprobs), rel=1e-4)
    # Unanswered rows were answered greedily.
    [[greedy]] = model.generate([qa_prompt(model, ROWS[2]["question"])], temperature=0.0, max_new_tokens=24, stop=["\n"])
    assert got[2]["answer"] == greedy.text.strip()


def test_crash_midway_loses_no_finished_row_and_resume_completes(tmp_path, tiny_model_dir, monkeypatch):
    from llminfo.analyzers.scorer import HallucinationScorer

    inp = _write(tmp_path / "in.jsonl", ROWS)
    full = tmp_path / "full.jsonl"
    assert _score(tmp_path, tiny_model_dir, inp, full, "--batch-size", "1") == 0

    out = tmp_path / "out.jsonl"
    real = HallucinationScorer.score
    calls = {"n": 0}

    def crashing(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(self, *a, **kw)

    monkeypatch.setattr(HallucinationScorer, "score", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _score(tmp_path, tiny_model_dir, inp, out, "--batch-size", "1")
    assert [r["id"] for r in _read(out)][:1] == ["a"] and len(_read(out)) == 2  # both finished batches are on disk
    monkeypatch.setattr(HallucinationScorer, "score", real)

    # A torn last line (killed mid-write) is dropped and that row redone.
    with out.open("a") as f:
        f.write('{"id": 7, "question": "The ans')
    assert _score(tmp_path, tiny_model_dir, inp, out, "--batch-size", "1") == 0
    assert _read(out) == _read(full)  # same rows, same numbers, no duplicates

    # Rerunning a finished output scores nothing.
    assert _score(tmp_path, tiny_model_dir, inp, out) == 0
    assert len(_read(out)) == len(ROWS)


BAD = [
    ROWS[0],
    "{not json",
    {"id": "x", "answer": "no question"},
    {"id": "y", "question": "What?", "answer": 42},
    ROWS[2],
    {"id": "a", "question": "Duplicate id?"},
]


def test_bad_rows_skipped_with_line_numbers(tmp_path, tiny_model_dir, capsys):
    inp = _write(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    assert _score(tmp_path, tiny_model_dir, inp, out, "--on-bad-row", "skip") == 0
    err = capsys.readouterr().err
    assert "line 2: invalid JSON" in err
    assert "line 3: missing field 'question'" in err
    assert "line 4:" in err and "`answer` has to be a string" in err
    assert "line 6: duplicate id 'a'" in err
    assert [r["id"] for r in _read(out)] == ["a", 7]


def test_bad_row_stop_exits_2_with_one_line(tmp_path, tiny_model_dir, capsys):
    inp = _write(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    assert _score(tmp_path, tiny_model_dir, inp, out, "--on-bad-row", "stop") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 2: invalid JSON" in err[0] and err[0].startswith("llminfo score: error:")
    assert not out.exists() or _read(out) == []


@pytest.mark.parametrize(
    "args, match",
    [
        (["--methods", "msp,bogus"], "unknown bogus"),
        (["--batch-size", "0"], "--batch-size"),
        (["--samples", "0"], "--samples"),
        (["--method-arg", "semantic_entropy.temperature"], "expected METHOD.KEY=VALUE"),
        (["--methods", "msp", "--method-arg", "semantic_entropy.temperature=0.9"], "not among the scored methods"),
        (["--methods", "semantic_entropy", "--method-arg", "semantic_entropy.temprature=0.9"], "temprature"),
        (["--methods", "semantic_entropy", "--method-arg", "semantic_entropy.temperature=[1"], "not valid YAML"),
    ],
)
def test_user_errors(tmp_path, tiny_model_dir, capsys, args, match):
    inp = _write(tmp_path / "in.jsonl", ROWS[:1])
    argv = ["score", str(inp), "--output", str(tmp_path / "o.jsonl"), "--model", tiny_model_dir, *args]
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_missing_input_exits_2(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl"), "--methods", "msp"]) == 2
    assert "input file not found" in capsys.readouterr().err


def test_calibrate_then_score_with_calibrator(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(0)
    labelled = []
    words = ["Paris", "yes", "no", "one two", "fox", "The answer is 42", "dog", "three"]
    for i in range(16):
        labelled.append({"question": f"Question {i}: what is it?", "answer": words[i % len(words)], "correct": bool(rng.random() < 0.5)})
    labelled.append({"question": "What is the capital of France?", "answers": ["Paris"]})  # labelled by alias match
    labelled.append({"question": "Bad label?", "answer": "x", "correct": "maybe"})
    inp = _write(tmp_path / "lab.jsonl", labelled)
    cal = tmp_path / "cal.json"
    assert main(["calibrate", str(inp), "--output", str(cal), "--model", tiny_model_dir, "--methods", "msp,mean_entropy",
                 "--kind", "logistic", "--target-risk", "0.4"]) == 0
    captured = capsys.readouterr()
    assert "line 18" in captured.err and "`correct` has to be true/false" in captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["n"] == 17 and summary["methods"] == ["msp", "mean_entropy"]
    saved = json.loads(cal.read_text())
    assert saved["calibrator"]["kind"] == "logistic" and len(saved["calibrator"]["coef"]) == 2

    from llminfo.analyzers.scorer import HallucinationScorer

    scorer = HallucinationScorer.load(cal)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(_write(tmp_path / "in.jsonl", ROWS)), "--output", str(out), "--model", tiny_model_dir,
                 "--calibrator", str(cal), "--no-progress"]) == 0
    got = _read(out)
    scores = np.array([[r["scores"]["msp"], r["scores"]["mean_entropy"]] for r in got])
    np.testing.assert_allclose([r["risk"] for r in got], scorer.calibrator.predict(scores), rtol=1e-9)
    assert [r["decision"] for r in got] == scorer.calibrator.decide(scorer.calibrator.predict(scores))
    # The calibrator fixes the methods.
    assert main(["score", str(tmp_path / "in.jsonl"), "--output", str(out), "--model", tiny_model_dir,
                 "--calibrator", str(cal), "--methods", "msp"]) == 2


def test_calibrate_needs_both_classes(tmp_path, tiny_model_dir, capsys):
    inp = _write(tmp_path / "lab.jsonl", [{"question": f"Q{i}?", "answer": "a", "correct": True} for i in range(3)])
    assert main(["calibrate", str(inp), "--output", str(tmp_path / "c.json"), "--model", tiny_model_dir, "--methods", "msp"]) == 2
    assert "both correct and wrong" in capsys.readouterr().err


def test_method_arg_reaches_the_method_and_the_saved_scorer(tmp_path, tiny_model_dir, capsys):
    """--method-arg sets a method's parameter: it shows in the calibrator file and changes
    the scores (a different sampling temperature gives different semantic entropies)."""
    labelled = [{"question": f"Name a colour ({i}).", "answer": "red", "correct": i % 2 == 0} for i in range(6)]
    inp = _write(tmp_path / "lab.jsonl", labelled)
    saved = {}
    for temp in ("0.5", "1.5"):
        cal = tmp_path / f"cal{temp}.json"
        assert main(["calibrate", str(inp), "--output", str(cal), "--model", tiny_model_dir, "--methods", "semantic_entropy",
                     "--samples", "3", "--method-arg", f"semantic_entropy.temperature={temp}"]) == 0
        saved[temp] = json.loads(cal.read_text())
    capsys.readouterr()
    params = [d["methods"][0]["params"] for d in saved.values()]
    assert [p["temperature"] for p in params] == [0.5, 1.5] and all(p["num_samples"] == 3 for p in params)
    scores = {}
    for temp in ("0.5", "1.5", "1.5"):
        out = tmp_path / f"scored{len(scores)}{temp}.jsonl"
        assert main(["score", str(inp), "--output", str(out), "--model", tiny_model_dir, "--methods", "semantic_entropy",
                     "--samples", "3", "--no-progress", "--method-arg", f"semantic_entropy.temperature={temp}"]) == 0
        scores.setdefault(temp, []).append([r["scores"]["semantic_entropy"] for r in _read(out)])
    assert scores["1.5"][0] == scores["1.5"][1]  # same seed, same parameter: same scores
    assert scores["0.5"][0] != scores["1.5"][0]  # the parameter reached the sampler


def test_calibrate_shows_progress(tmp_path, tiny_model_dir, capsys):
    """`calibrate` is a long command: a progress bar counts the rows it has scored."""
    labelled = [{"question": f"Q{i}?", "answer": "a", "correct": i % 2 == 0} for i in range(5)]
    inp = _write(tmp_path / "lab.jsonl", labelled)
    assert main(["calibrate", str(inp), "--output", str(tmp_path / "c.json"), "--model", tiny_model_dir, "--methods", "msp",
                 "--batch-size", "2"]) == 0
    err = capsys.readouterr().err
    assert "calibrating" in err and "5/5" in err
    assert main(["calibrate", str(inp), "--output", str(tmp_path / "c.json"), "--model", tiny_model_dir, "--methods", "msp",
                 "--no-progress"]) == 0
    assert "calibrating" not in capsys.readouterr().err
