"""Permutation dispersion and the CoT-length law ("LLMs are Bayesian, in Expectation, not in
Realization", 2025): dispersion of answer distributions over orderings, the Jensen gap, the
optimal chain-of-thought length and the martingale-violation bound. Natural logs.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from llminfo.measures.core import _check_distribution, kl_divergence


def _check_ordering_distributions(q: np.ndarray | Sequence[Sequence[float]], name: str = "q") -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] < 2:
        raise ValueError(
            f"`{name}` has to be a 2-D array (orderings, labels) with >= 1 ordering and >= 2 labels, got shape {q.shape}"
        )
    _check_distribution(q, name)
    return q


def permutation_dispersion(q: np.ndarray | Sequence[Sequence[float]]) -> dict[str, np.ndarray | float]:
    """Spread of a model's label distribution across orderings of its in-context examples.

    An exchangeable Bayesian predictor gives the same posterior predictive for every ordering
    of exchangeable examples; transformers do so only on average over orderings
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025). With q_k the label
    distribution under ordering k and q̄ = (1/m) Σ_k q_k:

    - std = sqrt((1/m) Σ_k (q_k − q̄)²) per label (population std),
    - MAD = (1/m) Σ_k |q_k − q̄| per label,
    - KL-dispersion = (1/m) Σ_k KL(q_k ‖ q̄) (nats): the Jensen–Shannon-style information
      radius of the m distributions; 0 iff all orderings agree, ≤ ln m.

    Args:
        q: (m, L) array, row k the distribution over the L labels under ordering k
            (rows sum to 1).
    Returns:
        dict with `mean` (L,), `std` (L,), `mad` (L,) and `kl_dispersion` (float).

    Example:
        >>> d = permutation_dispersion([[0.9, 0.1], [0.5, 0.5]])
        >>> d["mean"], d["mad"]
        (array([0.7, 0.3]), array([0.2, 0.2]))
    """
    q = _check_ordering_distributions(q)
    # Identical rows: take q̄ = q_0 exactly (a float mean can be 1 ulp off, making a perfectly
    # order-invariant model look slightly dispersed).
    mean = q[0].copy() if np.all(q == q[0]) else q.mean(axis=0)
    dev = q - mean
    return {
        "mean": mean,
        "std": np.sqrt(np.mean(dev**2, axis=0)),
        "mad": np.abs(dev).mean(axis=0),
        "kl_dispersion": max(float(np.mean(kl_divergence(q, mean[None, :], axis=-1))), 0.0),
    }


def jensen_gap(q: np.ndarray | Sequence[Sequence[float]], y: int) -> float:
    """Jensen gap of the log-loss across orderings at label y:
    (1/m) Σ_k [−ln q_k(y)] + ln((1/m) Σ_k q_k(y)) ≥ 0
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025).

    The mean log-loss of single orderings minus the log-loss of the permutation-averaged
    prediction: by Jensen's inequality (−ln is convex) it is ≥ 0, and 0 iff every ordering
    gives the same q_k(y). It is what averaging over orderings gains, in nats.

    Args:
        q: (m, L) label distributions, one row per ordering.
        y: index of the true label (0 <= y < L).
    Returns:
        the gap in nats (inf if some ordering gives q_k(y) = 0 but not all do).

    Example:
        >>> round(jensen_gap([[0.9, 0.1], [0.5, 0.5]], 0), 4)
        0.0426
    """
    q = _check_ordering_distributions(q)
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer)) or not 0 <= int(y) < q.shape[1]:
        raise ValueError(f"`y` has to be a label index in [0, {q.shape[1]}), got {y!r}")
    qy = q[:, int(y)]
    if np.all(qy == qy[0]):
        return 0.0  # exact: avoids a 1-ulp negative from float rounding (and inf − inf)
    with np.errstate(divide="ignore"):
        gap = float(np.mean(-np.log(qy)) + np.log(np.mean(qy)))
    return max(gap, 0.0)


def optimal_cot_tokens(n: float, eps: float, c: float = 1.0) -> float:
    """Rule of thumb for chain-of-thought length: k* = c · √n · ln(1/ε)
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025, v1: k* = Θ(√n log(1/ε))).

    The paper gives the rate; the constant c is task- and model-dependent: fit it with
    `fit_cot_constant` (the dispersion report does, from its measurements) rather than
    trusting the default.

    Args:
        n: number of in-context examples (> 0).
        eps: target error (0 < eps < 1).
        c (`float`, defaults to 1.0): the constant (> 0).

    Example:
        >>> round(optimal_cot_tokens(16, 0.01), 3)
        18.421
    """
    for name, v in (("n", n), ("eps", eps), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` has to be a finite number, got {v!r}")
    if n <= 0:
        raise ValueError(f"`n` has to be > 0, got {n!r}")
    if not 0 < eps < 1:
        raise ValueError(f"`eps` has to be in (0, 1), got {eps!r}")
    if c <= 0:
        raise ValueError(f"`c` has to be > 0, got {c!r}")
    return float(c * math.sqrt(n) * math.log(1.0 / eps))


def log_curve_fit(n: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], level: float | None = None) -> tuple[float, float] | dict[str, float]:
    """Least-squares fit values ≈ a + b · ln n: how dispersion varies with the number of
    in-context examples. "LLMs are Bayesian, in Expectation, not in Realization" (2025) fits
    mean |q_π − q̄| this way and reports the slope b; its sign is a measurement, not a
    prediction (the paper's bound is on the martingale violation, Θ(log n / n), see
    `martingale_violation_bound`; the fitted dispersion need not shrink).

    Args:
        n: (K,) positive numbers of examples, at least two distinct (repeats allowed: one point
            per query gives the interval its error bars).
        values: (K,) measured values (finite).
        level (`float`, *optional*): with a level in (0, 1), also the two-sided Student-t
            confidence interval of b from the OLS standard error (needs K >= 3).
    Returns:
        (a, b); with `level`, a dict with a, b, se_b, b_low, b_high, level.

    Example:
        >>> a, b = log_curve_fit([1, np.e], [2.0, 1.0]); round(a, 6), round(b, 6)
        (2.0, -1.0)
    """
    x = np.asarray(n, dtype=np.float64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"`n` has {x.size} entries, `values` has {y.size}: one value per n")
    if np.any(x <= 0) or not np.all(np.isfinite(x)):
        raise ValueError("`n` has to hold finite numbers > 0")
    if not np.all(np.isfinite(y)):
        raise ValueError("`values` has non-finite entries")
    if np.unique(x).size < 2:
        raise ValueError("`n` needs at least two distinct values to fit a + b·ln n")
    design = np.stack([np.ones_like(x), np.log(x)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    if level is None:
        return float(a), float(b)
    if not (isinstance(level, float) and 0 < level < 1):
        raise ValueError(f"`level` has to be a float in (0, 1), got {level!r}")
    if x.size < 3:
        raise ValueError("a confidence interval for b needs at least 3 points")
    from scipy import stats

    lx = np.log(x)
    resid = y - (a + b * lx)
    se_b = float(np.sqrt(resid @ resid / (x.size - 2) / np.sum((lx - lx.mean()) ** 2)))
    t = float(stats.t.ppf(0.5 + level / 2, x.size - 2))
    return {"a": float(a), "b": float(b), "se_b": se_b, "b_low": float(b) - t * se_b, "b_high": float(b) + t * se_b, "level": level}


def martingale_violation_bound(n: float, c: float = 1.0) -> float:
    """The martingale-violation rate c · ln n / n ("LLMs are Bayesian, in Expectation, not in
    Realization", 2025: positional encodings induce violations of order Θ(log n / n)).

    The paper states the rate, not a numeric constant: `c` (default 1) is a user choice. An
    exchangeable (order-invariant) predictor has violation 0, within the bound for every n.

    Args:
        n: number of in-context examples (>= 1).
        c (`float`, defaults to 1.0): the constant (> 0).

    Example:
        >>> round(martingale_violation_bound(10), 4)
        0.2303
    """
    for name, v in (("n", n), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` has to be a finite number, got {v!r}")
    if n < 1:
        raise ValueError(f"`n` has to be >= 1, got {n!r}")
    if c <= 0:
        raise ValueError(f"`c` has to be > 0, got {c!r}")
    return float(c * math.log(n) / n)


def fit_cot_constant(n: np.ndarray | Sequence[float], tokens: np.ndarray | Sequence[float], eps: float) -> float:
    """Least-squares c (through the origin) of tokens ≈ c · √n · ln(1/ε), the constant of
    `optimal_cot_tokens`: c = Σ k_i s_i / Σ s_i² with s_i = √n_i ln(1/ε).

    Args:
        n: (K,) numbers of examples (> 0). tokens: (K,) measured k (>= 0, finite).
        eps: the target error (0 < eps < 1).

    Example:
        >>> round(fit_cot_constant([4, 16], [2 * np.log(10), 4 * np.log(10)], 0.1), 6)
        1.0
    """
    x = np.asarray(n, dtype=np.float64).reshape(-1)
    k = np.asarray(tokens, dtype=np.float64).reshape(-1)
    if x.shape != k.shape or x.size == 0:
        raise ValueError(f"`n` and `tokens` need the same non-zero length, got {x.size} and {k.size}")
    if np.any(x <= 0) or not np.all(np.isfinite(x)) or np.any(k < 0) or not np.all(np.isfinite(k)):
        raise ValueError("`n` has to hold finite numbers > 0 and `tokens` finite numbers >= 0")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"`eps` has to be in (0, 1), got {eps!r}")
    s = np.sqrt(x) * math.log(1.0 / eps)
    return float(k @ s / (s @ s))
