"""`dispersion`: how much the in-context prediction depends on the order of the examples.

Items are the queries (rows with `text`, `label` and, for multi-task files, `task`); for
each query and each n in `params.n_examples` the context examples are drawn (seeded, nested
across n) from the *other* rows of the same ICL task, and
`llminfo.analyzers.dispersion.PermutationDispersion` reads the label distribution under
`orderings` orderings ("LLMs are Bayesian, in Expectation, not in Realization", 2025),
banded by default as the paper (examples shuffled within bands of `band`).
Metrics (`dispersion_summary.summarize`) per n: the paper's dispersion mean |q_π − q̄| with
its interval, the self-consistency Jensen gap, the martingale-violation test against
c·ln n / n (`martingale_c`), the CoT rule k* with its fitted constant (`cot_eps`); overall the
a + b·ln n fit with b's interval (`fit_mad`); extras: accuracy and log-loss of the identity
order vs the permutation average, KL-dispersion, the Jensen gap at the gold label.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from llminfo.eval.config import ConfigError
from llminfo.eval.tasks import Param, Task, fmt


def _dispersion():
    from llminfo.analyzers import dispersion  # imported when the task runs

    return dispersion


def _positive_ints(x: Any) -> bool:
    return isinstance(x, list) and len(x) > 0 and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in x)


class DispersionTask(Task):
    name = "dispersion"
    fields = {"text": True, "label": True, "task": False}
    params = {
        "task": Param(str, "", "the ICL task to run (a name in icl_tasks.json, e.g. sentiment): a string"),
        "queries": Param(int, 0, "queries to evaluate (0 = all rows of the ICL task, or dataset.limit): an integer >= 0", lambda x: x >= 0),
        "tasks_file": Param(str, "", "a JSON file of ICL task descriptions (default: the shipped icl_tasks.json): a path"),
        "n_examples": Param(list, [2, 4, 8], "numbers of in-context examples: a list of integers >= 1", _positive_ints),
        "orderings": Param(int, 8, "orderings per query: an integer >= 1", lambda x: x >= 1),
        "shuffle": Param(str, "banded", "how orderings are drawn: banded (the paper), full or tail", lambda x: x in ("banded", "full", "tail")),
        "band": Param(int, 0, "examples per band (banded) or shuffled tail length (tail); 0 = default: an integer >= 0", lambda x: x >= 0),
        "martingale_c": Param((int, float), 1.0, "the constant c of the martingale bound c·ln n / n: a number > 0", lambda x: x > 0),
        "cot_eps": Param(float, 0.05, "ε of the CoT rule k* = c·√n·ln(1/ε): a float in (0, 1)", lambda x: 0 < x < 1),
    }
    metric_names = ("accuracy", "logloss", "kl_dispersion", "jensen_gap", "mad", "martingale", "cot")

    @classmethod
    def validate_methods(cls, cfg) -> None:
        if cfg.methods:
            raise ConfigError("config key `methods`: task dispersion has no methods; set `params` (orderings, n_examples, shuffle)")
        cls._icl_task(cfg)

    @classmethod
    def _icl_task(cls, cfg) -> Any:
        from llminfo.analyzers.dispersion_io import load_icl_tasks

        name = cfg.params.get("task", "")
        tasks = load_icl_tasks(cfg.params.get("tasks_file") or None)
        if name not in tasks:
            raise ConfigError(f"config key `params.task`: {name!r} is not a known ICL task; known: {', '.join(tasks) or '(none)'}")
        return tasks[name]

    def __init__(self, config):
        from llminfo.eval.datasets import load_rows

        super().__init__(config)
        self.icl = self._icl_task(config)
        fmap = {f: config.dataset.fields.get(f, f) for f in ("text", "label", "task")}
        rows = load_rows(config.dataset)
        if rows and fmap["task"] in rows[0]:
            rows = [r for r in rows if r.get(fmap["task"]) == self.icl.name]
        for i, r in enumerate(rows, 1):
            for f in ("text", "label"):
                if r.get(fmap[f]) in (None, ""):
                    raise ConfigError(f"{config.dataset.path}: row {i}: required field {f!r} (column {fmap[f]!r}) is missing or empty")
        self.pool = [(str(r[fmap["text"]]), self.icl.label_of(r[fmap["label"]])) for r in rows]
        if len(self.pool) < max(self.p["n_examples"]) + 1:
            raise ConfigError(f"config key `params.n_examples`: ICL task {self.icl.name!r} has only {len(self.pool)} rows")
        self.analyzer = None

    def load_items(self) -> list[dict[str, Any]]:
        from llminfo.eval.datasets import load_items

        col = self.config.dataset.fields.get("task", "task")
        return load_items(
            self.config.dataset, self.fields, seed=self.config.seed, input_field=self.input_field,
            row_filter=lambda r: col not in r or r[col] == self.icl.name, extra_limit=self.p["queries"] or None,
        )

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        disp = _dispersion()
        if self.analyzer is None:
            self.analyzer = disp.PermutationDispersion(
                model, orderings=self.p["orderings"], shuffle=self.p["shuffle"], band=self.p["band"] or None, seed=self.config.seed
            )
        ditems, owners = [], []
        for i, it in enumerate(items):
            # Context drawn from the other rows, keyed by the item (batching does not matter).
            rng = np.random.default_rng([self.config.seed, abs(hash_key(it["key"]))])
            label = self.icl.label_of(it["label"])
            pool = [p for p in self.pool if p != (str(it["text"]), label)]
            order = rng.permutation(len(pool))
            for n in sorted(self.p["n_examples"]):
                ditems.append(disp.DispersionItem([pool[k] for k in order[:n]], str(it["text"]), label, id=f"{it['key']}-n{n}"))
                owners.append(i)
        results = self.analyzer.analyze(self.icl, ditems)
        rows: list[dict[str, Any]] = [{"query": it["text"], "label": it["label"], "results": []} for it in items]
        for i, r in zip(owners, results):
            rows[i]["results"].append(r.to_dict())
        return rows

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        disp = _dispersion()
        results = [disp.DispersionResult(**r) for row in rows for r in row["results"]]
        out: dict[str, Any] = {"n_items": len(rows), "icl_task": self.icl.name}
        if results:
            s = disp.summarize(results, level=self.config.report.confidence_level, martingale_c=float(self.p["martingale_c"]), cot_eps=self.p["cot_eps"])
            out["per_n"] = {str(row["n"]): {k: v for k, v in row.items() if k != "n"} for row in s["per_n"]}
            out.update({k: v for k, v in s.items() if k.startswith("fit_") or k in ("martingale", "cot")})
        return out

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        from llminfo.eval import report

        per_n = metrics.get("per_n", {})
        if not per_n:
            return []
        ns = [int(n) for n in per_n]
        curves = {"mean |q_π − q̄| (measured)": (ns, [per_n[str(n)]["mad"] for n in ns]),
                  "martingale bound c·ln n / n": (ns, [per_n[str(n)]["martingale_bound"] for n in ns])}
        fit = metrics.get("fit_mad")
        if fit:
            curves[f"fit {fit['a']:.3f} + {fit['b']:.3f}·ln n"] = (ns, [fit["a"] + fit["b"] * np.log(n) for n in ns])
        figs = [("Dispersion vs number of examples, its a + b·ln n fit and the martingale bound",
                 report.plot_xy(curves, "in-context examples n", "probability", annotate=False)),
                ("KL-dispersion vs number of examples: mean KL(q_k ‖ q̄)",
                 report.plot_xy({"KL dispersion": (ns, [per_n[str(n)]["kl_dispersion"] for n in ns])}, "in-context examples n", "nats"))]
        if "logloss_identity" in per_n[str(ns[0])]:
            figs.append(("Log-loss: identity ordering vs permutation average",
                         report.plot_xy({"identity order": (ns, [per_n[str(n)]["logloss_identity"] for n in ns]),
                                         "permutation average": (ns, [per_n[str(n)]["logloss_average"] for n in ns])},
                                        "in-context examples n", "log-loss (nats)")))
        return figs

    def summary(self, metrics: dict[str, Any]) -> str:
        cols = ["mad", "martingale_bound", "exceeds_bound", "jensen_gap", "optimal_cot_tokens", "accuracy_identity", "accuracy_average"]
        lines = [f"queries: {metrics['n_items']} ({metrics.get('icl_task')})", f"{'n':<4}" + "".join(f"{c:>19}" for c in cols)]
        for n, m in metrics.get("per_n", {}).items():
            lines.append(f"{n:<4}" + "".join(f"{fmt(m.get(c)):>19}" for c in cols))
        fit = metrics.get("fit_mad")
        if fit:
            lines.append(f"fit: mean |q_π − q̄| ≈ {fit['a']:.4f} + {fit['b']:.4f}·ln n, b in [{fit['b_low']:.4f}, {fit['b_high']:.4f}] ({fit['level']:.0%})")
        if "cot" in metrics:
            lines.append(f"CoT rule k* = c·√n·ln(1/ε): fitted c = {metrics['cot']['constant']:.4g} at ε = {metrics['cot']['eps']}")
        return "\n".join(lines)


def hash_key(key: str) -> int:
    import zlib

    return zlib.crc32(key.encode("utf-8"))
