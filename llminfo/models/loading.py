"""`load_model(name_or_path, backend=...)`: one entry point for every backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from llminfo.models.base import LanguageModel

BACKENDS = ("hf", "vllm", "openai")


def resolve_model_path(name_or_path: str) -> str:
    """"default" → the cached embedded model folder; a local folder → itself; else a hub id."""
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ValueError(f"`name_or_path` has to be a non-empty string, got {name_or_path!r}")
    if name_or_path == "default":
        from llminfo.models.default import default_model_dir

        return str(default_model_dir())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"model folder {str(path)!r} has no config.json: not a Hugging Face model folder")
        return str(path)
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise FileNotFoundError(f"model path {name_or_path!r} does not exist")
    return name_or_path


def load_model(
    name_or_path: str = "default",
    backend: str = "hf",
    *,
    dtype: str | None = None,
    device: str | None = None,
    trust_remote_code: bool = False,
    device_map: str | dict[str, Any] | None = None,
    **engine_args: Any,
) -> LanguageModel:
    """Load a model behind the `LanguageModel` interface.

    Args:
        name_or_path (`str`, defaults to `"default"`): `"default"` (embedded SmolLM2-135M-Instruct),
            a local Hugging Face folder, or a hub id (needs a network unless cached).
        backend (`str`, defaults to `"hf"`): `"hf"` (transformers), `"vllm"`, or `"openai"` (a running
            OpenAI-compatible server: `name_or_path` is the served model name, `base_url=` its URL;
            other keyword arguments go to `OpenAIModel`).
        dtype (`str`, *optional*): `"float32"`, `"bfloat16"`, `"float16"` or `"auto"`.
        device (`str`, *optional*): e.g. `"cpu"`, `"cuda"`; default: CUDA if available.
        device_map (`str` or `dict`, *optional*): HF backend: spread the layers over the GPUs
            (then CPU) with accelerate, e.g. `"auto"` for a model larger than one GPU.
        engine_args: extra arguments for the vLLM engine (`backend="vllm"` only).

    Example:
        >>> from llminfo import load_model
        >>> model = load_model("default")
        >>> model.generate([model.chat("What is the capital of France?")], temperature=0)[0][0].text
        'The capital of France is Paris.'
    """
    if backend not in BACKENDS:
        raise ValueError(f"`backend` has to be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "openai":
        from llminfo.models.openai import OpenAIModel

        if "base_url" not in engine_args:
            raise TypeError("backend='openai' needs `base_url`, the server's URL (e.g. http://127.0.0.1:8000/v1)")
        return OpenAIModel(engine_args.pop("base_url"), name_or_path, **engine_args)
    path = resolve_model_path(name_or_path)
    display = "default" if name_or_path == "default" else name_or_path
    if backend == "hf":
        if engine_args:
            raise TypeError(f"unexpected arguments for backend 'hf': {', '.join(sorted(engine_args))}")
        from llminfo.models.hf import HFModel

        return HFModel.from_pretrained(
            path, dtype=dtype, device=device, trust_remote_code=trust_remote_code, name=display, device_map=device_map
        )
    if device_map is not None:
        raise ValueError("`device_map` is for backend 'hf'; vLLM places the model itself (tensor_parallel_size=...)")
    from llminfo.models.vllm import VLLMModel

    return VLLMModel.load(path, dtype=dtype, trust_remote_code=trust_remote_code, name=display, **engine_args)


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
