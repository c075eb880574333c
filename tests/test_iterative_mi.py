"""IterativePromptingMI: exact values on a scripted model, the DESIGN.md invariants through
the analyzer, the paper's prompt family, batching, and the embedded model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fake_qa_model import EOS, FakeQAModel, log

from llminfo.analyzers.base import QAItem, SampleCache
from llminfo.analyzers.iterative_mi import IterativePromptingMI, IterativePromptTemplate

P0 = {"Paris": 0.5, "Lyon": 0.3, "Nice": 0.2}
ANSWERS = {"capital of France?": [("Paris", -0.1), ("Lyon", -0.2), ("Paris", -0.1), ("Nice", -0.3)]}
EXACT = dict(clustering=lambda a, b: a.lower() == b.lower())


def ref_mi(mu1, mu2):
    C = len(mu1)
    joint = [[mu1[i] * mu2[i][t] for t in range(C)] for i in range(C)]
    px = [sum(r) for r in joint]
    py = [sum(joint[i][t] for i in range(C)) for t in range(C)]
    return sum(joint[i][t] * math.log(joint[i][t] / (px[i] * py[t])) for i in range(C) for t in range(C) if joint[i][t] > 0)


def entropy(p):
    return -sum(x * math.log(x) for x in p if x > 0)


def test_exact_value_on_scripted_model():
    m2 = {"Paris": {"Paris": 6.0, "Lyon": 1.0, "Nice": 1.0}, "Lyon": {"Paris": 1.0, "Lyon": 2.0, "Nice": 1.0},
          "Nice": {"Paris": 1.0, "Lyon": 1.0, "Nice": 1.0}}

    def score_fn(q, prev, a):
        return log(P0[a]) if not prev else log(m2[prev[0]][a])

    model = FakeQAModel(ANSWERS, score_fn)
    [r] = IterativePromptingMI(num_samples=4, **EXACT).score(model, [QAItem("capital of France?")])
    centres = ["Paris", "Lyon", "Nice"]
    assert r.details["centres"] == centres
    assert r.details["cluster_ids"] == [0, 1, 0, 2]
    mu1 = [P0[c] for c in centres]  # already sums to 1
    mu2 = [[m2[i][t] / sum(m2[i].values()) for t in centres] for i in centres]
    np.testing.assert_allclose(r.details["mu1"], mu1)
    np.testing.assert_allclose(r.details["mu2"], mu2)
    assert r.score == pytest.approx(ref_mi(mu1, mu2))
    assert 0 < r.score <= math.log(3)


def test_cluster_mass_sums_distinct_members():
    answers = {"capital of France?": [("Paris", -0.1), ("paris", -0.1), ("Lyon", -0.2)]}
    p0 = {"Paris": 0.4, "paris": 0.2, "Lyon": 0.1}
    model = FakeQAModel(answers, lambda q, prev, a: log(p0[a]) if not prev else log(0.5))
    [r] = IterativePromptingMI(num_samples=3, **EXACT).score(model, ["capital of France?"])
    assert r.details["centres"] == ["Paris", "Lyon"]
    np.testing.assert_allclose(r.details["mu1"], [0.6 / 0.7, 0.1 / 0.7])
    assert r.score == pytest.approx(0.0, abs=1e-12)  # µ2 rows identical → independent


def test_invariants_through_the_analyzer():
    # a model that knows: the repeated answer does not move its distribution -> 0
    knows = FakeQAModel(ANSWERS, lambda q, prev, a: log(P0[a]))
    assert IterativePromptingMI(num_samples=4, **EXACT).score(knows, ["capital of France?"])[0].score == pytest.approx(0, abs=1e-12)
    # a model that copies the repeated answer: µ2(t|i) = 1[t = i] -> H(µ1)
    copies = FakeQAModel(ANSWERS, lambda q, prev, a: log(P0[a]) if not prev else (0.0 if a == prev[0] else -1e9))
    r = IterativePromptingMI(num_samples=4, **EXACT).score(copies, ["capital of France?"])[0]
    assert r.score == pytest.approx(entropy([0.5, 0.3, 0.2]))
    # one cluster -> 0
    one = FakeQAModel({"q?": [("Paris", -0.1), ("paris", -0.2)]}, lambda q, prev, a: -1.0)
    assert IterativePromptingMI(num_samples=2, **EXACT).score(one, ["q?"])[0].score == 0.0


def test_prompt_family_is_the_papers_and_configurable():
    seen = []

    def score_fn(q, prev, a):
        return -1.0

    model = FakeQAModel(ANSWERS, score_fn)
    orig = model.score

    def spy(prompts, conts, **kw):
        seen.extend(zip(prompts, conts))
        return orig(prompts, conts, **kw)

    model.score = spy
    mi = IterativePromptingMI(num_samples=4, **EXACT)
    mi.score(model, ["capital of France?"])
    f1 = mi.follow_up_prompt(model, QAItem("capital of France?"), ["Lyon"])
    assert "Consider the following question: Q: capital of France?\nOne answer to question Q is Lyon.\n" \
           "Provide an answer to the following question: Q: capital of France?" in f1
    two = IterativePromptTemplate().text("Q?", ["A", "B"])
    assert "One answer to question Q is A.\nAnother answer to question Q is B.\n" in two
    # 3 distinct answers under F0 + 3x3 centre pairs under F1, every continuation ends with EOS
    assert len(seen) == 3 + 9 and all(c.endswith(EOS) for _, c in seen)
    assert sum(f1 == p for p, _ in seen) == 3
    assert model.score_entropy == [False]  # MI needs log-probs only
    custom = IterativePromptTemplate(header="Q: {question}", first_answer="Earlier: {answer}.", instruction="")
    assert custom.text("x?", ["y"]).startswith("Q: x?\nEarlier: y.\n")
    with pytest.raises(ValueError, match="template.first_answer"):
        IterativePromptTemplate(first_answer="no placeholder")


def test_batched_equals_one_at_a_time_and_makes_one_call_each():
    qs = {"capital of France?": ANSWERS["capital of France?"],
          "capital of Peru?": [("Lima", -0.1), ("Cusco", -0.9), ("Lima", -0.1)],
          "a fruit?": [("apple", -0.5), ("pear", -0.5), ("plum", -0.6)]}

    def score_fn(q, prev, a):
        base = (len(a) % 5 + 1) / 10
        return math.log(base) + (0.7 if prev and prev[0] == a and q != "a fruit?" else 0.0)

    model = FakeQAModel(qs, score_fn)
    mi = IterativePromptingMI(num_samples=5, **EXACT)
    batched = mi.score(model, list(qs), cache=SampleCache())
    assert len(model.generate_calls) == 1 and len(model.score_calls) == 1
    single = [mi.score(FakeQAModel(qs, score_fn), [q])[0] for q in qs]
    for b, s in zip(batched, single):
        assert b.score == pytest.approx(s.score)
        assert b.details == s.details
    # knowing a many-answer question (no sway) keeps MI at 0
    assert batched[2].score == pytest.approx(0.0, abs=1e-12)
    assert batched[0].score > 0


def test_gammas_and_bad_arguments():
    model = FakeQAModel(ANSWERS, lambda q, prev, a: log(P0[a]) if not prev else (0.0 if a == prev[0] else -1e9))
    r = IterativePromptingMI(num_samples=4, gamma1=0.1, gamma2=0.1, **EXACT).score(model, ["capital of France?"])[0]
    mu1 = np.array(r.details["mu1"])
    joint = np.diag(mu1)
    prod = np.outer(mu1, mu1)
    expected = float(sum(joint[i, t] * math.log((joint[i, t] + 0.1) / (prod[i, t] + 0.1)) for i in range(3) for t in range(3) if joint[i, t] > 0))
    assert r.score == pytest.approx(expected)
    for kw, name in [({"num_samples": 0}, "num_samples"), ({"temperature": 0}, "temperature"),
                     ({"gamma1": -1}, "gamma1"), ({"max_new_tokens": 0}, "max_new_tokens")]:
        with pytest.raises(ValueError, match=name):
            IterativePromptingMI(**kw)
    with pytest.raises(TypeError, match="template"):
        IterativePromptingMI(template="F1")


def test_tiny_model_batched_equals_single(tiny_model):
    mi = IterativePromptingMI(num_samples=4, max_new_tokens=6, clustering="exact")
    qs = ["What is the capital of France?", "One two three?"]
    batched = mi.score(tiny_model, qs, seed=3)
    for q, b in zip(qs, batched):
        [s] = mi.score(tiny_model, [q], seed=3)
        assert s.details["answers"] == b.details["answers"]
        assert s.score == pytest.approx(b.score, abs=1e-4)
        assert 0 <= b.score <= math.log(b.details["num_clusters"]) + 1e-9
        np.testing.assert_allclose(np.sum(b.details["mu2"], axis=1), 1.0)


@pytest.mark.integration
def test_default_model_contract(default_model):
    items = [QAItem("What is the capital of France?"), QAItem("Name a fruit.")]
    res = IterativePromptingMI(num_samples=6).score(default_model, items, seed=0)
    for r in res:
        C = r.details["num_clusters"]
        # the length filter drops answers cut at max_new_tokens (never all of them)
        assert len(r.details["centres"]) == C and 1 <= len(r.details["answers"]) <= 6
        assert 0 <= r.score <= math.log(C) + 1e-9
        assert np.asarray(r.details["mu2"]).shape == (C, C)
        assert sum(r.details["mu1"]) == pytest.approx(1.0)


def test_length_normalised_weights_use_mean_token_logprob():
    # the fake scores every continuation as 2 pseudo-tokens: mean = half the sum
    model = FakeQAModel(ANSWERS, lambda q, prev, a: log(P0[a]) if not prev else (0.0 if a == prev[0] else -1e9))
    r = IterativePromptingMI(num_samples=4, length_normalize=True, **EXACT).score(model, ["capital of France?"])[0]
    w = np.sqrt([P0[c] for c in ["Paris", "Lyon", "Nice"]])
    np.testing.assert_allclose(r.details["mu1"], w / w.sum())
    assert r.score == pytest.approx(entropy(w / w.sum()))
    assert r.details["mu1_frequency"] == pytest.approx([0.5, 0.25, 0.25])


def test_alternative_weightings_in_details():
    model = FakeQAModel(ANSWERS, lambda q, prev, a: log(P0[a]) if not prev else (0.0 if a == prev[0] else -1e9))
    r = IterativePromptingMI(num_samples=4, **EXACT).score(model, ["capital of France?"])[0]
    w = np.sqrt([0.5, 0.3, 0.2])
    assert r.details["mi_sequence"] == pytest.approx(r.score) == pytest.approx(entropy([0.5, 0.3, 0.2]))
    assert r.details["mi_length_normalized"] == pytest.approx(entropy(w / w.sum()))
    assert r.details["mi_frequency_mu1"] == pytest.approx(entropy([0.5, 0.25, 0.25]))


def test_mu2_aggregates_every_member_of_each_cluster():
    # cluster 0 = {Paris, paris}; under F1(x, X_i) the second member "paris" carries mass
    # that a one-representative µ2 would miss.
    answers = {"capital of France?": [("Paris", -0.1), ("paris", -0.1), ("Lyon", -0.2)]}
    p0 = {"Paris": 0.4, "paris": 0.2, "Lyon": 0.1}
    p1 = {"Paris": {"Paris": 0.1, "paris": 0.5, "Lyon": 0.2}, "Lyon": {"Paris": 0.05, "paris": 0.05, "Lyon": 0.6}}

    def score_fn(q, prev, a):
        return log(p0[a]) if not prev else log(p1[prev[0]][a])

    model = FakeQAModel(answers, score_fn)
    [r] = IterativePromptingMI(num_samples=3, **EXACT).score(model, ["capital of France?"])
    mu1 = [0.6 / 0.7, 0.1 / 0.7]
    mu2 = [[0.6 / 0.8, 0.2 / 0.8], [0.1 / 0.7, 0.6 / 0.7]]  # members summed, then normalised
    np.testing.assert_allclose(r.details["mu2"], mu2)
    assert r.score == pytest.approx(ref_mi(mu1, mu2))
    assert model.score_calls == [3 + 2 * 3]  # one call: D under F0 + C·D under F1


def test_paper_matching_rule_and_length_filter():
    mi = IterativePromptingMI()
    assert (mi.num_samples, mi.temperature, mi.clustering, mi.clustering_kwargs) == (10, 0.9, "lexical", {"threshold": 0.25})
    assert mi.drop_unfinished
    from llminfo.analyzers.clustering import cluster_answers

    # F1("Leo Tolstoy", "Tolstoy wrote it") = 2·(1/2·1/3)/(1/2+1/3) = 0.4 ≥ 0.25; no question stripping
    assert cluster_answers(["Leo Tolstoy", "Tolstoy wrote it", "Dostoevsky"], "lexical", threshold=0.25) == [0, 0, 1]

    from llminfo.models.base import Completion

    class Cut(FakeQAModel):
        def generate(self, prompts, **kw):
            out = super().generate(prompts, **kw)
            for comps in out:
                comps[1] = Completion("Lyon and a very long", [1, 2], [-1, -1], [0.3, 0.3], "length", [-1, -1])
            return out

    model = Cut({"capital of France?": [("Paris", -0.1), ("x", -1.0), ("Paris", -0.1)]}, lambda q, prev, a: -1.0)
    [r] = IterativePromptingMI(num_samples=3, **EXACT).score(model, ["capital of France?"])
    assert r.details["answers"] == ["Paris", "Paris"]
    [r] = IterativePromptingMI(num_samples=3, drop_unfinished=False, **EXACT).score(model, ["capital of France?"])
    assert r.details["answers"] == ["Paris", "Lyon and a very long", "Paris"]


@pytest.mark.parametrize(
    "kwargs, match",
    [({"num_samples": 0}, "`num_samples`"), ({"num_samples": True}, "`num_samples`"), ({"temperature": 0}, "`temperature`"),
     ({"max_new_tokens": 0}, "`max_new_tokens`"), ({"max_new_tokens": None}, "`max_new_tokens`"), ({"max_new_tokens": True}, "`max_new_tokens`")],
)
def test_sampling_arguments_are_checked_as_semantic_entropy_checks_them(kwargs, match):
    from llminfo.analyzers.semantic_entropy import SemanticEntropy

    with pytest.raises(ValueError, match=match):
        IterativePromptingMI(**kwargs)
    if kwargs.get("max_new_tokens", 1) is not None:  # None is SemanticEntropy's "the prompt's default length"
        with pytest.raises(ValueError, match=match):
            SemanticEntropy(**kwargs)
