"""Entropy-based early halting inside vLLM: the V1-runner and Model Runner V2 implementations.

The same tensor core as the transformers processor (`llminfo.processors.halting_core.HaltingCore`),
driven by vLLM's batch updates. Use them through
`llminfo.processors.vllm.EntropyHaltingProcessor`, which serves both runners. Per request the
settings come as flat keys of `SamplingParams.extra_args` (server: `vllm_xargs`, whose values
must be strings or numbers): `entropy_halting_threshold` (required; it switches halting on),
`entropy_halting_window`, `entropy_halting_min_tokens`, `entropy_halting_max_thinking_tokens`,
`entropy_halting_open_marker`, `entropy_halting_close_marker`, `entropy_halting_answer_cue`,
`entropy_halting_max_answer_tokens` (absent = the default). From Python, one nested object
`{"entropy_halting": {"threshold": ..., ...}}` is accepted too. Requests without them are
untouched, and `apply` returns at once when no request in the batch is thinking or being forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import numpy as np
from vllm import SamplingParams

from llminfo.processors.halting import _last_index, check_halting_args, encode_marker
from llminfo.processors.halting_core import HaltingCore
from llminfo.processors.vllm_runners import MRV2LogitsProcessor, V1LogitsProcessor

if TYPE_CHECKING:
    from vllm.config import VllmConfig

EXTRA_ARG = "entropy_halting"
FLAT_PREFIX = EXTRA_ARG + "_"  # flat keys: entropy_halting_threshold, entropy_halting_window, ...
_KEYS = {
    "threshold", "window", "min_tokens", "max_thinking_tokens", "open_marker", "close_marker", "answer_cue",
    "max_answer_tokens",
}  # fmt: skip
_DEFAULTS = {
    "window": 8, "min_tokens": 16, "max_thinking_tokens": None, "open_marker": None, "close_marker": "</think>",
    "answer_cue": "\nThe answer is", "max_answer_tokens": None,
}  # fmt: skip


def halting_args_of(params: SamplingParams) -> dict[str, Any] | None:
    """The validated halting settings of a request (defaults filled in), or None.

    Read from the flat keys `entropy_halting_<setting>` (what `vllm_xargs` can carry) or from
    one nested object `entropy_halting` (Python only); errors name the key."""
    extra = params.extra_args
    if not extra:
        return None
    flat = {k[len(FLAT_PREFIX) :]: v for k, v in extra.items() if k.startswith(FLAT_PREFIX)}
    if EXTRA_ARG in extra and flat:
        raise ValueError(f"give the halting settings either as `{EXTRA_ARG}` or as flat `{FLAT_PREFIX}*` keys, not both")
    if flat:
        cfg: Any = flat
        where = f"`{FLAT_PREFIX}*` (extra_args / vllm_xargs)"
        unknown = sorted(FLAT_PREFIX + k for k in set(flat) - _KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(FLAT_PREFIX + k for k in sorted(_KEYS))}")
    elif EXTRA_ARG in extra:
        cfg = extra[EXTRA_ARG]
        where = f"`{EXTRA_ARG}` (extra_args)"
    else:
        return None
    if not isinstance(cfg, dict):
        raise ValueError(f"{where} has to be an object of settings, got {cfg!r}")
    unknown = sorted(set(cfg) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    if "threshold" not in cfg:
        raise ValueError(f"{where}: `{FLAT_PREFIX if flat else ''}threshold` (nats) is required")
    out = {**_DEFAULTS, **cfg}
    try:
        check_halting_args(out["threshold"], out["window"], out["min_tokens"], out["max_thinking_tokens"])
        for k in ("open_marker", "close_marker", "answer_cue"):
            if out[k] is not None and not isinstance(out[k], str):
                raise ValueError(f"`{k}` has to be a string or null, got {out[k]!r}")
        if out["open_marker"] == "":
            raise ValueError("`open_marker` is empty: use null to monitor from the first token")
        if not (out["close_marker"] or "") + (out["answer_cue"] or ""):
            raise ValueError("`close_marker` and `answer_cue` are both empty: nothing to force on a halt")
        mat = out["max_answer_tokens"]
        if mat is not None and (not isinstance(mat, int) or isinstance(mat, bool) or mat < 0):
            raise ValueError(f"`max_answer_tokens` has to be an integer >= 0 or null, got {mat!r}")
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    return out


@dataclass
class _Request:
    output: list[int]  # the request's output token ids so far (V1: vLLM's live list)
    seen: int
    open_ids: list[int]
    close_ids: list[int]
    eos_ids: set[int]


class _HaltingBase:
    """What both runners' adapters share: settings → core row, markers, token observation."""

    _core: HaltingCore
    _requests: dict[int, _Request]

    def _setup(self, vllm_config: "VllmConfig", rows: int, device: torch.device) -> None:
        self._config = vllm_config
        self._device = torch.device(device)
        self._core = HaltingCore(rows, self._device)
        self._requests = {}
        self._tokenizer: Any = None
        self._encoded: dict[str | None, list[int]] = {}

    def _add(self, index: int, cfg: dict[str, Any], prompt_ids: list[int], output_ids: list[int]) -> None:
        open_ids = self._encode(cfg["open_marker"], "open_marker")
        close_ids = self._encode(cfg["close_marker"] or "", "close_marker")
        forced = self._encode((cfg["close_marker"] or "") + (cfg["answer_cue"] or ""), "close_marker + answer_cue")
        eos = self._tokenizer.eos_token_id
        thinking = not open_ids or _last_index(prompt_ids, open_ids) > _last_index(prompt_ids, close_ids)
        self._core.configure(
            index,
            threshold=cfg["threshold"],
            window=cfg["window"],
            min_tokens=cfg["min_tokens"],
            max_thinking_tokens=cfg["max_thinking_tokens"],
            forced_ids=forced,
            thinking=thinking,
            max_answer_tokens=cfg["max_answer_tokens"],
            eos_token_id=eos,
        )
        # A resumed (preempted) request brings its output so far: replay it without entropies.
        eos_ids = {int(eos)} if eos is not None else set()
        self._requests[index] = _Request(output_ids, 0, open_ids, close_ids, eos_ids)

    def _drop(self, index: int) -> None:
        if self._requests.pop(index, None) is not None:
            self._core.clear(index)

    def _observe(self) -> None:
        """Advance the core by the tokens each halting request emitted since the last step."""
        rows, opened, closed, ended = [], [], [], []
        pending = True
        while pending:  # normally one token per request; more after a replay or spec decode
            pending = False
            rows.clear(), opened.clear(), closed.clear(), ended.clear()
            for index, req in self._requests.items():
                if req.seen >= len(req.output):
                    continue
                req.seen += 1
                pending = pending or req.seen < len(req.output)
                out, k = req.output, req.seen
                rows.append(index)
                opened.append(bool(req.open_ids) and out[max(k - len(req.open_ids), 0) : k] == req.open_ids)
                closed.append(bool(req.close_ids) and out[max(k - len(req.close_ids), 0) : k] == req.close_ids)
                ended.append(out[k - 1] in req.eos_ids)
            if rows:
                as_t = lambda x, dt: torch.tensor(x, dtype=dt, device=self._device)  # noqa: E731
                self._core.advance(as_t(rows, torch.long), as_t(opened, torch.bool), as_t(closed, torch.bool), as_t(ended, torch.bool))

    def _encode(self, text: str | None, name: str) -> list[int]:
        if text not in self._encoded:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                mc = self._config.model_config
                self._tokenizer = AutoTokenizer.from_pretrained(
                    mc.tokenizer, trust_remote_code=bool(getattr(mc, "trust_remote_code", False))
                )
            self._encoded[text] = encode_marker(self._tokenizer, text, name)
        return self._encoded[text]

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        try:
            halting_args_of(sampling_params)
        except ValueError as e:  # vLLM's own error type becomes HTTP 400 on the server
            from vllm.exceptions import VLLMValidationError

            raise VLLMValidationError(str(e), parameter=EXTRA_ARG) from None


class HaltingV1(_HaltingBase, V1LogitsProcessor):  # type: ignore[misc, valid-type]
    """Entropy halting on vLLM's legacy V1 runner: core rows follow the persistent batch.

    Not argmax-invariant (forcing changes the argmax), so vLLM applies it to the raw logits,
    before temperature: the entropy is the model's own.
    """

    def __init__(self, vllm_config: "VllmConfig", device: torch.device, is_pin_memory: bool) -> None:
        self._setup(vllm_config, vllm_config.scheduler_config.max_num_seqs, device)

    def is_argmax_invariant(self) -> bool:
        return False

    def update_state(self, batch_update: Any) -> None:
        if batch_update is not None:
            from vllm.v1.sample.logits_processor import MoveDirectionality

            for index in batch_update.removed:
                self._drop(index)
            for index, params, prompt_ids, output_ids in batch_update.added:
                self._drop(index)
                cfg = halting_args_of(params)
                if cfg is not None:
                    self._add(index, cfg, prompt_ids or [], output_ids)
            for a, b, direction in batch_update.moved:
                self._move(a, b, direction == MoveDirectionality.SWAP)
        if self._requests:
            self._observe()

    def _move(self, a: int, b: int, swap: bool) -> None:
        ra, rb = self._requests.pop(a, None), self._requests.pop(b, None)
        if ra is None and rb is None:
            return
        self._core.move(a, b, swap)
        if ra is not None:
            self._requests[b] = ra
        if swap and rb is not None:
            self._requests[a] = rb

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self._requests or not self._core.any_pending(logits.shape[0]):
            return logits
        return self._core.apply(logits, inplace=True)

    def __repr__(self) -> str:
        return f"HaltingV1(requests={len(self._requests)})"


class HaltingMRV2(_HaltingBase, MRV2LogitsProcessor):  # type: ignore[misc, valid-type]
    """Entropy halting on vLLM's Model Runner V2: core rows are request slots.

    `add_request` resets the slot (a recycled slot keeps nothing of its previous occupant); the
    prompt is read back from `req_states.all_token_ids` in `apply_staged_writes`, once the model
    runner has written it. Per step the committed tokens of each halting request (up to the
    token its first row is fed) advance the core; logits rows map to slots through
    `ctx.expanded_idx_mapping`. Under speculative decoding only a request's first row (its
    committed position) is monitored, and a forcing request's draft rows get the following
    forced tokens; the entropy window then holds one value per engine step, not per token.
    MRV2 calls custom processors before temperature: the entropy is the model's own.
    """

    def __init__(self, vllm_config: "VllmConfig", req_states: Any) -> None:
        self._setup(vllm_config, int(req_states.max_num_reqs), req_states.device)
        self.req_states = req_states
        self._on = np.zeros(int(req_states.max_num_reqs), dtype=bool)
        self._unread: dict[int, dict[str, Any]] = {}  # slots added, prompt not read yet

    def add_request(self, req_idx: int, sampling_params: SamplingParams) -> bool:
        cfg = halting_args_of(sampling_params)
        self._requests.pop(req_idx, None)
        self._unread.pop(req_idx, None)
        self._core.clear(req_idx)
        self._on[req_idx] = cfg is not None
        if cfg is not None:
            self._unread[req_idx] = cfg
        return cfg is not None

    def apply_staged_writes(self) -> None:
        for slot, cfg in self._unread.items():
            plen = int(self.req_states.prompt_len.np[slot])
            prompt = self.req_states.all_token_ids.gpu[slot, :plen].tolist()
            self._add(slot, cfg, prompt, [])
        self._unread.clear()

    def apply(self, logits: torch.Tensor, ctx: Any) -> torch.Tensor:
        if not self._on[np.asarray(ctx.idx_mapping_np)].any():
            return logits
        if self._unread:
            self.apply_staged_writes()
        slot_of = ctx.expanded_idx_mapping.cpu().numpy()
        local = ctx.expanded_local_pos.cpu().numpy()
        pos = ctx.pos.cpu().numpy()
        fed = ctx.input_ids.cpu().numpy()
        plen = np.asarray(self.req_states.prompt_len.np)[slot_of]
        for j in np.flatnonzero(self._on[slot_of] & (local == 0)):
            req = self._requests.get(int(slot_of[j]))
            have = int(pos[j]) + 1 - int(plen[j])  # output tokens committed, the fed one included
            if req is None or have <= len(req.output):
                continue
            start = int(plen[j]) + len(req.output)
            hist = self.req_states.all_token_ids.gpu[int(slot_of[j]), start : int(pos[j])].tolist()
            req.output.extend(hist + [int(fed[j])])
        if self._requests:
            self._observe()
        if not self._core.any_pending(len(self._on)):
            return logits
        offsets = np.where(pos + 1 - plen < 0, 1 << 30, local)  # a partial prefill chunk predicts nothing
        as_t = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64)).to(self._device)  # noqa: E731
        return self._core.apply(logits, inplace=True, slots=as_t(slot_of), offsets=as_t(offsets))

    def __repr__(self) -> str:
        return f"HaltingMRV2(requests={len(self._requests)})"


def __getattr__(name: str) -> Any:
    if name == "EntropyHaltingLogitsProcessor":  # the old FQCN: the class that serves both runners
        from llminfo.processors.vllm import EntropyHaltingProcessor

        return EntropyHaltingProcessor
    raise AttributeError(name)
