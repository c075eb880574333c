"""Reading in-context classification data and task descriptions; plotting dispersion summaries.

Kept apart from `dispersion.py` (the analysis) so that module stays about the method.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from llminfo.analyzers.dispersion import ICLTask


def load_icl_rows(path: str, task: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """(text, label) rows per task from a JSONL file with `task`, `text`, `label` per line
    (`task` optional when `task=` names it). Errors name the file and line."""
    from llminfo.data import json_object

    out: dict[str, list[tuple[str, str]]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            row = json_object(line, where)
            name = row.get("task", task)
            for key, val in (("text", row.get("text")), ("label", row.get("label")), ("task", name)):
                if not isinstance(val, str) or not val.strip():
                    raise ValueError(f"{where}: field `{key}` has to be a non-empty string, got {val!r}")
            if task is None or name == task:
                out.setdefault(name, []).append((row["text"], row["label"]))
    if task is not None and task not in out:
        raise ValueError(f"{path}: no rows for task {task!r}")
    return out


def load_icl_tasks(path: str | None = None) -> dict[str, ICLTask]:
    """Task descriptions from a JSON file (default: the shipped `icl_tasks.json`), {} if absent."""
    import json

    if path is None:
        from llminfo.data import DATA_DIR

        if not (DATA_DIR / "icl_tasks.json").is_file():
            return {}
        path = str(DATA_DIR / "icl_tasks.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec = spec.get("tasks", spec) if isinstance(spec, dict) else spec
    if isinstance(spec, list):  # [{"name": ..., ...}, ...]
        spec = {s.get("name", s.get("task")): s for s in spec}
    return {name: ICLTask.from_dict(name, s) for name, s in spec.items()}


def plot_summary(summary: Mapping[str, Any], path: str, title: str = "") -> None:
    """Dispersion vs n (with the a + b·ln n fit) and log-loss identity vs average; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_n = summary["per_n"]
    ns = np.array([row["n"] for row in per_n], dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    ax = axes[0]
    ax.plot(ns, [row["kl_dispersion"] for row in per_n], "o", label="KL-dispersion (nats)")
    fit = summary.get("fit_kl_dispersion")
    if fit:
        grid = np.linspace(ns.min(), ns.max(), 50)
        ax.plot(grid, fit["a"] + fit["b"] * np.log(grid), "-", label=f"{fit['a']:.3f} + {fit['b']:.3f} ln n")
    if all("std_label" in row for row in per_n):
        ax.plot(ns, [row["std_label"] for row in per_n], "s", label="std q_k(y)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("in-context examples n")
    ax.set_title("dispersion across orderings")
    ax.legend(fontsize=8)
    ax = axes[1]
    if all("logloss_identity" in row for row in per_n):
        ax.plot(ns, [row["logloss_identity"] for row in per_n], "o-", label="identity order")
        ax.plot(ns, [row["logloss_orderings"] for row in per_n], "^--", label="single ordering (mean)")
        ax.plot(ns, [row["logloss_average"] for row in per_n], "s-", label="permutation average")
        ax.set_ylabel("log-loss (nats)")
        ax.legend(fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("in-context examples n")
    ax.set_title("averaging over orderings")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
