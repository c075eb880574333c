"""Evaluation shared by scripts/quality_hallucination.py and scripts/fit_calibrator.py.

- `split(ids)`: a fixed held-out share of questions (by a hash of the id), never used to
  choose anything (methods, calibrator kind, thresholds).
- `select_combination(S, wrong, names)`: the combination chosen by 5-fold cross-validation on
  the development questions only: every calibrator kind × every non-empty subset of methods
  (method selection and regularised stacking among the candidates); the best mean
  out-of-fold AUROC wins.
- `evaluate(rows)`: per-method AUROC / PRR with bootstrap CIs (and each changed method's
  score before issue #17 on the same questions), the chosen combination on the held-out
  split against its best single input there, MI vs SE on the many-answer mix, the ISR audit.
"""

from __future__ import annotations

import itertools
import zlib
from typing import Any, Sequence

import numpy as np

HELD_OUT_SHARE = 0.3
KINDS = ("rank", "stacked", "logistic")
FOLDS = 5


def is_held_out(qid: str) -> bool:
    return zlib.crc32(str(qid).encode("utf-8")) % 1000 < HELD_OUT_SHARE * 1000


def stratified_folds(wrong: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold = np.empty(wrong.size, dtype=int)
    for label in (0.0, 1.0):
        idx = np.flatnonzero(wrong == label)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    return fold


def cv_risk(S: np.ndarray, wrong: np.ndarray, names: Sequence[str], kind: str, seed: int = 0) -> np.ndarray:
    from llminfo.analyzers.calibration import Calibrator

    fold = stratified_folds(wrong, seed=seed)
    risk = np.empty(wrong.size)
    for k in range(FOLDS):
        tr, te = fold != k, fold == k
        risk[te] = Calibrator(kind=kind).fit(list(names), S[tr], 1 - wrong[tr]).predict(S[te])
    return risk


def select_combination(S: np.ndarray, wrong: np.ndarray, names: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Best (kind, subset) by mean out-of-fold AUROC on these (development) rows."""
    from llminfo.eval.metrics import auroc

    results = []
    for r in range(1, len(names) + 1):
        for subset in itertools.combinations(range(len(names)), r):
            cols = list(subset)
            for kind in KINDS if r > 1 else ("rank",):  # one method: any monotone map ranks alike
                risk = cv_risk(S[:, cols], wrong, [names[c] for c in cols], kind, seed)
                results.append({"kind": kind, "methods": [names[c] for c in cols], "cv_auroc": auroc(wrong, risk)})
    results.sort(key=lambda d: -d["cv_auroc"])
    return {"best": results[0], "candidates": len(results), "top5": results[:5]}


def fill_nan(S: np.ndarray) -> np.ndarray:
    col_mean = np.nanmean(np.where(np.isfinite(S), S, np.nan), axis=0)
    return np.where(np.isfinite(S), S, col_mean)


def summary(wrong: np.ndarray, u: np.ndarray, resamples: int = 1000) -> dict[str, Any]:
    from llminfo.eval.metrics import auroc, bootstrap_ci, prr

    lo, hi = bootstrap_ci(auroc, wrong, u, n_resamples=resamples)
    return {"auroc": auroc(wrong, u), "auroc_ci95": [lo, hi], "prr": prr(1 - wrong, u), "n": int(wrong.size)}


def evaluate(rows: list[dict], seed: int = 0) -> dict[str, Any]:
    from llminfo.analyzers.calibration import Calibrator
    from llminfo.eval.metrics import auroc, bootstrap_ci, isr_audit

    fact = [r for r in rows if r["set"] == "factual"]
    many = [r for r in rows if r["set"] == "many"]
    if len(fact) < 10:
        return {"n_factual": len(fact), "note": "too few factual rows to evaluate"}
    names = [n for n in fact[0]["scores"] if all(r["scores"].get(n) is not None for r in fact)]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in fact])
    S = np.array([[r["scores"][n] for n in names] for r in fact], dtype=float)
    out: dict[str, Any] = {"n_factual": len(fact), "accuracy": float(1 - wrong.mean()), "n_many": len(many)}
    out["per_method"] = {n: summary(wrong, S[:, j]) for j, n in enumerate(names)}
    before = sorted({k for r in fact for k in r.get("before", {})})
    out["before_issue17_same_questions"] = {
        k: summary(wrong, np.array([r["before"].get(k, np.nan) for r in fact], dtype=float))
        for k in before if all(k in r.get("before", {}) for r in fact)
    }
    # Clustering variants re-scored from the stored SE samples (same samples).
    held = np.array([is_held_out(r["id"]) for r in fact])
    dev = ~held
    out["split"] = {"development": int(dev.sum()), "held_out": int(held.sum()), "held_out_share": HELD_OUT_SHARE}
    if dev.sum() >= 20 and held.sum() >= 10 and 0 < wrong[dev].sum() < dev.sum() and 0 < wrong[held].sum() < held.sum():
        sel = select_combination(S[dev], wrong[dev], names, seed)
        best = sel["best"]
        cols = [names.index(n) for n in best["methods"]]
        cal = Calibrator(kind=best["kind"]).fit(best["methods"], S[dev][:, cols], 1 - wrong[dev])
        risk_h = cal.predict(S[held][:, cols])
        # the best single input: chosen on the development split too (highest dev AUROC)
        dev_single = {n: auroc(wrong[dev], S[dev][:, j]) for j, n in enumerate(names)}
        single = max(dev_single, key=dev_single.get)
        js = names.index(single)
        diff = lambda w, a, b: auroc(w, a) - auroc(w, b)  # noqa: E731
        out["combined"] = {
            "chosen_on_development": best, "candidates": sel["candidates"], "top5_development": sel["top5"],
            "held_out": summary(wrong[held], risk_h),
            "held_out_best_single_chosen_on_dev": {"method": single, **summary(wrong[held], S[held][:, js])},
            "held_out_best_single_in_hindsight": max(
                ({"method": n, "auroc": auroc(wrong[held], S[held][:, j])} for j, n in enumerate(names)), key=lambda d: d["auroc"]),
            "held_out_gain_over_single": diff(wrong[held], risk_h, S[held][:, js]),
            "held_out_gain_ci95": list(bootstrap_ci(diff, wrong[held], risk_h, S[held][:, js], n_resamples=1000)),
            "held_out_per_method": {n: auroc(wrong[held], S[held][:, j]) for j, n in enumerate(names)},
        }
    # MI vs SE on the mix: many-answer questions with a valid answer should keep MI low.
    mix = {}
    valid_many = [r for r in many if r["correct"]]
    for m in ("semantic_entropy", "discrete_semantic_entropy", "iterative_mi", "predictive_entropy"):
        if m not in names or not valid_many:
            continue
        fs = S[:, names.index(m)]
        ms = np.array([r["scores"][m] for r in valid_many], dtype=float)
        entry: dict[str, Any] = {"many_valid": int(ms.size), "many_total": len(many)}
        # AUROC separating wrong factual answers (positives) from valid many-answer ones:
        # high = the method does not mistake aleatoric (many valid answers) for hallucination.
        y = np.concatenate([np.ones(int(wrong.sum())), np.zeros(ms.size)])
        u = np.concatenate([fs[wrong == 1], ms])
        lo, hi = bootstrap_ci(auroc, y, u, n_resamples=1000)
        entry["auroc_wrong_factual_vs_valid_many"] = auroc(y, u)
        entry["ci95"] = [lo, hi]
        entry["mean_wrong_factual"] = float(fs[wrong == 1].mean())
        entry["mean_right_factual"] = float(fs[wrong == 0].mean())
        entry["mean_valid_many"] = float(ms.mean())
        mix[m] = entry
    out["mi_vs_se_mix"] = mix
    audits = {}
    for m in ("edfl", "edfl_samples"):
        dec = [r.get("details", {}).get(m, {}).get("decision") for r in fact]
        if dec and all(d in ("answer", "abstain") for d in dec):
            audits[m] = isr_audit(dec, 1 - wrong)
    out["isr_audit"] = audits
    return out
