"""Analyzers: one module per method; each takes a `LanguageModel` and returns dataclasses.

Names are re-exported lazily (importing `llminfo.analyzers` stays cheap). To add one,
add a line `"ClassName": "module",` to `_EXPORTS`; hallucination methods are exported from
their line in `llminfo.analyzers.registry`.
"""

from __future__ import annotations

import importlib

from llminfo.analyzers.registry import _BUILTIN

_EXPORTS = {
    # hallucination: contract and shared pieces
    "QAItem": "base",
    "MethodResult": "base",
    "HallucinationMethod": "base",
    "SampleCache": "base",
    "builtin_methods": "base",
    # hallucination: the method registry (the methods themselves: below, from the registry)
    "available_methods": "registry",
    "register_method": "registry",
    "cluster_answers": "clustering",
    # hallucination: combined scorer and calibration
    "HallucinationScorer": "scorer",
    "ScoredItem": "scorer",
    "Calibrator": "calibration",
    # other analyzers
    "PermutationDispersion": "dispersion",
    "ICLTask": "dispersion",
    "DispersionItem": "dispersion",
    "InformationCapacity": "capacity",
    "flops_per_token": "flops",
    "run_halting": "adaptive_think",
    "run_halting_item": "adaptive_think",
    "HaltingItemResult": "adaptive_think",
    "compare_decoding": "decoding",
}
_EXPORTS.update({target.split(":")[1]: target.split(":")[0].rsplit(".", 1)[1] for target in _BUILTIN.values()})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"llminfo.analyzers.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'llminfo.analyzers' has no attribute {name!r}")
