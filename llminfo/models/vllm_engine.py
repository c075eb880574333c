"""Starting the vLLM engine for `VLLMModel`: processor registration, argument checks, errors."""

from __future__ import annotations

import inspect
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

# Our processors, in the order vLLM applies them within a stage (the recorder must see raw logits).
LLMINFO_VLLM_PROCESSORS = (
    "llminfo.processors.vllm_entropy:EntropyRecorderLogitsProcessor",
    "llminfo.processors.vllm_halting:EntropyHaltingLogitsProcessor",
    "llminfo.processors.vllm:TypicalLogitsProcessor",
)


def llminfo_processors() -> list[str]:
    """Our vLLM processors that import, minus those vLLM already loads as entry points
    (it loads `vllm.logits_processors` plugins itself; listing one twice applies it twice)."""
    from importlib import import_module
    from importlib.metadata import entry_points

    plugged = {ep.value for ep in entry_points(group="vllm.logits_processors")}
    out = []
    for fqcn in LLMINFO_VLLM_PROCESSORS:
        if fqcn in plugged:
            continue
        module, _, attr = fqcn.partition(":")
        try:
            if getattr(import_module(module), attr, None) is not None:
                out.append(fqcn)
        except ImportError:
            continue  # an optional processor whose module is absent
    return out


def check_engine_args(args: dict[str, Any]) -> None:
    from vllm.engine.arg_utils import EngineArgs

    known = set(inspect.signature(EngineArgs).parameters) | {"model", "tokenizer"}
    unknown = sorted(k for k in args if k not in known)
    if unknown:
        raise TypeError(f"unknown vLLM engine argument(s): {', '.join(unknown)} (see vllm.EngineArgs)")
    mml = args.get("max_model_len")
    if mml is not None and (not isinstance(mml, int) or isinstance(mml, bool) or mml < 1):
        raise ValueError(f"engine argument `max_model_len` has to be an integer >= 1, got {mml!r}")


def start_engine(args: dict[str, Any]) -> Any:
    from vllm import LLM

    try:
        return LLM(**args)
    except Exception as e:  # vLLM raises ValueError/RuntimeError/pydantic errors from deep inside
        msg = " ".join(str(e).split())
        low = msg.lower()
        if "kv cache" in low or "cache blocks" in low:
            space = os.environ.get("VLLM_CPU_KVCACHE_SPACE")
            raise ValueError(
                f"vLLM engine could not start: not enough KV-cache memory for max_model_len={args.get('max_model_len')} "
                f"(VLLM_CPU_KVCACHE_SPACE={space} GiB on CPU; `gpu_memory_utilization` / `kv_cache_memory_bytes` "
                f"otherwise). Lower `max_model_len` or give the cache more memory. vLLM said: {msg[:400]}"
            ) from None
        if isinstance(e, (ValueError, TypeError)):
            raise ValueError(f"vLLM engine could not start with the given engine arguments: {msg[:600]}") from None
        raise RuntimeError(f"vLLM engine could not start for model {args.get('model')!r}: {msg[:600]}") from e


def count_parameters(path: str) -> int:
    """Parameters from the safetensors headers of a local folder (0 if not local)."""
    folder = Path(path)
    total = 0
    for f in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
        with open(f, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for name, meta in header.items():
            if name != "__metadata__":
                total += int(np.prod(meta["shape"])) if meta["shape"] else 1
    return total

