"""Information capacity of finished `llminfo capacity` runs under each FLOPs count.

The FLOPs count does not change TS or NLL, only F: this reads each model's run folder
(`results.jsonl`: per-document tokens and mean context; `config.json`: L and the model) and the
model's HF config from the embedded-model cache, and recomputes F and IC with

- `paper`: Yuan et al.'s count at L (their code; every layer attends to the whole cache),
- `paper_windowed`: the same with sliding-window layers at min(c, window − 1) (llminfo's variant),
- `llminfo_full`: llminfo's count at each document's mean context, every layer full attention,
- `llminfo`: llminfo's count with sliding-window layers at their mean span (what `--flops llminfo` runs).

Run:
    python scripts/capacity_flops_counts.py runs/capacity/default runs/capacity/gemma3-270m
        [--output bench_results/capacity_sliding_window.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def counts(run: Path) -> dict:
    from llminfo import measures
    from llminfo.analyzers.flops import context_sum, flops_per_token, model_shape, paper_flops_per_token
    from llminfo.models.embedded import embedded_model_dir

    cfg_run = json.loads((run / "config.json").read_text())
    name, L = cfg_run["model"]["name"], int(cfg_run["params"]["max_tokens"])
    hf = json.loads((Path(embedded_model_dir(name)) / "config.json").read_text())
    shape = model_shape(hf)
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines() if line.strip()]
    metrics = json.loads((run / "metrics.json").read_text())
    tokens = sum(r["tokens"] for r in rows)

    def weighted(per_doc) -> float:  # token-weighted over documents, as the corpus F
        return sum(per_doc(r) * r["tokens"] for r in rows) / tokens

    def per_doc(r: dict, windowed: bool) -> float:
        if r["samples"] != 1:
            raise ValueError(f"{run}: run with --max-samples 1 (one window per document) to recount F")
        n = r["tokens"]
        window = context_sum(1, n, cap=shape.sliding_window - 1) / n if windowed and shape.sliding_layers else None
        return flops_per_token(hf, context_sum(1, n) / n, window if windowed else context_sum(1, n) / n)

    F = {
        "paper": paper_flops_per_token(hf, L, name=name),
        "paper_windowed": paper_flops_per_token(hf, L, name=name, windowed=True),
        "llminfo_full": weighted(lambda r: per_doc(r, False)),
        "llminfo": weighted(lambda r: per_doc(r, True)),
    }
    ts, nll, b = metrics["text_bits_per_token"], metrics["nll_bits_per_token"], metrics["bias"]
    return {
        "model": name, "max_tokens": L, "tokens": tokens, "documents": len(rows),
        "sliding_window": shape.sliding_window, "sliding_layers": shape.sliding_layers, "num_layers": shape.num_layers,
        "text_bits_per_token": ts, "nll_bits_per_token": nll, "bits_per_byte": metrics["bits_per_byte"], "bias": b,
        "flops_per_token": F, "log2_flops": {k: math.log2(v) for k, v in F.items()},
        "information_capacity": {k: float(measures.information_capacity(ts, nll, v, b)) for k, v in F.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run folders of `llminfo capacity` (one per model)")
    ap.add_argument("--output", default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    out = [counts(Path(r)) for r in args.runs]
    for r in out:
        print(f"{r['model']:<14} L={r['max_tokens']:<5} NLL {r['nll_bits_per_token']:.3f}  "
              + "  ".join(f"{k}: log2F {r['log2_flops'][k]:.4f} IC {r['information_capacity'][k]:.4f}" for k in r["flops_per_token"]))
    if args.output:
        Path(args.output).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
