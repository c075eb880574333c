"""`halting`: does stopping the reasoning early save tokens without losing accuracy?

Each entry of `methods` is a halting mode of `llminfo.analyzers.adaptive_think` with its
parameters: the "Think or Not?" (Yong et al., 2025) protocol "adaptive" (probe the answer
distribution before and during reasoning; halt when H/C < ratio/(e ln 2); answer = the probe's
argmax) and the paper's baselines "none" (Vanilla Think), "no_think" and "gated" (Gated
Think); "entropy" is llminfo's own streaming rule on the next-token entropy. A label other than a mode name needs `mode:` (e.g. `{name: adaptive_0.5,
mode: adaptive, ratio: 0.5}`). `params` hold parameters shared by every mode
(`max_thinking_tokens`, ...). All modes run on the same batch of questions.

Metrics per mode: accuracy (bootstrap CI), mean tokens used / thinking tokens, share halted,
mean probes, the paper's InfoBias (mean −log₂ p̂(gold) at the last probe, overall and for
correct / incorrect items) and InfoGain (mean H_{k−1} − H_k per probe step); against mode
"none" (when run): token change (%) and accuracy change (points).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from llminfo.eval import metrics as M
from llminfo.eval.config import ConfigError
from llminfo.eval.tables import summary_table
from llminfo.eval.tasks import Task


def _adaptive():
    from llminfo.analyzers import adaptive_think  # imported when the task runs

    return adaptive_think


class HaltingTask(Task):
    name = "halting"
    fields = {"question": True, "answer": False, "options": False}
    metric_names = ("accuracy", "tokens", "halted", "probes", "info_bias", "info_gain")
    default_methods = ("none", "no_think", "gated", "adaptive")

    @classmethod
    def mode_specs(cls, cfg) -> list[tuple[str, str, dict[str, Any]]]:
        """(label, mode, params) per method, shared `params` first; errors name methods[i]."""
        at = _adaptive()
        methods = cfg.methods or [type("M", (), {"name": n, "params": {}})() for n in cls.default_methods]
        out = []
        for i, m in enumerate(methods):
            params = {**cfg.params, **m.params}
            mode = params.pop("mode", m.name)
            if mode not in at.HALTING_MODES:
                raise ConfigError(
                    f"config key `methods[{i}]`: unknown halting mode {mode!r}; one of {', '.join(at.HALTING_MODES)} "
                    "(or give `mode:` with a custom name)"
                )
            try:
                at._check_params(dict(params))
            except (TypeError, ValueError) as e:
                raise ConfigError(f"config key `methods[{i}]` ({m.name}) or `params`: {e}") from None
            out.append((m.name, mode, params))
        return out

    @classmethod
    def validate_config(cls, cfg) -> None:
        for m in cfg.metrics:
            if m not in cls.metric_names:
                raise ConfigError(f"config key `metrics`: unknown metric {m!r} for task halting; allowed: {', '.join(cls.metric_names)}")
        cls.mode_specs(cfg)  # `params` are the shared halting parameters, checked there

    def __init__(self, config):
        self.config = config
        self.p = {}
        self.specs = self.mode_specs(config)

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        at = _adaptive()
        inputs = [{k: it.get(k) for k in ("question", "answer", "options") if it.get(k) is not None} for it in items]
        rows: list[dict[str, Any]] = [
            {"question": it["question"], "gold": it.get("answer"), "modes": {}} for it in items
        ]
        for label, mode, params in self.specs:
            results = at.run_halting(model, inputs, mode, **params)
            for row, res in zip(rows, results):
                row["modes"][label] = res.to_dict()
        return rows

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        rep = self.config.report
        out: dict[str, Any] = {"n_items": len(rows), "modes": {}}
        for label, _mode, _ in self.specs:
            res = [r["modes"][label] for r in rows if label in r["modes"]]
            if not res:
                continue
            correct = np.array([float(x["correct"]) for x in res if x.get("correct") is not None])
            m: dict[str, Any] = {
                "accuracy": float(correct.mean()) if correct.size else None,
                "mean_tokens": float(np.mean([x["tokens_used"] for x in res])),
                "mean_thinking_tokens": float(np.mean([x["thinking_tokens"] for x in res])),
                "halted": float(np.mean([bool(x["halted"]) for x in res])),
                "mean_probes": float(np.mean([len(x.get("probes") or []) for x in res])),
            }
            m.update(_info_metrics(res))
            if rep.bootstrap and correct.size > 1:
                m["accuracy_ci"] = list(M.bootstrap_ci(np.mean, correct, n_resamples=rep.bootstrap, level=rep.confidence_level, seed=self.config.seed))
            out["modes"][label] = m
        base = next((lab for lab, mode, _ in self.specs if mode == "none"), None)
        if base in out["modes"]:
            b = out["modes"][base]
            for label, m in out["modes"].items():
                if label != base and b["mean_tokens"]:
                    m["token_change_pct"] = 100.0 * (m["mean_tokens"] - b["mean_tokens"]) / b["mean_tokens"]
                if label != base and m["accuracy"] is not None and b["accuracy"] is not None:
                    m["accuracy_change_points"] = 100.0 * (m["accuracy"] - b["accuracy"])
        return out

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        from llminfo.eval import report

        modes = metrics.get("modes", {})
        if not modes:
            return []
        figs = []
        pts = {k: ([v["mean_tokens"]], [v["accuracy"]]) for k, v in modes.items() if v.get("accuracy") is not None}
        if pts:
            figs.append(("Accuracy vs tokens per halting mode", report.plot_xy(pts, "mean tokens used per question", "accuracy")))
        figs.append(("Thinking tokens per mode", report.plot_bars({k: v["mean_thinking_tokens"] for k, v in modes.items()}, "mean thinking tokens")))
        return figs

    def summary(self, metrics: dict[str, Any]) -> str:
        cols = ["accuracy", "mean_tokens", "halted", "info_bias", "token_change_pct", "accuracy_change_points"]
        return summary_table(f"questions: {metrics['n_items']}", "mode", metrics.get("modes", {}), cols, width=24)

    @classmethod
    def method_registry(cls) -> dict[str, Callable[..., Any]]:
        return {m: (lambda **kw: kw) for m in _adaptive().HALTING_MODES}


def _info_metrics(res: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """InfoBias at each item's last probe (all / correct / incorrect) and mean InfoGain per
    probe step ("Think or Not?", Yong et al., 2025); None where no item was probed."""
    out: dict[str, Any] = {}
    last = [(x["info_bias"][-1], x.get("correct")) for x in res if x.get("info_bias")]
    out["info_bias"] = float(np.mean([b for b, _ in last])) if last else None
    for name, want in (("info_bias_correct", True), ("info_bias_incorrect", False)):
        vals = [b for b, c in last if c is want]
        out[name] = float(np.mean(vals)) if vals else None
    gains = [g for x in res for g in (x.get("info_gain") or [])]
    out["info_gain"] = float(np.mean(gains)) if gains else None
    return out
