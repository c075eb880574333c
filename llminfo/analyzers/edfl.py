"""EDFL / ISR answer-or-abstain decisions (Chlon et al., 2025, "Compression Failure in LLMs:
Bayesian in Expectation, Not in Realization"; the "hallbayes" toolkit).

The model is asked whether it will answer or refuse, on the full prompt and on m skeleton
prompts in which the evidence is masked, as hallbayes does (`skeleton_policy="paper"`): with
a context, the context is erased and the remaining evidence lines permuted; closed-book,
quoted spans, multi-word capitalised names, years and numbers are each masked with the
skeleton's probability (0.25 … 0.9), seeded, and the lines after the first permuted. The
event y is the decision actually sampled first on the full prompt (hallbayes' `y_label`):
in "samples" mode the first of n decisions sampled at T = 0.5, in the white-box "logprobs"
mode one decision drawn from the decision-token probabilities (seeded per item). P(y) and
S_k(y) are the probabilities of that label; q_k that of "answer" on skeleton k. The lifts
ln P(y) − ln S_k(y) are clipped symmetrically at ±B (the paper's audit; hallbayes'
one-sided clip is `clip_mode="one-sided"`) and averaged into the information budget Δ̄; the
EDFL inequality turns it into a bound on the success probability p_max and a risk bound
RoH = 1 − p_max, and compares it with the bits-to-trust B2T needed for hallucination rate
h* from q_lo = max(min_k q_k, q_floor), q_floor = 1/(n+2) (hallbayes' Laplace floor):
answer iff ISR = Δ̄ / B2T ≥ 1 and Δ̄ ≥ B2T + margin. Formulas: `llminfo.measures`.

`edfl_answer` (`EDFLAnswerRiskAnalyzer`) is llminfo's own variant, not the paper's: the
event is the scored answer itself (its teacher-forced likelihood under the full and the
skeleton questions), with llminfo's skeletons (`skeleton_policy="llminfo"`, every question
gets something masked).

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
import random
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
    answer_continuation,
    answers_for,
    qa_prompt,
)
from llminfo.analyzers.prompts import instruction_prompt
from llminfo.models.base import LanguageModel

DECISION_TEMPLATE = (
    "{evidence}Question: {question}\n\n"
    "Decide whether you can answer this question correctly. "
    "Reply with one word: Answer if you know the answer, Skip if you do not."
)
# hallbayes' masking levels for m = 6 skeletons; other m interpolate the same range.
MASK_LEVELS = (0.25, 0.35, 0.5, 0.65, 0.8, 0.9)
MASK = "[…]"  # hallbayes' mask token
EPS = 1e-12  # hallbayes' floor inside logarithms
CLIP_MODES = ("symmetric", "one-sided")
SKELETON_POLICIES = ("paper", "llminfo")
# hallbayes' closed-book masking patterns, applied in this order.
_HB_QUOTED = re.compile(r"([“\"'])(.+?)\1")
_HB_CAPITAL_SEQ = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_HB_YEAR = re.compile(r"\b(1|2)\d{3}\b")
_HB_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
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


def mask_entities_numbers(text: str, strength: float, rng: random.Random, mask: str = MASK) -> str:
    """hallbayes' closed-book masker: each quoted span, multi-word capitalised name, year and
    number is masked with probability `strength` (in that order, one `rng` draw per match)."""

    def repl(m: re.Match) -> str:
        return mask if rng.random() < strength else m.group(0)

    for pattern in (_HB_QUOTED, _HB_CAPITAL_SEQ, _HB_YEAR, _HB_NUMBER):
        text = pattern.sub(repl, text)
    return text


def permute_lines(text: str, seed: int) -> str:
    """hallbayes' `permute_prompt_blocks`: non-empty lines shuffled by `random.Random(seed)`
    (a text of one line is returned as is)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return text
    idx = list(range(len(lines)))
    random.Random(seed).shuffle(idx)
    return "\n".join(lines[i] for i in idx)


def paper_skeletons(question: str, context: str | None, num_skeletons: int, seed: int = 0) -> list[tuple[str, str | None]]:
    """(question, context) of each skeleton as hallbayes builds them (seeds seed … seed+m−1).

    With a context (hallbayes' evidence erase): the evidence's first line is replaced by the
    mask and its other lines permuted; the question is kept. Closed-book: the question's
    entities/numbers are masked at `MASK_LEVELS` (cycled) and its lines after the first
    permuted (`preserve_roles`). Depends only on (question, context, seed): batch-independent.
    """
    out = []
    levels = [MASK_LEVELS[k % len(MASK_LEVELS)] for k in range(num_skeletons)]
    for k, level in enumerate(levels):
        s = seed + k
        if context:
            first, *rest = context.splitlines() or [""]
            tail = permute_lines("\n".join(rest), s) if rest else ""
            out.append((question, MASK + ("\n" + tail if tail else "")))
            continue
        rng = random.Random(s)
        masked = mask_entities_numbers(question, level, rng)
        lines = question.splitlines()
        if len(lines) >= 2:  # preserve_roles: the first line kept, the rest masked (same rng) and permuted
            out.append((lines[0] + "\n" + permute_lines(mask_entities_numbers("\n".join(lines[1:]), level, rng), s), None))
        else:
            out.append((permute_lines(masked, s), None))
    return out


def decision_word_variants(words: Sequence[str], space_variants: bool = True) -> list[str]:
    """`words`, then (with `space_variants`) each word with a leading space, as the candidates
    whose next-token mass makes up a decision. Byte-level BPE and SentencePiece vocabularies
    give "Answer" and " Answer" different tokens, and which one a model writes depends on the
    prompt: the first token of a chat turn has no space, a base model's continuation of
    "Reply:" has one.

    Example:
        >>> decision_word_variants(["Answer", " Skip"])
        ['Answer', ' Skip', ' Answer']
    """
    out = list(words)
    if space_variants:
        out += [" " + w for w in words if not w[:1].isspace() and " " + w not in out]
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
        clip_mode (`str`, defaults to "symmetric"): clip each lift to [−B, B] (the paper's
            audit) or "one-sided" to [0, B] (hallbayes' default).
        mode (`str`, defaults to "logprobs"): "logprobs" reads P(answer) from the decision
            tokens (one forward per prompt, white-box); "samples" samples `num_samples`
            decisions per prompt (hallbayes).
        num_samples (`int`, defaults to 3): n decisions per prompt in "samples" mode (hallbayes'
            default); also sets the Laplace floor 1/(n+2) in both modes.
        temperature (`float`, defaults to 0.5): decision sampling temperature (hallbayes' 0.5).
        skeleton_policy (`str`, defaults to "paper"): "paper" (hallbayes' skeletons,
            `paper_skeletons`) or "llminfo" (`skeletons`: entities, numbers and content words,
            always something masked; llminfo's own).
        answer_words / refuse_words (`Sequence[str]`): decision words; P(answer) is their
            probability mass renormalised over both sets.
        space_variants (`bool`, defaults to `True`): "logprobs" mode also scores each word with
            a leading space (`decision_word_variants`). "Answer" and " Answer" are different
            tokens; a base model continues "Reply:" with " Answer" (Gemma 3 270M: 55× the mass
            of "Answer"), an instruct model starts its turn with "Answer" (BENCHMARKS.md).
        template (`str`): decision prompt with `{evidence}` and `{question}` fields, sent
            through the chat template.
        q_floor (`float`, *optional*): floor on q_lo; default 1/(n+2), as hallbayes.
        event (`str`, defaults to "decision"): the event y whose lift is measured. "decision"
            is the paper's: the answer-or-refuse label sampled first; "answer" (llminfo's own)
            is the item's answer itself
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
        clip_mode: str = "symmetric",
        mode: str = "logprobs",
        num_samples: int = 3,
        temperature: float = 0.5,
        answer_words: Sequence[str] = ("Answer",),
        refuse_words: Sequence[str] = ("Skip",),
        space_variants: bool = True,
        template: str = DECISION_TEMPLATE,
        q_floor: float | None = None,
        event: str = "decision",
        score_by: str = "roh",
        name: str | None = None,
        skeleton_policy: str = "paper",
    ):
        if not isinstance(num_skeletons, int) or isinstance(num_skeletons, bool) or num_skeletons < 1:
            raise ValueError(f"`num_skeletons` has to be an integer >= 1, got {num_skeletons!r}")
        if not (isinstance(h_star, (int, float)) and 0 < h_star < 1):
            raise ValueError(f"`h_star` has to be in (0, 1), got {h_star!r}")
        if not (isinstance(margin, (int, float)) and margin >= 0):
            raise ValueError(f"`margin` has to be a number >= 0, got {margin!r}")
        if not (isinstance(clip, (int, float)) and 0 < clip < math.inf):
            raise ValueError(f"`clip` has to be a finite number > 0, got {clip!r}")
        if clip_mode not in CLIP_MODES:
            raise ValueError(f"`clip_mode` has to be one of {CLIP_MODES}, got {clip_mode!r}")
        if skeleton_policy not in SKELETON_POLICIES:
            raise ValueError(f"`skeleton_policy` has to be one of {SKELETON_POLICIES}, got {skeleton_policy!r}")
        if mode not in ("logprobs", "samples"):
            raise ValueError(f"`mode` has to be 'logprobs' or 'samples', got {mode!r}")
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError(f"`num_samples` has to be an integer >= 1, got {num_samples!r}")
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"`temperature` has to be > 0 in 'samples' mode, got {temperature!r}")
        for arg, words in (("answer_words", answer_words), ("refuse_words", refuse_words)):
            if isinstance(words, str) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                raise ValueError(f"`{arg}` has to be a non-empty list of non-empty strings, got {words!r}")
        if not isinstance(space_variants, bool):
            raise ValueError(f"`space_variants` has to be True or False, got {space_variants!r}")
        if set(decision_word_variants(answer_words, space_variants)) & set(decision_word_variants(refuse_words, space_variants)):
            raise ValueError("`answer_words` and `refuse_words` must not overlap (leading-space variants included)")
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
        self.space_variants = bool(space_variants)
        self.template = template
        self.clip_mode = clip_mode
        self.skeleton_policy = skeleton_policy
        self.q_floor = float(q_floor) if q_floor is not None else 1.0 / (num_samples + 2)

    # -- prompts ---------------------------------------------------------------------------

    def decision_prompt(self, model: LanguageModel, question: str, context: str | None) -> str:
        evidence = f"Context: {context}\n\n" if context else ""
        return instruction_prompt(model, self.template.format(evidence=evidence, question=question), cue="Reply:")

    def prompts_for(self, model: LanguageModel, item: QAItem, seed: int = 0) -> list[str]:
        """The full decision prompt, then its `num_skeletons` skeletons."""
        # Evidence mode masks the context; closed-book masks the question.
        return [self.decision_prompt(model, q, c) for q, c in self._qa_variants(item, seed)]

    # -- decision probabilities ------------------------------------------------------------

    def answer_probs(
        self, model: LanguageModel, prompts: Sequence[str], seed: int = 0, cache: SampleCache | None = None
    ) -> tuple[np.ndarray, list[str | None]]:
        """P(answer decision) per prompt, shape (P,), and the first sampled label per prompt
        ("answer"/"refuse"; None in "logprobs" mode, where `score` draws it): one batched call."""
        if self.mode == "logprobs":
            answer_words = decision_word_variants(self.answer_words, self.space_variants)
            words = answer_words + decision_word_variants(self.refuse_words, self.space_variants)
            logp = np.asarray(model.next_token_logprobs(list(prompts), words), dtype=np.float64)
            a = measures.logsumexp(logp[:, : len(answer_words)], axis=1)
            r = measures.logsumexp(logp[:, len(answer_words) :], axis=1)
            return np.exp(a - np.logaddexp(a, r)), [None] * len(prompts)
        cache = cache if cache is not None else SampleCache()
        samples = cache.get(
            model, list(prompts), n=self.num_samples, temperature=self.temperature, max_new_tokens=4, seed=seed, stop=("\n",)
        )
        answers = tuple(w.strip().lower() for w in self.answer_words)
        labels = [["answer" if c.text.strip().lower().startswith(answers) else "refuse" for c in comps] for comps in samples]
        return np.array([np.mean([x == "answer" for x in lab]) for lab in labels]), [lab[0] for lab in labels]

    def first_label(self, p_answer: float, item: QAItem, seed: int) -> str:
        """White-box mode: one decision drawn from P(answer), seeded by (seed, question) only."""
        u = np.random.default_rng([seed, zlib.crc32(item.question.encode("utf-8"))]).random()
        return "answer" if u < p_answer else "refuse"

    def decide(self, p_full: float, q: Sequence[float], label: str = "answer") -> dict:
        """EDFL quantities from P(answer) on the full prompt and on each skeleton, for the
        event y = `label` ("answer" or "refuse")."""
        q = np.asarray(q, dtype=np.float64)
        p_y, s_y = (p_full, q) if label == "answer" else (1.0 - p_full, 1.0 - q)
        logp_full = math.log(max(p_y, EPS))
        logq = np.log(np.maximum(s_y, EPS))
        delta_bar = float(measures.information_budget(logp_full, logq, clip=self.clip, symmetric=self.clip_mode == "symmetric"))
        q_bar = float(np.clip(q.mean(), EPS, 1 - EPS))
        q_lo = float(min(max(q.min(), self.q_floor), 1 - EPS))
        # A negative budget (skeletons support y better) carries no information: p_max = q̄.
        p_max = measures.edfl_max_prob(max(delta_bar, 0.0), q_bar)
        b2t = measures.bits_to_trust(q_lo, self.h_star)
        ratio = measures.isr(max(delta_bar, 0.0), b2t) if delta_bar > 0 else 0.0
        answer = ratio >= 1.0 and delta_bar >= b2t + self.margin
        return {
            "event_label": label,
            "p_answer": float(p_full),
            "p_event": float(p_y),
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
            probs, firsts = self.answer_probs(model, flat, seed=seed, cache=cache)  # every prompt, one batched call
            rows = []
            for i, it in enumerate(items):
                p_full = float(probs[i * width])
                label = firsts[i * width] or self.first_label(p_full, it, seed)
                rows.append((p_full, probs[i * width + 1 : (i + 1) * width], label))
        else:
            answers = answers_for(model, items, cache=cache)
            flat_p, flat_c = [], []
            for it, ans in zip(items, answers):
                for q, c in self._qa_variants(it, seed):
                    flat_p.append(qa_prompt(model, q, c))
                    flat_c.append(answer_continuation(model, ans))
            logp = np.array([s.sum_logprob for s in model.score(flat_p, flat_c)])  # one batched call
            rows = [(float(np.exp(logp[i * width])), np.exp(logp[i * width + 1 : (i + 1) * width]), "answer") for i in range(len(items))]
        out = []
        for p_full, q, label in rows:
            details = self.decide(p_full, q, label)
            details["event"] = self.event
            out.append(MethodResult(score=float(SCORE_BY[self.score_by](details)), details=details))
        return out

    def _qa_variants(self, item: QAItem, seed: int) -> list[tuple[str, str | None]]:
        """(question, context) of the full prompt, then of each skeleton."""
        if self.skeleton_policy == "paper":
            return [(item.question, item.context)] + paper_skeletons(item.question, item.context, self.num_skeletons, seed)
        if item.context:
            return [(item.question, item.context)] + [
                (item.question, c) for c in skeletons(item.context, self.num_skeletons, seed)
            ]
        return [(item.question, None)] + [(q, None) for q in skeletons(item.question, self.num_skeletons, seed)]


class EDFLAnswerRiskAnalyzer(EDFLRiskAnalyzer):
    """`EDFLRiskAnalyzer` with the answer itself as the event (`event="answer"`), named "edfl_answer".

    llminfo's own event, not the paper's (which is the sampled answer/refuse decision): Δ̄ is
    how much the full question lifts the log-likelihood of the answer over the skeleton
    questions: an answer the question barely supports is risky. Defaults keep the protocol it
    was measured with: 4 of llminfo's skeletons, the one-sided clip, q_floor 0.01. With a small chat model whose
    answer/refuse decision tokens saturate, this reading separates right from wrong answers far
    better than the decision event (see BENCHMARKS.md).
    """

    name = "edfl_answer"

    def __init__(self, **kwargs):
        kwargs.setdefault("event", "answer")
        kwargs.setdefault("skeleton_policy", "llminfo")
        kwargs.setdefault("clip_mode", "one-sided")
        kwargs.setdefault("q_floor", 0.01)
        kwargs.setdefault("num_skeletons", 4)
        super().__init__(**kwargs)
