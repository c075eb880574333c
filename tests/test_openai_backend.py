"""`OpenAIModel` against a local stub server (127.0.0.1) backed by the tiny HF model.

Parity: the stub computes logprobs with a direct forward pass; `OpenAIModel.score` must equal
`HFModel.score` on the same model. Failures: 429/500 are retried (the stub answers
`Retry-After: 0`), persistent ones and a server that is down give one clear error.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

pytest.importorskip("openai")

from openai_stub import StubServer  # noqa: E402

from llminfo import measures  # noqa: E402
from llminfo.models.openai import OpenAIModel, OpenAIServerError  # noqa: E402

PROMPTS = ["The quick brown fox", "What is the capital of France?", "The quick brown fox"]
CONTS = [" jumps over the lazy dog.", " The capital of France is Paris.", " one two"]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory, tiny_model):
    d = tmp_path_factory.mktemp("tiny_tok")
    tiny_model.tokenizer.save_pretrained(d)
    tiny_model.model.config.save_pretrained(d)
    return str(d)


@pytest.fixture()
def stub(tiny_model):
    with StubServer(tiny_model) as s:
        yield s


def make(stub, tok_dir, **kw):
    kw.setdefault("max_retries", 3)
    return OpenAIModel(stub.url, stub.name, tokenizer=tok_dir, **kw)


def test_score_matches_hf_exact_mode(stub, tok_dir, tiny_model):
    m = make(stub, tok_dir, entropy="exact")
    got = m.score(PROMPTS, CONTS)
    ref = tiny_model.score(PROMPTS, CONTS)
    for g, r in zip(got, ref):
        assert g.token_ids == r.token_ids
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=1e-4)
        np.testing.assert_allclose(g.entropy, r.entropy, atol=1e-4)
    assert m.approximations == {}
    # one full-vocabulary distribution per continuation position, never per prompt position
    assert all(b["logprobs"] == -1 and not b.get("echo") and b["max_tokens"] == 1 for b in stub.requests)
    assert sum(len(b["prompt"]) for b in stub.requests) == sum(len(r.token_ids) for r in ref)


def test_topk_entropy_is_a_marked_lower_bound(stub, tok_dir, tiny_model):
    m = make(stub, tok_dir, top_logprobs=3)
    got = m.score(PROMPTS[:2], CONTS[:2])
    ref = tiny_model.score(PROMPTS[:2], CONTS[:2])
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=1e-4)  # logprobs stay exact
        assert all(a <= b + 1e-5 for a, b in zip(g.entropy, r.entropy))
        assert any(a < b - 1e-3 for a, b in zip(g.entropy, r.entropy))
    assert "top-3" in m.approximations["entropy"]


def test_topk_entropy_lower_bound_formula():
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    full = float(measures.entropy(p))
    assert measures.topk_entropy_lower_bound(np.log(p)) == pytest.approx(full)
    lb = measures.topk_entropy_lower_bound(np.log(p[:2]))
    assert lb == pytest.approx(float(measures.entropy([0.5, 0.2, 0.3])))
    assert lb < full


def test_generate_greedy_and_next_token(stub, tok_dir, tiny_model):
    m = make(stub, tok_dir, entropy="exact")
    [[c]] = m.generate([PROMPTS[1]], temperature=0, max_new_tokens=5, seed=3)
    [[h]] = tiny_model.generate([PROMPTS[1]], temperature=0, max_new_tokens=5)
    assert c.token_ids == h.token_ids
    np.testing.assert_allclose(c.model_logprobs, h.model_logprobs, atol=1e-4)
    np.testing.assert_allclose(c.entropy, h.entropy, atol=1e-4)
    cands = [" A", " B", " yes"]
    np.testing.assert_allclose(m.next_token_logprobs(PROMPTS[:2], cands), tiny_model.next_token_logprobs(PROMPTS[:2], cands), atol=1e-4)


def test_per_prompt_seeds_are_sent(stub, tok_dir):
    m = make(stub, tok_dir)
    m.generate(PROMPTS[:2], temperature=0, max_new_tokens=1, seed=[11, 12])
    sent = sorted(b["seed"] for b in stub.requests if not b.get("echo"))
    assert sent == sorted((s * 1_000_003) % 2**62 for s in (11, 12))
    with pytest.raises(ValueError, match="`seed`"):
        m.generate(PROMPTS[:2], max_new_tokens=1, seed=[1])


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried(stub, tok_dir, tiny_model, status):
    m = make(stub, tok_dir, max_concurrency=1)  # top-k mode: one echo request for the pair
    stub.fail_with = [status, status]
    n_before = len(stub.requests)
    [s] = m.score(PROMPTS[:1], CONTS[:1])
    np.testing.assert_allclose(s.logprobs, tiny_model.score(PROMPTS[:1], CONTS[:1])[0].logprobs, atol=1e-4)
    assert len(stub.requests) - n_before == 3  # two failures, then the answer


def test_persistent_errors_give_a_clear_error(stub, tok_dir):
    m = make(stub, tok_dir, max_retries=2)
    stub.fail_with = [500] * 3
    with pytest.raises(OpenAIServerError, match=r"HTTP 500 after retries .*continuations\[0"):
        m.score(PROMPTS[:1], CONTS[:1])
    stub.fail_with = [400]
    with pytest.raises(OpenAIServerError, match="HTTP 400"):
        m.score(PROMPTS[:1], CONTS[:1])


def test_wrong_model_name(stub, tok_dir):
    with pytest.raises(ValueError, match="'nope' is not served .*stub"):
        OpenAIModel(stub.url, "nope", tokenizer=tok_dir)


def test_server_down(tok_dir):
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OpenAIServerError, match=f"cannot reach .*127.0.0.1:{port}"):
        OpenAIModel(f"http://127.0.0.1:{port}/v1", "x", tokenizer=tok_dir, max_retries=1, timeout=5)


@pytest.mark.parametrize("url", ["", "localhost:8000", "ftp://host/v1", "http://", "http://host:99999999/v1"])
def test_bad_url(url, tok_dir):
    with pytest.raises(ValueError, match="base_url"):
        OpenAIModel(url, "x", tokenizer=tok_dir)


def test_bad_arguments(stub, tok_dir):
    with pytest.raises(ValueError, match="`entropy`"):
        make(stub, tok_dir, entropy="approx")
    with pytest.raises(ValueError, match="`max_concurrency`"):
        make(stub, tok_dir, max_concurrency=0)
    with pytest.raises(ValueError, match="tokenizer"):
        OpenAIModel(stub.url, stub.name, tokenizer="/nonexistent/tok")


def test_exact_needs_vllm(tiny_model, tok_dir):
    with StubServer(tiny_model, owned_by="someone") as s:
        with pytest.raises(ValueError, match="entropy='exact'.*not vLLM"):
            OpenAIModel(s.url, s.name, tokenizer=tok_dir, entropy="exact")


def test_processors_need_a_vllm_server(tiny_model, tok_dir):
    with StubServer(tiny_model, owned_by="someone") as s:
        m = OpenAIModel(s.url, s.name, tokenizer=tok_dir)
        with pytest.raises(ValueError, match="not a vLLM server"):
            m.generate(["hi there"], typical_p=0.5, max_new_tokens=2)


def test_bounded_concurrency(stub, tok_dir):
    import threading
    import time

    live, peak = [0], [0]
    lock = threading.Lock()
    orig = stub.complete

    def slow(body):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        try:
            return orig(body)
        finally:
            with lock:
                live[0] -= 1

    stub.complete = slow
    m = make(stub, tok_dir, max_concurrency=2)
    m.generate(["hi there"] * 6, temperature=0, max_new_tokens=1)
    assert peak[0] == 2


def test_cli_score_through_the_stub(tiny_model, tok_dir, tmp_path, capsys):
    import json

    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "question": q, "answer": a}) + "\n"
                           for i, (q, a) in enumerate([("Who?", "Paris"), ("What is it?", "one two")])))
    with StubServer(tiny_model, name=tok_dir) as s:
        rc = main(["score", str(src), "--output", str(tmp_path / "o.jsonl"), "--methods", "msp,mean_entropy",
                   "--no-progress", "--backend", "openai", "--base-url", s.url, "--model", tok_dir])
    assert rc == 0
    rows = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    ref = HallucinationScorer(["msp", "mean_entropy"]).score(tiny_model, [{"question": "Who?", "answer": "Paris"},
                                                                          {"question": "What is it?", "answer": "one two"}])
    for row, r in zip(rows, ref):
        assert row["scores"]["msp"] == pytest.approx(r.scores["msp"], abs=1e-4)
        assert row["scores"]["mean_entropy"] <= r.scores["mean_entropy"] + 1e-5  # top-20 lower bound
        assert row["approximations"]["entropy"].startswith("top-20")
    common = [str(src), "--output", str(tmp_path / "x.jsonl"), "--methods", "msp", "--model", tok_dir]
    assert main(["score", *common, "--base-url", "http://127.0.0.1:1/v1"]) == 2
    assert "--base-url is for --backend openai" in capsys.readouterr().err
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    assert main(["score", *common, "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach" in err and len(err.strip().splitlines()) == 1
