"""Multi-model runs: a config with `models: [...]` runs once per model, then one side-by-side report.

Each model runs as its own single-model config (`model:` set, output in `output_dir/<model>/`),
so each has its own `results.jsonl` (resumable on its own), `metrics.json` and report. The
top folder gets `metrics.json` (`{"task", "models": {name: that model's metrics}}`),
`report.html` with one table (a row per metric, a column per model) and each model's plots,
and `summary.txt`. Models run one after the other; each is released before the next loads.

`llminfo eval --compare A B` works on these folders too: two models' subfolders, or two
multi-model runs (their metrics are keyed by model).

Example config:

    task: qa-hallucination
    models: [default, gemma3-270m]     # or mappings: {name: ..., backend: vllm}
    dataset: {path: llminfo:factual_qa, limit: 40}
    output_dir: runs/qa_two_models     # → runs/qa_two_models/{default,gemma3-270m}/
"""

from __future__ import annotations

import base64
import gc
import html
import json
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from llminfo.eval.config import EvalConfig, model_configs, model_slug

SUMMARY = "summary.txt"


def run_models(
    config: EvalConfig,
    *,
    resume: bool = True,
    progress: bool = True,
    models: Mapping[str, Any] | None = None,
    log=None,
    dataset: Any = None,
) -> Any:
    """Run `config` once per entry of `config.models`; returns a `RunResult` of the whole run.

    Args:
        config: a validated config naming several models (`models:`).
        resume, progress: as `run_eval`, for every model.
        models (*optional*): ready `LanguageModel`s by model name (tests use it).
        dataset (*optional*): a `datasets.Dataset` / `DatasetDict`, as `run_eval`'s, for every model.

    The returned `RunResult.rows` are every model's rows, each with a `"model"` key;
    `metrics` is `{"task", "models": {name: metrics}}`.
    """
    from llminfo.eval.runner import METRICS, RunResult, run_eval, write_json

    log = log if log is not None else sys.stderr
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_model: dict[str, Any] = {}
    for sub in model_configs(config):
        name = sub.model.name
        print(f"model {name}: results in {sub.output_dir}", file=log)
        ready = (models or {}).get(name)
        per_model[name] = run_eval(sub, resume=resume, progress=progress, model=ready, log=log, dataset=dataset)
        gc.collect()  # the model loaded by run_eval is garbage now: free it before the next one
    metrics = {
        "task": config.task,
        "models": {name: r.metrics for name, r in per_model.items()},
        "output_dirs": {name: str(r.output_dir) for name, r in per_model.items()},
    }
    write_json(out / METRICS, metrics)
    summary = "\n\n".join(f"== {name}\n{r.summary}" for name, r in per_model.items())
    (out / SUMMARY).write_text(summary + "\n", encoding="utf-8")
    report = write_models_report(out, config, per_model) if config.report.html else None
    rows = [{"model": name, **row} for name, r in per_model.items() for row in r.rows]
    return RunResult(
        out,
        rows,
        metrics,
        sum(r.new_items for r in per_model.values()),
        sum(r.resumed_items for r in per_model.values()),
        report,
        summary,
    )


def side_by_side(metrics_by_model: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Flattened metrics as rows `[key, value per model...]` (keys in first-seen order).

    Run bookkeeping (hash, elapsed time, item counts) and the model name are left out.
    """
    from llminfo.eval.tables import flatten

    flat = {name: flatten(dict(m)) for name, m in metrics_by_model.items()}
    skip = {"model", "config_hash", "elapsed_s", "new_items"}
    keys: list[str] = []
    for f in flat.values():
        keys += [k for k in f if k not in keys and k not in skip]
    return list(flat), [[k] + [flat[n].get(k) for n in flat] for k in keys]


def write_models_report(out: Path, config: EvalConfig, per_model: Mapping[str, Any]) -> Path:
    """`report.html` of a multi-model run: one side-by-side table, then each model's plots."""
    from llminfo.eval.report import _CSS
    from llminfo.eval.tasks import get_task

    task_cls = get_task(config.task)
    names, rows = side_by_side({n: r.metrics for n, r in per_model.items()})
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body_rows = "".join(
        "<tr><td>" + html.escape(k) + "</td>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in vals) + "</tr>"
        for k, *vals in rows
    )
    title = f"llminfo eval — {config.task} — {', '.join(names)}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=meta>dataset <code>{html.escape(str(config.dataset.path))}</code> · seed {config.seed} · "
        f"generated {time.strftime('%Y-%m-%d %H:%M:%S')}</p>",
        f"<h2>Metrics</h2><table><tr><th>metric</th>{head}</tr>{body_rows}</table>",
    ]
    for name, r in per_model.items():
        sub = Path(r.output_dir)
        parts.append(f"<h2>{html.escape(name)}</h2>")
        if r.summary:
            parts.append(f"<pre>{html.escape(r.summary)}</pre>")
        sub_cfg = next(c for c in model_configs(config) if c.model.name == name)
        figures = task_cls(sub_cfg).figures(r.rows, r.metrics) if r.rows else []
        for i, (caption, png) in enumerate(figures, 1):
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
                f"<figcaption>{html.escape(name)}: {html.escape(caption)}</figcaption></figure>"
            )
        parts.append(f'<p class=meta>full report: <a href="{html.escape(model_slug(name))}/report.html">'
                     f"{html.escape(str(sub.name))}/report.html</a></p>")
    parts.append("<h2>Config</h2><pre>" + html.escape(json.dumps(config.to_dict(), indent=2, default=str)) + "</pre>")
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return "—" if v != v else f"{v:.4f}"
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) or x is None for x in v):
        return "[" + ", ".join("—" if x is None or x != x else f"{x:.3f}" for x in v) + "]"
    return str(v)
