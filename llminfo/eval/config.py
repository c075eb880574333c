"""Evaluation configs: YAML → validated dataclasses, with errors naming the config key.

A config is declarative (lm-evaluation-harness style): which model, which dataset and how
its columns map to the task's fields, which task, which methods with which parameters, how
answers are judged, which metrics. `load_config(path)` parses with `yaml.safe_load`,
applies `--set key=value` overrides, checks every key and type, then asks the task to check
its own parts (method names and parameters, `params`, dataset fields).

Example config (`eval_configs/quickstart.yaml`):

    task: qa-hallucination
    model: {name: default}
    dataset:
      path: llminfo:factual_qa
      limit: 40
    methods: [msp, perplexity, mean_entropy, {name: semantic_entropy, num_samples: 5}]
    matcher: {name: alias}
    seed: 0
    output_dir: runs/quickstart

Example:
    >>> from llminfo.eval.config import load_config
    >>> cfg = load_config("eval_configs/quickstart.yaml", overrides=["dataset.limit=5"])
    >>> cfg.dataset.limit
    5
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from llminfo.errors import UserError


def __getattr__(name: str) -> Any:
    # `TASKS` is read from the task registry (`llminfo.eval.tasks`), which imports this module.
    if name == "TASKS":
        from llminfo.eval.tasks import task_names

        return tuple(task_names())
    raise AttributeError(f"module 'llminfo.eval.config' has no attribute {name!r}")
MATCHERS = ("alias", "exact", "f1")
# Config parts that change what is computed per item; the rest (output place, how many
# items, which metrics/plots) can change between a run and its resumption.
# `models` too: each model of a multi-model config runs as its own config (with `model` set).
_NOT_HASHED = {"output_dir", "metrics", "report", "dataset.limit", "model.device_map", "engine", "models"}


class ConfigError(UserError):
    """A config problem; the message names the key (`dataset.fields.question`)."""


@dataclass
class ModelConfig:
    """`model:` — what `llminfo.models.load_model` gets."""

    name: str = "default"
    backend: Literal["hf", "vllm"] = "hf"
    dtype: Literal["auto", "float32", "bfloat16", "float16", None] = None
    device: str | None = None
    device_map: str | None = None  # HF: "auto" spreads a model larger than one GPU (accelerate)
    engine_args: dict = field(default_factory=dict)


@dataclass
class DatasetConfig:
    """`dataset:` — `path` is a local .jsonl/.json/.csv/.parquet file, a folder written by
    `Dataset.save_to_disk` / `DatasetDict.save_to_disk` (a DatasetDict gives its `split`),
    `llminfo:NAME` for a dataset shipped in the package, or a `datasets.load_dataset` name
    (needs a network unless cached). From Python, `run_eval(config, dataset=...)` takes a
    `datasets.Dataset` / `DatasetDict` object instead (then `path` only names it). `fields` maps the task's field names to column names. `template`
    builds the task's input text from a row: str.format (`"Q: {question}"`) or Jinja
    (`"Q: {{ question }}"`)."""

    path: str = ""
    name: str | None = None
    split: str = "train"
    fields: dict = field(default_factory=dict)
    limit: int | None = None
    shuffle: bool = False
    template: str | None = None
    template_format: Literal["auto", "format", "jinja"] = "auto"


@dataclass
class MethodConfig:
    """One entry of `methods:` — a name and its parameters."""

    name: str
    params: dict = field(default_factory=dict)


@dataclass
class MatcherConfig:
    """`matcher:` — how a model answer is judged against the gold aliases (`llminfo.text`)."""

    name: Literal["alias", "exact", "f1"] = "alias"
    threshold: float = 0.5  # token-F1 at or above this counts as correct (name: f1)


@dataclass
class ReportConfig:
    """`report:` — bootstrap resamples for confidence intervals, coverage levels, plots."""

    bootstrap: int = 1000
    confidence_level: float = 0.95
    coverages: list = field(default_factory=lambda: [0.5, 0.8])
    ece_bins: int = 10
    calibration_folds: int = 5
    html: bool = True


@dataclass
class EvalConfig:
    task: str  # a name of the task registry, `llminfo.eval.tasks.task_names()`
    dataset: DatasetConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    models: list = field(default_factory=list)  # list[ModelConfig]; several = one run per model
    methods: list = field(default_factory=list)  # list[MethodConfig]; empty = the task's defaults
    params: dict = field(default_factory=dict)  # task-level parameters (see the task's PARAMS)
    matcher: MatcherConfig = field(default_factory=MatcherConfig)
    metrics: list = field(default_factory=list)  # empty = all the task offers
    seed: int = 0
    batch_size: int = 8
    output_dir: str = "runs/eval"
    report: ReportConfig = field(default_factory=ReportConfig)
    # `{kind: ray, address?, workers?, gpus_per_worker?, ...}`: run the batches on Ray actors
    # (llminfo.scale.RayEngine); None = in this process. Results never depend on it.
    engine: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        """The config as a dict that `config_from_dict` reads back (a single-model config has no `models`)."""
        d = dataclasses.asdict(self)
        if not d["models"]:
            del d["models"]
        return d

    def config_hash(self) -> str:
        """sha256 (16 hex) of everything that changes per-item results."""
        d = self.to_dict()
        for key in _NOT_HASHED:
            parts = key.split(".")
            target = d
            for p in parts[:-1]:
                target = target[p]
            target.pop(parts[-1], None)
        blob = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# -- parsing ------------------------------------------------------------------------------


def load_config(path: str | Path, overrides: Sequence[str] = (), validate_task: bool = True) -> EvalConfig:
    """Read, override and validate a YAML config. Raises `ConfigError` naming the key.

    Args:
        path: the YAML file.
        overrides: `"dotted.key=value"` strings (value parsed as YAML), applied in order.
        validate_task (`bool`, defaults to `True`): also let the task check methods/params.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} not found")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{p}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the config has to be a mapping of keys (task, model, dataset, ...)")
    for o in overrides:
        apply_override(raw, o)
    if any(o.split("=", 1)[0].strip() == "models" for o in overrides) and not any(
        o.split("=", 1)[0].strip().split(".")[0] == "model" for o in overrides
    ):
        raw.pop("model", None)  # `--set models=[...]` replaces the file's single `model`
    return config_from_dict(raw, validate_task=validate_task)


def config_from_dict(raw: Mapping[str, Any], validate_task: bool = True) -> EvalConfig:
    """Validate a config already parsed into a dict."""
    data = dict(raw)
    if "methods" in data:
        data["methods"] = _methods(data["methods"])
    if "models" in data:
        if "model" in data:
            raise ConfigError("config keys `model` and `models` are exclusive: name one model or a list of models")
        data["models"] = _models(data["models"])
    if "dataset" not in data:
        raise ConfigError("config key `dataset` is required (path, split, fields, limit, template)")
    from llminfo.eval.tasks import get_task, task_names

    if "task" not in data:
        raise ConfigError(f"config key `task` is required; one of {', '.join(task_names())}")
    cfg = _build(EvalConfig, data, "")
    task = get_task(cfg.task)  # unknown names: an error listing the registered tasks
    _check_values(cfg)
    if validate_task:
        task.validate_config(cfg)
    return cfg


def apply_override(raw: dict, override: str) -> None:
    """Apply `a.b.c=value` (value parsed as YAML: `5`, `true`, `[msp, perplexity]`)."""
    import yaml

    if "=" not in override:
        raise ConfigError(f"--set {override!r}: expected key=value, e.g. dataset.limit=10")
    key, value = override.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set {override!r}: empty key part")
    target = raw
    for i, p in enumerate(parts[:-1]):
        nxt = target.get(p)
        if nxt is None:
            nxt = target[p] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"--set {override!r}: `{'.'.join(parts[: i + 1])}` is not a mapping")
        target = nxt
    try:
        target[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"--set {override!r}: value is not valid YAML: {problem}") from None


def _methods(raw: Any) -> list[MethodConfig]:
    if not isinstance(raw, list):
        raise ConfigError(f"config key `methods` has to be a list of names or {{name: ..., params}}, got {raw!r}")
    out = []
    for i, m in enumerate(raw):
        where = f"methods[{i}]"
        if isinstance(m, str):
            out.append(MethodConfig(m))
        elif isinstance(m, dict) and "name" in m:
            name = m["name"]
            if not isinstance(name, str):
                raise ConfigError(f"config key `{where}.name` has to be a string, got {name!r}")
            params = {k: v for k, v in m.items() if k != "name"}
            if isinstance(params.get("params"), dict) and len(params) == 1:
                params = params["params"]
            out.append(MethodConfig(name, params))
        elif isinstance(m, dict) and len(m) == 1 and isinstance(next(iter(m.values())), (dict, type(None))):
            name, params = next(iter(m.items()))
            out.append(MethodConfig(str(name), dict(params or {})))
        else:
            raise ConfigError(f"config key `{where}` has to be a method name or a mapping with `name`, got {m!r}")
    return out


def _models(raw: Any) -> list[ModelConfig]:
    """`models:` — a list of names or `model:`-style mappings; each runs on its own."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"config key `models` has to be a non-empty list of model names or mappings, got {raw!r}")
    out = []
    for i, m in enumerate(raw):
        if isinstance(m, str):
            m = {"name": m}
        out.append(_build(ModelConfig, m, f"models[{i}]"))
    names = [m.name for m in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"config key `models`: {', '.join(dup)} listed twice")
    return out


def model_configs(cfg: EvalConfig) -> list[EvalConfig]:
    """One single-model config per entry of `models` (`output_dir/<model>`); `[cfg]` if it names one model."""
    if not cfg.models:
        return [cfg]
    return [
        dataclasses.replace(cfg, model=m, models=[], output_dir=str(Path(cfg.output_dir) / model_slug(m.name)))
        for m in cfg.models
    ]


def model_slug(name: str) -> str:
    """A folder name for a model: `default`, `gemma3-270m`, `org--model` for hub ids and paths."""
    import re

    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", name.strip().strip("/~.")).strip("-")
    return slug or "model"


def _check_values(cfg: EvalConfig) -> None:
    if not cfg.dataset.path:
        raise ConfigError("config key `dataset.path` is required: a local file, llminfo:NAME or a hub dataset name")
    if cfg.dataset.limit is not None and cfg.dataset.limit < 1:
        raise ConfigError(f"config key `dataset.limit` has to be an integer >= 1, got {cfg.dataset.limit}")
    if cfg.batch_size < 1:
        raise ConfigError(f"config key `batch_size` has to be an integer >= 1, got {cfg.batch_size}")
    for k, v in cfg.dataset.fields.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ConfigError(f"config key `dataset.fields.{k}` has to map a field name to a column name (string)")
    if not 0 <= cfg.matcher.threshold <= 1:
        raise ConfigError(f"config key `matcher.threshold` has to be in [0, 1], got {cfg.matcher.threshold}")
    r = cfg.report
    if r.bootstrap < 0:
        raise ConfigError(f"config key `report.bootstrap` has to be >= 0 (0 = no intervals), got {r.bootstrap}")
    if not 0 < r.confidence_level < 1:
        raise ConfigError(f"config key `report.confidence_level` has to be in (0, 1), got {r.confidence_level}")
    for c in r.coverages:
        if not isinstance(c, (int, float)) or isinstance(c, bool) or not 0 < c <= 1:
            raise ConfigError(f"config key `report.coverages` has to list floats in (0, 1], got {c!r}")
    if r.ece_bins < 1 or r.calibration_folds < 2:
        raise ConfigError("config keys `report.ece_bins` >= 1 and `report.calibration_folds` >= 2")
    if cfg.engine is not None:
        from llminfo.scale.ray_job import RayEngine

        try:
            RayEngine.from_config(cfg.engine, where="engine")
        except ValueError as e:
            raise ConfigError(f"config key {e}") from None
    names = [m.name for m in cfg.methods]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"config key `methods`: {', '.join(sorted(dup))} listed twice")


def _build(cls: type, data: Any, where: str) -> Any:
    """Instantiate dataclass `cls` from `data`, checking keys and types; errors name the key."""
    label = where or "the config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key `{where}` has to be a mapping, got {type(data).__name__} ({data!r})")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        full = f"{where}.{key}" if where else str(key)
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise ConfigError(f"unknown config key `{full}`{hint}; allowed keys in {label}: {', '.join(known)}")
        kwargs[key] = _coerce(hints[key], value, full)
    try:
        return cls(**kwargs)
    except TypeError:
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [r for r in required if r not in kwargs]
        raise ConfigError(f"missing config key(s) in {label}: {', '.join(missing)}") from None


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join("null" if a is None else str(a) for a in args)
            raise ConfigError(f"config key `{key}` has to be one of: {allowed}; got {value!r}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value if value is not None else {}, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key `{key}` has to be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key `{key}` has to be an integer, got {value!r} ({type(value).__name__})")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key `{key}` has to be a number, got {value!r} ({type(value).__name__})")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key `{key}` has to be a string, got {value!r} ({type(value).__name__})")
        return value
    if tp is dict or origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"config key `{key}` has to be a mapping, got {value!r} ({type(value).__name__})")
        return dict(value)
    if tp is list or origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"config key `{key}` has to be a list, got {value!r} ({type(value).__name__})")
        return list(value)
    return value
