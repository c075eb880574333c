"""ISR audit of EDFL / ISR answer-or-abstain decisions (Chlon et al., 2025) on the shipped
factual set, for both skeleton policies.

The paper's headline table is an aggregate audit: the share of questions the rule abstains
on, and among the answered ones the hallucination rate with the upper end of its 95 % Wilson
interval (`llminfo.eval.metrics.isr_audit`). The decisions come from `EDFLRiskAnalyzer` in
white-box mode (decision-token probabilities, one forward per prompt; the event is the label
drawn first, seeded per question) with

- `skeleton_policy="paper"` — hallbayes' closed-book skeletons (the paper's): quoted spans,
  multi-word capitalised names, years and numbers masked at levels 0.25 … 0.9. A short
  question without such spans keeps every skeleton equal to the question, so Δ̄ = 0;
- `skeleton_policy="llminfo"` — llminfo's own skeletons: entities (single capitalised words
  too), numbers, quotes and content words, always something masked.

Correctness labels are those of the quality run (the model's greedy answer, alias match:
`bench_results/quality_hallucination_rows.jsonl`). Each question's EDFL record (P(answer) on
the full prompt, q_k per skeleton, the event, Δ̄, ISR, decision) is appended to the rows file
as it finishes, so an interrupted run resumes, and the audit is recomputed offline for other
margins (hallbayes' README calibrates the margin by such a sweep; here it is only reported,
nothing is chosen on it).

    python scripts/edfl_audit.py [--limit N] [--batch 16] [--policies paper llminfo]
    python scripts/edfl_audit.py --evaluate-only
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

LABELS = ROOT / "bench_results" / "quality_hallucination_rows.jsonl"
ROWS = ROOT / "bench_results" / "edfl_audit_rows.jsonl"
OUTPUT = ROOT / "bench_results" / "edfl_audit.json"
POLICIES = ("paper", "llminfo")
MARGINS = (0.0, 0.1, 0.2, 0.5, 1.0)  # 0.2 = the analyzer's and hallbayes' README default


def read_jsonl(path: Path) -> list[dict]:
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a torn last line from an interrupted run
    return out


def labelled_questions(labels: Path, limit: int | None) -> list[dict]:
    rows = [r for r in read_jsonl(labels) if r.get("set") == "factual"]
    if not rows:
        raise SystemExit(f"no factual rows with labels in {labels}: run scripts/quality_hallucination.py first")
    return rows[:limit] if limit else rows


def unmasked_skeletons(question: str, policy: str, m: int) -> int:
    """How many of the m skeletons equal the question itself (no information removed)."""
    from llminfo.analyzers.edfl import paper_skeletons, skeletons

    sk = [q for q, _ in paper_skeletons(question, None, m)] if policy == "paper" else skeletons(question, m)
    return sum(s == question for s in sk)


def score(questions: list[dict], policies: list[str], rows_path: Path, batch: int, model_name: str, seed: int) -> None:
    import torch

    from llminfo.analyzers.edfl import EDFLRiskAnalyzer
    from llminfo.models import load_model

    done = {(r["id"], r["policy"]) for r in read_jsonl(rows_path)}
    todo = [(q, p) for p in policies for q in questions if (q["id"], p) not in done]
    if not todo:
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    t0, cpu0 = time.time(), time.process_time()
    with rows_path.open("a") as f:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            for policy in sorted({p for _, p in chunk}):
                part = [q for q, p in chunk if p == policy]
                an = EDFLRiskAnalyzer(skeleton_policy=policy)
                results = an.score(model, [q["question"] for q in part], seed=seed)
                for q, res in zip(part, results):
                    d = res.details
                    f.write(json.dumps({
                        "id": q["id"], "policy": policy, "correct": bool(q["correct"]), "question": q["question"],
                        "unmasked_skeletons": unmasked_skeletons(q["question"], policy, an.num_skeletons),
                        "roh": res.score, **{k: d[k] for k in ("event_label", "p_answer", "q_skeletons", "delta_bar",
                                                                "q_bar", "q_lo", "b2t", "isr", "decision")},
                    }) + "\n")
            f.flush()
            n = start + len(chunk)
            print(f"{n}/{len(todo)} (question, policy) pairs, {(time.process_time() - cpu0) / n:.2f} CPU-s and "
                  f"{(time.time() - t0) / n:.2f} s each, load {os.getloadavg()[0]:.1f}", flush=True)


def evaluate(rows: list[dict], margins=MARGINS) -> dict:
    """Per policy: the ISR audit at the analyzer's defaults and at each margin of the sweep,
    the share of questions whose skeletons all equal the question, Δ̄ quantiles, and the
    AUROC of the RoH bound for "the greedy answer is wrong" (bootstrap 95 % CI)."""
    from llminfo.analyzers.edfl import EDFLRiskAnalyzer
    from llminfo.eval.metrics import auroc, bootstrap_ci, isr_audit

    out: dict = {}
    for policy in sorted({r["policy"] for r in rows}):
        rs = [r for r in rows if r["policy"] == policy]
        correct = np.array([1.0 if r["correct"] else 0.0 for r in rs])
        delta = np.array([r["delta_bar"] for r in rs])
        entry = {
            "n": len(rs),
            "accuracy": float(correct.mean()),
            "all_skeletons_unmasked": float(np.mean([r["unmasked_skeletons"] == len(r["q_skeletons"]) for r in rs])),
            "delta_bar_zero": float(np.mean(delta == 0.0)),
            "delta_bar_quantiles": dict(zip(("p10", "p50", "p90", "max"), np.quantile(delta, [0.1, 0.5, 0.9, 1.0]).tolist())),
            "event_answer_share": float(np.mean([r["event_label"] == "answer" for r in rs])),
            "isr_audit": isr_audit([r["decision"] for r in rs], correct),
        }
        if 0 < correct.sum() < correct.size:
            wrong, roh = 1 - correct, np.array([r["roh"] for r in rs])
            entry["roh_auroc"] = auroc(wrong, roh)
            entry["roh_auroc_ci95"] = list(bootstrap_ci(auroc, wrong, roh, n_resamples=1000))
        sweep = {}
        for margin in margins:
            an = EDFLRiskAnalyzer(skeleton_policy=policy, margin=margin)
            dec = [an.decide(r["p_answer"], r["q_skeletons"], r["event_label"])["decision"] for r in rs]
            sweep[f"{margin:g}"] = isr_audit(dec, correct)
        entry["margin_sweep"] = sweep
        out[policy] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N labelled factual questions")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="default")
    ap.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    ap.add_argument("--labels", default=str(LABELS), help="quality-run rows with `correct` per factual question")
    ap.add_argument("--rows", default=str(ROWS))
    ap.add_argument("--output", default=str(OUTPUT))
    ap.add_argument("--evaluate-only", action="store_true")
    args = ap.parse_args()
    rows_path = Path(args.rows)
    if not args.evaluate_only:
        score(labelled_questions(Path(args.labels), args.limit), args.policies, rows_path, args.batch, args.model, args.seed)
    rows = read_jsonl(rows_path)
    if not rows:
        raise SystemExit(f"no rows in {rows_path}")
    report = {"model": args.model, "mode": "logprobs (white-box)", "seed": args.seed, "loadavg": os.getloadavg(),
              "labels": Path(args.labels).name, "policies": evaluate(rows),
              "command": "python scripts/edfl_audit.py" + (f" --limit {args.limit}" if args.limit else "")}
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({p: {k: v for k, v in e.items() if k != "margin_sweep"} for p, e in report["policies"].items()}, indent=1))


if __name__ == "__main__":
    main()
