"""Every formula in llminfo, as pure functions on tensors / arrays. No model, no I/O.

Natural logs (nats) unless a name says `bits`. Analyzers and processors call these; they
never re-derive a formula. Sections: core information measures; typical sampling; halting;
hallucination (semantic entropy, iterative-prompting MI, EDFL/ISR); permutation dispersion;
information capacity.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

LN2 = math.log(2.0)

# ---------------------------------------------------------------------------------------
# Core information measures
# ---------------------------------------------------------------------------------------


def entropy_from_logits(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy H = −Σ p log p (nats) of softmax(logits) along `dim`.

    Stable with −inf entries (they contribute 0, not NaN). A row that is entirely −inf has
    no distribution and yields NaN. Computed in float32 at least.

    Args:
        logits: (..., vocab) tensor.
    Returns:
        (...) tensor of entropies.
    """
    x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    logp = torch.log_softmax(x, dim=dim)
    p = logp.exp()
    # p*logp is 0*(-inf) = nan where p == 0; those terms are 0 by convention.
    plogp = torch.where(p > 0, p * logp, torch.zeros_like(p))
    return -plogp.sum(dim=dim)


def entropy(p: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """H(p) = −Σ p ln p (nats) of a probability vector (0 ln 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=axis)


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
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def log_normalize(logp: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Renormalise log-weights so they exponentiate to a distribution: x − logsumexp(x)."""
    logp = np.asarray(logp, dtype=np.float64)
    return logp - np.expand_dims(logsumexp(logp, axis=axis), axis)


def normalize_logprobs(logp: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Probabilities from log-weights renormalised over `axis` (softmax in float64)."""
    return np.exp(log_normalize(logp, axis=axis))
