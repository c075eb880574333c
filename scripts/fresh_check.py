"""The shipped default scorer on factual questions it never saw: a clean check of issue #17's
combined-risk targets, after every choice was made on the shipped set.

Two sets of short-answer questions written after the shipped calibrators and probes were
fitted, none of them in `llminfo/data/factual_qa.jsonl`:
- `bench_results/fresh_factual_qa.jsonl` (159, the first; it turned out to restate about 30
  shipped facts in other words — `scripts/check_question_set.py` lists them);
- `bench_results/fresh2_factual_qa.jsonl` (320, written by `scripts/make_fresh2_data.py`,
  which refuses any subject the shipped or first fresh set asks about). No model was run on
  it before the scorer it checks was frozen.
Nothing is fitted or chosen here: the default scorer (`HallucinationScorer()`, its shipped
probe and calibrator) scores each model's greedy answer, `alias_match` labels it, and the
report gives per-method AUROC, the combined risk's AUROC and its gain over the single method
declared best beforehand on the development split of the shipped set (default model:
hidden_probe; gemma3-270m: msp), with a paired bootstrap CI — and, with `--before CAL.json`,
the same for an earlier shipped scorer (its methods must be among the default ones; its risk
is computed from the same raw scores). Targets (issue #17): combined risk ≥ 0.80 AUROC and ≥
0.03 above the declared best single input. Rows are appended per batch (resumable); a row
scored by another set of methods is scored again (the last row of an id is the one read).

    python scripts/fresh_check.py --model default [--questions bench_results/fresh2_factual_qa.jsonl]
    python scripts/fresh_check.py --model gemma3-270m --questions bench_results/fresh2_factual_qa.jsonl \
        --before llminfo/data/calibrators/gemma3-270m.fast.json
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
    ap.add_argument("--questions", default=str(QUESTIONS), help="JSONL of {id, question, answers} never used to choose anything")
    ap.add_argument("--before", default=None, metavar="CAL.json", help="an earlier saved scorer to compare on the same raw scores")
    args = ap.parse_args()
    suffix = "" if args.model == "default" else f"_{args.model}"
    questions = Path(args.questions)
    stem = questions.name.split("_factual_qa")[0]  # fresh, fresh2
    rows_path = ROOT / "bench_results" / f"{stem}_check_rows{suffix}.jsonl"
    items = [json.loads(line) for line in questions.read_text().splitlines() if line.strip()]
    scorer = HallucinationScorer()
    before = HallucinationScorer.load(args.before) if args.before else None
    missing = [n for n in before.names if n not in scorer.names] if before is not None else []
    if missing:  # checked before any model runs
        raise SystemExit(f"--before {args.before}: methods {missing} are not scored by the default scorer "
                         f"({', '.join(scorer.names)})")
    # a row scored by another set of methods is scored again (the new row, appended, is the one read)
    done = {k: r for k, r in read_rows(rows_path).items() if list(r["scores"]) == scorer.names}
    todo = [it for it in items if it["id"] not in done]
    t0 = time.time()
    if todo:
        model = load_model(args.model)
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
        "model": args.model, "n": len(rows), "accuracy": float(1 - wrong.mean()), "questions": questions.name,
        "scorer_methods": names,
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
        "command": f"python scripts/fresh_check.py --model {args.model} --questions {questions.relative_to(ROOT) if questions.is_relative_to(ROOT) else questions}"
                   + (f" --before {args.before}" if args.before else ""),
    }
    if before is not None:
        risk_b = before.calibrator.predict(np.column_stack([S[n] for n in before.names]))
        report["before"] = {"scorer": str(args.before), "methods": before.names, "combined_risk": summary(wrong, risk_b),
                            "gain_over_best_single": diff(wrong, risk_b, S[best]),
                            "gain_ci95": list(bootstrap_ci(diff, wrong, risk_b, S[best], n_resamples=1000)),
                            "now_minus_before": diff(wrong, risk, risk_b),
                            "now_minus_before_ci95": list(bootstrap_ci(diff, wrong, risk, risk_b, n_resamples=1000))}
    (ROOT / "bench_results" / f"{stem}_check{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("n", "accuracy", "combined_risk", "gain_over_best_single", "gain_ci95", "targets")}, indent=1))
    print({n: round(v["auroc"], 3) for n, v in report["per_method"].items()})


if __name__ == "__main__":
    main()
