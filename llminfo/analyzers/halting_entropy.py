"""Mode "entropy" of `run_halting`: llminfo's own streaming rule, not a paper's protocol.

One `generate` call with `EntropyHaltingProcessor` (window mean of the next-token entropy,
no probes). Kept apart from `adaptive_think` (the paper's probe protocol) so each module
reads as one method.
"""

from __future__ import annotations

from typing import Any

from llminfo.processors.halting_reasons import BUDGET, CLOSED, ENTROPY, EOS, NOT_STARTED, STILL_THINKING


def reason_entropy(model: Any, runs: list[Any], p: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """One `generate` with `EntropyHaltingProcessor`; fills each run's reasoning and returns
    the answers (text, tokens) of the rows it halted."""
    from llminfo.processors.halting import EntropyHaltingProcessor

    tok = model.tokenizer
    proc = EntropyHaltingProcessor(
        tok, threshold=p["entropy_threshold"], window=p["window"], min_tokens=p["min_tokens"],
        max_thinking_tokens=p["max_thinking_tokens"], close_marker=p["close_marker"], answer_cue=p["answer_cue"],
        max_answer_tokens=p["max_answer_tokens"],
    )  # fmt: skip
    forced = len(proc.forced_ids)
    outs = model.generate(
        [r.prompt for r in runs],
        max_new_tokens=p["max_thinking_tokens"] + forced + p["max_answer_tokens"],
        temperature=p["temperature"], seed=p["seed"], processors=[proc],
    )
    answers = {}
    eos = eos_ids(model)
    recs = proc.records()
    for i, (r, [c]) in enumerate(zip(runs, outs)):
        ids = list(c.token_ids)
        # HF runs the processor here and has its records; on vLLM it ran inside the engine:
        # read the halt from the forced string in the output instead.
        rec = recs[i] if len(recs) == len(runs) else record_from_tokens(ids, proc.forced_ids, p["max_thinking_tokens"], eos)
        if rec.halted:
            assert rec.halt_step is not None
            think = ids[: rec.halt_step]
            after = ids[rec.halt_step + forced :]
            if after and after[-1] in eos:
                after = after[:-1]
            answers[i] = (tok.decode(after, skip_special_tokens=True), _tokens_through_newline(tok, after))
            r.reason = ENTROPY if rec.reason == ENTROPY else BUDGET
        else:
            think = ids[: rec.thinking_tokens] if rec.reason != NOT_STARTED else ids
            r.reason = CLOSED if rec.reason == CLOSED else EOS
        r.tokens = len(think)
        r.text = tok.decode([t for t in think if t not in eos], skip_special_tokens=True)
        if r.reason == CLOSED and p["close_marker"] in r.text:
            r.text = r.text[: r.text.index(p["close_marker"])]
    return answers


def record_from_tokens(ids: list[int], forced: list[int], budget: int, eos: set[int]) -> Any:
    """A `HaltingRecord` read from the output alone: a halt is the first occurrence of the
    forced tokens (at the budget: "budget", before it: "entropy")."""
    from llminfo.processors.halting_core import HaltingRecord

    n = len(forced)
    at = next((k for k in range(len(ids) - n + 1) if ids[k : k + n] == forced), None)
    if at is not None:
        return HaltingRecord(0, True, BUDGET if at >= budget else ENTROPY, at, at, max(budget - at, 0), float("nan"))
    ended = bool(ids) and ids[-1] in eos
    return HaltingRecord(0, False, EOS if ended else STILL_THINKING, None, len(ids), None, float("nan"))


def _tokens_through_newline(tok: Any, ids: list[int]) -> int:
    """Tokens up to and including the first one whose text holds a newline (answers stop there)."""
    for k, t in enumerate(ids):
        if "\n" in tok.decode([t]):
            return k + 1
    return len(ids)


def eos_ids(model: Any) -> set[int]:
    ids = set(getattr(model, "eos_ids", None) or [])
    eos = getattr(model.tokenizer, "eos_token_id", None)
    if eos is not None:
        ids.add(int(eos))
    return ids
