"""`score_on_ray` on a local Ray instance (`ray.init(num_cpus=2)`): same scores as one process,
no row lost when a worker dies, resume, per-row errors. One Ray instance per module."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from llminfo.analyzers.scorer import HallucinationScorer  # noqa: E402
from llminfo.scale import RayEngine, read_results, score_on_ray  # noqa: E402
from llminfo.scale.ray_job import ScoringActor  # noqa: E402

QUESTIONS = [
    "What is the capital of France?", "Who wrote Hamlet?", "One two three?", "What is the answer?",
    "The quick brown fox?", "Which number is five?", "Is the dog lazy?", "What comes after nine?",
]
METHODS = ["msp", ("semantic_entropy", {"clustering": "exact", "num_samples": 3}), "mean_entropy"]


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, tiny_model):
    d = tmp_path_factory.mktemp("tiny_model")
    tiny_model.model.save_pretrained(d)
    tiny_model.tokenizer.save_pretrained(d)
    return str(d)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def rows_for(n=len(QUESTIONS)):
    return [{"id": i, "question": q, "extra": f"x{i}"} for i, q in enumerate(QUESTIONS[:n])]


def single_process(model, rows):
    from llminfo.analyzers.base import as_items

    scorer = HallucinationScorer(METHODS)
    answers, scores, _ = scorer.raw_scores(model, as_items(rows), seed=0)
    return {r["id"]: (a, s) for r, a, s in zip(rows, answers, scores)}


def check_same(results, ref):
    assert sorted(r["id"] for r in results) == sorted(ref)
    for r in results:
        answer, scores = ref[r["id"]]
        assert r["answer"] == answer
        got = [r["scores"][n] for n in ("msp", "semantic_entropy", "mean_entropy")]
        # msp sums ~1e-6 of per-token round-off over the answer (batches of other sizes)
        np.testing.assert_allclose(got, scores, rtol=1e-5, atol=1e-5)
        assert r["extra"] == f"x{r['id']}"


def test_two_actors_match_single_process_tiny(local_ray, tmp_path, tiny_model, tiny_dir):
    rows = rows_for()
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    stats = score_on_ray(src, tmp_path / "out", model=tiny_dir, methods=METHODS, engine=RayEngine(workers=2, batch_size=3))
    assert stats["scored"] == len(rows) and stats["errors"] == 0
    check_same(read_results(tmp_path / "out"), single_process(tiny_model, rows))
    # rerun: everything is written, nothing is scored again
    again = score_on_ray(src, tmp_path / "out", model=tiny_dir, methods=METHODS, engine=RayEngine(workers=2, batch_size=3))
    assert again["scored"] == 0 and again["skipped_done"] == len(rows)


def _scoring_actor_pids() -> list[int]:
    import psutil

    pids = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if "ScoringActor" in " ".join(p.info["cmdline"] or []):
                pids.append(p.info["pid"])
        except psutil.Error:
            continue
    return pids


def test_killed_worker_loses_no_rows(local_ray, tmp_path, tiny_model, tiny_dir):
    """Kill one scoring actor's process once the first batch is written: rows written stay,
    the job either recovers (Ray retries the batch on a restarted actor) or fails, and a rerun
    completes the rest; the final output equals the single-process run, one row per id."""
    import signal
    import threading
    import time

    rows = rows_for()
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    engine = RayEngine(workers=2, batch_size=1, max_restarts=0)
    killed: list[int] = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if out.is_dir() and any(p.name.startswith("part-") for p in out.iterdir()):
                for pid in _scoring_actor_pids()[:1]:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.01)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        first = score_on_ray(src, out, model=tiny_dir, methods=METHODS, engine=engine)
    except Exception:
        first = None
    t.join()
    assert killed, "no scoring actor process was found to kill"
    written = read_results(out)
    assert len(written) >= 1
    if first is not None:
        assert first["scored"] + first["errors"] <= len(rows)
    stats = score_on_ray(src, out, model=tiny_dir, methods=METHODS, engine=engine)
    assert stats["skipped_done"] == len(written) and stats["scored"] == len(rows) - len(written)
    check_same(read_results(out), single_process(tiny_model, rows))


def test_bad_rows_reported_per_row_and_parquet(local_ray, tmp_path, tiny_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = rows_for(3) + [{"id": 99, "question": "  ", "extra": "x99"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    stats = score_on_ray(tmp_path / "in.parquet", tmp_path / "out", model=tiny_dir, methods=["msp"],
                         engine=RayEngine(workers=1, batch_size=4), output_format="parquet")
    assert stats["scored"] == 3 and stats["errors"] == 1
    assert stats["error_rows"][0]["id"] == 99 and "question" in stats["error_rows"][0]["error"]
    assert sorted(r["id"] for r in read_results(tmp_path / "out")) == [0, 1, 2]
    assert any(p.name.startswith("errors-") for p in (tmp_path / "out").iterdir())


def test_datasets_input_and_content_ids(local_ray, tmp_path, tiny_dir):
    import datasets

    ds = datasets.Dataset.from_list([{"question": q} for q in QUESTIONS[:2]])
    stats = score_on_ray(ds, tmp_path / "out", model=tiny_dir, methods=["msp"], engine=RayEngine(workers=1))
    got = read_results(tmp_path / "out")
    assert stats["scored"] == 2 and all(r["id"].startswith("sha256:") for r in got)


def test_engine_config_errors():
    with pytest.raises(ValueError, match="workers"):
        RayEngine(workers=0)
    with pytest.raises(ValueError, match="engine.kind"):
        RayEngine.from_config({"kind": "local"})
    with pytest.raises(ValueError, match="unknown key.*gpus"):
        RayEngine.from_config({"kind": "ray", "gpus": 1})
    assert RayEngine.from_config({"kind": "ray", "workers": 2, "gpus_per_worker": 1}).workers == 2
    with pytest.raises(FileNotFoundError, match="input not found"):
        score_on_ray("/nonexistent.jsonl", "/tmp/x", methods=["msp"])


@pytest.mark.integration
def test_two_actors_match_single_process_default_model(local_ray, tmp_path, default_model):
    rows = rows_for(4)
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    stats = score_on_ray(src, tmp_path / "out", model="default", methods=METHODS, engine=RayEngine(workers=2, batch_size=2))
    assert stats["scored"] == 4
    check_same(read_results(tmp_path / "out"), single_process(default_model, rows))


def test_actor_is_usable_without_ray(tmp_path, tiny_dir):
    """The actor class is plain Python: one batch in, one part file out."""
    import pyarrow as pa

    from llminfo.scale.ray_job import ScorerSpec

    actor = ScoringActor(ScorerSpec(model=tiny_dir, scorer=HallucinationScorer(["msp"]).to_dict()), str(tmp_path))
    out = actor(pa.table({"id": [1], "question": ["Who wrote Hamlet?"], "_id": ["1"]}))
    assert out.to_pylist() == [{"_id": "1", "error": ""}]
    assert [r["id"] for r in read_results(tmp_path)] == [1]


def test_eval_config_engine_ray_matches_one_process(local_ray, tmp_path, tiny_dir):
    from llminfo.eval.config import ConfigError, config_from_dict
    from llminfo.eval.runner import run_eval

    data = write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "question": q, "answers": ["Paris"]}
                                               for i, q in enumerate(QUESTIONS[:6])])
    base = {"task": "qa-hallucination", "model": {"name": tiny_dir}, "dataset": {"path": str(data)},
            "methods": ["msp", {"name": "semantic_entropy", "clustering": "exact", "num_samples": 3}],
            "batch_size": 2, "report": {"html": False}}
    one = run_eval(config_from_dict({**base, "output_dir": str(tmp_path / "one")}), progress=False)
    cfg = config_from_dict({**base, "output_dir": str(tmp_path / "ray"), "engine": {"kind": "ray", "workers": 2}})
    assert cfg.config_hash() == config_from_dict({**base, "output_dir": "x"}).config_hash()  # engine is not a result
    on_ray = run_eval(cfg, progress=False)
    assert on_ray.new_items == 6
    ref = {r["key"]: r for r in one.rows}
    for r in on_ray.rows:
        assert r["answer"] == ref[r["key"]]["answer"]
        for name, v in r["scores"].items():
            assert v == pytest.approx(ref[r["key"]]["scores"][name], abs=1e-5)
    with pytest.raises(ConfigError, match="engine.*workers"):
        config_from_dict({**base, "engine": {"kind": "ray", "workers": 0}})


def test_resume_refuses_rows_produced_differently(tmp_path):
    from llminfo.errors import UserError
    from llminfo.scale.ray_job import _check_same_producer

    out = tmp_path / "out"
    out.mkdir()
    (out / "part-a.jsonl").write_text(json.dumps({"id": 1, "producer": {"model": "m", "seed": 0}}) + "\n")
    _check_same_producer(out, {"seed": 0, "model": "m"})  # same producer, key order aside
    with pytest.raises(UserError, match="produced differently"):
        _check_same_producer(out, {"model": "m", "seed": 1})


def test_cli_score_ray(local_ray, tmp_path, tiny_dir, capsys):
    from llminfo.cli import main

    src = write_jsonl(tmp_path / "in.jsonl", rows_for(3))
    args = ["score", str(src), "--methods", "msp", "--model", tiny_dir, "--no-progress", "--ray", "--workers", "1"]
    assert main([*args, "--output", str(tmp_path / "out")]) == 0
    got = read_results(tmp_path / "out")
    assert sorted(r["id"] for r in got) == [0, 1, 2] and all(r["producer"]["model"] for r in got)
    assert "scored 3 rows, 0 failed" in capsys.readouterr().err
    # a rerun with other parameters is refused rather than mixed in
    assert main([*args, "--output", str(tmp_path / "out"), "--seed", "5"]) == 2
    assert "produced differently" in capsys.readouterr().err
    assert main([*args[:-2], "--workers", "0", "--output", str(tmp_path / "o2")]) == 2
    assert "--workers" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main([*args, "--output", str(tmp_path / "file")]) == 2
    assert "folder" in capsys.readouterr().err
