"""SemanticEntropy / DiscreteSemanticEntropy: exact values on a scripted model, sample
sharing through the cache, batching, and the embedded model."""

from __future__ import annotations

import math

import numpy as np

import pytest
from fake_qa_model import FakeQAModel

from llminfo.analyzers.base import QAItem, SampleCache, qa_prompt
from llminfo.analyzers.iterative_mi import IterativePromptingMI
from llminfo.analyzers.semantic_entropy import DiscreteSemanticEntropy, SemanticEntropy

SAME = dict(clustering=lambda a, b: a.lower() == b.lower())
ANSWERS = {
    "capital of France?": [("Paris", -0.1), ("paris", -0.3), ("Lyon", -2.0), ("Nice", -1.0)],
    "2+2?": [("4", -0.05)],
    "a fruit?": [("apple", -1.0), ("pear", -1.0), ("plum", -1.0), ("fig", -1.0), ("kiwi", -1.0)],
}


def ref_se(groups):
    """groups: list of lists of mean token log-probs, one list per cluster."""
    z = sum(math.exp(x) for g in groups for x in g)
    ps = [sum(math.exp(x) for x in g) / z for g in groups]
    return -sum(p * math.log(p) for p in ps)


def test_exact_values_on_scripted_model():
    model = FakeQAModel(ANSWERS)
    se = SemanticEntropy(num_samples=4, **SAME).score(model, [QAItem("capital of France?")])[0]
    assert se.details["cluster_ids"] == [0, 0, 1, 2]
    assert se.details["cluster_sizes"] == [2, 1, 1]
    # mean token log-prob of model_logprobs (the fake's sampled-distribution logprobs are 2x)
    assert se.details["seq_logprobs"] == pytest.approx([-0.1, -0.3, -2.0, -1.0])
    assert se.score == pytest.approx(ref_se([[-0.1, -0.3], [-2.0], [-1.0]]))
    assert se.details["discrete_semantic_entropy"] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert sum(se.details["cluster_probs"]) == pytest.approx(1.0)
    dse = DiscreteSemanticEntropy(num_samples=4, **SAME).score(model, ["capital of France?"])[0]
    assert dse.score == pytest.approx(se.details["discrete_semantic_entropy"])


def test_invariants_one_cluster_and_m_equal_clusters():
    model = FakeQAModel(ANSWERS)
    one = SemanticEntropy(num_samples=6, **SAME).score(model, ["2+2?"])[0]
    assert one.score == pytest.approx(0.0, abs=1e-12) and one.details["cluster_sizes"] == [6]
    five = SemanticEntropy(num_samples=5, **SAME).score(model, ["a fruit?"])[0]
    assert five.score == pytest.approx(math.log(5))
    assert DiscreteSemanticEntropy(num_samples=5, **SAME).score(model, ["a fruit?"])[0].score == pytest.approx(math.log(5))


def test_cache_shares_samples_across_methods_and_batches_generation():
    model = FakeQAModel(ANSWERS)
    cache = SampleCache()
    qs = list(ANSWERS)
    a = SemanticEntropy(num_samples=4, **SAME).score(model, qs, cache=cache)
    b = DiscreteSemanticEntropy(num_samples=4, **SAME).score(model, qs, cache=cache)
    assert len(model.generate_calls) == 1
    assert model.generate_calls[0][1:] == (4, 1.0)  # n, temperature
    assert [r.details["answers"] for r in a] == [r.details["answers"] for r in b]
    # MI samples at T = 0.9: a different statistic, one more call for all questions
    IterativePromptingMI(num_samples=4, **SAME).score(model, qs, cache=cache)
    assert len(model.generate_calls) == 2
    # batched == one question at a time
    for q, r in zip(qs, a):
        assert SemanticEntropy(num_samples=4, **SAME).score(FakeQAModel(ANSWERS), [q])[0].score == pytest.approx(r.score)


def test_bad_arguments():
    for kw, name in [({"num_samples": 0}, "num_samples"), ({"temperature": 0.0}, "temperature"),
                     ({"max_new_tokens": 0}, "max_new_tokens")]:
        with pytest.raises(ValueError, match=name):
            SemanticEntropy(**kw)
    with pytest.raises(ValueError, match="`clustering` has to be one of"):
        SemanticEntropy(num_samples=2, clustering="nope")
    with pytest.raises(ValueError, match="nli"):
        SemanticEntropy(clustering="nli")
    with pytest.raises(ValueError, match="clustering_kwargs.*thresh"):
        SemanticEntropy(clustering="lexical", clustering_kwargs={"thresh": 0.3})
    with pytest.raises(ValueError, match="threshold"):
        SemanticEntropy(clustering="lexical", clustering_kwargs={"threshold": 3})
    with pytest.raises(TypeError, match="items"):
        SemanticEntropy().score(FakeQAModel(ANSWERS), "2+2?")
    with pytest.raises(ValueError, match=r"items\[1\].*question"):
        SemanticEntropy().score(FakeQAModel(ANSWERS), ["2+2?", {"answer": "4"}])


def test_tiny_model_batched_equals_single_and_uses_model_logprobs(tiny_model):
    se = SemanticEntropy(num_samples=5, max_new_tokens=5, clustering="exact")
    qs = ["What is the capital of France?", "The quick brown fox?", "One two three?"]
    cache = SampleCache()
    batched = se.score(tiny_model, qs, seed=7, cache=cache)
    assert cache.generate_calls == 1
    for q, b in zip(qs, batched):
        [s] = se.score(tiny_model, [q], seed=7)
        assert s.details["answers"] == b.details["answers"]
        assert s.score == pytest.approx(b.score, abs=1e-5)
        assert 0 <= b.score <= math.log(b.details["num_clusters"]) + 1e-9
    # seq log-likelihoods are the raw-model mean token logprobs of the samples
    [comps] = cache.get(tiny_model, [se_prompt(tiny_model, qs[0])], n=5, temperature=1.0, max_new_tokens=5, seed=7)
    assert batched[0].details["seq_logprobs"] == pytest.approx([sum(c.model_logprobs) / len(c.model_logprobs) for c in comps])


def se_prompt(model, q):
    from llminfo.analyzers.base import qa_prompt

    return qa_prompt(model, q)


@pytest.mark.integration
def test_default_model_semantic_entropy(default_model):
    res = SemanticEntropy(num_samples=6).score(default_model, ["What is the capital of France?", "Name a fruit."], seed=0)
    for r in res:
        assert len(r.details["answers"]) == 6 and sum(r.details["cluster_sizes"]) == 6
        assert 0 <= r.score <= math.log(r.details["num_clusters"]) + 1e-9
        assert all(lp <= 0 for lp in r.details["seq_logprobs"])


def test_predictive_entropy_and_p_true_share_samples():
    from fake_qa_model import FakeQAModel

    from llminfo import measures
    from llminfo.analyzers.semantic_entropy import PredictiveEntropy, PTrue

    ans = {"Q1?": [("Paris", -0.2), ("Lyon", -1.0), ("Paris", -0.2)]}
    seen = {}

    def score_fn(q, prev, cont):
        seen.setdefault("cont", []).append(cont)
        return math.log(0.7)

    model = FakeQAModel(ans, score_fn, greedy={"Q1?": "Paris"})
    cache = SampleCache()
    [pe] = PredictiveEntropy(num_samples=3).score(model, ["Q1?"], cache=cache)
    # mean of the per-answer mean model log-probs, negated (model_logprobs average to lp)
    assert pe.score == pytest.approx(-np.mean([-0.2, -1.0, -0.2]))
    assert pe.score == pytest.approx(measures.predictive_entropy([-0.2, -1.0, -0.2]))
    [pt] = PTrue(num_samples=3).score(model, ["Q1?"], cache=cache)
    assert pt.score == pytest.approx(0.3) and pt.details["p_true"] == pytest.approx(0.7)
    assert seen["cont"] == [" A"]
    # samples generated once for both, plus the greedy answer
    temps = [t for _, _, t in model.generate_calls]
    assert temps.count(1.0) == 1
    prompt = PTrue.p_true_prompt("Q1?", ["Paris", "Lyon"], "Paris")
    assert prompt == ("Question: Q1?\nBrainstormed Answers: Paris\nLyon\nParis\nPossible answer: Paris\n"
                      "Is the possible answer:\nA) True\nB) False\nThe possible answer is:")


def test_farquhar_prompt_preset():
    from llminfo.analyzers.semantic_entropy import FARQUHAR_FEW_SHOT, farquhar_prompt

    se = SemanticEntropy(prompt="farquhar")
    assert (se.num_samples, se.temperature, se.max_new_tokens, se.clustering) == (10, 1.0, 50, "semantic")
    p = farquhar_prompt("Who wrote Hamlet?")
    assert p.startswith("Answer the following question as briefly as possible.\nQuestion: ")
    assert p.endswith("\n\nQuestion: Who wrote Hamlet?\nAnswer:") and p.count("Answer: ") == len(FARQUHAR_FEW_SHOT)
    from llminfo.data import load_jsonl

    shipped = {r["question"] for name in ("factual_qa.jsonl", "many_answers.jsonl") for r in load_jsonl(name)}
    assert not shipped & {q for q, _ in FARQUHAR_FEW_SHOT}
    with pytest.raises(ValueError, match="prompt"):
        SemanticEntropy(prompt="nope")


def _direct_logp(hf, prompt: str, cont: str) -> float:
    """log p(cont | prompt) from one plain forward pass of the tiny model (no llminfo code)."""
    import torch

    tok = hf.tokenizer
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    c_ids = tok(cont, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = hf.model(input_ids=torch.tensor([p_ids + c_ids])).logits[0].double()
    rows = torch.log_softmax(logits, -1)[len(p_ids) - 1 : len(p_ids) + len(c_ids) - 1]
    return float(rows.gather(1, torch.tensor(c_ids)[:, None]).sum())


@pytest.mark.parametrize("protocol", ["farquhar", "kadavath", "kadavath_samples"])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("chat", [False, True])
def test_p_true_protocols_match_a_direct_forward_pass(tiny_model, protocol, normalize, chat):
    """P(True) = p(" A") (farquhar) or p(" (A)") (Kadavath) after the protocol's prompt;
    score = 1 − P(True); `normalize` divides by p(True option) + p(False option)."""
    from llminfo.analyzers.semantic_entropy import P_TRUE_OPTIONS, PTrue

    items = [QAItem("What is the capital of France?", answer="Paris"), QAItem("What is 2 + 3?", answer="The answer is 42.")]
    cache = SampleCache()
    pt = PTrue(num_samples=3, protocol=protocol, normalize=normalize, max_new_tokens=4, chat=chat)
    res = pt.score(tiny_model, items, seed=1, cache=cache)
    for it, r in zip(items, res):
        if protocol == "kadavath":
            prompt = PTrue.kadavath_prompt(it.question, it.answer)
            assert cache.generate_calls == 0  # no samples shown, none drawn
        else:
            [comps] = cache.get(tiny_model, [qa_prompt(tiny_model, it.question)], n=3, temperature=1.0, max_new_tokens=4, seed=1)
            samples = [c.text.strip() for c in comps]
            prompt = (PTrue.p_true_prompt(it.question, samples, it.answer) if protocol == "farquhar"
                      else PTrue.kadavath_prompt(it.question, it.answer, samples))
        true_opt, false_opt = P_TRUE_OPTIONS[protocol]
        if chat:  # a user message through the chat template; the reply starts with the option
            prompt = tiny_model.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                              add_generation_prompt=True)
            true_opt, false_opt = true_opt.strip(), false_opt.strip()
            assert prompt.endswith("<|im_start|>assistant\n")
        lt = _direct_logp(tiny_model, prompt, true_opt)
        p = math.exp(lt)
        if normalize:
            p = p / (p + math.exp(_direct_logp(tiny_model, prompt, false_opt)))
        assert r.details["p_true"] == pytest.approx(p, rel=1e-4)
        assert r.score == pytest.approx(1 - p, rel=1e-4, abs=1e-6)


def test_kadavath_prompts_are_the_papers():
    from llminfo.analyzers.semantic_entropy import PTrue

    assert PTrue.kadavath_prompt("Who was the first president of the United States?", "George Washington") == (
        "Question: Who was the first president of the United States?\nProposed Answer: George Washington\n"
        "Is the proposed answer:\n (A) True\n (B) False\nThe proposed answer is:")
    assert PTrue.kadavath_prompt("Who was the third president?", "James Monroe", ["James Monroe", "Thomas Jefferson"]) == (
        "Question: Who was the third president?\nHere are some brainstormed ideas: James Monroe\nThomas Jefferson\n"
        "Possible Answer: James Monroe\nIs the possible answer:\n (A) True\n (B) False\nThe possible answer is:")
    with pytest.raises(ValueError, match="protocol"):
        PTrue(protocol="chat")
    with pytest.raises(ValueError, match="normalize"):
        PTrue(normalize="yes")
    with pytest.raises(ValueError, match="chat"):
        PTrue(chat=1)
    with pytest.raises(ValueError, match="needs the model"):
        PTrue(chat=True).prompt_for("Q?", [], "A")
