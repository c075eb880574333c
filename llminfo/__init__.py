"""llminfo: information theory for language-model inference."""

from __future__ import annotations

__version__ = "0.1.0"

from llminfo.models.base import Completion, LanguageModel, ModelInfo, Scored  # noqa: E402

__all__ = ["Completion", "LanguageModel", "ModelInfo", "Scored", "load_model", "__version__"]


def __getattr__(name: str):
    # Lazy re-exports keep `import llminfo` cheap (no transformers import until needed).
    if name == "load_model":
        from llminfo.models import load_model

        return load_model
    raise AttributeError(f"module 'llminfo' has no attribute {name!r}")
