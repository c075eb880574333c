"""Benchmark: `llminfo score` in one process vs as a Ray Data job with 1 and 2 workers, in one run.

The same Q factual questions (`factual_qa.jsonl`, answered greedily by the model) are scored
with the same methods:

1. plain: load the model, `HallucinationScorer.score` batch by batch (what `llminfo score` does);
2. Ray, 1 worker: `score_on_ray` on a local Ray instance (`ray.init(num_cpus=2)`), one actor;
3. Ray, 2 workers: the same with two actors.

Each wall time includes loading the model (the plain process loads it once; each actor loads
its own), not starting Ray. Reported: rows/s of each, the 2-worker / 1-worker speed-up, and the
Ray path's per-row overhead ((Ray 1 worker − plain) / Q). Every run is one thread per worker.
The scores of the three runs are checked equal. `os.getloadavg()` is recorded beside every
figure: on a shared machine the load is part of the measurement.

Usage:
    python scripts/bench_scale.py [--questions 24] [--methods msp,mean_entropy] [--batch-size 4]
Writes bench_results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=24)
    ap.add_argument("--methods", default="msp,mean_entropy")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--model", default="default")
    ap.add_argument("--output", default=str(ROOT / "bench_results" / "scale.json"))
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    import ray
    import torch

    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.data import load_jsonl
    from llminfo.models import load_model
    from llminfo.scale import RayEngine, read_results, score_on_ray

    torch.set_num_threads(1)
    methods = [m for m in args.methods.split(",") if m]
    rows = [{"id": i, "question": r["question"]} for i, r in enumerate(load_jsonl("factual_qa.jsonl")[: args.questions])]
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    src = tmp / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    results: dict = {"questions": len(rows), "methods": methods, "batch_size": args.batch_size, "model": args.model,
                     "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs)", "runs": {}}

    def record(name: str, wall: float) -> None:
        results["runs"][name] = {"wall_s": round(wall, 2), "rows_per_s": round(len(rows) / wall, 3),
                                 "load_avg_1min": round(os.getloadavg()[0], 2)}
        print(name, results["runs"][name], flush=True)

    # 1. plain process
    t0 = time.perf_counter()
    model = load_model(args.model)
    scorer = HallucinationScorer(methods)
    plain = []
    for s in range(0, len(rows), args.batch_size):
        plain += scorer.score(model, [{"question": r["question"]} for r in rows[s : s + args.batch_size]], seed=0)
    record("plain", time.perf_counter() - t0)
    del model

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    outs = {}
    for workers in (1, 2):
        out = tmp / f"out{workers}"
        t0 = time.perf_counter()
        stats = score_on_ray(src, out, model=args.model, scorer=HallucinationScorer(methods), seed=0,
                             engine=RayEngine(workers=workers, batch_size=args.batch_size))
        record(f"ray_{workers}_workers", time.perf_counter() - t0)
        assert stats["scored"] == len(rows), stats
        outs[workers] = {r["id"]: r["scores"] for r in read_results(out)}
    ray.shutdown()

    ref = {i: res.scores for i, res in enumerate(plain)}
    same = all(abs(outs[w][i][m] - ref[i][m]) < 1e-5 for w in (1, 2) for i in ref for m in methods)
    r = results["runs"]
    results["speedup_2_vs_1_workers"] = round(r["ray_1_workers"]["wall_s"] / r["ray_2_workers"]["wall_s"], 3)
    results["ray_overhead_per_row_s"] = round((r["ray_1_workers"]["wall_s"] - r["plain"]["wall_s"]) / len(rows), 3)
    results["scores_identical_across_runs"] = bool(same)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
