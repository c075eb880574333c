"""What encoding a shared prompt prefix once saves in `HFModel.generate` (same run, alternated).

Greedy answers (24 new tokens, newline stop) to the first `--questions` shipped factual
questions under three prompt sets: the chat short-answer prompt (`qa_prompt`: the template's
system prompt and instruction are shared), the semantic-entropy paper's brief few-shot prompt
(`farquhar_prompt`, about 85 shared tokens: the second prompt of `prompt_disagreement`), and both
in one call (two templates: one decode loop each). Each is timed with `share_prefixes` on and
off, alternated `--repeats` times (medians of CPU seconds; the prompt-cache memo is cleared before
every call), and the answers are compared.

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
    runs: dict[str, dict[str, list[float]]] = {k: {"shared": [], "not_shared": []} for k in sets}
    answers: dict[str, dict[str, list[str]]] = {k: {} for k in sets}
    model.generate(sets["chat_short_answer"][:2], temperature=0, max_new_tokens=2)  # warm-up
    for _ in range(args.repeats):
        for key, prompts in sets.items():
            for mode in ("shared", "not_shared"):
                model.share_prefixes = mode == "shared"
                model._prefill_memo = None
                cpu = time.process_time()
                out = model.generate(prompts, temperature=0, max_new_tokens=24, stop=["\n"])
                runs[key][mode].append(time.process_time() - cpu)
                answers[key][mode] = [c[0].text for c in out]
                print(f"{key:<18} {mode:<10} {runs[key][mode][-1]:.2f} CPU-s (load {os.getloadavg()[0]:.1f})", flush=True)
    model.share_prefixes = True
    med = {k: {m: float(np.median(v)) for m, v in r.items()} for k, r in runs.items()}
    report = {
        "model": args.model, "questions": len(qs), "threads": args.threads, "repeats": args.repeats,
        "prompt_tokens": {k: [len(model.encode_prompt(p)) for p in v[:1]][0] for k, v in sets.items() if k != "both_in_one_call"},
        "median_cpu_seconds": med, "speedup": {k: v["not_shared"] / v["shared"] for k, v in med.items()},
        "same_answers": {k: a["shared"] == a["not_shared"] for k, a in answers.items()},
        "runs": runs, "loadavg": os.getloadavg(),
        "command": f"python scripts/bench_shared_prefix.py --model {args.model} --questions {len(qs)} --repeats {args.repeats}",
    }
    (ROOT / "bench_results" / "shared_prefix.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("prompt_tokens", "median_cpu_seconds", "speedup", "same_answers")}, indent=1))


if __name__ == "__main__":
    main()
