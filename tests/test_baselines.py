"""White-box baselines: values against a direct forward pass of the tiny model, the
scripted model, greedy answers, one shared scoring pass, and bad input."""

from __future__ import annotations

import math

import pytest
import torch
from fake_qa_model import FakeQAModel

from llminfo.analyzers.base import QAItem, SampleCache, answers_for, qa_prompt
from llminfo.analyzers.baselines import MaxSequenceProbability, MeanTokenEntropy, Perplexity

ANSWERS = {"capital of France?": [("Paris", -0.1)], "2+2?": [("4", -0.05)]}


def direct_scores(hf, prompt, answer):
    """log p and entropy per answer token from one plain forward pass (no llminfo code)."""
    tok = hf.tokenizer
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tok(answer, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p_ids + a_ids])
    with torch.no_grad():
        logits = hf.model(input_ids=ids).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    rows = logp[len(p_ids) - 1 : len(p_ids) + len(a_ids) - 1]
    lp = rows.gather(1, torch.tensor(a_ids)[:, None])[:, 0]
    ent = -(rows.exp() * rows).sum(-1)
    return lp.tolist(), ent.tolist()


def test_values_match_direct_forward_pass(tiny_model):
    items = [QAItem("What is the capital of France?", answer="Paris"),
             QAItem("What is 2 + 3?", answer="The answer is 42.")]
    cache = SampleCache()
    msp = MaxSequenceProbability().score(tiny_model, items, cache=cache)
    ppl = Perplexity().score(tiny_model, items, cache=cache)
    ent = MeanTokenEntropy().score(tiny_model, items, cache=cache)
    assert cache.score_calls == 1 and cache.generate_calls == 0  # one shared scoring pass
    for k, it in enumerate(items):
        lp, h = direct_scores(tiny_model, qa_prompt(tiny_model, it.question), it.answer)
        assert msp[k].score == pytest.approx(-sum(lp), rel=1e-4)
        assert ppl[k].score == pytest.approx(-sum(lp) / len(lp), rel=1e-4)
        assert ppl[k].details["perplexity"] == pytest.approx(math.exp(-sum(lp) / len(lp)), rel=1e-4)
        assert ent[k].score == pytest.approx(sum(h) / len(h), rel=1e-4)
        assert msp[k].details["num_tokens"] == len(lp) and msp[k].details["answer"] == it.answer


def test_greedy_answer_when_absent_and_context_in_prompt(tiny_model):
    items = [QAItem("What is the capital of France?"), QAItem("Who?", context="The quick brown fox.")]
    cache = SampleCache()
    res = MaxSequenceProbability(max_new_tokens=6).score(tiny_model, items, cache=cache)
    greedy = tiny_model.generate([qa_prompt(tiny_model, it.question, it.context) for it in items],
                                 temperature=0, max_new_tokens=6, stop=["\n"])
    for r, g, it in zip(res, greedy, items):
        assert r.details["answer"] == g[0].text.strip()
        cont = r.details["answer"] or tiny_model.tokenizer.eos_token
        lp, _ = direct_scores(tiny_model, qa_prompt(tiny_model, it.question, it.context), cont)
        assert r.score == pytest.approx(-sum(lp), rel=1e-4)
    assert "Context: The quick brown fox." in qa_prompt(tiny_model, "Who?", "The quick brown fox.")
    assert answers_for(tiny_model, items, cache, max_new_tokens=6) == [r.details["answer"] for r in res]
    assert cache.generate_calls == 1


def test_scripted_model_and_ordering():
    model = FakeQAModel(ANSWERS, score_fn=lambda q, prev, a: {"Paris": -0.2, "5": -3.0, "4": -0.4}[a], entropy=0.4)
    items = [QAItem("capital of France?", answer="Paris"), QAItem("2+2?", answer="5"), QAItem("2+2?")]
    msp = MaxSequenceProbability().score(model, items)
    assert [r.score for r in msp] == pytest.approx([0.2, 3.0, 0.4])
    assert msp[2].details["answer"] == "4"  # greedy answer
    assert [r.score for r in Perplexity().score(model, items)] == pytest.approx([0.1, 1.5, 0.2])
    assert [r.score for r in MeanTokenEntropy().score(model, items)] == pytest.approx([0.6] * 3)
    # a wrong answer is more uncertain than the right one under every baseline
    assert msp[1].score > msp[2].score


def test_bad_input():
    model = FakeQAModel(ANSWERS)
    with pytest.raises(TypeError, match="answer"):
        MaxSequenceProbability().score(model, [{"question": "2+2?", "answer": 4}])
    with pytest.raises(ValueError, match="question"):
        Perplexity().score(model, [{"question": ""}])
    with pytest.raises(ValueError, match="max_new_tokens"):
        MeanTokenEntropy(max_new_tokens=0)


def test_score_cache_entropy_free_requests_share_and_upgrade():
    model = FakeQAModel(ANSWERS, score_fn=lambda q, prev, a: -1.0)
    cache = SampleCache()
    p = [qa_prompt(model, "2+2?")]
    [a] = cache.score(model, p, ["4"], entropy=False)
    assert a.entropy == [] and model.score_entropy == [False]
    [b] = cache.score(model, p, ["4"])  # needs entropies: scored again, with them
    assert b.entropy and model.score_entropy == [False, True]
    [c] = cache.score(model, p, ["4"], entropy=False)  # served by the full entry
    assert c is b and cache.score_calls == 2
    # MeanTokenEntropy after MI-style entropy-free scoring still gets entropies
    r = MeanTokenEntropy().score(model, [QAItem("2+2?", answer="4")], cache=cache)[0]
    assert r.score == pytest.approx(0.75)
