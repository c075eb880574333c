"""EDFL / ISR answer-or-abstain decisions (Chlon et al., 2025, "Compression Failure in LLMs:
Bayesian in Expectation, Not in Realization"; the "hallbayes" toolkit).

The model is asked whether it will answer or refuse, on the full prompt and on m skeleton
prompts in which the evidence is masked (the context, or closed-book the question's
entities, numbers, years and quoted spans, masked with increasing probability). The
probability of the "answer" decision is read white-box from the decision tokens
(`model.next_token_logprobs`), or estimated from n sampled decisions. How much the full
prompt lifts that probability over the skeletons is the information budget Δ̄; the EDFL
inequality turns it into a bound on the success probability p_max and a risk bound
RoH = 1 − p_max, and compares it with the bits-to-trust B2T needed for hallucination rate
h*: answer iff ISR = Δ̄ / B2T ≥ 1 and Δ̄ ≥ B2T + margin. Formulas: `llminfo.measures`.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.edfl import EDFLRiskAnalyzer
    >>> model = load_model("default")
    >>> [r] = EDFLRiskAnalyzer().score(model, ["Who wrote 'War and Peace'?"])
    >>> 0 <= r.score <= 1, r.details["decision"] in ("answer", "abstain"), r.details["isr"] >= 0  # RoH bound, decision, ISR
    (True, True, True)
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any, Sequence

import numpy as np

from llminfo import measures
from llminfo.analyzers.base import (
    HallucinationMethod,
    MethodResult,
    QAItem,
    SampleCache,
    answers_for,
    qa_prompt,
)
from llminfo.models.base import LanguageModel

DECISION_TEMPLATE = (
    "{evidence}Question: {question}\n\n"
    "Decide whether you can answer this question correctly. "
    "Reply with one word: Answer if you know the answer, Skip if you do not."
)
# hallbayes' masking levels for m = 6 skeletons; other m interpolate the same range.
MASK_LEVELS = (0.25, 0.35, 0.5, 0.65, 0.8, 0.9)
MASK = "[...]"
# How `score` (higher = riskier, in [0, 1]) is read from the EDFL quantities.
SCORE_BY = {
    "roh": lambda d: d["roh"],  # the EDFL risk bound 1 − p_max
    "isr": lambda d: 1.0 / (1.0 + d["isr"]),  # low information sufficiency = risky
    "delta": lambda d: math.exp(-d["delta_bar"]),  # small information lift = risky
}

_QUOTED = r"\"[^\"]+\"|“[^”]+”|(?<!\w)'[^']+'(?!\w)"
_NUMBER = r"\b\d[\d,.:/]*(?:st|nd|rd|th|s)?\b"
_PROPER = r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|the|de|la|von|van|and|du|del)\s+)*[A-Z][\w'’-]*)*"
_SPANS = re.compile(f"{_QUOTED}|{_NUMBER}|{_PROPER}")
_WORD = re.compile(r"\b[A-Za-z][\w'’-]{3,}\b")
# Capitalised only because they start a sentence: not entities.
_COMMON = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "in", "on", "at", "the",
    "a", "an", "name", "give", "is", "was", "are", "were", "does", "did", "do", "of", "for", "by",
    "from", "to", "and", "or", "if", "this", "that", "these", "those", "it", "its", "question",
    "answer", "tell", "list", "can", "could", "would", "should", "about", "with", "into", "many",
    "much", "have", "has", "had", "been", "being", "there", "their", "they", "than", "then", "also",
}


def maskable_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans to mask in `text`: (evidence spans, content-word spans).

    Evidence spans are entities (capitalised phrases), numbers/years/ordinals and quoted
    strings; content words are the other 4+-letter words that are not question/function
    words (masked at half the rate, so single-entity questions still get varied skeletons).
    """
    spans = [(m.start(), m.end()) for m in _SPANS.finditer(text) if m.group(0).lower() not in _COMMON]
    taken = np.zeros(len(text) + 1, dtype=bool)
    for s, e in spans:
        taken[s:e] = True
    words = [
        (m.start(), m.end())
        for m in _WORD.finditer(text)
        if m.group(0).lower() not in _COMMON and not taken[m.start() : m.end()].any()
    ]
    return spans, words


def mask_levels(num_skeletons: int) -> list[float]:
    """Masking probability of each skeleton, increasing: hallbayes' six levels, interpolated."""
    if num_skeletons == len(MASK_LEVELS):
        return list(MASK_LEVELS)
    return list(np.linspace(MASK_LEVELS[0], MASK_LEVELS[-1], num_skeletons)) if num_skeletons > 1 else [0.5]


def skeletons(text: str, num_skeletons: int, seed: int = 0, mask: str = MASK) -> list[str]:
    """`num_skeletons` copies of `text` with maskable spans replaced by `mask`, seeded.

    Skeleton k masks each evidence span with probability `mask_levels(m)[k]` (content words
    with half that) and always at least one span (a skeleton equal to the full prompt
    carries no information). The random stream depends only on (seed, text), so a batch
    gives the same skeletons as one item at a time.
    """
    spans, words = maskable_spans(text)
    if not spans and not words:
        return [mask] * num_skeletons
    rng = np.random.default_rng([seed, zlib.crc32(text.encode("utf-8"))])
    out = []
    for level in mask_levels(num_skeletons):
        word_rate = level / 2 if spans else level  # no evidence spans: the words are the evidence
        rate = np.array([level] * len(spans) + [word_rate] * len(words))
        hide = rng.random(len(rate)) < rate
        if not hide[: len(spans)].any():
            hide[rng.integers(len(spans)) if spans else len(spans) + rng.integers(len(words))] = True
        chosen = sorted((s, e) for (s, e), h in zip(spans + words, hide) if h)
        pieces, pos = [], 0
        for s, e in chosen:
            pieces.append(text[pos:s])
            pieces.append(mask)
            pos = e
        pieces.append(text[pos:])
        out.append("".join(pieces))
    return out


class EDFLRiskAnalyzer(HallucinationMethod):
    """Answer-or-abstain decision and hallucination-risk bound by EDFL / ISR (Chlon et al., 2025).

    Score = RoH = 1 − p_max (higher = riskier). `details` holds p_answer (full prompt), q_k
    (skeletons), Δ̄, q̄, q_lo, p_max, B2T, ISR and the decision.

    Args:
        num_skeletons (`int`, defaults to 6): skeleton prompts m per item.
        h_star (`float`, defaults to 0.05): target hallucination rate h*.
        margin (`float`, defaults to 0.2): extra nats Δ̄ must exceed B2T by to answer.
        clip (`float`, defaults to 12.0): cap B on each log-lift term of Δ̄.
        mode (`str`, defaults to "logprobs"): "logprobs" reads P(answer) from the decision
            tokens (one forward per prompt); "samples" samples `num_samples` decisions.
        num_samples (`int`, defaults to 8): n in "samples" mode.
        temperature (`float`, defaults to 1.0): sampling temperature in "samples" mode.
        answer_words / refuse_words (`Sequence[str]`): decision words; P(answer) is their
            probability mass renormalised over both sets.
        template (`str`): decision prompt with `{evidence}` and `{question}` fields, sent
            through the chat template.
        q_floor (`float`, *optional*): floor on q_lo; default 1/(n+2) in "samples" mode,
            0.01 in "logprobs" mode.
        event (`str`, defaults to "decision"): the event y whose lift is measured. "decision"
            is the paper's answer-or-refuse decision; "answer" is the item's answer itself
            (given, or the model's greedy answer): ln P(y) and ln S_k(y) are its
            teacher-forced log-likelihoods under the short-answer prompt with the full and
            the skeleton questions (one batched `model.score` call).
        score_by (`str`, defaults to "roh"): "roh" (1 − p_max), "isr" (1 / (1 + ISR)) or
            "delta" (exp(−Δ̄)).
        name (`str`, *optional*): the method name (key in `scores`), default "edfl".

    Example:
        >>> analyzer = EDFLRiskAnalyzer(num_skeletons=6, h_star=0.05)
        >>> results = analyzer.score(model, [QAItem("What is the capital of France?")])  # doctest: +SKIP
        >>> results[0].details["decision"]  # doctest: +SKIP
        'answer'
    """

    name = "edfl"

    def __init__(
        self,
        num_skeletons: int = 6,
        h_star: float = 0.05,
        margin: float = 0.2,
        clip: float = 12.0,
        mode: str = "logprobs",
        num_samples: int = 8,
        temperature: float = 1.0,
        answer_words: Sequence[str] = ("Answer",),
        refuse_words: Sequence[str] = ("Skip",),
        template: str = DECISION_TEMPLATE,
        q_floor: float | None = None,
        event: str = "decision",
        score_by: str = "roh",
        name: str | None = None,
    ):
        if not isinstance(num_skeletons, int) or isinstance(num_skeletons, bool) or num_skeletons < 1:
            raise ValueError(f"`num_skeletons` has to be an integer >= 1, got {num_skeletons!r}")
        if not (isinstance(h_star, (int, float)) and 0 < h_star < 1):
            raise ValueError(f"`h_star` has to be in (0, 1), got {h_star!r}")
        if not (isinstance(margin, (int, float)) and margin >= 0):
            raise ValueError(f"`margin` has to be a number >= 0, got {margin!r}")
        if not (isinstance(clip, (int, float)) and 0 < clip < math.inf):
            raise ValueError(f"`clip` has to be a finite number > 0, got {clip!r}")
        if mode not in ("logprobs", "samples"):
            raise ValueError(f"`mode` has to be 'logprobs' or 'samples', got {mode!r}")
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError(f"`num_samples` has to be an integer >= 1, got {num_samples!r}")
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"`temperature` has to be > 0 in 'samples' mode, got {temperature!r}")
        for arg, words in (("answer_words", answer_words), ("refuse_words", refuse_words)):
            if isinstance(words, str) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                raise ValueError(f"`{arg}` has to be a non-empty list of non-empty strings, got {words!r}")
        if set(answer_words) & set(refuse_words):
            raise ValueError("`answer_words` and `refuse_words` must not overlap")
        if "{question}" not in template:
            raise ValueError("`template` has to contain the field {question}")
        if q_floor is not None and not (isinstance(q_floor, (int, float)) and 0 < q_floor < 1):
            raise ValueError(f"`q_floor` has to be in (0, 1), got {q_floor!r}")
        if event not in ("decision", "answer"):
            raise ValueError(f"`event` has to be 'decision' or 'answer', got {event!r}")
        if score_by not in SCORE_BY:
            raise ValueError(f"`score_by` has to be one of {sorted(SCORE_BY)}, got {score_by!r}")
        self.event = event
        self.score_by = score_by
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"`name` has to be a non-empty string, got {name!r}")
            self.name = name  # e.g. "edfl_answer", to run two variants side by side
        self.num_skeletons = num_skeletons
        self.h_star = float(h_star)
        self.margin = float(margin)
        self.clip = float(clip)
        self.mode = mode
        self.num_samples = num_samples
        self.temperature = float(temperature)
        self.answer_words = list(answer_words)
        self.refuse_words = list(refuse_words)
        self.template = template
        default_floor = 1.0 / (num_samples + 2) if mode == "samples" else 0.01
        self.q_floor = float(q_floor) if q_floor is not None else default_floor

    # -- prompts ---------------------------------------------------------------------------

    def decision_prompt(self, model: LanguageModel, question: str, context: str | None) -> str:
        evidence = f"Context: {context}\n\n" if context else ""
        return model.chat(self.template.format(evidence=evidence, question=question))

    def prompts_for(self, model: LanguageModel, item: QAItem, seed: int = 0) -> list[str]:
        """The full decision prompt, then its `num_skeletons` skeletons."""
        # Evidence mode masks the context; closed-book masks the question.
        return [self.decision_prompt(model, q, c) for q, c in self._qa_variants(item, seed)]

    # -- decision probabilities ------------------------------------------------------------

    def answer_probs(
        self, model: LanguageModel, prompts: Sequence[str], seed: int = 0, cache: SampleCache | None = None
    ) -> np.ndarray:
        """P(answer decision) per prompt, shape (P,): one batched model call."""
        if self.mode == "logprobs":
            words = self.answer_words + self.refuse_words
            logp = np.asarray(model.next_token_logprobs(list(prompts), words), dtype=np.float64)
            a = measures.logsumexp(logp[:, : len(self.answer_words)], axis=1)
            r = measures.logsumexp(logp[:, len(self.answer_words) :], axis=1)
            return np.exp(a - np.logaddexp(a, r))
        cache = cache if cache is not None else SampleCache()
        samples = cache.get(
            model, list(prompts), n=self.num_samples, temperature=self.temperature, max_new_tokens=4, seed=seed, stop=("\n",)
        )
        answers = tuple(w.lower() for w in self.answer_words)
        return np.array([np.mean([c.text.strip().lower().startswith(answers) for c in comps]) for comps in samples])

    def decide(self, p_full: float, q: Sequence[float]) -> dict:
        """EDFL quantities from P(answer) on the full prompt and on each skeleton."""
        q = np.asarray(q, dtype=np.float64)
        eps = 1e-12
        # In "samples" mode a fraction can be 0: the log-lifts use the same floor as q_lo.
        floor = self.q_floor if self.mode == "samples" else eps
        logp_full = math.log(max(p_full, floor))
        logq = np.log(np.maximum(q, floor))
        delta_bar = float(measures.information_budget(logp_full, logq, clip=self.clip))
        q_bar = float(np.clip(q.mean(), eps, 1 - eps))
        q_lo = float(min(max(q.min(), self.q_floor), 1 - eps))
        p_max = measures.edfl_max_prob(delta_bar, q_bar)
        b2t = measures.bits_to_trust(q_lo, self.h_star)
        ratio = measures.isr(delta_bar, b2t)
        answer = ratio >= 1.0 and delta_bar >= b2t + self.margin
        return {
            "p_answer": float(p_full),
            "q_skeletons": [float(x) for x in q],
            "delta_bar": delta_bar,
            "q_bar": q_bar,
            "q_lo": q_lo,
            "p_max": p_max,
            "roh": 1.0 - p_max,
            "b2t": b2t,
            "isr": ratio if math.isfinite(ratio) else 1e9,
            "decision": "answer" if answer else "abstain",
        }

    def reduce(self, model: LanguageModel, items: list[QAItem], stats: dict[str, Any], *, seed: int, cache: SampleCache) -> list[MethodResult]:
        width = self.num_skeletons + 1
        if self.event == "decision":
            flat = [p for it in items for p in self.prompts_for(model, it, seed)]
            probs = self.answer_probs(model, flat, seed=seed, cache=cache)  # every prompt, one batched call
            rows = [(float(probs[i * width]), probs[i * width + 1 : (i + 1) * width]) for i in range(len(items))]
        else:
            answers = answers_for(model, items, cache=cache)
            flat_p, flat_c = [], []
            for it, ans in zip(items, answers):
                for q, c in self._qa_variants(it, seed):
                    flat_p.append(qa_prompt(model, q, c))
                    flat_c.append(ans)
            logp = np.array([s.sum_logprob for s in model.score(flat_p, flat_c)])  # one batched call
            rows = [(float(np.exp(logp[i * width])), np.exp(logp[i * width + 1 : (i + 1) * width])) for i in range(len(items))]
        out = []
        for p_full, q in rows:
            details = self.decide(p_full, q)
            details["event"] = self.event
            out.append(MethodResult(score=float(SCORE_BY[self.score_by](details)), details=details))
        return out

    def _qa_variants(self, item: QAItem, seed: int) -> list[tuple[str, str | None]]:
        """(question, context) of the full prompt, then of each skeleton."""
        if item.context:
            return [(item.question, item.context)] + [
                (item.question, c) for c in skeletons(item.context, self.num_skeletons, seed)
            ]
        return [(item.question, None)] + [(q, None) for q in skeletons(item.question, self.num_skeletons, seed)]


class EDFLAnswerRiskAnalyzer(EDFLRiskAnalyzer):
    """`EDFLRiskAnalyzer` with the answer itself as the event (`event="answer"`), named "edfl_answer".

    Δ̄ is how much the full question lifts the log-likelihood of the answer over the skeleton
    questions: an answer the question barely supports is risky. With a small chat model whose
    answer/refuse decision tokens saturate, this reading separates right from wrong answers far
    better than the decision event (see BENCHMARKS.md).
    """

    name = "edfl_answer"

    def __init__(self, **kwargs):
        kwargs.setdefault("event", "answer")
        super().__init__(**kwargs)
