"""Locally typical sampling inside vLLM: the V1-runner and Model Runner V2 implementations.

vLLM has no typical sampling of its own. Both implementations read τ per request from
`SamplingParams(extra_args={"typical_p": τ})` (`vllm_xargs` on the server) and filter those
rows with the tensor core the HF processor uses (`llminfo.processors.typical_core.typical_filter_fast`);
other rows are untouched and a batch without such a request costs one host-side check. Use
them through `llminfo.processors.vllm.LocallyTypicalLogitsProcessor`, which serves both runners.

Semantics on both runners: the typical set is computed on the logits after temperature (as
transformers' `typical_p` warper, which runs after its temperature warper) and only for
sampled requests (a greedy request ignores τ). The V1 runner applies argmax-invariant
processors after temperature; MRV2 applies custom processors before temperature, so the MRV2
implementation divides each row by its request's temperature to find the set, then masks the
unscaled row: the kept tokens are the same.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from vllm import SamplingParams

from llminfo.processors.typical_core import check_typical_p, typical_filter_fast
from llminfo.processors.vllm_runners import MRV2LogitsProcessor, V1LogitsProcessor

if TYPE_CHECKING:
    from vllm.config import VllmConfig

EXTRA_ARG = "typical_p"


def _typical_p_of(params: SamplingParams) -> float | None:
    """τ requested by `params`, or None when the request does not ask for typical sampling."""
    extra = params.extra_args
    if not extra or EXTRA_ARG not in extra:
        return None
    try:
        return check_typical_p(extra[EXTRA_ARG])
    except (TypeError, ValueError) as e:  # ValueError: vLLM turns it into HTTP 400
        raise ValueError(f"{e} (extra_args / vllm_xargs)") from None


class TypicalV1(V1LogitsProcessor):  # type: ignore[misc, valid-type]
    """Typical sampling on vLLM's legacy V1 runner (persistent-batch slots).

    Declared argmax-invariant (not strictly true: typical sampling can drop the argmax) so that
    vLLM applies it after temperature and only to sampled requests: transformers' semantics.
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

    def update_state(self, batch_update: Any) -> None:
        if batch_update is None:
            return
        from vllm.v1.sample.logits_processor import MoveDirectionality

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
        last = TypicalV1._last_filtered
        if last is not None and last() is logits:
            return logits  # a second registration of this processor: already filtered
        TypicalV1._last_filtered = weakref.ref(logits)
        if self._all_rows and logits.shape[0] == self._count:
            return logits.masked_fill_(typical_filter_fast(logits, self._mass), -math.inf)
        sub = logits.index_select(0, self._rows)
        logits.index_copy_(0, self._rows, sub.masked_fill_(typical_filter_fast(sub, self._mass), -math.inf))
        return logits

    def __repr__(self) -> str:
        return f"TypicalV1(active_requests={self._count})"




class TypicalMRV2(MRV2LogitsProcessor):  # type: ignore[misc, valid-type]
    """Typical sampling on vLLM's Model Runner V2.

    Per request slot: τ and the temperature (`add_request` overwrites both, so a recycled slot
    keeps nothing of its previous occupant). Per step, only the rows whose slot asks for
    typical sampling are filtered (a request owns several rows under speculative decoding:
    each is filtered with its request's τ); declined rows are not touched. MRV2 calls custom
    processors before temperature, so the set is found on `row / T` (see the module docstring).
    """

    _last_filtered: "weakref.ReferenceType[torch.Tensor] | None" = None

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        _typical_p_of(sampling_params)

    def __init__(self, vllm_config: "VllmConfig", req_states: Any) -> None:
        n = int(req_states.max_num_reqs)
        self._device = torch.device(req_states.device)
        self._tau = np.ones(n, dtype=np.float64)  # 1.0 = off
        self._temp = np.ones(n, dtype=np.float64)
        self._tau_dev = torch.ones(n, dtype=torch.float64, device=self._device)
        # float32 like vLLM's own temperature tensor, so row / T rounds as the V1 runner's does
        self._temp_dev = torch.ones(n, dtype=torch.float32, device=self._device)
        self._dirty = False

    def add_request(self, req_idx: int, sampling_params: SamplingParams) -> bool:
        tau = _typical_p_of(sampling_params)
        temperature = float(sampling_params.temperature or 0.0)
        on = tau is not None and tau < 1.0 and temperature > 0.0  # greedy ignores τ
        self._tau[req_idx] = tau if on else 1.0
        self._temp[req_idx] = temperature if on else 1.0
        self._dirty = True
        return on

    def apply_staged_writes(self) -> None:
        if self._dirty:
            self._tau_dev.copy_(torch.from_numpy(self._tau))
            self._temp_dev.copy_(torch.from_numpy(self._temp))
            self._dirty = False

    def apply(self, logits: torch.Tensor, ctx: Any) -> torch.Tensor:
        if not (self._tau[np.asarray(ctx.idx_mapping_np)] < 1.0).any():
            return logits  # host-side check: no device sync for a batch without τ
        if self._dirty:
            self.apply_staged_writes()
        last = TypicalMRV2._last_filtered
        if last is not None and last() is logits:
            return logits  # a second registration of this processor: already filtered
        TypicalMRV2._last_filtered = weakref.ref(logits)
        slots = ctx.expanded_idx_mapping.long()
        rows = torch.nonzero(self._tau_dev[slots] < 1.0).flatten()
        slots = slots[rows]
        sub = logits.index_select(0, rows)
        remove = typical_filter_fast(sub / self._temp_dev[slots, None].to(sub.dtype), self._tau_dev[slots, None])
        logits.index_copy_(0, rows, sub.masked_fill_(remove, -math.inf))
        return logits

    def __repr__(self) -> str:
        return f"TypicalMRV2(active_slots={int((self._tau < 1.0).sum())})"
