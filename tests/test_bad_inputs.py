"""Bad inputs and faults, as a new user meets them (issue #12): every case exits 2 with one
line naming the file / line / field / flag, or skips cleanly and says so — and results
already on disk stay byte-for-byte intact (or, when a run appends, the old bytes stay a prefix).

Cases that must fail before any model loads pass `--model /no/such/model`: if the check came
after the load, the error would be about the model and the case would fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest


from llminfo.cli import main

NO_MODEL = "/no/such/model"
ROWS = [
    {"id": "a", "question": "What is the capital of France?", "answer": "Paris"},
    {"id": "b", "question": "One two three?", "answer": "four"},
    {"id": "c", "question": "The answer is?", "answer": "yes"},
]
LABELLED = [{"question": f"Question {i}?", "answer": "yes" if i % 2 else "no", "correct": bool(i % 3)} for i in range(6)]


def _jsonl(rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def model_dir(tiny_model_dir):
    """The tiny model saved to a folder (conftest's `tiny_model_dir`)."""
    return tiny_model_dir


@pytest.fixture(scope="module")
def scored(tmp_path_factory, model_dir):
    """A real previous `score` run: its input, output and calibrator."""
    d = tmp_path_factory.mktemp("prev")
    (d / "in.jsonl").write_text(_jsonl(ROWS))
    (d / "lab.jsonl").write_text(_jsonl(LABELLED))
    assert main(["calibrate", str(d / "lab.jsonl"), "--output", str(d / "cal.json"), "--model", model_dir,
                 "--methods", "msp", "--no-progress"]) == 0
    assert main(["score", str(d / "in.jsonl"), "--output", str(d / "out.jsonl"), "--model", model_dir, "--methods", "msp",
                 "--no-progress"]) == 0
    return d


@dataclass
class Case:
    """`make(tmp, model_dir)` writes the files and returns argv; `rc` and `needles` are checked,
    then every file that existed before the run is unchanged — or, for `grows`, still a prefix."""

    name: str
    make: Callable[[Path, str], list[str]]
    rc: int = 2
    needles: tuple[str, ...] = ()
    grows: tuple[str, ...] = ()
    cut: bytes = b""  # out.jsonl: only this torn tail may be removed
    check: Callable[[Path], None] | None = None
    stdout: bool = field(default=False)


def _prev(tmp: Path, scored: Path) -> None:
    for name in ("in.jsonl", "out.jsonl", "cal.json", "lab.jsonl"):
        shutil.copy(scored / name, tmp / name)


def _score(tmp: Path, *extra: str, model: str = NO_MODEL, inp: str = "in.jsonl", out: str = "out.jsonl") -> list[str]:
    return ["score", str(tmp / inp), "--output", str(tmp / out), "--model", model, "--no-progress", *extra]


def _cal(body: dict) -> Callable[[Path, str], list[str]]:
    """A calibrator file edited by `body` (merged into the saved one), then `score --calibrator`."""

    def make(tmp: Path, model_dir: str) -> list[str]:
        saved = json.loads((tmp / "cal.json").read_text())
        for key, value in body.items():
            target = saved
            *path, last = key.split(".")
            for p in path:
                target = target[p]
            target[last] = value
        (tmp / "bad_cal.json").write_text(json.dumps(saved))
        return _score(tmp, "--calibrator", str(tmp / "bad_cal.json"), out="new.jsonl")

    return make


def _write(name: str, content: str | bytes, argv: Callable[[Path, str], list[str]]) -> Callable[[Path, str], list[str]]:
    def make(tmp: Path, model_dir: str) -> list[str]:
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return argv(tmp, model_dir)

    return make


def _no_rescore(tmp: Path) -> None:
    rows = _read(tmp / "out.jsonl")
    assert sorted(r["id"] for r in rows) == ["a", "b", "c"]  # nothing written twice


def _scored_ids(*ids):
    def check(tmp: Path) -> None:
        assert [r["id"] for r in _read(tmp / "new.jsonl")] == list(ids)

    return check


def _eval_cfg(tmp: Path, model: str, data: Path, out: str) -> Path:
    cfg = {"task": "qa-hallucination", "model": {"name": model}, "dataset": {"path": str(data)},
           "methods": ["msp"], "output_dir": out, "report": {"html": False, "bootstrap": 0}}
    (tmp / "cfg.yaml").write_text(json.dumps(cfg))
    return tmp / "cfg.yaml"


LONG = " ".join(["word"] * 400)  # more tokens than the tiny model's 256-token context

CASES = [
    # -- data loss ----------------------------------------------------------------------------
    Case("score: a valid last row without newline is kept, not cut",
         lambda t, m: (t.joinpath("out.jsonl").write_bytes(t.joinpath("out.jsonl").read_bytes().rstrip(b"\n")),
                       _score(t, "--methods", "msp", model=m))[1],
         rc=0, grows=("out.jsonl",), check=_no_rescore),
    Case("score: a torn last line is dropped and reported",
         lambda t, m: (t.joinpath("out.jsonl").open("ab").write(b'{"id": "d", "quest'),
                       _score(t, "--methods", "msp", model=m))[1],
         rc=0, needles=("dropping a torn last line", '{"id": "d", "quest'), cut=b'{"id": "d", "quest', check=_no_rescore),
    Case("score: a malformed row inside an existing output stops the run",
         lambda t, m: (t.joinpath("out.jsonl").write_bytes(b"{oops\n" + t.joinpath("out.jsonl").read_bytes()),
                       _score(t, "--methods", "msp"))[1],
         needles=("out.jsonl: line 1 is not a scored row",)),
    Case("score: --output ./in.jsonl (same file, other spelling)",
         lambda t, m: _score(t, "--methods", "msp", out="../" + t.name + "/./in.jsonl"),
         needles=("is the INPUT file itself",)),
    Case("score: --output a hard link to the input",
         lambda t, m: (t.joinpath("link.jsonl").hardlink_to(t / "in.jsonl"), _score(t, "--methods", "msp", out="link.jsonl"))[1],
         needles=("is the INPUT file itself",)),
    # -- resume must not mix results ------------------------------------------------------------
    Case("score: resume with other --methods", lambda t, m: _score(t, "--methods", "msp,perplexity"),
         needles=("out.jsonl: line 1 was written by a different run", "methods:")),
    Case("score: resume with another --seed", lambda t, m: _score(t, "--methods", "msp", "--seed", "3"),
         needles=("different run", "seed: 0 in the file, 3 now")),
    Case("score: resume with another model", lambda t, m: _score(t, "--methods", "msp"),
         needles=("different run", "model: '", "' in the file, '/no/such/model' now")),
    Case("score: resume with a calibrator", lambda t, m: _score(t, "--calibrator", str(t / "cal.json")),
         needles=("different run", "calibrator: None in the file, 'sha256:")),
    Case("score: resume onto rows of an older llminfo (no producer)",
         lambda t, m: (t.joinpath("out.jsonl").write_text(_jsonl([{k: v for k, v in r.items() if k != "producer"}
                                                                  for r in _read(t / "out.jsonl")])),
                       _score(t, "--methods", "msp"))[1],
         needles=("the row has no `producer` record",)),
    # -- bad rows -------------------------------------------------------------------------------
    Case("score: a row too long for the context is skipped, its batch-mates scored",
         _write("new_in.jsonl", _jsonl([ROWS[0], {"id": "long", "question": LONG, "answer": "x"}, ROWS[1]]),
                lambda t, m: _score(t, "--methods", "msp", "--batch-size", "3", model=m, inp="new_in.jsonl", out="new.jsonl")),
         rc=0, needles=("new_in.jsonl: line 2 (id 'long')", "context window", "1 failed and skipped"), check=_scored_ids("a", "b")),
    Case("score --on-bad-row stop: a row too long for the context stops with its line",
         _write("new_in.jsonl", _jsonl([ROWS[0], {"id": "long", "question": LONG, "answer": "x"}]),
                lambda t, m: _score(t, "--methods", "msp", "--on-bad-row", "stop", model=m, inp="new_in.jsonl", out="new.jsonl")),
         needles=("new_in.jsonl: line 2 (id 'long')", "context window")),
    Case("score: a lone surrogate is reported by line and field, the rest scored",
         _write("new_in.jsonl", _jsonl([ROWS[0], '{"id": "s", "question": "bad \\ud800 text", "answer": "x"}', ROWS[2]]),
                lambda t, m: _score(t, "--methods", "msp", model=m, inp="new_in.jsonl", out="new.jsonl")),
         rc=0, needles=("new_in.jsonl: line 2: field `question` has a lone surrogate",), check=_scored_ids("a", "c")),
    Case("score: invalid UTF-8 on one line is reported, the other lines kept",
         _write("new_in.jsonl", _jsonl([ROWS[0]]).encode() + b'{"id": "x", "question": "caf\xe9?"}\n' + _jsonl([ROWS[1]]).encode(),
                lambda t, m: _score(t, "--methods", "msp", model=m, inp="new_in.jsonl", out="new.jsonl")),
         rc=0, needles=("new_in.jsonl: line 2: invalid UTF-8 (byte 0xe9",), check=_scored_ids("a", "b")),
    Case("score --on-bad-row stop: binary input names the file and line",
         _write("new_in.jsonl", b"\x00\x01\xff\xfe binary\n\x89PNG\r\n",
                lambda t, m: _score(t, "--methods", "msp", "--on-bad-row", "stop", inp="new_in.jsonl", out="new.jsonl")),
         needles=("new_in.jsonl: line 1: invalid UTF-8",)),
    Case("score: a UTF-8 BOM before row 1 is accepted",
         _write("new_in.jsonl", b"\xef\xbb\xbf" + _jsonl(ROWS[:2]).encode(),
                lambda t, m: _score(t, "--methods", "msp", model=m, inp="new_in.jsonl", out="new.jsonl")),
         rc=0, check=_scored_ids("a", "b")),
    Case("score: an empty input warns and exits 0 without loading a model",
         _write("new_in.jsonl", "\n  \n", lambda t, m: _score(t, "--methods", "msp", inp="new_in.jsonl", out="new.jsonl")),
         rc=0, needles=("new_in.jsonl has no usable rows; nothing to score",),
         check=lambda t: not (t / "new.jsonl").exists() or pytest.fail("output created")),
    Case("calibrate: a BOM before row 1 keeps that row",
         _write("bom.jsonl", b"\xef\xbb\xbf" + _jsonl(LABELLED).encode(),
                lambda t, m: ["calibrate", str(t / "bom.jsonl"), "--output", str(t / "cal2.json"), "--model", m,
                              "--methods", "msp", "--no-progress"]),
         rc=0, stdout=True, needles=('"n": 6',)),
    # -- calibrator files -------------------------------------------------------------------------
    Case("calibrator: an extra method in `methods`", _cal({"methods": [{"name": "msp", "params": {}}, {"name": "perplexity", "params": {}}]}),
         needles=("bad_cal.json: field `calibrator.methods` ['msp'] does not match `methods` ['msp', 'perplexity']",)),
    Case("calibrator: `reference` holds strings", _cal({"calibrator.reference": [["a", "b"]]}),
         needles=("bad_cal.json: field calibrator.reference: has to be a list of finite numbers",)),
    Case("calibrator: `coef` is empty", _cal({"calibrator.coef": []}),
         needles=("bad_cal.json: field calibrator.coef: has to hold 1 numbers",)),
    Case("calibrator: `weights` has the wrong length", _cal({"calibrator.weights": [1.0, 0.5]}),
         needles=("field calibrator.weights: has to hold 1 numbers (one per method), got 2",)),
    Case("calibrator: `threshold` is a string", _cal({"threshold": "0.4"}),
         needles=("bad_cal.json: field `threshold` has to be a number",)),
    Case("calibrator: a second threshold inside the calibrator", _cal({"calibrator.threshold": 0.4}),
         needles=("field `calibrator.threshold`", "one threshold"),),
    Case("calibrator: unknown kind", _cal({"calibrator.kind": "magic"}),
         needles=("field calibrator.kind: has to be one of",)),
    Case("calibrator: not JSON", _write("bad_cal.json", "{nope", lambda t, m: _score(t, "--calibrator", str(t / "bad_cal.json"), out="new.jsonl")),
         needles=("bad_cal.json: invalid JSON",)),
    Case("calibrate: a failed refit keeps the previous calibrator",
         _write("all_right.jsonl", _jsonl([{"question": f"Q{i}?", "answer": "a", "correct": True} for i in range(3)]),
                lambda t, m: ["calibrate", str(t / "all_right.jsonl"), "--output", str(t / "cal.json"), "--model", m,
                              "--methods", "msp", "--no-progress"]),
         needles=("calibration needs both correct and wrong answers",)),
    # -- output paths (all before the model loads) --------------------------------------------------
    Case("score: --output is a folder", lambda t, m: (t.joinpath("d").mkdir(), _score(t, "--methods", "msp", out="d"))[1],
         needles=("--output", "is a folder; give a file name")),
    Case("score: --output's parent is a file", lambda t, m: _score(t, "--methods", "msp", out="in.jsonl/x.jsonl"),
         needles=("--output", "in.jsonl' is a file, not a folder")),
    Case("calibrate: --output is a folder",
         lambda t, m: (t.joinpath("d").mkdir(), ["calibrate", str(t / "lab.jsonl"), "--output", str(t / "d"), "--model", NO_MODEL])[1],
         needles=("is a folder; give a file name",)),
    Case("calibrate: --output's parent is a file",
         lambda t, m: ["calibrate", str(t / "lab.jsonl"), "--output", str(t / "cal.json" / "c.json"), "--model", NO_MODEL],
         needles=("cal.json' is a file, not a folder",)),
    Case("dispersion: --output is a file",
         lambda t, m: ["dispersion", "--task", "sentiment", "--output", str(t / "out.jsonl"), "--model", NO_MODEL],
         needles=("--output", "is a file; give a folder")),
    Case("dispersion: --output's parent is a file",
         lambda t, m: ["dispersion", "--task", "sentiment", "--output", str(t / "out.jsonl" / "run"), "--model", NO_MODEL],
         needles=("out.jsonl' is a file, not a folder",)),
    Case("capacity: --plot is a folder",
         lambda t, m: (t.joinpath("p").mkdir(), ["capacity", "--model", NO_MODEL, "--plot", str(t / "p"), "--output", str(t / "r")])[1],
         needles=("--plot", "is a folder; give a file name")),
    Case("capacity: --plot's parent is a file",
         lambda t, m: ["capacity", "--model", NO_MODEL, "--plot", str(t / "cal.json" / "ic.png"), "--output", str(t / "r")],
         needles=("--plot", "cal.json' is a file, not a folder")),
    Case("capacity: --output is a file",
         lambda t, m: ["capacity", "--model", NO_MODEL, "--output", str(t / "cal.json")],
         needles=("--output", "is a file, not a folder")),
    Case("eval: output_dir is a file",
         lambda t, m: ["eval", str(_eval_cfg(t, NO_MODEL, t / "in.jsonl", str(t / "out.jsonl")))],
         needles=("config key `output_dir`", "is a file; give a folder")),
    Case("eval: output_dir's parent is a file",
         lambda t, m: ["eval", str(_eval_cfg(t, NO_MODEL, t / "in.jsonl", str(t / "cal.json" / "run")))],
         needles=("cal.json' is a file, not a folder",)),
    Case("dispersion: --tasks-file does not exist",
         lambda t, m: ["dispersion", "--task", "sentiment", "--output", str(t / "d"), "--tasks-file", str(t / "none.json"),
                       "--model", NO_MODEL],
         needles=("--tasks-file", "none.json", "No such file")),
    Case("dispersion: --tasks-file is not JSON",
         _write("tasks.json", "{nope", lambda t, m: ["dispersion", "--task", "sentiment", "--output", str(t / "d"),
                                                      "--tasks-file", str(t / "tasks.json"), "--model", NO_MODEL]),
         needles=("--tasks-file", "tasks.json': JSONDecodeError")),
    Case("dispersion: --orderings 0 is named as the flag",
         lambda t, m: ["dispersion", "--task", "sentiment", "--output", str(t / "d"), "--orderings", "0", "--model", NO_MODEL],
         needles=("--orderings (config key `params.orderings`): orderings per query: an integer >= 1; got 0",)),
    Case("capacity: --data does not exist",
         lambda t, m: ["capacity", "--data", str(t / "none.txt"), "--output", str(t / "r"), "--model", NO_MODEL],
         needles=("--data (config key `dataset.path`)", "none.txt' not found")),
    Case("eval: unknown engine argument for the backend",
         lambda t, m: (t.joinpath("cfg.yaml").write_text(json.dumps(
             {"task": "qa-hallucination", "model": {"name": m, "engine_args": {"foo": 1}},
              "dataset": {"path": str(t / "in.jsonl"), "fields": {"answers": "answer"}}, "methods": ["msp"],
              "output_dir": str(t / "run")})),
             ["eval", str(t / "cfg.yaml"), "--no-progress"])[1],
         needles=("config key `model`: could not load", "unexpected arguments for backend 'hf': foo")),
    # -- sampling flags (before the model loads) ---------------------------------------------------
    Case("generate: --typical-p out of range", lambda t, m: ["generate", "hi", "--typical-p", "1.5", "--model", NO_MODEL],
         needles=("--typical-p has to be in (0, 1]",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path, scored, model_dir, capsys):
    _prev(tmp_path, scored)
    argv = case.make(tmp_path, model_dir)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == case.rc, err
    text = out if case.stdout else err
    for needle in case.needles:
        assert needle in text, text
    assert "Traceback" not in err
    if rc == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"llminfo {argv[0]}: error: "), err
    for p, old in before.items():
        now = p.read_bytes() if p.exists() else b""
        if case.cut and p.name == "out.jsonl":
            assert old == now + case.cut, "more than the torn line was removed"
        elif p.name in case.grows:
            assert now.startswith(old), f"{p.name}: previous bytes changed"
        else:
            assert now == old, f"{p.name}: changed"
    if case.check is not None:
        case.check(tmp_path)


# -- faults that need more than one command ------------------------------------------------------


def test_second_writer_is_refused_while_the_first_holds_the_output(tmp_path, scored, capsys):
    """A second `score` on an output another process is writing: exit 2, file untouched."""
    _prev(tmp_path, scored)
    out = tmp_path / "out.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom filelock import FileLock\nlock = FileLock(sys.argv[1])\nlock.acquire()\n"
         "print('locked', flush=True)\ntime.sleep(60)", f"{out}.lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        old = out.read_bytes()
        assert main(_score(tmp_path, "--methods", "msp")) == 2
        err = capsys.readouterr().err
        assert "is being written by another llminfo process" in err and str(out) in err
        assert out.read_bytes() == old
    finally:
        holder.kill()
        holder.wait()


def test_id_less_rows_keep_their_ids_when_the_input_is_edited(tmp_path, model_dir, capsys):
    """Ids come from content: a line inserted above re-scores only that line."""
    rows = [{k: v for k, v in r.items() if k != "id"} for r in ROWS]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text(_jsonl(rows[1:]))
    assert main(["score", str(inp), "--output", str(out), "--model", model_dir, "--methods", "msp", "--no-progress"]) == 0
    old = out.read_bytes()
    inp.write_text(_jsonl(rows))  # a new first line: every old row moves down one line
    assert main(["score", str(inp), "--output", str(out), "--model", model_dir, "--methods", "msp", "--no-progress"]) == 0
    assert out.read_bytes().startswith(old)
    got = _read(out)
    assert [r["question"] for r in got] == [r["question"] for r in rows[1:]] + [rows[0]["question"]]
    assert "1 already" not in capsys.readouterr().err  # two were already there, one new
    from llminfo.analyzers.score_file import content_id

    assert got[-1]["id"] == content_id(rows[0]["question"], rows[0]["answer"], None)


def test_rows_say_what_produced_them(scored, model_dir):
    from llminfo import __version__

    for row in _read(scored / "out.jsonl"):
        p = row["producer"]
        assert p["llminfo"] == __version__ and [m["name"] for m in p["methods"]] == ["msp"] and p["seed"] == 0
        assert p["model"] == model_dir and p["backend"] == "hf" and p["calibrator"] is None


def test_producer_records_every_parameter_of_a_method(tmp_path, model_dir):
    """Defaults too, read from the method as built: a later default change cannot hide."""
    from llminfo.analyzers.semantic_entropy import SemanticEntropy

    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text(_jsonl(ROWS[:1]))
    assert main(["score", str(inp), "--output", str(out), "--model", model_dir, "--methods", "semantic_entropy",
                 "--samples", "2", "--seed", "5", "--no-progress"]) == 0
    [row] = _read(out)
    [m] = row["producer"]["methods"]
    built = SemanticEntropy(num_samples=2)
    assert m["name"] == "semantic_entropy" and row["producer"]["seed"] == 5
    assert m["params"]["num_samples"] == built.num_samples == 2
    assert m["params"]["temperature"] == built.temperature and "max_new_tokens" in m["params"]


def test_eval_refuses_to_resume_over_an_edited_dataset(tmp_path, model_dir, capsys):
    data = tmp_path / "qa.jsonl"
    data.write_text(_jsonl([{"id": r["id"], "question": r["question"], "answer": r["answer"], "answers": [r["answer"]]} for r in ROWS]))
    cfg = _eval_cfg(tmp_path, model_dir, data, str(tmp_path / "run"))
    assert main(["eval", str(cfg), "--no-progress"]) == 0
    results = tmp_path / "run" / "results.jsonl"
    rows = _read(results)
    assert all(r["producer"]["model"] == model_dir and [m["name"] for m in r["producer"]["methods"]] == ["msp"] for r in rows)
    old = results.read_bytes()
    edited = data.read_text().replace('"answer": "four"', '"answer": "five"')
    data.write_text(edited)
    assert main(["eval", str(cfg), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "the dataset changed since these results were written (1 item(s) differ, e.g. b)" in err
    assert results.read_bytes() == old


def test_eval_skips_an_item_that_fails_and_keeps_the_rest(tmp_path, model_dir, capsys):
    """One over-long question in a batch: reported by key, the batch-mates and later items written;
    a rerun retries only that item."""
    data = tmp_path / "qa.jsonl"
    rows = [{"id": r["id"], "question": r["question"], "answer": r["answer"], "answers": [r["answer"]]} for r in ROWS]
    rows.insert(1, {"id": "long", "question": LONG, "answer": "x", "answers": ["x"]})
    data.write_text(_jsonl(rows))
    cfg = _eval_cfg(tmp_path, model_dir, data, str(tmp_path / "run"))
    assert main(["eval", str(cfg), "--no-progress", "--set", "batch_size=3"]) == 0
    err = capsys.readouterr().err
    assert "qa.jsonl: item 'long'" in err and "context window" in err and "1 item(s) failed and were skipped" in err
    results = tmp_path / "run" / "results.jsonl"
    assert [r["key"] for r in _read(results)] == ["a", "b", "c"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["failed_items"] == 1 and metrics["new_items"] == 3
    old = results.read_bytes()
    assert main(["eval", str(cfg), "--no-progress", "--set", "batch_size=3"]) == 0  # retried, fails again
    assert "qa.jsonl: item 'long'" in capsys.readouterr().err and results.read_bytes() == old


def test_dispersion_rerun_that_fails_keeps_previous_results(tmp_path, monkeypatch, capsys):
    from test_dispersion import ROWS as ICL_ROWS
    from test_dispersion import ScriptedICLModel

    from llminfo import cli

    data = tmp_path / "icl.jsonl"
    data.write_text(_jsonl([{"task": "sentiment", "text": t, "label": lab} for t, lab in ICL_ROWS]))
    out = tmp_path / "disp"
    argv = ["dispersion", "--data", str(data), "--task", "sentiment", "--orderings", "2", "--n-examples", "2",
            "--queries", "3", "--output", str(out), "--no-progress"]
    monkeypatch.setattr(cli, "load_model_from_args", lambda args: ScriptedICLModel(recency=0.5))
    assert main(argv) == 0
    saved = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    class Broken(ScriptedICLModel):
        def next_token_logprobs(self, *a, **kw):
            raise RuntimeError("engine died")

    monkeypatch.setattr(cli, "load_model_from_args", lambda args: Broken(recency=0.5))
    # Other parameters: refused, nothing touched.
    assert main(argv[:-1] + ["--orderings", "3", "--no-progress"]) == 2
    assert "holds results of a different config" in capsys.readouterr().err
    # Start over (--no-resume) with a model that dies: the old results are kept aside, byte for byte.
    with pytest.raises(RuntimeError, match="engine died"):
        main(argv + ["--no-resume", "--orderings", "3"])
    backups = list(out.glob("results.*.jsonl.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == saved["results.jsonl"]
    assert (out / "metrics.json").read_bytes() == saved["metrics.json"]
