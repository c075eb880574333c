"""Fit the hidden-state probe (`hidden_probe`) of a model from labelled quality-run rows, and
write its cross-fitted scores into those rows.

For every factual row of `scripts/quality_hallucination.py` (question, the model's greedy
answer, its alias-match label) the answer is teacher-forced after the short-answer prompt the
white-box baselines use, and the hidden states of every layer are pooled two ways ("mean"
over the answer tokens, "last" token). Then, on the development questions only (the
stratified held-out split of `scripts/quality_eval.py`, never used to choose anything):

1. the layer, the pooling and the L2 strength C are chosen by repeated stratified 5-fold
   cross-validation (3 repeats) of `LinearProbe.fit` (AUROC for "the answer is wrong");
2. each row gets a cross-fitted score `scores.hidden_probe` — development rows their
   out-of-fold prediction, held-out and many-answer rows the prediction of the probe fitted
   on all development rows — so `quality_eval.evaluate` (and `fit_calibrator.py`) combine it
   with the other methods honestly: no row is scored by a probe that saw its label;
3. the shipped probe `llminfo/data/probes/{model}.json` is the chosen configuration fitted on
   every factual row (as the shipped calibrators are).

Report: `bench_results/fit_probe{_model}.json` (the CV grid, the choice, the held-out AUROC of
the development-fitted probe with its 95 % bootstrap CI). The features are cached under
`~/.cache/llminfo/probe_features/` (a re-run only re-fits). Rows are rewritten atomically.

    python scripts/fit_probe.py [--model default] [--rows bench_results/quality_hallucination_rows_v2.jsonl]
    python scripts/fit_probe.py --model gemma3-270m --rows bench_results/quality_hallucination_rows_v2_gemma3-270m.jsonl
    python scripts/fit_probe.py --query ...   # the query probe (query_probe): {model}.query.json, scores.query_probe
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

POOLS = ("mean", "last")


def features(model_name: str, rows: list[dict], cache_dir: Path, query: bool = False) -> dict[str, np.ndarray]:
    """{pool: (N, layers + 1, D)} pooled hidden states of each row's answer after its prompt
    (`query`: {"last": the prompt's last token}, read before any answer)."""
    from llminfo.analyzers.probe import probe_features
    from llminfo.models import load_model

    pools = ("last",) if query else POOLS
    key = hashlib.sha256(json.dumps([model_name, query, [(r["id"], r["question"], r["answer"]) for r in rows]]).encode()).hexdigest()[:16]
    path = cache_dir / f"{model_name}-{'query-' if query else ''}{key}.npz"
    if path.exists():
        with np.load(path) as f:
            return {p: f[p] for p in pools}
    model = load_model(model_name)
    layers = list(range(model.describe().num_layers + 1))
    feats = probe_features(model, [r["question"] for r in rows], None if query else [r["answer"] for r in rows], layers, pools)
    out = {pool: f.astype(np.float32) for pool, f in feats.items()}
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def main() -> None:
    from llminfo.analyzers.probe import PROBE_CS, PROBE_DIR, LinearProbe, out_of_fold, select_probe
    from llminfo.data import DATA_DIR
    from llminfo.eval.metrics import auroc
    from llminfo.fileio import atomic_write_text
    from quality_eval import REPEATS, held_out_mask, summary
    from quality_hallucination import ROWS, read_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--rows", default=str(ROWS), help="quality-run rows (rewritten with the cross-fitted scores)")
    ap.add_argument("--report", default=None, help="report JSON (default bench_results/fit_probe{_model}.json)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--query", action="store_true", help="fit the query probe (query_probe: the prompt's last token, "
                                                         "before any answer) instead of the answer probe")
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "llminfo" / "probe_features"))
    args = ap.parse_args()
    t0 = time.time()
    rows_path = Path(args.rows)
    rows = list(read_rows(rows_path).values())
    if not rows:
        raise SystemExit(f"--rows {rows_path}: no rows")
    fact = [r for r in rows if r["set"] == "factual"]
    other = [r for r in rows if r["set"] != "factual"]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in fact])
    held = held_out_mask([r["id"] for r in fact], wrong, [r.get("difficulty") for r in fact])
    dev = ~held
    feats = features(args.model, fact + other, Path(args.cache_dir), args.query)
    column = "query_probe" if args.query else "hidden_probe"
    n = len(fact)

    best, grid = select_probe({p: f[:n][dev] for p, f in feats.items()}, wrong[dev], repeats=REPEATS, seed=args.seed)
    pool, layer, c = best["pool"], best["layer"], best["c"]

    x_all = feats[pool][:, layer].astype(np.float64)
    x = x_all[:n]
    score = np.empty(len(fact) + len(other))
    dev_idx = np.flatnonzero(dev)
    score[dev_idx] = out_of_fold(x[dev], wrong[dev], c=c, seed=args.seed)
    dev_probe = LinearProbe.fit(x[dev], wrong[dev], layer=layer, pool=pool, c=c)
    rest = np.concatenate([np.flatnonzero(held), np.arange(n, len(score))])
    score[rest] = dev_probe.predict(x_all[rest])
    for i, r in enumerate(fact + other):
        r["scores"][column] = float(score[i])
        r.setdefault("details", {})[column] = {
            "layer": layer, "pool": pool, "c": c,
            "fitted_on": "development rows, out of fold" if i < n and dev[i] else "all development rows"}
    order = {qid: k for k, qid in enumerate(read_rows(rows_path))}
    out_rows = sorted(fact + other, key=lambda r: order[r["id"]])
    atomic_write_text(rows_path, "".join(json.dumps(r) + "\n" for r in out_rows))

    meta = {"model": args.model, "kind": "query" if args.query else "answer", "rows_file": rows_path.name, "n_rows": n, "cv_auroc_development": best["cv_auroc"],
            "c": c, "held_out_auroc_of_development_fit": auroc(wrong[held], score[np.flatnonzero(held)]),
            "command": f"python scripts/fit_probe.py --model {args.model} --rows {rows_path.relative_to(ROOT) if rows_path.is_relative_to(ROOT) else rows_path}"
                       + (" --query" if args.query else "")}
    shipped = LinearProbe.fit(x, wrong, layer=layer, pool=pool, c=c, meta=meta)
    (DATA_DIR / PROBE_DIR).mkdir(exist_ok=True)
    shipped.save(DATA_DIR / PROBE_DIR / (f"{args.model}.query.json" if args.query else f"{args.model}.json"))
    suffix = ("" if args.model == "default" else f"_{args.model}") + ("_query" if args.query else "")
    report = {
        "model": args.model, "rows_file": rows_path.name, "n_factual": n, "development": int(dev.sum()), "held_out": int(held.sum()),
        "grid": grid, "chosen": best, "procedure": f"{REPEATS} x 5-fold stratified CV on development rows over pools {tuple(feats)}, every layer, C in {PROBE_CS}",
        "development_out_of_fold": summary(wrong[dev], score[dev_idx]),
        "held_out_development_fit": summary(wrong[held], score[np.flatnonzero(held)]),
        "seconds": time.time() - t0, "loadavg": os.getloadavg(), "command": meta["command"],
    }
    out = Path(args.report or ROOT / "bench_results" / f"fit_probe{suffix}.json")
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("chosen", "development_out_of_fold", "held_out_development_fit")}, indent=1))


if __name__ == "__main__":
    main()
