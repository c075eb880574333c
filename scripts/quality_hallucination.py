"""Quality of the hallucination signals on the shipped sets with an embedded model (issue #17
protocol): AUROC / PRR with CIs per method, the combined risk chosen by cross-validation on a
development split and measured on a held-out split never used to choose anything.

For every question the model's greedy answer (short-answer prompt) is labelled by
`alias_match` against the gold aliases. Methods, each with its paper's protocol:
semantic entropy (K = 10, T = 1, semantic clustering by default), discrete SE, naive
predictive entropy and p(True) on the same samples; iterative-prompting MI (K = 10, T = 0.9,
F1 ≥ 0.25); EDFL (white-box and sampled decisions, hallbayes skeletons, first sampled label,
symmetric clip); white-box baselines (msp, perplexity, mean entropy) and llminfo's
edfl_answer. The SE samples (answers + likelihoods) are kept in each row so clustering
variants are re-scored offline (`scripts/measure_clustering.py`).

Scores that this issue did not change (msp, perplexity, mean_entropy, edfl_answer: same
prompt, same greedy answer, same protocol) are reused from the previous protocol's rows
(`bench_results/quality_hallucination_rows.jsonl`), which also give each changed method's
"before" score. Rows are appended as batches finish: an interrupted run resumes. The probes'
columns (`hidden_probe`, `query_probe`) are not scored here: `scripts/fit_probe.py [--query]`
writes them cross-fitted (no row scored by a probe that saw its label) — re-run it after adding rows.
`--add-method NAME` scores one more method on the rows already written (their stored answers),
rewriting the rows file atomically after each batch (resumable).

    python scripts/quality_hallucination.py [--limit N] [--batch 8] [--model default]
    python scripts/quality_hallucination.py --evaluate-only   # + the EDFL audit and p(True) protocols, from their rows
    python scripts/quality_hallucination.py --model gemma3-270m   # rows/report named after the model
    python scripts/quality_hallucination.py --add-method prompt_disagreement [--model gemma3-270m]
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

# The methods scored here (new protocol). Unchanged ones come from the previous rows.
NEW_METHODS = [
    "semantic_entropy",
    "discrete_semantic_entropy",
    "predictive_entropy",
    "p_true",
    "iterative_mi",
    "edfl",
    ("edfl", {"mode": "samples", "name": "edfl_samples"}),
    "prompt_disagreement",
]
REUSED = ("msp", "perplexity", "mean_entropy", "edfl_answer")
KEEP_DETAILS = {
    "semantic_entropy": ("answers", "seq_logprobs", "cluster_ids"),
    "iterative_mi": ("answers", "cluster_ids", "mi_sequence", "mi_length_normalized", "mi_frequency_mu1"),
    "edfl": ("event_label", "p_answer", "delta_bar", "q_bar", "q_lo", "roh", "isr", "decision"),
    "edfl_samples": ("event_label", "p_answer", "delta_bar", "q_bar", "q_lo", "roh", "isr", "decision"),
    "p_true": ("p_true",),
    "prompt_disagreement": ("second_answer",),
}
OLD_ROWS = ROOT / "bench_results" / "quality_hallucination_rows.jsonl"
ROWS = ROOT / "bench_results" / "quality_hallucination_rows_v2.jsonl"
HELD_OUT_SHARE = 0.3


def load_items(limit: int | None) -> list[dict]:
    from llminfo.data import load_jsonl

    factual = load_jsonl("factual_qa.jsonl")
    many = load_jsonl("many_answers.jsonl")
    rows = [dict(r, set="factual") for r in factual] + [dict(r, set="many") for r in many]
    # Seeded shuffle (the previous protocol's order): any prefix is a random subset of both sets.
    order = np.random.default_rng(0).permutation(len(rows))
    rows = [rows[i] for i in order]
    return rows[:limit] if limit else rows


def read_rows(path: Path) -> dict[str, dict]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from an interrupted run
                out[r["id"]] = r
    return out


def score_rows(items: list[dict], out: Path, batch: int, seed: int, model_name: str) -> None:
    import torch

    from llminfo.analyzers.base import SampleCache
    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.models import load_model
    from llminfo.text import alias_match

    done = read_rows(out)
    old = read_rows(OLD_ROWS) if model_name == "default" else {}
    todo = [r for r in items if r["id"] not in done]
    if not todo:
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    scorer = HallucinationScorer(NEW_METHODS + [m for m in REUSED if not old], calibrator=None)
    t0 = time.time()
    with out.open("a") as f:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            cache = SampleCache()
            qa = [{"question": r["question"], "answer": old[r["id"]]["answer"]} if r["id"] in old else {"question": r["question"]} for r in chunk]
            answers, scores, details = scorer.raw_scores(model, qa, seed=seed, cache=cache)
            for r, a, s, d in zip(chunk, answers, scores, details):
                prev = old.get(r["id"], {})
                row = {
                    "id": r["id"], "set": r["set"], "category": r.get("category"), "difficulty": r.get("difficulty"),
                    "question": r["question"], "answer": a, "correct": bool(alias_match(a, r["answers"])),
                    "scores": {n: (float(v) if np.isfinite(v) else None) for n, v in zip(scorer.names, s)},
                    "details": {m: {k: d[m][k] for k in keys if k in d[m]} for m, keys in KEEP_DETAILS.items() if m in d},
                    "before": {k: v for k, v in prev.get("scores", {}).items() if k not in REUSED},
                }
                for m in REUSED:
                    if m in prev.get("scores", {}):
                        row["scores"][m] = prev["scores"][m]
                f.write(json.dumps(row) + "\n")
            f.flush()
            n = start + len(chunk)
            print(f"{n}/{len(todo)} rows, {(time.time() - t0) / n:.2f} s/question, load {os.getloadavg()[0]:.1f}", flush=True)


def add_method(name: str, rows_path: Path, batch: int, seed: int, model_name: str) -> None:
    """Score method `name` on every row of `rows_path` that lacks it, on the row's stored
    answer, and write its score (and the details KEEP_DETAILS lists) into the row."""
    import torch

    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.fileio import atomic_write_text
    from llminfo.models import load_model

    rows = list(read_rows(rows_path).values())
    todo = [r for r in rows if name not in r["scores"]]
    if not todo:
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    scorer = HallucinationScorer([name], calibrator=None)
    t0 = time.time()
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        _, scores, details = scorer.raw_scores(model, [{"question": r["question"], "answer": r["answer"]} for r in chunk], seed=seed)
        for r, s, d in zip(chunk, scores, details):  # the dicts are those of `rows`
            r["scores"][name] = float(s[0]) if np.isfinite(s[0]) else None
            keep = KEEP_DETAILS.get(name, ())
            if keep:
                r["details"][name] = {k: d[name][k] for k in keep if k in d[name]}
        atomic_write_text(rows_path, "".join(json.dumps(r) + "\n" for r in rows))
        n = start + len(chunk)
        print(f"{name}: {n}/{len(todo)} rows, {(time.time() - t0) / n:.2f} s/question, load {os.getloadavg()[0]:.1f}", flush=True)


def offline_reports(rows: list[dict], model_name: str) -> dict:
    """The #17 analyses run by their own scripts, evaluated from whatever rows they have
    written (default model): the ISR audit of both EDFL skeleton policies
    (`scripts/edfl_audit.py`) and the p(True) protocols (`scripts/p_true_variants.py`)."""
    import edfl_audit
    import p_true_variants

    out: dict = {}
    if model_name != "default":
        return out
    audit_rows = edfl_audit.read_jsonl(edfl_audit.ROWS)
    if audit_rows:
        out["edfl_audit"] = {"rows_file": edfl_audit.ROWS.name, "policies": edfl_audit.evaluate(audit_rows)}
    ids = {r["id"] for r in rows if r["set"] == "factual"}
    recs = [r for r in read_rows(p_true_variants.OUT_ROWS).values() if r["id"] in ids]
    if len(recs) >= 10:
        out["p_true_variants"] = {"rows_file": p_true_variants.OUT_ROWS.name, **p_true_variants.evaluate(recs)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N questions of the seeded shuffle of both sets")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="default")
    ap.add_argument("--evaluate-only", action="store_true", help="report on the rows already scored")
    ap.add_argument("--rows", default=None, help="rows file (default: per model, under bench_results/)")
    ap.add_argument("--output", default=None, help="report JSON (default: per model, under bench_results/)")
    ap.add_argument("--add-method", default=None, metavar="NAME",
                    help="score this registered method on the rows already written (their stored answers), then report")
    args = ap.parse_args()
    # Other models' rows and reports get the model's name, so runs of two models never mix.
    suffix = "" if args.model == "default" else f"_{args.model}"
    args.rows = args.rows or str(ROWS.with_name(ROWS.stem + suffix + ROWS.suffix))
    args.output = args.output or str(ROOT / "bench_results" / f"quality_hallucination_v2{suffix}.json")
    items = load_items(args.limit)
    if args.add_method:
        from llminfo.analyzers.registry import method_names

        if args.add_method not in method_names():
            raise SystemExit(f"--add-method: unknown method {args.add_method!r}; choose from {method_names()}")
        add_method(args.add_method, Path(args.rows), args.batch, args.seed, args.model)
    elif not args.evaluate_only:
        score_rows(items, Path(args.rows), args.batch, args.seed, args.model)
    from quality_eval import evaluate  # noqa: E402  (scripts/quality_eval.py)

    rows = [r for r in (read_rows(Path(args.rows)).get(it["id"]) for it in load_items(None)) if r is not None]
    report = evaluate(rows, seed=args.seed)
    report.update({"model": args.model, "seed": args.seed, "loadavg": os.getloadavg(), "rows_file": str(Path(args.rows).name),
                   "n_scored": len(rows), "n_total": len(load_items(None)),
                   "command": "python scripts/quality_hallucination.py" + (f" --limit {args.limit}" if args.limit else "")})
    report.update(offline_reports(rows, args.model))
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report.get(k) for k in ("n_scored", "accuracy", "per_method", "combined")}, indent=1)[:6000])


if __name__ == "__main__":
    main()
