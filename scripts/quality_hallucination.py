"""Quality of the hallucination signals on the shipped factual set with the embedded model.

For every question the model answers greedily; the answer is labelled by `alias_match`
against the gold aliases. Each method's score predicts a wrong answer: AUROC and PRR per
method, and for the combined risk (calibrated by cross-validation: fit on 4 folds, score the
held-out fold). Accuracy vs coverage of the combined risk. On the mix of single-answer and
many-answer questions: MI vs semantic entropy (how many valid many-answer questions each
flags at the threshold that catches a given share of wrong single answers).

Rows are cached in bench_results/quality_hallucination_rows.jsonl (a rerun resumes).

    python scripts/quality_hallucination.py [--limit N] [--samples 10] [--batch 16] [--model gemma3-270m]

With `--model NAME` other than "default" the rows and report files get the model's name
(`quality_hallucination_gemma3-270m_rows.jsonl`, ...). Base models get the few-shot prompt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# SE and MI share one sample set (both at T = 0.9, the MI paper's temperature; Farquhar et
# al. use T = 1): on a shared 2-core machine generation dominates the cost.
METHODS = [
    "msp",
    "perplexity",
    "mean_entropy",
    ("semantic_entropy", {"temperature": 0.9}),
    ("discrete_semantic_entropy", {"temperature": 0.9}),
    "iterative_mi",
    ("edfl", {"num_skeletons": 4}),
    ("edfl", {"event": "answer", "name": "edfl_answer", "num_skeletons": 4}),
]
# The combined risk reported as "the" combined risk: the default calibrator on every method.
# "rank" was chosen over "logistic" on the first PILOT questions of the seeded order (the
# rows file's first 88); `held_out_after_pilot` repeats the comparison on the rest.
MAIN = "rank:all"
PILOT = 88
KEEP_DETAILS = {
    "edfl": ("p_answer", "delta_bar", "q_bar", "roh", "isr", "decision"),
    "edfl_answer": ("p_answer", "delta_bar", "q_bar", "roh", "isr", "decision"),
}


def load_items(limit: int | None) -> list[dict]:
    from llminfo.data import load_jsonl

    factual = load_jsonl("factual_qa.jsonl")
    many = load_jsonl("many_answers.jsonl")
    rows = [dict(r, set="factual") for r in factual] + [dict(r, set="many") for r in many]
    # Seeded shuffle: any prefix (an interrupted or --limit run) is a random subset of both sets.
    order = np.random.default_rng(0).permutation(len(rows))
    rows = [rows[i] for i in order]
    return rows[:limit] if limit else rows


def score_rows(rows: list[dict], out: Path, samples: int, batch: int, seed: int, model_name: str = "default") -> list[dict]:
    import torch

    from llminfo.analyzers.base import SampleCache
    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.models import load_model
    from llminfo.text import alias_match

    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done[r["id"]] = r
    todo = [r for r in rows if r["id"] not in done]
    if todo:
        torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "2")))
        model = load_model(model_name)
        scorer = HallucinationScorer(METHODS, samples=samples)
        t0 = time.time()
        with out.open("a") as f:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                cache = SampleCache()
                answers, scores, details = scorer.raw_scores(model, [{"question": r["question"]} for r in chunk], seed=seed, cache=cache)
                for r, a, s, d in zip(chunk, answers, scores, details):
                    row = {
                        "id": r["id"], "set": r["set"], "category": r.get("category"), "difficulty": r.get("difficulty"),
                        "question": r["question"], "answer": a, "correct": bool(alias_match(a, r["answers"])),
                        "scores": {n: (float(v) if np.isfinite(v) else None) for n, v in zip(scorer.names, s)},
                        "details": {m: {k: d[m][k] for k in keys} for m, keys in KEEP_DETAILS.items() if m in d},
                    }
                    f.write(json.dumps(row) + "\n")
                    done[r["id"]] = row
                f.flush()
                n = start + len(chunk)
                print(f"{n}/{len(todo)} rows, {(time.time() - t0) / n:.2f} s/question, load {os.getloadavg()[0]:.1f}", flush=True)
    return [done[r["id"]] for r in rows]


def evaluate(rows: list[dict], folds: int = 5, seed: int = 0) -> dict:
    from llminfo.analyzers.calibration import Calibrator
    from llminfo.eval.metrics import accuracy_at_coverage, auroc, bootstrap_ci, prr

    order = {r["id"]: i for i, r in enumerate(rows)}
    fact = [dict(r, _order=order[r["id"]]) for r in rows if r["set"] == "factual"]
    names = list(fact[0]["scores"])
    correct = np.array([r["correct"] for r in fact], dtype=float)
    wrong = 1 - correct
    S = np.array([[np.nan if r["scores"][n] is None else r["scores"][n] for n in names] for r in fact])
    # Extra EDFL readings from stored details (same runs, no new model calls).
    extra = {}
    for m in ("edfl", "edfl_answer"):
        if m in fact[0]["details"]:
            extra[f"{m}:1-p_answer"] = np.array([1 - r["details"][m]["p_answer"] for r in fact])
            extra[f"{m}:exp(-delta)"] = np.array([np.exp(-r["details"][m]["delta_bar"]) for r in fact])
            extra[f"{m}:1/(1+isr)"] = np.array([1 / (1 + r["details"][m]["isr"]) for r in fact])

    def summary(u: np.ndarray) -> dict:
        ok = np.isfinite(u)
        u = np.where(ok, u, np.nanmean(u))
        lo, hi = bootstrap_ci(auroc, wrong, u, n_resamples=500)
        return {"auroc": auroc(wrong, u), "auroc_ci95": [lo, hi], "prr": prr(correct, u), "nan": int((~ok).sum())}

    per_method = {n: summary(S[:, j]) for j, n in enumerate(names)}
    per_reading = {n: summary(v) for n, v in extra.items()}

    rng = np.random.default_rng(seed)
    fold = np.empty(len(fact), dtype=int)
    for label in (0.0, 1.0):  # stratified folds
        idx = np.flatnonzero(wrong == label)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    combined = {}
    cv_risk = {}
    subsets = {"all": names, "no_edfl": [n for n in names if not n.startswith("edfl")],
               "white_box": ["msp", "perplexity", "mean_entropy"]}
    for kind in ("rank", "logistic", "isotonic"):
        for sub_name, sub in subsets.items():
            cols = [names.index(n) for n in sub if n in names]
            risk = np.empty(len(fact))
            for k in range(folds):
                tr, te = fold != k, fold == k
                cal = Calibrator(kind=kind, target_risk=0.2).fit([names[c] for c in cols], S[tr][:, cols], correct[tr])
                risk[te] = cal.predict(S[te][:, cols])
            combined[f"{kind}:{sub_name}"] = summary(risk)
            cv_risk[f"{kind}:{sub_name}"] = risk
    best_single = max(per_method, key=lambda n: per_method[n]["auroc"])
    main = cv_risk[MAIN]
    # The calibrator kind was chosen on the first PILOT questions scored: the same comparison
    # on the factual questions after them is free of that choice.
    later = np.array([r["_order"] >= PILOT for r in fact])
    held_out = None
    if later.sum() >= 20 and 0 < wrong[later].sum() < later.sum():
        held_out = {"n": int(later.sum()), "combined": auroc(wrong[later], main[later]),
                    "per_method": {n: auroc(wrong[later], np.nan_to_num(S[later, j], nan=np.nanmean(S[:, j]))) for j, n in enumerate(names)}}
    coverage = [round(c, 2) for c in np.arange(0.1, 1.01, 0.1)]
    curve = {
        "coverage": coverage,
        f"combined({MAIN})": [accuracy_at_coverage(correct, main, c) for c in coverage],
        f"best_single({best_single})": [accuracy_at_coverage(correct, S[:, names.index(best_single)], c) for c in coverage],
    }

    # MI vs SE on the mix: thresholds that catch 80% of wrong factual answers; how many valid
    # many-answer questions does each method then flag?
    many = [r for r in rows if r["set"] == "many"]
    mix = {}
    if many:
        for m in ("semantic_entropy", "discrete_semantic_entropy", "iterative_mi"):
            if m not in names:
                continue
            fs = S[:, names.index(m)][wrong == 1]
            ms = np.array([r["scores"][m] for r in many if r["correct"]], dtype=float)
            entry = {"many_valid": int(ms.size), "many_total": len(many)}
            for recall in (0.5, 0.8):
                t = np.quantile(fs, 1 - recall)
                entry[f"flag_rate_many_at_recall{recall}"] = float(np.mean(ms >= t)) if ms.size else None
            all_s = np.concatenate([S[:, names.index(m)], [r["scores"][m] for r in many]])
            all_wrong = np.concatenate([wrong, [0.0 if r["correct"] else 1.0 for r in many]])
            entry["auroc_mix"] = auroc(all_wrong, all_s)
            entry["mean_score_factual_correct"] = float(np.mean(S[:, names.index(m)][wrong == 0]))
            entry["mean_score_factual_wrong"] = float(np.mean(fs))
            entry["mean_score_many_valid"] = float(np.mean(ms)) if ms.size else None
            mix[m] = entry
    return {
        "n_factual": len(fact),
        "accuracy": float(correct.mean()),
        "n_many": len(many),
        "many_valid_rate": float(np.mean([r["correct"] for r in many])) if many else None,
        "per_method": per_method,
        "edfl_readings": per_reading,
        "combined_cv": combined,
        "best_single": best_single,
        "combined_main": MAIN,
        "target_met": bool(combined[MAIN]["auroc"] >= 0.75 and combined[MAIN]["auroc"] > per_method[best_single]["auroc"]),
        "held_out_after_pilot": held_out,
        "accuracy_vs_coverage": curve,
        "mi_vs_se_mix": mix,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N questions of the seeded shuffle of both sets")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--evaluate-only", action="store_true", help="report on the rows already scored")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="default", help="an embedded model name, a folder or a hub id")
    ap.add_argument("--rows", default=None, help="default bench_results/quality_hallucination[_MODEL]_rows.jsonl")
    ap.add_argument("--output", default=None, help="default bench_results/quality_hallucination[_MODEL].json")
    args = ap.parse_args()
    tag = "" if args.model == "default" else "_" + "".join(c if c.isalnum() or c in "-." else "-" for c in args.model)
    args.rows = args.rows or str(ROOT / "bench_results" / f"quality_hallucination{tag}_rows.jsonl")
    args.output = args.output or str(ROOT / "bench_results" / f"quality_hallucination{tag}.json")
    Path(args.rows).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    items = load_items(args.limit)
    if args.evaluate_only:
        have = {json.loads(l)["id"] for l in Path(args.rows).read_text().splitlines() if l.strip()}
        items = [r for r in items if r["id"] in have]
    rows = score_rows(items, Path(args.rows), args.samples, args.batch, args.seed, args.model)
    report = evaluate(rows)
    report.update({"model": "default (SmolLM2-135M-Instruct)" if args.model == "default" else args.model, "samples": args.samples, "seed": args.seed,
                   "seconds": round(time.time() - t0, 1), "loadavg": os.getloadavg(),
                   "n_scored": len(rows), "methods": [m if isinstance(m, str) else [m[0], m[1]] for m in METHODS],
                   "command": "python scripts/quality_hallucination.py" + (f" --limit {args.limit}" if args.limit else "")
                   + (f" --samples {args.samples}" if args.samples != 10 else "")
                   + (f" --model {args.model}" if args.model != "default" else "")})
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("accuracy", "per_method", "combined_cv", "target_met", "mi_vs_se_mix")}, indent=1))


if __name__ == "__main__":
    main()
