"""Accuracy of a model's greedy short answers on the shipped factual QA set.

Uses the same prompt as the hallucination analyzers (`llminfo.analyzers.base.qa_prompt`:
chat template, "Answer the question with just the answer, in a few words.", the question),
greedy decoding, at most 24 new tokens, a newline ends the answer; correctness is
`llminfo.text.alias_match`. Reports accuracy overall, per difficulty and per category, and
writes the summary (plus every item's answer) as JSON.

Run:
    python scripts/measure_factual_accuracy.py [--model default] [--data factual_qa]
        [--limit N] [--batch-size 32] [--output bench_results/factual_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--data", default="factual_qa", help="a shipped dataset name or a JSONL path")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--output", default="bench_results/factual_accuracy.json")
    ap.add_argument("--shuffle-seed", type=int, default=None, help="visit items in a seeded random order (partial runs stay representative)")
    ap.add_argument("--items-jsonl", default=None, help="also append each item's answer to this JSONL as it finishes")
    args = ap.parse_args(argv)

    import torch

    from llminfo.analyzers.base import ANSWER_STOP, qa_prompt
    from llminfo.data import load_jsonl
    from llminfo.models import load_model
    from llminfo.text import alias_match

    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    if Path(args.data).is_file():
        rows = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        rows = load_jsonl(args.data)
    if args.shuffle_seed is not None:
        import random

        rows = list(rows)
        random.Random(args.shuffle_seed).shuffle(rows)
    rows = rows[: args.limit] if args.limit else rows
    model = load_model(args.model)
    t0 = time.perf_counter()
    items = []
    if args.items_jsonl and Path(args.items_jsonl).is_file():  # resume: keep the answers already written
        done = {}
        for line in Path(args.items_jsonl).read_text(encoding="utf-8").splitlines():
            if line.strip():
                it = json.loads(line)
                done[it["id"]] = it
        # re-judge stored answers against the current aliases (the dataset may have gained some)
        items = [
            {**r, "prediction": done[r["id"]]["prediction"], "correct": bool(alias_match(done[r["id"]]["prediction"], r["answers"]))}
            for r in rows
            if r["id"] in done
        ]
        rows_left = [r for r in rows if r["id"] not in done]
    else:
        rows_left = rows
    for start in range(0, len(rows_left), args.batch_size):
        batch = rows_left[start : start + args.batch_size]
        prompts = [qa_prompt(model, r["question"]) for r in batch]
        outs = model.generate(prompts, n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, stop=list(ANSWER_STOP))
        for r, comps in zip(batch, outs):
            answer = comps[0].text.strip()
            items.append({**r, "prediction": answer, "correct": bool(alias_match(answer, r["answers"]))})
            if args.items_jsonl:
                with open(args.items_jsonl, "a", encoding="utf-8") as f:
                    f.write(json.dumps(items[-1], ensure_ascii=False) + "\n")
        done = len(items)
        print(f"\r{done}/{len(rows)}  acc so far {sum(i['correct'] for i in items) / done:.3f}", end="", file=sys.stderr)
    print(file=sys.stderr)
    elapsed = time.perf_counter() - t0

    def group(key: str) -> dict[str, dict[str, float]]:
        acc: dict[str, list[bool]] = defaultdict(list)
        for it in items:
            acc[it.get(key, "?")].append(it["correct"])
        return {k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)} for k, v in sorted(acc.items())}

    summary = {
        "model": args.model,
        "data": args.data,
        "n_items": len(items),
        "accuracy": round(sum(i["correct"] for i in items) / max(len(items), 1), 4),
        "by_difficulty": group("difficulty"),
        "by_category": group("category"),
        "seconds": round(elapsed, 1),
        "loadavg": os.getloadavg(),
        "command": "python scripts/measure_factual_accuracy.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "items": [{k: it[k] for k in ("id", "question", "answers", "prediction", "correct")} for it in items],
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"accuracy {summary['accuracy']:.3f} on {len(items)} items ({elapsed:.0f} s); written to {out}")
    for key in ("by_difficulty", "by_category"):
        print(key + ": " + ", ".join(f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in summary[key].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
