"""Analyzers: one module per method; each takes a `LanguageModel` and returns dataclasses.

Names are re-exported lazily (importing `llminfo.analyzers` stays cheap). To add one,
add a line `"ClassName": "module",` to `_EXPORTS`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    # hallucination: contract and shared pieces
    "QAItem": "base",
    "MethodResult": "base",
    "HallucinationMethod": "base",
    "SampleCache": "base",
    "builtin_methods": "base",
    # hallucination: methods
    "MaxSequenceProbability": "baselines",
    "Perplexity": "baselines",
    "MeanTokenEntropy": "baselines",
    "SemanticEntropy": "semantic_entropy",
    "DiscreteSemanticEntropy": "semantic_entropy",
    "PredictiveEntropy": "semantic_entropy",
    "PTrue": "semantic_entropy",
    "IterativePromptingMI": "iterative_mi",
    "cluster_answers": "clustering",
    "EDFLRiskAnalyzer": "edfl",
    "EDFLAnswerRiskAnalyzer": "edfl",
    # hallucination: combined scorer and calibration
    "HallucinationScorer": "scorer",
    "ScoredItem": "scorer",
    "available_methods": "scorer",
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

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"llminfo.analyzers.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'llminfo.analyzers' has no attribute {name!r}")
