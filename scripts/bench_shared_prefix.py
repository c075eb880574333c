"""What encoding a shared prompt prefix once saves in `HFModel.generate` (same run, alternated).

Greedy answers (24 new tokens, newline stop) to the first `--questions` shipped factual
questions under three prompt sets: the chat short-answer prompt (`qa_prompt`: the template's
system prompt and instruction are shared), the semantic-entropy paper's brief few-shot prompt
(`farquhar_prompt`, about 85 shared tokens: the second prompt of `prompt_disagreement`), and both
in one call (two templates: one decode loop each); and `generate_mixed` on the chat prompts with
the greedy answers plus 5 samples at T = 1 in one loop (what a scorer with a sampling method
runs). Each is timed with `share_prefixes` on and off, alternated `--repeats` times (medians of
CPU seconds; the prompt-cache memo is cleared before every call), and the share of identical
answers is reported.

    python scripts/bench_shared_prefix.py [--model default] [--questions 16] [--repeats 3] → bench_results/shared_prefix.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch

    from llminfo.analyzers.base import qa_prompt
    from llminfo.analyzers.semantic_entropy import farquhar_prompt
    from llminfo.data import load_jsonl
    from llminfo.models import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    qs = [r["question"] for r in load_jsonl("factual_qa.jsonl")[: args.questions]]
    sets = {"chat_short_answer": [qa_prompt(model, q) for q in qs], "brief_few_shot": [farquhar_prompt(q) for q in qs]}
    sets["both_in_one_call"] = sets["chat_short_answer"] + sets["brief_few_shot"]
    sets["mixed_greedy_and_5_samples"] = sets["chat_short_answer"]
    every = list(range(len(qs)))
    mixed_requests = [(every, 1, 0.0, [0] * len(qs)), (every, 5, 1.0, list(range(len(qs))))]
    runs: dict[str, dict[str, list[float]]] = {k: {"shared": [], "not_shared": []} for k in sets}
    answers: dict[str, dict[str, list[str]]] = {k: {} for k in sets}
    model.generate(sets["chat_short_answer"][:2], temperature=0, max_new_tokens=2)  # warm-up
    for _ in range(args.repeats):
        for key, prompts in sets.items():
            for mode in ("shared", "not_shared"):
                model.share_prefixes = mode == "shared"
                model._prefill_memo = None
                cpu = time.process_time()
                if key.startswith("mixed"):
                    out = model.generate_mixed(prompts, mixed_requests, max_new_tokens=24, stop=["\n"])
                    texts = [c.text for request in out for row in request for c in row]
                else:
                    texts = [c[0].text for c in model.generate(prompts, temperature=0, max_new_tokens=24, stop=["\n"])]
                runs[key][mode].append(time.process_time() - cpu)
                answers[key][mode] = texts
                print(f"{key:<18} {mode:<10} {runs[key][mode][-1]:.2f} CPU-s (load {os.getloadavg()[0]:.1f})", flush=True)
    model.share_prefixes = True
    med = {k: {m: float(np.median(v)) for m, v in r.items()} for k, r in runs.items()}
    report = {
        "model": args.model, "questions": len(qs), "threads": args.threads, "repeats": args.repeats,
        "prompt_tokens": {k: len(model.encode_prompt(sets[k][0])) for k in ("chat_short_answer", "brief_few_shot")},
        "median_cpu_seconds": med, "speedup": {k: v["not_shared"] / v["shared"] for k, v in med.items()},
        # share of identical answers: greedy answers should all match; a sampled answer can
        # differ where its uniform falls in the tail of the distribution, as with any change of
        # batch (inverse-CDF draws, float32 cumulative mass, logits equal to ~4e-5)
        "identical_answers": {k: float(np.mean([x == y for x, y in zip(a["shared"], a["not_shared"])])) for k, a in answers.items()},
        "runs": runs, "loadavg": os.getloadavg(),
        "command": f"python scripts/bench_shared_prefix.py --model {args.model} --questions {len(qs)} --repeats {args.repeats}",
    }
    (ROOT / "bench_results" / "shared_prefix.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("prompt_tokens", "median_cpu_seconds", "speedup", "identical_answers")}, indent=1))


if __name__ == "__main__":
    main()
