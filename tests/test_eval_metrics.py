"""Metric functions against scikit-learn and brute-force references on random inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from llminfo.eval import metrics

sk = pytest.importorskip("sklearn.metrics")


def _random_case(seed: int, n: int = 60, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1  # both classes
    s = rng.normal(size=n) + 0.8 * y
    if ties:
        s = np.round(s, 0)
    return y, s


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ties", [False, True])
def test_auroc_auprc_match_sklearn(seed, ties):
    y, s = _random_case(seed, ties=ties)
    assert metrics.auroc(y, s) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)
    assert metrics.auprc(y, s) == pytest.approx(sk.average_precision_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_roc_curve_matches_sklearn(seed):
    y, s = _random_case(seed, ties=True)
    fpr, tpr, thr = metrics.roc_curve(y, s)
    ref_fpr, ref_tpr, _ = sk.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    assert np.trapezoid(tpr, fpr) == pytest.approx(metrics.auroc(y, s))


def _brute_auarc(q, u):
    """Average over every tie-breaking order of the accuracy-rejection area."""
    n = len(q)
    areas = []
    for perm in itertools.permutations(range(n)):
        order = sorted(perm, key=lambda i: u[i])  # stable: ties keep the permutation's order
        acc = [np.mean([q[j] for j in order[:k]]) for k in range(1, n + 1)]
        areas.append(np.mean(acc))
    return float(np.mean(areas))


@pytest.mark.parametrize("seed", range(5))
def test_auarc_equals_brute_force_over_tie_orders(seed):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 2, 6).astype(float)
    u = rng.integers(0, 3, 6).astype(float)  # many ties
    assert metrics.auarc(q, u) == pytest.approx(_brute_auarc(q, u), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_prr_against_random_and_oracle(seed):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 2, 80).astype(float)
    q[:2] = [0, 1]
    # Oracle ordering → 1; constant uncertainty = random → 0; worst-first ordering is the minimum.
    assert metrics.prr(q, -q) == pytest.approx(1.0)
    worst = metrics.prr(q, q)
    assert worst < 0
    assert all(worst <= metrics.prr(q, rng.random(q.size)) <= 1 for _ in range(200))
    assert metrics.prr(q, np.zeros_like(q)) == pytest.approx(0.0, abs=1e-12)
    # Expected AUARC under random scores is the accuracy: average over many random orders.
    areas = [metrics.auarc(q, rng.random(q.size)) for _ in range(3000)]
    assert np.mean(areas) == pytest.approx(q.mean(), abs=0.01)
    u = rng.normal(size=q.size) - q
    raw = metrics.prr(q, u, normalize=False)
    assert raw == pytest.approx(metrics.auarc(q, u) - q.mean())
    assert metrics.prr(q, u) == pytest.approx(raw / (metrics.auarc(q, -q) - q.mean()))


def test_risk_coverage_and_accuracy_at_coverage():
    rng = np.random.default_rng(3)
    q = rng.integers(0, 2, 50).astype(float)
    u = rng.normal(size=50)  # no ties: plain sorting is the reference
    sorted_q = q[np.argsort(u)]
    cov, risk = metrics.risk_coverage_curve(q, u)
    np.testing.assert_allclose(risk, 1 - np.cumsum(sorted_q) / np.arange(1, 51))
    np.testing.assert_allclose(cov, np.arange(1, 51) / 50)
    for c in (0.1, 0.33, 0.5, 1.0):
        k = math.ceil(c * 50)
        assert metrics.accuracy_at_coverage(q, u, c) == pytest.approx(sorted_q[:k].mean())


@pytest.mark.parametrize("seed", range(6))
def test_ece_brier_match_references(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(200)
    y = (rng.random(200) < p**1.5).astype(float)
    from sklearn.calibration import calibration_curve

    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.histogram(p, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0]
    ref = np.sum(counts / 200 * np.abs(prob_true - prob_pred))
    assert metrics.ece(y, p, n_bins=10) == pytest.approx(ref, abs=1e-12)
    assert metrics.brier(y, p) == pytest.approx(sk.brier_score_loss(y, p), abs=1e-12)
    conf, acc, count = metrics.reliability_bins(y, p, 10)
    assert count.sum() == 200
    np.testing.assert_allclose(conf[count > 0], prob_pred)


def test_ece_perfect_calibration_is_zero():
    y = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1, 1], dtype=float)  # 70 % right
    assert metrics.ece(y, np.full(10, 0.7)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_logistic_fit_matches_sklearn(seed):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=300)
    y = (rng.random(300) < 1 / (1 + np.exp(-(1.5 - 2.0 * x)))).astype(int)
    a, b = metrics.fit_logistic(x, y, l2=0.0)
    ref = LogisticRegression(C=1e10, tol=1e-12, max_iter=10000).fit(x[:, None], y)
    assert a == pytest.approx(ref.coef_[0, 0], rel=1e-4)
    assert b == pytest.approx(ref.intercept_[0], rel=1e-4)


def test_cross_fitted_confidence_is_out_of_fold_and_in_range():
    rng = np.random.default_rng(0)
    u = rng.normal(size=100)
    y = (rng.random(100) < 1 / (1 + np.exp(3 * u))).astype(float)
    c = metrics.cross_fitted_confidence(y, u, folds=5, seed=1)
    assert c.shape == (100,) and np.all((c > 0) & (c < 1))
    # Higher uncertainty → lower confidence (monotone fit), and better than a constant.
    assert np.corrcoef(u, c)[0, 1] < -0.9
    assert metrics.brier(y, c) < metrics.brier(y, np.full(100, y.mean()))
    np.testing.assert_array_equal(c, metrics.cross_fitted_confidence(y, u, folds=5, seed=1))


def test_bootstrap_ci_is_seeded_and_contains_estimate():
    y, s = _random_case(0, n=120)
    lo, hi = metrics.bootstrap_ci(metrics.auroc, y, s, n_resamples=300, seed=7)
    assert (lo, hi) == metrics.bootstrap_ci(metrics.auroc, y, s, n_resamples=300, seed=7)
    assert lo < metrics.auroc(y, s) < hi
    assert (lo, hi) != metrics.bootstrap_ci(metrics.auroc, y, s, n_resamples=300, seed=8)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: metrics.auroc([1, 1], [0.1, 0.2]), "single class"),
        (lambda: metrics.auroc([0, 2], [0.1, 0.2]), "only 0 and 1"),
        (lambda: metrics.auroc([0, 1], [0.1]), "same length"),
        (lambda: metrics.auroc([0, 1], [0.1, float("nan")]), "NaN"),
        (lambda: metrics.ece([0, 1], [0.1, 1.2]), "confidence"),
        (lambda: metrics.accuracy_at_coverage([0, 1], [0.1, 0.2], 0), "coverage"),
        (lambda: metrics.prr([1, 1], [0.1, 0.2]), "constant"),
        (lambda: metrics.auarc([], []), "empty"),
    ],
)
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("k, n", [(0, 1), (0, 20), (3, 20), (20, 20), (7, 113)])
def test_wilson_upper_matches_scipy(k, n):
    from scipy.stats import binomtest

    from llminfo import measures

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert measures.wilson_upper(k, n, alpha=0.05) == pytest.approx(ci.high, abs=1e-9)
    assert measures.wilson_upper(0, 0) == 1.0
    with pytest.raises(ValueError, match="k <= n"):
        measures.wilson_upper(3, 2)


def test_isr_audit_counts_answered_items_only():
    from scipy.stats import binomtest

    dec = ["answer", "abstain", "answer", "answer", "abstain"]
    correct = [1, 0, 0, 1, 1]
    a = metrics.isr_audit(dec, correct)
    assert (a["n"], a["answered"], a["hallucinations"]) == (5, 3, 1)
    assert a["abstention_rate"] == pytest.approx(0.4) and a["hallucination_rate"] == pytest.approx(1 / 3)
    assert a["wilson_upper"] == pytest.approx(binomtest(1, 3).proportion_ci(method="wilson").high)
    none = metrics.isr_audit(["abstain"] * 2, [1, 0])
    assert none["hallucination_rate"] is None and none["wilson_upper"] == 1.0
    with pytest.raises(ValueError, match="decisions"):
        metrics.isr_audit(["maybe"], [1])
    with pytest.raises(ValueError, match="decisions"):
        metrics.isr_audit(["answer"], [1, 0])


def test_qa_task_reports_isr_audit_for_deciding_methods():
    from llminfo.eval.task_qa import isr_audits

    rows = [{"correct": c, "details": {"edfl": {"decision": d}, "msp": {"answer": "x"}}}
            for c, d in [(1, "answer"), (0, "answer"), (0, "abstain"), (1, "abstain")]]
    out = isr_audits(rows)
    assert list(out) == ["edfl"]
    assert out["edfl"] == metrics.isr_audit(["answer", "answer", "abstain", "abstain"], [1, 0, 0, 1])
