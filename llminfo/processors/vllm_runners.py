"""One processor class for both of vLLM's model runners.

vLLM has two custom-logits-processor interfaces and loads the entry-point group
`vllm.logits_processors` (and `logits_processors=[...]` / `--logits-processors`) with whichever
its engine uses:

- the legacy V1 runner (`vllm.v1.sample.logits_processor.LogitsProcessor`; the CPU build, and
  GPUs with `VLLM_USE_V2_MODEL_RUNNER=0`) builds `cls(vllm_config, device, is_pin_memory)` and
  rejects a class that is not a V1 subclass;
- Model Runner V2 (`vllm.v1.worker.gpu.sample.logits_processor.LogitsProcessor`; the default
  wherever Triton exists) builds `cls(vllm_config, req_states)` and raises `ValueError` at engine
  start-up for *any* registered class that is not an MRV2 subclass — so a V1-only entry point
  stops every engine in the environment from starting.

`BothRunners` is a mix-in for a class that subclasses both interfaces (those this vLLM has):
both loaders accept it, and constructing it returns the implementation for the runner that
asked (`_v1` or `_mrv2`), chosen by the constructor's arguments. Validation of per-request
arguments (`validate_params`) is shared. Importing this module imports no vLLM module beyond
the two interface packages.
"""

from __future__ import annotations

from typing import Any


class _Absent:
    """Stands in for an interface this vLLM version does not have."""


try:
    from vllm.v1.sample.logits_processor import LogitsProcessor as V1LogitsProcessor
except ImportError:  # a vLLM without the V1 interface
    V1LogitsProcessor = _Absent  # type: ignore[misc, assignment]
try:
    from vllm.v1.worker.gpu.sample.logits_processor.interface import LogitsProcessor as MRV2LogitsProcessor
    from vllm.v1.worker.gpu.sample.logits_processor.interface import LogitsProcRequestState
except ImportError:  # vLLM before Model Runner V2
    MRV2LogitsProcessor = _Absent  # type: ignore[misc, assignment]
    LogitsProcRequestState = None  # type: ignore[misc, assignment]

HAS_V1 = V1LogitsProcessor is not _Absent
HAS_MRV2 = MRV2LogitsProcessor is not _Absent


def runner_bases() -> tuple[type, ...]:
    """The processor interfaces of the installed vLLM, V1 first."""
    return tuple(b for b in (V1LogitsProcessor, MRV2LogitsProcessor) if b is not _Absent)


class BothRunners:
    """Mix-in: `Cls(vllm_config, device, is_pin_memory)` → `Cls._v1(...)` (V1 runner);
    `Cls(vllm_config, req_states)` → `Cls._mrv2(...)` (Model Runner V2).

    The objects vLLM holds are therefore instances of `_v1` / `_mrv2`, not of `Cls`."""

    _v1: type
    _mrv2: type

    def __new__(cls, vllm_config: Any, *args: Any, **kwargs: Any) -> Any:
        state = args[0] if args else kwargs.get("req_states")
        if LogitsProcRequestState is not None and len(args) + len(kwargs) == 1 and (
            isinstance(state, LogitsProcRequestState) or hasattr(state, "all_token_ids")
        ):
            return cls._mrv2(vllm_config, *args, **kwargs)
        if not HAS_V1:
            raise TypeError(f"{cls.__name__}: this vLLM has no V1 logits-processor interface")
        return cls._v1(vllm_config, *args, **kwargs)

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        cls._v1.validate_params(sampling_params)
