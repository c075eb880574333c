"""White-box uncertainty baselines from the answer's own token probabilities.

Teacher-force the answer (the given one, or the model's greedy answer) after the standard
short-answer prompt with one batched `model.score` call, then read:

- `MaxSequenceProbability` (`msp`): −Σ_t log p(y_t | x, y_<t) — the negative log of the
  sequence probability (the "maximum sequence probability" baseline of Fadeeva et al.,
  lm-polygraph, 2023; Malinin & Gales, ICLR 2021).
- `Perplexity` (`perplexity`): −(1/T) Σ_t log p(y_t | …), the log of the perplexity.
- `MeanTokenEntropy` (`mean_entropy`): (1/T) Σ_t H(p(· | x, y_<t)) (Malinin & Gales 2021).

Higher = more uncertain. The three share one scoring pass through the `SampleCache`.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.base import QAItem
    >>> from llminfo.analyzers.baselines import Perplexity
    >>> model = load_model("default")
    >>> [r] = Perplexity().score(model, [QAItem("What is the capital of France?", answer="Paris")])
    >>> r.score > 0, r.details["answer"]  # nats per answer token
    (True, 'Paris')
"""

from __future__ import annotations

import math
import numpy as np

from llminfo.analyzers.base import ANSWER_MAX_NEW_TOKENS, HallucinationMethod, MethodResult
from llminfo.models.base import Scored


class _TeacherForcedBaseline(HallucinationMethod):
    """Shared pass: answers (given or greedy), one batched teacher-forced scoring."""

    def __init__(self, max_new_tokens: int = ANSWER_MAX_NEW_TOKENS):
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` has to be an integer >= 1, got {max_new_tokens!r}")
        self.max_new_tokens = max_new_tokens

    def _value(self, scored: Scored) -> float:
        raise NotImplementedError

    needs = ("answers", "answer_scores")

    def reduce(self, model, items, stats, *, seed, cache) -> list[MethodResult]:
        results = []
        for answer, s in zip(stats["answers"], stats["answer_scores"]):
            lp = np.asarray(s.logprobs, dtype=np.float64)
            details = {
                "answer": answer,
                "num_tokens": int(lp.size),
                "sum_logprob": float(lp.sum()),
                "mean_logprob": float(lp.mean()) if lp.size else 0.0,
                "mean_entropy": float(np.mean(s.entropy)) if s.entropy else 0.0,
            }
            results.append(MethodResult(self._value(s), details))
        return results


class MaxSequenceProbability(_TeacherForcedBaseline):
    """−log P(answer | prompt) = −Σ_t log p(y_t | x, y_<t) (nats). Higher = less likely answer.

    Args:
        max_new_tokens (`int`, defaults to 24): length of the greedy answer when none is given.
    """

    name = "msp"

    def _value(self, scored: Scored) -> float:
        return -float(np.sum(scored.logprobs))


class Perplexity(_TeacherForcedBaseline):
    """Mean negative log-likelihood per answer token, −(1/T) Σ_t log p(y_t | …) (nats);
    `details["perplexity"]` is its exponential."""

    name = "perplexity"

    def _value(self, scored: Scored) -> float:
        return -float(np.mean(scored.logprobs)) if scored.logprobs else 0.0

    def reduce(self, model, items, stats, *, seed, cache) -> list[MethodResult]:
        results = super().reduce(model, items, stats, seed=seed, cache=cache)
        for r in results:
            r.details["perplexity"] = math.exp(r.score) if r.score < 700 else math.inf
        return results


class MeanTokenEntropy(_TeacherForcedBaseline):
    """Mean entropy (nats) of the next-token distribution over the answer's positions."""

    name = "mean_entropy"

    def _value(self, scored: Scored) -> float:
        return float(np.mean(scored.entropy)) if scored.entropy else 0.0
