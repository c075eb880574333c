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
