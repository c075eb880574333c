"""Evaluation shared by scripts/quality_hallucination.py and scripts/fit_calibrator.py.

- `held_out_mask(ids, wrong, strata)`: a stratified held-out share of the questions (30 %
  of each stratum — answer right/wrong × difficulty — the questions ordered by a hash of
  their id), the same for every choice and never used to choose anything (methods,
  calibrator kind, regularisation, thresholds).
- `select_combination(S, wrong, names)`: the combination procedure chosen by repeated
  stratified 5-fold cross-validation on the development questions only, among a small family
  declared in advance (`CANDIDATES`): method selection (the single best method on the
  training folds), the AUROC-weighted percentile average ("rank"), and regularised stacking
  — an L2 logistic regression on logit-percentile ("stacked") or standardised
  ("logistic_cv") scores of every method, its strength C chosen by an inner 5-fold
  cross-validation, and stacking of the three best methods on the training folds. Every
  selection step runs inside the folds, so the out-of-fold AUROCs are honest.
- `evaluate(rows)`: per-method AUROC / PRR with bootstrap CIs (and each changed method's
  score before issue #17 on the same questions), the chosen combination fitted on the
  development split and measured once on the held-out split against the best single method
  chosen on development (paired bootstrap CI of the difference), MI vs SE on the
  many-answer mix, the ISR audit.
"""

from __future__ import annotations

import zlib
from typing import Any, Sequence

import numpy as np

HELD_OUT_SHARE = 0.3
FOLDS = 5
REPEATS = 3
# Candidate combination procedures, simplest first (a tie keeps the simpler one).
CANDIDATES = ("select", "rank", "stacked_top3", "stacked", "logistic_cv")
# The procedures that combine every method they are given: a calibrator shipped for the default
# scorer (whose methods are fixed, `registry.DEFAULT_METHODS`) is chosen among these.
ALL_METHOD_PROCEDURES = ("rank", "stacked", "logistic_cv")
# Targets of issue #17 for the combined risk on the held-out questions.
TARGET_GAIN = 0.03
TARGET_AUROC = 0.80


def held_out_mask(ids: Sequence[str], wrong: np.ndarray, strata: Sequence[Any] | None = None,
                  share: float = HELD_OUT_SHARE) -> np.ndarray:
    """(N,) bool: the held-out questions. Within each stratum (label × `strata[i]`) the
    questions are ordered by crc32 of their id and the first round(share · n) are held out:
    a fixed function of ids and labels (never of scores), stratified so both splits keep the
    error rate and difficulty mix."""
    wrong = np.asarray(wrong)
    keys = [(float(w), None if strata is None else strata[i]) for i, w in enumerate(wrong)]
    held = np.zeros(len(ids), dtype=bool)
    for key in sorted(set(keys), key=repr):
        idx = [i for i, k in enumerate(keys) if k == key]
        idx.sort(key=lambda i: (zlib.crc32(str(ids[i]).encode("utf-8")), str(ids[i])))
        held[idx[: int(round(share * len(idx)))]] = True
    return held


def stratified_folds(wrong: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    from llminfo.analyzers.calibration import stratified_folds as folds_of

    return folds_of(wrong, folds, seed)


def _aurocs(S: np.ndarray, wrong: np.ndarray) -> np.ndarray:
    from llminfo.eval.metrics import auroc

    return np.array([auroc(wrong, S[:, j]) for j in range(S.shape[1])])


def fit_candidate(name: str, S: np.ndarray, wrong: np.ndarray, names: Sequence[str]) -> tuple[list[str], Any]:
    """Run combination procedure `name` on training rows: (methods it uses, fitted Calibrator)."""
    from llminfo.analyzers.calibration import Calibrator

    if name not in CANDIDATES:
        raise ValueError(f"unknown combination procedure {name!r}; one of {CANDIDATES}")
    cols = list(range(len(names)))
    if name in ("select", "stacked_top3"):
        order = np.argsort(-_aurocs(S, wrong), kind="mergesort")
        cols = sorted(order[: 1 if name == "select" else 3].tolist())
    kind, c = {"select": ("rank", 1.0), "rank": ("rank", 1.0), "stacked_top3": ("stacked", None),
               "stacked": ("stacked", None), "logistic_cv": ("logistic", None)}[name]
    methods = [names[j] for j in cols]
    return methods, Calibrator(kind=kind, c=c).fit(methods, S[:, cols], 1 - wrong)


def cv_aurocs(name: str, S: np.ndarray, wrong: np.ndarray, names: Sequence[str], seed: int = 0) -> list[float]:
    """Out-of-fold AUROC of procedure `name` on every fold of REPEATS × FOLDS stratified folds."""
    from llminfo.eval.metrics import auroc

    out = []
    for rep in range(REPEATS):
        fold = stratified_folds(wrong, seed=seed + rep)
        for k in range(FOLDS):
            tr, te = fold != k, fold == k
            methods, cal = fit_candidate(name, S[tr], wrong[tr], names)
            cols = [list(names).index(m) for m in methods]
            out.append(auroc(wrong[te], cal.predict(S[te][:, cols])))
    return out


def select_combination(
    S: np.ndarray, wrong: np.ndarray, names: Sequence[str], seed: int = 0, candidates: Sequence[str] = CANDIDATES
) -> dict[str, Any]:
    """The procedure (among `candidates`) with the best mean out-of-fold AUROC on these
    (development) rows, refitted on all of them: `{"best": {"procedure", "kind", "c", "methods",
    "cv_auroc"}, "candidates": [...]}`."""
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown or not candidates:
        raise ValueError(f"combination procedures {list(candidates)}: each has to be one of {CANDIDATES}")
    results = []
    for name in candidates:
        fold_aurocs = cv_aurocs(name, S, wrong, names, seed)
        results.append({"procedure": name, "cv_auroc": float(np.mean(fold_aurocs)),
                        "cv_auroc_se": float(np.std(fold_aurocs, ddof=1) / np.sqrt(len(fold_aurocs)))})
    best = max(results, key=lambda d: d["cv_auroc"])  # first maximum = the simpler procedure
    methods, cal = fit_candidate(best["procedure"], S, wrong, names)
    return {"best": dict(best, kind=cal.kind, c=cal.c, methods=methods), "candidates": results, "calibrator": cal}


def fill_nan(S: np.ndarray) -> np.ndarray:
    col_mean = np.nanmean(np.where(np.isfinite(S), S, np.nan), axis=0)
    return np.where(np.isfinite(S), S, col_mean)


def summary(wrong: np.ndarray, u: np.ndarray, resamples: int = 1000) -> dict[str, Any]:
    from llminfo.eval.metrics import auroc, bootstrap_ci, prr

    lo, hi = bootstrap_ci(auroc, wrong, u, n_resamples=resamples)
    return {"auroc": auroc(wrong, u), "auroc_ci95": [lo, hi], "prr": prr(1 - wrong, u), "n": int(wrong.size)}


def combined_on_held_out(S: np.ndarray, wrong: np.ndarray, names: Sequence[str], held: np.ndarray, seed: int = 0,
                         candidates: Sequence[str] = CANDIDATES) -> dict[str, Any]:
    """Choose the combination on the development rows (`select_combination` among
    `candidates`), fit it there, and measure it once on the held-out rows against the best
    single method chosen on development; the gain's 95 % CI is a paired bootstrap over the
    held-out questions."""
    from llminfo.eval.metrics import auroc, bootstrap_ci

    dev = ~held
    sel = select_combination(S[dev], wrong[dev], names, seed, candidates)
    best, cal = sel["best"], sel["calibrator"]
    risk_h = cal.predict(S[held][:, [list(names).index(m) for m in best["methods"]]])
    dev_single = _aurocs(S[dev], wrong[dev])
    js = int(np.argmax(dev_single))
    diff = lambda w, a, b: auroc(w, a) - auroc(w, b)  # noqa: E731
    gain = diff(wrong[held], risk_h, S[held][:, js])
    held_auroc = auroc(wrong[held], risk_h)
    return {
        "chosen_on_development": best, "candidates_cv_development": sel["candidates"],
        "procedure": f"repeated stratified CV ({REPEATS} x {FOLDS} folds) on the development split among {list(candidates)}",
        "held_out": summary(wrong[held], risk_h),
        "held_out_best_single_chosen_on_dev": {"method": names[js], "dev_auroc": float(dev_single[js]),
                                               **summary(wrong[held], S[held][:, js])},
        "held_out_gain_over_single": gain,
        "held_out_gain_ci95": list(bootstrap_ci(diff, wrong[held], risk_h, S[held][:, js], n_resamples=1000)),
        "held_out_per_method": {n: auroc(wrong[held], S[held][:, j]) for j, n in enumerate(names)},
        "targets": {"gain_ge_0.03": bool(gain >= TARGET_GAIN), "auroc_ge_0.80": bool(held_auroc >= TARGET_AUROC),
                    "not_below_best_single": bool(gain >= 0)},
    }


MIX_METHODS = ("semantic_entropy", "discrete_semantic_entropy", "iterative_mi", "predictive_entropy")


def mi_vs_se(cols: dict[str, tuple[np.ndarray, np.ndarray]], wrong: np.ndarray, n_many: int) -> dict[str, Any]:
    """Yadkori et al.'s qualitative claim on the factual + many-answer mix: epistemic MI stays
    low on questions with many valid answers (aleatoric uncertainty) while semantic entropy
    rises. `cols[m]` = (scores on the factual questions, scores on the many-answer questions
    answered validly). Per method, with 95 % bootstrap CIs:
    - `auroc_wrong_factual_vs_valid_many`: wrong factual answers (positives) vs valid
      many-answer ones — high = the method does not mistake many valid answers for a
      hallucination;
    - `auroc_valid_many_vs_right_factual`: valid many-answer (positives) vs right factual —
      high = the score rises on many-answer questions (the claim: SE high, MI near 0.5);
    - `flagged_valid_many_at_recall`: share of valid many-answer questions above the
      threshold that flags 80 % / 50 % of the wrong factual answers.
    And the paired difference MI − SE of the first two AUROCs (the same questions
    resampled for both)."""
    from llminfo.eval.metrics import auroc, bootstrap_ci

    out: dict[str, Any] = {}
    w = wrong == 1
    for m, (fs, ms) in cols.items():
        y1 = np.concatenate([np.ones(int(w.sum())), np.zeros(ms.size)])
        u1 = np.concatenate([fs[w], ms])
        y2 = np.concatenate([np.ones(ms.size), np.zeros(int((~w).sum()))])
        u2 = np.concatenate([ms, fs[~w]])
        out[m] = {
            "many_valid": int(ms.size), "many_total": n_many,
            "auroc_wrong_factual_vs_valid_many": auroc(y1, u1), "ci95": list(bootstrap_ci(auroc, y1, u1, n_resamples=1000)),
            "auroc_valid_many_vs_right_factual": auroc(y2, u2),
            "auroc_valid_many_vs_right_factual_ci95": list(bootstrap_ci(auroc, y2, u2, n_resamples=1000)),
            "mean_wrong_factual": float(fs[w].mean()), "mean_right_factual": float(fs[~w].mean()),
            "mean_valid_many": float(ms.mean()),
            "flagged_valid_many_at_recall": {f"{rec:g}": float(np.mean(ms >= np.quantile(fs[w], 1 - rec))) for rec in (0.8, 0.5)},
        }
    if "iterative_mi" in cols and "semantic_entropy" in cols:
        (fmi, mmi), (fse, mse) = cols["iterative_mi"], cols["semantic_entropy"]
        for key, pos_f, use_many_as_pos in (("wrong_factual_vs_valid_many", w, False), ("valid_many_vs_right_factual", ~w, True)):
            y = np.concatenate([np.zeros(mmi.size), np.ones(int(pos_f.sum()))]) if not use_many_as_pos else \
                np.concatenate([np.ones(mmi.size), np.zeros(int(pos_f.sum()))])
            a, b = np.concatenate([mmi, fmi[pos_f]]), np.concatenate([mse, fse[pos_f]])
            diff = lambda yy, aa, bb: auroc(yy, aa) - auroc(yy, bb)  # noqa: E731
            out[f"mi_minus_se_{key}"] = {"diff": diff(y, a, b), "ci95": list(bootstrap_ci(diff, y, a, b, n_resamples=1000))}
    return out


def evaluate(rows: list[dict], seed: int = 0) -> dict[str, Any]:
    from llminfo.eval.metrics import isr_audit

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
    held = held_out_mask([r["id"] for r in fact], wrong, [r.get("difficulty") for r in fact])
    dev = ~held
    out["split"] = {"development": int(dev.sum()), "held_out": int(held.sum()), "held_out_share": HELD_OUT_SHARE,
                    "stratified_by": "answer right/wrong x difficulty", "error_rate_development": float(wrong[dev].mean()),
                    "error_rate_held_out": float(wrong[held].mean()) if held.any() else None}
    if dev.sum() >= 20 and held.sum() >= 10 and 0 < wrong[dev].sum() < dev.sum() and 0 < wrong[held].sum() < held.sum():
        out["combined"] = combined_on_held_out(S, wrong, names, held, seed)
        # what the default scorer's shipped calibrator does: its fixed methods, every one combined
        from llminfo.analyzers.registry import DEFAULT_METHODS

        if all(m in names for m in DEFAULT_METHODS):
            cols = [names.index(m) for m in DEFAULT_METHODS]
            out["combined_default_methods"] = combined_on_held_out(
                S[:, cols], wrong, list(DEFAULT_METHODS), held, seed, ALL_METHOD_PROCEDURES)
    valid_many = [r for r in many if r["correct"]]
    if valid_many:
        cols = {m: (S[:, names.index(m)], np.array([r["scores"][m] for r in valid_many], dtype=float))
                for m in MIX_METHODS if m in names and all(r["scores"].get(m) is not None for r in valid_many)}
        out["mi_vs_se_mix"] = mi_vs_se(cols, wrong, len(many))
    audits = {}
    for m in ("edfl", "edfl_samples"):
        dec = [r.get("details", {}).get(m, {}).get("decision") for r in fact]
        if dec and all(d in ("answer", "abstain") for d in dec):
            audits[m] = isr_audit(dec, 1 - wrong)
    out["isr_audit"] = audits
    return out
