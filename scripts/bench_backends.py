"""Benchmark: the same workloads on the HF and vLLM backends, in one run; throughput ratios.

Workloads (a subset of the issue's "100 questions x K = 10" so the run stays short on a
shared CPU; pass --questions 100 for the full one):

1. sample-and-score: K samples (T = 1, seeded) for each of Q factual questions
   (`factual_qa.jsonl`, chat template), then `score` of every sample, twice: logprobs only
   (`entropy=False`: what iterative-prompting MI / EDFL need; vLLM runs one prefill per pair)
   and with per-token entropies (`entropy=True`: the white-box baselines; vLLM teacher-forces
   one engine step per token);
2. score on the same pairs: both backends score the HF samples of the last round, both modes;
3. capacity: `InformationCapacity` over the first N samples of the shipped corpus, L tokens
   each (logprob-only scoring where the backend offers it).

Both backends are loaded in this process; rounds alternate hf, vllm, hf, vllm, ... so machine
load affects both alike; `os.getloadavg()` is recorded beside every figure. Also reported:
agreement of the two backends (capacity NLL; mean |Δ logprob| of the scored samples).

Usage:
    python scripts/bench_backends.py [--questions 5] [--k 10] [--max-new-tokens 12]
        [--capacity-samples 8] [--capacity-tokens 256] [--rounds 1]
Writes bench_results/backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_and_score(model, prompts: list[str], k: int, max_new_tokens: int) -> dict:
    t0 = time.perf_counter()
    gens = model.generate(prompts, n=k, seed=0, temperature=1.0, max_new_tokens=max_new_tokens)
    t_gen = time.perf_counter() - t0
    pairs_p = [p for p, row in zip(prompts, gens) for _ in row]
    pairs_c = [c.text for row in gens for c in row]
    t0 = time.perf_counter()
    fast = model.score(pairs_p, pairs_c, entropy=False)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    scored = model.score(pairs_p, pairs_c)
    t_score = time.perf_counter() - t0
    gen_tokens = sum(len(c.token_ids) for row in gens for c in row)
    score_tokens = sum(len(s.token_ids) for s in scored)
    assert score_tokens == sum(len(s.token_ids) for s in fast)
    return {
        "generate_s": t_gen,
        "generated_tokens": gen_tokens,
        "generate_tokens_per_s": gen_tokens / t_gen,
        "score_logprobs_s": t_fast,
        "score_logprobs_tokens_per_s": score_tokens / t_fast if t_fast else 0.0,
        "score_s": t_score,
        "scored_tokens": score_tokens,
        "score_tokens_per_s": score_tokens / t_score if t_score else 0.0,
        "total_logprobs_s": t_gen + t_fast,
        "total_s": t_gen + t_score,
        "loadavg": os.getloadavg(),
        "_scored": scored,
    }


def capacity(model, samples: int, tokens: int) -> dict:
    from llminfo.analyzers.capacity import InformationCapacity

    t0 = time.perf_counter()
    r = InformationCapacity(model, max_tokens=tokens, batch_size=samples).measure_source("llminfo:corpus", max_samples=samples)
    dt = time.perf_counter() - t0
    return {
        "s": dt,
        "tokens": r.tokens,
        "tokens_per_s": r.tokens / dt,
        "nll_bits": r.nll_bits_per_token,
        "information_capacity": r.information_capacity,
        "loadavg": os.getloadavg(),
    }


def main() -> None:  # vLLM starts worker processes: keep the __main__ guard below
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=12)
    ap.add_argument("--capacity-samples", type=int, default=8)
    ap.add_argument("--capacity-tokens", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the HF backend")
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "backends.json"))
    args = ap.parse_args()

    import numpy as np
    import torch

    from llminfo.data import load_jsonl
    from llminfo.models import load_model

    torch.set_num_threads(args.threads)
    load = {}
    models = {}
    for backend in ("hf", "vllm"):
        t0 = time.perf_counter()
        models[backend] = load_model(args.model, backend=backend)
        load[backend] = {"s": time.perf_counter() - t0, "loadavg": os.getloadavg()}
    questions = [r["question"] for r in load_jsonl("factual_qa")[: args.questions]]
    prompts = [models["hf"].chat(q) for q in questions]
    for m in models.values():  # warm-up: first calls allocate caches
        m.generate(prompts[:1], n=2, max_new_tokens=2, seed=0)

    runs: dict[str, dict[str, list]] = {b: {"sample_and_score": [], "capacity": []} for b in models}
    for _ in range(args.rounds):
        for backend, m in models.items():
            print(f"[{backend}] sample-and-score ...", file=sys.stderr, flush=True)
            runs[backend]["sample_and_score"].append(sample_and_score(m, prompts, args.k, args.max_new_tokens))
            print(f"[{backend}] capacity ...", file=sys.stderr, flush=True)
            runs[backend]["capacity"].append(capacity(m, args.capacity_samples, args.capacity_tokens))

    # parity on the same texts: vLLM scores the HF samples too
    hf_last = runs["hf"]["sample_and_score"][-1]["_scored"]
    for b in runs:
        for r in runs[b]["sample_and_score"]:
            r.pop("_scored")

    def mean(b: str, w: str, key: str) -> float:
        return float(np.mean([r[key] for r in runs[b][w]]))

    hf_pairs = [(p, models["hf"].tokenizer.decode(s.token_ids)) for p, s in zip(
        [p for p in prompts for _ in range(args.k)], hf_last)]
    same: dict[str, dict[str, float]] = {}
    pp, cc = [p for p, _ in hf_pairs], [c for _, c in hf_pairs]
    for mode, kw in (("logprobs", {"entropy": False}), ("entropy", {})):
        for b in ("hf", "vllm", "hf", "vllm"):  # interleaved, best of two each
            t0 = time.perf_counter()
            out = models[b].score(pp, cc, **kw)
            dt = time.perf_counter() - t0
            key = f"{b}_{mode}_s"
            same[key] = min(same.get(key, dt), dt)
            if mode == "entropy":
                if b == "vllm":
                    sv = out
                else:
                    sh = out
    same["loadavg"] = os.getloadavg()
    diffs = [abs(a - b) for x, y in zip(sv, sh) for a, b in zip(x.logprobs, y.logprobs)]
    ediffs = [abs(a - b) for x, y in zip(sv, sh) for a, b in zip(x.entropy, y.entropy)]

    result = {
        "workload": {
            "questions": args.questions,
            "k": args.k,
            "max_new_tokens": args.max_new_tokens,
            "capacity_samples": args.capacity_samples,
            "capacity_tokens": args.capacity_tokens,
            "rounds": args.rounds,
            "note": "subset of the issue's 100 questions x K=10 (shared 2-core CPU)",
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "device": "cpu" if not torch.cuda.is_available() else torch.cuda.get_device_name(0)},
        "load": load,
        "runs": runs,
        "score_same_pairs": same,
        "ratios_vllm_over_hf": {
            "sample_and_score_throughput": mean("hf", "sample_and_score", "total_s") / mean("vllm", "sample_and_score", "total_s"),
            "generate_tokens_per_s": mean("vllm", "sample_and_score", "generate_tokens_per_s") / mean("hf", "sample_and_score", "generate_tokens_per_s"),
            "sample_and_score_logprobs_throughput": mean("hf", "sample_and_score", "total_logprobs_s") / mean("vllm", "sample_and_score", "total_logprobs_s"),
            "score_tokens_per_s": mean("vllm", "sample_and_score", "score_tokens_per_s") / mean("hf", "sample_and_score", "score_tokens_per_s"),
            "score_logprobs_tokens_per_s": mean("vllm", "sample_and_score", "score_logprobs_tokens_per_s") / mean("hf", "sample_and_score", "score_logprobs_tokens_per_s"),
            "score_same_pairs_logprobs": same["hf_logprobs_s"] / same["vllm_logprobs_s"],
            "score_same_pairs_entropy": same["hf_entropy_s"] / same["vllm_entropy_s"],
            "capacity_tokens_per_s": mean("vllm", "capacity", "tokens_per_s") / mean("hf", "capacity", "tokens_per_s"),
        },
        "parity": {
            "score_max_abs_logprob_diff": float(max(diffs)) if diffs else 0.0,
            "score_max_abs_entropy_diff": float(max(ediffs)) if ediffs else 0.0,
            "capacity_nll_bits": {b: runs[b]["capacity"][-1]["nll_bits"] for b in runs},
        },
        "loadavg_end": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=float))
    print(json.dumps({"ratios_vllm_over_hf": result["ratios_vllm_over_hf"], "parity": result["parity"], "loadavg_end": result["loadavg_end"]}, indent=2, default=float))


if __name__ == "__main__":
    main()
