"""The non-QA tasks end to end on the tiny model, checked against the analyzers' own APIs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llminfo.eval.config import ConfigError, config_from_dict
from llminfo.eval.runner import run_eval


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _run(tmp_path, model, out="run", **cfg):
    config = config_from_dict({"output_dir": str(tmp_path / out), "report": {"bootstrap": 30}, **cfg})
    return config, run_eval(config, progress=False, model=model)


# -- typical-decoding ----------------------------------------------------------------------


def test_typical_decoding_matches_compare_decoding(tmp_path, tiny_model):
    from llminfo.analyzers.decoding import DecodingSetting, compare_decoding

    prompts = ["The quick brown fox", "One two three", "What is the capital"]
    data = _jsonl(tmp_path / "p.jsonl", [{"id": i, "prompt": p} for i, p in enumerate(prompts)])
    methods = [{"name": "typical_0.5", "typical_p": 0.5}, {"name": "greedy", "temperature": 0}]
    cfg, res = _run(tmp_path, tiny_model, task="typical-decoding", dataset={"path": data}, methods=methods,
                    params={"max_new_tokens": 10}, batch_size=3)
    ref = compare_decoding(tiny_model, prompts, [DecodingSetting("typical_0.5", typical_p=0.5), DecodingSetting("greedy", temperature=0.0)],
                           max_new_tokens=10, seed=cfg.seed)["summary"]
    for name in ("typical_0.5", "greedy"):
        got = res.metrics["settings"][name]
        for key in ("rep_1", "rep_4", "distinct_1", "distinct_2", "mean_tokens", "frac_length", "surprisal_deviation"):
            assert got[key] == pytest.approx(ref[name][key], rel=1e-6, abs=1e-9), (name, key)
    assert (res.output_dir / "report.html").read_text().count("<img") == 4


def test_typical_decoding_bad_setting_names_method(tmp_path):
    data = _jsonl(tmp_path / "p.jsonl", [{"prompt": "x"}])
    with pytest.raises(ConfigError, match=r"methods\[0\].*typical_p"):
        config_from_dict({"task": "typical-decoding", "dataset": {"path": data}, "methods": [{"name": "t", "typical_p": 1.5}]})
    with pytest.raises(ConfigError, match=r"methods\[0\].*unknown keys"):
        config_from_dict({"task": "typical-decoding", "dataset": {"path": data}, "methods": [{"name": "t", "tau": 0.5}]})


# -- halting -------------------------------------------------------------------------------


def test_halting_matches_run_halting(tmp_path, tiny_model):
    from llminfo.analyzers.adaptive_think import run_halting

    rows = [{"id": "a", "question": "What is 2 + 3?", "answer": "5"},
            {"id": "b", "question": "Pick one.", "answer": "B", "options": {"A": "yes", "B": "no"}}]
    data = _jsonl(tmp_path / "r.jsonl", rows)
    shared = {"max_thinking_tokens": 12, "probe_every": 4, "max_answer_tokens": 4}
    cfg, res = _run(tmp_path, tiny_model, task="halting", dataset={"path": data},
                    methods=["none", {"name": "adaptive_low", "mode": "adaptive", "ratio": 0.5}], params=shared)
    for label, mode, extra in (("none", "none", {}), ("adaptive_low", "adaptive", {"ratio": 0.5})):
        direct = run_halting(tiny_model, [{k: v for k, v in r.items() if k != "id"} for r in rows], mode, **shared, **extra)
        got = res.metrics["modes"][label]
        assert got["mean_tokens"] == pytest.approx(np.mean([d.tokens_used for d in direct]))
        assert got["accuracy"] == pytest.approx(np.mean([d.correct for d in direct]))
        assert [r["modes"][label]["answer_text"] for r in res.rows] == [d.answer_text for d in direct]
        if mode == "adaptive":  # InfoBias at the last probe, InfoGain per probe step
            assert got["info_bias"] == pytest.approx(np.mean([d.info_bias[-1] for d in direct]))
            gains = [g for d in direct for g in d.info_gain]
            assert got["info_gain"] == (pytest.approx(np.mean(gains)) if gains else None)
        else:
            assert got["info_bias"] is None
    assert "token_change_pct" in res.metrics["modes"]["adaptive_low"]
    with pytest.raises(ConfigError, match=r"methods\[0\].*unknown halting mode 'sleepy'"):
        config_from_dict({"task": "halting", "dataset": {"path": data}, "methods": ["sleepy"]})
    with pytest.raises(ConfigError, match="unknown halting parameter"):
        config_from_dict({"task": "halting", "dataset": {"path": data}, "params": {"think_harder": 1}})


# -- dispersion ----------------------------------------------------------------------------


def test_dispersion_batching_invariant_and_consistent(tmp_path, tiny_model):
    tasks = {"yn": {"labels": ["yes", "no"], "instruction": "Answer yes or no.", "template": "Text: {text}\nLabel: {label}"}}
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(tasks))
    rng = np.random.default_rng(0)
    rows = [{"id": f"r{i}", "task": "yn", "text": f"The answer is {i}", "label": str(rng.choice(["yes", "no"]))} for i in range(10)]
    data = _jsonl(tmp_path / "icl.jsonl", rows)
    common = dict(task="dispersion", dataset={"path": data, "limit": 4},
                  params={"task": "yn", "tasks_file": str(tasks_file), "n_examples": [1, 3], "orderings": 4})
    _, one = _run(tmp_path, tiny_model, out="b1", batch_size=1, **common)
    _, four = _run(tmp_path, tiny_model, out="b4", batch_size=4, **common)
    for a, b in zip(one.rows, four.rows):
        for ra, rb in zip(a["results"], b["results"]):
            np.testing.assert_allclose(ra["q"], rb["q"], rtol=1e-5, atol=1e-7)
    per_n = four.metrics["per_n"]
    assert set(per_n) == {"1", "3"}
    for n, m in per_n.items():
        res = [r for row in four.rows for r in row["results"] if r["n_examples"] == int(n)]
        assert m["accuracy_identity"] == pytest.approx(np.mean([r["correct_identity"] for r in res]))
        assert m["kl_dispersion"] >= 0 and m["jensen_gap"] >= -1e-12
        assert m["mad"] == pytest.approx(np.mean([r["mad_pred"] for r in res]))
        assert m["martingale_bound"] == pytest.approx(np.log(int(n)) / int(n))
    assert four.metrics["fit_mad"]["b_low"] <= four.metrics["fit_mad"]["b"] <= four.metrics["fit_mad"]["b_high"]
    assert four.metrics["cot"]["eps"] == 0.05 and "optimal_cot_tokens" in per_n["3"]
    # Examples never include the query itself.
    for row in four.rows:
        for r in row["results"]:
            assert all(r["query"] != t for t, _ in r.get("examples", []))
    with pytest.raises(ConfigError, match="params.task"):
        config_from_dict({**common, "params": {"task": "nope", "tasks_file": str(tasks_file)}})


# -- capacity ------------------------------------------------------------------------------


def test_capacity_equals_analyzer_on_whole_corpus(tmp_path, tiny_model):
    from llminfo.analyzers.capacity import Document, InformationCapacity

    texts = ["The quick brown fox jumps over the lazy dog. " * 3, "One two three four five six seven eight nine ten.",
             "What is the capital of France? The capital of France is Paris. The answer is 42."]
    data = _jsonl(tmp_path / "c.jsonl", [{"text": t} for t in texts])
    cfg, res = _run(tmp_path, tiny_model, task="capacity", dataset={"path": data}, params={"max_tokens": 24, "bias": -5}, batch_size=2)
    ref = InformationCapacity(tiny_model, max_tokens=24, bias=-5.0).measure([Document(f"d{i}", t, stream=False) for i, t in enumerate(texts)])
    m = res.metrics
    assert m["tokens"] == ref.tokens
    for key in ("text_bits_per_token", "nll_bits_per_token", "bits_per_byte", "flops_per_token", "information_capacity"):
        assert m[key] == pytest.approx(getattr(ref, key), rel=1e-5), key
    with pytest.raises(ConfigError, match="task capacity has no methods"):
        config_from_dict({"task": "capacity", "dataset": {"path": data}, "methods": ["msp"]})
    # no `bias`: the paper's constant for the corpus, by its file name (mixed_text: -24)
    mixed = _jsonl(tmp_path / "mixed_text.jsonl", [{"text": t} for t in texts])
    _, res = _run(tmp_path, tiny_model, out="mixed", task="capacity", dataset={"path": mixed}, params={"max_tokens": 24})
    ref = InformationCapacity(tiny_model, max_tokens=24).measure_source(mixed)
    assert res.metrics["bias"] == ref.bias == -24.0 and res.metrics["bias_source"] == "paper (mixed_text)"
    assert res.metrics["information_capacity"] == pytest.approx(ref.information_capacity, rel=1e-5)


def test_capacity_text_folder_streams_windows(tmp_path, tiny_model):
    from llminfo.analyzers.capacity import InformationCapacity, iter_documents

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("The quick brown fox jumps over the lazy dog.\n" * 6)
    (folder / "b.txt").write_text("One two three four five six seven eight nine ten.\n" * 4)
    _, res = _run(tmp_path, tiny_model, task="capacity", dataset={"path": str(folder)}, params={"max_tokens": 16})
    ref = InformationCapacity(tiny_model, max_tokens=16).measure(iter_documents(str(folder)))
    assert [r["key"] for r in res.rows] == ["a.txt", "b.txt"]
    assert sum(r["samples"] for r in res.rows) == ref.samples > 2  # several windows per file
    assert res.metrics["tokens"] == ref.tokens
    assert res.metrics["information_capacity"] == pytest.approx(ref.information_capacity, rel=1e-5)


def test_input_field_defaults_to_first_declared_field():
    from llminfo.eval.task_capacity import CapacityTask
    from llminfo.eval.task_decoding import TypicalDecodingTask
    from llminfo.eval.task_dispersion import DispersionTask
    from llminfo.eval.task_halting import HaltingTask
    from llminfo.eval.tasks import Task

    class Plain(Task):
        fields = {"prompt": True, "topic": False}

    class Explicit(Plain):
        fields = {"topic": False, "prompt": True}
        input_field = "prompt"

    class Inherits(Plain):  # no own `fields`: keeps the parent's input field
        pass

    assert (Plain.input_field, Explicit.input_field, Inherits.input_field) == ("prompt", "prompt", "prompt")
    assert Task.input_field == ""
    got = {t.name: t.input_field for t in (CapacityTask, TypicalDecodingTask, DispersionTask, HaltingTask)}
    assert got == {"capacity": "text", "typical-decoding": "prompt", "dispersion": "text", "halting": "question"}
