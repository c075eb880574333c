"""`qa-hallucination`: do the uncertainty scores flag the model's wrong answers?

Per item: the model answers the question greedily (or the dataset supplies `answer`), the
matcher judges it against the gold aliases, and every configured method
(`llminfo.analyzers`: msp, perplexity, mean_entropy, semantic_entropy,
discrete_semantic_entropy, iterative_mi, edfl, ...) scores it — higher = more likely wrong.
All methods share one `SampleCache` per batch, so samples are generated once.

Metrics per method (wrong answer = positive class): AUROC, AUPRC, PRR (normalised and
raw), AUARC, accuracy at the configured coverages, and — on a probability of being right
fitted out-of-fold by logistic regression on the score — ECE and Brier. Bootstrap
intervals for accuracy, AUROC, PRR and AUARC. For methods that decide answer/abstain (edfl,
edfl_answer; needs `keep_details`): the EDFL paper's ISR audit (`isr_audit`): abstention
rate, hallucination rate among answered items and its Wilson upper bound.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from llminfo.eval import metrics as M
from llminfo.eval.tasks import Param, Task, fmt


def in_sample_notes(dataset_path: str, methods: Sequence[tuple[str, Any]]) -> list[str]:
    """Warnings for methods fitted on the dataset being evaluated: the probes shipped for the
    embedded models were fitted on the shipped factual questions, so their figures there are
    in-sample (BENCHMARKS.md has the cross-fitted ones)."""
    from llminfo.analyzers.probe import HiddenStateProbe

    if dataset_path != "llminfo:factual_qa":
        return []
    return [f"method {name!r}: the probe shipped for the embedded models was fitted on llminfo:factual_qa, "
            "so its figures on this dataset are in-sample (optimistic); see BENCHMARKS.md for cross-fitted ones"
            for name, m in methods if isinstance(m, HiddenStateProbe) and m.probe_path is None]


class QAHallucinationTask(Task):
    name = "qa-hallucination"
    fields = {"question": True, "answers": True, "context": False, "answer": False}
    input_field = "question"
    params = {
        "max_new_tokens": Param(int, 24, "tokens for the greedy answer: an integer >= 1", lambda x: x >= 1),
        "keep_details": Param(bool, True, "keep each method's details in results.jsonl: true or false"),
        "combined": Param(bool, True, "also report `combined`, the out-of-fold calibrated risk of all methods (HallucinationScorer's logistic calibrator): true or false"),
    }
    metric_names = ("accuracy", "auroc", "auprc", "prr", "prr_raw", "auarc", "accuracy_at_coverage", "ece", "brier", "isr_audit")
    default_methods = ("msp", "perplexity", "mean_entropy", "semantic_entropy")

    @classmethod
    def method_registry(cls) -> dict[str, Callable[..., Any]]:
        """Every method the `HallucinationScorer` can build by name (edfl, edfl_answer, ...)."""
        from llminfo.analyzers.registry import available_methods

        return available_methods()

    def __init__(self, config):
        super().__init__(config)
        self._judge = make_matcher(config.matcher.name, config.matcher.threshold)
        self._methods = self.methods()
        self.notes = in_sample_notes(config.dataset.path, self._methods)
        for note in self.notes:
            import warnings

            warnings.warn(note, UserWarning, stacklevel=2)

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        from llminfo.analyzers.base import QAItem, SampleCache, answers_for

        qa = [
            QAItem(it["question"], it.get("answer"), it.get("context"), it["key"])
            for it in items
        ]
        cache = SampleCache()
        answers = answers_for(model, qa, cache, max_new_tokens=self.p["max_new_tokens"])
        qa = [QAItem(q.question, a, q.context, q.id) for q, a in zip(qa, answers)]
        results = {name: m.score(model, qa, seed=self.config.seed, cache=cache) for name, m in self._methods}
        rows = []
        for i, (it, ans) in enumerate(zip(items, answers)):
            gold = gold_list(it["answers"])
            row: dict[str, Any] = {
                "key": it["key"],
                "question": it["question"],
                "answer": ans,
                "gold": gold,
                "correct": int(self._judge(ans, gold)),
                "scores": {name: _finite_or_none(res[i].score) for name, res in results.items()},
            }
            if self.p["keep_details"]:
                row["details"] = {name: res[i].details for name, res in results.items()}
            rows.append(row)
        return rows

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        rep = self.config.report
        wanted = set(self.config.metrics or self.metric_names)
        correct = np.array([r["correct"] for r in rows], dtype=float)
        out: dict[str, Any] = {"n_items": len(rows), "accuracy": float(correct.mean()) if rows else float("nan")}
        if rep.bootstrap and rows:
            out["accuracy_ci"] = list(M.bootstrap_ci(np.mean, correct, n_resamples=rep.bootstrap, level=rep.confidence_level, seed=self.config.seed))
        per_method = {}
        for name, (y, s) in method_arrays(rows).items():
            per_method[name] = _method_metrics(y, s, wanted, rep, self.config.seed)
        combined = self.combined_risk(rows)
        if combined is not None:
            per_method["combined"] = _method_metrics(*combined, wanted, rep, self.config.seed, calibrated=True)
        out["methods"] = per_method
        if self.notes:
            out["notes"] = list(self.notes)
        if "isr_audit" in wanted:
            audits = isr_audits(rows, alpha=1 - rep.confidence_level)
            if audits:
                out["isr_audit"] = audits
        return out

    def combined_risk(self, rows: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray] | None:
        """(correct, risk) with risk from the logistic `Calibrator` of `llminfo.analyzers.calibration`
        fit on the other folds (`report.calibration_folds`), over rows where every method scored."""
        names = list(method_arrays(rows))
        if not self.p["combined"] or len(names) < 2:
            return None
        from llminfo.analyzers.calibration import Calibrator

        keep = [r for r in rows if all(r["scores"].get(n) is not None for n in names)]
        y = np.array([r["correct"] for r in keep], float)
        if y.size < 4 or y.min() == y.max():
            return None
        x = np.array([[r["scores"][n] for n in names] for r in keep], float)
        folds = min(self.config.report.calibration_folds, y.size)
        fold_of = np.random.default_rng(self.config.seed).permutation(y.size) % folds
        risk = np.empty(y.size)
        for f in range(folds):
            test, train = fold_of == f, fold_of != f
            if y[train].min() == y[train].max():
                risk[test] = 1.0 - y[train].mean()
                continue
            risk[test] = Calibrator().fit(names, x[train], y[train]).predict(x[test])
        return y, risk

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        from llminfo.eval import report

        arrays = method_arrays(rows)
        usable = {k: v for k, v in arrays.items() if 0 < v[0].mean() < 1}
        if not usable:
            return []
        rep = self.config.report
        conf = {
            k: M.cross_fitted_confidence(y, s, folds=rep.calibration_folds, seed=self.config.seed)
            for k, (y, s) in usable.items()
        }
        combined = self.combined_risk(rows)
        if combined is not None:
            usable["combined"] = combined
            conf["combined"] = 1.0 - combined[1]
        return [
            ("ROC: wrong answer detected by each method's score", report.plot_roc(usable, metrics.get("methods", {}))),
            ("Risk–coverage: error rate of the answers kept, most confident first", report.plot_risk_coverage(usable)),
            ("Reliability diagram (out-of-fold logistic calibration of each score)", report.plot_reliability({k: (usable[k][0], c) for k, c in conf.items()}, rep.ece_bins)),
        ]

    def summary(self, metrics: dict[str, Any]) -> str:
        lines = [f"items: {metrics['n_items']}   accuracy: {fmt(metrics['accuracy'])}"]
        cols = ["auroc", "prr", "auarc", "ece", "brier"]
        lines.append(f"{'method':<28}" + "".join(f"{c:>9}" for c in cols))
        for name, m in metrics.get("methods", {}).items():
            lines.append(f"{name:<28}" + "".join(f"{fmt(m.get(c)):>9}" for c in cols))
        return "\n".join(lines)


def gold_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def make_matcher(name: str, threshold: float = 0.5) -> Callable[[str, list[str]], bool]:
    """`(prediction, gold aliases) -> bool` from `llminfo.text`."""
    from llminfo import text

    if name == "alias":
        return lambda pred, gold: bool(text.alias_match(pred, gold))
    if name == "exact":
        return lambda pred, gold: text.normalize_answer(pred) in {text.normalize_answer(g) for g in gold}
    if name == "f1":
        return lambda pred, gold: max(text.token_f1(pred, g) for g in gold) >= threshold
    raise ValueError(f"`matcher.name` has to be alias, exact or f1, got {name!r}")


def method_arrays(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{method: (correct, score)} over the rows where that method's score is defined."""
    names: list[str] = []
    for r in rows:
        names += [k for k in r["scores"] if k not in names]
    out = {}
    for name in names:
        pairs = [(r["correct"], r["scores"].get(name)) for r in rows]
        pairs = [(c, s) for c, s in pairs if s is not None]
        if pairs:
            out[name] = (np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float))
    return out


def _method_metrics(y: np.ndarray, s: np.ndarray, wanted: set[str], rep: Any, seed: int, calibrated: bool = False) -> dict[str, Any]:
    """Metrics of one uncertainty score; `calibrated`: `s` is already P(wrong), used as is for ECE/Brier."""
    res: dict[str, Any] = {"n": int(y.size)}
    if y.min() == y.max():
        res["note"] = "all answers right or all wrong: ranking metrics undefined"
        return res
    wrong = 1 - y
    ci = dict(n_resamples=rep.bootstrap, level=rep.confidence_level, seed=seed)
    if "auroc" in wanted:
        res["auroc"] = M.auroc(wrong, s)
    if "auprc" in wanted:
        res["auprc"] = M.auprc(wrong, s)
    if "prr" in wanted:
        res["prr"] = M.prr(y, s)
    if "prr_raw" in wanted:
        res["prr_raw"] = M.prr(y, s, normalize=False)
    if "auarc" in wanted:
        res["auarc"] = M.auarc(y, s)
    if "accuracy_at_coverage" in wanted:
        res["accuracy_at_coverage"] = {str(c): M.accuracy_at_coverage(y, s, c) for c in rep.coverages}
    if wanted & {"ece", "brier"}:
        conf = 1.0 - s if calibrated else M.cross_fitted_confidence(y, s, folds=rep.calibration_folds, seed=seed)
        if "ece" in wanted:
            res["ece"] = M.ece(y, conf, rep.ece_bins)
        if "brier" in wanted:
            res["brier"] = M.brier(y, conf)
    if rep.bootstrap:
        if "auroc" in wanted:
            res["auroc_ci"] = list(M.bootstrap_ci(M.auroc, wrong, s, **ci))
        if "prr" in wanted:
            res["prr_ci"] = list(M.bootstrap_ci(M.prr, y, s, **ci))
        if "auarc" in wanted:
            res["auarc_ci"] = list(M.bootstrap_ci(M.auarc, y, s, **ci))
    return res


def isr_audits(rows: Sequence[dict[str, Any]], alpha: float = 0.05) -> dict[str, dict[str, Any]]:
    """`{method: metrics.isr_audit(...)}` for every method whose details carry an
    answer/abstain `decision` (edfl, edfl_answer): the EDFL paper's headline table."""
    names: list[str] = []
    for r in rows:
        for name, d in (r.get("details") or {}).items():
            if isinstance(d, dict) and d.get("decision") in ("answer", "abstain") and name not in names:
                names.append(name)
    out = {}
    for name in names:
        keep = [r for r in rows if isinstance((r.get("details") or {}).get(name), dict) and "decision" in r["details"][name]]
        out[name] = M.isr_audit([r["details"][name]["decision"] for r in keep], [r["correct"] for r in keep], alpha=alpha)
    return out


def _finite_or_none(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
