"""Benchmark the eval runner: the quickstart's cost, and batching vs one item per batch.

1. `eval_configs/quickstart.yaml` end to end (model load, items, metrics, report): wall and
   CPU seconds (CPU ≈ the wall time on an idle machine with one thread per core busy).
2. The same config on a small slice with `batch_size` as configured vs `batch_size: 1`
   (same items, same results): the speed-up from batching (one `generate` for a batch).

The machine's load average is recorded beside every figure (shared CI boxes distort wall
times). Writes bench_results/eval.json.

    python scripts/bench_eval.py                 # full quickstart + 8-item batching comparison
    python scripts/bench_eval.py --skip-quickstart --slice 6
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed_run(config, model=None) -> dict:
    from llminfo.eval.runner import run_eval

    load0 = os.getloadavg()
    w, c = time.perf_counter(), _cpu()
    res = run_eval(config, resume=False, progress=False, model=model)
    return {
        "wall_s": round(time.perf_counter() - w, 2),
        "cpu_s": round(_cpu() - c, 2),
        "items": len(res.rows),
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "accuracy": res.metrics.get("accuracy"),
        "auroc": {k: v.get("auroc") for k, v in res.metrics.get("methods", {}).items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="eval_configs/quickstart.yaml")
    ap.add_argument("--slice", type=int, default=8, help="items for the batching comparison")
    ap.add_argument("--skip-quickstart", action="store_true")
    ap.add_argument("--output", default="bench_results/eval.json")
    args = ap.parse_args()

    from llminfo.eval.config import load_config
    from llminfo.eval.runner import load_model_from_config

    out: dict = {"config": args.config, "cpu_count": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    if not args.skip_quickstart:
        # Includes the model load, as a user running the command sees it.
        out["quickstart"] = timed_run(load_config(args.config, [f"output_dir={tmp / 'quickstart'}"]))
        print("quickstart:", json.dumps(out["quickstart"]))
    cfg = load_config(args.config, [f"dataset.limit={args.slice}", f"output_dir={tmp / 'batched'}"])
    model = load_model_from_config(cfg)
    batched = timed_run(cfg, model)
    single = timed_run(load_config(args.config, [f"dataset.limit={args.slice}", "batch_size=1", f"output_dir={tmp / 'single'}"]), model)
    out["batching"] = {
        "items": args.slice,
        "batch_size": cfg.batch_size,
        "batched": batched,
        "one_per_batch": single,
        "speedup_wall": round(single["wall_s"] / batched["wall_s"], 2),
        "speedup_cpu": round(single["cpu_s"] / batched["cpu_s"], 2),
    }
    print("batching:", json.dumps(out["batching"]))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
