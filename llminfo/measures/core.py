"""Core information measures: entropy, KL / JS divergences, stable log-sum-exp, ranks and AUROC.

Natural logs (nats) unless a name says `bits`. Pure functions on tensors / arrays (torch is
imported only inside the tensor functions). Every other `llminfo.measures` module builds on these.

Example:
    >>> from llminfo.measures import entropy, kl_divergence
    >>> round(float(entropy([0.5, 0.5])), 6)  # ln 2
    0.693147
    >>> float(kl_divergence([0.5, 0.5], [0.5, 0.5]))
    0.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # torch is imported inside the few tensor functions: numpy users never load it
    import torch

LN2 = math.log(2.0)
# Tolerance on "sums to 1" for distributions given by the caller.
_PROB_TOL = 1e-6


def entropy_from_logits(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy H = −Σ p log p (nats) of softmax(logits) along `dim`.

    Stable with −inf entries (they contribute 0, not NaN). A row that is entirely −inf has
    no distribution and yields NaN. Computed in float32 at least.

    Args:
        logits: (..., vocab) tensor.
    Returns:
        (...) tensor of entropies.
    """
    import torch

    x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    return entropy_from_logprobs(torch.log_softmax(x, dim=dim), dim=dim)


def entropy_from_logprobs(logp: "torch.Tensor", dim: int = -1, probs: "torch.Tensor | None" = None) -> "torch.Tensor":
    """H = −Σ exp(logp)·logp for already normalised log-probabilities (−inf entries allowed).

    `probs`: exp(logp) when the caller has it already (a decode step samples from it), to
    save one exp over the vocabulary.
    """
    import torch

    p = logp.exp() if probs is None else probs
    # −inf (p = 0) is clamped to the dtype's lowest finite value so that 0·ln 0 = 0, not NaN,
    # while NaN inputs stay NaN; 10× faster than torch.special.entr on CPU.
    return -(p * logp.clamp(min=torch.finfo(logp.dtype).min)).sum(dim=dim)


def entropy(p: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """H(p) = −Σ p ln p (nats) of a probability vector (0 ln 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=axis)


def topk_entropy_lower_bound(top_logprobs: np.ndarray | Sequence[float]) -> float:
    """Entropy (nats) of the top-k distribution with the rest of the vocabulary as one outcome.

    When only the top-k log-probabilities of a next-token distribution are known (an
    OpenAI-compatible server returns at most `logprobs=20` by default), the distribution
    (p_1, …, p_k, r) with r = 1 − Σ p_i is a coarsening of the true one, so its entropy
    H_k = −Σ p_i ln p_i − r ln r is a lower bound on the true entropy (grouping outcomes never
    raises entropy). It is exact when the top-k hold all the mass, e.g. full-vocabulary
    logprobs (`logprobs=-1`).

    Args:
        top_logprobs: log-probabilities of the k most likely tokens (any order; normalised over
            the full vocabulary).
    Returns:
        H_k in nats.
    """
    lp = np.asarray(top_logprobs, dtype=np.float64)
    lp = lp[np.isfinite(lp)]
    p = np.exp(lp)
    rest = max(0.0, 1.0 - float(p.sum()))
    return float(entropy(np.append(p, rest)))


def kl_divergence(p: np.ndarray | Sequence[float], q: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """KL(p‖q) = Σ p ln(p/q) (nats). Terms with p = 0 are 0; p > 0 where q = 0 gives inf."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return terms.sum(axis=axis)


def js_divergence(p: np.ndarray | Sequence[float], q: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2 (nats, ≤ ln 2)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, axis=axis) + 0.5 * kl_divergence(q, m, axis=axis)


def bernoulli_kl(p: float | np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """KL(Ber(p)‖Ber(q)) = p ln(p/q) + (1−p) ln((1−p)/(1−q)) (nats)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return kl_divergence(np.stack([p, 1 - p], axis=-1), np.stack([q, 1 - q], axis=-1), axis=-1)


def logsumexp(x: np.ndarray | Sequence[float], axis: int | None = None) -> np.ndarray:
    """ln Σ exp(x), stable; −inf for an empty or all −inf input."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.float64(-np.inf)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # all −inf → log(0) = −inf, as documented
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def log_normalize(logp: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Renormalise log-weights so they exponentiate to a distribution: x − logsumexp(x)."""
    logp = np.asarray(logp, dtype=np.float64)
    return logp - np.expand_dims(logsumexp(logp, axis=axis), axis)


def normalize_logprobs(logp: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Probabilities from log-weights renormalised over `axis` (softmax in float64)."""
    return np.exp(log_normalize(logp, axis=axis))


def average_ranks(s: np.ndarray | Sequence[float]) -> np.ndarray:
    """1-based ranks with ties given their average rank (like `scipy.stats.rankdata`)."""
    s = np.asarray(s, dtype=np.float64)
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], s.size]
    ranks = np.empty(s.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # mean of ranks start+1 .. end
    return ranks


def auroc(y_true: np.ndarray | Sequence[int], scores: np.ndarray | Sequence[float]) -> float:
    """AUROC = P(score of a random positive > score of a random negative), ties counted ½.

    Mann–Whitney U / (n₊ n₋) (Hanley & McNeil, Radiology 1982). Needs both classes present;
    callers validate (see `llminfo.eval.metrics.auroc`).
    """
    y = np.asarray(y_true)
    ranks = average_ranks(scores)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _check_distribution(p: np.ndarray, name: str) -> None:
    """Entries finite, ≥ 0, each last-axis row summing to 1 (within 1e-6)."""
    if not np.all(np.isfinite(p)):
        raise ValueError(f"`{name}` has non-finite entries")
    if np.any(p < 0):
        raise ValueError(f"`{name}` has negative entries")
    sums = np.atleast_1d(p.sum(axis=-1))
    bad = np.flatnonzero(np.abs(sums - 1.0) > _PROB_TOL)
    if bad.size:
        where = f"sums to {sums[0]:.6g}" if p.ndim == 1 else f"row {int(bad[0])} sums to {sums[bad[0]]:.6g}"
        raise ValueError(f"`{name}` is not normalised: {where}, expected 1")
