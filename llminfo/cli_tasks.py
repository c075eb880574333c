"""`llminfo dispersion` and `llminfo capacity`: flags → an eval config → `llminfo.eval.runner.run_eval`.

The commands add no orchestration or plotting of their own: the eval tasks
(`eval/task_dispersion.py`, `eval/task_capacity.py`) run the items, and the runner writes
`results.jsonl` (appended per batch, resumable, never mixed with another config's rows),
`metrics.json`, `report.html` and its PNG plots (`eval/report.py`, the one plotting home).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from llminfo import cli
from llminfo.errors import UserError


def add_dispersion(sub) -> None:
    p = cli._sub(sub, "dispersion", cmd_dispersion, examples=[
        "llminfo dispersion --task sentiment --orderings 4 --n-examples 2,4,8 \\\n"
        "      --queries 8 --output runs/disp",
        "llminfo dispersion --config eval_configs/dispersion.yaml --queries 4"])
    p.add_argument("--data", default=None, help="JSONL with task/text/label per line (default: shipped icl_classification)")
    p.add_argument("--config", default=None, help="an eval config (task: dispersion); flags given here override it")
    cli.add_model_args(p, default=None)
    p.add_argument("--task", action="append", default=None, help="ICL task(s) to run (repeatable; default: all in the data)")
    p.add_argument("--tasks-file", default=None, help="JSON task descriptions (default: shipped icl_tasks.json)")
    p.add_argument("--orderings", type=int, default=None, help="orderings per query, identity included (default 8)")
    p.add_argument("--shuffle", choices=["banded", "full", "tail"], default=None, help="default banded (the paper's: shuffled within bands)")
    p.add_argument("--band", type=int, default=None, help="examples per band (banded, default 4) or shuffled tail length (tail)")
    p.add_argument("--n-examples", default=None, help="comma-separated numbers of examples (default 2,4,8)")
    p.add_argument("--queries", type=int, default=None, help="queries per task (default: all rows of the task)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--output", default=None, help="output folder (or `output_dir` of the config)")
    p.add_argument("--no-resume", action="store_true", help="move a previous results.jsonl aside instead of resuming")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _base_config(args: argparse.Namespace, task: str) -> dict[str, Any]:
    """The config dict: the --config file's (if any), else the task's defaults."""
    if not args.config:
        return {"task": task, "dataset": {}, "params": {}}
    from llminfo.eval.config import load_config

    raw = load_config(args.config, validate_task=False).to_dict()
    if raw["task"] != task:
        raise UserError(f"{args.config}: config key `task` is {raw['task']!r}, expected {task!r}")
    return raw


def _set_model(raw: dict[str, Any], args: argparse.Namespace, name: str | None) -> None:
    model = raw.setdefault("model", {})
    if name is not None:
        model.update(name=name, backend=args.backend, dtype=args.dtype)


def cmd_dispersion(args: argparse.Namespace) -> int:
    """Permutation dispersion of in-context classification.

    Order sensitivity of in-context learning ('LLMs are Bayesian, in Expectation, not in Realization',
    2025): per query, the spread of P(label) over orderings of the examples, the Jensen gap,
    identity-order vs permutation-averaged accuracy and log-loss, and dispersion vs n. Runs the eval task
    `dispersion` once per ICL task: results.jsonl (resumable), metrics.json, report.html and its plots in
    --output (in --output/TASK when several tasks run).
    """
    from llminfo.eval.runner import run_eval

    raw = _base_config(args, "dispersion")
    _set_model(raw, args, args.model)
    params = raw.setdefault("params", {})
    if args.n_examples is not None:
        try:
            params["n_examples"] = [int(x) for x in args.n_examples.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"--n-examples has to be comma-separated integers, got {args.n_examples!r}") from None
    for flag in ("orderings", "shuffle", "band", "queries", "tasks_file"):
        if getattr(args, flag) is not None:
            params[flag] = getattr(args, flag)
    if params.get("tasks_file"):
        _check_tasks_file(params["tasks_file"])
    if args.data is not None or not raw["dataset"].get("path"):
        raw["dataset"]["path"] = args.data or "llminfo:icl_classification"
    if args.seed is not None:
        raw["seed"] = args.seed
    output = args.output or (raw.get("output_dir") if args.config else None)
    if not output:
        raise UserError("--output DIR is required (or `output_dir` in the config)")
    tasks = args.task or ([params["task"]] if params.get("task") else _icl_tasks_in(raw))
    configs = []
    for name in tasks:  # every config checked before the model loads
        one = json.loads(json.dumps(raw))
        one["params"]["task"] = name
        one["output_dir"] = output if len(tasks) == 1 else f"{output}/{name}"
        configs.append(_config(one))
    m = configs[0].model
    model = cli.load_model_from_args(argparse.Namespace(model=m.name, backend=m.backend, dtype=m.dtype, device=m.device,
                                                        engine_args=m.engine_args))
    for cfg in configs:
        print(f"== ICL task {cfg.params['task']}", file=sys.stderr)
        cli._report_run(run_eval(cfg, resume=not args.no_resume, progress=not args.no_progress, model=model))
    return 0


_FLAGS = {"params.orderings": "--orderings", "params.shuffle": "--shuffle", "params.band": "--band",
          "params.queries": "--queries", "params.n_examples": "--n-examples", "params.task": "--task",
          "params.tasks_file": "--tasks-file", "params.max_tokens": "--max-tokens", "params.bias": "--bias",
          "params.max_samples": "--max-samples", "batch_size": "--batch-size", "dataset.limit": "--limit",
          "dataset.path": "--data", "seed": "--seed"}


def _config(raw: dict[str, Any]):
    """The checked config (its task has read the dataset; no model yet); an error about a key
    that a flag sets names the flag too."""
    from llminfo.eval.config import ConfigError, config_from_dict

    try:
        return _checked(config_from_dict(raw))
    except ConfigError as e:
        msg = str(e)
        for key, flag in _FLAGS.items():
            msg = msg.replace(f"config key `{key}`", f"{flag} (config key `{key}`)")
        raise ConfigError(msg) from None


def _checked(cfg):
    """`cfg` after its task has read the dataset and the output folder was checked (no model yet)."""
    from llminfo.eval.tasks import get_task
    from llminfo.fileio import check_output_dir

    check_output_dir(cfg.output_dir, "--output")
    get_task(cfg.task)(cfg).load_items()
    return cfg


def _check_tasks_file(path: str) -> None:
    from llminfo.analyzers.dispersion_io import load_icl_tasks

    try:
        load_icl_tasks(path)
    except (OSError, ValueError, TypeError, KeyError) as e:  # missing, not JSON, or not task descriptions
        raise UserError(f"--tasks-file {path!r}: {type(e).__name__}: {e}") from None


def _icl_tasks_in(raw: dict[str, Any]) -> list[str]:
    """The ICL task names in the dataset's task column (all of them run by default)."""
    from llminfo.eval.config import DatasetConfig
    from llminfo.eval.datasets import load_rows

    ds = DatasetConfig(**{k: v for k, v in raw["dataset"].items() if k in DatasetConfig.__dataclass_fields__})
    col = ds.fields.get("task", "task")
    names = sorted({str(r[col]) for r in load_rows(ds) if r.get(col) not in (None, "")})
    if not names:
        raise UserError(f"--data {ds.path!r}: rows have no `{col}` column; name the ICL task with --task")
    return names


def add_capacity(sub) -> None:
    p = cli._sub(sub, "capacity", cmd_capacity, examples=[
        "llminfo capacity --max-tokens 256 --max-samples 1 --limit 8 --plot ic.png",
        "llminfo capacity --model default --model path/to/other_model \\\n"
        "      --data my_corpus/ --json"])
    p.add_argument("--model", action="append", default=None, help="model to measure (repeatable; default: default)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="inference backend (default: hf)")
    p.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16", "float16"], help="weights dtype")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", default=None, help="a .txt/.jsonl file or a folder of them (default: the shipped corpus)")
    src.add_argument("--dataset", default=None, help="a `datasets` dataset, NAME[:CONFIG[:SPLIT]]")
    p.add_argument("--text-field", default="text", help="text column of .jsonl rows / dataset rows (default: text)")
    p.add_argument("--max-tokens", type=int, default=1024, help="L, tokens per sample (default 1024)")
    p.add_argument("--max-samples", type=int, default=0, help="samples (windows of L tokens) per text piece (default 0 = all)")
    p.add_argument("--limit", type=int, default=None, help="at most this many documents / text pieces")
    p.add_argument("--batch-size", type=int, default=4, help="documents per batch (default 4)")
    p.add_argument("--bias", type=float, default=None, help="dataset constant b (default: the paper's for the corpus: -24 mixed_text, -18.7 Ch-FineWeb-Edu, else -27)")
    p.add_argument("--flops", default="paper", choices=["paper", "llminfo"],
                   help="FLOPs count: paper (Yuan et al.'s, at L; default) or llminfo (finer; sliding-window layers at their span)")
    p.add_argument("--output", default="runs/capacity", help="output folder, one subfolder per model (default runs/capacity)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--plot", default=None, metavar="PNG", help="also plot IC against FLOPs per token")
    p.add_argument("--no-resume", action="store_true", help="move previous results aside instead of resuming")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.")[-60:] or "model"


def cmd_capacity(args: argparse.Namespace) -> int:
    """Information capacity: compression per unit of compute.

    Information capacity (Yuan et al., 2025): over a text corpus, text bits per token (TS), model NLL bits
    per token, bits per byte, decode FLOPs per token F and IC = (TS - NLL + b) / log2 F. Runs the eval
    task `capacity` once per --model (results in --output/MODEL: results.jsonl, metrics.json,
    report.html); several --model flags compare models in one table.
    """
    from llminfo.eval.runner import run_eval
    from llminfo.fileio import check_output_file

    if args.plot:
        check_output_file(args.plot, "--plot")
    names = args.model or ["default"]
    dataset: dict[str, Any] = {"path": args.data or "llminfo:corpus", "fields": {"text": args.text_field}}
    if args.dataset:
        path, _, rest = args.dataset.partition(":")
        config_name, _, split = rest.partition(":")
        dataset.update(path=path, name=config_name or None, split=split or "train")
    if args.limit is not None:
        dataset["limit"] = args.limit
    configs = []
    for name in names:  # every config checked before a model loads
        raw = {"task": "capacity", "model": {"name": name, "backend": args.backend, "dtype": args.dtype},
               "dataset": dict(dataset), "batch_size": args.batch_size, "output_dir": f"{args.output}/{_slug(name)}",
               "params": {"max_tokens": args.max_tokens, "bias": args.bias, "max_samples": args.max_samples, "flops": args.flops}}
        configs.append(_config(raw))
    results = []
    for name, cfg in zip(names, configs):
        model = cli._load_model(name, args.backend, args.dtype)
        run = run_eval(cfg, resume=not args.no_resume, progress=not args.no_progress, model=model)
        results.append({"model": getattr(model, "name", None) or name, "output_dir": str(run.output_dir),
                        **{k: v for k, v in run.metrics.items() if k not in ("task", "model", "config_hash")}})
    from llminfo.eval.task_capacity import capacity_table, plot_capacity

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(capacity_table([{**r, "max_tokens": args.max_tokens} for r in results], configs[0].dataset.path))
    if args.plot:
        plot_capacity(results, args.plot)  # IC against log2 F, ranked table's points
    return 0
