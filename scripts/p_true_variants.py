"""p(True) protocols re-scored on the quality run's stored answers (issue #17).

For every factual row of `scripts/quality_hallucination.py` (the model's greedy answer, its
10 stored semantic-entropy samples at T = 1 and the alias-match label), score P(True) with
each `PTrue` protocol — "farquhar" (the semantic-entropy paper's baseline: brainstormed
answers, "A) True", P(" A"); the quality run's `p_true`), "kadavath" (Kadavath et al.'s
zero-shot "Proposed Answer … (A) True (B) False", P(" (A)")) and "kadavath_samples" (their
variant showing the samples), each on raw text (the papers') and through the chat template
("+chat", as lm-polygraph does for instruction-tuned models) — both as the papers read it (P(True) itself) and renormalised
over the two options (llminfo's `normalize=True`). One teacher-forced `score` call per
batch (both options; the prompt is shared). Reports AUROC / PRR for "the answer is wrong"
with 95 % bootstrap CIs, and checks that the recomputed "farquhar" P(True) equals the
quality run's stored `p_true`. Rows are appended as batches finish (resumable).

    python scripts/p_true_variants.py [--rows bench_results/quality_hallucination_rows_v2.jsonl] [--limit N]
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

OUT_ROWS = ROOT / "bench_results" / "p_true_variants_rows.jsonl"
OUTPUT = ROOT / "bench_results" / "p_true_variants.json"


def variants() -> list[tuple[str, str, bool]]:
    """(key, protocol, chat) of every variant scored: each protocol on raw text (the papers')
    and through the chat template (as lm-polygraph does for instruction-tuned models)."""
    from llminfo.analyzers.semantic_entropy import P_TRUE_PROTOCOLS

    return [(p + ("+chat" if chat else ""), p, chat) for chat in (False, True) for p in P_TRUE_PROTOCOLS]


def score_rows(rows: list[dict], out: Path, batch: int, model_name: str) -> None:
    import torch

    from quality_hallucination import read_rows

    from llminfo.analyzers.semantic_entropy import PTrue
    from llminfo.models import load_model

    done = read_rows(out)
    todo = [r for r in rows if any(k not in done.get(r["id"], {}) for k, _, _ in variants())]
    if not todo:
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    t0, cpu0 = time.time(), time.process_time()
    with out.open("a") as f:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            prompts, conts, where = [], [], []
            for r in chunk:
                samples = r["details"]["semantic_entropy"]["answers"]
                for key, proto, chat in variants():
                    if key in done.get(r["id"], {}):
                        continue
                    pt = PTrue(protocol=proto, chat=chat)
                    p = pt.prompt_for(r["question"], samples, r["answer"], model)
                    prompts += [p, p]
                    conts += list(pt.options)
                    where.append((r["id"], key))
            lp = [s.sum_logprob for s in model.score(prompts, conts, entropy=False)]
            for r in chunk:
                rec = dict(done.get(r["id"], {}), id=r["id"], correct=r["correct"],
                           stored_p_true=r["details"].get("p_true", {}).get("p_true"))
                for k, (qid, key) in enumerate(where):
                    if qid == r["id"]:
                        rec[key] = {"logp_true": lp[2 * k], "logp_false": lp[2 * k + 1]}
                f.write(json.dumps(rec) + "\n")  # read_rows keeps the last record of an id
            f.flush()
            n = start + len(chunk)
            print(f"{n}/{len(todo)} rows, {(time.process_time() - cpu0) / n:.2f} CPU-s and {(time.time() - t0) / n:.2f} s "
                  f"per question, load {os.getloadavg()[0]:.1f}", flush=True)


def evaluate(recs: list[dict]) -> dict:
    from quality_eval import summary

    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    out: dict = {"n_factual": len(recs), "accuracy": float(1 - wrong.mean())}
    for key, _, _ in variants():
        if not all(key in r for r in recs):
            continue
        lt = np.array([r[key]["logp_true"] for r in recs])
        lf = np.array([r[key]["logp_false"] for r in recs])
        p_raw, p_norm = np.exp(lt), np.exp(lt - np.logaddexp(lt, lf))
        out[key] = {
            "paper (risk = 1 - P(True))": summary(wrong, 1 - p_raw),
            "normalized (risk = 1 - P(A)/(P(A)+P(B)))": summary(wrong, 1 - p_norm),
            "mean_p_true": float(p_raw.mean()), "mean_p_true_plus_p_false": float((p_raw + np.exp(lf)).mean()),
        }
    stored = [(r["stored_p_true"], np.exp(r["farquhar"]["logp_true"])) for r in recs if r["stored_p_true"] is not None]
    if stored:
        out["farquhar_vs_stored_p_true_max_abs_diff"] = float(max(abs(a - b) for a, b in stored))
    return out


def main() -> None:
    from quality_hallucination import ROWS, read_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=str(ROWS), help="quality-run rows with stored SE samples")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--model", default="default")
    ap.add_argument("--out-rows", default=str(OUT_ROWS))
    ap.add_argument("--output", default=str(OUTPUT))
    ap.add_argument("--evaluate-only", action="store_true")
    args = ap.parse_args()
    rows = [r for r in read_rows(Path(args.rows)).values()
            if r["set"] == "factual" and "semantic_entropy" in r.get("details", {})][: args.limit]
    if not args.evaluate_only:
        score_rows(rows, Path(args.out_rows), args.batch, args.model)
    keep = {r["id"] for r in rows}
    recs = [r for r in read_rows(Path(args.out_rows)).values() if r["id"] in keep]
    if len(recs) < 10:
        raise SystemExit(f"only {len(recs)} scored rows in {args.out_rows}")
    report = {"model": args.model, "rows": Path(args.rows).name, "loadavg": os.getloadavg(), **evaluate(recs),
              "command": "python scripts/p_true_variants.py"}
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=1)[:4000])


if __name__ == "__main__":
    main()
