"""Model-layer benchmarks on the embedded default model (HF backend, CPU).

Ratios are measured in the same run against a baseline (these machines are noisy); the load
average is recorded beside each figure. Writes bench_results/models.json.

    .venv/bin/python scripts/bench_models.py [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("the model reads a long passage about rivers mountains cities and the history of trade "
         "between distant ports where merchants weighed salt and silver ").split()


def text(n_words: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(n_words))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_score_vs_forward(m, repeats: int) -> dict:
    """score() over unique prompt/continuation pairs vs a bare forward over the same batches."""
    prompts = [text(60, k) for k in range(16)]
    conts = [" " + text(20, k + 7) for k in range(16)]
    ids = [m.encode_prompt(p) + m.tokenizer(c, add_special_tokens=False)["input_ids"] for p, c in zip(prompts, conts)]
    keep = max(len(m.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in conts) + 1
    batch, mask = m._left_pad(ids)

    def bare():
        with torch.inference_mode():
            m.model(input_ids=batch, attention_mask=mask, logits_to_keep=keep)

    def bare_full_logits():
        with torch.inference_mode():
            m.model(input_ids=batch, attention_mask=mask)

    def score():
        m.score(prompts, conts)

    score()
    t_bare, t_full, t_score = best_of(bare, repeats), best_of(bare_full_logits, repeats), best_of(score, repeats)
    tokens = int(mask.sum())
    return {
        "pairs": len(prompts), "tokens": tokens,
        "bare_forward_tok_s": tokens / t_bare, "bare_forward_all_logits_tok_s": tokens / t_full,
        "score_tok_s": tokens / t_score,
        "score_vs_bare_forward": t_bare / t_score, "target": ">= 0.9",
    }


def bench_prefix_reuse(m, repeats: int) -> dict:
    """10 continuations (20 tokens) of one 200-token prompt: shared KV cache vs plain forwards."""
    prompt = text(200)
    conts = [" " + text(20, 3 * k + 1) for k in range(10)]
    p_ids = m.encode_prompt(prompt)
    c_ids = [m.tokenizer(c, add_special_tokens=False)["input_ids"] for c in conts]

    def shared():
        with torch.inference_mode():
            m._score_shared([p_ids], [(0, c) for c in c_ids])

    def plain():
        with torch.inference_mode():
            m._score_plain([p_ids] * len(c_ids), c_ids)

    shared()
    t_shared, t_plain = best_of(shared, repeats), best_of(plain, repeats)
    return {"prompt_tokens": len(p_ids), "continuations": len(conts), "shared_s": t_shared, "plain_s": t_plain,
            "speedup": t_plain / t_shared, "target": ">= 2"}


def bench_generate_batched(m, repeats: int) -> dict:
    """generate(n=10) in one call vs 10 separate calls (32 new tokens, no early stop)."""
    prompt = m.chat("Write a short story about a lighthouse keeper.")
    kw = dict(max_new_tokens=32, temperature=1.0)

    def batched():
        m.generate([prompt], n=10, seed=0, **kw)

    def separate():
        for j in range(10):
            m.generate([prompt], n=1, seed=j, **kw)

    t_b, t_s = best_of(batched, repeats), best_of(separate, max(1, repeats - 1))
    return {"n": 10, "max_new_tokens": 32, "batched_s": t_b, "separate_s": t_s, "speedup": t_s / t_b, "target": ">= 3"}


PEAK_CHILD = r"""
import json, resource, sys, torch
torch.set_num_threads(1)
from llminfo.models import load_model
m = load_model("default")
rows, steps = int(sys.argv[1]), int(sys.argv[2])
prompt = m.chat("Tell me about the sea.")
m.generate([prompt], n=2, max_new_tokens=4, seed=0)  # warm up allocator and kernels

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

with open("/proc/self/clear_refs", "w") as fh:  # reset the peak RSS (VmHWM) to the current RSS
    fh.write("5")
before = status("VmRSS:")
[out] = m.generate([prompt], n=rows, max_new_tokens=steps, seed=0)
assert all(len(c.token_ids) == steps for c in out) or True
print(json.dumps({"rows": rows, "steps": steps, "tokens_generated": sum(len(c.token_ids) for c in out),
                  "peak_increase_mb": status("VmHWM:") - before}))
"""


def bench_generate_memory() -> dict:
    """Peak RSS increase of generate in fresh processes: (rows, steps) grid."""
    out = []
    for rows, steps in [(4, 16), (4, 256), (16, 16), (16, 256)]:
        res = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(rows), str(steps)], capture_output=True, text=True,
                             env={**os.environ, "HF_HUB_OFFLINE": "1"})
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    vocab_mb_per_step = 49152 * 4 * 4 / 2**20  # what keeping (rows=4, vocab) fp32 per step would add
    return {"runs": out, "if_vocab_tensors_were_kept_mb_per_step_at_4_rows": vocab_mb_per_step,
            "if_vocab_tensors_were_kept_mb_at_4_rows_256_steps": vocab_mb_per_step * 256,
            "target": "peak grows with rows, not with steps x vocab"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "models.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llminfo.models import load_model

    m = load_model("default")
    repeats = 2 if args.quick else 3
    results = {"machine": {"cpus": os.cpu_count(), "threads": args.threads}}
    for name, fn in [("score_vs_forward", lambda: bench_score_vs_forward(m, repeats)),
                     ("prefix_reuse", lambda: bench_prefix_reuse(m, repeats)),
                     ("generate_batched", lambda: bench_generate_batched(m, repeats)),
                     ("generate_memory", bench_generate_memory)]:
        load = os.getloadavg()[0]
        results[name] = {**fn(), "loadavg_1m_before": load, "loadavg_1m_after": os.getloadavg()[0]}
        print(name, json.dumps(results[name]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
