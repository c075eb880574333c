"""Starting the vLLM engine for `VLLMModel`: processor registration, argument checks, errors."""

from __future__ import annotations

import inspect
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from typing import Callable

# Our processors, in the order vLLM applies them within a stage (the recorder must see raw logits).
LLMINFO_VLLM_PROCESSORS = (
    "llminfo.processors.vllm:EntropyRecorderLogitsProcessor",
    "llminfo.processors.vllm:EntropyHaltingProcessor",
    "llminfo.processors.vllm:LocallyTypicalLogitsProcessor",
)


def _resolve(fqcn: str) -> Any:
    from importlib import import_module

    module, _, attr = fqcn.partition(":")
    obj: Any = import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def engine_processors(user: list[Any]) -> list[Any]:
    """llminfo's processors for an engine, then the user's: minus those vLLM already loads from
    the entry-point group `vllm.logits_processors` (compared by class, so an old entry-point
    name that aliases the same class counts; listing one twice would apply it twice)."""
    from importlib.metadata import entry_points

    plugged = set()
    for ep in entry_points(group="vllm.logits_processors"):
        try:
            plugged.add(ep.load())
        except Exception:  # vLLM reports a broken plugin itself
            continue
    ours = [fqcn for fqcn in LLMINFO_VLLM_PROCESSORS if _resolve(fqcn) not in plugged]
    mine = {_resolve(f) for f in ours}
    rest = [p for p in user if (_resolve(p) if isinstance(p, str) else p) not in mine | plugged]
    return ours + rest


def record_channel(llm: Any) -> Callable[[Any, list[list[Any]], str], dict[str, dict[str, Any]]]:
    """How the recorder's per-token records come back from `llm` (see `llminfo.models.vllm`):
    vLLM's worker RPC when the engine has llminfo's worker extension, else a direct read when
    the engine runs in this process with one worker; otherwise a clear error."""
    from llminfo.processors import vllm_entropy as ve

    cfg = llm.llm_engine.vllm_config
    if getattr(cfg.parallel_config, "worker_extension_cls", "") == ve.WORKER_EXTENSION:

        def over_rpc(llm: Any, requests: list[list[Any]], prefix: str) -> dict[str, dict[str, Any]]:
            answers = llm.collective_rpc(ve.TAKE_METHOD, args=(requests, prefix))
            return next((a for a in answers if a is not None), {})

        return over_rpc
    in_process = type(llm.llm_engine.engine_core).__name__ == "InprocClient"
    if in_process and cfg.parallel_config.world_size == 1:

        def direct(llm: Any, requests: list[list[Any]], prefix: str) -> dict[str, dict[str, Any]]:
            out = ve.take_records([(r[0], r[1]) for r in requests])
            if prefix:
                ve.discard_records(prefix)
            return out

        return direct
    raise ValueError(
        "this vLLM engine runs its workers in other processes but was built without llminfo's record "
        f"channel: build it with `LLM(..., **VLLMModel.engine_args())` (worker_extension_cls={ve.WORKER_EXTENSION!r})"
    )


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

