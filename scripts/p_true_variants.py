"""p(True) protocols re-scored on the quality run's stored answers (issue #17).

For every factual row of `scripts/quality_hallucination.py` (the model's greedy answer, its
10 stored semantic-entropy samples at T = 1 and the alias-match label), score P(True) with
each `PTrue` protocol — "farquhar" (the semantic-entropy paper's baseline: brainstormed
answers, "A) True", P(" A"); the quality run's `p_true`), "kadavath" (Kadavath et al.'s
zero-shot "Proposed Answer … (A) True (B) False", P(" (A)")) and "kadavath_samples" (their
variant showing the samples), each on raw text (the papers') and through the chat template
("+chat", as lm-polygraph does for instruction-tuned models) — both as the papers read it (P(True) itself) and renormalised
over the two options (llminfo's `normalize=True`). One teacher-forced `score` call per
batch (both options; the prompt is shared). Reports AUROC / PRR for "the answer is wrong"
with 95 % bootstrap CIs, and checks that the recomputed "farquhar" P(True) equals the
quality run's stored `p_true`. Rows are appended as batches finish (resumable).

With `--few-shot 20`, the variant "farquhar_fewshot" instead: p(True) as the semantic-entropy
paper's code runs it (`construct_few_shot_prompt` + `calculate_p_true`), the reference prompt
after 20 labelled examples — question, the model's stored samples as brainstormed answers, its
greedy answer as "Possible answer", " A" if that answer was right else " B" — drawn with a fixed
seed from the DEVELOPMENT split of `quality_eval.held_out_mask` only (the reference draws them
at random from the training split), cut to the model's context as the reference does. It is
scored, beside the zero-shot "farquhar" prompt, on the held-out questions only, and the report
gives both AUROC / PRR with 95 % bootstrap CIs and the paired CI of their difference, on the
same held-out questions (`bench_results/p_true_fewshot[_MODEL].json`, rows in
`p_true_fewshot_rows[_MODEL].jsonl`, appended per batch: resumable).

    python scripts/p_true_variants.py [--rows bench_results/quality_hallucination_rows_v2.jsonl] [--limit N]
    python scripts/p_true_variants.py --few-shot 20 [--rows R --model M] [--limit N]
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
sys.path.insert(0, str(ROOT / "scripts"))

OUT_ROWS = ROOT / "bench_results" / "p_true_variants_rows.jsonl"
OUTPUT = ROOT / "bench_results" / "p_true_variants.json"


def variants() -> list[tuple[str, str, bool]]:
    """(key, protocol, chat) of every variant scored: each protocol on raw text (the papers')
    and through the chat template (as lm-polygraph does for instruction-tuned models)."""
    from llminfo.analyzers.semantic_entropy import P_TRUE_PROTOCOLS

    return [(p + ("+chat" if chat else ""), p, chat) for chat in (False, True) for p in P_TRUE_PROTOCOLS]


def score_rows(rows: list[dict], out: Path, batch: int, model_name: str) -> None:
    import torch

    from quality_hallucination import read_rows

    from llminfo.analyzers.semantic_entropy import PTrue
    from llminfo.models import load_model

    done = read_rows(out)
    todo = [r for r in rows if any(k not in done.get(r["id"], {}) for k, _, _ in variants())]
    if not todo:
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    t0, cpu0 = time.time(), time.process_time()
    with out.open("a") as f:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            prompts, conts, where = [], [], []
            for r in chunk:
                samples = r["details"]["semantic_entropy"]["answers"]
                for key, proto, chat in variants():
                    if key in done.get(r["id"], {}):
                        continue
                    pt = PTrue(protocol=proto, chat=chat)
                    p = pt.prompt_for(r["question"], samples, r["answer"], model)
                    prompts += [p, p]
                    conts += list(pt.options)
                    where.append((r["id"], key))
            lp = [s.sum_logprob for s in model.score(prompts, conts, entropy=False)]
            for r in chunk:
                rec = dict(done.get(r["id"], {}), id=r["id"], correct=r["correct"],
                           stored_p_true=r["details"].get("p_true", {}).get("p_true"))
                for k, (qid, key) in enumerate(where):
                    if qid == r["id"]:
                        rec[key] = {"logp_true": lp[2 * k], "logp_false": lp[2 * k + 1]}
                f.write(json.dumps(rec) + "\n")  # read_rows keeps the last record of an id
            f.flush()
            n = start + len(chunk)
            print(f"{n}/{len(todo)} rows, {(time.process_time() - cpu0) / n:.2f} CPU-s and {(time.time() - t0) / n:.2f} s "
                  f"per question, load {os.getloadavg()[0]:.1f}", flush=True)


def evaluate(recs: list[dict]) -> dict:
    from quality_eval import summary

    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    out: dict = {"n_factual": len(recs), "accuracy": float(1 - wrong.mean())}
    for key, _, _ in variants():
        if not all(key in r for r in recs):
            continue
        lt = np.array([r[key]["logp_true"] for r in recs])
        lf = np.array([r[key]["logp_false"] for r in recs])
        p_raw, p_norm = np.exp(lt), np.exp(lt - np.logaddexp(lt, lf))
        out[key] = {
            "paper (risk = 1 - P(True))": summary(wrong, 1 - p_raw),
            "normalized (risk = 1 - P(A)/(P(A)+P(B)))": summary(wrong, 1 - p_norm),
            "mean_p_true": float(p_raw.mean()), "mean_p_true_plus_p_false": float((p_raw + np.exp(lf)).mean()),
        }
    stored = [(r["stored_p_true"], np.exp(r["farquhar"]["logp_true"])) for r in recs if r["stored_p_true"] is not None]
    if stored:
        out["farquhar_vs_stored_p_true_max_abs_diff"] = float(max(abs(a - b) for a, b in stored))
    return out


def few_shot_split(rows: list[dict], num: int, seed: int, on: str = "held_out") -> tuple[list[dict], list[dict]]:
    """(few-shot examples drawn from the development split, the rows to score): the split of
    `quality_eval.evaluate` (held_out_mask over every factual row: ids, wrong, difficulty). The
    rows to score are the held-out ones (`on="held_out"`) or the development rows that are not
    examples (`on="development"`: a few-shot p(True) column for choosing a combination there)."""
    if on not in FEW_SHOT_ON:
        raise SystemExit(f"--few-shot-on has to be one of {FEW_SHOT_ON}, got {on!r}")
    import random

    from quality_eval import held_out_mask

    fact = [r for r in rows if r["set"] == "factual"]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in fact])
    held = held_out_mask([r["id"] for r in fact], wrong, [r.get("difficulty") for r in fact])
    usable = [("semantic_entropy" in r.get("details", {})) for r in fact]
    dev = sorted((r for r, h, u in zip(fact, held, usable) if not h and u), key=lambda r: r["id"])
    if len(dev) < num:
        raise SystemExit(f"--few-shot {num}: only {len(dev)} development rows with stored samples")
    drawn = random.Random(seed).sample(dev, num)
    if on == "development":
        ids = {r["id"] for r in drawn}
        return drawn, [r for r, h, u in zip(fact, held, usable) if not h and u and r["id"] not in ids]
    return drawn, [r for r, h, u in zip(fact, held, usable) if h and u]


FEW_SHOT_ON = ("held_out", "development")


def few_shot_examples(drawn: list[dict]) -> list[dict]:
    """The labelled examples `PTrue(few_shot=...)` takes, from quality-run rows."""
    return [{"question": r["question"], "answers": r["details"]["semantic_entropy"]["answers"], "answer": r["answer"],
             "correct": bool(r["correct"])} for r in drawn]


def few_shot_config(model_name: str, examples: list[dict]) -> str:
    """The key of one few-shot configuration (model and examples) in the rows file."""
    import hashlib

    return hashlib.sha256(json.dumps([model_name, examples]).encode()).hexdigest()[:16]


def read_config_rows(path: Path, config: str) -> dict[str, dict]:
    """The few-shot records of one configuration (model and examples), by id, the last one
    kept; several draws of examples share the rows file."""
    out: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from an interrupted run
            if r.get("config") == config:
                out[r["id"]] = r
    return out


def score_few_shot(held: list[dict], examples: list[dict], out: Path, batch: int, model_name: str, config: str) -> dict:
    """Zero-shot "farquhar" and "farquhar_fewshot" log p(" A"), log p(" B") per held-out row;
    one `score` call per batch, where the few-shot prompts share (and encode once) the prefix."""
    import torch

    from llminfo.analyzers.semantic_entropy import PTrue
    from llminfo.models import load_model

    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(model_name)
    zero, few = PTrue(), PTrue(few_shot=examples)
    prefix, kept = few.few_shot_prefix(model)
    info = {"few_shot_kept": kept, "prefix_tokens": len(model.tokenizer.encode(prefix)),
            "token_limit": int(model.describe().max_context)}
    done = read_config_rows(out, config)
    todo = [r for r in held if r["id"] not in done]
    t0, cpu0 = time.time(), time.process_time()
    with out.open("a") as f:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            prompts = []
            for r in chunk:
                samples = r["details"]["semantic_entropy"]["answers"]
                prompts += [pt.prompt_for(r["question"], samples, r["answer"], model) for pt in (zero, few)]
            lp = [s.sum_logprob for s in model.score([p for p in prompts for _ in (0, 1)], [" A", " B"] * len(prompts),
                                                      entropy=False)]
            for i, r in enumerate(chunk):
                rec = {"id": r["id"], "correct": r["correct"], "config": config,
                       "stored_p_true": r["details"].get("p_true", {}).get("p_true")}
                for j, key in enumerate(("farquhar", "farquhar_fewshot")):
                    k = 2 * (2 * i + j)
                    rec[key] = {"logp_true": lp[k], "logp_false": lp[k + 1]}
                f.write(json.dumps(rec) + "\n")
            f.flush()
            n = start + len(chunk)
            print(f"{n}/{len(todo)} rows, {(time.process_time() - cpu0) / n:.2f} CPU-s and "
                  f"{(time.time() - t0) / n:.2f} s per question, load {os.getloadavg()[0]:.1f}", flush=True)
    if todo:
        info["timing_this_run"] = {"questions": len(todo), "cpu_s_per_question": (time.process_time() - cpu0) / len(todo),
                                   "wall_s_per_question": (time.time() - t0) / len(todo), "loadavg_end": os.getloadavg()}
    return info


def evaluate_few_shot(recs: list[dict]) -> dict:
    """Held-out AUROC / PRR (95 % bootstrap CIs) of zero-shot vs few-shot p(True), both as the
    paper reads it (risk = 1 − P(True)) and renormalised over A/B, with the paired CI of
    few-shot − zero-shot on the same questions."""
    from quality_eval import summary

    from llminfo.eval.metrics import auroc, bootstrap_ci

    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    out: dict = {"n_held_out": len(recs), "accuracy_held_out": float(1 - wrong.mean())}
    risks = {}
    for key in ("farquhar", "farquhar_fewshot"):
        lt = np.array([r[key]["logp_true"] for r in recs])
        lf = np.array([r[key]["logp_false"] for r in recs])
        risks[key] = {"paper (risk = 1 - P(True))": 1 - np.exp(lt), "normalized (risk = 1 - P(A)/(P(A)+P(B)))":
                      1 - np.exp(lt - np.logaddexp(lt, lf))}
        out[key] = {**{k: summary(wrong, u) for k, u in risks[key].items()}, "mean_p_true": float(np.exp(lt).mean()),
                    "mean_p_true_plus_p_false": float((np.exp(lt) + np.exp(lf)).mean())}
    diff = lambda w, a, b: auroc(w, a) - auroc(w, b)  # noqa: E731
    out["fewshot_minus_zero_shot_auroc"] = {
        k: {"diff": diff(wrong, risks["farquhar_fewshot"][k], risks["farquhar"][k]),
            "ci95": list(bootstrap_ci(diff, wrong, risks["farquhar_fewshot"][k], risks["farquhar"][k], n_resamples=1000))}
        for k in risks["farquhar"]}
    stored = [(r["stored_p_true"], np.exp(r["farquhar"]["logp_true"])) for r in recs if r["stored_p_true"] is not None]
    if stored:
        out["farquhar_vs_stored_p_true_max_abs_diff"] = float(max(abs(a - b) for a, b in stored))
    return out


def few_shot_main(args: argparse.Namespace, rows: list[dict]) -> None:
    suffix = "" if args.model == "default" else f"_{args.model}"
    out_rows = Path(args.out_rows or ROOT / "bench_results" / f"p_true_fewshot_rows{suffix}.jsonl")
    seed_suffix = f"_seed{args.few_shot_seed}" if args.few_shot_seed else ""
    on_suffix = "" if args.few_shot_on == "held_out" else f"_{args.few_shot_on}"
    output = Path(args.output or ROOT / "bench_results" / f"p_true_fewshot{suffix}{seed_suffix}{on_suffix}.json")
    drawn, held = few_shot_split(rows, args.few_shot, args.few_shot_seed, args.few_shot_on)
    held = held[: args.limit]
    examples = few_shot_examples(drawn)
    config = few_shot_config(args.model, examples)
    if args.evaluate_only:  # the prefix size and timing of the run that scored the rows
        old = json.loads(output.read_text()).get("few_shot", {}) if output.exists() else {}
        info = {k: v for k, v in old.items() if old.get("config") == config and k not in ("ids", "requested", "seed")}
    else:
        info = score_few_shot(held, examples, out_rows, args.batch, args.model, config)
    keep = {r["id"] for r in held}
    recs = [r for r in read_config_rows(out_rows, config).values() if r["id"] in keep]
    if len(recs) < 10:
        raise SystemExit(f"only {len(recs)} scored {args.few_shot_on} rows in {out_rows}")
    from quality_eval import summary

    by_id = {r["id"]: r for r in held}
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    stored = {m: summary(wrong, np.array([by_id[r["id"]]["scores"][m] for r in recs], dtype=float))
              for m in by_id[recs[0]["id"]].get("scores", {})
              if all(by_id[r["id"]]["scores"].get(m) is not None for r in recs)}
    report = {"model": args.model, "rows": Path(args.rows).name, "n_factual_rows": sum(r["set"] == "factual" for r in rows),
              "scored_rows": args.few_shot_on + (" (the development rows that are not examples)" if args.few_shot_on == "development" else ""),
              "few_shot": {"requested": args.few_shot, "seed": args.few_shot_seed, "drawn_from": "development split",
                           "ids": [r["id"] for r in drawn], "correct": sum(r["correct"] for r in drawn), "config": config, **info},
              "loadavg": os.getloadavg(), **evaluate_few_shot(recs), "quality_run_methods_same_questions": stored,
              "command": f"python scripts/p_true_variants.py --few-shot {args.few_shot} --few-shot-seed {args.few_shot_seed} "
                         f"--rows {args.rows} --model {args.model}" + (f" --few-shot-on {args.few_shot_on}" if on_suffix else "")}
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=1)[:5000])


def main() -> None:
    from quality_hallucination import ROWS, read_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=str(ROWS), help="quality-run rows with stored SE samples")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--model", default="default")
    ap.add_argument("--out-rows", default=None, help=f"default {OUT_ROWS.name} (with --few-shot: p_true_fewshot_rows[_MODEL].jsonl)")
    ap.add_argument("--output", default=None, help=f"default {OUTPUT.name} (with --few-shot: p_true_fewshot[_MODEL][_seedN].json)")
    ap.add_argument("--evaluate-only", action="store_true")
    ap.add_argument("--few-shot", type=int, default=0,
                    help="score 'farquhar_fewshot' with this many labelled development examples (the paper: 20) on the held-out split")
    ap.add_argument("--few-shot-seed", type=int, default=0, help="seed of the draw of the few-shot examples")
    ap.add_argument("--few-shot-on", default="held_out", choices=FEW_SHOT_ON,
                    help="score the held-out rows (default) or the development rows that are not examples")
    args = ap.parse_args()
    if args.few_shot < 0:
        raise SystemExit(f"--few-shot has to be >= 0, got {args.few_shot}")
    if args.few_shot:
        few_shot_main(args, list(read_rows(Path(args.rows)).values()))
        return
    args.out_rows, args.output = args.out_rows or str(OUT_ROWS), args.output or str(OUTPUT)
    rows = [r for r in read_rows(Path(args.rows)).values()
            if r["set"] == "factual" and "semantic_entropy" in r.get("details", {})][: args.limit]
    if not args.evaluate_only:
        score_rows(rows, Path(args.out_rows), args.batch, args.model)
    keep = {r["id"] for r in rows}
    recs = [r for r in read_rows(Path(args.out_rows)).values() if r["id"] in keep]
    if len(recs) < 10:
        raise SystemExit(f"only {len(recs)} scored rows in {args.out_rows}")
    report = {"model": args.model, "rows": Path(args.rows).name, "loadavg": os.getloadavg(), **evaluate(recs),
              "command": "python scripts/p_true_variants.py"}
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=1)[:4000])


if __name__ == "__main__":
    main()
