"""`llminfo generate` / `llminfo models` through main() on a tiny model folder."""

from __future__ import annotations

import json

import pytest

from llminfo.cli import main


def test_generate_json_contract(tiny_model_dir, capsys):
    assert main(["generate", "The quick brown", "--model", tiny_model_dir, "-n", "2", "--max-new-tokens", "5", "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["completions"]) == 2
    for c in out["completions"]:
        assert len(c["token_ids"]) == len(c["logprobs"]) == len(c["entropy"]) <= 5
        assert all(lp <= 0 for lp in c["logprobs"]) and all(h >= 0 for h in c["entropy"])


def test_generate_table(tiny_model_dir, capsys):
    assert main(["generate", "hi", "--chat", "--model", tiny_model_dir, "--max-new-tokens", "4", "--temperature", "0"]) == 0
    out = capsys.readouterr().out
    assert "logprob" in out and "entropy" in out and "finish:" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["generate", "x", "-n", "0"], "-n has to be an integer >= 1, got 0"),
        (["generate", "x", "--max-new-tokens", "-3"], "--max-new-tokens has to be"),
        (["generate", "x", "--top-p", "2"], "--top-p has to be in (0, 1]"),
        (["generate", "x", "--typical-p", "0"], "--typical-p has to be"),
        (["generate", "x", "--temperature", "-1"], "--temperature has to be"),
        # sampling flags are checked before the model loads: the bad flag is named, not the model
        (["generate", "x", "--top-k", "-1", "--model", "/no/such/model"], "--top-k has to be"),
        (["generate", "x", "--model", "/no/such/model"], "does not exist"),
    ],
)
def test_generate_bad_arguments_exit_2(tiny_model_dir, capsys, argv, needle):
    if "--model" not in argv:
        argv = argv + ["--model", tiny_model_dir]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_models_json(tiny_model_dir, capsys):
    assert main(["models", "--model", tiny_model_dir, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"]["num_layers"] == 2 and "cache_dir" in info
