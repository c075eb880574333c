"""Names written once: eval task names come from the task registry, `flatten` has one home
that the runner and the report share, halting reason codes have names."""

from __future__ import annotations

import pytest

from llminfo.eval import config, tasks
from llminfo.eval.config import ConfigError, config_from_dict


def test_task_names_come_from_the_registry(monkeypatch):
    assert config.TASKS == tuple(tasks.task_names())
    base = {"dataset": {"path": "x.jsonl"}}
    with pytest.raises(ConfigError, match=r"unknown task 'nope'; one of qa-hallucination, .*capacity"):
        config_from_dict({**base, "task": "nope"}, validate_task=False)
    # A task added to the registry is accepted by the config at once (no second list).
    monkeypatch.setitem(tasks._REGISTRY, "toy-task", "llminfo.eval.task_qa:QAHallucinationTask")
    assert "toy-task" in config.TASKS
    assert config_from_dict({**base, "task": "toy-task"}, validate_task=False).task == "toy-task"
    with pytest.raises(ConfigError, match="`task` is required; one of .*toy-task"):
        config_from_dict(base)


def test_flatten_has_one_home():
    from llminfo.eval import report, runner, tables

    assert runner.flatten is tables.flatten is report.flatten
    assert tables.flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": "x"}) == {"a.b": 1, "a.c.d": [1, 2], "e": "x"}


def test_the_report_does_not_import_the_runner():
    import subprocess
    import sys

    code = (
        "import sys, llminfo.eval.report as r; r._metrics_table({'m': {'auroc': 0.5}}); "
        "print('llminfo.eval.runner' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip() == "False"


def test_halting_reason_codes_name_the_reasons():
    from llminfo.processors import halting_core as hc

    codes = [hc.REASON_THINKING, hc.REASON_ENTROPY, hc.REASON_BUDGET, hc.REASON_CLOSED, hc.REASON_EOS, hc.REASON_NOT_STARTED]
    assert [hc.REASONS[c] for c in codes] == ["thinking", "entropy", "budget", "closed", "eos", "not_started"]
    from llminfo.processors import halting_reasons as hr  # the torch-free home the analyzers name them from

    assert hc.REASONS is hr.REASONS
    names = [hr.STILL_THINKING, hr.ENTROPY, hr.BUDGET, hr.CLOSED, hr.EOS, hr.NOT_STARTED]
    assert names == [hc.REASONS[c] for c in codes]


# -- accelerate: device_map ----------------------------------------------------------------


def test_device_map_auto_loads_through_accelerate_and_matches_one_device(tmp_path, monkeypatch):
    import transformers
    from tiny import tiny_llama

    from llminfo import load_model

    model, tok = tiny_llama(0)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    real = transformers.AutoModelForCausalLM.from_pretrained
    seen = []
    monkeypatch.setattr(
        transformers.AutoModelForCausalLM, "from_pretrained", lambda *a, **kw: seen.append(kw.get("device_map")) or real(*a, **kw)
    )
    placed = load_model(str(tmp_path), device_map="auto")  # on this CPU machine: everything on "cpu"
    assert seen == ["auto"]
    assert str(placed.device) == "cpu"
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", real)
    one = load_model(str(tmp_path), device="cpu")
    prompts = ["The quick brown fox", "One two"]
    a = placed.generate(prompts, temperature=0, max_new_tokens=6)
    b = one.generate(prompts, temperature=0, max_new_tokens=6)
    assert [c[0].token_ids for c in a] == [c[0].token_ids for c in b]
    with pytest.raises(ValueError, match="either `device` or `device_map`"):
        load_model(str(tmp_path), device="cpu", device_map="auto")
    with pytest.raises(ValueError, match="`device_map` is for backend 'hf'"):
        load_model(str(tmp_path), backend="vllm", device_map="auto")


def test_device_map_in_a_config_reaches_load_model(monkeypatch):
    from llminfo.eval import runner

    seen = {}
    monkeypatch.setattr("llminfo.models.load_model", lambda *a, **kw: seen.update(kw) or "model")
    cfg = config_from_dict({"task": "qa-hallucination", "dataset": {"path": "x.jsonl"}, "model": {"device_map": "auto"}})
    assert runner.load_model_from_config(cfg) == "model" and seen["device_map"] == "auto"
    plain = config_from_dict({"task": "qa-hallucination", "dataset": {"path": "x.jsonl"}})
    assert plain.config_hash() == cfg.config_hash()  # placement does not change results


def test_py_typed_marker_ships():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert (root / "llminfo" / "py.typed").is_file()
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["llminfo"]
    assert "py.typed" in data
