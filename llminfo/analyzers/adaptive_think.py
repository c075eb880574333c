"""Early halting of reasoning, evaluated per item: no halting, entropy halting, Adaptive Think.

Adaptive Think ("Think or Not? Exploring Thinking Efficiency in Large Reasoning Models via an
Information-Theoretic Lens", 2025) probes the answer distribution while the model reasons:
every `probe_every` tokens or at a paragraph break it appends the closing string and an
answer cue, reads the log-probabilities of the C answer candidates, renormalises them and
stops reasoning at the first probe where H/C < ratio · 1/(e·ln 2) (H in bits). It is built on
the `LanguageModel` interface alone (chunked `generate` + `next_token_logprobs`), so it runs
on every backend. Mode "entropy" uses `EntropyHaltingProcessor` instead (no probes: the
running mean of the next-token entropy), and "none" reasons until the model stops or the
budget runs out. In every mode the answer is then generated after closing string + cue.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from llminfo import measures
from llminfo.models.base import LanguageModel

HALTING_MODES = ("none", "entropy", "adaptive")
DIGITS = tuple(f" {d}" for d in "0123456789")
REASONING_INSTRUCTION = "Think step by step, then give the final answer."
_DEFAULTS: dict[str, Any] = {
    "max_thinking_tokens": 256,
    "max_answer_tokens": 12,
    "close_marker": "",
    "answer_cue": "\nThe answer is",
    "temperature": 0.0,
    "seed": 0,
    # adaptive
    "probe_every": 32,
    "ratio": 0.3,
    "paragraph_probes": True,
    "min_tokens": 0,
    # entropy
    "entropy_threshold": 0.6,
    "window": 16,
}


@dataclass
class HaltingItemResult:
    """One item under one halting mode.

    Attributes:
        mode: "none", "entropy" or "adaptive".
        reasoning: the reasoning text kept (before the closing string).
        answer_text: text generated after the answer cue (first line).
        prediction: the answer parsed from it (a number, an option letter, or the text).
        correct: prediction equals the gold answer (None without one).
        halted: True when the method stopped the reasoning (not the model, not the budget).
        halt_reason: "entropy", "adaptive", "budget", "eos" (model ended) or "closed".
        thinking_tokens / answer_tokens / tokens_used: generated tokens (used = sum).
        tokens_saved: `max_thinking_tokens − thinking_tokens`.
        probes: thinking tokens written at each probe (adaptive).
        entropies: answer entropy (bits) at each probe.
        info_gain: H_{k−1} − H_k between consecutive probes.
        candidates: the answer candidates probed.
    """

    mode: str
    reasoning: str
    answer_text: str
    prediction: str
    correct: bool | None
    halted: bool
    halt_reason: str
    thinking_tokens: int
    answer_tokens: int
    tokens_used: int
    tokens_saved: int
    probes: list[int] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)
    info_gain: list[float] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Run:
    prompt: str
    candidates: list[str]
    text: str = ""
    tokens: int = 0
    done: bool = False
    reason: str = ""
    probes: list[int] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)


def halting_prompt(model: LanguageModel, question: str, options: dict[str, str] | None = None) -> str:
    """The chat prompt: question, lettered options if any, and the step-by-step instruction."""
    body = question.strip()
    if options:
        body += "\n" + "\n".join(f"{k}. {v}" for k, v in options.items())
    return model.chat(f"{body}\n\n{REASONING_INSTRUCTION}")


def answer_candidates(options: dict[str, str] | None) -> list[str]:
    """Option letters (" A", " B", ...) for multiple choice, else the ten digits " 0".." 9"
    (the first token of a number; the interface has no top-k read, so numeric answers use
    this closed set as their first-answer-token candidates)."""
    return [f" {k}" for k in options] if options else list(DIGITS)


def extract_answer(text: str, options: dict[str, str] | None = None) -> str:
    """The option letter (multiple choice) or the first number in `text`; else the stripped text."""
    if options:
        letters = "".join(re.escape(k) for k in options)
        m = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text)
        return m.group(1) if m else text.strip()
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", text)
    return m.group(0).replace(",", "").rstrip(".") if m else text.strip()


def is_correct(prediction: str, gold: Any, options: dict[str, str] | None = None) -> bool:
    if options:
        return prediction.strip().upper() == str(gold).strip().upper()
    try:
        return abs(float(prediction) - float(str(gold).replace(",", ""))) < 1e-9
    except ValueError:
        return prediction.strip().lower() == str(gold).strip().lower()


def run_halting(
    model: LanguageModel, items: Sequence[dict[str, Any]], mode: str, **params: Any
) -> list[HaltingItemResult]:
    """Run `mode` over items (batched: one `generate` call per chunk for all items).

    Args:
        model: any `LanguageModel` ("entropy" mode needs a backend that accepts HF-style
            `processors`).
        items: dicts with "question", optional "answer" (gold) and "options" ({letter: text}).
            A "prompt" key, if present, is used as the formatted prompt instead.
        mode: "none", "entropy" or "adaptive".
        **params: see `_DEFAULTS` — max_thinking_tokens, max_answer_tokens, close_marker,
            answer_cue, temperature, seed; adaptive: probe_every, ratio, paragraph_probes,
            min_tokens; entropy: entropy_threshold (nats), window, min_tokens.

    Example:
        >>> from llminfo import load_model
        >>> rows = run_halting(load_model("default"), [{"question": "What is 2 + 3?", "answer": "5"}], "adaptive",
        ...                    max_thinking_tokens=48, probe_every=16)
        >>> rows[0].mode, len(rows[0].entropies) >= 1
        ('adaptive', True)
    """
    if mode not in HALTING_MODES:
        raise ValueError(f"`mode` has to be one of {', '.join(HALTING_MODES)}, got {mode!r}")
    p = _check_params(params)
    items = [_check_item(it, i) for i, it in enumerate(items)]
    runs = [_Run(it.get("prompt") or halting_prompt(model, it["question"], it.get("options")), answer_candidates(it.get("options"))) for it in items]
    answers: dict[int, tuple[str, int]] = {}
    if mode == "entropy":
        answers = _reason_entropy(model, runs, p)
    else:
        _reason_chunked(model, runs, p, probing=mode == "adaptive")
    todo = [i for i in range(len(runs)) if i not in answers]
    if todo:
        cue = p["close_marker"] + p["answer_cue"]
        outs = model.generate(
            [runs[i].prompt + runs[i].text + cue for i in todo],
            max_new_tokens=p["max_answer_tokens"], temperature=0.0, stop=["\n"], seed=p["seed"],
        )
        for i, [c] in zip(todo, outs):
            answers[i] = (c.text, len(c.token_ids))
    results = []
    for i, (it, run) in enumerate(zip(items, runs)):
        text, n_answer = answers[i]
        text = text.split("\n")[0].strip()
        pred = extract_answer(text, it.get("options"))
        gold = it.get("answer")
        results.append(
            HaltingItemResult(
                mode=mode,
                reasoning=run.text,
                answer_text=text,
                prediction=pred,
                correct=None if gold is None else is_correct(pred, gold, it.get("options")),
                halted=run.reason in ("entropy", "adaptive"),
                halt_reason=run.reason,
                thinking_tokens=run.tokens,
                answer_tokens=n_answer,
                tokens_used=run.tokens + n_answer,
                tokens_saved=max(p["max_thinking_tokens"] - run.tokens, 0),
                probes=run.probes,
                entropies=run.entropies,
                info_gain=measures.info_gain(run.entropies).tolist(),
                candidates=run.candidates,
            )
        )
    return results


def run_halting_item(model: LanguageModel, question: str, mode: str, *, answer: Any = None, options: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    """`run_halting` for one question; returns the result as a dict."""
    item: dict[str, Any] = {"question": question, "answer": answer, "options": options}
    return run_halting(model, [item], mode, **params)[0].to_dict()


# -- modes -----------------------------------------------------------------------------------


def _reason_chunked(model: LanguageModel, runs: list[_Run], p: dict[str, Any], probing: bool) -> None:
    """Generate the reasoning in chunks; with `probing`, probe the answer after each chunk."""
    budget = p["max_thinking_tokens"]
    eos = _eos_ids(model)
    chunk = p["probe_every"] if probing else budget
    stop = ["\n\n"] if probing and p["paragraph_probes"] else None
    close = p["close_marker"]
    for r in runs:
        if budget == 0:
            r.done, r.reason = True, "budget"
    while True:
        active = [r for r in runs if not r.done]
        if not active:
            return
        by_room: dict[int, list[_Run]] = {}
        for r in active:  # rows with the same room left share one generate call
            by_room.setdefault(min(chunk, budget - r.tokens), []).append(r)
        for room, group in by_room.items():
            outs = model.generate(
                [r.prompt + r.text for r in group],
                max_new_tokens=room, temperature=p["temperature"], seed=p["seed"], stop=stop,
            )
            for r, [c] in zip(group, outs):
                _extend(r, c, eos, stop, close, budget)
        if probing:
            _probe(model, [r for r in active if not r.done], p)


def _extend(r: _Run, c: Any, eos: set[int], stop: list[str] | None, close: str, budget: int) -> None:
    """Append one generated chunk to a run; mark it done on EOS, closing string or budget."""
    ids = list(c.token_ids)
    r.tokens += len(ids)
    ended = bool(ids) and ids[-1] in eos
    text = c.text
    if c.finish_reason == "stop" and not ended and stop:
        text += stop[0]  # the paragraph break the stop string cut off
    if close and close in text:
        r.text += text[: text.index(close)]
        r.done, r.reason = True, "closed"
        return
    r.text += text
    if ended or not ids:
        r.done, r.reason = True, "eos"
    elif r.tokens >= budget:
        r.done, r.reason = True, "budget"


def _probe(model: LanguageModel, runs: list[_Run], p: dict[str, Any]) -> None:
    """One probe per run: H of the candidates after closing string + cue; halt on the rule."""
    groups: dict[int, list[_Run]] = {}
    for r in runs:
        groups.setdefault(len(r.candidates), []).append(r)
    cue = p["close_marker"] + p["answer_cue"]
    for c, group in groups.items():
        logp = model.next_token_logprobs([r.prompt + r.text + cue for r in group], [r.candidates for r in group])
        h = measures.answer_entropy_bits(np.asarray(logp))
        halt = measures.should_halt_thinking(h, c, p["ratio"])
        for r, hk, stop in zip(group, h.tolist(), halt.tolist()):
            r.probes.append(r.tokens)
            r.entropies.append(float(hk))
            if stop and r.tokens >= p["min_tokens"] and not r.done:
                r.done, r.reason = True, "adaptive"


def _reason_entropy(model: LanguageModel, runs: list[_Run], p: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """One `generate` with `EntropyHaltingProcessor`; returns answers of the rows it halted."""
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
    eos = _eos_ids(model)
    recs = proc.records()
    for i, (r, [c]) in enumerate(zip(runs, outs)):
        ids = list(c.token_ids)
        # HF runs the processor here and has its records; on vLLM it ran inside the engine:
        # read the halt from the forced string in the output instead.
        rec = recs[i] if len(recs) == len(runs) else _record_from_tokens(ids, proc.forced_ids, p["max_thinking_tokens"], eos)
        if rec.halted:
            assert rec.halt_step is not None
            think = ids[: rec.halt_step]
            after = ids[rec.halt_step + forced :]
            if after and after[-1] in eos:
                after = after[:-1]
            text = tok.decode(after, skip_special_tokens=True)
            n = _tokens_through_newline(tok, after)
            answers[i] = (text, n)
            r.reason = "entropy" if rec.reason == "entropy" else "budget"
        else:
            think = ids[: rec.thinking_tokens] if rec.reason != "not_started" else ids
            r.reason = "closed" if rec.reason == "closed" else "eos"
        r.tokens = len(think)
        body = [t for t in think if t not in eos]
        r.text = tok.decode(body, skip_special_tokens=True)
        if r.reason == "closed" and p["close_marker"] in r.text:
            r.text = r.text[: r.text.index(p["close_marker"])]
    return answers


# -- helpers ---------------------------------------------------------------------------------


def _record_from_tokens(ids: list[int], forced: list[int], budget: int, eos: set[int]) -> Any:
    """A `HaltingRecord` read from the output alone: a halt is the first occurrence of the
    forced tokens (at the budget: "budget", before it: "entropy")."""
    from llminfo.processors.halting_core import HaltingRecord

    n = len(forced)
    at = next((k for k in range(len(ids) - n + 1) if ids[k : k + n] == forced), None)
    if at is not None:
        return HaltingRecord(0, True, "budget" if at >= budget else "entropy", at, at, max(budget - at, 0), float("nan"))
    ended = bool(ids) and ids[-1] in eos
    return HaltingRecord(0, False, "eos" if ended else "thinking", None, len(ids), None, float("nan"))


def _tokens_through_newline(tok: Any, ids: list[int]) -> int:
    """Tokens up to and including the first one whose text holds a newline (answers stop there)."""
    for k, t in enumerate(ids):
        if "\n" in tok.decode([t]):
            return k + 1
    return len(ids)


def _eos_ids(model: LanguageModel) -> set[int]:
    ids = set(getattr(model, "eos_ids", None) or [])
    eos = getattr(model.tokenizer, "eos_token_id", None)
    if eos is not None:
        ids.add(int(eos))
    return ids


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown halting parameter(s) {', '.join(unknown)}; allowed: {', '.join(_DEFAULTS)}")
    p = {**_DEFAULTS, **params}
    for k in ("max_thinking_tokens", "min_tokens", "window", "probe_every", "max_answer_tokens"):
        v = p[k]
        low = 1 if k in ("window", "probe_every", "max_answer_tokens") else 0
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"`{k}` has to be an integer >= {low}, got {v!r}")
    for k in ("close_marker", "answer_cue"):
        if not isinstance(p[k], str):
            raise TypeError(f"`{k}` has to be a string, got {type(p[k]).__name__}")
    measures.halting_threshold(p["ratio"])  # validates `ratio`
    t = p["entropy_threshold"]
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not np.isfinite(t) or t < 0:
        raise ValueError(f"`entropy_threshold` has to be a finite float >= 0 (nats), got {t!r}")
    if not isinstance(p["temperature"], (int, float)) or p["temperature"] < 0:
        raise ValueError(f"`temperature` has to be a float >= 0, got {p['temperature']!r}")
    return p


def _check_item(item: Any, i: int) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"question": item}
    if not isinstance(item, dict):
        raise TypeError(f"`items[{i}]` has to be a dict with a 'question', got {type(item).__name__}")
    q = item.get("question")
    if not isinstance(q, str) or not q.strip():
        raise ValueError(f"`items[{i}]`: 'question' has to be a non-empty string, got {q!r}")
    opts = item.get("options")
    if opts is not None and (not isinstance(opts, dict) or not opts or not all(isinstance(k, str) and len(k) == 1 for k in opts)):
        raise ValueError(f"`items[{i}]`: 'options' has to be a non-empty dict of single letters to texts, got {opts!r}")
    return item
