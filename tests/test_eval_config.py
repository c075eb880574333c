"""Config validation, dataset loading and `llminfo eval` user errors (exit code 2, one line)."""

from __future__ import annotations

import json

import pytest
import yaml

from llminfo.cli import main
from llminfo.eval.config import ConfigError, DatasetConfig, config_from_dict, load_config
from llminfo.eval.datasets import load_items

ROWS = [
    {"id": "a", "q": "What is the capital of France?", "aliases": ["Paris"], "topic": "capitals"},
    {"id": "b", "q": "How many legs does a dog have?", "aliases": ["4", "four"], "topic": "animals"},
    {"id": "c", "q": "What is 2 + 3?", "aliases": ["5"], "topic": "arithmetic"},
]


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "qa.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return p


def _config(tmp_path, data_file, **over):
    cfg = {
        "task": "qa-hallucination",
        "model": {"name": "default"},
        "dataset": {"path": str(data_file), "fields": {"question": "q", "answers": "aliases"}},
        "methods": ["msp", {"name": "perplexity"}],
        "output_dir": str(tmp_path / "run"),
    }
    for k, v in over.items():
        cfg[k] = v
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_valid_config_parses_and_validates(tmp_path, data_file, capsys):
    path = _config(tmp_path, data_file)
    cfg = load_config(path)
    assert [m.name for m in cfg.methods] == ["msp", "perplexity"]
    assert cfg.dataset.fields == {"question": "q", "answers": "aliases"}
    assert main(["eval", "--validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "3 items" in out


def _run_cli_error(args, capsys) -> str:
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one clear line, no traceback
    return err


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c, d: c.update(datset={"path": "x"}), ["unknown config key `datset`", "did you mean `dataset`"]),
        (lambda c, d: c["dataset"].update(limt=3), ["`dataset.limt`", "did you mean `limit`"]),
        (lambda c, d: c.update(seed="zero"), ["`seed`", "integer", "'zero'"]),
        (lambda c, d: c["dataset"].update(limit=2.5), ["`dataset.limit`", "integer"]),
        (lambda c, d: c["model"].update(backend="onnx"), ["`model.backend`", "hf, vllm", "'onnx'"]),
        (lambda c, d: c.update(task="summarise"), ["`task`", "qa-hallucination", "capacity"]),
        (lambda c, d: c["dataset"].update(path=str(d) + ".missing.jsonl"), ["`dataset.path`", "not found"]),
        (lambda c, d: c["dataset"]["fields"].update(question="prompt"), ["`dataset.fields.question`", "'prompt'", "id, q, aliases, topic"]),
        (lambda c, d: c["dataset"].update(fields={}), ["`dataset.fields.question`", "'question' not in the dataset"]),
        (lambda c, d: c.update(methods=["msp", "telepathy"]), ["`methods[1]`", "'telepathy'", "msp", "semantic_entropy"]),
        (lambda c, d: c.update(methods=[{"name": "semantic_entropy", "num_sample": 3}]), ["`methods[0]", "num_sample", "num_samples"]),
        (lambda c, d: c.update(metrics=["auroc", "f1"]), ["`metrics`", "'f1'", "prr"]),
        (lambda c, d: c.update(params={"max_tokens": 3}), ["`params.max_tokens`", "max_new_tokens"]),
        (lambda c, d: c.update(matcher={"name": "regex"}), ["`matcher.name`", "alias, exact, f1"]),
    ],
    ids=["unknown-key", "unknown-nested-key", "wrong-type", "float-for-int", "bad-choice", "unknown-task",
         "missing-file", "missing-column", "missing-default-column", "unknown-method", "unknown-method-param",
         "unknown-metric", "unknown-param", "unknown-matcher"],
)
def test_bad_config_one_clear_message_exit_2(tmp_path, data_file, capsys, change, expected, validate):
    cfg = yaml.safe_load(_config(tmp_path, data_file).read_text())
    change(cfg, data_file)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    err = _run_cli_error(["eval", "--validate", str(path)] if validate else ["eval", str(path), "--no-progress"], capsys)
    for piece in expected:
        assert piece in err, err
    assert not (tmp_path / "run" / "results.jsonl").exists()


def test_bad_yaml_and_missing_config(tmp_path, data_file, capsys):
    good = _config(tmp_path, data_file)
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: [unclosed\n")
    assert "not valid YAML" in _run_cli_error(["eval", str(bad)], capsys)
    assert "not found" in _run_cli_error(["eval", str(tmp_path / "nope.yaml")], capsys)
    assert "expected key=value" in _run_cli_error(["eval", str(good), "--set", "novalue"], capsys)
    assert "not a mapping" in _run_cli_error(["eval", str(good), "--set", "output_dir.x=1"], capsys)


def test_set_overrides_and_hash(tmp_path, data_file):
    path = _config(tmp_path, data_file)
    base = load_config(path)
    over = load_config(path, ["dataset.limit=2", "seed=3", "methods=[msp]", "report.bootstrap=0"])
    assert over.dataset.limit == 2 and over.seed == 3 and [m.name for m in over.methods] == ["msp"]
    # Limit, output place and report options do not change per-item results: same hash.
    assert load_config(path, ["dataset.limit=1", "output_dir=/tmp/x", "report.bootstrap=5"]).config_hash() == base.config_hash()
    assert load_config(path, ["seed=1"]).config_hash() != base.config_hash()
    assert load_config(path, ["methods=[msp]"]).config_hash() != base.config_hash()


def test_method_forms(tmp_path, data_file):
    raw = yaml.safe_load(_config(tmp_path, data_file).read_text())
    raw["methods"] = ["msp", {"name": "semantic_entropy", "num_samples": 3}, {"discrete_semantic_entropy": {"num_samples": 3}}]
    cfg = config_from_dict(raw)
    assert [(m.name, m.params) for m in cfg.methods] == [
        ("msp", {}), ("semantic_entropy", {"num_samples": 3}), ("discrete_semantic_entropy", {"num_samples": 3})]
    raw["methods"] = ["msp", "msp"]
    with pytest.raises(ConfigError, match="listed twice"):
        config_from_dict(raw)


FIELDS = {"question": True, "answers": True}


def test_items_mapping_limit_shuffle_template(data_file):
    base = DatasetConfig(path=str(data_file), fields={"question": "q", "answers": "aliases"})
    items = load_items(base, FIELDS)
    assert [it["key"] for it in items] == ["a", "b", "c"]
    assert items[1]["question"] == ROWS[1]["q"] and items[1]["answers"] == ["4", "four"]
    lim = load_items(DatasetConfig(**{**base.__dict__, "limit": 2}), FIELDS)
    assert [it["key"] for it in lim] == ["a", "b"]
    sh = [load_items(DatasetConfig(**{**base.__dict__, "shuffle": True}), FIELDS, seed=s) for s in (0, 0, 1, 2, 3)]
    assert [i["key"] for i in sh[0]] == [i["key"] for i in sh[1]]  # deterministic with the seed
    assert sorted(i["key"] for i in sh[2]) == ["a", "b", "c"]
    assert len({tuple(i["key"] for i in s) for s in sh}) > 1
    fmt = load_items(DatasetConfig(**{**base.__dict__, "template": "[{topic}] {question}"}), FIELDS, input_field="question")
    assert fmt[0]["question"] == "[capitals] " + ROWS[0]["q"]
    jin = load_items(DatasetConfig(**{**base.__dict__, "template": "{{ topic | upper }}: {{ q }}"}), FIELDS, input_field="question")
    assert jin[2]["question"] == "ARITHMETIC: " + ROWS[2]["q"]


def test_template_errors_name_row_and_key(data_file):
    base = dict(path=str(data_file), fields={"question": "q", "answers": "aliases"})
    with pytest.raises(ConfigError, match=r"dataset row 0.*missing_col"):
        load_items(DatasetConfig(**base, template="{missing_col} {q}"), FIELDS, input_field="question")
    with pytest.raises(ConfigError, match=r"dataset row 0.*nope"):
        load_items(DatasetConfig(**base, template="{{ nope }}"), FIELDS, input_field="question")
    with pytest.raises(ConfigError, match="dataset.template"):
        load_items(DatasetConfig(**base, template="{{ unclosed"), FIELDS, input_field="question")


def test_csv_duplicate_ids_and_empty_required(tmp_path):
    csv = tmp_path / "qa.csv"
    csv.write_text("id,question,answers\nx,What is 1+1?,2\ny,What is 2+2?,4\n")
    items = load_items(DatasetConfig(path=str(csv)), FIELDS)
    assert [(i["key"], str(i["answers"])) for i in items] == [("x", "2"), ("y", "4")]
    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps({"id": 1, "question": "a", "answers": ["b"]}) + "\n" + json.dumps({"id": 1, "question": "c", "answers": ["d"]}) + "\n")
    with pytest.raises(ConfigError, match="dataset row 1: id '1' repeats"):
        load_items(DatasetConfig(path=str(dup)), FIELDS)
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"question": "a", "answers": ["b"]}) + "\n" + json.dumps({"question": "", "answers": ["d"]}) + "\n")
    with pytest.raises(ConfigError, match="dataset row 1: required field 'question'"):
        load_items(DatasetConfig(path=str(empty)), FIELDS)
    assert [i["key"] for i in load_items(DatasetConfig(path=str(empty), limit=1), FIELDS)] == ["row-0"]


def test_jsonl_line_with_invalid_utf8_is_reported_and_the_others_kept(tmp_path, capsys):
    fields = {"question": "q", "answers": "aliases"}
    bad = b'{"id": "x", "q": "Caf\xe9?", "aliases": ["y"]}'  # Latin-1 e-acute: not UTF-8
    lines = [json.dumps(r).encode() for r in ROWS]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"\n".join([lines[0], bad, *lines[1:]]) + b"\n")
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"\n".join(lines) + b"\n")
    got = load_items(DatasetConfig(path=str(mixed), fields=fields), FIELDS)
    want = load_items(DatasetConfig(path=str(clean), fields=fields), FIELDS)
    assert [it["key"] for it in got] == ["a", "b", "c"]
    assert got == want  # the good lines load exactly as from a file without the bad one
    err = capsys.readouterr().err
    assert f"{mixed}: line 2: invalid UTF-8 (byte 0xe9 at column 22)" in err
    assert err.count("skipping bad row") == 1
    only_bad = tmp_path / "only_bad.jsonl"
    only_bad.write_bytes(bad + b"\n")
    with pytest.raises(ConfigError, match="has no rows"):
        load_items(DatasetConfig(path=str(only_bad), fields=fields), FIELDS)
    assert f"{only_bad}: line 1: invalid UTF-8" in capsys.readouterr().err


def test_shipped_dataset_prefix():
    pytest.importorskip("llminfo.data", reason="llminfo.data not written yet")
    from llminfo.data import data_path

    try:
        data_path("factual_qa.jsonl")
    except Exception:
        pytest.skip("factual_qa.jsonl not shipped yet")
    items = load_items(DatasetConfig(path="llminfo:factual_qa", limit=4), FIELDS)
    assert len(items) == 4 and all(isinstance(i["answers"], list) for i in items)
    with pytest.raises(ConfigError, match="dataset.path"):
        load_items(DatasetConfig(path="llminfo:no_such_dataset"), FIELDS)
