"""`OpenAIModel` and `llminfo score --backend openai` against a real CPU vLLM OpenAI server.

ONE server per module (engine start 25-45 s on an idle machine, more when shared), on
127.0.0.1, serving the embedded default model as "default" with `--max-logprobs -1` (for the
exact-entropy mode); llminfo's processors come in through its `vllm.logits_processors` entry
points. Parity with the in-process HF backend uses the vLLM parity tests' tolerance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("vllm")
pytest.importorskip("openai")
pytestmark = [pytest.mark.vllm, pytest.mark.integration]

from llminfo.cli import main  # noqa: E402
from llminfo.models.openai import OpenAIModel  # noqa: E402
from vllm_server import vllm_server  # noqa: E402

TOL = 1e-3  # as tests/test_vllm_backend.py
QUESTIONS = ["What is the capital of France?", "Who wrote Hamlet?"]
ANSWERS = ["Paris", "William Shakespeare"]
START_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from llminfo.models.default import default_model_dir

    log = tmp_path_factory.mktemp("vllm_server") / "server.log"
    args = ["--model", str(default_model_dir()), "--served-model-name", "default", "--dtype", "float32",
            "--max-model-len", "2048", "--enforce-eager", "--max-logprobs", "-1", "--seed", "0"]
    with vllm_server(args, log, timeout_s=START_TIMEOUT_S) as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def exact(server):
    return OpenAIModel(server, "default", entropy="exact")


def test_score_matches_hf(exact, default_model):
    prompts = [default_model.chat(q) for q in QUESTIONS]
    got = exact.score(prompts, ANSWERS)
    ref = default_model.score(prompts, ANSWERS)
    for g, r in zip(got, ref):
        assert g.token_ids == r.token_ids
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=TOL)
        np.testing.assert_allclose(g.entropy, r.entropy, atol=TOL)
    assert exact.is_vllm and exact.approximations == {}


def test_topk_mode_exact_logprobs_lower_entropy(server, default_model):
    m = OpenAIModel(server, "default", top_logprobs=5)
    prompts = [default_model.chat(q) for q in QUESTIONS]
    for g, r in zip(m.score(prompts, ANSWERS), default_model.score(prompts, ANSWERS)):
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=TOL)
        assert all(a <= b + TOL for a, b in zip(g.entropy, r.entropy))
    assert "top-5" in m.approximations["entropy"]


def test_generate_greedy_and_typical_through_processors(server, exact, default_model):
    prompt = default_model.chat(QUESTIONS[0])
    [[c]] = exact.generate([prompt], temperature=0, max_new_tokens=4)
    [[h]] = default_model.generate([prompt], temperature=0, max_new_tokens=4)
    assert c.token_ids == h.token_ids and c.text == h.text
    np.testing.assert_allclose(c.model_logprobs, h.model_logprobs, atol=TOL)
    np.testing.assert_allclose(c.entropy, h.entropy, atol=TOL)
    # typical_p goes to llminfo's vLLM processor as vllm_xargs; seeded samples repeat
    topk = OpenAIModel(server, "default", top_logprobs=1)
    a = topk.generate([prompt], n=2, temperature=1.0, typical_p=0.5, max_new_tokens=4, seed=[3])
    b = topk.generate([prompt], n=2, temperature=1.0, typical_p=0.5, max_new_tokens=4, seed=3)
    assert [x.token_ids for x in a[0]] == [x.token_ids for x in b[0]]


def test_cli_score_backend_openai(server, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "question": q, "answer": a}) + "\n"
                           for i, (q, a) in enumerate(zip(QUESTIONS, ANSWERS))))
    common = [str(src), "--methods", "msp,mean_entropy", "--no-progress", "--model", "default"]
    assert main(["score", *common, "--output", str(tmp_path / "oa.jsonl"), "--backend", "openai", "--base-url", server]) == 0
    assert main(["score", *common, "--output", str(tmp_path / "hf.jsonl")]) == 0
    oa = [json.loads(x) for x in (tmp_path / "oa.jsonl").read_text().splitlines()]
    hf = [json.loads(x) for x in (tmp_path / "hf.jsonl").read_text().splitlines()]
    for o, h in zip(oa, hf):
        assert o["id"] == h["id"]
        assert o["scores"]["msp"] == pytest.approx(h["scores"]["msp"], abs=5 * TOL)
        # default entropy mode is the top-20 lower bound, marked in every row
        assert o["approximations"]["entropy"].startswith("top-20")
        assert o["scores"]["mean_entropy"] <= h["scores"]["mean_entropy"] + TOL
    assert main(["score", *common, "--output", str(tmp_path / "x.jsonl"), "--backend", "openai"]) == 2
    assert "--base-url" in capsys.readouterr().err
