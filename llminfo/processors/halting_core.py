"""The tensor core of entropy-based early halting: per-row state in small tensors.

Shared by the transformers adapter (`llminfo.processors.halting.EntropyHaltingProcessor`) and
the vLLM adapters for both runners (`llminfo.processors.vllm_halting`). No vocabulary-sized state is kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch

from llminfo import measures
# Why a row stopped thinking: a code per row in the state, its name in `HaltingRecord.reason`
# (re-exported here: part of this module's API).
from llminfo.processors.halting_reasons import (  # noqa: F401
    REASON_BUDGET,
    REASON_CLOSED,
    REASON_ENTROPY,
    REASON_EOS,
    REASON_NOT_STARTED,
    REASON_THINKING,
    REASONS,
)

# Row phases.
WAITING, THINKING, FORCING, DONE, ANSWERING = 0, 1, 2, 3, 4
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
        self.reason[row] = REASON_THINKING
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
        self.reason[row] = REASON_THINKING

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
        reason = torch.where(close, REASON_CLOSED, reason)
        reason = torch.where(end & (ph == THINKING), REASON_EOS, reason)
        reason = torch.where(end & (ph == WAITING), REASON_NOT_STARTED, reason)
        self.reason[rows] = reason
        ph = torch.where(start & ~end, THINKING, ph)
        ph = torch.where(forced_done & (self.answer_budget[rows] >= 0), ANSWERING, ph)
        done = close | end | answer_done | (forced_done & (self.answer_budget[rows] < 0))
        self.phase[rows] = torch.where(done, DONE, ph)

    def apply(
        self,
        scores: torch.Tensor,
        inplace: bool = False,
        slots: torch.Tensor | None = None,
        offsets: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Record the entropy of thinking rows, start forcing rows that meet the halting
        rule, and force the next token of forcing rows. `scores`: (batch, vocab); row i is
        state row i, or state row `slots[i]` when `slots` (long, (batch,)) is given (vLLM's
        Model Runner V2 maps logits rows to request slots). `offsets` (long, (batch,)): the
        row's draft offset under speculative decoding: only offset-0 rows are monitored, and
        a forcing row at offset k gets the k-th next forced token. Other rows are untouched."""
        b = scores.shape[0]
        phase = self.phase[:b] if slots is None else self.phase[slots]
        watch = phase == THINKING if offsets is None else (phase == THINKING) & (offsets == 0)
        idx = torch.nonzero(watch).flatten()
        if idx.numel():
            st = idx if slots is None else slots[idx]
            think_scores = scores if idx.numel() == b else scores.index_select(0, idx)  # no copy if all think
            ent = measures.entropy_from_logits(think_scores).to(self.buf.dtype)
            width = self.buf.shape[1]
            n = self.n_ent[st]
            self.buf[st, n % width] = ent
            n = n + 1
            self.n_ent[st] = n
            win = self.window[st]
            age = (n[:, None] - 1 - torch.arange(width, device=self.device)) % width
            have = torch.minimum(n, win)
            mean = (self.buf[st] * (age < have[:, None])).sum(1) / have
            self.last_mean[st] = mean
            thought = self.gen[st] - self.think_start[st]
            low = (n >= win) & (thought >= self.min_tokens[st]) & (mean < self.threshold[st])
            fire = low | (thought >= self.budget[st])
            if bool(fire.any()):
                rows = st[fire]
                self.phase[rows] = FORCING
                self.halt_step[rows] = self.gen[rows]
                self.think_end[rows] = self.gen[rows]
                self.reason[rows] = torch.where(low[fire], REASON_ENTROPY, REASON_BUDGET)
                if slots is not None:
                    phase = self.phase[slots]
        fidx = torch.nonzero(phase == FORCING).flatten()
        sf = fidx if slots is None else slots[fidx]
        step = self.gen[sf] - self.halt_step[sf]
        if offsets is not None:
            step = step + offsets[fidx]
            inside = step < self.forced_len[sf]  # a draft row past the forced string: left alone
            fidx, sf, step = fidx[inside], sf[inside], step[inside]
        tok = self.forced[sf, step]
        aidx = torch.nonzero(phase == ANSWERING if offsets is None else (phase == ANSWERING) & (offsets == 0)).flatten()
        if aidx.numel():  # rows that used their answer budget end now
            sa = aidx if slots is None else slots[aidx]
            used = self.gen[sa] - self.halt_step[sa] - self.forced_len[sa]
            over = used >= self.answer_budget[sa]
            fidx, tok = torch.cat([fidx, aidx[over]]), torch.cat([tok, self.eos[sa[over]]])
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
            if reason == REASON_THINKING and phase == WAITING:
                reason = REASON_NOT_STARTED
            end = int(self.think_end[r])
            start = int(self.think_start[r])
            thinking = 0 if reason == REASON_NOT_STARTED else (end if end >= 0 else int(self.gen[r])) - start
            budget = int(self.budget[r])
            stopped = reason in (REASON_ENTROPY, REASON_BUDGET, REASON_CLOSED, REASON_EOS)
            out.append(
                HaltingRecord(
                    row=r,
                    halted=reason in (REASON_ENTROPY, REASON_BUDGET),
                    reason=REASONS[reason],
                    halt_step=int(self.halt_step[r]) if reason in (REASON_ENTROPY, REASON_BUDGET) else None,
                    thinking_tokens=max(thinking, 0),
                    tokens_saved=max(budget - thinking, 0) if stopped and budget != _NO_BUDGET else None,
                    window_mean=float(self.last_mean[r]),
                )
            )
        return out
