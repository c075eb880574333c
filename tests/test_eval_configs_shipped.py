"""Every config shipped in eval_configs/ validates against the schema and its dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from llminfo.cli import main

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "eval_configs").glob("*.yaml"))


def test_quickstart_and_qa_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {"quickstart.yaml", "qa_hallucination.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_config_validates(path, capsys):
    code = main(["eval", "--validate", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "OK" in captured.out and "items" in captured.out
