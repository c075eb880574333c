"""The shipped default scorer on factual questions it never saw: a clean check of issue #17's
combined-risk targets, after every choice was made on the shipped set.

`bench_results/fresh_factual_qa.jsonl` holds short-answer questions written after the shipped
calibrators and probes were fitted, none of them in `llminfo/data/factual_qa.jsonl` (exact or
"capital of X" duplicates removed). Nothing is fitted or chosen here: the default scorer
(`HallucinationScorer()`, its shipped probe and calibrator) scores each model's greedy answer,
`alias_match` labels it, and the report gives per-method AUROC, the combined risk's AUROC and
its gain over the single method declared best beforehand on the development split of the
shipped set (default model: hidden_probe; gemma3-270m: msp), with a paired bootstrap CI.
Rows are appended per batch (resumable).

    python scripts/fresh_check.py --model default
    python scripts/fresh_check.py --model gemma3-270m
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
sys.path.insert(0, str(ROOT / "scripts"))

QUESTIONS = ROOT / "bench_results" / "fresh_factual_qa.jsonl"
# The best single input chosen on the development split of the shipped set (quality reports).
BEST_SINGLE = {"default": "hidden_probe", "gemma3-270m": "msp"}


def main() -> None:
    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.eval.metrics import auroc, bootstrap_ci
    from llminfo.models import load_model
    from llminfo.text import alias_match
    from quality_eval import summary
    from quality_hallucination import read_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default", choices=sorted(BEST_SINGLE))
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    suffix = "" if args.model == "default" else f"_{args.model}"
    rows_path = ROOT / "bench_results" / f"fresh_check_rows{suffix}.jsonl"
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    done = read_rows(rows_path)
    todo = [it for it in items if it["id"] not in done]
    t0 = time.time()
    if todo:
        model = load_model(args.model)
        scorer = HallucinationScorer()
        for s in range(0, len(todo), args.batch):
            batch = todo[s:s + args.batch]
            res = scorer.score(model, [{"question": it["question"]} for it in batch], seed=0)
            with rows_path.open("a") as f:
                for it, r in zip(batch, res):
                    f.write(json.dumps({"id": it["id"], "question": it["question"], "answer": r.answer,
                                        "correct": bool(alias_match(r.answer, it["answers"])), "scores": r.scores,
                                        "risk": r.risk, "calibrated": r.calibrated}) + "\n")
            print(f"{min(s + args.batch, len(todo))}/{len(todo)}", flush=True)
    rows = [r for r in (read_rows(rows_path).get(it["id"]) for it in items) if r is not None]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in rows])
    names = list(rows[0]["scores"])
    S = {n: np.array([r["scores"][n] if r["scores"][n] is not None else np.nan for r in rows]) for n in names}
    risk = np.array([r["risk"] for r in rows])
    best = BEST_SINGLE[args.model]
    diff = lambda w, a, b: auroc(w, a) - auroc(w, b)  # noqa: E731
    gain = diff(wrong, risk, S[best])
    report = {
        "model": args.model, "n": len(rows), "accuracy": float(1 - wrong.mean()), "questions": QUESTIONS.name,
        "all_calibrated": all(r["calibrated"] for r in rows),
        "per_method": {n: summary(wrong, S[n]) for n in names},
        "combined_risk": summary(wrong, risk),
        "best_single_declared_beforehand": best,
        "gain_over_best_single": gain,
        "gain_ci95": list(bootstrap_ci(diff, wrong, risk, S[best], n_resamples=1000)),
        "best_single_on_these_questions": max(names, key=lambda n: auroc(wrong, S[n])),
        "targets": {"auroc_ge_0.80": bool(auroc(wrong, risk) >= 0.80), "gain_ge_0.03": bool(gain >= 0.03),
                    "not_below_best_single": bool(gain >= 0)},
        "seconds": time.time() - t0, "loadavg": os.getloadavg(),
        "command": f"python scripts/fresh_check.py --model {args.model}",
    }
    (ROOT / "bench_results" / f"fresh_check{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("n", "accuracy", "combined_risk", "gain_over_best_single", "gain_ci95", "targets")}, indent=1))
    print({n: round(v["auroc"], 3) for n, v in report["per_method"].items()})


if __name__ == "__main__":
    main()
