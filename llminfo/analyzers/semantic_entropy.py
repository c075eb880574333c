"""Semantic entropy (Farquhar et al., "Detecting hallucinations in large language models
using semantic entropy", Nature 2024).

Sample M answers to the question (default 10, T = 1), cluster them by meaning, and take
the entropy over meaning clusters: many different meanings = the model is confabulating.
The likelihood-weighted version uses each answer's sequence log-likelihood (mean token
log-probability under the raw model, `Completion.model_logprobs`); the discrete version
uses cluster counts only. Formulas: `llminfo.measures.semantic_entropy` and
`discrete_semantic_entropy`.

Samples come from the shared `SampleCache` (one `generate` call for every question × M),
and clustering of every question runs in one batch (one embedding / NLI call).

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.semantic_entropy import SemanticEntropy
    >>> model = load_model("default")
    >>> [r] = SemanticEntropy(num_samples=10).score(model, ["Who wrote Hamlet?"], seed=0)
    >>> r.score >= 0, sum(r.details["cluster_sizes"])
    (True, 10)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from llminfo import measures
from llminfo.analyzers.base import (
    ANSWER_MAX_NEW_TOKENS,
    HallucinationMethod,
    MethodResult,
    QAItem,
    SampleCache,
)
from llminfo.analyzers.clustering import check_clustering
from llminfo.models.base import LanguageModel


class SemanticEntropy(HallucinationMethod):
    """Likelihood-weighted semantic entropy (nats). Higher = more meanings = more uncertain.

    Args:
        num_samples (`int`, defaults to 10): M sampled answers per question.
        temperature (`float`, defaults to 1.0): sampling temperature.
        clustering (`str` or callable, defaults to `"f1"`): see `cluster_answers`.
        clustering_kwargs (`dict`, *optional*): e.g. `{"threshold": 0.6}`, `{"nli": fn}`.
        max_new_tokens (`int`, defaults to 24): answer length limit.
    """

    name = "semantic_entropy"
    needs = ("clusters",)

    def __init__(
        self,
        num_samples: int = 10,
        temperature: float = 1.0,
        clustering: str | Callable[[str, str], bool] = "f1",
        clustering_kwargs: dict[str, Any] | None = None,
        max_new_tokens: int = ANSWER_MAX_NEW_TOKENS,
    ):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError(f"`num_samples` has to be an integer >= 1, got {num_samples!r}")
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"`temperature` has to be a float > 0 (sampling), got {temperature!r}")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` has to be an integer >= 1, got {max_new_tokens!r}")
        self.num_samples = num_samples
        self.temperature = float(temperature)
        check_clustering(clustering, dict(clustering_kwargs or {}))
        self.clustering = clustering
        self.clustering_kwargs = dict(clustering_kwargs or {})
        self.max_new_tokens = max_new_tokens

    def _value(self, cluster_ids: list[int], seq_logprobs: list[float]) -> float:
        return measures.semantic_entropy(cluster_ids, seq_logprobs)

    def reduce(self, model: LanguageModel, items: list[QAItem], stats: dict[str, Any], *, seed: int, cache: SampleCache) -> list[MethodResult]:
        samples, answers, ids_per_item = stats["samples"], stats["sampled_answers"], stats["cluster_ids"]
        results = []
        for comps, ans, ids in zip(samples, answers, ids_per_item):
            seq_lp = [c.mean_logprob for c in comps]
            lc = measures.cluster_log_probs(ids, seq_lp)
            details = {
                "answers": ans,
                "cluster_ids": ids,
                "cluster_sizes": np.bincount(ids).tolist(),
                "cluster_probs": np.exp(lc).tolist(),
                "seq_logprobs": seq_lp,
                "semantic_entropy": measures.semantic_entropy(ids, seq_lp),
                "discrete_semantic_entropy": measures.discrete_semantic_entropy(ids),
                "num_clusters": int(max(ids) + 1),
            }
            results.append(MethodResult(self._value(ids, seq_lp), details))
        return results


class DiscreteSemanticEntropy(SemanticEntropy):
    """Semantic entropy from cluster counts, −Σ (n_c/M) ln(n_c/M): black-box, same samples
    and arguments as `SemanticEntropy` (shares its samples through the cache)."""

    name = "discrete_semantic_entropy"

    def _value(self, cluster_ids: list[int], seq_logprobs: list[float]) -> float:
        return measures.discrete_semantic_entropy(cluster_ids)
