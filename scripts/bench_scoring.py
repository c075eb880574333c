"""Speed of hallucination scoring: seconds per question per method, batched vs naive, memory.

- Per method: seconds per question with K samples, each method timed on its own with a
  fresh cache (so it pays for its own samples and greedy answers).
- Batched `HallucinationScorer` (one generate per temperature for all questions x K, one
  score call per method) vs a naive loop over the same work: one `generate` per sample
  (n = 1), one forward (`score`) per scored pair, one `next_token_logprobs` per prompt.
  Same questions, same run; ratio = naive / batched.
- Peak Python heap (tracemalloc) and max RSS for a short and a long generation: what is kept
  per generated token is per-token floats, never vocab x length tensors.

Writes bench_results/bench_scoring.json. Keep it short on a shared machine:

    python scripts/bench_scoring.py [--model default|tiny|PATH] [--questions 4] [--samples 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "What is the capital of Japan?",
    "Who wrote the novel 'Pride and Prejudice'?",
    "What is the chemical symbol for sodium?",
    "In what year did World War I begin?",
    "What is the largest planet in the Solar System?",
    "Who painted 'The Starry Night'?",
    "How many legs does a spider have?",
    "What is the capital of Australia?",
]


def methods_for(k: int):
    return [
        ("msp", {}),
        ("mean_entropy", {}),
        ("semantic_entropy", {"num_samples": k}),
        ("iterative_mi", {"num_samples": k}),
        ("edfl", {}),
    ]


class NaiveModel:
    """Wraps a model so every call is split into one-row calls: one generate per sample,
    one forward per scored pair, one forward per decision prompt."""

    def __init__(self, model):
        self.model = model
        self.name, self.backend = model.name, model.backend

    def generate(self, prompts, *, n=1, seed=None, **kw):
        out = []
        for p in prompts:
            row = []
            for j in range(n):
                s = None if seed is None else seed * 1000 + j
                row += self.model.generate([p], n=1, seed=s, **kw)[0]
            out.append(row)
        return out

    def score(self, prompts, continuations, **kw):
        return [self.model.score([p], [c], **kw)[0] for p, c in zip(prompts, continuations)]

    def next_token_logprobs(self, prompts, candidates):
        import numpy as np

        return np.vstack([self.model.next_token_logprobs([p], candidates) for p in prompts])

    def chat(self, messages, **kw):
        return self.model.chat(messages, **kw)

    def describe(self):
        return self.model.describe()

    @property
    def tokenizer(self):
        return self.model.tokenizer


def tiny_model():
    """The tests' tiny random Llama (vocab ~400), with a longer context for MI prompts."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tiny import tiny_llama

    from llminfo.models.hf import HFModel

    model, tok = tiny_llama(0)
    model.config.max_position_embeddings = 2048
    return HFModel(model, tok, name="tiny-llama (tests/tiny.py)")


CPU_SECONDS: list[float] = []  # process CPU time of each `timed` call, in order


def timed(fn):
    """Wall seconds of fn(); its process CPU seconds are appended to CPU_SECONDS (with torch on
    one thread, what the call costs on an idle core: robust to other jobs on a shared machine)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    CPU_SECONDS.append(time.process_time() - c)
    return time.perf_counter() - t, out


def _rss_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_probe(model, new_tokens: int) -> dict:
    """Peak traced Python heap and peak RSS growth while sampling 4 x `new_tokens` tokens."""
    prompt = [model.chat("Write a long story about a fox.")]
    try:  # reset the kernel's peak-RSS mark so VmHWM measures this call only (Linux)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _rss_mib("VmRSS")
    tracemalloc.start()
    out = model.generate(prompt, n=4, max_new_tokens=new_tokens, temperature=1.0, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"new_tokens": new_tokens, "generated": sum(len(c.token_ids) for c in out[0]),
            "tracemalloc_peak_mib": peak / 2**20, "peak_rss_growth_mib": _rss_mib("VmHWM") - before,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def default_scorer_cost(args, model, qs, fresh_run) -> None:
    """CPU seconds per question of the default scorer and of the same scorer without each of
    its two latest methods (the hidden-state probe, the cross-prompt disagreement) and without
    both (the white-box scorer), alternated `--repeats` times in one run (medians)."""
    from llminfo.analyzers.registry import DEFAULT_METHODS
    from llminfo.analyzers.scorer import HallucinationScorer

    def without(*names):
        return HallucinationScorer([m for m in DEFAULT_METHODS if m not in names])

    scorers = {"default": HallucinationScorer(), "without_hidden_probe": without("hidden_probe"),
               "without_prompt_disagreement": without("prompt_disagreement"),
               "without_both": without("hidden_probe", "prompt_disagreement")}
    runs: dict[str, list[dict]] = {k: [] for k in scorers}
    for _ in range(args.repeats):
        for key, scorer in scorers.items():
            dt, _, load = fresh_run(scorer)
            runs[key].append({"seconds_per_question": dt / len(qs), "cpu_seconds_per_question": CPU_SECONDS[-1] / len(qs),
                              "load_1min": load})
            print(f"{key:<28} CPU {CPU_SECONDS[-1] / len(qs):.3f} s/question (load {load[0]:.1f})", flush=True)
    med = {k: float(np.median([r["cpu_seconds_per_question"] for r in v])) for k, v in runs.items()}
    out = {"model": args.model, "questions": len(qs), "threads": args.threads, "methods": list(DEFAULT_METHODS),
           "runs": runs, "median_cpu_seconds_per_question": med,
           "ratio_default_over": {k: med["default"] / v for k, v in med.items() if k != "default"},
           "command": "python scripts/bench_scoring.py --default-scorer " + " ".join(
               f"--{k} {v}" for k, v in (("model", args.model), ("questions", len(qs)), ("repeats", args.repeats), ("threads", args.threads)))}
    Path(ROOT / "bench_results" / "bench_scoring_default.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["median_cpu_seconds_per_question"]), "ratios", json.dumps(out["ratio_default_over"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--questions", type=int, default=4)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 thrash on a loaded 2-core machine)")
    ap.add_argument("--output", default=None, help="JSON to write (default bench_results/bench_scoring.json, "
                    "or bench_scoring_per_method.json with --no-naive)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of the all-methods scorer (the median is reported)")
    ap.add_argument("--default-scorer", action="store_true",
                    help="only: the default scorer's CPU-s/question with and without hidden_probe / prompt_disagreement (same run, --repeats "
                         "alternations) -> bench_results/bench_scoring_default.json")
    ap.add_argument("--no-naive", action="store_true", help="per-method seconds only: skip the naive loop (slow on a real model)")
    args = ap.parse_args()
    args.output = args.output or str(ROOT / "bench_results" / ("bench_scoring_per_method.json" if args.no_naive else "bench_scoring.json"))

    import torch

    from llminfo.analyzers.base import SampleCache
    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.models import load_model

    torch.set_num_threads(args.threads)
    model = tiny_model() if args.model == "tiny" else load_model(args.model)
    vocab = model.describe().vocab_size
    qs = (QUESTIONS * 4)[: args.questions]
    load_start = os.getloadavg()
    model.generate([model.chat("Warm up.")], max_new_tokens=2, temperature=0.0)

    def fresh_run(scorer, **cache_kw):
        """Score `qs` with a fresh cache and nothing kept from an earlier run (the HF model's
        prompt cache is forgotten); returns (wall s, cache, load before and after)."""
        if hasattr(model, "clear_prefill_cache"):
            model.clear_prefill_cache()
        cache = SampleCache(**cache_kw)
        load = os.getloadavg()[0]
        dt, _ = timed(lambda: scorer.score(model, qs, seed=0, cache=cache))
        return dt, cache, [load, os.getloadavg()[0]]

    if args.default_scorer:
        default_scorer_cost(args, model, qs, fresh_run)
        return
    per_method = {}
    for name, kw in methods_for(args.samples):
        dt, _, load = fresh_run(HallucinationScorer([(name, kw)]))
        per_method[name] = {"seconds_per_question": dt / len(qs), "cpu_seconds_per_question": CPU_SECONDS[-1] / len(qs),
                            "load_1min": load, "includes": "greedy answer + its own samples"}
        print(f"{name:<18} {dt / len(qs):7.2f} s/question (CPU {CPU_SECONDS[-1] / len(qs):.2f} s)", flush=True)

    scorer = HallucinationScorer(methods_for(args.samples))
    repeats = []
    for _ in range(args.repeats):
        dt, cache, load = fresh_run(scorer)
        repeats.append({"seconds_per_question": dt / len(qs), "cpu_seconds_per_question": CPU_SECONDS[-1] / len(qs),
                        "load_1min": load, "generate_calls": cache.generate_calls, "score_calls": cache.score_calls,
                        "scores_from_generations": getattr(cache, "scores_from_generations", None)})
        print(f"all methods, one scorer: {dt / len(qs):.2f} s/question (CPU {CPU_SECONDS[-1] / len(qs):.2f} s, "
              f"load {load[0]:.1f}-{load[1]:.1f})", flush=True)
    median = sorted(repeats, key=lambda r: r["cpu_seconds_per_question"])[len(repeats) // 2]
    batched_s, batched_cpu = median["seconds_per_question"] * len(qs), median["cpu_seconds_per_question"] * len(qs)
    if args.no_naive:
        naive_s = ratio = None
    else:
        if hasattr(model, "clear_prefill_cache"):
            model.clear_prefill_cache()
        naive_s, _ = timed(lambda: scorer.score(NaiveModel(model), qs, seed=0, cache=SampleCache(max_rows_per_call=1)))
        ratio = naive_s / batched_s
        print(f"all methods: batched {batched_s / len(qs):.2f} s/q, naive {naive_s / len(qs):.2f} s/q, speed-up {ratio:.2f}x", flush=True)

    memory = [memory_probe(model, 16), memory_probe(model, 128)]
    report = {
        "model": model.name,
        "vocab_size": vocab,
        "questions": len(qs),
        "samples": args.samples,
        "threads": args.threads,
        "per_method": per_method,
        "all_methods": {
            "batched_seconds_per_question": batched_s / len(qs),
            "batched_cpu_seconds_per_question": batched_cpu / len(qs),
            "naive_seconds_per_question": None if naive_s is None else naive_s / len(qs),
            "speedup": ratio,
            "methods": [m for m, _ in methods_for(args.samples)],
            "runs": repeats,
            "figure": f"median CPU s/question of {len(repeats)} run(s)",
        },
        "memory": memory,
        "memory_note": "tracemalloc peak of Python-side allocations; an (n x tokens x vocab) float32 tensor would be "
        f"{4 * 128 * vocab * 4 / 2**20:.0f} MiB at 128 tokens",
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "command": "python scripts/bench_scoring.py " + " ".join(sys.argv[1:]),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["all_methods"], indent=1), json.dumps(memory), sep="\n")


if __name__ == "__main__":
    main()
