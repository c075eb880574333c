"""Evaluation: YAML configs, datasets, tasks, metrics, a resumable runner and HTML reports.

    llminfo eval eval_configs/quickstart.yaml

Python:

    >>> from llminfo.eval import load_config, run_eval
    >>> result = run_eval(load_config("eval_configs/quickstart.yaml", overrides=["dataset.limit=4"]), progress=False)
    >>> 0 <= result.metrics["accuracy"] <= 1, result.report_path.name, len(result.to_pandas())
    (True, 'report.html', 4)

Modules: `config` (schema + validation), `datasets` (rows → items), `tasks` (registry) and
`task_*` (one per task), `metrics` (AUROC, PRR, AUARC, ECE, ...), `runner`, `report`.
"""

from __future__ import annotations

__all__ = ["load_config", "run_eval", "compare_runs", "ConfigError"]


def __getattr__(name: str):
    # Lazy: `import llminfo.eval.metrics` stays numpy-only.
    if name in ("load_config", "ConfigError"):
        from llminfo.eval import config

        return getattr(config, name)
    if name in ("run_eval", "compare_runs"):
        from llminfo.eval import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'llminfo.eval' has no attribute {name!r}")
