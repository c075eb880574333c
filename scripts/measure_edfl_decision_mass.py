"""How much next-token mass EDFL's decision prompt puts on its decision words, per model.

EDFL's white-box mode reads P(answer) = P(answer words) / P(answer words ∪ refuse words) from
the first token after the decision prompt (`EDFLRiskAnalyzer.decision_prompt`: the chat template
for instruct models, "…\\nReply:" for base models). If the words the analyzer scores carry
little of the next-token mass, that ratio is read off a corner of the distribution the model
barely uses. For each model this prints how each decision word tokenizes with and without a
leading space, the mean next-token mass on each word's first token, the mean mass on the
no-space and the leading-space sets, and the most frequent argmax tokens.

Run:
    python scripts/measure_edfl_decision_mass.py --model default --model gemma3-270m --limit 30
        [--output bench_results/edfl_decision_mass.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

WORDS = ("Answer", "Skip", "answer", "skip")


def measure(name: str, questions: list[str]) -> dict:
    import torch

    from llminfo import load_model
    from llminfo.analyzers.edfl import EDFLRiskAnalyzer

    t0 = time.perf_counter()
    model = load_model(name)
    tok = model.tokenizer
    edfl = EDFLRiskAnalyzer()
    variants = {w: model.encode_continuation(w) for w in WORDS} | {" " + w: model.encode_continuation(" " + w) for w in WORDS}
    mass = {w: [] for w in variants}
    argmax: Counter = Counter()
    p_answer = {"no_space": [], "space": [], "both": []}
    for q in questions:
        ids = model.encode_prompt(edfl.decision_prompt(model, q, None))
        with torch.inference_mode():
            logits = model.model(input_ids=torch.tensor([ids])).logits[0, -1].float()
        p = torch.softmax(logits, dim=-1)
        for w, t in variants.items():
            mass[w].append(float(p[t[0]]))  # first token: what a one-token read sees
        argmax[tok.decode([int(p.argmax())])] += 1
        m = {w: mass[w][-1] for w in variants}
        for key, sets in (("no_space", ("",)), ("space", (" ",)), ("both", ("", " "))):
            a = sum(m[s + "Answer"] for s in sets)
            r = sum(m[s + "Skip"] for s in sets)
            p_answer[key].append(a / (a + r) if a + r > 0 else float("nan"))
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return {
        "model": name,
        "questions": len(questions),
        "tokenization": {w: {"ids": t, "pieces": tok.convert_ids_to_tokens(t)} for w, t in variants.items()},
        "mean_mass_first_token": {w: mean(v) for w, v in mass.items()},
        "mean_mass_no_space_set": mean([mass["Answer"][i] + mass["Skip"][i] for i in range(len(questions))]),
        "mean_mass_space_set": mean([mass[" Answer"][i] + mass[" Skip"][i] for i in range(len(questions))]),
        "mean_mass_all_variants": mean([sum(mass[w][i] for w in variants) for i in range(len(questions))]),
        "p_answer_mean": {k: mean(v) for k, v in p_answer.items()},
        "p_answer_per_question": p_answer,
        "top_argmax_tokens": argmax.most_common(8),
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=None)
    ap.add_argument("--limit", type=int, default=30, help="questions, spread evenly over the shipped factual set")
    ap.add_argument("--output", default="bench_results/edfl_decision_mass.json")
    args = ap.parse_args(argv)
    from llminfo.data import load_jsonl

    rows = list(load_jsonl("factual_qa"))
    step = max(1, len(rows) // args.limit)
    questions = [r["question"] for r in rows[::step][: args.limit]]
    out = {"load": os.getloadavg(), "results": [measure(m, questions) for m in (args.model or ["default"])]}
    for r in out["results"]:
        print(json.dumps({k: r[k] for k in ("model", "mean_mass_first_token", "mean_mass_no_space_set", "mean_mass_space_set",
                                            "mean_mass_all_variants", "p_answer_mean", "top_argmax_tokens")}, indent=1))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
