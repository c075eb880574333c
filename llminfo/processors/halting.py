"""Entropy-based early halting of reasoning as a logits processor (no extra forward passes).

The tensor core `HaltingCore` keeps the per-row state in small tensors and is shared by the
transformers adapter here (`EntropyHaltingProcessor`) and the vLLM V1 adapter in
`llminfo.processors.vllm_halting`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch

from llminfo import measures

# Row phases.
WAITING, THINKING, FORCING, DONE, ANSWERING = 0, 1, 2, 3, 4
# Why a row stopped thinking (index into REASONS).
REASONS = ("thinking", "entropy", "budget", "closed", "eos", "not_started")
_NO_BUDGET = 2**62


@dataclass
class HaltingRecord:
    """What happened to one row of a generation.

    Attributes:
        row: batch row.
        halted: True when the processor forced the closing string (entropy or budget).
        reason: "entropy" (window mean fell below the threshold), "budget" (hit
            `max_thinking_tokens`), "closed" (the model wrote the closing marker itself),
            "eos" (the row ended while thinking), "thinking" (still thinking when generation
            stopped) or "not_started" (the opening marker never appeared).
        halt_step: index among the generated tokens of the first forced token (None if not halted).
        thinking_tokens: tokens generated inside the reasoning span.
        tokens_saved: `max_thinking_tokens − thinking_tokens` for rows that stopped thinking,
            None without a budget or while still thinking.
        window_mean: last window mean of the next-token entropy (nats), NaN if never measured.
    """

    row: int
    halted: bool
    reason: str
    halt_step: int | None
    thinking_tokens: int
    tokens_saved: int | None
    window_mean: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HaltingCore:
    """Per-row halting state for a batch, all in small tensors (no vocabulary-sized state).

    Each row has its own threshold (nats), window, minimum, budget and forced token ids, so
    the vLLM adapter can serve requests with different settings in one batch. Per step the
    adapter calls `advance` with the rows that emitted a token, then `apply` on the logits.

    Args:
        rows: capacity (batch rows).
        device: where the state lives (the logits' device).
    """

    def __init__(self, rows: int, device: torch.device | str = "cpu"):
        d = torch.device(device)
        self.device = d
        z = lambda dtype: torch.zeros(rows, dtype=dtype, device=d)  # noqa: E731
        self.phase = torch.full((rows,), DONE, dtype=torch.long, device=d)
        self.reason = z(torch.long)
        self.gen = z(torch.long)  # tokens generated so far
        self.think_start = z(torch.long)
        self.think_end = torch.full((rows,), -1, dtype=torch.long, device=d)
        self.halt_step = torch.full((rows,), -1, dtype=torch.long, device=d)
        self.n_ent = z(torch.long)
        self.last_mean = torch.full((rows,), float("nan"), device=d)
        self.threshold = z(torch.float32)
        self.window = torch.ones(rows, dtype=torch.long, device=d)
        self.min_tokens = z(torch.long)
        self.budget = torch.full((rows,), _NO_BUDGET, dtype=torch.long, device=d)
        self.forced = torch.zeros((rows, 1), dtype=torch.long, device=d)
        self.forced_len = z(torch.long)
        self.buf = torch.zeros((rows, 1), device=d)
        self.answer_budget = torch.full((rows,), -1, dtype=torch.long, device=d)  # -1: unbounded
        self.eos = z(torch.long)

    # -- configuration ------------------------------------------------------------------

    def configure(
        self,
        row: int,
        *,
        threshold: float,
        window: int,
        min_tokens: int,
        max_thinking_tokens: int | None,
        forced_ids: Sequence[int],
        thinking: bool,
        max_answer_tokens: int | None = None,
        eos_token_id: int | None = None,
    ) -> None:
        """(Re)start row `row` with these settings; `thinking` = the span is already open.
        With `max_answer_tokens`, `eos_token_id` is forced that many tokens after the cue."""
        if window > self.buf.shape[1]:
            self.buf = torch.cat([self.buf, self.buf.new_zeros(self.buf.shape[0], window - self.buf.shape[1])], 1)
        if len(forced_ids) > self.forced.shape[1]:
            extra = self.forced.new_zeros(self.forced.shape[0], len(forced_ids) - self.forced.shape[1])
            self.forced = torch.cat([self.forced, extra], 1)
        self.phase[row] = THINKING if thinking else WAITING
        self.reason[row] = 0
        self.gen[row] = 0
        self.think_start[row] = 0
        self.think_end[row] = -1
        self.halt_step[row] = -1
        self.n_ent[row] = 0
        self.last_mean[row] = float("nan")
        self.threshold[row] = float(threshold)
        self.window[row] = int(window)
        self.min_tokens[row] = int(min_tokens)
        self.budget[row] = _NO_BUDGET if max_thinking_tokens is None else int(max_thinking_tokens)
        self.forced[row, : len(forced_ids)] = torch.tensor(list(forced_ids), dtype=torch.long)
        self.forced_len[row] = len(forced_ids)
        self.buf[row] = 0.0
        bounded = max_answer_tokens is not None and eos_token_id is not None
        self.answer_budget[row] = int(max_answer_tokens) if bounded else -1  # type: ignore[arg-type]
        self.eos[row] = int(eos_token_id) if eos_token_id is not None else 0

    def clear(self, row: int) -> None:
        """Row no longer halts (request removed or without halting)."""
        self.phase[row] = DONE
        self.reason[row] = 0

    def move(self, src: int, dst: int, swap: bool) -> None:
        """Move row `src` to `dst` (or swap them); a one-way move clears `src`."""
        for t in self._tensors():
            if swap:
                t[[src, dst]] = t[[dst, src]]
            else:
                t[dst] = t[src]
        if not swap:
            self.clear(src)

    def _tensors(self) -> list[torch.Tensor]:
        return [
            self.phase, self.reason, self.gen, self.think_start, self.think_end, self.halt_step, self.n_ent,
            self.last_mean, self.threshold, self.window, self.min_tokens, self.budget, self.forced,
            self.forced_len, self.buf, self.answer_budget, self.eos,
        ]  # fmt: skip

    # -- per step -------------------------------------------------------------------------

    def advance(
        self, rows: torch.Tensor, opened: torch.Tensor, closed: torch.Tensor, ended: torch.Tensor
    ) -> None:
        """Rows `rows` (long, (k,)) each emitted one token; flags (bool, (k,)) say whether
        it completed the opening marker, the closing marker, or an end-of-sequence token."""
        if rows.numel() == 0:
            return
        gen = self.gen[rows] + 1
        self.gen[rows] = gen
        ph = self.phase[rows]
        start = (ph == WAITING) & opened
        close = (ph == THINKING) & closed
        end = ((ph == WAITING) | (ph == THINKING)) & ended & ~close
        since = gen - self.halt_step[rows] - self.forced_len[rows]  # answer tokens written
        forced_done = (ph == FORCING) & (since >= 0)
        answer_done = (ph == ANSWERING) & (ended | (since > self.answer_budget[rows]))
        self.think_start[rows] = torch.where(start, gen, self.think_start[rows])
        self.think_end[rows] = torch.where(close | (end & (ph == THINKING)), gen, self.think_end[rows])
        reason = self.reason[rows]
        reason = torch.where(close, 3, reason)
        reason = torch.where(end & (ph == THINKING), 4, reason)
        reason = torch.where(end & (ph == WAITING), 5, reason)
        self.reason[rows] = reason
        ph = torch.where(start & ~end, THINKING, ph)
        ph = torch.where(forced_done & (self.answer_budget[rows] >= 0), ANSWERING, ph)
        done = close | end | answer_done | (forced_done & (self.answer_budget[rows] < 0))
        self.phase[rows] = torch.where(done, DONE, ph)

    def apply(self, scores: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """Record the entropy of thinking rows, start forcing rows that meet the halting
        rule, and force the next token of forcing rows. `scores`: (batch, vocab), row i of
        the batch is state row i. Other rows are returned untouched."""
        b = scores.shape[0]
        phase = self.phase[:b]
        idx = torch.nonzero(phase == THINKING).flatten()
        if idx.numel():
            ent = measures.entropy_from_logits(scores.index_select(0, idx)).to(self.buf.dtype)
            width = self.buf.shape[1]
            n = self.n_ent[idx]
            self.buf[idx, n % width] = ent
            n = n + 1
            self.n_ent[idx] = n
            win = self.window[idx]
            age = (n[:, None] - 1 - torch.arange(width, device=self.device)) % width
            have = torch.minimum(n, win)
            mean = (self.buf[idx] * (age < have[:, None])).sum(1) / have
            self.last_mean[idx] = mean
            thought = self.gen[idx] - self.think_start[idx]
            low = (n >= win) & (thought >= self.min_tokens[idx]) & (mean < self.threshold[idx])
            fire = low | (thought >= self.budget[idx])
            if bool(fire.any()):
                rows = idx[fire]
                self.phase[rows] = FORCING
                self.halt_step[rows] = self.gen[rows]
                self.think_end[rows] = self.gen[rows]
                self.reason[rows] = torch.where(low[fire], 1, 2)
        fidx = torch.nonzero(phase == FORCING).flatten()
        tok = self.forced[fidx, self.gen[fidx] - self.halt_step[fidx]]
        aidx = torch.nonzero(phase == ANSWERING).flatten()
        if aidx.numel():  # rows that used their answer budget end now
            used = self.gen[aidx] - self.halt_step[aidx] - self.forced_len[aidx]
            aidx = aidx[used >= self.answer_budget[aidx]]
            fidx, tok = torch.cat([fidx, aidx]), torch.cat([tok, self.eos[aidx]])
        if fidx.numel() == 0:
            return scores
        out = scores if inplace else scores.clone()
        out[fidx] = float("-inf")
        out[fidx, tok] = 0.0
        return out

    def any_pending(self, b: int) -> bool:
        """True when some of the first `b` rows is waiting, thinking or forcing."""
        return bool((self.phase[:b] != DONE).any())

    def records(self, rows: int) -> list[HaltingRecord]:
        out = []
        for r in range(rows):
            reason = int(self.reason[r])
            phase = int(self.phase[r])
            if reason == 0 and phase == WAITING:
                reason = 5
            end = int(self.think_end[r])
            start = int(self.think_start[r])
            thinking = 0 if reason == 5 else (end if end >= 0 else int(self.gen[r])) - start
            budget = int(self.budget[r])
            stopped = reason in (1, 2, 3, 4)
            out.append(
                HaltingRecord(
                    row=r,
                    halted=reason in (1, 2),
                    reason=REASONS[reason],
                    halt_step=int(self.halt_step[r]) if reason in (1, 2) else None,
                    thinking_tokens=max(thinking, 0),
                    tokens_saved=max(budget - thinking, 0) if stopped and budget != _NO_BUDGET else None,
                    window_mean=float(self.last_mean[r]),
                )
            )
        return out


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


class EntropyHaltingProcessor:
    r"""Stops reasoning early once the model's next-token entropy has stayed low.

    Inside the reasoning span (after `open_marker`, or from the first generated token when
    it is None) each row's next-token entropy H (nats) is recorded; once the row has written
    at least `min_tokens` reasoning tokens and the mean of H over the last `window` steps is
    below `threshold`, the processor forces the tokens of `close_marker + answer_cue` (every
    other logit set to −inf), then lets the answer be generated. A row that reaches
    `max_thinking_tokens` is forced the same way. Rows are independent; a row whose model
    writes `close_marker` itself is left alone from then on. This is the forward-pass-free
    variant of the entropy halting in "Think or Not? Exploring Thinking Efficiency in Large
    Reasoning Models via an Information-Theoretic Lens" (2025); the probe-based variant is
    `llminfo.analyzers.adaptive_think`.

    The entropy is that of the scores the processor receives: put it before temperature /
    top-k / top-p warpers to monitor the model's own distribution. Markers are matched as
    the token ids `tokenizer.encode(marker)` gives (exact for special tokens such as
    `<think>`). Beam search is not supported (rows are assumed not to be reordered). One
    instance serves one generation at a time; it resets itself when a new one starts, and
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
        >>> from transformers import LogitsProcessorList
        >>> halt = EntropyHaltingProcessor(tok, threshold=0.5, max_thinking_tokens=256, close_marker="")
        >>> out = hf_model.generate(**inputs, max_new_tokens=300, logits_processor=LogitsProcessorList([halt]))
        >>> halt.records()[0].reason  # e.g. "entropy"
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
        self._core: HaltingCore | None = None
        self._rows = 0
        self._last_len = -1
        self._prompt_tail: torch.Tensor | None = None
        self._prompt_len = 0

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
            self._start(input_ids, scores.device)
        else:
            self._observe(input_ids)
        self._last_len = length
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
