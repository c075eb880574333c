"""Fit (or refit) the calibrator shipped for an embedded model, and the fixed reference
quantiles of the uncalibrated risk, from quality-run rows.

Reads the per-question scores of `scripts/quality_hallucination.py` (the current protocol's
rows, plus the previous protocol's rows for the methods issue #17 did not change), keeps the
methods scored on every factual question, chooses the combination procedure (method selection, percentile
average or regularised stacking: `quality_eval.CANDIDATES`) by repeated 5-fold cross-validation
on the development questions only (a stratified held-out split), reports it on the
held-out questions (`scripts/quality_eval.py`), then fits the chosen combination on every
factual question and writes:

- `llminfo/data/calibrators/{model}.json` — a saved `HallucinationScorer` (methods with their
  parameters + the fitted calibrator); `HallucinationScorer` uses it by default for a model
  of that name when its methods and parameters are the same;
- `llminfo/data/calibrators/reference_quantiles.json` (`--model default` only) — 101
  quantiles of each method's score, the fixed map of `calibration.reference_risk`;
- with `--variant NAME`, `{model}.{NAME}.json` instead: a calibrator for another method set,
  used when a scorer runs exactly those methods (the shipped "fast" variant: the default methods
  without `prompt_disagreement`, ×1.15 cheaper).

The shipped files (the default scorer's six methods, procedures combining all of them; then the
fast variant without prompt_disagreement):

    python scripts/fit_calibrator.py --methods msp perplexity mean_entropy edfl_answer hidden_probe prompt_disagreement \
        --procedures rank stacked logistic_cv
    python scripts/fit_calibrator.py --methods msp perplexity mean_entropy edfl_answer hidden_probe \
        --procedures rank stacked logistic_cv --variant fast --report bench_results/fit_calibrator_fast.json
    # Gemma 3 270M: the same two with
    #   --model gemma3-270m --rows bench_results/quality_hallucination_rows_v2_gemma3-270m.jsonl
    #   --report bench_results/fit_calibrator_gemma3-270m{,_fast}.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

# (registry name, parameters) each method was scored with in the rows, where not (name, {}).
SPECS: dict[str, tuple[str, dict]] = {"edfl_samples": ("edfl", {"mode": "samples", "name": "edfl_samples"})}
OLD_ROWS = ROOT / "bench_results" / "quality_hallucination_rows.jsonl"
NEW_ROWS = ROOT / "bench_results" / "quality_hallucination_rows_v2.jsonl"
# Methods whose protocol issue #17 did not change: their previous rows stay valid.
UNCHANGED = ("msp", "perplexity", "mean_entropy", "edfl_answer")


def merged_rows(paths: list[Path]) -> list[dict]:
    """One row per question: unchanged methods from the previous rows, the rest from the
    current protocol's rows (which win on a clash)."""
    from quality_hallucination import read_rows

    rows: dict[str, dict] = {}
    for path in paths:
        for qid, r in read_rows(path).items():
            keep = {k: v for k, v in r["scores"].items() if path.resolve() != OLD_ROWS.resolve() or k in UNCHANGED}
            if qid in rows:
                rows[qid]["scores"].update(keep)
            else:
                rows[qid] = dict(r, scores=keep)
    return list(rows.values())


def main() -> None:
    from quality_eval import CANDIDATES, combined_on_held_out, fit_candidate, held_out_mask, summary

    from llminfo.analyzers.calibration import CALIBRATOR_DIR, REFERENCE_FILE
    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.data import DATA_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--rows", nargs="*", default=[str(OLD_ROWS), str(NEW_ROWS)])
    ap.add_argument("--target-risk", type=float, default=0.2)
    ap.add_argument("--methods", nargs="*", default=None,
                    help="the pool the combination is chosen from (default: every method scored on all factual rows)")
    ap.add_argument("--procedures", nargs="*", default=None,
                    help="combination procedures to choose among (default: all); a calibrator shipped for the "
                         "default scorer must combine all its methods: --procedures rank stacked logistic_cv")
    ap.add_argument("--output-dir", default=str(DATA_DIR / CALIBRATOR_DIR))
    ap.add_argument("--variant", default=None, metavar="NAME",
                    help="write {model}.{NAME}.json, a calibrator for another method set (the default methods' "
                         "{model}.json and the reference quantiles are left alone)")
    ap.add_argument("--report", default=str(ROOT / "bench_results" / "fit_calibrator.json"))
    args = ap.parse_args()
    if args.variant is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", args.variant):
        raise SystemExit(f"--variant has to be a name of letters, digits, '_' or '-', got {args.variant!r}")
    rows = [r for r in merged_rows([Path(p) for p in args.rows if Path(p).exists()]) if r["set"] == "factual"]
    if len(rows) < 20:
        raise SystemExit(f"only {len(rows)} factual rows in {args.rows}: run scripts/quality_hallucination.py first")
    names = [n for n in rows[0]["scores"] if all(r["scores"].get(n) is not None for r in rows)]
    if args.methods:
        missing = sorted(set(args.methods) - set(names))
        if missing:
            raise SystemExit(f"--methods {missing} not scored on every factual row (scored: {names})")
        names = [n for n in names if n in args.methods]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in rows])
    S = np.array([[r["scores"][n] for n in names] for r in rows], dtype=float)
    held = held_out_mask([r["id"] for r in rows], wrong, [r.get("difficulty") for r in rows])
    held_out = combined_on_held_out(S, wrong, names, held, candidates=args.procedures or CANDIDATES)
    best = held_out["chosen_on_development"]
    report = {
        "model": args.model, "n_factual": len(rows), "methods_with_full_coverage": names,
        "chosen_on_development": best, "candidates_cv_development": held_out["candidates_cv_development"],
        "held_out_combined": held_out["held_out"],
        "held_out_best_single_chosen_on_dev": held_out["held_out_best_single_chosen_on_dev"],
        "held_out_gain_over_single": held_out["held_out_gain_over_single"],
        "held_out_gain_ci95": held_out["held_out_gain_ci95"], "targets": held_out["targets"],
        "held_out_per_method": {n: summary(wrong[held], S[held][:, j]) for j, n in enumerate(names)},
        "command": "python scripts/fit_calibrator.py " + " ".join(sys.argv[1:]),
    }
    # The chosen procedure refitted on every factual question (a selection step or C chosen again there).
    methods, cal = fit_candidate(best["procedure"], S, wrong, names)
    cols = [names.index(n) for n in methods]
    scorer = HallucinationScorer([SPECS.get(n, (n, {})) for n in methods])
    scorer.fit_scores(S[:, cols], 1 - wrong, kind=cal.kind, target_risk=args.target_risk, c=cal.c)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{args.model}.{args.variant}.json" if args.variant else f"{args.model}.json"
    scorer.save(out / name)
    report["shipped"] = str(out / name)
    if args.model == "default" and not args.variant:
        quantiles = {n: np.quantile(S[:, j], np.linspace(0, 1, 101)).tolist() for j, n in enumerate(names)}
        counts = {n: len(rows) for n in names}
        new_rows = [r for r in merged_rows([NEW_ROWS]) if r["set"] == "factual"] if NEW_ROWS.exists() else []
        for n in sorted({k for r in new_rows for k in r["scores"]} - set(quantiles)):
            v = np.array([r["scores"][n] for r in new_rows if r["scores"].get(n) is not None], dtype=float)
            if v.size >= 20:
                quantiles[n] = np.quantile(v, np.linspace(0, 1, 101)).tolist()
                counts[n] = int(v.size)
        (out / REFERENCE_FILE).write_text(json.dumps({
            "about": "101 quantiles of each method's score on the shipped factual set, embedded default model "
                     "(scripts/fit_calibrator.py): the fixed map of the uncalibrated risk",
            "n": counts,
            "quantiles": quantiles}, indent=1) + "\n")
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("chosen_on_development", "held_out_combined", "held_out_best_single_chosen_on_dev",
                                          "held_out_gain_over_single", "held_out_gain_ci95")}, indent=1))
    print("held-out per method:", {n: round(v["auroc"], 3) for n, v in report["held_out_per_method"].items()})


if __name__ == "__main__":
    main()
