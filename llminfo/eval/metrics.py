"""Metrics for uncertainty scores: does a score rank wrong answers above right ones?

Conventions: `uncertainty` is any real score where **higher = less trustworthy** (every
llminfo hallucination method follows this); `correct` is 1 for a right answer, 0 for a
wrong one (or a quality in [0, 1] for the rejection metrics); `confidence` is a probability
in [0, 1] that the answer is right (for calibration metrics). Ties in `uncertainty` are
handled exactly: rank metrics use average ranks, rejection metrics the expectation over
random tie-breaking (equivalently, qualities averaged inside each tie group).

numpy only; the tests compare every function with scikit-learn on random inputs.

Example:
    >>> import numpy as np
    >>> from llminfo.eval import metrics
    >>> correct = np.array([1, 1, 0, 1, 0]); uncertainty = np.array([0.1, 0.4, 0.9, 0.2, 0.5])
    >>> metrics.auroc(1 - correct, uncertainty)        # positives = wrong answers
    1.0
    >>> round(metrics.prr(correct, uncertainty, normalize=True), 3)
    1.0
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from llminfo import measures

ArrayLike = np.ndarray | Sequence[float]


# -- input checks ------------------------------------------------------------------------


def _vector(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"`{name}` has to be a 1-D sequence, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"`{name}` is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"`{name}` contains NaN or infinite values (at index {int(np.argmin(np.isfinite(a)))})")
    return a


def _pair(y: ArrayLike, s: ArrayLike, y_name: str, s_name: str, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    y_a, s_a = _vector(y, y_name), _vector(s, s_name)
    if y_a.shape != s_a.shape:
        raise ValueError(f"`{y_name}` and `{s_name}` must have the same length, got {y_a.size} and {s_a.size}")
    if binary and not np.all((y_a == 0) | (y_a == 1)):
        raise ValueError(f"`{y_name}` has to contain only 0 and 1")
    if not binary and (y_a.min() < 0 or y_a.max() > 1):
        raise ValueError(f"`{y_name}` has to lie in [0, 1]")
    return y_a, s_a


def _both_classes(y: np.ndarray, name: str) -> None:
    if y.min() == y.max():
        raise ValueError(f"`{name}` holds a single class: the metric is undefined (need both 0 and 1)")


# -- ranking ------------------------------------------------------------------------------


def auroc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative).

    Mann–Whitney U statistic with ties counted one half (Hanley & McNeil, Radiology 1982).
    For hallucination detection pass `y_true = 1 - correct` and `scores = uncertainty`.

    Args:
        y_true (`(n,)` 0/1): 1 = positive.
        scores (`(n,)` float): higher = more likely positive.

    Example:
        >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    y, s = _pair(y_true, scores, "y_true", "scores", binary=True)
    _both_classes(y, "y_true")
    return measures.auroc(y, s)


def roc_curve(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points at every distinct threshold, from (0, 0) to (1, 1).

    Returns:
        `(fpr, tpr, thresholds)`, each `(k + 1,)` for k distinct scores; threshold i keeps
        `scores >= thresholds[i]` positive (the first threshold is +inf).
    """
    y, s = _pair(y_true, scores, "y_true", "scores", binary=True)
    _both_classes(y, "y_true")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s_sorted)), s.size - 1]
    tps = np.cumsum(y_sorted)[last_of_group]
    fps = (last_of_group + 1) - tps
    tpr = np.r_[0.0, tps / y.sum()]
    fpr = np.r_[0.0, fps / (y.size - y.sum())]
    return fpr, tpr, np.r_[np.inf, s_sorted[last_of_group]]


def auprc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the precision–recall curve as average precision, Σ_t (R_t − R_{t−1}) P_t.

    The step-wise (non-interpolated) estimator over distinct thresholds (Manning, Raghavan
    & Schütze 2008, §8.4); equals scikit-learn's `average_precision_score`.

    Args:
        y_true (`(n,)` 0/1): 1 = positive (e.g. a wrong answer).
        scores (`(n,)` float): higher = more likely positive.
    """
    y, s = _pair(y_true, scores, "y_true", "scores", binary=True)
    if y.sum() == 0:
        raise ValueError("`y_true` has no positive: average precision is undefined")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s_sorted)), s.size - 1]
    tps = np.cumsum(y_sorted)[last_of_group]
    precision = tps / (last_of_group + 1)
    recall = tps / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


# -- rejection (selective prediction) -----------------------------------------------------


def _tie_averaged_quality(quality: np.ndarray, uncertainty: np.ndarray) -> np.ndarray:
    """Qualities sorted most-confident first, averaged inside ties of `uncertainty`.

    The expected quality at every rank under uniformly random tie-breaking.
    """
    order = np.argsort(uncertainty, kind="mergesort")
    u, q = uncertainty[order], quality[order]
    starts = np.r_[0, np.flatnonzero(np.diff(u)) + 1]
    sizes = np.diff(np.r_[starts, u.size])
    means = np.add.reduceat(q, starts) / sizes
    return np.repeat(means, sizes)


def risk_coverage_curve(correct: ArrayLike, uncertainty: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Keep the k most confident answers, k = 1..n: coverage k/n and risk (error rate) of those kept.

    Geifman & El-Yaniv, "Selective classification for deep neural networks", NeurIPS 2017.

    Returns:
        `(coverage, risk)`, each `(n,)`, coverage increasing to 1.
    """
    q, u = _pair(correct, uncertainty, "correct", "uncertainty", binary=False)
    kept_quality = np.cumsum(_tie_averaged_quality(q, u)) / np.arange(1, q.size + 1)
    return np.arange(1, q.size + 1) / q.size, 1.0 - kept_quality


def auarc(correct: ArrayLike, uncertainty: ArrayLike) -> float:
    """Area under the accuracy–rejection curve: mean over k = 1..n of the accuracy of the k
    most confident answers (Nadeem, Zucker & Hanczar 2009; used for LLMs by Lin et al.,
    "Generating with Confidence", TMLR 2024). Random scores give E = accuracy; higher is better.
    """
    coverage, risk = risk_coverage_curve(correct, uncertainty)
    return float(np.mean(1.0 - risk))


def prr(correct: ArrayLike, uncertainty: ArrayLike, normalize: bool = True) -> float:
    """Prediction–rejection ratio (Malinin et al., "Uncertainty in gradient boosting via
    ensembles", ICLR 2021; Fadeeva et al., LM-Polygraph, EMNLP 2023 demo).

    With A(u) the area under the quality–rejection curve when rejecting by `u` (here the
    AUARC), A_rand = mean quality and A_oracle the area when rejecting worst answers first:

        normalised PRR = (A(u) − A_rand) / (A_oracle − A_rand)   1 = oracle, 0 = random, < 0 worse
        unnormalised PRR = A(u) − A_rand                          (area gained over random)

    Args:
        correct (`(n,)` in [0, 1]): 1 = right answer (or any quality, higher = better).
        uncertainty (`(n,)` float): higher = less trustworthy.
        normalize (`bool`, defaults to `True`): return the ratio, else the raw area gain.
    """
    q, u = _pair(correct, uncertainty, "correct", "uncertainty", binary=False)
    a_u = auarc(q, u)
    a_rand = float(q.mean())
    if not normalize:
        return a_u - a_rand
    a_oracle = auarc(q, -q)
    if a_oracle - a_rand <= 0:
        raise ValueError("`correct` is constant: the normalised PRR is undefined")
    return (a_u - a_rand) / (a_oracle - a_rand)


def accuracy_at_coverage(correct: ArrayLike, uncertainty: ArrayLike, coverage: float) -> float:
    """Accuracy of the ⌈coverage · n⌉ most confident answers (ties: expectation).

    Example:
        >>> accuracy_at_coverage([1, 0, 1, 0], [0.1, 0.9, 0.2, 0.3], 0.5)
        1.0
    """
    if not (isinstance(coverage, (int, float)) and 0 < coverage <= 1):
        raise ValueError(f"`coverage` has to be a float in (0, 1], got {coverage!r}")
    q, u = _pair(correct, uncertainty, "correct", "uncertainty", binary=False)
    k = max(1, math.ceil(coverage * q.size - 1e-9))
    return float(_tie_averaged_quality(q, u)[:k].mean())


# -- calibration --------------------------------------------------------------------------


def reliability_bins(
    correct: ArrayLike, confidence: ArrayLike, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-width bins of `confidence`; bin i holds (i/B, (i+1)/B], bin 0 also holds 0.

    Returns:
        `(mean_confidence, accuracy, count)`, each `(n_bins,)`; empty bins have NaN means.
    """
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"`n_bins` has to be an integer >= 1, got {n_bins!r}")
    y, p = _pair(correct, confidence, "correct", "confidence", binary=True)
    if p.min() < 0 or p.max() > 1:
        raise ValueError("`confidence` has to lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges[1:-1], p, side="left"), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(idx, weights=p, minlength=n_bins) / count
        acc = np.bincount(idx, weights=y, minlength=n_bins) / count
    return conf, acc, count


def ece(correct: ArrayLike, confidence: ArrayLike, n_bins: int = 10) -> float:
    """Expected calibration error, Σ_b (|b|/n) |acc(b) − conf(b)| over equal-width bins
    (Naeini, Cooper & Hauskrecht, AAAI 2015; Guo et al., ICML 2017).

    Args:
        correct (`(n,)` 0/1): 1 = right answer.
        confidence (`(n,)` in [0, 1]): predicted probability of being right.
        n_bins (`int`, defaults to 10).
    """
    conf, acc, count = reliability_bins(correct, confidence, n_bins)
    used = count > 0
    return float(np.sum(count[used] / count.sum() * np.abs(acc[used] - conf[used])))


def brier(correct: ArrayLike, confidence: ArrayLike) -> float:
    """Brier score, mean (confidence − correct)² (Brier, Monthly Weather Review 1950). Lower is better."""
    y, p = _pair(correct, confidence, "correct", "confidence", binary=True)
    if p.min() < 0 or p.max() > 1:
        raise ValueError("`confidence` has to lie in [0, 1]")
    return float(np.mean((p - y) ** 2))


def fit_logistic(x: ArrayLike, y: ArrayLike, l2: float = 1e-4, iterations: int = 50) -> tuple[float, float]:
    """One-feature logistic regression P(y=1|x) = σ(a·x + b) by Newton's method (Platt 1999).

    A tiny L2 penalty on `a` keeps separable data finite. Returns `(a, b)`.
    """
    xs, ys = _pair(y, x, "y", "x", binary=True)[::-1]
    mu, sd = xs.mean(), xs.std() or 1.0
    z = (xs - mu) / sd
    w = np.zeros(2)
    design = np.stack([z, np.ones_like(z)], axis=1)
    penalty = np.diag([l2 * xs.size, 0.0])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        grad = design.T @ (p - ys) + penalty @ w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(w[0] / sd), float(w[1] - w[0] * mu / sd)


def cross_fitted_confidence(correct: ArrayLike, uncertainty: ArrayLike, folds: int = 5, seed: int = 0) -> np.ndarray:
    """P(correct) for each item from a logistic fit of `correct` on `uncertainty` trained on
    the *other* folds, so calibration metrics are not measured on the data they were fit to.

    A fold whose training part holds one class falls back to the training accuracy.
    """
    y, u = _pair(correct, uncertainty, "correct", "uncertainty", binary=True)
    if not isinstance(folds, int) or folds < 2:
        raise ValueError(f"`folds` has to be an integer >= 2, got {folds!r}")
    fold_of = np.random.default_rng(seed).permutation(y.size) % min(folds, y.size)
    out = np.empty(y.size)
    for f in np.unique(fold_of):
        test, train = fold_of == f, fold_of != f
        if not train.any() or y[train].min() == y[train].max():
            out[test] = y[train].mean() if train.any() else 0.5
            continue
        a, b = fit_logistic(u[train], y[train])
        out[test] = 1.0 / (1.0 + np.exp(-(a * u[test] + b)))
    return out


# -- uncertainty of the metrics themselves ------------------------------------------------


def bootstrap_ci(
    metric: Callable[..., float],
    *arrays: ArrayLike,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of `metric(*arrays)` (Efron & Tibshirani 1993).

    Items are resampled with replacement (the same indices for every array); resamples on
    which the metric is undefined (e.g. one class only) are skipped. Seeded: same inputs and
    seed give the same interval.

    Returns:
        `(low, high)`; `(nan, nan)` when fewer than 10 resamples were defined.

    Example:
        >>> lo, hi = bootstrap_ci(auroc, [0, 1, 0, 1, 1, 0], [0.2, 0.9, 0.1, 0.6, 0.4, 0.5], n_resamples=200)
    """
    if not 0 < level < 1:
        raise ValueError(f"`level` has to be in (0, 1), got {level!r}")
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"`n_resamples` has to be an integer >= 1, got {n_resamples!r}")
    arrs = [np.asarray(a, dtype=float) for a in arrays]
    n = arrs[0].size
    if any(a.shape != (n,) for a in arrs):
        raise ValueError("bootstrap arrays must be 1-D and of equal length")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, n)
        try:
            values.append(metric(*(a[idx] for a in arrs)))
        except ValueError:
            continue
    if len(values) < 10:
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# -- answer-or-abstain audit ---------------------------------------------------------------


def isr_audit(decisions: Sequence[str], correct: ArrayLike, alpha: float = 0.05) -> dict[str, float | int | None]:
    """The EDFL paper's aggregate audit of answer/abstain decisions (Chlon et al., 2025;
    hallbayes `aggregate`): abstention rate, and among the answered items the hallucination
    rate with the upper end of its Wilson interval (`measures.wilson_upper`).

    Args:
        decisions: "answer" / "abstain" per item.
        correct: 1 when the item's answer is right, 0 when wrong.
        alpha (`float`, defaults to 0.05): the Wilson interval is at level 1 − alpha.
    Returns:
        `{"n", "answered", "abstention_rate", "hallucinations", "hallucination_rate",
        "wilson_upper"}`; the rate is None when nothing was answered (the bound is then 1).

    Example:
        >>> isr_audit(["answer", "abstain", "answer"], [1, 0, 0])["hallucination_rate"]
        0.5
    """
    y = _vector(correct, "correct")
    dec = list(decisions)
    if len(dec) != y.size:
        raise ValueError(f"`decisions` has {len(dec)} entries for {y.size} labels")
    bad = [d for d in dec if d not in ("answer", "abstain")]
    if bad:
        raise ValueError(f"`decisions` has to hold 'answer' or 'abstain', got {bad[0]!r}")
    answered = np.array([d == "answer" for d in dec], dtype=bool)
    n_ans = int(answered.sum())
    wrong = int((1 - y[answered]).sum()) if n_ans else 0
    return {
        "n": int(y.size),
        "answered": n_ans,
        "abstention_rate": float(1 - n_ans / y.size) if y.size else float("nan"),
        "hallucinations": wrong,
        "hallucination_rate": wrong / n_ans if n_ans else None,
        "wilson_upper": measures.wilson_upper(wrong, n_ans, alpha),
    }
