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
