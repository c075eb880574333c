"""Task registry: a task name → the class that runs it, imported lazily.

A task declares its dataset fields, its task-level `params` (with types and defaults), its
methods (looked up lazily in the analyzers that implement them), and its metrics. The
runner gives it batches of items; it returns one JSON-serialisable row per item, then
computes metrics over all rows and draws its figures.

Example:
    >>> from llminfo.eval.tasks import get_task, task_names
    >>> task_names()
    ['qa-hallucination', 'typical-decoding', 'halting', 'dispersion', 'capacity']
    >>> get_task("qa-hallucination").fields
    {'question': True, 'answers': True, 'context': False, 'answer': False}
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Sequence

from llminfo.eval.config import ConfigError, EvalConfig

_REGISTRY = {
    "qa-hallucination": "llminfo.eval.task_qa:QAHallucinationTask",
    "typical-decoding": "llminfo.eval.task_decoding:TypicalDecodingTask",
    "halting": "llminfo.eval.task_halting:HaltingTask",
    "dispersion": "llminfo.eval.task_dispersion:DispersionTask",
    "capacity": "llminfo.eval.task_capacity:CapacityTask",
}


class TaskUnavailable(ConfigError):
    """The analyzer a task needs is not installed / not written yet."""


def task_names() -> list[str]:
    return list(_REGISTRY)


def get_task(name: str) -> type["Task"]:
    """The task class for `name` (imports its module now). Errors list the known tasks."""
    if name not in _REGISTRY:
        raise ConfigError(f"config key `task`: unknown task {name!r}; one of {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)


class Param:
    """A task-level parameter: its type(s), default and a one-line description."""

    def __init__(self, types: type | tuple[type, ...], default: Any, help: str, check: Callable[[Any], bool] | None = None):
        self.types = types if isinstance(types, tuple) else (types,)
        self.default = default
        self.help = help
        self.check = check


class Task:
    """Base class. Subclasses set the class attributes and implement the four methods."""

    name: str = ""
    fields: dict[str, bool] = {}  # dataset field -> required
    input_field: str = ""  # the field `dataset.template` renders into; default: the first of `fields`
    params: dict[str, Param] = {}
    metric_names: tuple[str, ...] = ()
    default_methods: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "input_field" not in cls.__dict__ and "fields" in cls.__dict__:
            cls.input_field = next(iter(cls.fields), "")

    def __init__(self, config: EvalConfig):
        self.config = config
        self.p = {k: config.params.get(k, spec.default) for k, spec in self.params.items()}

    # -- declared by subclasses -----------------------------------------------------------

    @classmethod
    def method_registry(cls) -> dict[str, Callable[..., Any]]:
        """{method name: factory(**params)}; raises TaskUnavailable if the analyzer is missing."""
        return {}

    def load_items(self) -> list[dict[str, Any]]:
        """The items to run, from `config.dataset` (tasks may filter or read other sources)."""
        from llminfo.eval.datasets import load_items

        return load_items(self.config.dataset, self.fields, seed=self.config.seed, input_field=self.input_field)

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        """(caption, PNG bytes) for the report."""
        return []

    def summary(self, metrics: dict[str, Any]) -> str:
        """A short plain-text table for the terminal."""
        return ""

    # -- shared ---------------------------------------------------------------------------

    def methods(self) -> list[tuple[str, Any]]:
        """Instantiated methods from the config (or the defaults), in config order."""
        registry = self.method_registry()
        chosen = self.config.methods or [type("M", (), {"name": n, "params": {}})() for n in self.default_methods]
        return [(m.name, registry[m.name](**m.params)) for m in chosen]

    @classmethod
    def validate_config(cls, cfg: EvalConfig) -> None:
        """Check `params`, `metrics`, then `methods` (names, parameter names, construction)."""
        for key, value in cfg.params.items():
            if key not in cls.params:
                allowed = ", ".join(cls.params) or "(none)"
                raise ConfigError(f"unknown config key `params.{key}` for task {cls.name}; allowed: {allowed}")
            spec = cls.params[key]
            ok = isinstance(value, spec.types) and not (isinstance(value, bool) and bool not in spec.types)
            if not ok or (spec.check is not None and not spec.check(value)):
                raise ConfigError(f"config key `params.{key}`: {spec.help}; got {value!r}")
        for m in cfg.metrics:
            if m not in cls.metric_names:
                raise ConfigError(
                    f"config key `metrics`: unknown metric {m!r} for task {cls.name}; allowed: {', '.join(cls.metric_names)}"
                )
        cls.validate_methods(cfg)

    @classmethod
    def validate_methods(cls, cfg: EvalConfig) -> None:
        if not cfg.methods:
            return
        registry = cls.method_registry()
        for i, m in enumerate(cfg.methods):
            if m.name not in registry:
                raise ConfigError(
                    f"config key `methods[{i}]`: unknown method {m.name!r} for task {cls.name}; "
                    f"available: {', '.join(registry)}"
                )
            factory = registry[m.name]
            check_kwargs(factory, m.params, f"methods[{i}] ({m.name})")
            try:
                factory(**m.params)
            except (TypeError, ValueError) as e:
                raise ConfigError(f"config key `methods[{i}]` ({m.name}): {e}") from None


def check_kwargs(factory: Callable[..., Any], params: dict[str, Any], where: str) -> None:
    """Unknown parameter names → ConfigError listing the accepted ones."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    accepted = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for k in params:
        if k not in accepted:
            raise ConfigError(f"config key `{where}`: unknown parameter {k!r}; accepts: {', '.join(accepted) or '(none)'}")


def fmt(x: Any, digits: int = 3) -> str:
    """Numbers for tables: 3 decimals, NaN/None as '—'."""
    if x is None:
        return "—"
    if isinstance(x, float):
        return "—" if x != x else f"{x:.{digits}f}"
    return str(x)
