"""Model layer: the LanguageModel interface, the HF and vLLM backends, the embedded default."""

from __future__ import annotations

from llminfo.models.base import Completion, LanguageModel, ModelInfo, Scored
from llminfo.models.loading import load_model

__all__ = ["Completion", "LanguageModel", "ModelInfo", "Scored", "load_model", "HFModel", "VLLMModel"]


def __getattr__(name: str):
    if name == "HFModel":
        from llminfo.models.hf import HFModel

        return HFModel
    if name == "VLLMModel":
        from llminfo.models.vllm import VLLMModel

        return VLLMModel
    raise AttributeError(f"module 'llminfo.models' has no attribute {name!r}")
