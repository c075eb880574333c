"""The runner: results.jsonl per batch, resume after a kill, refusal to mix configs, metrics, compare.

A fast task: qa-hallucination with given answers (no generation) and the white-box methods,
on the tiny random Llama saved to a folder (so a subprocess can load it by path).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from llminfo.cli import main
from llminfo.eval import metrics as M
from llminfo.eval.config import ConfigError, load_config
from llminfo.eval.runner import RESULTS, read_results, run_eval

N_ITEMS = 24


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from tiny import tiny_llama

    path = tmp_path_factory.mktemp("tiny")
    model, tok = tiny_llama(0)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = ["Paris", "four", "blue", "the quick fox", "42", "yes", "no", "France"]
    rows = []
    for i in range(N_ITEMS):
        gold = words[i % len(words)]
        answer = gold if rng.random() < 0.5 else words[(i + 3) % len(words)]
        rows.append({"id": f"item-{i:02d}", "question": f"Question number {i}?", "answers": [gold], "answer": answer})
    path = tmp_path_factory.mktemp("data") / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _write_config(tmp_path, tiny_dir, data_file, out, **extra):
    cfg = {
        "task": "qa-hallucination",
        "model": {"name": str(tiny_dir)},
        "dataset": {"path": str(data_file)},
        "methods": ["msp", "perplexity", "mean_entropy"],
        "batch_size": 2,
        "output_dir": str(out),
        "report": {"bootstrap": 50, "html": False},
        **extra,
    }
    path = tmp_path / f"cfg_{out.name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def tiny_loaded(tiny_dir):
    from llminfo.models import load_model

    return load_model(str(tiny_dir))


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_run_writes_rows_metrics_and_matches_direct_computation(tmp_path, tiny_dir, data_file, tiny_loaded):
    cfg = load_config(_write_config(tmp_path, tiny_dir, data_file, tmp_path / "full"))
    res = run_eval(cfg, progress=False, model=tiny_loaded)
    rows = _lines(tmp_path / "full" / RESULTS)
    assert [r["key"] for r in rows] == [f"item-{i:02d}" for i in range(N_ITEMS)]
    assert all(r["config_hash"] == cfg.config_hash() for r in rows)
    # Answers given in the data are scored as is, and judged by alias matching.
    src = _lines(data_file)
    assert [r["answer"] for r in rows] == [s["answer"] for s in src]
    assert [r["correct"] for r in rows] == [int(s["answer"] == s["answers"][0]) for s in src]
    # msp = −Σ log p of the answer tokens: compare with a direct score call.
    from llminfo.analyzers.base import answer_continuation, qa_prompt

    prompts = [qa_prompt(tiny_loaded, s["question"]) for s in src[:3]]
    direct = tiny_loaded.score(prompts, [answer_continuation(tiny_loaded, s["answer"]) for s in src[:3]])
    np.testing.assert_allclose([r["scores"]["msp"] for r in rows[:3]], [-d.sum_logprob for d in direct], rtol=1e-5)
    # Metrics equal the metric functions applied to the rows.
    y = np.array([r["correct"] for r in rows], float)
    s = np.array([r["scores"]["perplexity"] for r in rows])
    m = json.loads((tmp_path / "full" / "metrics.json").read_text())
    assert m["accuracy"] == pytest.approx(y.mean())
    assert m["methods"]["perplexity"]["auroc"] == pytest.approx(M.auroc(1 - y, s))
    assert m["methods"]["perplexity"]["prr"] == pytest.approx(M.prr(y, s))
    assert res.new_items == N_ITEMS and res.resumed_items == 0


def test_rerun_resumes_and_changed_config_refuses(tmp_path, tiny_dir, data_file, tiny_loaded, capsys):
    path = _write_config(tmp_path, tiny_dir, data_file, tmp_path / "r", dataset={"path": str(data_file), "limit": 6})
    first = run_eval(load_config(path), progress=False, model=tiny_loaded)
    assert first.new_items == 6
    # Larger limit: only the new items run (limit is not part of the hash).
    more = run_eval(load_config(path, ["dataset.limit=10"]), progress=False, model=tiny_loaded)
    assert (more.new_items, more.resumed_items) == (4, 6)
    assert len(_lines(tmp_path / "r" / RESULTS)) == 10
    # A changed config refuses to mix, with a message naming the way out.
    with pytest.raises(ConfigError, match="different config.*--no-resume"):
        run_eval(load_config(path, ["seed=1"]), progress=False, model=tiny_loaded)
    assert main(["eval", str(path), "--set", "seed=1", "--no-progress"]) == 2
    assert "--no-resume" in capsys.readouterr().err
    # --no-resume keeps the old file aside and starts over.
    fresh = run_eval(load_config(path, ["seed=1"]), resume=False, progress=False, model=tiny_loaded)
    assert fresh.new_items == 6
    assert len(list((tmp_path / "r").glob("results.*.jsonl.bak"))) == 1


def test_torn_last_line_is_dropped_not_fatal(tmp_path, tiny_dir, data_file, tiny_loaded):
    path = _write_config(tmp_path, tiny_dir, data_file, tmp_path / "t", dataset={"path": str(data_file), "limit": 4})
    run_eval(load_config(path), progress=False, model=tiny_loaded)
    results = tmp_path / "t" / RESULTS
    text = results.read_text().splitlines(keepends=True)
    results.write_text("".join(text[:2]) + text[2][: len(text[2]) // 2])  # killed mid-write
    again = run_eval(load_config(path), progress=False, model=tiny_loaded)
    assert (again.new_items, again.resumed_items) == (2, 2)
    assert [r["key"] for r in _lines(results)] == [f"item-{i:02d}" for i in range(4)]
    results.write_text("not json\n" + results.read_text())
    with pytest.raises(ConfigError, match="line 1 is not valid JSON"):
        read_results(results, "x")


_SLOW_RUN = """
import sys, time
from llminfo.models.hf import HFModel
orig = HFModel.score
def slow(self, *a, **k):
    time.sleep(0.4)
    return orig(self, *a, **k)
HFModel.score = slow
from llminfo.cli import main
sys.exit(main(["eval", sys.argv[1], "--no-progress"]))
"""


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path, tiny_dir, data_file, tiny_loaded):
    ref_cfg = load_config(_write_config(tmp_path, tiny_dir, data_file, tmp_path / "ref"))
    ref = run_eval(ref_cfg, progress=False, model=tiny_loaded)

    out = tmp_path / "killed"
    path = _write_config(tmp_path, tiny_dir, data_file, out)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.path.dirname(__file__)])}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, str(path)], env=env, stderr=subprocess.PIPE)
    results = out / RESULTS
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    written = len(_lines(results))
    assert 6 <= written < N_ITEMS

    resumed = run_eval(load_config(path), progress=False, model=tiny_loaded)
    assert resumed.resumed_items == written and resumed.new_items == N_ITEMS - written
    rows = _lines(results)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == N_ITEMS  # no duplicates, nothing lost
    by_key = {r["key"]: r for r in ref.rows}
    for r in rows:
        assert r["correct"] == by_key[r["key"]]["correct"]
        for k, v in r["scores"].items():
            assert v == pytest.approx(by_key[r["key"]]["scores"][k], rel=1e-5)
    for name, m in ref.metrics["methods"].items():
        for metric in ("auroc", "prr", "auarc", "ece", "brier"):
            assert resumed.metrics["methods"][name][metric] == pytest.approx(m[metric], abs=1e-6)


def test_compare_prints_side_by_side(tmp_path, tiny_dir, data_file, tiny_loaded, capsys):
    a = _write_config(tmp_path, tiny_dir, data_file, tmp_path / "ca", dataset={"path": str(data_file), "limit": 8})
    b = _write_config(tmp_path, tiny_dir, data_file, tmp_path / "cb", dataset={"path": str(data_file), "limit": 12})
    ra = run_eval(load_config(a), progress=False, model=tiny_loaded)
    rb = run_eval(load_config(b), progress=False, model=tiny_loaded)
    assert main(["eval", "--compare", str(tmp_path / "ca"), str(tmp_path / "cb")]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("methods.msp.auroc "))
    va, vb, delta = (float(t) for t in line.split()[1:4])
    assert va == pytest.approx(ra.metrics["methods"]["msp"]["auroc"], abs=1e-4)
    assert vb == pytest.approx(rb.metrics["methods"]["msp"]["auroc"], abs=1e-4)
    assert delta == pytest.approx(vb - va, abs=2e-4)
    assert main(["eval", "--compare", str(tmp_path / "ca"), str(tmp_path / "nope")]) == 2
