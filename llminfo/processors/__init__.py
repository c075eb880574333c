"""Logits processors: one tensor core per method (in `llminfo.measures`), HF + vLLM adapters.

HF (`transformers.LogitsProcessor`, also accepted by every backend's `generate(processors=...)`):
`LocallyTypicalLogitsProcessor`, `EntropyHaltingProcessor`. vLLM V1 batch-level processors live in
`llminfo.processors.vllm` (imported lazily: vLLM is optional).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llminfo.processors.halting import EntropyHaltingProcessor
    from llminfo.processors.typical import LocallyTypicalLogitsProcessor

__all__ = ["EntropyHaltingProcessor", "LocallyTypicalLogitsProcessor"]
_HOMES = {"EntropyHaltingProcessor": "llminfo.processors.halting", "LocallyTypicalLogitsProcessor": "llminfo.processors.typical"}


def __getattr__(name: str) -> Any:
    """The processors load (with torch) on first use, so torch-free submodules such as
    `halting_reasons` import without torch."""
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'llminfo.processors' has no attribute {name!r}")
