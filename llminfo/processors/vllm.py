"""Locally typical sampling for vLLM (V1 engine), as a batch-level logits processor.

vLLM has no typical sampling of its own. This processor reads τ per request from
`SamplingParams(extra_args={"typical_p": τ})` and filters those rows with the same tensor
core as the HF processor (`llminfo.processors.typical_core`). It is registered under the
entry-point group `vllm.logits_processors` (name `llminfo_typical`), so once llminfo is
installed every vLLM engine loads it; requests that do not ask for it are untouched.

Importing this module imports vLLM.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import numpy as np
import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality

from llminfo.processors.typical_core import typical_filter_fast

if TYPE_CHECKING:
    from vllm.config import VllmConfig

EXTRA_ARG = "typical_p"


def _typical_p_of(params: SamplingParams) -> float | None:
    """τ requested by `params`, or None when the request does not ask for typical sampling."""
    extra = params.extra_args
    if not extra or EXTRA_ARG not in extra:
        return None
    value = extra[EXTRA_ARG]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{EXTRA_ARG}` (extra_args / vllm_xargs) has to be a number in (0, 1], got {value!r}")
    value = float(value)
    if not (0.0 < value <= 1.0):  # False for NaN too
        raise ValueError(f"`{EXTRA_ARG}` (extra_args / vllm_xargs) has to be > 0 and <= 1, got {value!r}")
    return value


class TypicalLogitsProcessor(LogitsProcessor):
    r"""vLLM V1 logits processor for locally typical sampling (Meister et al., TACL 2023).

    Per request, keep the tokens whose information content −log p is closest to the entropy
    of the next-token distribution until their mass reaches τ. Scores, probabilities and
    cut-off rule are transformers' `TypicalLogitsWarper` (`min_tokens_to_keep = 1`); the
    cumulative mass is summed in float64 (transformers re-normalises and sums in float32),
    so the kept set is the warper's except when a cumulative mass lies within float32
    rounding (~1e-5) of τ. Summing in float64 lets a partial sort settle almost every row
    exactly, which keeps the per-step cost low on CPU (`llminfo.processors.typical_core.typical_filter_fast`).
    Like vLLM's min-p it is applied after temperature and only to sampled (non-greedy)
    requests: a greedy request ignores τ, as in transformers.

    Per-request argument (in `SamplingParams.extra_args`, or `vllm_xargs` in an
    OpenAI-compatible request body):
        typical_p (`float` in (0, 1]): mass of the typical set; 1 (or absent) = off.

    Examples:

    ```python
    >>> from vllm import LLM, SamplingParams
    >>> from llminfo.processors.vllm import TypicalLogitsProcessor
    >>> llm = LLM(model_dir, logits_processors=[TypicalLogitsProcessor])  # or rely on the entry point
    >>> params = SamplingParams(max_tokens=32, extra_args={"typical_p": 0.9})
    >>> llm.generate(["Once upon a time"], params)
    ```

    Server: `python -m vllm.entrypoints.openai.api_server --model DIR --logits-processors
    llminfo.processors.vllm:TypicalLogitsProcessor` (or nothing: the entry point loads it),
    then `{"prompt": ..., "vllm_xargs": {"typical_p": 0.9}}`; a bad value gets HTTP 400.
    """

    # The entry point and an explicit `logits_processors=[TypicalLogitsProcessor]` build two
    # instances that vLLM applies one after the other to the same logits tensor; the
    # second must not filter again (typical filtering is not idempotent). Remember the last
    # tensor object filtered (weakly: a new step brings a new tensor object).
    _last_filtered: "weakref.ReferenceType[torch.Tensor] | None" = None

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        _typical_p_of(sampling_params)

    def __init__(self, vllm_config: "VllmConfig", device: torch.device, is_pin_memory: bool) -> None:
        max_num_reqs = vllm_config.scheduler_config.max_num_seqs
        # Per persistent-batch slot: τ (1.0 = off). A small host array, copied to the
        # device only when the batch makeup changes.
        self._tau_cpu = np.ones(max_num_reqs, dtype=np.float64)
        self._count = 0
        self._device = torch.device(device)
        self._rows: torch.Tensor = torch.empty(0, dtype=torch.long, device=self._device)
        self._mass: torch.Tensor = torch.empty(0, 1, dtype=torch.float64, device=self._device)
        self._all_rows = False
        self._size = 0

    def is_argmax_invariant(self) -> bool:
        # Not strictly true (typical sampling can drop the argmax), but it makes vLLM apply
        # the processor after temperature and only to sampled requests, which is the
        # transformers semantics (greedy ignores typical_p).
        return True

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is None:
            return
        tau = self._tau_cpu
        changed = False
        for index in batch_update.removed:
            if tau[index] != 1.0:
                tau[index] = 1.0
                changed = True
        for index, params, _, _ in batch_update.added:
            value = _typical_p_of(params)
            value = 1.0 if value is None else value
            if tau[index] != value:
                tau[index] = value
                changed = True
        for a, b, direction in batch_update.moved:
            ta, tb = tau[a], tau[b]
            if direction == MoveDirectionality.SWAP:
                tau[a], tau[b] = tb, ta
            else:
                tau[b], tau[a] = ta, 1.0
            changed = changed or ta != 1.0 or tb != 1.0
        size = batch_update.batch_size
        if changed or size != self._size:
            self._size = size
            active = np.flatnonzero(tau[:size] < 1.0)
            self._count = int(active.size)
            self._all_rows = self._count == size
            self._rows = torch.from_numpy(active.astype(np.int64)).to(self._device, non_blocking=True)
            self._mass = torch.from_numpy(tau[active].reshape(-1, 1).copy()).to(self._device, non_blocking=True)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self._count:
            return logits
        last = TypicalLogitsProcessor._last_filtered
        if last is not None and last() is logits:
            return logits  # a second registration of this processor: already filtered
        TypicalLogitsProcessor._last_filtered = weakref.ref(logits)
        if self._all_rows and logits.shape[0] == self._count:
            return logits.masked_fill_(typical_filter_fast(logits, self._mass), -math.inf)
        sub = logits.index_select(0, self._rows)
        logits.index_copy_(0, self._rows, sub.masked_fill_(typical_filter_fast(sub, self._mass), -math.inf))
        return logits

    def __repr__(self) -> str:
        return f"TypicalLogitsProcessor(active_requests={self._count})"


__all__ = ["TypicalLogitsProcessor", "EXTRA_ARG"]
