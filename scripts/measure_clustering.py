"""Which equivalence should semantic entropy's clustering use by default? Measured on the
same sampled answers for every option.

Reads the semantic-entropy samples stored in the quality run's rows (10 answers per question
at T = 1 with their mean token log-likelihoods, `scripts/quality_hallucination.py`),
re-clusters them with each option and reports the AUROC of semantic entropy for "the
greedy answer is wrong" on the factual questions (95 % bootstrap CI), with naive predictive
entropy on the same samples as the baseline, and on the many-answer mix the AUROC of wrong
factual vs valid many-answer questions. Options: the shipped sentence embeddings at several
cosine thresholds, the LLM judge with the paper's prompt (`--judge`: the scored embedded
model itself; costly — every ordered pair of distinct answers is one greedy generation, so
`--judge-limit` caps the questions whose SE it re-scores, default 0 — and first a sanity
check on `--judge-pairs` questions: each first answer against itself (must be judged
entailment) and against another question's first answer (must not)), lexical token F1, exact match. An NLI model is not
shipped (none on PyPI), so "nli" is measured only when `--nli FOLDER` is given.

    python scripts/measure_clustering.py [--judge --judge-limit 40] [--nli FOLDER]
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


def main() -> None:
    from quality_eval import summary
    from quality_hallucination import ROWS, read_rows

    from llminfo import measures
    from llminfo.analyzers.clustering import cluster_answer_sets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=str(ROWS))
    ap.add_argument("--judge", action="store_true", help="also the LLM judge (the embedded model itself)")
    ap.add_argument("--judge-limit", type=int, default=0)
    ap.add_argument("--judge-pairs", type=int, default=20)
    ap.add_argument("--nli", default=None, help="a local HF sequence-classification MNLI folder")
    ap.add_argument("--output", default=str(ROOT / "bench_results" / "clustering_choice.json"))
    args = ap.parse_args()
    rows = [r for r in read_rows(Path(args.rows)).values() if "semantic_entropy" in r.get("details", {})]
    fact = [r for r in rows if r["set"] == "factual"]
    valid_many = [r for r in rows if r["set"] == "many" and r["correct"]]
    if len(fact) < 10:
        raise SystemExit(f"only {len(fact)} factual rows with stored samples in {args.rows}")

    def se_scores(rs, method, **kw):
        sets = [r["details"]["semantic_entropy"]["answers"] for r in rs]
        ids = cluster_answer_sets(sets, method, questions=[r["question"] for r in rs], **kw)
        return np.array([measures.semantic_entropy(i, r["details"]["semantic_entropy"]["seq_logprobs"]) for i, r in zip(ids, rs)])

    options = {f"embedding@{t}": ("embedding", {"threshold": t}) for t in (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)}
    options.update({"lexical@0.5": ("lexical", {"threshold": 0.5}), "lexical@0.25": ("lexical", {"threshold": 0.25}),
                    "exact": ("exact", {})})
    if args.nli:
        from llminfo.analyzers.entailment import nli_from_pretrained

        options["nli"] = ("nli", {"nli": nli_from_pretrained(args.nli)})
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in fact])
    report: dict = {"n_factual": len(fact), "n_many_valid": len(valid_many), "options": {}}
    pe = np.array([measures.predictive_entropy(r["details"]["semantic_entropy"]["seq_logprobs"]) for r in fact])
    report["predictive_entropy"] = summary(wrong, pe)

    def mix_auroc(f_scores, m_scores):
        from llminfo.eval.metrics import auroc

        if not len(m_scores):
            return None
        y = np.concatenate([np.ones(int(wrong.sum())), np.zeros(len(m_scores))])
        return auroc(y, np.concatenate([f_scores[wrong == 1], m_scores]))

    for label, (method, kw) in options.items():
        t0 = time.time()
        f = se_scores(fact, method, **kw)
        m = se_scores(valid_many, method, **kw) if valid_many else np.array([])
        report["options"][label] = {**summary(wrong, f), "auroc_wrong_factual_vs_valid_many": mix_auroc(f, m),
                                    "seconds": round(time.time() - t0, 2)}
    if args.judge:
        import torch

        from llminfo.models import load_model

        torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
        judge = load_model("default")
        from llminfo.analyzers.entailment import equivalence_prompt, parse_judgement

        firsts = [(r["question"], r["details"]["semantic_entropy"]["answers"][0]) for r in fact[: args.judge_pairs]]
        same = [equivalence_prompt(q, a, a) for q, a in firsts]
        other = [equivalence_prompt(q, a, firsts[(k + 1) % len(firsts)][1]) for k, (q, a) in enumerate(firsts)]
        t0 = time.time()
        out = judge.generate(same + other, n=1, max_new_tokens=10, temperature=0.0, seed=0)
        labels = [parse_judgement(c[0].text) for c in out]
        report["llm_judge_sanity"] = {
            "n_pairs_each": len(firsts),
            "identical_pairs_judged_entailment": sum(x == "entailment" for x in labels[: len(firsts)]) / len(firsts),
            "unrelated_pairs_judged_entailment": sum(x == "entailment" for x in labels[len(firsts) :]) / len(firsts),
            "label_counts": {k: labels.count(k) for k in ("entailment", "neutral", "contradiction")},
            "example_replies": [c[0].text for c in out[:3]],
            "seconds": round(time.time() - t0, 1),
        }
        print("judge sanity", report["llm_judge_sanity"])
        sub = fact[: args.judge_limit]
        if sub:
            t0 = time.time()
            f = se_scores(sub, "llm", judge=judge)
            sw = wrong[: len(sub)]
            report["options"]["llm_judge(self)"] = {**summary(sw, f), "seconds": round(time.time() - t0, 1),
                                                    "note": f"first {len(sub)} factual questions only"}
            for label, (method, kw) in options.items():
                report["options"][label][f"auroc_on_judge_subset_{len(sub)}"] = summary(sw, se_scores(sub, method, **kw))["auroc"]
            report["predictive_entropy"][f"auroc_on_judge_subset_{len(sub)}"] = summary(sw, pe[: len(sub)])["auroc"]
    report["loadavg"] = os.getloadavg()
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    for k, v in report["options"].items():
        print(f"{k:<18} AUROC {v['auroc']:.3f} [{v['auroc_ci95'][0]:.2f}, {v['auroc_ci95'][1]:.2f}]  mix {v.get('auroc_wrong_factual_vs_valid_many')}")
    print("predictive_entropy", report["predictive_entropy"])


if __name__ == "__main__":
    main()
