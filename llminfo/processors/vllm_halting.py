"""Entropy-based early halting for vLLM (V1 engine), as a batch-level logits processor.

The same tensor core as the transformers processor (`llminfo.processors.halting.HaltingCore`),
driven by vLLM's persistent-batch updates. Per request it reads
`SamplingParams(extra_args={"entropy_halting": {...}})`; requests without it are untouched,
and `apply` returns at once when no request in the batch is thinking or being forced.
Registered under the entry-point group `vllm.logits_processors` (name `llminfo_halting`).

Importing this module imports vLLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality

from llminfo.processors.halting import _last_index, check_halting_args, encode_marker
from llminfo.processors.halting_core import HaltingCore

if TYPE_CHECKING:
    from vllm.config import VllmConfig

EXTRA_ARG = "entropy_halting"
_KEYS = {
    "threshold", "window", "min_tokens", "max_thinking_tokens", "open_marker", "close_marker", "answer_cue",
    "max_answer_tokens",
}  # fmt: skip
_DEFAULTS = {
    "window": 8, "min_tokens": 16, "max_thinking_tokens": None, "open_marker": None, "close_marker": "</think>",
    "answer_cue": "\nThe answer is", "max_answer_tokens": None,
}  # fmt: skip


def halting_args_of(params: SamplingParams) -> dict[str, Any] | None:
    """The validated `entropy_halting` settings of a request (defaults filled in), or None."""
    extra = params.extra_args
    if not extra or EXTRA_ARG not in extra:
        return None
    cfg = extra[EXTRA_ARG]
    where = f"`{EXTRA_ARG}` (extra_args / vllm_xargs)"
    if not isinstance(cfg, dict):
        raise ValueError(f"{where} has to be an object of settings, got {cfg!r}")
    unknown = sorted(set(cfg) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    if "threshold" not in cfg:
        raise ValueError(f"{where}: `threshold` (nats) is required")
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
    output: list[int]  # vLLM's running list of output token ids (a live reference)
    seen: int
    open_ids: list[int]
    close_ids: list[int]
    eos_ids: set[int]


class EntropyHaltingLogitsProcessor(LogitsProcessor):
    r"""vLLM V1 logits processor: entropy-based early halting of reasoning, per request.

    Same rule as `llminfo.processors.EntropyHaltingProcessor` — llminfo's own streaming rule
    on the next-token entropy, not a paper's protocol (closest: the answer-entropy probes of
    "Think or Not?", Yong et al., 2025, in `llminfo.analyzers.adaptive_think`, and the
    trial-answer confidence exits of DEER, Yang et al., 2025): inside the reasoning span, once at least `min_tokens` reasoning tokens are written
    and the mean next-token entropy (nats) over the last `window` steps is below `threshold`
    (or `max_thinking_tokens` is reached), the request is forced to emit
    `close_marker + answer_cue`, then answers freely (or for `max_answer_tokens` tokens). It is
    not argmax-invariant, so vLLM applies it to the raw logits, before temperature: the
    entropy is the model's own. Halts are visible in the output text (the forced string).

    Per-request argument (`SamplingParams.extra_args`, or `vllm_xargs` in a server request):
        entropy_halting (`dict`): `threshold` (required, nats) and optional `window` (8),
        `min_tokens` (16), `max_thinking_tokens`, `open_marker` (null = from the first token;
        also found in the prompt), `close_marker` ("</think>"), `answer_cue`
        ("\nThe answer is"), `max_answer_tokens`. Bad values raise ValueError (HTTP 400).

    Example:

    ```python
    >>> from vllm import LLM, SamplingParams
    >>> from llminfo.processors.vllm_halting import EntropyHaltingLogitsProcessor
    >>> llm = LLM(model_dir, logits_processors=[EntropyHaltingLogitsProcessor])  # or the entry point
    >>> sp = SamplingParams(max_tokens=512, extra_args={"entropy_halting": {"threshold": 0.5, "max_thinking_tokens": 400}})
    >>> llm.generate([prompt], sp)[0].outputs[0].text
    ```
    """

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        try:
            halting_args_of(sampling_params)
        except ValueError as e:  # vLLM's own error type becomes HTTP 400 on the server
            from vllm.exceptions import VLLMValidationError

            raise VLLMValidationError(str(e), parameter=EXTRA_ARG) from None

    def __init__(self, vllm_config: "VllmConfig", device: torch.device, is_pin_memory: bool) -> None:
        self._config = vllm_config
        self._device = torch.device(device)
        self._core = HaltingCore(vllm_config.scheduler_config.max_num_seqs, self._device)
        self._requests: dict[int, _Request] = {}
        self._tokenizer: Any = None
        self._encoded: dict[str | None, list[int]] = {}
        self._size = 0

    def is_argmax_invariant(self) -> bool:
        return False  # forcing changes the argmax

    # -- batch bookkeeping ------------------------------------------------------------------

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is not None:
            self._size = batch_update.batch_size
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

    def _move(self, a: int, b: int, swap: bool) -> None:
        ra, rb = self._requests.pop(a, None), self._requests.pop(b, None)
        if ra is None and rb is None:
            return
        self._core.move(a, b, swap)
        if ra is not None:
            self._requests[b] = ra
        if swap and rb is not None:
            self._requests[a] = rb

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

    # -- per step --------------------------------------------------------------------------

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self._requests or not self._core.any_pending(logits.shape[0]):
            return logits
        return self._core.apply(logits, inplace=True)

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

    def __repr__(self) -> str:
        return f"EntropyHaltingLogitsProcessor(requests={len(self._requests)})"

