"""Docstring examples are run (doctest, with `...` allowed for long floats).

Modules whose examples need no model run in every test session; those that load the
embedded default model are integration tests. vLLM modules' examples need an engine and are
covered by the vLLM tests instead.
"""

from __future__ import annotations

import doctest
import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

NO_MODEL = [
    "llminfo.measures.core",
    "llminfo.measures.hallucination",
    "llminfo.measures.halting",
    "llminfo.measures.typical",
    "llminfo.measures.decoding",
    "llminfo.measures.dispersion",
    "llminfo.measures.capacity",
    "llminfo.text",
    "llminfo.data",
    "llminfo.eval.metrics",
    "llminfo.eval.tables",
    "llminfo.eval.tasks",
    "llminfo.eval.config",
    "llminfo.eval.datasets",
    "llminfo.eval.report",
    "llminfo.analyzers.registry",
    "llminfo.analyzers.calibration",
    "llminfo.analyzers.clustering",
    "llminfo.analyzers.flops",
    "llminfo.analyzers.p_true_few_shot",
    "llminfo.processors.halting_reasons",
    "llminfo.analyzers.halting_answers",
    "llminfo.models.hf_score",
]

WITH_MODEL = [
    "llminfo.eval",
    "llminfo.analyzers.base",
    "llminfo.analyzers.sample_cache",
    "llminfo.analyzers.baselines",
    "llminfo.analyzers.semantic_entropy",
    "llminfo.analyzers.iterative_mi",
    "llminfo.analyzers.edfl",
    "llminfo.analyzers.scorer",
    "llminfo.analyzers.decoding",
    "llminfo.analyzers.adaptive_think",
    "llminfo.analyzers.capacity",
    "llminfo.analyzers.dispersion",
    "llminfo.models.hf",
    "llminfo.models.hf_attention",
    "llminfo.models.loading",
    "llminfo.processors.typical",
    "llminfo.processors.halting",
]

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_doctests(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every example of module `name`; fail with doctest's report if one fails."""
    module = importlib.import_module(name)
    # Examples name repo files (eval_configs/...) and may write outputs (runs/...): run them in
    # a scratch folder that sees the repo's configs.
    os.symlink(ROOT / "eval_configs", tmp_path / "eval_configs")
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has no docstring examples"
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("name", NO_MODEL)
def test_docstring_examples(name, tmp_path, monkeypatch):
    run_doctests(name, tmp_path, monkeypatch)


@pytest.mark.integration
@pytest.mark.parametrize("name", WITH_MODEL)
def test_docstring_examples_with_the_default_model(name, tmp_path, monkeypatch):
    run_doctests(name, tmp_path, monkeypatch)
