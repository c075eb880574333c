"""VLLMModel: parity with HFModel on the embedded model, the entropy recorder, errors.

One engine per session (`vllm_model` fixture). Both backends run the model in float32 on
CPU; measured differences between them are <= 3e-5 nats (different attention / matmul
kernels, summation order). TOL = 1e-3 nats leaves a 30x margin yet is far below any
difference that matters to a score (bf16 weights would differ by ~1e-2).
"""

from __future__ import annotations

import math
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("vllm")
pytestmark = [pytest.mark.vllm, pytest.mark.integration]

from llminfo import measures  # noqa: E402
from llminfo.processors import vllm_entropy as ve  # noqa: E402

TOL = 1e-3
QUESTIONS = ["What is the capital of France?", "Name a prime number.", "Who wrote Hamlet?"]


@pytest.fixture(scope="module")
def prompts(vllm_model):
    return [vllm_model.chat(q) for q in QUESTIONS]


def _first_step_logits(hf, prompt: str) -> torch.Tensor:
    """Raw next-token logits after `prompt`, by a direct transformers forward pass."""
    ids = torch.tensor([hf.encode_prompt(prompt)])
    with torch.inference_mode():
        return hf.model(input_ids=ids).logits[0, -1].float()


# -- parity with HF ---------------------------------------------------------------------


def test_greedy_generate_matches_hf(vllm_model, default_model, prompts):
    gv = vllm_model.generate(prompts, temperature=0, max_new_tokens=12)
    gh = default_model.generate(prompts, temperature=0, max_new_tokens=12)
    for [v], [h] in zip(gv, gh):
        k = min(8, len(h.token_ids))
        assert v.token_ids[:k] == h.token_ids[:k]
        np.testing.assert_allclose(v.entropy[:k], h.entropy[:k], atol=TOL)
        np.testing.assert_allclose(v.logprobs[:k], h.logprobs[:k], atol=TOL)
        np.testing.assert_allclose(v.model_logprobs[:k], h.model_logprobs[:k], atol=TOL)
        if v.token_ids == h.token_ids:
            assert v.text == h.text and v.finish_reason == h.finish_reason


def test_score_matches_hf_including_shared_prompts(vllm_model, default_model, prompts):
    ps = [prompts[0], prompts[0], prompts[1], "", prompts[0]]  # the last pair repeats the first
    cs = [" Paris is the capital of France.", " Lyon", " 7", "Once upon a time", " Paris is the capital of France."]
    sv, sh = vllm_model.score(ps, cs), default_model.score(ps, cs)
    for v, h in zip(sv, sh):
        assert v.token_ids == h.token_ids
        np.testing.assert_allclose(v.logprobs, h.logprobs, atol=TOL)
        np.testing.assert_allclose(v.entropy, h.entropy, atol=TOL)
    # prompt_logprobs path, reading the prefix cache: the second call finds prompt AND
    # continuation cached and must fall back to a run without the cache
    for _ in range(2):
        fast = vllm_model.score(ps + ps[:1], cs + cs[:1], entropy=False)
        for f, v in zip(fast, sv + sv[:1]):
            assert f.token_ids == v.token_ids
            np.testing.assert_allclose(f.logprobs, v.logprobs, atol=TOL)
            assert all(math.isnan(e) for e in f.entropy)
    assert vllm_model.score([prompts[0]], [""])[0].token_ids == []


def test_score_ids_scores_the_given_ids(vllm_model, default_model):
    """Information capacity scores token ids as given (no text round trip): same as a direct
    HF forward pass on those ids."""
    ids = default_model.tokenizer("The lighthouse keeper climbed the stairs every night.")["input_ids"]
    [lv] = vllm_model.score_ids([ids])
    with torch.inference_mode():
        logp = torch.log_softmax(default_model.model(input_ids=torch.tensor([ids])).logits[0, :-1].float(), -1)
    ref = logp.gather(1, torch.tensor(ids[1:])[:, None])[:, 0].numpy()
    np.testing.assert_allclose(lv, ref, atol=TOL)


def test_score_entropy_equals_direct_forward(vllm_model, default_model, prompts):
    """First continuation position: entropy and logprob of the raw logits, computed here."""
    logits = _first_step_logits(default_model, prompts[2])
    [s] = vllm_model.score([prompts[2]], [" Shakespeare"])
    logp = torch.log_softmax(logits, -1)
    assert s.logprobs[0] == pytest.approx(float(logp[s.token_ids[0]]), abs=TOL)
    assert s.entropy[0] == pytest.approx(float(measures.entropy_from_logits(logits)), abs=TOL)


def test_next_token_logprobs_match_hf_and_rank_alike(vllm_model, default_model, prompts):
    cands = ["A", "B", "The", "Paris", "I"]
    nv = vllm_model.next_token_logprobs(prompts, cands)
    nh = default_model.next_token_logprobs(prompts, cands)
    assert nv.shape == (len(prompts), len(cands))
    np.testing.assert_allclose(nv, nh, atol=TOL)
    assert (np.argsort(-nv, axis=1) == np.argsort(-nh, axis=1)).all()
    multi = [" Paris, France", " Lyon"]  # multi-token: scored in full
    mv = vllm_model.next_token_logprobs(prompts[:1], multi)
    mh = default_model.next_token_logprobs(prompts[:1], multi)
    np.testing.assert_allclose(mv, mh, atol=2 * TOL)


def test_chat_and_describe_match_hf(vllm_model, default_model):
    assert vllm_model.chat("Hi", system="Be brief.") == default_model.chat("Hi", system="Be brief.")
    dv, dh = vllm_model.describe().to_dict(), default_model.describe().to_dict()
    for key in ("vocab_size", "num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim",
                "intermediate_size", "tie_word_embeddings", "num_parameters"):
        assert dv[key] == dh[key], key
    assert dv["backend"] == "vllm" and dv["max_context"] == 2048


# -- sampling ---------------------------------------------------------------------------


def test_sampling_logprobs_are_processed_and_entropy_raw(vllm_model, default_model, prompts):
    """Token 0 of every sample: `logprobs` under softmax(top-k(z / T)), `entropy` and
    `model_logprobs` under softmax(z), z the raw logits from a direct forward pass."""
    temperature, top_k = 0.7, 20
    [samples] = vllm_model.generate(prompts[:1], n=4, seed=3, temperature=temperature, top_k=top_k, max_new_tokens=5)
    z = _first_step_logits(default_model, prompts[0])
    scaled = z / temperature
    kth = torch.topk(scaled, top_k).values[-1]
    processed = torch.log_softmax(torch.where(scaled >= kth, scaled, torch.tensor(-math.inf)), -1)
    raw = torch.log_softmax(z, -1)
    h0 = float(measures.entropy_from_logits(z))
    assert len(samples) == 4
    for c in samples:
        t = c.token_ids[0]
        assert len(c.logprobs) == len(c.entropy) == len(c.model_logprobs) == len(c.token_ids)
        assert c.logprobs[0] == pytest.approx(float(processed[t]), abs=TOL)
        assert c.model_logprobs[0] == pytest.approx(float(raw[t]), abs=TOL)
        assert c.entropy[0] == pytest.approx(h0, abs=TOL)
        # later positions: model_logprobs agree with teacher-forced scoring of the same tokens
        [s] = default_model.score(prompts[:1], [default_model.tokenizer.decode(c.token_ids)])
        if s.token_ids == c.token_ids:
            np.testing.assert_allclose(c.model_logprobs, s.logprobs, atol=TOL)
            np.testing.assert_allclose(c.entropy, s.entropy, atol=TOL)


def test_seeded_samples_repeat_and_do_not_depend_on_batch(vllm_model, prompts):
    kw = dict(n=3, seed=11, temperature=1.0, max_new_tokens=6)
    a = vllm_model.generate(prompts[:2], **kw)
    b = vllm_model.generate(prompts[1:2], **kw)
    c = vllm_model.generate(prompts[:2], **kw)
    assert [x.token_ids for x in a[1]] == [x.token_ids for x in b[0]]
    assert [x.token_ids for x in a[0]] == [x.token_ids for x in c[0]]
    assert len({tuple(x.token_ids) for x in a[0] + a[1]}) > 1  # samples differ


def test_typical_p_reaches_the_vllm_processor(vllm_model, default_model, prompts):
    """`typical_p` on vLLM goes through extra_args to TypicalLogitsProcessor: token 0's
    processed logprob is the log-softmax over the typical set (measures.typical_mask)."""
    pytest.importorskip("llminfo.processors.vllm")
    tau = 0.5
    [samples] = vllm_model.generate(prompts[:1], n=3, seed=5, temperature=1.0, typical_p=tau, max_new_tokens=2)
    z = _first_step_logits(default_model, prompts[0])
    keep = measures.typical_mask(z[None], tau)[0]
    processed = torch.log_softmax(torch.where(keep, z, torch.tensor(-math.inf)), -1)
    for c in samples:
        assert bool(keep[c.token_ids[0]])
        assert c.logprobs[0] == pytest.approx(float(processed[c.token_ids[0]]), abs=TOL)


def test_stop_strings_and_zero_tokens(vllm_model, default_model, prompts):
    [[v]] = vllm_model.generate(prompts[:1], temperature=0, max_new_tokens=12, stop=["France"])
    [[h]] = default_model.generate(prompts[:1], temperature=0, max_new_tokens=12, stop=["France"])
    assert "France" not in v.text and v.text == h.text and v.finish_reason == "stop"
    [[e]] = vllm_model.generate(prompts[:1], max_new_tokens=0)
    assert e.token_ids == [] and e.text == ""


# -- errors -----------------------------------------------------------------------------


def test_default_scorer_on_vllm_second_answers_match_hf(vllm_model, default_model):
    """The default scorer runs on the vLLM backend: the probe (no hidden states there) is NaN
    with a warning, the risk stays calibrated, and prompt_disagreement's second answers (short
    greedy answers after the brief few-shot prompt) are HF's."""
    from llminfo.analyzers.consistency import PromptDisagreement
    from llminfo.analyzers.scorer import HallucinationScorer

    items = [{"question": "What is the capital of France?", "answer": "Paris"},
             {"question": "Who wrote Hamlet?", "answer": "Charles Dickens"}]
    with pytest.warns(UserWarning, match="hidden_probe is not scored"):
        rows = HallucinationScorer().score(vllm_model, items)
    hf = PromptDisagreement().score(default_model, items)
    for r, h in zip(rows, hf):
        assert r.calibrated and math.isfinite(r.risk) and r.scores["hidden_probe"] is None
        assert r.details["prompt_disagreement"]["second_answer"] == h.details["second_answer"]
        assert r.scores["prompt_disagreement"] == h.score


def test_errors_name_the_argument(vllm_model, prompts):
    long_prompt = "word " * 3000
    with pytest.raises(ValueError, match=r"prompts\[1\]"):
        vllm_model.generate([prompts[0], long_prompt], max_new_tokens=4)
    with pytest.raises(ValueError, match="max_model_len"):
        vllm_model.score([prompts[0]], [long_prompt])
    with pytest.raises(TypeError, match=r"processors\[0\]"):
        vllm_model.generate(prompts[:1], processors=[lambda ids, scores: scores])
    with pytest.raises(ValueError, match="`n`"):
        vllm_model.generate(prompts[:1], n=0)
    assert not [k for k in ve._RECORDS]  # nothing left behind in the side buffer


def test_bad_engine_args_fail_before_the_engine_starts():
    from llminfo.models import load_model

    with pytest.raises(TypeError, match="not_an_engine_arg"):
        load_model("default", backend="vllm", not_an_engine_arg=1)
    with pytest.raises(ValueError, match="max_model_len"):
        load_model("default", backend="vllm", max_model_len=-5)
    with pytest.raises(ValueError, match="logprobs_mode"):
        load_model("default", backend="vllm", logprobs_mode="raw_logprobs")
    with pytest.raises(ValueError, match="max_model_len"):  # vLLM's own check, re-raised
        load_model("default", backend="vllm", max_model_len=100_000)


def test_out_of_kv_cache_becomes_a_clear_error(monkeypatch):
    """vLLM's own KV-cache check (its genuine error) surfaces as a ValueError naming the knobs."""
    import vllm
    from vllm.v1.core.kv_cache_utils import _check_enough_kv_cache_memory

    def engine_without_room(**kwargs):
        _check_enough_kv_cache_memory(1 << 20, lambda: 1 << 30, kwargs["max_model_len"], lambda m: 40)

    monkeypatch.setattr(vllm, "LLM", engine_without_room)
    from llminfo.models import load_model

    with pytest.raises(ValueError, match=r"max_model_len=2048.*VLLM_CPU_KVCACHE_SPACE"):
        load_model("default", backend="vllm")


def test_session_engine_runs_vllm_default_multiprocess_core(vllm_model, prompts):
    """`load_model(..., backend="vllm")` keeps vLLM's default multi-process engine core; the
    per-token records come back over the worker RPC (the parity tests above use this engine)."""
    engine = vllm_model.llm.llm_engine
    assert type(engine.engine_core).__name__ != "InprocClient"
    assert engine.vllm_config.parallel_config.worker_extension_cls == ve.WORKER_EXTENSION
    [[c]] = vllm_model.generate(prompts[:1], temperature=0, max_new_tokens=4)
    assert len(c.entropy) == len(c.model_logprobs) == len(c.token_ids) == 4


def test_from_llm_wraps_an_engine_the_user_built(vllm_model, prompts):
    from llminfo.models.vllm import VLLMModel

    wrapped = VLLMModel.from_llm(vllm_model.llm)
    a = wrapped.score(prompts[:1], [" Paris."])[0]
    b = vllm_model.score(prompts[:1], [" Paris."])[0]
    assert a.token_ids == b.token_ids and a.logprobs == pytest.approx(b.logprobs, abs=1e-6)


def test_engine_without_the_record_channel_is_a_clear_error():
    from types import SimpleNamespace

    from llminfo.models.vllm_engine import record_channel

    class SyncMPClient:  # stands for vLLM's multi-process engine-core client
        pass

    cfg = SimpleNamespace(parallel_config=SimpleNamespace(worker_extension_cls="", world_size=1))
    llm = SimpleNamespace(llm_engine=SimpleNamespace(vllm_config=cfg, engine_core=SyncMPClient()))
    with pytest.raises(ValueError, match="VLLMModel.engine_args"):
        record_channel(llm)
    from llminfo.models.vllm import VLLMModel

    with pytest.raises(ValueError, match="worker_extension_cls"):
        VLLMModel.engine_args(worker_extension_cls="my.ext:Cls")
    args = VLLMModel.engine_args(tensor_parallel_size=2)
    assert args["worker_extension_cls"] == ve.WORKER_EXTENSION and args["tensor_parallel_size"] == 2
    assert args["logits_processors"][0] == "llminfo.processors.vllm:EntropyRecorderLogitsProcessor"


# -- the recorder without an engine -----------------------------------------------------


def _batch(added):
    from vllm.v1.sample.logits_processor import BatchUpdate

    return BatchUpdate(batch_size=len(added), removed=[], added=added, moved=[])


@pytest.mark.parametrize("seed", [0, 1])
def test_recorder_positions_forcing_and_deferred_logprob(seed):
    from vllm import SamplingParams

    g = torch.Generator().manual_seed(seed)
    proc = ve.EntropyRecorderLogitsProcessor(None, torch.device("cpu"), False)
    assert isinstance(proc, ve.EntropyRecorderV1)
    out_a: list[int] = []
    out_b: list[int] = []
    free = SamplingParams(seed=4, extra_args={ve.RECORD_KEY: f"t{seed}a", ve.SEED0_KEY: 3})  # sample 1
    forced = SamplingParams(extra_args={ve.RECORD_KEY: f"t{seed}b", ve.FORCE_KEY: [5, 9]})
    plain = SamplingParams()
    proc.update_state(_batch([(0, free, [1], out_a), (1, forced, [1], out_b), (2, plain, [1], [])]))
    steps = [torch.randn(3, 12, generator=g) for _ in range(2)]
    # a partial (chunked) prefill step: recorded at position 0, then overwritten
    proc.apply(torch.randn(3, 12, generator=g))
    raw = [z.clone() for z in steps]  # apply() masks forced rows in place
    for t, z in enumerate(steps[:2]):
        before = raw[t]
        res = proc.apply(z)
        assert torch.equal(res[0], before[0]) and torch.equal(res[2], before[2])  # others untouched
        assert int(res[1].argmax()) == [5, 9][t] and torch.isinf(res[1]).sum() == 11
        out_a.append(int(before[0].argmax()))
        out_b.append([5, 9][t])
    got = ve.take_records([(ve.record_name(f"t{seed}a", 1), out_a), (ve.record_name(f"t{seed}b", 0), None)])
    a = SimpleNamespace(**got[ve.record_name(f"t{seed}a", 1)])
    b = SimpleNamespace(**got[ve.record_name(f"t{seed}b", 0)])
    for t in range(2):
        ref = torch.log_softmax(raw[t], -1)
        assert a.entropy[t] == pytest.approx(float(measures.entropy_from_logits(raw[t][0])), abs=1e-5)
        assert a.model_logprobs[t] == pytest.approx(float(ref[0, out_a[t]]), abs=1e-5)
        assert b.entropy[t] == pytest.approx(float(measures.entropy_from_logits(raw[t][1])), abs=1e-5)
        assert b.model_logprobs[t] == pytest.approx(float(ref[1, [5, 9][t]]), abs=1e-5)
    assert len(a.entropy) == len(b.entropy) == 2
    assert ve.take_records([(ve.record_name(f"t{seed}a", 1), None)]) == {}


def test_recorder_validates_extra_args():
    from vllm import SamplingParams

    with pytest.raises(ValueError, match=ve.FORCE_KEY):
        ve.EntropyRecorderLogitsProcessor.validate_params(
            SamplingParams(extra_args={ve.RECORD_KEY: "x", ve.FORCE_KEY: ["a"]})
        )
    ve.EntropyRecorderLogitsProcessor.validate_params(SamplingParams())  # not ours: fine



@pytest.mark.skipif(
    os.environ.get("LLMINFO_TEST_TP") != "1",
    reason="starts a second, 3-process engine (~3.5 min on the shared CPU); LLMINFO_TEST_TP=1 runs it",
)
def test_tensor_parallel_engine_matches_hf(default_model, monkeypatch):
    """`tensor_parallel_size=3` on the CPU build (SmolLM2-135M has 9 heads, so 2 is not a valid
    split; 3 is): the records come back from rank 0 over the worker RPC and match HF."""
    from llminfo.models import load_model

    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "nobind")  # one NUMA node: no per-rank binding
    m = load_model("default", backend="vllm", tensor_parallel_size=3, max_model_len=512)
    try:
        p = [m.chat("What is the capital of France?")]
        [[v]] = m.generate(p, temperature=0, max_new_tokens=8)
        [[h]] = default_model.generate(p, temperature=0, max_new_tokens=8)
        assert v.token_ids == h.token_ids
        np.testing.assert_allclose(v.entropy, h.entropy, atol=TOL)
        np.testing.assert_allclose(v.model_logprobs, h.model_logprobs, atol=TOL)
        [sv], [sh] = m.score(p, [" Paris is the capital."]), default_model.score(p, [" Paris is the capital."])
        np.testing.assert_allclose(sv.logprobs, sh.logprobs, atol=TOL)
        np.testing.assert_allclose(sv.entropy, sh.entropy, atol=TOL)
    finally:
        m.llm.llm_engine.engine_core.shutdown()
