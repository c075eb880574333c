"""Logits processors: one tensor core per method (in `llminfo.measures`), HF + vLLM adapters.

HF (`transformers.LogitsProcessor`, also accepted by every backend's `generate(processors=...)`):
`LocallyTypicalLogitsProcessor`, `EntropyHaltingProcessor`. vLLM V1 batch-level processors live in
`llminfo.processors.vllm` (imported lazily: vLLM is optional).
"""

from __future__ import annotations

from llminfo.processors.halting import EntropyHaltingProcessor
from llminfo.processors.typical import LocallyTypicalLogitsProcessor

__all__ = ["EntropyHaltingProcessor", "LocallyTypicalLogitsProcessor"]
