"""Which extra signal adds to the default scorer's combination? Measured on the DEVELOPMENT split
of the quality rows only (issue #17): the held-out split and the fresh question sets are not
read.

For each candidate column, the out-of-fold AUROC (3 × 5 stratified folds, `quality_eval.cv_aurocs`)
of "stacked" (and "logistic_cv") over the default scorer's methods without `prompt_disagreement`
(the five it had before) plus that candidate, beside the five alone. Candidates from what the
rows store: `prompt_disagreement`, `query_probe`, the other quality-run methods, the agreement
of the greedy answer with the 10 stored semantic-entropy / MI samples (mean token F1, and the
share with F1 ≥ 0.5), the answer's length in words, and — where `p_true_variants.py --few-shot
20 --few-shot-on development` has scored them — p(True) with the paper's 20 labelled examples
(those rows only; the examples themselves are left out). Also each candidate's own development
AUROC and its Spearman correlation with the probe and msp.

    python scripts/dev_candidates.py [--model default|gemma3-270m] → bench_results/dev_candidates[_MODEL].json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def candidate_columns(rows: list[dict]) -> dict[str, np.ndarray]:
    """Extra columns computed from what the quality rows store (higher = riskier)."""
    from llminfo.text import token_f1

    out = {}
    for src in ("semantic_entropy", "iterative_mi"):
        f1 = [[token_f1(r["answer"], s) for s in r["details"][src]["answers"]] for r in rows]
        out[f"disagree_samples_f1_{src}"] = np.array([1 - np.mean(x) for x in f1])
        out[f"disagree_samples_f1ge05_{src}"] = np.array([1 - np.mean(np.array(x) >= 0.5) for x in f1])
    out["answer_words"] = np.array([len(r["answer"].split()) for r in rows], dtype=float)
    return out


def main() -> None:
    from p_true_variants import few_shot_config, few_shot_examples, few_shot_split, read_config_rows
    from scipy.stats import spearmanr
    from quality_eval import _aurocs, cv_aurocs, held_out_mask
    from quality_hallucination import ROWS, read_rows

    from llminfo.analyzers.registry import DEFAULT_METHODS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    suffix = "" if args.model == "default" else f"_{args.model}"
    rows = list(read_rows(ROWS.with_name(ROWS.stem + suffix + ROWS.suffix)).values())
    fact = [r for r in rows if r["set"] == "factual"]
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in fact])
    dev = ~held_out_mask([r["id"] for r in fact], wrong, [r.get("difficulty") for r in fact])
    fd, w = [r for r, d in zip(fact, dev) if d], wrong[dev]
    base = [m for m in DEFAULT_METHODS if m != "prompt_disagreement"]
    names = [n for n in fd[0]["scores"] if all(r["scores"].get(n) is not None for r in fd)]
    cols = {n: np.array([r["scores"][n] for r in fd], dtype=float) for n in names} | candidate_columns(fd)

    def cv(S: np.ndarray, labels: np.ndarray, procedure: str) -> float:
        return float(np.mean(cv_aurocs(procedure, S, labels, [str(j) for j in range(S.shape[1])])))

    def entry(extra: np.ndarray | None, keep: np.ndarray) -> dict:
        S = np.column_stack([cols[m][keep] for m in base] + ([extra[keep]] if extra is not None else []))
        return {"stacked": cv(S, w[keep], "stacked"), "logistic_cv": cv(S, w[keep], "logistic_cv")}

    everyone = np.ones(len(fd), dtype=bool)
    report = {"model": args.model, "n_development": int(dev.sum()), "base_methods": base,
              "base": entry(None, everyone), "candidates": {}}
    for n, v in cols.items():
        if n in base:
            continue
        report["candidates"][n] = {"dev_auroc": float(_aurocs(v[:, None], w)[0]),
                                   "spearman_hidden_probe": float(spearmanr(v, cols["hidden_probe"])[0]),
                                   "spearman_msp": float(spearmanr(v, cols["msp"])[0]), **entry(v, everyone)}
        print(n, {k: round(x, 3) for k, x in report["candidates"][n].items()}, flush=True)
    # few-shot p(True), where scored on the development rows (the 20 examples are not among them)
    drawn, _ = few_shot_split(rows, 20, 0, "development")
    pt = read_config_rows(ROOT / "bench_results" / f"p_true_fewshot_rows{suffix}.jsonl",
                          few_shot_config(args.model, few_shot_examples(drawn)))
    keep = np.array([r["id"] in pt for r in fd])
    if keep.sum() >= 50:
        lt = np.array([pt[r["id"]]["farquhar_fewshot"]["logp_true"] if r["id"] in pt else np.nan for r in fd])
        risk = 1 - np.exp(lt)
        report["p_true_few_shot_20"] = {"n": int(keep.sum()), "dev_auroc": float(_aurocs(risk[keep][:, None], w[keep])[0]),
                                        "base_same_rows": entry(None, keep), "with_it": entry(risk, keep)}
        print("p_true_few_shot_20", report["p_true_few_shot_20"], flush=True)
    report["command"] = f"python scripts/dev_candidates.py --model {args.model}"
    out = ROOT / "bench_results" / f"dev_candidates{suffix}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print("base", report["base"], "->", out)


if __name__ == "__main__":
    main()
