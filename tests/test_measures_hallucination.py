"""Semantic entropy and iterative-prompting MI: invariants of DESIGN.md, independent
references (scipy-free brute force), randomised property tests and input validation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo import measures as M

# ---------------------------------------------------------------------------------------
# independent references (plain Python loops, no shared helpers)
# ---------------------------------------------------------------------------------------


def ref_semantic_entropy(ids, lps):
    z = sum(math.exp(x) for x in lps)
    mass = {}
    for c, x in zip(ids, lps):
        mass[c] = mass.get(c, 0.0) + math.exp(x) / z
    return -sum(p * math.log(p) for p in mass.values() if p > 0)


def ref_mi(mu1, mu2):
    """Mutual information of X1 ~ mu1, X2 | X1=i ~ mu2[i], by the textbook formula."""
    C = len(mu1)
    joint = [[mu1[i] * mu2[i][t] for t in range(C)] for i in range(C)]
    px = [sum(joint[i]) for i in range(C)]
    py = [sum(joint[i][t] for i in range(C)) for t in range(C)]
    return sum(
        joint[i][t] * math.log(joint[i][t] / (px[i] * py[t])) for i in range(C) for t in range(C) if joint[i][t] > 0
    )


def ref_total_correlation(joint):
    """Σ p ln p − Σ_t Σ p_t ln p_t = Σ_t H(X_t) − H(X)."""
    h = lambda p: -sum(x * math.log(x) for x in p if x > 0)  # noqa: E731
    margs = [joint.sum(axis=tuple(a for a in range(joint.ndim) if a != t)) for t in range(joint.ndim)]
    return sum(h(m) for m in margs) - h(joint.ravel())


def dist(rng, c):
    p = rng.random(c) + 1e-3
    return p / p.sum()


# ---------------------------------------------------------------------------------------
# semantic entropy
# ---------------------------------------------------------------------------------------


def test_semantic_entropy_one_cluster_is_zero():
    assert M.semantic_entropy([0, 0, 0, 0], [-0.3, -1.2, -5.0, -0.01]) == pytest.approx(0.0, abs=1e-12)
    assert M.discrete_semantic_entropy([3, 3, 3]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("m", [2, 3, 7, 10])
def test_semantic_entropy_equal_clusters_is_log_m(m):
    assert M.semantic_entropy(list(range(m)), [-0.7] * m) == pytest.approx(math.log(m))
    assert M.discrete_semantic_entropy(list(range(m))) == pytest.approx(math.log(m))
    # m clusters of 2 members each, equal likelihoods
    ids = [i // 2 for i in range(2 * m)]
    assert M.semantic_entropy(ids, [-1.0] * (2 * m)) == pytest.approx(math.log(m))
    assert M.discrete_semantic_entropy(ids) == pytest.approx(math.log(m))


def test_semantic_entropy_matches_reference_and_weights_by_likelihood():
    ids = [0, 0, 1, 2, 1]
    lps = [-0.1, -0.4, -2.0, -3.0, -1.5]
    assert M.semantic_entropy(ids, lps) == pytest.approx(ref_semantic_entropy(ids, lps))
    # discrete: counts 2, 2, 1 of 5
    assert M.discrete_semantic_entropy(ids) == pytest.approx(-(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)))
    # a likely cluster dominating gives lower SE than equal likelihoods
    assert M.semantic_entropy([0, 1], [-0.1, -5.0]) < M.semantic_entropy([0, 1], [-1.0, -1.0])


def test_cluster_log_probs_normalised_and_invariant_to_shift():
    lc = M.cluster_log_probs([1, 0, 1, 2], [-1.0, -2.0, -0.5, -3.0])
    assert np.exp(lc).sum() == pytest.approx(1.0)
    lc2 = M.cluster_log_probs([1, 0, 1, 2], [-1.0 - 50, -2.0 - 50, -0.5 - 50, -3.0 - 50])
    np.testing.assert_allclose(lc, lc2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.floats(-30, 0)), min_size=1, max_size=20),
)
def test_semantic_entropy_property(pairs):
    ids = [c for c, _ in pairs]
    lps = [x for _, x in pairs]
    # relabel to dense ids (empty ids are allowed but contribute nothing)
    se = M.semantic_entropy(ids, lps)
    C = len(set(ids))
    assert -1e-12 <= se <= math.log(C) + 1e-9
    assert se == pytest.approx(ref_semantic_entropy(ids, lps), abs=1e-9)
    dse = M.discrete_semantic_entropy(ids)
    assert -1e-12 <= dse <= math.log(C) + 1e-9


def test_semantic_entropy_validation():
    with pytest.raises(ValueError, match="seq_logprobs"):
        M.semantic_entropy([0, 1], [-1.0])
    with pytest.raises(ValueError, match="cluster_ids"):
        M.semantic_entropy([], [])
    with pytest.raises(TypeError, match="cluster_ids"):
        M.semantic_entropy([0.5, 1.0], [-1.0, -1.0])
    with pytest.raises(ValueError, match="cluster_ids"):
        M.discrete_semantic_entropy([0, -1])
    with pytest.raises(ValueError, match="seq_logprobs"):
        M.semantic_entropy([0, 1], [float("nan"), -1.0])
    with pytest.raises(ValueError, match="seq_logprobs"):
        M.semantic_entropy([0, 1], [-math.inf, -math.inf])


# ---------------------------------------------------------------------------------------
# iterative-prompting MI
# ---------------------------------------------------------------------------------------


def test_mi_one_cluster_is_zero():
    assert M.iterative_prompting_mi([1.0], [[1.0]]) == pytest.approx(0.0, abs=1e-12)


def test_mi_mu2_independent_of_first_answer_is_zero():
    rng = np.random.default_rng(0)
    for c in (2, 3, 6):
        row = dist(rng, c)
        assert M.iterative_prompting_mi(dist(rng, c), np.tile(row, (c, 1))) == pytest.approx(0.0, abs=1e-12)


def test_mi_repeating_first_answer_gives_entropy_of_mu1():
    rng = np.random.default_rng(1)
    for c in (2, 4, 9):
        mu1 = dist(rng, c)
        assert M.iterative_prompting_mi(mu1, np.eye(c)) == pytest.approx(float(M.entropy(mu1)))
    # uniform + copy reaches the upper bound ln C
    assert M.iterative_prompting_mi(np.full(5, 0.2), np.eye(5)) == pytest.approx(math.log(5))


def test_mi_matches_textbook_mutual_information():
    rng = np.random.default_rng(2)
    for c in (2, 3, 5):
        mu1 = dist(rng, c)
        mu2 = np.stack([dist(rng, c) for _ in range(c)])
        assert M.iterative_prompting_mi(mu1, mu2) == pytest.approx(ref_mi(mu1.tolist(), mu2.tolist()))


def test_mi_gammas_follow_the_formula():
    mu1 = np.array([0.7, 0.3])
    mu2 = np.array([[0.9, 0.1], [0.2, 0.8]])
    joint = mu1[:, None] * mu2
    prod = mu1[:, None] * (mu1 @ mu2)[None, :]
    g1, g2 = 0.05, 0.01
    expected = float(np.sum(joint * np.log((joint + g1) / (prod + g2))))
    assert M.iterative_prompting_mi(mu1, mu2, gamma1=g1, gamma2=g2) == pytest.approx(expected)


def test_mi_zero_entries_in_mu1():
    # a cluster with no first-answer mass contributes nothing and breaks nothing
    mu1 = np.array([0.5, 0.5, 0.0])
    mu2 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert M.iterative_prompting_mi(mu1, mu2) == pytest.approx(math.log(2))


@st.composite
def mi_inputs(draw):
    c = draw(st.integers(1, 6))
    w = st.floats(0.0, 1.0)
    m1 = np.array(draw(st.lists(w, min_size=c, max_size=c))) + 1e-9
    m2 = np.array([draw(st.lists(w, min_size=c, max_size=c)) for _ in range(c)]) + 1e-9
    return m1 / m1.sum(), m2 / m2.sum(axis=1, keepdims=True)


@settings(max_examples=80, deadline=None)
@given(mi_inputs())
def test_mi_bounds_property(inp):
    mu1, mu2 = inp
    c = mu1.size
    mi = M.iterative_prompting_mi(mu1, mu2)
    assert -1e-10 <= mi <= math.log(c) + 1e-9
    assert mi <= float(M.entropy(mu1)) + 1e-9  # I(X1;X2) <= H(X1)
    assert mi == pytest.approx(ref_mi(mu1.tolist(), mu2.tolist()), abs=1e-9)
    # the general estimator agrees on the n = 2 pseudo-joint
    assert M.iterative_prompting_mi_general(mu1[:, None] * mu2) == pytest.approx(mi, abs=1e-9)


def test_general_estimator_n3_equals_total_correlation_and_independence_is_zero():
    rng = np.random.default_rng(3)
    a, b, c = dist(rng, 2), dist(rng, 3), dist(rng, 4)
    indep = a[:, None, None] * b[None, :, None] * c[None, None, :]
    assert M.iterative_prompting_mi_general(indep) == pytest.approx(0.0, abs=1e-12)
    # chain: y2 | y1, y3 | y1, y2 (pseudo-joint = product of conditionals)
    p2 = np.stack([dist(rng, 3) for _ in range(2)])
    p3 = np.stack([[dist(rng, 3) for _ in range(3)] for _ in range(2)])
    joint = a[:, None, None] * p2[:, :, None] * p3
    assert M.iterative_prompting_mi_general(joint) == pytest.approx(ref_total_correlation(joint))
    # perfectly repeated answers: total correlation (n−1)·H
    u = np.zeros((3, 3, 3))
    for i in range(3):
        u[i, i, i] = 1 / 3
    assert M.iterative_prompting_mi_general(u) == pytest.approx(2 * math.log(3))
    # unnormalised weights with normalize=True == normalised
    assert M.iterative_prompting_mi_general(joint * 7.0, normalize=True) == pytest.approx(
        M.iterative_prompting_mi_general(joint)
    )
    # n = 1: nothing to correlate with
    assert M.iterative_prompting_mi_general(a) == pytest.approx(0.0, abs=1e-12)


def test_general_estimator_brute_force_with_gammas():
    rng = np.random.default_rng(4)
    joint = rng.random((2, 2, 3))
    joint /= joint.sum()
    g1, g2 = 0.1, 0.02
    margs = [joint.sum(axis=(1, 2)), joint.sum(axis=(0, 2)), joint.sum(axis=(0, 1))]
    expected = 0.0
    for i, j, k in itertools.product(range(2), range(2), range(3)):
        p = joint[i, j, k]
        expected += p * math.log((p + g1) / (margs[0][i] * margs[1][j] * margs[2][k] + g2))
    assert M.iterative_prompting_mi_general(joint, gamma1=g1, gamma2=g2) == pytest.approx(expected)


def test_mi_validation_names_the_argument():
    with pytest.raises(ValueError, match="`mu1` is not normalised"):
        M.iterative_prompting_mi([0.5, 0.6], np.eye(2))
    with pytest.raises(ValueError, match="`mu2` is not normalised: row 1"):
        M.iterative_prompting_mi([0.5, 0.5], [[1.0, 0.0], [0.5, 0.6]])
    with pytest.raises(ValueError, match="`mu2` has to have shape"):
        M.iterative_prompting_mi([0.5, 0.5], np.eye(3))
    with pytest.raises(ValueError, match="`mu1`"):
        M.iterative_prompting_mi([[0.5, 0.5]], np.eye(2))
    with pytest.raises(ValueError, match="`mu1` has negative"):
        M.iterative_prompting_mi([1.5, -0.5], np.eye(2))
    with pytest.raises(ValueError, match="`mu2` has non-finite"):
        M.iterative_prompting_mi([0.5, 0.5], [[np.nan, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="`gamma1`"):
        M.iterative_prompting_mi([0.5, 0.5], np.eye(2), gamma1=-1.0)
    with pytest.raises(ValueError, match="`gamma2`"):
        M.iterative_prompting_mi([0.5, 0.5], np.eye(2), gamma2=float("inf"))
    with pytest.raises(ValueError, match="`joint` is not normalised"):
        M.iterative_prompting_mi_general(np.ones((2, 2)))
    with pytest.raises(ValueError, match="`joint`"):
        M.iterative_prompting_mi_general(-np.ones((2, 2)) / 4)
    with pytest.raises(ValueError, match="`joint`"):
        M.iterative_prompting_mi_general(np.zeros((2, 2)), normalize=True)
