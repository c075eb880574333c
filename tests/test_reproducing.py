"""REPRODUCING.md and its configs: every seed paper has a hub-dataset config and a shipped one;
the hub configs' field mappings work on fixtures shaped like the hub rows (no hub here); the
shipped configs run end to end on a few items."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from llminfo.eval.config import config_from_dict
from llminfo.eval.runner import run_eval
from llminfo.eval.tasks import get_task

ROOT = Path(__file__).resolve().parent.parent
REPRO = ROOT / "eval_configs" / "reproduce"
HUB = Path(__file__).resolve().parent / "fixtures" / "hub"
ROWS = ["Locally typical sampling", "Think or Not?", "Semantic entropy", "iterative prompting", "EDFL", "Bayesian, in Expectation", "Information capacity"]


def _raw(name: str) -> dict:
    return yaml.safe_load((REPRO / name).read_text())


def _table_rows() -> list[str]:
    text = (ROOT / "REPRODUCING.md").read_text()
    return [line for line in text.splitlines() if line.startswith("| ") and "eval_configs/reproduce/" in line]


def test_every_seed_paper_has_a_row_with_a_hub_and_a_shipped_config():
    rows = _table_rows()
    for paper in ROWS:
        [row] = [r for r in rows if paper in r]
        configs = re.findall(r"eval_configs/reproduce/([\w.]+\.yaml)", row)
        assert any(c.endswith("_shipped.yaml") for c in configs) and any(not c.endswith("_shipped.yaml") for c in configs), paper
        for c in configs:
            assert (REPRO / c).is_file(), c
            config_from_dict(_raw(c))  # schema, task params and methods validate


def _items(name: str, fixture: str, monkeypatch=None) -> list[dict]:
    raw = _raw(name)
    raw["dataset"] = {**raw["dataset"], "path": str(HUB / fixture)}
    raw["dataset"].pop("name", None)
    raw["dataset"].pop("split", None)
    cfg = config_from_dict(raw)
    return get_task(cfg.task)(cfg).load_items()


def test_hub_field_mappings_on_fixtures_shaped_like_the_hub_rows(monkeypatch):
    from llminfo.analyzers.adaptive_think import gold_answer, is_correct

    monkeypatch.chdir(ROOT)  # tasks_file paths are relative to the repository root
    gsm = _items("halting_gsm8k.yaml", "gsm8k.jsonl")
    assert gsm[0]["question"].startswith("Natalia sold clips") and gold_answer(gsm[0]["answer"]) == "72"
    assert is_correct("72", gsm[0]["answer"]) and not is_correct("24", gsm[0]["answer"])
    svamp = _items("halting_svamp.yaml", "svamp.jsonl")
    assert svamp[0]["question"] == "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack How much do you have to pay to buy each pack?"
    assert is_correct("51", svamp[0]["answer"])
    tqa = _items("se_triviaqa.yaml", "trivia_qa.jsonl")
    assert tqa[0]["answers"] == ["Sunset Blvd", "Sunset Boulevard", "West Sunset Boulevard"] and tqa[1]["question"].startswith("Who was the man")
    assert _items("mi_triviaqa.yaml", "trivia_qa.jsonl")[1]["answers"] == ["David Seville", "Ross Bagdasarian"]
    nq = _items("edfl_nq_open.yaml", "nq_open.jsonl")
    assert nq[1]["answers"] == ["Bobby Scott", "Bob Russell"]
    wp = _items("typical_writingprompts.yaml", "writingprompts.jsonl")
    assert wp[2]["prompt"].startswith("[ WP ] The last library")
    mixed = _items("capacity_mixed_text.yaml", "mixed_text.jsonl")
    assert len(mixed) == 3 and mixed[1]["text"].startswith("def fibonacci")


def test_sst2_rows_map_to_label_strings(monkeypatch):
    monkeypatch.chdir(ROOT)
    raw = _raw("dispersion_sst2.yaml")
    raw["dataset"] = {**raw["dataset"], "path": str(HUB / "sst2.jsonl")}
    raw["dataset"].pop("split")
    raw["params"] = {**raw["params"], "n_examples": [2, 4]}
    task = get_task("dispersion")(config_from_dict(raw))
    assert task.icl.labels == ["negative", "positive"]
    assert task.pool[0] == ("it 's a charming and often affecting journey . ", "positive") and task.pool[1][1] == "negative"


def test_mixed_text_gets_the_papers_bias(tiny_model, tmp_path, monkeypatch):
    raw = _raw("capacity_mixed_text.yaml")
    raw["dataset"]["path"] = str(HUB / "mixed_text.jsonl")
    raw.update(output_dir=str(tmp_path / "cap"), report={"bootstrap": 0})
    raw["params"]["max_tokens"] = 32
    res = run_eval(config_from_dict(raw), progress=False, model=tiny_model)
    assert res.metrics["bias"] == -24.0 and res.metrics["bias_source"] == "paper (mixed_text)"


SHIPPED = sorted(p.name for p in REPRO.glob("*_shipped.yaml"))
# heavy knobs cut for CI: the protocol is the config's, the sizes are not
_SMALL = {"max_new_tokens": 8, "max_thinking_tokens": 12, "max_tokens": 32, "max_samples": 2, "num_samples": 2,
          "orderings": 3, "n_examples": [2, 3], "queries": 2}


def _shrink(d: dict) -> dict:
    return {k: (_SMALL[k] if k in _SMALL else v) for k, v in d.items()}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_runs_on_two_items(name, tiny_model, tmp_path):
    raw = _raw(name)
    raw["dataset"] = {**raw["dataset"], "limit": 2}
    raw["params"] = _shrink(raw.get("params") or {})
    raw["methods"] = [_shrink(m) if isinstance(m, dict) else m for m in raw.get("methods") or []] or None
    raw.update(output_dir=str(tmp_path / "run"), report={"bootstrap": 0})
    if raw["methods"] is None:
        raw.pop("methods")
    res = run_eval(config_from_dict(raw), progress=False, model=tiny_model)
    assert res.metrics and (res.output_dir / "metrics.json").is_file()
