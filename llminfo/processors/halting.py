"""Entropy-based early halting of reasoning as a logits processor (no extra forward passes).

`EntropyHaltingProcessor` is the transformers adapter of the tensor core
`llminfo.processors.halting_core.HaltingCore`, which the vLLM V1 adapter in
`llminfo.processors.vllm_halting` shares.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import torch
from transformers import LogitsProcessor

from llminfo.processors.halting_core import HaltingCore, HaltingRecord

__all__ = ["EntropyHaltingProcessor", "HaltingCore", "HaltingRecord"]


def check_halting_args(threshold: Any, window: Any, min_tokens: Any, max_thinking_tokens: Any) -> None:
    """Eager validation; errors name the user-facing argument."""
    if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"`threshold` has to be a finite float >= 0 (nats), got {threshold!r}")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValueError(f"`window` has to be an integer >= 1, got {window!r}")
    if not isinstance(min_tokens, int) or isinstance(min_tokens, bool) or min_tokens < 0:
        raise ValueError(f"`min_tokens` has to be an integer >= 0, got {min_tokens!r}")
    if max_thinking_tokens is not None and (
        not isinstance(max_thinking_tokens, int) or isinstance(max_thinking_tokens, bool) or max_thinking_tokens < 0
    ):
        raise ValueError(f"`max_thinking_tokens` has to be an integer >= 0 or None, got {max_thinking_tokens!r}")


def encode_marker(tokenizer: Any, text: str | None, name: str, allow_empty: bool = True) -> list[int]:
    if text is None:
        return []
    if not isinstance(text, str):
        raise TypeError(f"`{name}` has to be a string or None, got {type(text).__name__}")
    ids = list(tokenizer.encode(text, add_special_tokens=False)) if text else []
    if not ids and not allow_empty:
        raise ValueError(f"`{name}` encodes to no tokens")
    return ids


class EntropyHaltingProcessor(LogitsProcessor):
    r"""Stops reasoning early once the model's next-token entropy has stayed low.

    Inside the reasoning span (after `open_marker`, or from the first generated token when
    it is None) each row's next-token entropy H (nats) is recorded; once the row has written
    at least `min_tokens` reasoning tokens and the mean of H over the last `window` steps is
    below `threshold`, the processor forces the tokens of `close_marker + answer_cue` (every
    other logit set to −inf), then lets the answer be generated. A row that reaches
    `max_thinking_tokens` is forced the same way. Rows are independent; a row whose model
    writes `close_marker` itself is left alone from then on. This window rule on the
    next-token entropy is llminfo's own streaming rule (no extra forward passes), not a
    paper's protocol. The closest published methods are entropy / confidence based early
    exits of reasoning: "Think or Not?" (Yong et al., 2025) halts on the entropy of the
    *answer* distribution read by probes (that protocol is `llminfo.analyzers.adaptive_think`),
    "Dynamic Early Exit in Reasoning Models" (DEER, Yang et al., 2025) on the confidence of a
    trial answer at reasoning transition points, and confidence-based early exiting of
    decoding (CALM, Schuster et al., 2022) on per-token confidence.

    The entropy is that of the scores the processor receives: put it before temperature /
    top-k / top-p warpers to monitor the model's own distribution. Markers are matched as
    the token ids `tokenizer.encode(marker)` gives (exact for special tokens such as
    `<think>`). Beam search is not supported: each row's state assumes rows are never
    reordered, so `generate(num_beams > 1)` raises a `ValueError` (so does any caller that
    reorders rows between steps). One instance serves one generation at a time; it resets itself when a new one starts, and
    `records()` describes the last one.

    Args:
        tokenizer: the model's tokenizer (used once, to encode the markers).
        threshold (`float`): window-mean entropy (nats) below which reasoning halts.
        window (`int`, *optional*, defaults to 8): steps in the running mean.
        min_tokens (`int`, *optional*, defaults to 16): reasoning tokens before a halt may happen.
        max_thinking_tokens (`int`, *optional*): hard budget of reasoning tokens.
        open_marker (`str`, *optional*): string opening the reasoning span; None = from the start.
            Found in the prompt too (chat templates that end with `<think>`).
        close_marker (`str`, *optional*, defaults to `"</think>"`): string closing it ("" for none).
        answer_cue (`str`, *optional*, defaults to `"\nThe answer is"`): forced after the closing string.
        max_answer_tokens (`int`, *optional*): after a forced halt, end the row (force EOS) once
            this many answer tokens were written. None = let the answer run.
        eos_token_id (`int` or list, *optional*): end-of-sequence ids (default: the tokenizer's).

    Example:
        >>> from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList
        >>> from llminfo.models.default import default_model_dir
        >>> tok = AutoTokenizer.from_pretrained(default_model_dir())
        >>> hf_model = AutoModelForCausalLM.from_pretrained(default_model_dir())
        >>> inputs = tok("Let me think step by step.", return_tensors="pt")
        >>> halt = EntropyHaltingProcessor(tok, threshold=0.5, max_thinking_tokens=16, close_marker="")
        >>> out = hf_model.generate(**inputs, max_new_tokens=24, logits_processor=LogitsProcessorList([halt]))
        >>> halt.records()[0].reason in ("entropy", "budget")  # halted by low entropy, else at the budget
        True
        >>> # llminfo backends: model.generate(prompts, processors=[halt], max_new_tokens=300)
    """

    def __init__(
        self,
        tokenizer: Any,
        threshold: float,
        *,
        window: int = 8,
        min_tokens: int = 16,
        max_thinking_tokens: int | None = None,
        open_marker: str | None = None,
        close_marker: str = "</think>",
        answer_cue: str = "\nThe answer is",
        max_answer_tokens: int | None = None,
        eos_token_id: int | Sequence[int] | None = None,
    ):
        check_halting_args(threshold, window, min_tokens, max_thinking_tokens)
        if close_marker is None:
            close_marker = ""
        self.threshold, self.window, self.min_tokens = float(threshold), window, min_tokens
        self.max_thinking_tokens = max_thinking_tokens
        self.open_ids = encode_marker(tokenizer, open_marker, "open_marker", allow_empty=False)
        self.close_ids = encode_marker(tokenizer, close_marker, "close_marker")
        cue = encode_marker(tokenizer, answer_cue, "answer_cue")
        self.forced_ids = encode_marker(tokenizer, close_marker + (answer_cue or ""), "close_marker + answer_cue") if cue else self.close_ids
        if not self.forced_ids:
            raise ValueError("`close_marker` and `answer_cue` are both empty: nothing to force on a halt")
        eos = eos_token_id if eos_token_id is not None else getattr(tokenizer, "eos_token_id", None)
        self.eos_ids = [] if eos is None else ([int(eos)] if isinstance(eos, int) else [int(e) for e in eos])
        if max_answer_tokens is not None:
            if not isinstance(max_answer_tokens, int) or isinstance(max_answer_tokens, bool) or max_answer_tokens < 0:
                raise ValueError(f"`max_answer_tokens` has to be an integer >= 0 or None, got {max_answer_tokens!r}")
            if not self.eos_ids:
                raise ValueError("`max_answer_tokens` needs an end-of-sequence id: pass `eos_token_id`")
        self.max_answer_tokens = max_answer_tokens
        self._settings = {
            "threshold": self.threshold, "window": window, "min_tokens": min_tokens,
            "max_thinking_tokens": max_thinking_tokens, "open_marker": open_marker, "close_marker": close_marker,
            "answer_cue": answer_cue, "max_answer_tokens": max_answer_tokens,
        }  # fmt: skip
        self._core: HaltingCore | None = None
        self._rows = 0
        self._last_len = -1
        self._prompt_tail: torch.Tensor | None = None
        self._last_tokens: torch.Tensor | None = None
        self._prompt_len = 0

    def vllm_extra_args(self) -> dict[str, Any]:
        """The same settings as `SamplingParams.extra_args` for the vLLM counterpart
        (`llminfo.processors.vllm_halting`); `VLLMModel.generate(processors=[...])` uses it."""
        return {"entropy_halting": dict(self._settings)}

    def reset(self) -> None:
        """Forget the current generation (the next call starts a new one)."""
        self._core = None

    def records(self) -> list[HaltingRecord]:
        """One `HaltingRecord` per row of the last generation."""
        return [] if self._core is None else self._core.records(self._rows)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """input_ids: (batch, prompt + generated); scores: (batch, vocab). Returns new scores."""
        b, length = input_ids.shape
        if not self._continues(input_ids):
            _refuse_beam_search()
            self._start(input_ids, scores.device)
        else:
            if not torch.equal(input_ids[:, -2], self._last_tokens):  # type: ignore[arg-type]
                raise ValueError(
                    "EntropyHaltingProcessor: the rows were reordered between two steps (beam search?); "
                    "it keeps one state per row and supports sampling and greedy decoding only"
                )
            self._observe(input_ids)
        self._last_len = length
        self._last_tokens = input_ids[:, -1].clone()
        return self._core.apply(scores)  # type: ignore[union-attr]

    # -- internals ------------------------------------------------------------------------

    def _continues(self, input_ids: torch.Tensor) -> bool:
        if self._core is None or input_ids.shape[0] != self._rows or input_ids.shape[1] != self._last_len + 1:
            return False
        return bool(torch.equal(input_ids[:, self._prompt_len - 1], self._prompt_tail))  # type: ignore[arg-type]

    def _start(self, input_ids: torch.Tensor, device: torch.device) -> None:
        b, length = input_ids.shape
        self._core = HaltingCore(b, device)
        self._rows, self._prompt_len = b, length
        self._prompt_tail = input_ids[:, length - 1].clone()
        for r, row in enumerate(input_ids.tolist()):
            thinking = self.open_ids == [] or _last_index(row, self.open_ids) > _last_index(row, self.close_ids)
            self._core.configure(
                r,
                threshold=self.threshold,
                window=self.window,
                min_tokens=self.min_tokens,
                max_thinking_tokens=self.max_thinking_tokens,
                forced_ids=self.forced_ids,
                thinking=thinking,
                max_answer_tokens=self.max_answer_tokens,
                eos_token_id=self.eos_ids[0] if self.eos_ids else None,
            )

    def _observe(self, input_ids: torch.Tensor) -> None:
        core = self._core
        assert core is not None
        rows = torch.arange(input_ids.shape[0], device=core.device)
        last = input_ids[:, -1].to(core.device)
        no = torch.zeros_like(rows, dtype=torch.bool)
        opened = _ends_with(input_ids, self.open_ids).to(core.device) if self.open_ids else no
        closed = _ends_with(input_ids, self.close_ids).to(core.device) if self.close_ids else no
        ended = torch.isin(last, torch.tensor(self.eos_ids, device=core.device)) if self.eos_ids else no
        core.advance(rows, opened, closed, ended)


def _refuse_beam_search() -> None:
    """Raise when called from transformers' `generate` with `num_beams > 1`.

    A logits processor is not told the generation settings; transformers' `generate` holds
    them in its local `generation_config`, so the frames above are read once per generation.
    """
    frame = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            return
        if frame.f_code.co_name == "generate" and frame.f_globals.get("__name__", "").startswith("transformers."):
            num_beams = getattr(frame.f_locals.get("generation_config"), "num_beams", 1) or 1
            if num_beams > 1:
                raise ValueError(
                    f"EntropyHaltingProcessor does not support beam search (num_beams={num_beams}): it keeps one "
                    "state per row and beam search reorders rows; use greedy decoding or sampling (num_beams=1)"
                )
            return
        frame = frame.f_back


def _ends_with(input_ids: torch.Tensor, ids: list[int]) -> torch.Tensor:
    if input_ids.shape[1] < len(ids):
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    tail = input_ids[:, -len(ids) :]
    return (tail == torch.tensor(ids, device=input_ids.device)).all(dim=1)


def _last_index(seq: list[int], sub: list[int]) -> int:
    """Start index of the last occurrence of `sub` in `seq`, −1 if none."""
    if not sub:
        return -1
    for i in range(len(seq) - len(sub), -1, -1):
        if seq[i : i + len(sub)] == sub:
            return i
    return -1
