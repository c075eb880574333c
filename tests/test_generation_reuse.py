"""Work the scorer no longer repeats (issue #16): teacher-forced scores read off generation
records, the prompt cache reused by the next `generate` on the same prompts, and grouped-query
attention without copied heads on CPU. Each must give the numbers of the path it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_qa_model import FakeQAModel

from llminfo.analyzers.base import QAItem, SampleCache, qa_prompt
from llminfo.analyzers.baselines import MaxSequenceProbability, MeanTokenEntropy, Perplexity
from llminfo.analyzers.iterative_mi import IterativePromptingMI
from llminfo.models import hf_attention
from llminfo.models.hf import HFModel


def direct(model, prompt, cont_ids):
    """log p and entropy of `cont_ids` after `prompt` from one plain forward (no llminfo code)."""
    p_ids = model.encode_prompt(prompt)
    with torch.no_grad():
        logits = model.model(input_ids=torch.tensor([p_ids + cont_ids])).logits[0].double()
    rows = torch.log_softmax(logits, dim=-1)[len(p_ids) - 1 : len(p_ids) + len(cont_ids) - 1]
    return rows.gather(1, torch.tensor(cont_ids)[:, None])[:, 0].tolist(), (-(rows.exp() * rows).sum(-1)).tolist()


def round_trip_prefix(model, comps):
    """The longest prefix of a completion's ids whose decoded text encodes back to it."""
    for m in range(max(len(c.token_ids) for c in comps), 0, -1):
        for c in comps:
            if len(c.token_ids) >= m:
                text = model.tokenizer.decode(c.token_ids[:m])
                if model.encode_continuation(text) == list(c.token_ids[:m]):
                    return text, list(c.token_ids[:m])
    raise AssertionError("no generated prefix round-trips through the tokenizer")


@pytest.mark.parametrize("temperature,n", [(0.0, 1), (0.7, 3)])
def test_score_read_off_generation_equals_scoring(tiny_model, temperature, n):
    prompt = qa_prompt(tiny_model, "What is the capital of France?")
    cache = SampleCache()
    comps = cache.get(tiny_model, [prompt], n=n, temperature=temperature, max_new_tokens=8, seed=3)[0]
    text, ids = round_trip_prefix(tiny_model, comps)
    [got] = cache.score(tiny_model, [prompt], [text])
    assert cache.score_calls == 0 and cache.scores_from_generations == 1
    [ref] = tiny_model.score([prompt], [text])
    lp, ent = direct(tiny_model, prompt, ids)
    assert got.token_ids == ref.token_ids == ids
    np.testing.assert_allclose(got.logprobs, ref.logprobs, atol=1e-5)
    np.testing.assert_allclose(got.entropy, ref.entropy, atol=1e-5)
    np.testing.assert_allclose(got.logprobs, lp, atol=1e-5)
    np.testing.assert_allclose(got.entropy, ent, atol=1e-5)
    # a log-probs-only request is served too
    assert cache.score(tiny_model, [prompt], [text], entropy=False)[0] is got and cache.score_calls == 0


def test_score_reuse_only_for_same_prompt_and_tokens(tiny_model):
    prompt = qa_prompt(tiny_model, "What is the capital of France?")
    other = qa_prompt(tiny_model, "What is 2 + 3?")
    cache = SampleCache()
    [[c]] = cache.get(tiny_model, [prompt], n=1, temperature=0.0, max_new_tokens=8, seed=0)
    text, ids = round_trip_prefix(tiny_model, [c])
    # same text after another prompt: scored by the model
    cache.score(tiny_model, [other], [text])
    assert cache.score_calls == 1 and cache.scores_from_generations == 0
    # tokens that are not the start of the generated ones: scored by the model
    different = next(t for t in ("The quick brown fox", "yes no", "42")
                     if tiny_model.encode_continuation(t) != c.token_ids[: len(tiny_model.encode_continuation(t))])
    cache.score(tiny_model, [prompt], [different])
    assert cache.score_calls == 2 and cache.scores_from_generations == 0
    # reuse turned off: scored by the model, same numbers to round-off
    off = SampleCache(reuse_generations=False)
    off.get(tiny_model, [prompt], n=1, temperature=0.0, max_new_tokens=8, seed=0)
    [scored] = off.score(tiny_model, [prompt], [text])
    assert off.score_calls == 1 and off.scores_from_generations == 0
    [read] = cache.score(tiny_model, [prompt], [text])
    assert cache.score_calls == 2 and cache.scores_from_generations == 1
    np.testing.assert_allclose(read.logprobs, scored.logprobs, atol=1e-5)


def test_backend_without_matching_records_is_always_scored():
    model = FakeQAModel({"capital of France?": [("Paris", -0.1)]})
    cache = SampleCache()
    prompt = qa_prompt(model, "capital of France?")
    cache.get(model, [prompt], n=1, temperature=0.0)
    cache.score(model, [prompt], ["Paris"])
    assert model.score_calls == [1] and cache.scores_from_generations == 0


def test_baselines_on_greedy_answers_equal_the_scoring_path(default_model):
    items = [QAItem("What is the capital of France?"), QAItem("Who wrote 'Pride and Prejudice'?")]
    out = {}
    for reuse in (True, False):
        cache = SampleCache(reuse_generations=reuse)
        out[reuse] = [m().score(default_model, items, cache=cache) for m in (MaxSequenceProbability, Perplexity, MeanTokenEntropy)]
        assert cache.score_calls == (0 if reuse else 1)
        assert cache.scores_from_generations == (len(items) if reuse else 0)
    for reused, scored in zip(out[True], out[False]):
        for a, b in zip(reused, scored):
            assert a.details["answer"] == b.details["answer"] and a.details["num_tokens"] == b.details["num_tokens"]
            # per-token round-off ~1e-6, summed over the answer by msp
            assert a.score == pytest.approx(b.score, rel=1e-5, abs=1e-5)
            assert a.details["mean_entropy"] == pytest.approx(b.details["mean_entropy"], abs=1e-5)


def test_iterative_mi_first_stage_from_samples_equals_scoring(default_model):
    items = ["What is the capital of Japan?"]
    res = {}
    for reuse in (True, False):
        cache = SampleCache(reuse_generations=reuse)
        res[reuse] = (IterativePromptingMI(num_samples=4).score(default_model, items, seed=0, cache=cache)[0], cache)
    (a, ca), (b, cb) = res[True], res[False]
    assert ca.scores_from_generations > 0 and cb.scores_from_generations == 0
    assert a.details["answers"] == b.details["answers"]
    np.testing.assert_allclose(a.details["mu1"], b.details["mu1"], atol=1e-5)
    np.testing.assert_allclose(a.details["mu2"], b.details["mu2"], atol=1e-5)
    assert a.score == pytest.approx(b.score, abs=1e-5)


def test_prefill_reused_on_same_prompts_gives_identical_samples(tiny_model):
    prompts = [tiny_model.chat("What is the capital of France?"), tiny_model.chat("Count to ten.")]
    kw = dict(max_new_tokens=6, seed=[5, 6])
    fresh = HFModel(tiny_model.model, tiny_model.tokenizer)
    fresh.reuse_prefill = False
    ref_greedy = fresh.generate(prompts, n=1, temperature=0.0, **kw)
    ref_sampled = fresh.generate(prompts, n=3, temperature=0.9, **kw)
    assert fresh.prefill_hits == 0

    model = HFModel(tiny_model.model, tiny_model.tokenizer)
    assert model.generate(prompts, n=1, temperature=0.0, **kw) == ref_greedy
    assert model.generate(prompts, n=3, temperature=0.9, **kw) == ref_sampled  # same prompts: reused
    assert model.prefill_hits == 1

    def in_place(input_ids, scores):  # a user processor that writes into the logits it gets
        return scores.mul_(0.5)

    model.generate(prompts, n=1, temperature=0.0, processors=[in_place], **kw)
    assert model.prefill_hits == 2
    assert model.generate(prompts, n=1, temperature=0.0, **kw) == ref_greedy  # the kept logits are intact
    assert model.prefill_hits == 3
    model.generate(prompts[:1], n=1, temperature=0.0, max_new_tokens=6)  # other prompts: encoded afresh
    assert model.prefill_hits == 3


def test_in_place_gqa_attention_gives_the_same_numbers():
    from tiny import tiny_llama, tiny_tokenizer

    model, tok = tiny_llama(1)
    assert model.config._attn_implementation == "sdpa" and model.config.num_key_value_heads < model.config.num_attention_heads
    ids = torch.tensor([[0, 0, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14]])
    mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    pos = (mask.cumsum(1) - 1).clamp(min=0)

    def run():
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
            step = model(input_ids=torch.tensor([[15], [16]]), attention_mask=torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1),
                         position_ids=pos[:, -1:] + 1, past_key_values=out.past_key_values, use_cache=True)
        return out.logits, step.logits

    ref = run()
    ref_gen = HFModel(model, tok).generate([tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                                                     add_generation_prompt=True)] * 2, n=2, temperature=1.0,
                                           max_new_tokens=6, seed=[1, 2])
    assert hf_attention.use_in_place_gqa(model)
    assert model.config._attn_implementation == hf_attention.NAME
    got = run()
    for a, b in zip(ref, got):
        assert torch.equal(a, b)
    gen = HFModel(model, tok).generate([tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                                                 add_generation_prompt=True)] * 2, n=2, temperature=1.0,
                                       max_new_tokens=6, seed=[1, 2])
    assert gen == ref_gen
    assert tiny_tokenizer() is tok


def test_in_place_gqa_leaves_other_models_alone():
    from tiny import tiny_llama

    model, _ = tiny_llama(2)
    model.set_attn_implementation("eager")
    assert not hf_attention.use_in_place_gqa(model) and model.config._attn_implementation == "eager"


def test_default_model_loads_with_in_place_gqa(default_model):
    assert default_model.model.config._attn_implementation == hf_attention.NAME


def test_generate_mixed_equals_one_call_per_request(tiny_model):
    prompts = [tiny_model.chat("What is the capital of France?"), tiny_model.chat("Count to ten."),
               tiny_model.chat("The answer is?")]
    kw = dict(max_new_tokens=7, stop=["\n"])
    requests = [([0, 1, 2], 1, 0.0, [0, 0, 0]), ([0, 1, 2], 3, 1.0, [11, 12, 13]), ([2, 0], 2, 0.7, [21, 22])]
    mixed = tiny_model.generate_mixed(prompts, requests, **kw)
    for (idx, n, temperature, seeds), got in zip(requests, mixed):
        ref = tiny_model.generate([prompts[i] for i in idx], n=n, temperature=temperature, seed=seeds, **kw)
        assert len(got) == len(ref)
        for g_row, r_row in zip(got, ref):
            for g, r in zip(g_row, r_row):
                assert g.token_ids == r.token_ids and g.text == r.text and g.finish_reason == r.finish_reason
                np.testing.assert_allclose(g.logprobs, r.logprobs, atol=1e-5)
                np.testing.assert_allclose(g.model_logprobs, r.model_logprobs, atol=1e-5)
                np.testing.assert_allclose(g.entropy, r.entropy, atol=1e-5)
    with pytest.raises(ValueError, match="seeds"):
        tiny_model.generate_mixed(prompts, [([0, 1], 1, 0.0, [1])], **kw)
    with pytest.raises(ValueError, match="temperature"):
        tiny_model.generate_mixed(prompts, [([0], 1, -1.0, None)], **kw)


def test_generate_mixed_encodes_a_shared_prefix_once_and_equals_plain_generate(tiny_model, monkeypatch):
    few_shot = ("Answer briefly. Question: What is the capital of Italy? Answer: Rome. Question: What is two plus "
                "two? Answer: four. Question: ")
    prompts = [few_shot + q + " Answer:" for q in ("Who wrote Hamlet?", "What is 3 + 4?", "Name a colour?")]
    requests = [([0, 1, 2], 1, 0.0, [0, 0, 0]), ([0, 1, 2], 2, 1.0, [5, 6, 7])]
    before = tiny_model.shared_prefix_prefills
    mixed = tiny_model.generate_mixed(prompts, requests, max_new_tokens=6)
    assert tiny_model.shared_prefix_prefills == before + 1
    monkeypatch.setattr(tiny_model, "share_prefixes", False)  # the reference encodes every prompt whole
    for (idx, n, temperature, seeds), got in zip(requests, mixed):
        ref = tiny_model.generate([prompts[i] for i in idx], n=n, temperature=temperature, seed=seeds, max_new_tokens=6)
        for g_row, r_row in zip(got, ref):
            for g, r in zip(g_row, r_row):
                assert g.token_ids == r.token_ids
                np.testing.assert_allclose(g.model_logprobs, r.model_logprobs, atol=1e-5)
                np.testing.assert_allclose(g.entropy, r.entropy, atol=1e-5)
    assert tiny_model.shared_prefix_prefills == before + 1


def test_prefetch_generates_every_request_in_one_loop(tiny_model):
    prompts = [qa_prompt(tiny_model, q) for q in ("What is the capital of France?", "What is 2 + 3?")]
    requests = [dict(prompts=prompts, n=1, temperature=0.0, max_new_tokens=6),
                dict(prompts=prompts, n=3, temperature=1.0, max_new_tokens=6, seed=4),
                dict(prompts=prompts[:1], n=2, temperature=0.9, max_new_tokens=6, seed=4),
                dict(prompts=prompts, n=2, temperature=1.0, max_new_tokens=6, seed=4)]  # served by the n=3 rows
    cache = SampleCache()
    cache.prefetch(tiny_model, requests)
    assert cache.generate_calls == 1
    plain = SampleCache()
    for r in requests:
        args = {k: v for k, v in r.items() if k != "prompts"}
        got = cache.get(tiny_model, r["prompts"], **args)
        ref = plain.get(tiny_model, r["prompts"], **args)
        assert [[c.token_ids for c in row] for row in got] == [[c.token_ids for c in row] for row in ref]
    assert cache.generate_calls == 1  # everything was prefetched
    cache.prefetch(tiny_model, requests)
    assert cache.generate_calls == 1  # nothing left to generate


def test_prefetch_without_mixed_generation_is_get_per_request():
    model = FakeQAModel({"capital of France?": [("Paris", -0.1), ("Lyon", -2.0)]})
    prompts = [qa_prompt(model, "capital of France?")]
    cache = SampleCache()
    cache.prefetch(model, [dict(prompts=prompts, n=1, temperature=0.0), dict(prompts=prompts, n=2, temperature=1.0)])
    assert [(n, t) for _p, n, t in model.generate_calls] == [(1, 0.0), (2, 1.0)]
    assert [c.text for c in cache.get(model, prompts, n=2, temperature=1.0)[0]] == ["Paris", "Lyon"]
    assert len(model.generate_calls) == 2
