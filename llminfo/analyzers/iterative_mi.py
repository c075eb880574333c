"""Epistemic uncertainty by iterative prompting (Yadkori, Kuzborskij, György, Szepesvári,
"To Believe or Not to Believe Your LLM", NeurIPS 2024), Algorithm 3 (n = 2).

Idea: ask the question again with one of the model's own earlier answers repeated in the
prompt. If the model knows the answer, its answer distribution does not move; if it does
not know (epistemic uncertainty), the repeated answer sways it. The mutual information of
the pseudo-joint of (first answer, second answer) measures how much it sways; a question
with several valid answers the model knows (aleatoric uncertainty) keeps it low, unlike
semantic entropy.

Algorithm 3, as implemented (all model work batched over every question of the batch):
1. Sample k answers (default 10, T = 0.9, the paper's) under F₀(x) — the standard
   short-answer prompt — through the shared `SampleCache` (one `generate` call); drop the
   answers cut by the length limit (the answer-length filter; llminfo's reading of it, kept
   all when every answer would go) and cluster them with the paper's matching rule (token
   F1 ≥ 0.25, no question-word stripping: `clustering="lexical"`, threshold 0.25).
2. µ₁(i) ∝ Σ over the distinct answers of cluster i of P(answer | F₀(x)).
3. For each cluster i, with its first member X_i repeated in F₁(x, X_i), score every
   distinct sampled answer; µ₂(t | i) ∝ Σ over the distinct answers of cluster t of
   P(answer | F₁(x, X_i)) — aggregated over every member, as µ₁.
   Steps 2 and 3 are ONE `model.score` call for all questions (a prompt shared by many
   continuations is encoded once by the backend).
4. Î = `measures.iterative_prompting_mi(µ₁, µ₂, γ₁, γ₂)`.

The prompt family F_t (the paper's): the question, then "One answer to question Q is Y₁.
Another answer to question Q is Y₂. …", then the question again — set by `template`.
Probabilities are of the answer followed by EOS (P(answer, then stop)), so answers of
different lengths compare fairly; set `end_with_eos=False` to score the text only.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.iterative_mi import IterativePromptingMI
    >>> model = load_model("default")
    >>> [r] = IterativePromptingMI(num_samples=5).score(model, ["Who wrote Hamlet?"], seed=0)
    >>> r.score >= 0, len(r.details["centres"]) == len(r.details["mu1"]), round(sum(r.details["mu1"]), 6)
    (True, True, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from llminfo import measures
from llminfo.analyzers.base import (
    ANSWER_MAX_NEW_TOKENS,
    SHORT_ANSWER_INSTRUCTION,
    HallucinationMethod,
    MethodResult,
    QAItem,
    SampleCache,
    answer_continuation,
    check_sampling_args,
)
from llminfo.analyzers.clustering import check_clustering
from llminfo.analyzers.prompts import instruction_prompt
from llminfo.models.base import LanguageModel

PAPER_F1_THRESHOLD = 0.25  # Yadkori et al.: two answers match when their token F1 >= 0.25


@dataclass(frozen=True)
class IterativePromptTemplate:
    """The prompt family F_t(x, Y₁..Y_t) of Yadkori et al. (2024), one line per part.

    Attributes:
        header: first line; `{question}` is the question.
        first_answer: line for Y₁; `{answer}`.
        next_answer: line for Y₂, Y₃, …; `{answer}`.
        footer: last line, asks the question again; `{question}`.
        instruction: put before everything (the short-answer instruction by default).
    """

    header: str = "Consider the following question: Q: {question}"
    first_answer: str = "One answer to question Q is {answer}."
    next_answer: str = "Another answer to question Q is {answer}."
    footer: str = "Provide an answer to the following question: Q: {question}"
    instruction: str = SHORT_ANSWER_INSTRUCTION

    def __post_init__(self) -> None:
        for name, key in (("header", "{question}"), ("footer", "{question}"), ("first_answer", "{answer}"), ("next_answer", "{answer}")):
            if key not in getattr(self, name):
                raise ValueError(f"`template.{name}` has to contain {key}, got {getattr(self, name)!r}")

    def text(self, question: str, previous: Sequence[str], context: str | None = None) -> str:
        """The user message of F_t with t = len(previous) earlier answers."""
        lines = [self.instruction, ""] if self.instruction else []
        if context:
            lines += [f"Context: {context}", ""]
        lines.append(self.header.format(question=question))
        for k, ans in enumerate(previous):
            lines.append((self.first_answer if k == 0 else self.next_answer).format(answer=ans))
        lines.append(self.footer.format(question=question))
        return "\n".join(lines)


class IterativePromptingMI(HallucinationMethod):
    """Mutual-information epistemic-uncertainty score Î (nats), Algorithm 3 of Yadkori et al.

    Args:
        num_samples (`int`, defaults to 10): k answers sampled under F₀.
        temperature (`float`, defaults to 0.9): sampling temperature.
        clustering (`str` or callable, defaults to `"lexical"`): see `cluster_answers`; with
            `clustering_kwargs` defaulting to `{"threshold": 0.25}`, the paper's F1 ≥ 0.25 rule.
        clustering_kwargs (`dict`, *optional*): e.g. `{"threshold": 0.6}`.
        gamma1 (`float`, defaults to 0.0), gamma2 (`float`, defaults to 0.0): stabilisers.
        template (`IterativePromptTemplate`, *optional*): the F_t prompt family.
        end_with_eos (`bool`, defaults to True): score P(answer, then EOS).
        length_normalize (`bool`, defaults to False): weigh answers by their mean token
            log-probability instead of the sequence log-probability (the paper's choice). Long
            free-form answers otherwise put nearly all of µ₁ on the single likeliest string.
        max_new_tokens (`int`, defaults to 24): answer length limit.
        drop_unfinished (`bool`, defaults to True): the answer-length filter (step 1).
    """

    name = "iterative_mi"
    needs = ("clusters",)

    def __init__(
        self,
        num_samples: int = 10,
        temperature: float = 0.9,
        clustering: str | Callable[[str, str], bool] = "lexical",
        clustering_kwargs: dict[str, Any] | None = None,
        gamma1: float = 0.0,
        gamma2: float = 0.0,
        template: IterativePromptTemplate | None = None,
        end_with_eos: bool = True,
        length_normalize: bool = False,
        max_new_tokens: int = ANSWER_MAX_NEW_TOKENS,
        drop_unfinished: bool = True,
    ):
        if max_new_tokens is None:
            raise ValueError("`max_new_tokens` has to be an integer >= 1, got None")
        check_sampling_args(num_samples, temperature, max_new_tokens)
        if clustering_kwargs is None and clustering == "lexical":
            clustering_kwargs = {"threshold": PAPER_F1_THRESHOLD}
        for name, g in (("gamma1", gamma1), ("gamma2", gamma2)):
            if not isinstance(g, (int, float)) or not (0 <= g < float("inf")):
                raise ValueError(f"`{name}` has to be a finite float >= 0, got {g!r}")
        if template is not None and not isinstance(template, IterativePromptTemplate):
            raise TypeError(f"`template` has to be an IterativePromptTemplate, got {type(template).__name__}")
        self.num_samples = num_samples
        self.temperature = float(temperature)
        check_clustering(clustering, dict(clustering_kwargs or {}))
        self.clustering = clustering
        self.clustering_kwargs = dict(clustering_kwargs or {})
        self.gamma1 = float(gamma1)
        self.gamma2 = float(gamma2)
        self.template = template or IterativePromptTemplate()
        self.end_with_eos = end_with_eos
        self.length_normalize = length_normalize
        self.max_new_tokens = max_new_tokens
        self.drop_unfinished = bool(drop_unfinished)

    def _mi(self, mu1: np.ndarray, mu2: np.ndarray) -> float:
        mi = measures.iterative_prompting_mi(mu1, mu2, self.gamma1, self.gamma2)
        # float round-off can leave a tiny negative value; with γ = 0 the MI is ≥ 0
        return max(mi, 0.0) if self.gamma1 == self.gamma2 == 0 else mi

    def follow_up_prompt(self, model: LanguageModel, item: QAItem, previous: Sequence[str]) -> str:
        """F_t(x, previous) as a chat prompt."""
        return instruction_prompt(model, self.template.text(item.question, previous, item.context), cue="A:")

    def reduce(self, model: LanguageModel, items: list[QAItem], stats: dict[str, Any], *, seed: int, cache: SampleCache) -> list[MethodResult]:
        f0, answers, ids_per_item = stats["prompts"], stats["sampled_answers"], stats["cluster_ids"]

        # ONE batched scoring call: the distinct answers under F0, and under F1(x, X_i) for
        # every cluster i (X_i its first member) every distinct answer again.
        prompts: list[str] = []
        conts: list[str] = []
        plans = []
        for it, p0, ans, ids in zip(items, f0, answers, ids_per_item):
            distinct = list(dict.fromkeys(zip(ans, ids)))  # (answer, cluster) in order
            centres = [next(a for a, c in distinct if c == k) for k in range(max(ids) + 1)]
            start0 = len(prompts)
            for a, _ in distinct:
                prompts.append(p0)
                conts.append(answer_continuation(model, a, self.end_with_eos))
            start1 = len(prompts)
            for xi in centres:
                p1 = self.follow_up_prompt(model, it, [xi])
                for a, _ in distinct:
                    prompts.append(p1)
                    conts.append(answer_continuation(model, a, self.end_with_eos))
            plans.append((distinct, centres, start0, start1))
        scored = cache.score(model, prompts, conts, entropy=False)  # log-probs only

        results = []
        for (distinct, centres, start0, start1), ids, ans in zip(plans, ids_per_item, answers):
            C, D = len(centres), len(distinct)
            member_ids = np.array([c for _, c in distinct])
            freq = np.bincount(ids, minlength=C) / len(ids)
            variants = {}
            for length_normalize in (False, True):
                ll = (lambda s: s.mean_logprob) if length_normalize else (lambda s: s.sum_logprob)
                lp0 = np.array([ll(s) for s in scored[start0 : start0 + D]])
                mu1 = np.exp(measures.log_normalize(_cluster_logsumexp(lp0, member_ids, C)))
                lp1 = np.array([ll(s) for s in scored[start1 : start1 + C * D]]).reshape(C, D)
                mu2 = np.exp(measures.log_normalize(_cluster_logsumexp(lp1, member_ids, C), axis=1))
                mu1, mu2 = mu1 / mu1.sum(), mu2 / mu2.sum(axis=1, keepdims=True)
                variants[length_normalize] = (
                    mu1, mu2,
                    self._mi(mu1, mu2),
                    self._mi(freq, mu2),
                )
            mu1, mu2, mi, mi_freq = variants[self.length_normalize]
            details = {
                "answers": ans,
                "cluster_ids": ids,
                "centres": centres,
                "mu1": mu1.tolist(),
                "mu2": mu2.tolist(),
                "mu1_frequency": freq.tolist(),
                "num_clusters": C,
                # The same score call gives the other weightings for free (for comparisons):
                "mi_sequence": variants[False][2],
                "mi_length_normalized": variants[True][2],
                "mi_frequency_mu1": mi_freq,
            }
            results.append(MethodResult(mi, details))
        return results


def _cluster_logsumexp(logp: np.ndarray, member_ids: np.ndarray, num_clusters: int) -> np.ndarray:
    """log Σ over the members of each cluster, along the last axis: (..., D) → (..., C)."""
    return np.stack([measures.logsumexp(logp[..., member_ids == k], axis=-1) for k in range(num_clusters)], axis=-1)
