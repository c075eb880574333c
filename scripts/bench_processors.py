"""Benchmarks of llminfo's logits processors, each measured against a baseline in the same run.

- typical_call: `LocallyTypicalLogitsProcessor` vs transformers' `TypicalLogitsWarper`, call
  time on (1, 49152), (16, 49152), (64, 151936) logits in fp32 and bf16 (target ≤ 1.0×),
  checking both give the same output.
- typical_vllm (`--vllm`): vLLM decode throughput, batch 16, with the typical processor
  active for every request vs no processor (target ≥ 0.9×), and loaded but unused (≥ 0.98×).
  The engine runs in-process so the "no processor" baseline can take our processor out of
  the engine's processor lists, then put it back.

- halting_overhead (`--halting`): `EntropyHaltingProcessor` monitoring every step vs plain
  greedy generation of the embedded model (target overhead <= 5 %).

Writes bench_results/processors.json (merging with what other benchmarks wrote there).

    python scripts/bench_processors.py            # call-time benchmark (~1 min)
    python scripts/bench_processors.py --vllm     # + vLLM throughput (engine start + ~2 min)
    python scripts/bench_processors.py --halting  # only the halting overhead (~1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parents[1] / "bench_results" / "processors.json"
STORY_PROMPTS = [
    "Once upon a time, in a village by the sea,",
    "The old lighthouse keeper climbed the stairs and",
    "When the robot woke up for the first time,",
    "Deep in the forest there was a door that",
    "My grandmother always told me a story about",
    "The last train of the night stopped at a station where",
    "Nobody in the town knew why the clock tower",
    "On the first day of school, the new teacher",
]


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _time_call(fn, reps: int) -> float:
    """CPU seconds per call of this process (one torch thread): on a machine shared by
    several jobs, wall time moves with the load and CPU time barely does."""
    t = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - t) / reps


def bench_typical_call(rounds: int = 7, tau: float = 0.9) -> dict:
    """Median over interleaved rounds of ours / transformers' call time (same input)."""
    from transformers.generation.logits_process import TypicalLogitsWarper

    from llminfo.processors import LocallyTypicalLogitsProcessor

    ours, ref = LocallyTypicalLogitsProcessor(tau), TypicalLogitsWarper(tau)
    results = []
    for shape in [(1, 49152), (16, 49152), (64, 151936)]:
        for dtype in (torch.float32, torch.bfloat16):
            g = torch.Generator().manual_seed(0)
            x = (torch.randn(*shape, generator=g) * 3).to(dtype)
            same = torch.equal(ours(None, x), ref(None, x))
            reps = max(1, int(2e6 // x.numel()))
            ratios, t_ours, t_ref = [], [], []
            for r in range(rounds):  # alternate who goes first: load on the machine drifts
                pair = [(_time_call(lambda: ours(None, x), reps), "o"), (_time_call(lambda: ref(None, x), reps), "r")]
                if r % 2:
                    pair.reverse()
                d = {k: v for v, k in pair}
                t_ours.append(d["o"])
                t_ref.append(d["r"])
                ratios.append(d["o"] / d["r"])
            row = {
                "shape": list(shape),
                "dtype": str(dtype).replace("torch.", ""),
                "ours_ms": round(statistics.median(t_ours) * 1e3, 3),
                "transformers_ms": round(statistics.median(t_ref) * 1e3, 3),
                "ratio": round(statistics.median(ratios), 3),
                "same_output": same,
            }
            print(json.dumps(row), flush=True)
            results.append(row)
    return {
        "what": "LocallyTypicalLogitsProcessor / TypicalLogitsWarper call time, median of interleaved rounds",
        "clock": "process CPU time, one torch thread (shared machine)",
        "typical_p": tau,
        "torch_threads": torch.get_num_threads(),
        "target": "ratio <= 1.0 and same_output",
        "rows": results,
        "loadavg_after": _load(),
    }


def _engine_processor_lists():
    """(the engine's processor lists holding our processor, our instances), in-process only."""
    import gc

    from llminfo.processors.vllm_typical import TypicalV1 as TypicalLogitsProcessor  # what the V1 runner builds

    gc.unfreeze()  # vLLM gc.freeze()s after start-up; frozen objects are invisible to gc.get_objects
    found = [p for p in gc.get_objects() if isinstance(p, TypicalLogitsProcessor)]
    lists = [r for p in found for r in gc.get_referrers(p) if isinstance(r, list) and any(x is p for x in r)]
    ours = [p for p in found if any(x is p for lst in lists for x in lst)]
    return lists, ours


def bench_typical_vllm(batch: int = 16, max_tokens: int = 64, rounds: int = 3, tau: float = 0.9) -> dict:
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # engine core in this process
    from vllm import LLM, SamplingParams

    from llminfo.models.default import default_model_dir

    t0 = time.perf_counter()
    llm = LLM(
        str(default_model_dir()), max_model_len=1024, enforce_eager=True, dtype="float32", seed=0,
        distributed_executor_backend="uni",
    )  # fmt: skip
    start_s = time.perf_counter() - t0
    lists, ours = _engine_processor_lists()
    if not ours or not lists:
        raise RuntimeError(f"typical processor not found in the engine ({len(ours)} instances, {len(lists)} lists): is llminfo installed (pip install -e .)?")
    prompts = [STORY_PROMPTS[i % len(STORY_PROMPTS)] for i in range(batch)]

    def params(active: bool) -> list:
        extra = {"typical_p": tau} if active else None
        return [SamplingParams(max_tokens=max_tokens, ignore_eos=True, temperature=1.0, seed=i, extra_args=extra) for i in range(batch)]

    def run(active: bool) -> float:
        t = time.perf_counter()
        outs = llm.generate(prompts, params(active), use_tqdm=False)
        n = sum(len(o.outputs[0].token_ids) for o in outs)
        return n / (time.perf_counter() - t)

    def set_loaded(loaded: bool) -> None:
        for lst in lists:
            lst[:] = [p for p in lst if not any(p is o for o in ours)]
            if loaded:
                lst.extend(ours)

    run(False)  # warm-up
    tps = {"none": [], "unused": [], "active": []}
    for r in range(rounds):
        order = ["none", "unused", "active"] if r % 2 == 0 else ["active", "unused", "none"]
        for mode in order:
            set_loaded(mode != "none")
            tps[mode].append(run(mode == "active"))
    set_loaded(True)
    med = {k: statistics.median(v) for k, v in tps.items()}
    res = {
        "what": f"vLLM decode throughput, batch {batch}, {max_tokens} tokens each, {rounds} interleaved rounds",
        "typical_p": tau,
        "torch_threads": torch.get_num_threads(),
        "engine_start_s": round(start_s, 1),
        "tokens_per_s": {k: [round(x, 1) for x in v] for k, v in tps.items()},
        # Throughput drifts between rounds on a shared machine: the headline is the median of
        # the per-round ratios (the three modes of a round run back to back).
        "ratio_active_vs_none": round(statistics.median(a / n for a, n in zip(tps["active"], tps["none"])), 3),
        "ratio_unused_vs_none": round(statistics.median(u / n for u, n in zip(tps["unused"], tps["none"])), 3),
        "ratio_of_medians": {"active": round(med["active"] / med["none"], 3), "unused": round(med["unused"] / med["none"], 3)},
        "target": "active >= 0.9x, unused >= 0.98x",
        "loadavg_after": _load(),
    }
    print(json.dumps(res), flush=True)
    return res


def bench_halting_overhead(batch: int = 4, max_new_tokens: int = 64, rounds: int = 5) -> dict:
    """Entropy halting: decode time per token with `EntropyHaltingProcessor` (monitoring every
    step, never halting) vs plain greedy generation of the embedded model, same prompts,
    median of interleaved rounds (target overhead <= 5 %). Also the bare processor call time
    on (batch, 49152) logits."""
    from llminfo.models import load_model
    from llminfo.processors.halting import EntropyHaltingProcessor

    m = load_model("default")
    prompts = [STORY_PROMPTS[i % len(STORY_PROMPTS)] for i in range(batch)]

    def proc():  # threshold 0: the window mean is never < 0, so every step monitors and none forces
        return EntropyHaltingProcessor(m.tokenizer, threshold=0.0, window=16, min_tokens=0, close_marker="")

    def run(with_proc: bool) -> float:
        t = time.perf_counter()
        m.generate(prompts, temperature=0, max_new_tokens=max_new_tokens, processors=[proc()] if with_proc else None)
        return (time.perf_counter() - t) / max_new_tokens

    run(False)  # warm-up
    times: dict[str, list[float]] = {"plain": [], "halting": []}
    for r in range(rounds):
        for mode in (["plain", "halting"] if r % 2 == 0 else ["halting", "plain"]):
            times[mode].append(run(mode == "halting"))
    ratios = [h / p for h, p in zip(times["halting"], times["plain"])]
    x = torch.randn(batch, 49152) * 3
    p = proc()
    p(torch.zeros(batch, 8, dtype=torch.long), x)
    step_ids = [torch.zeros(batch, 9 + k, dtype=torch.long) for k in range(200)]
    t = time.perf_counter()
    for k in range(200):
        p(step_ids[k], x)
    step_s = (time.perf_counter() - t) / 200
    res = {
        "what": f"HFModel.generate greedy, batch {batch}, {max_new_tokens} tokens, embedded model; "
        f"median of {rounds} interleaved rounds",
        "ms_per_token": {k: [round(v * 1e3, 2) for v in vs] for k, vs in times.items()},
        "overhead": round(statistics.median(ratios) - 1, 4),
        "processor_call_ms": round(step_s * 1e3, 3),
        "call_vs_plain_step": round(step_s / statistics.median(times["plain"]), 4),
        "target": "overhead <= 0.05",
        "torch_threads": torch.get_num_threads(),
        "loadavg_after": _load(),
    }
    print(json.dumps(res), flush=True)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vllm", action="store_true", help="also run the vLLM throughput benchmark")
    ap.add_argument("--halting", action="store_true", help="only the entropy-halting overhead benchmark")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the call benchmark")
    ap.add_argument("--only-vllm", action="store_true", help="skip the call benchmark")
    ap.add_argument("--vllm-rounds", type=int, default=5, help="interleaved rounds of the vLLM throughput benchmark")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__, "python": sys.version.split()[0]}

    def save(key: str, result: dict) -> None:
        # Re-read before writing: each benchmark owns its key, others' results are kept.
        data = json.loads(OUT.read_text()) if OUT.exists() else {}
        data["machine"] = machine
        data[key] = result
        OUT.write_text(json.dumps(data, indent=2))

    loadavg_before = _load()
    if args.halting:
        save("halting_overhead", {**bench_halting_overhead(), "loadavg_before": loadavg_before})
        print(f"wrote {OUT}")
        return
    if not args.only_vllm:
        save("typical_call", {**bench_typical_call(rounds=args.rounds), "loadavg_before": loadavg_before})
    if args.vllm or args.only_vllm:
        save("typical_vllm", {**bench_typical_vllm(rounds=args.vllm_rounds), "loadavg_before": _load()})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
