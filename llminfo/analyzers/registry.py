"""The one registry of hallucination-risk methods: name -> class, imported lazily.

Every caller that builds a method by name (`HallucinationScorer`, `llminfo score`, the
`qa-hallucination` eval task) reads this table, so adding a method is one new module with a
`HallucinationMethod` subclass plus one line in `_BUILTIN` (or, from outside the package, one
`register_method` call). Importing this module imports no method module: a class is imported
the first time it is asked for.

Example:
    >>> from llminfo.analyzers.registry import available_methods, method_names
    >>> "semantic_entropy" in method_names()
    True
    >>> available_methods()["msp"].__name__
    'MaxSequenceProbability'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llminfo.analyzers.base import HallucinationMethod

# name -> "module:Class". One line per method; the name is the class's `name` attribute.
_BUILTIN: dict[str, str] = {
    "msp": "llminfo.analyzers.baselines:MaxSequenceProbability",
    "perplexity": "llminfo.analyzers.baselines:Perplexity",
    "mean_entropy": "llminfo.analyzers.baselines:MeanTokenEntropy",
    "semantic_entropy": "llminfo.analyzers.semantic_entropy:SemanticEntropy",
    "discrete_semantic_entropy": "llminfo.analyzers.semantic_entropy:DiscreteSemanticEntropy",
    "predictive_entropy": "llminfo.analyzers.semantic_entropy:PredictiveEntropy",
    "p_true": "llminfo.analyzers.semantic_entropy:PTrue",
    "iterative_mi": "llminfo.analyzers.iterative_mi:IterativePromptingMI",
    "edfl": "llminfo.analyzers.edfl:EDFLRiskAnalyzer",
    "edfl_answer": "llminfo.analyzers.edfl:EDFLAnswerRiskAnalyzer",
    "hidden_probe": "llminfo.analyzers.probe:HiddenStateProbe",
    "query_probe": "llminfo.analyzers.probe:QueryProbe",
    "prompt_disagreement": "llminfo.analyzers.consistency:PromptDisagreement",
}

#: The methods `HallucinationScorer` and `llminfo score` run when none are named: those of the
#: calibrators shipped for the embedded models — the white-box baselines, llminfo's EDFL answer
#: event, the hidden-state probe (a probe ships for every embedded model; on other models
#: or backends without hidden states its score is NaN and the risk uses the others) and
#: llminfo's cross-prompt disagreement (one more greedy answer, under another prompt) — combined
#: by the procedure chosen by cross-validation on the shipped factual set
#: (scripts/fit_calibrator.py, BENCHMARKS.md); a test keeps the two in sync.
DEFAULT_METHODS: tuple[str, ...] = ("msp", "perplexity", "mean_entropy", "edfl_answer", "hidden_probe", "prompt_disagreement")

_registry: dict[str, "str | type[HallucinationMethod]"] = dict(_BUILTIN)


def method_names() -> list[str]:
    """Every registered method name, in registration order (imports nothing)."""
    return list(_registry)


def get_method_class(name: str) -> "type[HallucinationMethod]":
    """The class registered under `name` (imported on first use).

    Raises:
        ValueError: `name` is not registered (the message lists the registered names).
    """
    if not isinstance(name, str) or name not in _registry:
        raise ValueError(f"unknown method {name!r}; choose from {sorted(_registry)}")
    target = _registry[name]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _check(name, target)
        _registry[name] = target
    return target


def available_methods() -> "dict[str, type[HallucinationMethod]]":
    """`{name: class}` of every registered method (imports their modules)."""
    return {name: get_method_class(name) for name in list(_registry)}


def register_method(name: str, target: "str | type[HallucinationMethod]", *, replace: bool = False) -> None:
    """Register a method under `name`.

    Args:
        name: the name callers build it by; must equal the class's `name` attribute.
        target: the class, or `"package.module:ClassName"` to import it lazily.
        replace (`bool`, defaults to False): allow replacing an existing registration.

    Example:
        >>> from llminfo.analyzers.registry import register_method, unregister_method
        >>> register_method("my_method", "my_package.my_module:MyMethod")
        >>> unregister_method("my_method")
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"`name` has to be a non-empty string, got {name!r}")
    if name in _registry and not replace:
        raise ValueError(f"method {name!r} is already registered (pass replace=True to replace it)")
    if isinstance(target, str):
        if target.count(":") != 1 or not all(target.split(":")):
            raise ValueError(f"`target` has to be a class or 'module:ClassName', got {target!r}")
    else:
        _check(name, target)
    _registry[name] = target


def unregister_method(name: str) -> None:
    """Remove a registration made by `register_method` (built-in names come back on re-register)."""
    if name not in _registry:
        raise ValueError(f"unknown method {name!r}; choose from {sorted(_registry)}")
    del _registry[name]


def _check(name: str, cls: object) -> None:
    from llminfo.analyzers.base import HallucinationMethod

    if not (isinstance(cls, type) and issubclass(cls, HallucinationMethod)):
        raise TypeError(f"method {name!r}: {cls!r} is not a HallucinationMethod subclass")
    if cls.name != name:
        raise ValueError(f"method {name!r}: the class {cls.__name__} is named {cls.name!r}; register it under that name")
