"""EDFL / ISR: the measures (closed forms, invariants, properties, errors) and the analyzer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo import measures as M

probs = st.floats(min_value=1e-4, max_value=1 - 1e-4)
budgets = st.floats(min_value=0.0, max_value=15.0)


def _kl(p: float, q: float) -> float:
    # Independent closed form (not measures.bernoulli_kl).
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out


# -- edfl_max_prob ---------------------------------------------------------------------


def test_max_prob_zero_budget_is_prior():
    for q in (0.01, 0.3, 0.5, 0.99):
        assert M.edfl_max_prob(0.0, q) == q


@settings(max_examples=200, deadline=None)
@given(budgets, probs)
def test_max_prob_solves_the_kl_equation(delta, q):
    p = M.edfl_max_prob(delta, q)
    assert q <= p <= 1.0
    if p < 1.0:
        # p is the boundary: KL(p‖q) = Δ̄, and any larger p exceeds the budget.
        assert _kl(p, q) == pytest.approx(delta, abs=1e-7)
        assert _kl(min(1.0, p + 1e-6), q) > delta - 1e-9
    else:
        assert -math.log(q) <= delta + 1e-12


@settings(max_examples=200, deadline=None)
@given(budgets, budgets, probs)
def test_max_prob_increases_with_budget(d1, d2, q):
    lo, hi = sorted((d1, d2))
    assert M.edfl_max_prob(lo, q) <= M.edfl_max_prob(hi, q) + 1e-12


def test_max_prob_saturates_at_log_inverse_prior():
    q = 0.2
    assert M.edfl_max_prob(-math.log(q), q) == 1.0
    assert M.edfl_max_prob(-math.log(q) - 1e-3, q) < 1.0


def test_max_prob_against_scipy_free_root():
    # Closed form check at a point: KL(Ber(0.9)‖Ber(0.5)) is the budget that allows p = 0.9.
    delta = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert M.edfl_max_prob(delta, 0.5) == pytest.approx(0.9, abs=1e-9)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "1", None, True])
def test_max_prob_bad_delta(bad):
    with pytest.raises(ValueError, match="delta_bar"):
        M.edfl_max_prob(bad, 0.5)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5, float("nan"), float("inf")])
def test_max_prob_bad_prior(bad):
    with pytest.raises(ValueError, match="q_bar"):
        M.edfl_max_prob(1.0, bad)


# -- bits_to_trust / isr ----------------------------------------------------------------


def test_b2t_closed_form_and_zero():
    assert M.bits_to_trust(0.5, 0.05) == pytest.approx(_kl(0.95, 0.5))
    assert M.bits_to_trust(0.9, 0.1) == pytest.approx(0.0, abs=1e-12)
    assert M.bits_to_trust(0.01, 0.05) == pytest.approx(_kl(0.95, 0.01))


@settings(max_examples=100, deadline=None)
@given(probs, probs, st.floats(min_value=0.001, max_value=0.5))
def test_b2t_decreases_with_prior_below_target(q1, q2, h):
    lo, hi = sorted((q1, q2))
    hi = min(hi, 1 - h)
    lo = min(lo, hi)
    assert M.bits_to_trust(lo, h) >= M.bits_to_trust(hi, h) - 1e-12


@settings(max_examples=100, deadline=None)
@given(probs, st.floats(min_value=0.001, max_value=0.5))
def test_isr_one_means_budget_reaches_target(q, h):
    # ISR = 1 exactly when Δ̄ = B2T, and then EDFL lets p reach 1 − h* from the prior q (q < 1 − h*).
    if q >= 1 - h - 1e-3:
        return
    b2t = M.bits_to_trust(q, h)
    assert M.isr(b2t, b2t) == pytest.approx(1.0)
    assert M.edfl_max_prob(b2t, q) == pytest.approx(1 - h, abs=1e-7)


def test_isr_values_and_errors():
    assert M.isr(1.0, 0.5) == 2.0
    assert M.isr(0.0, 0.0) == 1.0
    assert M.isr(1.0, 0.0) == math.inf
    with pytest.raises(ValueError, match="b2t"):
        M.isr(1.0, -1.0)
    with pytest.raises(ValueError, match="q_lo"):
        M.bits_to_trust(0.0)
    with pytest.raises(ValueError, match="h_star"):
        M.bits_to_trust(0.5, h_star=1.0)


# -- information_budget -----------------------------------------------------------------


def test_budget_reference_loop():
    rng = np.random.default_rng(0)
    full = np.log(rng.uniform(0.01, 1, size=5))
    skel = np.log(rng.uniform(1e-8, 1, size=(5, 4)))
    ref = [np.mean([min(max(f - s, 0.0), 12.0) for s in row]) for f, row in zip(full, skel)]
    np.testing.assert_allclose(M.information_budget(full, skel), ref, rtol=1e-12)
    np.testing.assert_allclose(M.information_budget(full[0], skel[0]), ref[0], rtol=1e-12)


def test_budget_clip_and_infinities():
    assert float(M.information_budget(0.0, [-np.inf, -np.inf])) == 12.0
    assert float(M.information_budget(0.0, [-100.0], clip=3.0)) == 3.0
    assert float(M.information_budget(-np.inf, [-np.inf, -1.0])) == 0.0
    # Equal prompts carry no information; skeletons more confident than the full prompt clip at 0.
    assert float(M.information_budget(np.log(0.4), np.log([0.4, 0.9]))) == 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-30, max_value=0), min_size=1, max_size=8), st.floats(min_value=-30, max_value=0))
def test_budget_bounds(skel, full):
    d = float(M.information_budget(full, skel))
    assert 0.0 <= d <= 12.0


@pytest.mark.parametrize(
    "full, skel, clip, match",
    [
        (0.0, [], 12.0, "logp_skeletons"),
        ([0.0, 0.0], [-1.0, -1.0], 12.0, "logp_skeletons"),
        (0.5, [-1.0], 12.0, "logp_full"),
        (0.0, [float("nan")], 12.0, "logp_skeletons"),
        (0.0, [-1.0], 0.0, "clip"),
        (np.zeros((2, 2)), np.zeros((2, 2, 2)), 12.0, "logp_full"),
    ],
)
def test_budget_errors(full, skel, clip, match):
    with pytest.raises(ValueError, match=match):
        M.information_budget(full, skel, clip=clip)


# -- skeletons ----------------------------------------------------------------------------

from llminfo.analyzers.base import QAItem  # noqa: E402
from llminfo.analyzers.edfl import MASK, EDFLRiskAnalyzer, mask_levels, maskable_spans, skeletons  # noqa: E402
from llminfo.models.base import LanguageModel, ModelInfo, Scored  # noqa: E402


def test_spans_find_entities_numbers_quotes_not_question_words():
    q = "Who wrote 'War and Peace' in 1869, after the 14th edition in Moscow?"
    spans, _ = maskable_spans(q)
    found = {q[s:e] for s, e in spans}
    assert {"'War and Peace'", "1869", "14th", "Moscow"} <= found
    assert "Who" not in found


def test_skeletons_mask_something_are_seeded_and_batch_independent():
    q = "What is the capital of France?"
    sk = skeletons(q, 6, seed=3)
    assert len(sk) == 6 and all(MASK in s and s != q for s in sk)
    assert sk == skeletons(q, 6, seed=3)
    assert any(a != b for a, b in zip(skeletons("Who was the 14th president of the United States?", 6, 0),
                                      skeletons("Who was the 14th president of the United States?", 6, 1)))
    # No entity: content words are masked instead.
    assert all(MASK in s for s in skeletons("what is the atomic number of molybdenum", 4, 0))


def test_mask_levels_increase():
    for m in (1, 3, 6, 9):
        lv = mask_levels(m)
        assert len(lv) == m and all(0 < x < 1 for x in lv) and lv == sorted(lv)


def test_masking_rate_increases_with_level():
    q = ", ".join(f"Name{i}" for i in range(40)) + "?"
    masked = [s.count(MASK) for s in skeletons(q, 6, seed=0)]
    assert masked[-1] > masked[0]


# -- the analyzer on a scripted model -----------------------------------------------------


class ScriptedDecisionModel(LanguageModel):
    """P(answer) is `p_full` on prompts without a mask and `p_skel` on skeletons."""

    name = "scripted"
    backend = "fake"

    def __init__(self, p_full: float, p_skel: float, answer_logp: dict | None = None):
        self.p_full, self.p_skel = p_full, p_skel
        self.answer_logp = answer_logp or {}
        self.calls = {"next_token_logprobs": 0, "score": 0, "generate": 0}
        self.prompts_seen: list[str] = []

    def chat(self, messages, *, system=None):
        return f"<user>{messages}</user><assistant>"

    def next_token_logprobs(self, prompts, candidates):
        self.calls["next_token_logprobs"] += 1
        self.prompts_seen += list(prompts)
        assert list(candidates) == ["Answer", " Answer", "Skip", " Skip"]  # leading-space variants too
        out = []
        for p in prompts:
            a = self.p_skel if MASK in p else self.p_full
            # Unnormalised on purpose: the analyzer must renormalise over the four words.
            out.append([math.log(0.3 * a), math.log(0.2 * a), math.log(0.1 * (1 - a)), math.log(0.4 * (1 - a))])
        return np.array(out)

    def score(self, prompts, continuations):
        self.calls["score"] += 1
        return [Scored([1], [self.answer_logp["skel" if MASK in p else "full"]], [0.0]) for p in prompts]

    def generate(self, prompts, **kw):
        self.calls["generate"] += 1
        from llminfo.models.base import Completion

        return [[Completion("Paris", [1], [0.0], [0.0], "stop")] for _ in prompts]

    def describe(self):
        return ModelInfo("scripted", "fake", 10, 1, 1, 1, 1, 1, 1, 10)

    @property
    def tokenizer(self):
        return None


def _reference(p_full, q, h_star=0.05, margin=0.2, floor=0.2, label="answer", symmetric=True):
    """hallbayes' `evaluate_item` arithmetic: P(y), S_k(y) of the sampled label y, q_k of
    "answer", lifts clipped to [−B, B] (paper audit) or [0, B], q_lo floored."""
    p_y, s_y = (p_full, q) if label == "answer" else (1 - p_full, [1 - x for x in q])
    lo_clip = -12.0 if symmetric else 0.0
    delta = float(np.mean([min(max(math.log(max(p_y, 1e-12)) - math.log(max(x, 1e-12)), lo_clip), 12.0) for x in s_y]))
    delta_pos = max(delta, 0.0)
    q_bar = float(np.mean(q))
    lo, hi = q_bar, 1.0  # independent bisection on the closed-form KL
    if delta_pos >= -math.log(q_bar):
        lo = 1.0
    else:
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _kl(mid, q_bar) <= delta_pos else (lo, mid)
    b2t = _kl(1 - h_star, max(min(q), floor))
    return delta, lo, b2t


@pytest.mark.parametrize("p_full, p_skel", [(0.9, 0.3), (0.99, 0.05), (0.5, 0.5), (0.2, 0.8)])
def test_analyzer_matches_reference(p_full, p_skel):
    model = ScriptedDecisionModel(p_full, p_skel)
    items = [QAItem("What is the capital of France?"), QAItem("Who painted the 'Mona Lisa'?")]
    res = EDFLRiskAnalyzer(skeleton_policy="llminfo").score(model, items)
    assert model.calls["next_token_logprobs"] == 1  # all prompts x skeletons in one call
    assert len(model.prompts_seen) == 2 * 7
    for r in res:
        d = r.details
        delta, p_max, b2t = _reference(p_full, [p_skel] * 6, label=d["event_label"])
        assert d["p_answer"] == pytest.approx(p_full)
        assert d["delta_bar"] == pytest.approx(delta, abs=1e-9)
        assert d["p_max"] == pytest.approx(p_max, abs=1e-8)
        assert r.score == pytest.approx(1 - p_max, abs=1e-8)
        assert d["b2t"] == pytest.approx(b2t)
        assert d["isr"] == pytest.approx(max(delta, 0) / b2t)
        assert d["decision"] == ("answer" if delta / b2t >= 1 and delta >= b2t + 0.2 else "abstain")


def test_event_is_the_label_sampled_first_seeded_per_item():
    from llminfo.analyzers.edfl import EDFLRiskAnalyzer as E

    an = E(skeleton_policy="llminfo")
    item = QAItem("Who painted the 'Mona Lisa'?")
    # the white-box draw: answer iff u < P(answer), u from (seed, question) only
    labels = [an.first_label(0.5, item, seed) for seed in range(200)]
    assert 60 < labels.count("answer") < 140
    assert an.first_label(0.5, item, 7) == an.first_label(0.5, item, 7)
    assert an.first_label(1.0, item, 3) == "answer" and an.first_label(0.0, item, 3) == "refuse"
    # a refuse label measures the lift of P(refuse): skeletons that refuse more give a negative lift
    d = an.decide(0.2, [0.8] * 6, label="refuse")
    delta, p_max, _ = _reference(0.2, [0.8] * 6, label="refuse")
    assert d["p_event"] == pytest.approx(0.8) and d["delta_bar"] == pytest.approx(delta) == pytest.approx(math.log(0.8 / 0.2))
    # symmetric clip (paper audit) vs hallbayes' one-sided clip
    sym = an.decide(0.2, [0.9, 0.1], label="answer")["delta_bar"]
    one = E(skeleton_policy="llminfo", clip_mode="one-sided").decide(0.2, [0.9, 0.1], label="answer")["delta_bar"]
    assert sym == pytest.approx((math.log(0.2 / 0.9) + math.log(2.0)) / 2)
    assert one == pytest.approx(math.log(2.0) / 2)


def test_paper_skeletons_transcribe_hallbayes():
    import random

    from llminfo.analyzers.edfl import paper_skeletons

    def hb_mask(text, strength, rng, mask="[…]"):  # hallbayes mask_entities_numbers
        import re

        pats = [re.compile(r"([“\"'])(.+?)\1"), re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b"),
                re.compile(r"\b(1|2)\d{3}\b"), re.compile(r"\b\d+(?:\.\d+)?\b")]
        for p in pats:
            text = p.sub(lambda m: mask if rng.random() < strength else m.group(0), text)
        return text

    q = "Who wrote 'War and Peace' in 1869 while living near Yasnaya Polyana with 13 children?"
    sk = paper_skeletons(q, None, 6, seed=0)
    levels = (0.25, 0.35, 0.5, 0.65, 0.8, 0.9)
    assert [x for x, _ in sk] == [hb_mask(q, levels[k], random.Random(k)) for k in range(6)]
    assert sk == paper_skeletons(q, None, 6, seed=0) and sk != paper_skeletons(q, None, 6, seed=5)
    # a single-word entity is not masked by hallbayes' patterns: the skeleton is the question
    assert paper_skeletons("What is the capital of France?", None, 2) == [("What is the capital of France?", None)] * 2
    # evidence: erased, the other evidence lines permuted, the question kept
    ctx = "Tolstoy wrote it.\nIt was published in 1869.\nIt is long.\nIt has four volumes."
    ev = paper_skeletons("Who wrote it?", ctx, 3, seed=0)
    for k, (qq, c) in enumerate(ev):
        lines = ["It was published in 1869.", "It is long.", "It has four volumes."]
        idx = list(range(3))
        random.Random(k).shuffle(idx)
        assert qq == "Who wrote it?" and c == "[…]\n" + "\n".join(lines[i] for i in idx)


def test_strong_lift_answers_no_lift_abstains():
    an = EDFLRiskAnalyzer(skeleton_policy="llminfo", q_floor=0.01)
    answer = an.score(ScriptedDecisionModel(0.999, 0.02), ["What is the capital of France?"])[0]
    abstain = an.score(ScriptedDecisionModel(0.6, 0.6), ["What is the capital of France?"])[0]
    assert answer.details["decision"] == "answer" and abstain.details["decision"] == "abstain"
    assert answer.score < abstain.score


def test_context_is_masked_not_question():
    model = ScriptedDecisionModel(0.9, 0.3)
    item = QAItem("What city is it?", context="The Eiffel Tower stands in Paris, built in 1889.")
    EDFLRiskAnalyzer(num_skeletons=3).score(model, [item])
    full, *sk = model.prompts_seen
    assert MASK not in full and all("Question: What city is it?" in s and MASK in s for s in sk)


def test_answer_event_uses_one_score_call():
    model = ScriptedDecisionModel(0.5, 0.5, answer_logp={"full": math.log(0.6), "skel": math.log(0.1)})
    [r] = EDFLRiskAnalyzer(event="answer", score_by="delta", skeleton_policy="llminfo").score(model, [QAItem("Capital of France?", answer="Paris")])
    assert model.calls == {"next_token_logprobs": 0, "score": 1, "generate": 0}
    assert r.details["delta_bar"] == pytest.approx(math.log(6))
    assert r.score == pytest.approx(1 / 6)


def test_samples_mode_uses_fractions():
    class Sampler(ScriptedDecisionModel):
        def generate(self, prompts, n=1, **kw):
            from llminfo.models.base import Completion

            self.calls["generate"] += 1
            k = lambda p: round(n * (self.p_skel if MASK in p else self.p_full))  # noqa: E731
            return [[Completion("Answer" if j < k(p) else "Skip", [1], [0.0], [0.0], "stop") for j in range(n)] for p in prompts]

    model = Sampler(0.75, 0.25)
    an = EDFLRiskAnalyzer(mode="samples", num_samples=8, skeleton_policy="llminfo")
    assert EDFLRiskAnalyzer(mode="samples").temperature == 0.5 and an.q_floor == 0.1  # 1/(n+2)
    [r] = an.score(model, ["What is the capital of France?"])
    assert model.calls["generate"] == 1
    # the first sampled decision is "Answer": y = answer, P(y) = 6/8, S_k(y) = 2/8
    assert r.details["event_label"] == "answer"
    assert r.details["p_answer"] == 0.75 and r.details["q_skeletons"] == [0.25] * 6
    assert r.details["q_lo"] == 0.25 and r.details["delta_bar"] == pytest.approx(math.log(3))
    # first decision "Skip" (full prompt refuses 7 of 8 times, first sample refuses): y = refuse
    model = Sampler(0.125, 0.75)

    def gen(prompts, n=1, **kw):
        from llminfo.models.base import Completion

        model.calls["generate"] += 1
        k = lambda p: round(n * (model.p_skel if MASK in p else model.p_full))  # noqa: E731
        return [[Completion("Answer" if j >= n - k(p) else "Skip", [1], [0.0], [0.0], "stop") for j in range(n)] for p in prompts]

    model.generate = gen
    [r] = an.score(model, ["What is the capital of France?"])
    assert r.details["event_label"] == "refuse" and r.details["p_event"] == 0.875
    assert r.details["delta_bar"] == pytest.approx(math.log(0.875 / 0.25))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"num_skeletons": 0}, "num_skeletons"),
        ({"h_star": 1.0}, "h_star"),
        ({"mode": "vote"}, "mode"),
        ({"answer_words": "Answer"}, "answer_words"),
        ({"refuse_words": ["Answer"]}, "overlap"),
        ({"refuse_words": [" Answer"]}, "overlap"),
        ({"space_variants": "yes"}, "space_variants"),
        ({"template": "no field"}, "template"),
        ({"event": "x"}, "event"),
        ({"score_by": "x"}, "score_by"),
        ({"q_floor": 0.0}, "q_floor"),
    ],
)
def test_analyzer_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        EDFLRiskAnalyzer(**kw)


def test_tiny_model_batched_equals_one_at_a_time(tiny_model):
    items = [QAItem("What is the capital of France?"), QAItem("Who wrote 'The Quick Fox'?", answer="Paris")]
    for kw in ({}, {"event": "answer"}):
        an = EDFLRiskAnalyzer(num_skeletons=3, **kw)
        batched = an.score(tiny_model, items, seed=1)
        single = [an.score(tiny_model, [it], seed=1)[0] for it in items]
        for b, s in zip(batched, single):
            assert b.score == pytest.approx(s.score, abs=1e-6)
            assert 0.0 <= b.score <= 1.0 and b.details["decision"] in ("answer", "abstain")


def test_edfl_answer_preset_equals_answer_event():
    from llminfo.analyzers.edfl import EDFLAnswerRiskAnalyzer
    from llminfo.analyzers.scorer import available_methods

    assert available_methods()["edfl_answer"] is EDFLAnswerRiskAnalyzer
    logp = {"full": math.log(0.7), "skel": math.log(0.05)}
    item = [QAItem("Capital of France?", answer="Paris")]
    a = EDFLAnswerRiskAnalyzer().score(ScriptedDecisionModel(0.5, 0.5, logp), item)[0]
    b = EDFLRiskAnalyzer(event="answer").score(ScriptedDecisionModel(0.5, 0.5, logp), item)[0]
    c = EDFLRiskAnalyzer(event="answer", skeleton_policy="llminfo", clip_mode="one-sided", q_floor=0.01, num_skeletons=4)
    b = c.score(ScriptedDecisionModel(0.5, 0.5, logp), item)[0]
    assert a.score == b.score and a.details == b.details


def test_decision_words_with_leading_space_against_a_direct_forward_pass(tiny_model):
    # P(answer) = mass of {w, " " + w} over the answer words / that mass plus the refuse words',
    # each word's probability the product of its tokens' conditionals (multi-token words too),
    # computed here by hand from a direct forward pass.
    import torch

    from llminfo.analyzers.edfl import decision_word_variants

    tok = tiny_model.tokenizer
    prompts = ["Question: What is the capital of France?\nReply:", "Is it true?\nReply:"]

    def word_prob(prompt: str, word: str) -> float:
        p_ids = tok(prompt)["input_ids"]
        w_ids = tok(word, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = tiny_model.model(input_ids=torch.tensor([p_ids + w_ids])).logits[0].double()
        lp = torch.log_softmax(logits[len(p_ids) - 1 : -1], dim=-1)
        return float(torch.exp(lp.gather(1, torch.tensor(w_ids)[:, None]).sum()))

    assert decision_word_variants(["Answer"]) == ["Answer", " Answer"] and decision_word_variants(["Answer"], False) == ["Answer"]
    for yes, no in (("Answer", "Skip"), ("yes", "no")):
        assert tok(" " + yes, add_special_tokens=False)["input_ids"] != tok(yes, add_special_tokens=False)["input_ids"]
        with_space, _ = EDFLRiskAnalyzer(answer_words=[yes], refuse_words=[no]).answer_probs(tiny_model, prompts)
        without, _ = EDFLRiskAnalyzer(answer_words=[yes], refuse_words=[no], space_variants=False).answer_probs(tiny_model, prompts)
        for i, p in enumerate(prompts):
            m = {w: word_prob(p, w) for w in (yes, " " + yes, no, " " + no)}
            want = (m[yes] + m[" " + yes]) / sum(m.values())
            assert with_space[i] == pytest.approx(want, rel=1e-5, abs=1e-9)
            assert without[i] == pytest.approx(m[yes] / (m[yes] + m[no]), rel=1e-5, abs=1e-9)
            if yes == "yes":  # here the variants move the log-odds by more than 1 nat
                logit = lambda x: math.log(x / (1 - x))  # noqa: E731
                assert abs(logit(with_space[i]) - logit(without[i])) > 1.0


def test_paper_skeletons_multiline_preserve_roles_as_hallbayes():
    """hallbayes' `make_skeletons_closed_book` with preserve_roles on a multi-line prompt: the
    whole text is masked first (consuming the rng), then the first line is kept verbatim and
    the other lines are masked again with the same rng and permuted by `Random(seed)`."""
    import random
    import re

    from llminfo.analyzers.edfl import paper_skeletons

    pats = [re.compile(r"([“\"'])(.+?)\1"), re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b"),
            re.compile(r"\b(1|2)\d{3}\b"), re.compile(r"\b\d+(?:\.\d+)?\b")]

    def hb_mask(text, strength, rng):
        for p in pats:
            text = p.sub(lambda m: "[…]" if rng.random() < strength else m.group(0), text)
        return text

    def hb_permute(text, seed):
        lines = [ln for ln in text.splitlines() if ln.strip() != ""]
        blocks = lines if len(lines) >= 2 else [text]
        idx = list(range(len(blocks)))
        random.Random(seed).shuffle(idx)
        return "\n".join(blocks[i] for i in idx)

    q = "Who wrote \"War and Peace\" in 1869?\nJohn Smith said 12 things in 1999.\n\nMary Ann Lee lives at 42 Main Street."
    levels = (0.25, 0.35, 0.5, 0.65, 0.8, 0.9)
    for seed in (0, 3):
        ref = []
        for k in range(6):
            rng = random.Random(seed + k)
            hb_mask(q, levels[k], rng)  # hallbayes masks the whole text first (its result unused here)
            head, tail = q.splitlines()[0], "\n".join(q.splitlines()[1:])
            ref.append(head + "\n" + hb_permute(hb_mask(tail, levels[k], rng), seed + k))
        assert [x for x, _ in paper_skeletons(q, None, 6, seed=seed)] == ref
