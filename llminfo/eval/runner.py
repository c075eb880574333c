"""Run an evaluation config: batches of items → `results.jsonl` → `metrics.json` → report.

Every finished batch is appended to `<output_dir>/results.jsonl` (one row per item, with
the config hash) and flushed to disk, so a run killed at any point loses at most the
batch in flight. Rerunning the same config resumes: items whose key is already in the file
are skipped. A file written by a different config is never mixed with new rows — the run
stops and says to pass `--no-resume` (which moves the old file aside, never deletes it) or
choose another output folder. Metrics and the report are always computed from the file.

Example:
    >>> from llminfo.eval.config import load_config
    >>> from llminfo.eval.runner import run_eval
    >>> result = run_eval(load_config("eval_configs/quickstart.yaml"))  # doctest: +SKIP
    >>> result.metrics["methods"]["semantic_entropy"]["auroc"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llminfo.errors import UserError
from llminfo.eval.config import ConfigError, EvalConfig
from llminfo.eval.tables import flatten
from llminfo.fileio import atomic_write_text

RESULTS = "results.jsonl"
METRICS = "metrics.json"
CONFIG_COPY = "config.json"


@dataclass
class RunResult:
    output_dir: Path
    rows: list[dict[str, Any]]
    metrics: dict[str, Any]
    new_items: int
    resumed_items: int
    report_path: Path | None
    summary: str = ""

    def to_pandas(self) -> Any:
        """The rows as a `pandas.DataFrame`, one per item; nested dicts one level deep become
        columns (`scores.msp`, `scores.semantic_entropy`, ...).

        Example:
            >>> df = result.to_pandas()  # doctest: +SKIP
            >>> df[["question", "correct", "scores.msp"]].head()  # doctest: +SKIP
        """
        import pandas as pd

        return pd.json_normalize(self.rows, max_level=1)


def run_eval(
    config: EvalConfig,
    *,
    resume: bool = True,
    progress: bool = True,
    model: Any = None,
    log=None,
    dataset: Any = None,
) -> RunResult:
    """Run (or resume) `config`; returns the rows, the metrics and where the report is.

    Args:
        config: a validated config (`load_config`).
        resume (`bool`, defaults to `True`): keep rows already in `results.jsonl`; with
            `False` an existing file is renamed to `results.<time>.jsonl.bak` first.
        progress (`bool`): show a tqdm bar (items, rate, ETA) on stderr.
        model (*optional*): a ready `LanguageModel` (skips `load_model`; tests use it).
        dataset (*optional*): a `datasets.Dataset` or `DatasetDict` (its `dataset.split`) to
            run on instead of reading `config.dataset.path`, which then only names the data.
            Its fingerprint joins the config hash, so a run never resumes on other data.
    """
    from llminfo.analyzers.score_file import scored_chunks
    from llminfo.eval.tasks import get_task
    from llminfo.fileio import check_output_dir, exclusive_output

    log = log if log is not None else sys.stderr
    started = time.time()
    task_cls = get_task(config.task)
    task_cls.validate_config(config)
    out = check_output_dir(config.output_dir, "config key `output_dir`")
    with _dataset_context(dataset):
        task = task_cls(config)
        items = task.load_items()
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS
    chash = config.config_hash()
    if dataset is not None:
        chash = hashlib.sha256(f"{chash}:{dataset_fingerprint(dataset)}".encode()).hexdigest()[:16]
    with exclusive_output(path, "config key `output_dir`"):
        if not resume and path.exists():
            backup = out / f"results.{time.strftime('%Y%m%d-%H%M%S')}.jsonl.bak"
            path.rename(backup)
            print(f"moved the previous results to {backup}", file=log)
        done = read_results(path, chash, log=log)
        item_hashes = {it["key"]: item_hash(it) for it in items}
        changed = [k for k, row in done.items() if k in item_hashes and row.get("item_sha256", item_hashes[k]) != item_hashes[k]]
        if changed:
            raise ConfigError(
                f"{path}: the dataset changed since these results were written ({len(changed)} item(s) differ, e.g. "
                f"{', '.join(map(str, changed[:3]))}); rerun with --no-resume (the old file is kept as .bak) or choose "
                "another --output-dir"
            )
        atomic_write_text(out / CONFIG_COPY, json.dumps({"config_hash": chash, **config.to_dict()}, indent=2, default=str))
        keys = [it["key"] for it in items]
        todo = [it for it in items if it["key"] not in done]
        if todo and model is None and config.engine is None:
            model = load_model_from_config(config)
        made_by = producer(config)
        bar = _progress(len(items), len(items) - len(todo), progress)

        def run(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            rows = task.run_batch(model, batch)
            if len(rows) != len(batch):
                raise RuntimeError(f"task {task.name} returned {len(rows)} rows for {len(batch)} items")
            return rows

        failed = 0
        try:
            with open(path, "a", encoding="utf-8") as f:
                # An item that fails (too long for the context, ...) is reported and skipped; a rerun retries it.
                for batch, rows, consumed in _scored_chunks(todo, config, run, log):
                    failed += consumed - len(batch)
                    lines = []
                    for it, row in zip(batch, rows):
                        row = {"key": it["key"], **row, "config_hash": chash, "item_sha256": item_hashes[it["key"]],
                               "producer": made_by}
                        done[it["key"]] = row
                        lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False, default=_json_default) + "\n")
                    f.write("".join(lines))  # serialised first: a bad value never leaves half a batch
                    f.flush()
                    os.fsync(f.fileno())
                    bar.update(consumed)
        finally:
            bar.close()
    rows = [done[k] for k in keys if k in done]
    if failed:
        print(f"{failed} item(s) failed and were skipped (reported above); rerun to retry them", file=log)
    metrics = task.compute_metrics(rows)
    metrics = {
        "task": config.task,
        "model": config.model.name,
        "dataset": config.dataset.path,
        "config_hash": chash,
        "seed": config.seed,
        **metrics,
        "elapsed_s": round(time.time() - started, 2),
        "new_items": len(todo) - failed,
        "failed_items": failed,
    }
    write_json(out / METRICS, metrics)
    summary = task.summary(metrics) if rows else ""
    report_path = None
    if config.report.html:
        from llminfo.eval.report import write_report

        report_path = write_report(out, config, metrics, task.figures(rows, metrics), summary)
    return RunResult(out, rows, metrics, len(todo) - failed, len(items) - len(todo), report_path, summary)


def _scored_chunks(todo: list[dict[str, Any]], config: EvalConfig, run: Any, log: Any):
    """(items, rows, items consumed) per batch: in this process, or on Ray actors when the
    config has an `engine` (`llminfo.scale.ray_eval`); failing items are reported and skipped."""
    from llminfo.analyzers.score_file import scored_chunks

    warn = lambda msg: print(msg, file=log)  # noqa: E731
    describe = lambda it: f"{config.dataset.path}: item {it['key']!r}"  # noqa: E731
    if config.engine is not None and todo:
        from llminfo.scale.ray_eval import eval_batches_on_ray

        return eval_batches_on_ray(config, todo, warn=warn, describe=describe)
    return scored_chunks(todo, config.batch_size, run, warn=warn, describe=describe)


def item_hash(item: dict[str, Any]) -> str:
    """sha256 (16 hex) of an item's content: a resumed run refuses rows of edited items."""
    blob = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def producer(config: EvalConfig) -> dict[str, Any]:
    """What produced a row: llminfo version, model, task and methods with all their parameters."""
    from llminfo import __version__
    from llminfo.analyzers.score_file import effective_params
    from llminfo.eval.tasks import get_task

    task = get_task(config.task)
    registry = task.method_registry() if config.methods or task.default_methods else {}
    chosen = [(m.name, m.params) for m in config.methods] or [(n, {}) for n in task.default_methods]

    return {
        "llminfo": __version__,
        "model": config.model.name,
        "backend": config.model.backend,
        "task": config.task,
        "methods": [{"name": name, "params": effective_params(registry.get(name), params)} for name, params in chosen],
        "params": config.params,
        "seed": config.seed,
    }


def _dataset_context(dataset: Any) -> Any:
    if dataset is None:
        return contextlib.nullcontext()
    from llminfo.eval.datasets import using_dataset

    return using_dataset(dataset)


def dataset_fingerprint(dataset: Any) -> str:
    """`datasets`' content fingerprint of a Dataset (of every split of a DatasetDict)."""
    splits = dataset.items() if hasattr(dataset, "items") else [("", dataset)]
    return ",".join(f"{name}={getattr(ds, '_fingerprint', '')}" for name, ds in splits)


def load_model_from_config(config: EvalConfig) -> Any:
    from llminfo.models import load_model

    m = config.model
    placement = {"device_map": m.device_map} if m.device_map is not None else {}
    try:
        return load_model(m.name, backend=m.backend, dtype=m.dtype, device=m.device, **placement, **m.engine_args)
    except (OSError, ImportError) as e:
        raise ConfigError(f"config key `model.name`: could not load {m.name!r}: {e}") from None
    except (TypeError, ValueError) as e:  # load_model's own checks of backend/engine arguments
        raise ConfigError(f"config key `model`: could not load {m.name!r}: {e}") from None


def read_results(path: Path, config_hash: str, log=None) -> dict[str, dict[str, Any]]:
    """Rows already written, by key. A torn last line (a kill mid-write) is cut off.

    Raises:
        ConfigError: the file holds rows of a different config.
    """
    if not path.exists():
        return {}
    raw = path.read_bytes()
    rows: dict[str, dict[str, Any]] = {}
    offset = 0
    for i, line in enumerate(raw.splitlines(keepends=True)):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if offset + len(line) == len(raw) and not line.endswith(b"\n"):
                    print(f"{path}: dropping an incomplete last line (the previous run was killed mid-write)", file=log or sys.stderr)
                    with open(path, "r+b") as f:
                        f.truncate(offset)
                    break
                raise ConfigError(f"{path}: line {i + 1} is not valid JSON; fix or move the file away") from None
            if row.get("config_hash") != config_hash:
                raise ConfigError(
                    f"{path} holds results of a different config (hash {row.get('config_hash')}, now {config_hash}); "
                    "rerun with --no-resume to start over (the old file is kept as .bak) or choose another --output-dir"
                )
            rows[row["key"]] = row
        offset += len(line)
    return rows


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (tmp + rename); NaN becomes null."""
    atomic_write_text(path, json.dumps(_nan_to_none(data), indent=2, default=_json_default) + "\n")


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_nan_to_none(v) for v in x]
    return x


def _json_default(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        v = x.item()
        return None if isinstance(v, float) and v != v else v
    if isinstance(x, np.ndarray):
        return _nan_to_none(x.tolist())
    if hasattr(x, "to_dict"):
        return x.to_dict()
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="item", desc="eval", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def compare_runs(run_a: str | Path, run_b: str | Path) -> str:
    """A side-by-side table of two runs' metrics (numbers only), with B − A."""
    tables = []
    for run in (run_a, run_b):
        p = Path(run)
        p = p / METRICS if p.is_dir() else p
        if not p.is_file():
            raise UserError(f"no {METRICS} in {str(run)!r}: is it an eval output folder?")
        tables.append(flatten(json.loads(p.read_text())))
    a, b = tables
    keys = list(a) + [k for k in b if k not in a]
    width = max([len(k) for k in keys] + [6])
    lines = [f"{'metric':<{width}}  {'A':>10}  {'B':>10}  {'B − A':>10}", "-" * (width + 38)]
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, list) or isinstance(vb, list) or k in ("elapsed_s", "new_items", "failed_items"):
            continue
        delta = vb - va if _num(va) and _num(vb) else None
        lines.append(f"{k:<{width}}  {_cell(va):>10}  {_cell(vb):>10}  {_cell(delta, signed=True):>10}")
    return "\n".join(lines)


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _cell(x: Any, signed: bool = False) -> str:
    if x is None:
        return "—"
    if _num(x):
        return f"{x:+.4f}" if signed else (f"{x:.4f}" if isinstance(x, float) else str(x))
    s = str(x)
    return s if len(s) <= 10 else s[:9] + "…"

