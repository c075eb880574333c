"""Benchmark: information-capacity scoring throughput vs a bare forward pass, and memory.

Speed: the same batches (samples of L tokens from the corpus) are run through (a) the
capacity path (`InformationCapacity` scoring via `model.score`, with its bookkeeping) and
(b) a bare `model(input_ids, attention_mask)` forward producing the logits, interleaved
a/b/c/a/b/c so machine load affects all alike; (c) is the bare forward plus per-token
log-probs as gather − logsumexp, the projected cost of a logprob-only `score`. Reported:
tokens/s of each and the ratios a/b (target >= 0.9) and c/b.

Memory: peak RSS of a capacity run over N and 4N documents (separate processes, tiny model):
streaming keeps it bounded by batch x L, so the two peaks should be about equal.

Usage:
    python scripts/bench_capacity.py [--model default] [--data llminfo:corpus] [--max-tokens 128]
        [--batch-size 4] [--batches 2] [--rounds 2]
Writes bench_results/capacity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bare_forward(model, batch, logprobs: bool = False) -> int:
    """Left-padded forward of the exact token sequences the capacity path scores. With
    `logprobs`, also read each token's log-prob as gather − logsumexp (the projected cost of a
    logprob-only `score(..., entropy=False)`)."""
    import torch

    tok = model.tokenizer
    seqs = [model.encode_prompt(c, allow_empty=True) + tok(t, add_special_tokens=False)["input_ids"] for _w, c, t in batch]
    ids, mask = model._left_pad(seqs)
    pos = (mask.cumsum(dim=1) - 1).clamp(min=0)
    with torch.inference_mode():
        logits = model.model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
        if logprobs:
            for r, s in enumerate(seqs):
                rows = logits[r, -len(s) : -1].float()
                target = ids[r, -len(s) + 1 :]
                (rows.gather(1, target[:, None])[:, 0] - torch.logsumexp(rows, dim=-1)).sum().item()
    return sum(len(s) - 1 for s in seqs)


def speed(args) -> dict:
    import torch

    from llminfo.analyzers.capacity import InformationCapacity, iter_documents
    from llminfo.models import load_model

    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    ic = InformationCapacity(model, max_tokens=args.max_tokens, batch_size=args.batch_size)
    samples = []
    for s in ic.samples(iter_documents(args.data)):
        samples.append(s)
        if len(samples) == args.batches * args.batch_size:
            break
    batches = [samples[i : i + args.batch_size] for i in range(0, len(samples), args.batch_size)]
    bare_forward(model, batches[0])  # warm-up
    ic._score_batch(batches[0], {"samples": 0, "tokens": 0, "bytes": 0, "nll_nats": 0.0, "context": 0.0})
    t_cap = t_bare = t_fast = 0.0
    tok_cap = tok_bare = tok_fast = 0
    for _ in range(args.rounds):
        for b in batches:
            totals = {"samples": 0, "tokens": 0, "bytes": 0, "nll_nats": 0.0, "context": 0.0}
            t0 = time.perf_counter()
            ic._score_batch(b, totals)
            t_cap += time.perf_counter() - t0
            tok_cap += totals["tokens"]
            t0 = time.perf_counter()
            tok_bare += bare_forward(model, b)
            t_bare += time.perf_counter() - t0
            t0 = time.perf_counter()
            tok_fast += bare_forward(model, b, logprobs=True)
            t_fast += time.perf_counter() - t0
    return {
        "model": model.name,
        "max_tokens": args.max_tokens,
        "batch_size": args.batch_size,
        "batches": len(batches),
        "rounds": args.rounds,
        "threads": args.threads,
        "capacity_tokens_per_s": tok_cap / t_cap,
        "bare_forward_tokens_per_s": tok_bare / t_bare,
        "ratio": (tok_cap / t_cap) / (tok_bare / t_bare),
        "score_has_entropy_flag": ic._score_has_entropy_flag,
        "projected_logprob_only_ratio": (tok_fast / t_fast) / (tok_bare / t_bare),
        "target_ratio": 0.9,
    }


def memory_child(num_docs: int, max_tokens: int, batch_size: int) -> None:
    """Run in a subprocess: capacity over `num_docs` generated documents, print peak RSS (MiB)."""
    import torch

    sys.path.insert(0, str(ROOT / "tests"))
    from tiny import tiny_hf_model

    from llminfo.analyzers.capacity import InformationCapacity

    torch.set_num_threads(1)
    model = tiny_hf_model(0)
    base = "The quick brown fox jumps over the lazy dog. What is the capital of France? The capital of France is Paris. "
    docs = (base * 3 + f"Document {i}." for i in range(num_docs))  # generated lazily: never a list
    r = InformationCapacity(model, max_tokens=max_tokens, batch_size=batch_size).measure(docs)
    print(json.dumps({"docs": num_docs, "tokens": r.tokens, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def memory(args) -> dict:
    out = {}
    for n in (args.mem_docs, 4 * args.mem_docs):
        proc = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(n), "--max-tokens", "128", "--batch-size", str(args.batch_size)],
            capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        out[f"docs_{n}"] = json.loads(proc.stdout.strip().splitlines()[-1])
    small, big = out[f"docs_{args.mem_docs}"], out[f"docs_{4 * args.mem_docs}"]
    out["peak_rss_ratio_4x_corpus"] = big["peak_rss_mib"] / small["peak_rss_mib"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--data", default="llminfo:corpus")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--batches", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mem-docs", type=int, default=10)
    p.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.max_tokens, args.batch_size)
        return
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = {"speed": speed(args), "memory": memory(args)}
    result["loadavg_before"] = load_before
    result["loadavg_after"] = os.getloadavg()
    result["wall_s"] = time.perf_counter() - t0
    result["command"] = "python " + " ".join([f"scripts/{Path(__file__).name}"] + sys.argv[1:])
    out = ROOT / "bench_results" / "capacity.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
