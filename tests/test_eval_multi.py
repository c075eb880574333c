"""Multi-model eval runs: `models: [...]` runs each model as its own config, one side-by-side report.

Two tiny random Llamas (different seeds) saved to folders; the qa-hallucination task with given
answers and the white-box methods (no generation), so a run takes a second.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from llminfo.cli import main
from llminfo.eval.config import ConfigError, config_from_dict, load_config, model_slug
from llminfo.eval.runner import METRICS, RESULTS, run_eval


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    from tiny import tiny_llama

    dirs = []
    for seed in (0, 1):
        path = tmp_path_factory.mktemp(f"tiny{seed}")
        model, tok = tiny_llama(seed)
        model.save_pretrained(path)
        tok.save_pretrained(path)
        dirs.append(str(path))
    return dirs


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(1)
    words = ["Paris", "four", "blue", "42", "yes", "no"]
    rows = []
    for i in range(12):
        gold = words[i % len(words)]
        answer = gold if rng.random() < 0.5 else words[(i + 2) % len(words)]
        rows.append({"id": f"q{i}", "question": f"Question {i}?", "answers": [gold], "answer": answer})
    path = tmp_path_factory.mktemp("data") / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _cfg(data_file, out, html=False, **model_keys):
    return {
        "task": "qa-hallucination",
        **model_keys,
        "dataset": {"path": data_file},
        "methods": ["msp", "perplexity"],
        "batch_size": 4,
        "output_dir": str(out),
        "report": {"bootstrap": 20, "html": html},
    }


def _strip(metrics):
    return {k: v for k, v in metrics.items() if k not in ("elapsed_s",)}


def test_each_model_equals_its_own_single_model_run(tmp_path, tiny_dirs, data_file):
    multi = tmp_path / "multi"
    cfg_path = tmp_path / "multi.yaml"
    cfg_path.write_text(yaml.safe_dump(_cfg(data_file, multi, html=True, models=tiny_dirs)))
    assert main(["eval", str(cfg_path), "--no-progress"]) == 0

    top = json.loads((multi / METRICS).read_text())
    assert list(top["models"]) == tiny_dirs
    for name in tiny_dirs:
        sub = multi / model_slug(name)
        assert (sub / RESULTS).is_file() and (sub / "report.html").is_file()
        single = run_eval(config_from_dict(_cfg(data_file, tmp_path / f"single_{model_slug(name)}", model={"name": name})), progress=False)
        assert _strip(top["models"][name]) == _strip(json.loads(json.dumps(single.metrics)))
        # the sub-run has the single-model config's hash: a single-model run can resume it
        assert top["models"][name]["config_hash"] == single.metrics["config_hash"]
    # the two models really differ (random weights): the table is not one model twice
    a, b = (top["models"][n]["methods"]["msp"]["auroc"] for n in tiny_dirs)
    assert a != b

    page = (multi / "report.html").read_text()
    header = page.split("<tr>")[1]
    assert all(name in header for name in tiny_dirs)  # one column per model
    row = next(r for r in page.split("<tr>") if r.startswith("<td>methods.msp.auroc</td>"))
    assert f"{a:.4f}" in row and f"{b:.4f}" in row
    assert page.count("<figure>") >= 2 * 2  # each model's plots (ROC, risk-coverage, ...)
    assert "== " + tiny_dirs[0] in (multi / "summary.txt").read_text()


def test_multi_run_resumes_per_model(tmp_path, tiny_dirs, data_file):
    cfg = config_from_dict(_cfg(data_file, tmp_path / "m", models=tiny_dirs))
    first = run_eval(cfg, progress=False)
    assert first.new_items == 24 and first.resumed_items == 0
    assert {r["model"] for r in first.rows} == set(tiny_dirs)
    again = run_eval(cfg, progress=False)
    assert again.new_items == 0 and again.resumed_items == 24
    for n in tiny_dirs:
        assert again.metrics["models"][n]["methods"] == first.metrics["models"][n]["methods"]


def test_compare_across_models_and_across_multi_runs(tmp_path, tiny_dirs, data_file, capsys):
    out = tmp_path / "cmp"
    res = run_eval(config_from_dict(_cfg(data_file, out, models=tiny_dirs)), progress=False)
    a, b = (out / model_slug(n) for n in tiny_dirs)
    assert main(["eval", "--compare", str(a), str(b)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("methods.msp.auroc "))
    va, vb, delta = (float(t) for t in line.split()[1:4])
    ma, mb = (res.metrics["models"][n]["methods"]["msp"]["auroc"] for n in tiny_dirs)
    assert (va, vb) == pytest.approx((ma, mb), abs=1e-4) and delta == pytest.approx(mb - ma, abs=2e-4)
    # two multi-model runs: keys carry the model name
    assert main(["eval", "--compare", str(out), str(out)]) == 0
    text = capsys.readouterr().out
    assert any(x.startswith(f"models.{tiny_dirs[1]}.methods.msp.auroc") for x in text.splitlines())


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"model": {"name": "default"}, "models": ["default"]}, "`model` and `models` are exclusive"),
        ({"models": []}, "config key `models` has to be a non-empty list"),
        ({"models": "default"}, "config key `models` has to be a non-empty list"),
        ({"models": ["default", "default"]}, "default listed twice"),
        ({"models": ["default", {"name": "x", "backend": "tpu"}]}, "`models[1].backend`"),
        ({"models": ["default", {"nme": "x"}]}, "unknown config key `models[1].nme`"),
    ],
)
def test_bad_models_key_names_it(tmp_path, data_file, keys, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        config_from_dict(_cfg(data_file, tmp_path / "x", **keys))


def test_models_list_does_not_change_single_model_hash(tmp_path, data_file):
    single = config_from_dict(_cfg(data_file, tmp_path / "a", model={"name": "default"}))
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_cfg(data_file, tmp_path / "a", model={"name": "default"})))
    assert load_config(path).config_hash() == single.config_hash()
    from llminfo.eval.config import model_configs

    multi = config_from_dict(_cfg(data_file, tmp_path / "a", models=["default", "gemma3-270m"]))
    subs = model_configs(multi)
    assert [s.model.name for s in subs] == ["default", "gemma3-270m"]
    assert subs[0].config_hash() == single.config_hash()
    assert [s.output_dir for s in subs] == [str(tmp_path / "a" / "default"), str(tmp_path / "a" / "gemma3-270m")]


def test_model_slug():
    assert model_slug("default") == "default"
    assert model_slug("gemma3-270m") == "gemma3-270m"
    assert model_slug("HuggingFaceTB/SmolLM2-360M") == "HuggingFaceTB--SmolLM2-360M"
    assert "/" not in model_slug("/tmp/x/../y") and model_slug("/tmp/x/../y")


def test_set_models_replaces_the_files_model(tmp_path, data_file):
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(_cfg(data_file, tmp_path / "o", model={"name": "default", "backend": "hf"})))
    cfg = load_config(path, ["models=[default, gemma3-270m]"])
    assert [m.name for m in cfg.models] == ["default", "gemma3-270m"]
    with pytest.raises(ConfigError, match="exclusive"):  # both named explicitly: ambiguous
        load_config(path, ["models=[default]", "model.name=default"])
