"""Dataset-level summary of permutation dispersion: the paper's fit, martingale test, CoT rule.

"LLMs are Bayesian, in Expectation, not in Realization" (Chlon et al., 2025,
arXiv:2507.11768) reports, against the number of in-context examples n: the dispersion
mean |q_π − q̄| fitted as a + b·ln n (the slope b with its confidence interval), the
self-consistency Jensen gap, and the martingale-violation rate Θ(log n / n). Per n this
summary gives those, with the label-based extras (accuracy and log-loss of the identity order
vs the permutation average, KL-dispersion, std at the gold label) when rows carry labels.

The martingale-violation test (`martingale_*` keys): the permutation-induced dispersion a
martingale diagnostic detects, measured as the mean over queries of mean_k |q_k(ŷ) − q̄(ŷ)|,
with its `level` Student-t interval, against the bound c·ln n / n
(`measures.martingale_violation_bound`; the paper gives the rate, c is ours, default 1): a
row `exceeds_bound` when the interval's lower end is above the bound.

The CoT rule of thumb k* = c·√n·ln(1/ε) (`measures.optimal_cot_tokens`) gets its constant
fitted here, llminfo's own calibration: the paper's averaging argument says averaging k
orderings shrinks the order-induced std σ_n as σ_n/√k, so k_n = (σ_n/ε)² orderings reach
error ε; c is the least-squares fit of k_n ≈ c·√n·ln(1/ε) over the measured n
(`measures.fit_cot_constant`), and k* per n is reported with it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from llminfo import measures


def _mean_ci(x: Sequence[float], level: float) -> tuple[float, float, float]:
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    m = float(a.mean())
    if a.size < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1)) * float(a.std(ddof=1)) / math.sqrt(a.size)
    return m, m - half, m + half


def summarize(results: Sequence[Any], level: float = 0.95, martingale_c: float = 1.0, cot_eps: float = 0.05) -> dict[str, Any]:
    """Per-n dispersion, the a + b·ln n fit with b's CI, the martingale test and the CoT constant.

    Args:
        results: `DispersionResult`s (any n; rows without labels give the label-free part).
        level (`float`, defaults to 0.95): confidence level of the intervals.
        martingale_c (`float`, defaults to 1.0): c in the bound c·ln n / n.
        cot_eps (`float`, defaults to 0.05): ε of the CoT rule k* = c·√n·ln(1/ε).
    Returns:
        dict: `per_n` (list of rows), `queries`, `fit_mad` (a, b, se_b, b_low, b_high: the
        paper's fit, over per-query points), `fit_kl_dispersion` / `fit_std_label` (extras,
        over per-n means), `martingale` (c, level, all_within), `cot` (eps, constant).
    """
    if not 0 < level < 1:
        raise ValueError(f"`level` has to be in (0, 1), got {level!r}")
    by_n: dict[int, list[Any]] = {}
    for r in results:
        by_n.setdefault(r.n_examples, []).append(r)
    per_n = []
    for n in sorted(by_n):
        rs = by_n[n]
        mad, lo, hi = _mean_ci([r.mad_pred for r in rs], level)
        bound = measures.martingale_violation_bound(n, martingale_c)
        row: dict[str, Any] = {
            "n": n,
            "queries": len(rs),
            "orderings": float(np.mean([len(r.orderings) for r in rs])),
            "mad": mad,
            "mad_ci": [lo, hi],
            "jensen_gap": float(np.mean([r.jensen_gap for r in rs])),
            "kl_dispersion": float(np.mean([r.kl_dispersion for r in rs])),
            "std_pred": float(np.mean([r.std[r.labels.index(r.pred_identity)] for r in rs])),
            "martingale_violation": mad,
            "martingale_bound": bound,
            "exceeds_bound": bool(np.isfinite(lo) and lo > bound),
        }
        labelled = [r for r in rs if r.label is not None]
        if labelled:
            row.update(
                accuracy_identity=float(np.mean([r.correct_identity for r in labelled])),
                accuracy_average=float(np.mean([r.correct_average for r in labelled])),
                logloss_identity=float(np.mean([r.logloss_identity for r in labelled])),
                logloss_average=float(np.mean([r.logloss_average for r in labelled])),
                # a random single ordering's expected log-loss: what the permutation average beats
                logloss_orderings=float(np.mean([np.mean(-np.log(np.asarray(r.q)[:, r.labels.index(r.label)])) for r in labelled])),
                jensen_gap_label=float(np.mean([r.jensen_gap_label for r in labelled])),
                std_label=float(np.mean([r.std_label for r in labelled])),
            )
        per_n.append(row)
    summary: dict[str, Any] = {"per_n": per_n, "queries": len(results)}
    ns = [row["n"] for row in per_n]
    summary["martingale"] = {"c": martingale_c, "level": level, "all_within": not any(row["exceeds_bound"] for row in per_n)}
    if len(set(ns)) >= 2:
        points_n = [r.n_examples for r in results]
        if len(points_n) >= 3:
            fit = measures.log_curve_fit(points_n, [r.mad_pred for r in results], level=level)
            summary["fit_mad"] = {**fit, "formula": "mean |q_π(ŷ) − q̄(ŷ)| ≈ a + b·ln n"}
        for key in ("kl_dispersion", "std_label"):
            vals = [row.get(key) for row in per_n]
            if all(v is not None and np.isfinite(v) for v in vals):
                a, b = measures.log_curve_fit(ns, vals)
                summary[f"fit_{key}"] = {"a": a, "b": b, "formula": f"{key} ≈ a + b·ln n"}
    needed = [(row["std_pred"] / cot_eps) ** 2 for row in per_n]
    c = measures.fit_cot_constant(ns, needed, cot_eps) if per_n else 0.0
    summary["cot"] = {"eps": cot_eps, "constant": c, "orderings_needed": dict(zip(map(str, ns), needed))}
    for row in per_n:
        row["optimal_cot_tokens"] = measures.optimal_cot_tokens(row["n"], cot_eps, c) if c > 0 else 0.0
    return summary
