"""`llminfo.eval` on `datasets` objects: a Dataset / DatasetDict from Python, a `save_to_disk`
folder from a config; `RunResult.to_pandas()`. Same rows → same results as the JSONL file."""

from __future__ import annotations

import json

import pytest

datasets = pytest.importorskip("datasets")

from llminfo.eval.config import ConfigError, config_from_dict  # noqa: E402
from llminfo.eval.datasets import load_items, load_rows  # noqa: E402
from llminfo.eval.runner import run_eval  # noqa: E402

ROWS = [
    {"id": f"q{i}", "question": f"Question number {i}?", "answers": ["Paris"], "answer": a}
    for i, a in enumerate(["Paris", "Lyon", "Paris", "Rome", "Nice", "Paris"])
]


@pytest.fixture(scope="module")
def tiny_model():
    from tiny import tiny_hf_model

    return tiny_hf_model(0)


def _config(path, out, **dataset):
    return config_from_dict({
        "task": "qa-hallucination",
        "model": {"name": "unused"},
        "dataset": {"path": str(path), **dataset},
        "methods": ["msp", "perplexity"],
        "params": {"combined": False},
        "report": {"html": False, "bootstrap": 0},
        "output_dir": str(out),
    })


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "config_hash"} for r in rows]


def test_dataset_object_and_saved_folder_give_the_jsonl_results(tmp_path, tiny_model):
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    ref = run_eval(_config(jsonl, tmp_path / "ref"), model=tiny_model, progress=False)

    ds = datasets.Dataset.from_list(ROWS)
    from_obj = run_eval(_config("my-questions", tmp_path / "obj"), model=tiny_model, progress=False, dataset=ds)
    assert _strip(from_obj.rows) == _strip(ref.rows)

    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:2]), "test": ds})
    from_dict = run_eval(_config("my-questions", tmp_path / "dict", split="test"), model=tiny_model, progress=False, dataset=dd)
    assert _strip(from_dict.rows) == _strip(ref.rows)

    dd.save_to_disk(str(tmp_path / "saved"))
    from_disk = run_eval(_config(tmp_path / "saved", tmp_path / "disk", split="test"), model=tiny_model, progress=False)
    assert _strip(from_disk.rows) == _strip(ref.rows)
    ds.save_to_disk(str(tmp_path / "saved_one"))
    assert _strip(run_eval(_config(tmp_path / "saved_one", tmp_path / "one"), model=tiny_model, progress=False).rows) == _strip(ref.rows)

    # Other data under the same config and folder is not mixed in: its fingerprint is in the hash.
    other = datasets.Dataset.from_list([dict(r, answer="Paris") for r in ROWS])
    with pytest.raises(ConfigError, match="different config"):
        run_eval(_config("my-questions", tmp_path / "obj"), model=tiny_model, progress=False, dataset=other)


def test_to_pandas(tmp_path, tiny_model):
    result = run_eval(_config("x", tmp_path / "o"), model=tiny_model, progress=False, dataset=datasets.Dataset.from_list(ROWS))
    df = result.to_pandas()
    assert list(df["key"]) == [r["id"] for r in ROWS]
    assert list(df["scores.msp"]) == [r["scores"]["msp"] for r in result.rows]
    assert list(df["correct"]) == [r["correct"] for r in result.rows]


def test_bad_dataset_inputs_name_the_problem(tmp_path):
    cfg = _config("x", tmp_path / "o", split="validation")
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS)})
    with pytest.raises(ConfigError, match=r"`dataset.split`: .* has no split 'validation'; its splits: train"):
        load_rows(cfg.dataset, dd)
    with pytest.raises(TypeError, match="`dataset` has to be a datasets.Dataset or datasets.DatasetDict, got list"):
        run_eval(cfg, dataset=ROWS, progress=False)
    (tmp_path / "plain").mkdir()
    with pytest.raises(ConfigError, match="is a folder but not one written by `save_to_disk`"):
        load_items(_config(tmp_path / "plain", tmp_path / "o").dataset, {"question": True})
    dd.save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(ConfigError, match="has no split 'validation'"):
        load_rows(_config(tmp_path / "saved", tmp_path / "o", split="validation").dataset)
