"""Early halting of reasoning, evaluated per item: the "Think or Not?" protocol and baselines.

"Think or Not? Exploring Thinking Efficiency in Large Reasoning Models via an
Information-Theoretic Lens" (Yong et al., 2025, arXiv:2505.18237). Its Adaptive Think probes
the *answer distribution* while the model reasons: at a probe it appends the closing string
and an answer cue, reads p(candidate) for the task's answer candidates, renormalises them and
stops reasoning at the first probe where H/C < ratio · 1/(e·ln 2) (H in bits, C candidates);
the answer is then the probe's argmax. Following the paper, mode "adaptive":

- probes once *before any reasoning* (an item whose answer is already certain halts with zero
  thinking tokens), then at paragraph boundaries ("\\n\\n"), paragraphs shorter than
  `min_paragraph_tokens` merged with the next;
- uses the task's full answer candidates: the option letters of a multiple-choice item; for a
  free-form numeric item the full numbers the probes themselves answer (one greedy and
  `probe_samples` sampled answers after the cue at each probe, pooled over the item's probes,
  at most `max_candidates`), each scored in full;
- answers with the argmax candidate of its last probe (the halting probe, or a closing probe
  where reasoning ended by itself or at the budget).

Baselines the paper reports: "none" (Vanilla Think: reason until the model stops or the budget
runs out, then generate the answer), "no_think" (no reasoning: the closing string and cue
straight after the prompt) and "gated" (Gated Think: the probe before reasoning decides
once — confident: answer with its argmax and no thinking; else reason as Vanilla Think).
Per probe it records the entropy H_k, InfoGain_k = H_{k−1} − H_k and, with a gold answer,
InfoBias_k = −log₂ p̂(gold) over the candidates plus the gold (measured only, never used to
decide): the paper's "divergence from the ideal reasoning path", read in the answer space.

llminfo's own additions, named as such: `probe_every` caps the tokens between probes (a model
that never writes a blank line is still probed; the paper has no cap), and mode "entropy" —
a streaming rule on the *next-token* entropy (`EntropyHaltingProcessor`, no probes, window
mean below a threshold; `llminfo.analyzers.halting_entropy`), which is not the paper's rule.
Everything is built on the `LanguageModel` interface (batched `generate` +
`next_token_logprobs`), so it runs on every backend. Candidates, answer extraction and
matching (text only) live in `llminfo.analyzers.halting_answers`.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.adaptive_think import run_halting
    >>> m = load_model("default")
    >>> [r] = run_halting(m, [{"question": "What is 2 + 3?", "answer": "5"}], "adaptive")
    >>> r.probes, r.prediction, r.thinking_tokens  # confident before any reasoning: halts at once
    ([0], '5', 0)
    >>> r.entropies[0] < 0.531 * 0.3  # answer entropy (bits) already below the halting threshold
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from llminfo import measures
from llminfo.analyzers.halting_answers import (
    NUMBER,
    answer_candidates,
    canonical_number,
    extract_answer,
    gold_answer,
    is_correct,
)
from llminfo.analyzers.halting_entropy import eos_ids, reason_entropy
from llminfo.analyzers.prompts import instruction_prompt
from llminfo.models.base import LanguageModel
from llminfo.processors.halting_reasons import BUDGET, CLOSED, ENTROPY, EOS

HALTING_MODES = ("none", "no_think", "gated", "adaptive", "entropy")
PROBING_MODES = ("gated", "adaptive")
REASONING_INSTRUCTION = "Think step by step, then give the final answer."
_DEFAULTS: dict[str, Any] = {
    "max_thinking_tokens": 256,
    "max_answer_tokens": 12,
    "close_marker": "",
    "answer_cue": "\nThe answer is",
    "temperature": 0.0,
    "seed": 0,
    # adaptive / gated (the paper)
    "ratio": 0.3,
    "min_paragraph_tokens": 16,
    "paragraph_probes": True,
    "probe_samples": 4,
    "max_candidates": 10,
    "min_tokens": 0,
    # llminfo's cap between probes (adaptive), and the streaming rule (entropy)
    "probe_every": 128,
    "entropy_threshold": 0.6,
    "window": 16,
}


@dataclass
class HaltingItemResult:
    """One item under one halting mode.

    Attributes:
        mode: one of `HALTING_MODES`.
        reasoning: the reasoning text kept (before the closing string).
        answer_text: the answer: the probe's argmax candidate (answer_source "probe") or the
            text generated after the cue, first line (answer_source "generated").
        answer_source: "probe" or "generated".
        prediction: the answer parsed from it (a number, an option letter, or the text).
        correct: prediction equals the gold answer (None without one).
        halted: True when a probe rule stopped the reasoning (not the model, not the budget).
        halt_reason: the mode whose rule stopped the reasoning ("adaptive", "gated", "no_think"), or
            a name of `llminfo.processors.halting_reasons`: "entropy", "budget", "eos" (model
            ended) or "closed" (the model wrote the closing string).
        thinking_tokens / answer_tokens / tokens_used: generated tokens (used = sum).
        tokens_saved: `max_thinking_tokens − thinking_tokens`.
        probes: thinking tokens written at each probe (0 = before any reasoning).
        entropies: answer entropy H_k (bits) at each probe.
        info_gain: InfoGain_k = H_{k−1} − H_k between consecutive probes.
        info_bias: InfoBias_k = −log₂ p̂(gold) at each probe (empty without a gold answer).
        candidates: the answer candidates of the last probe.
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
    info_bias: list[float] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    answer_source: str = "generated"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Run:
    prompt: str
    options: dict[str, str] | None
    gold: str | None = None  # the gold answer as a candidate string (" 42", " B"), for InfoBias
    pool: list[str] = field(default_factory=list)  # numeric candidates found by the probes
    candidates: list[str] = field(default_factory=list)
    text: str = ""
    tokens: int = 0
    since: int = 0  # tokens since the last probe
    done: bool = False
    reason: str = ""
    probes: list[int] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)
    info_bias: list[float] = field(default_factory=list)
    best: str = ""  # argmax candidate of the last probe


def halting_prompt(model: LanguageModel, question: str, options: dict[str, str] | None = None) -> str:
    """The chat prompt: question, lettered options if any, and the step-by-step instruction."""
    body = question.strip()
    if options:
        body += "\n" + "\n".join(f"{k}. {v}" for k, v in options.items())
    return instruction_prompt(model, f"{body}\n\n{REASONING_INSTRUCTION}", cue="Reasoning:")


def run_halting(
    model: LanguageModel, items: Sequence[dict[str, Any]], mode: str, **params: Any
) -> list[HaltingItemResult]:
    """Run `mode` over items (batched: one `generate` / probe call per step for all items).

    Args:
        model: any `LanguageModel` ("entropy" mode needs a backend that accepts HF-style
            `processors`).
        items: dicts with "question", optional "answer" (gold) and "options" ({letter: text}).
            A "prompt" key, if present, is used as the formatted prompt instead.
        mode: one of `HALTING_MODES`: "adaptive" (the paper), "none" (Vanilla Think),
            "no_think", "gated" (Gated Think), "entropy" (llminfo's streaming rule).
        **params: see `_DEFAULTS` — max_thinking_tokens, max_answer_tokens, close_marker,
            answer_cue, temperature, seed; adaptive / gated: ratio, min_paragraph_tokens,
            paragraph_probes, probe_samples, max_candidates, min_tokens, probe_every;
            entropy: entropy_threshold (nats), window, min_tokens.

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
    runs = []
    for it in items:
        opts, gold = it.get("options"), it.get("answer")
        g = None if gold is None else " " + (gold_answer(gold).upper() if opts else canonical_number(gold_answer(gold)))
        runs.append(_Run(it.get("prompt") or halting_prompt(model, it["question"], opts), opts, g))
    answers: dict[int, tuple[str, int]] = {}
    if mode == "entropy":
        answers = reason_entropy(model, runs, p)
    elif mode == "no_think":
        for r in runs:
            r.done, r.reason = True, mode
    elif mode == "none":
        _reason(model, runs, p, probing=False)
    else:
        _probe(model, runs, p, mode)  # before any reasoning: may halt with zero thinking
        if mode == "gated":
            _reason(model, [r for r in runs if not r.done], p, probing=False)
        else:
            _reason(model, runs, p, probing=True)
            closing = [r for r in runs if r.reason not in PROBING_MODES and (not r.probes or r.probes[-1] != r.tokens)]
            _probe(model, closing, p, mode, decide=False)  # the answer where reasoning ended
    todo = [i for i, r in enumerate(runs) if i not in answers and not (mode == "adaptive" or r.reason in PROBING_MODES)]
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
        source = "generated" if i in answers else "probe"
        text, n_answer = answers[i] if i in answers else (run.best.strip(), _count_tokens(model, run.best))
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
                halted=run.reason in (ENTROPY, *PROBING_MODES),
                halt_reason=run.reason,
                thinking_tokens=run.tokens,
                answer_tokens=n_answer,
                tokens_used=run.tokens + n_answer,
                tokens_saved=max(p["max_thinking_tokens"] - run.tokens, 0),
                probes=run.probes,
                entropies=run.entropies,
                info_gain=measures.info_gain(run.entropies).tolist(),
                info_bias=run.info_bias,
                candidates=run.candidates,
                answer_source=source,
            )
        )
    return results


def run_halting_item(model: LanguageModel, question: str, mode: str, *, answer: Any = None, options: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    """`run_halting` for one question; returns the result as a dict."""
    item: dict[str, Any] = {"question": question, "answer": answer, "options": options}
    return run_halting(model, [item], mode, **params)[0].to_dict()


# -- reasoning and probes --------------------------------------------------------------------


def _reason(model: LanguageModel, runs: list[_Run], p: dict[str, Any], probing: bool) -> None:
    """Generate the reasoning; with `probing`, probe at merged paragraph boundaries (paragraphs
    shorter than `min_paragraph_tokens` join the next) and after `probe_every` tokens at most."""
    budget = p["max_thinking_tokens"]
    eos = eos_ids(model)
    stop = ["\n\n"] if probing and p["paragraph_probes"] else None
    for r in runs:
        if budget == 0 and not r.done:
            r.done, r.reason = True, BUDGET
    while True:
        active = [r for r in runs if not r.done]
        if not active:
            return
        by_room: dict[int, list[_Run]] = {}
        for r in active:  # rows with the same room left share one generate call
            room = budget - r.tokens
            by_room.setdefault(min(p["probe_every"] - r.since, room) if probing else room, []).append(r)
        for room, group in by_room.items():
            outs = model.generate(
                [r.prompt + r.text for r in group],
                max_new_tokens=room, temperature=p["temperature"], seed=p["seed"], stop=stop,
            )
            for r, [c] in zip(group, outs):
                _extend(r, c, eos, stop, p["close_marker"], budget)
        if probing:
            low = p["min_paragraph_tokens"] if stop else p["probe_every"]
            _probe(model, [r for r in active if not r.done and r.since >= min(low, p["probe_every"])], p, "adaptive")


def _extend(r: _Run, c: Any, eos: set[int], stop: list[str] | None, close: str, budget: int) -> None:
    """Append one generated chunk to a run; mark it done on EOS, closing string or budget."""
    ids = list(c.token_ids)
    r.tokens += len(ids)
    r.since += len(ids)
    ended = bool(ids) and ids[-1] in eos
    text = c.text
    if c.finish_reason == "stop" and not ended and stop:
        text += stop[0]  # the paragraph break the stop string cut off
    if close and close in text:
        r.text += text[: text.index(close)]
        r.done, r.reason = True, CLOSED
        return
    r.text += text
    if ended or not ids:
        r.done, r.reason = True, EOS
    elif r.tokens >= budget:
        r.done, r.reason = True, BUDGET


def _probe(model: LanguageModel, runs: list[_Run], p: dict[str, Any], mode: str, decide: bool = True) -> None:
    """One probe per run after closing string + cue: the candidates' renormalised distribution
    (H_k, argmax, InfoBias_k); with `decide`, halt the runs that meet the paper's rule."""
    if not runs:
        return
    cue = p["close_marker"] + p["answer_cue"]
    prompts = [r.prompt + r.text + cue for r in runs]
    numeric = [i for i, r in enumerate(runs) if not r.options]
    if numeric:  # the probe's own answers are the numeric candidates
        _collect_numbers(model, [runs[i] for i in numeric], [prompts[i] for i in numeric], p)
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(runs):
        r.candidates = answer_candidates(r.options, [x.strip() for x in r.pool])
        scored = r.candidates + ([r.gold] if r.gold is not None and r.gold not in r.candidates else [])
        groups.setdefault(len(scored), []).append(i)
    for _size, idx in groups.items():
        lists = [runs[i].candidates + ([runs[i].gold] if runs[i].gold is not None and runs[i].gold not in runs[i].candidates else []) for i in idx]
        logp = np.asarray(model.next_token_logprobs([prompts[i] for i in idx], lists), dtype=np.float64)
        for i, row, cands in zip(idx, logp, lists):
            r = runs[i]
            c = len(r.candidates)
            h = float(measures.answer_entropy_bits(row[:c]))
            r.probes.append(r.tokens)
            r.entropies.append(h)
            r.best = r.candidates[int(np.argmax(row[:c]))]
            r.since = 0
            if r.gold is not None:
                q = measures.normalize_logprobs(row)
                r.info_bias.append(float(-np.log2(max(q[cands.index(r.gold)], 1e-300))))
            if decide and not r.done and r.tokens >= p["min_tokens"] and bool(measures.should_halt_thinking(h, c, p["ratio"])):
                r.done, r.reason = True, mode


def _collect_numbers(model: LanguageModel, runs: list[_Run], prompts: list[str], p: dict[str, Any]) -> None:
    """Add the numbers the model answers at this probe (greedy, then `probe_samples` samples
    at T = 1) to each run's candidate pool (first seen first, at most `max_candidates`)."""
    calls = [dict(n=1, temperature=0.0)] + ([dict(n=p["probe_samples"], temperature=1.0)] if p["probe_samples"] else [])
    for kw in calls:
        outs = model.generate(prompts, max_new_tokens=p["max_answer_tokens"], stop=["\n"], seed=p["seed"], **kw)
        for r, comps in zip(runs, outs):
            for c in comps:
                m = NUMBER.search(c.text)
                x = canonical_number(m.group(0)) if m else None
                if x is not None and x not in r.pool and len(r.pool) < p["max_candidates"]:
                    r.pool.append(x)
    for r in runs:
        if not r.pool:  # the model answered no number at all: a single placeholder, H = 0
            r.pool.append("0")


def _count_tokens(model: LanguageModel, text: str) -> int:
    return len(model.tokenizer.encode(text, add_special_tokens=False)) if text else 0


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown halting parameter(s) {', '.join(unknown)}; allowed: {', '.join(_DEFAULTS)}")
    p = {**_DEFAULTS, **params}
    ints = {"max_thinking_tokens": 0, "min_tokens": 0, "window": 1, "probe_every": 1, "max_answer_tokens": 1,
            "min_paragraph_tokens": 0, "probe_samples": 0, "max_candidates": 2}  # fmt: skip
    for k, low in ints.items():
        v = p[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"`{k}` has to be an integer >= {low}, got {v!r}")
    for k in ("close_marker", "answer_cue"):
        if not isinstance(p[k], str):
            raise TypeError(f"`{k}` has to be a string, got {type(p[k]).__name__}")
    if not isinstance(p["paragraph_probes"], bool):
        raise TypeError(f"`paragraph_probes` has to be a bool, got {p['paragraph_probes']!r}")
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
