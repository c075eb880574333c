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


# ---------------------------------------------------------------------------------------
# Hallucination: semantic entropy / MI
# ---------------------------------------------------------------------------------------

_PROB_TOL = 1e-6


def _as_cluster_ids(cluster_ids: np.ndarray | Sequence[int], name: str = "cluster_ids") -> np.ndarray:
    ids = np.asarray(cluster_ids)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"`{name}` has to be a non-empty 1-D sequence of cluster ids, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"`{name}` has to hold integers, got dtype {ids.dtype}")
    if ids.min() < 0:
        raise ValueError(f"`{name}` has to hold cluster ids >= 0, got {int(ids.min())}")
    return ids


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


def cluster_log_probs(cluster_ids: np.ndarray | Sequence[int], seq_logprobs: np.ndarray | Sequence[float]) -> np.ndarray:
    """Normalised log-probability of each semantic cluster (Farquhar et al., Nature 2024).

    ℓ_c = logsumexp_{s ∈ c} log p(s) − logsumexp_{all s} log p(s), so Σ_c e^{ℓ_c} = 1.

    Args:
        cluster_ids: (M,) int cluster id of each sampled answer (ids 0..C−1 in any order).
        seq_logprobs: (M,) sequence log-likelihood of each answer (Farquhar et al. use the
            length-normalised one: mean token log-probability).
    Returns:
        (C,) array, C = max(cluster_ids) + 1; an id with no member gets −inf.
    """
    ids = _as_cluster_ids(cluster_ids)
    lp = np.asarray(seq_logprobs, dtype=np.float64)
    if lp.shape != ids.shape:
        raise ValueError(f"`seq_logprobs` has shape {lp.shape}, `cluster_ids` has shape {ids.shape}: one log-prob per answer")
    if np.any(np.isnan(lp)) or np.any(lp == np.inf):
        raise ValueError("`seq_logprobs` has NaN or +inf entries")
    with np.errstate(divide="ignore"):
        total = logsumexp(lp)
    if not np.isfinite(total):
        raise ValueError("`seq_logprobs` are all −inf: no answer has positive probability")
    C = int(ids.max()) + 1
    return np.array([logsumexp(lp[ids == c]) for c in range(C)]) - total


def semantic_entropy(cluster_ids: np.ndarray | Sequence[int], seq_logprobs: np.ndarray | Sequence[float]) -> float:
    """Semantic entropy over meaning clusters (Farquhar et al., "Detecting hallucinations in
    large language models using semantic entropy", Nature 2024).

    Sample M answers, cluster them by meaning, give each cluster the normalised probability
    mass of its members, and take the entropy over clusters: SE = −Σ_c e^{ℓ_c} ℓ_c with
    ℓ_c from `cluster_log_probs`. High SE = the model's answers disagree in meaning.

    Args:
        cluster_ids: (M,) cluster id of each sampled answer.
        seq_logprobs: (M,) sequence log-likelihood of each answer (mean token logprob).
    Returns:
        SE in nats, in [0, ln C]. One cluster → 0; M singleton clusters with equal
        likelihoods → ln M.

    Example:
        >>> semantic_entropy([0, 0, 1], [-0.1, -0.2, -0.1])
    """
    lc = cluster_log_probs(cluster_ids, seq_logprobs)
    p = np.exp(lc)
    return float(-np.sum(np.where(p > 0, p * np.where(p > 0, lc, 0.0), 0.0)))


def discrete_semantic_entropy(cluster_ids: np.ndarray | Sequence[int]) -> float:
    """Discrete semantic entropy from cluster counts (Farquhar et al., Nature 2024, Methods).

    For when sequence likelihoods are unavailable (black-box): −Σ_c (n_c/M) ln(n_c/M).

    Args:
        cluster_ids: (M,) cluster id of each sampled answer.
    Returns:
        nats, in [0, ln M].

    Example:
        >>> discrete_semantic_entropy([0, 0, 1, 2])  # −(½ln½ + 2·¼ln¼)
    """
    ids = _as_cluster_ids(cluster_ids)
    counts = np.bincount(ids)
    return float(entropy(counts[counts > 0] / ids.size))


def iterative_prompting_mi(
    mu1: np.ndarray | Sequence[float],
    mu2: np.ndarray | Sequence[Sequence[float]],
    gamma1: float = 0.0,
    gamma2: float = 0.0,
) -> float:
    """Epistemic-uncertainty score by iterative prompting, n = 2 (Yadkori et al., "To Believe
    or Not to Believe Your LLM", NeurIPS 2024, Algorithm 3).

    The pseudo-joint of two answers is µ(i, t) = µ₁(i) µ₂(t | i): the first answer is
    cluster i, and the second answer — asked with the first one repeated in the prompt — is
    cluster t. Its product of marginals is µ⊗(i, t) = µ₁(i) Σ_j µ₁(j) µ₂(t | j). The score is
    Î = Σ_{i,t} µ(i,t) ln((µ(i,t) + γ₁) / (µ⊗(i,t) + γ₂)), the mutual information of the
    pseudo-joint when γ₁ = γ₂ = 0. High Î: the model's second answer is swayed by the first
    (it does not know); a question with several valid answers the model knows keeps Î low.

    Args:
        mu1: (C,) distribution of the first answer over clusters.
        mu2: (C, C); row i = distribution of the second answer given the first is cluster i.
        gamma1 (`float`, defaults to 0.0), gamma2 (`float`, defaults to 0.0): stabilisers ≥ 0.
    Returns:
        Î in nats; with γ₁ = γ₂ = 0, 0 ≤ Î ≤ ln C. One cluster → 0; µ₂ independent of i → 0;
        µ₂(t|i) = 1[t = i] → H(µ₁).

    Example:
        >>> iterative_prompting_mi([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]])  # ln 2
    """
    m1 = np.asarray(mu1, dtype=np.float64)
    m2 = np.asarray(mu2, dtype=np.float64)
    if m1.ndim != 1 or m1.size == 0:
        raise ValueError(f"`mu1` has to be a non-empty 1-D distribution (C,), got shape {m1.shape}")
    if m2.shape != (m1.size, m1.size):
        raise ValueError(f"`mu2` has to have shape (C, C) = {(m1.size, m1.size)} to match `mu1`, got {m2.shape}")
    _check_distribution(m1, "mu1")
    _check_distribution(m2, "mu2")
    joint = m1[:, None] * m2
    return _mi_from_joint(joint, gamma1, gamma2)


def iterative_prompting_mi_general(
    joint: np.ndarray | Sequence,
    gamma1: float = 0.0,
    gamma2: float = 0.0,
    normalize: bool = False,
) -> float:
    """The general n-answer MI estimator (Yadkori et al., NeurIPS 2024, Algorithm 1).

    The pseudo-joint of n answers is the product of conditionals, each answer asked with the
    previous ones in the prompt: µ̃(y₁..yₙ) = Π_t µ(y_t | F_{t−1}(x, y₁..y_{t−1})). The
    estimator compares it with the product of its own marginals µ̃⊗(y) = Π_t µ̃_t(y_t):
    Î = Σ_y µ̃(y) ln((µ̃(y) + γ₁) / (µ̃⊗(y) + γ₂)), terms with µ̃(y) = 0 counted as 0.
    For n = 2 it equals `iterative_prompting_mi(µ₁, µ₂)` with `joint = µ₁[:, None] * µ₂`.

    Args:
        joint: (C₁, …, Cₙ) non-negative pseudo-joint over the answer clusters, n ≥ 1.
        gamma1 (`float`, defaults to 0.0), gamma2 (`float`, defaults to 0.0): stabilisers ≥ 0.
        normalize (`bool`, defaults to False): renormalise `joint` (as the paper does over
            the sampled support) instead of requiring it to sum to 1.
    Returns:
        Î in nats (the total correlation of µ̃ when γ = 0; ≥ 0).

    Example:
        >>> iterative_prompting_mi_general(np.full((2, 2, 2), 1 / 8))  # independent → 0
    """
    j = np.asarray(joint, dtype=np.float64)
    if j.ndim < 1 or j.size == 0:
        raise ValueError(f"`joint` has to be a non-empty array with one axis per answer, got shape {j.shape}")
    if not np.all(np.isfinite(j)) or np.any(j < 0):
        raise ValueError("`joint` has to hold finite non-negative entries")
    total = j.sum()
    if normalize:
        if total <= 0:
            raise ValueError("`joint` sums to 0: nothing to normalise")
        j = j / total
    elif abs(total - 1.0) > _PROB_TOL:
        raise ValueError(f"`joint` is not normalised: it sums to {total:.6g} (pass normalize=True to renormalise)")
    return _mi_from_joint(j, gamma1, gamma2)


def _mi_from_joint(joint: np.ndarray, gamma1: float, gamma2: float) -> float:
    """Σ µ ln((µ+γ₁)/(Π_t µ_t + γ₂)) over an n-dimensional joint µ."""
    for name, g in (("gamma1", gamma1), ("gamma2", gamma2)):
        if not (isinstance(g, (int, float)) and math.isfinite(g) and g >= 0):
            raise ValueError(f"`{name}` has to be a finite float >= 0, got {g!r}")
    prod = np.ones_like(joint)
    for axis in range(joint.ndim):
        other = tuple(a for a in range(joint.ndim) if a != axis)
        marg = joint.sum(axis=other) if other else joint
        shape = [1] * joint.ndim
        shape[axis] = -1
        prod = prod * marg.reshape(shape)
    pos = joint > 0
    with np.errstate(divide="ignore"):
        terms = joint[pos] * (np.log(joint[pos] + gamma1) - np.log(prod[pos] + gamma2))
    return float(terms.sum())


# ---------------------------------------------------------------------------------------
# Entropy-based early halting ("Think or Not?", 2025)
# ---------------------------------------------------------------------------------------


def halting_threshold(ratio: float = 0.3) -> float:
    """Adaptive Think halting threshold on H/C (bits per candidate): ratio · 1/(e · ln 2).

    "Think or Not? Exploring Thinking Efficiency in Large Reasoning Models via an
    Information-Theoretic Lens" (2025) stops reasoning once the answer distribution's
    entropy per candidate falls below a fraction of 1/(e·ln 2) ≈ 0.531 bits — the largest
    value one term −p log₂ p can take (at p = 1/e).

    Args:
        ratio (`float`, *optional*, defaults to 0.3): fraction of 1/(e·ln 2), > 0.

    Example:
        >>> round(halting_threshold(1.0), 4)
        0.5307
    """
    if not (isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"`ratio` has to be a finite float > 0, got {ratio!r}")
    return float(ratio) / (math.e * LN2)


def answer_entropy_bits(candidate_logprobs: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray:
    """Entropy in bits of the answer distribution renormalised over C candidates.

    p̂ = softmax(candidate_logprobs) over `axis`; H = −Σ p̂ log₂ p̂ ("Think or Not?", 2025).
    Candidates with log-prob −inf get p̂ = 0. Bounds: 0 ≤ H ≤ log₂ C.

    Args:
        candidate_logprobs: (..., C) log-probabilities (any base-e log-weights) of the
            answer candidates, e.g. from `LanguageModel.next_token_logprobs`.
    Returns:
        (...) array of entropies in bits.

    Example:
        >>> float(answer_entropy_bits([0.0, 0.0, 0.0, 0.0]))
        2.0
    """
    logp = np.asarray(candidate_logprobs, dtype=np.float64)
    if logp.size == 0 or logp.shape[axis] == 0:
        raise ValueError("`candidate_logprobs` has no candidates")
    if np.isnan(logp).any():
        raise ValueError("`candidate_logprobs` contains NaN")
    if np.all(np.isneginf(logp), axis=axis).any():
        raise ValueError("`candidate_logprobs`: every candidate has log-probability -inf in some row")
    return entropy(normalize_logprobs(logp, axis=axis), axis=axis) / LN2


def should_halt_thinking(entropy_bits: float | np.ndarray, num_candidates: int, ratio: float = 0.3) -> np.ndarray:
    """Adaptive Think stopping rule: H / C < ratio · 1/(e · ln 2) ("Think or Not?", 2025).

    Args:
        entropy_bits: answer-distribution entropy in bits (see `answer_entropy_bits`).
        num_candidates: C, the number of answer candidates (≥ 1).
        ratio: see `halting_threshold`.
    Returns:
        boolean array (a numpy bool for a scalar input).

    Example:
        >>> bool(should_halt_thinking(0.1, 4, ratio=0.3))  # 0.025 < 0.159
        True
    """
    if not isinstance(num_candidates, (int, np.integer)) or num_candidates < 1:
        raise ValueError(f"`num_candidates` has to be an integer >= 1, got {num_candidates!r}")
    return np.asarray(entropy_bits, dtype=np.float64) / num_candidates < halting_threshold(ratio)


def info_gain(entropies: np.ndarray | Sequence[float]) -> np.ndarray:
    """InfoGain_k = H_{k−1} − H_k between consecutive probes ("Think or Not?", 2025).

    Positive when a reasoning chunk reduced the answer uncertainty. Units follow the input.

    Args:
        entropies: (K,) answer entropies at probes 0..K−1.
    Returns:
        (K−1,) array; empty for K ≤ 1.

    Example:
        >>> info_gain([2.0, 1.5, 1.75]).tolist()
        [0.5, -0.25]
    """
    h = np.asarray(entropies, dtype=np.float64).reshape(-1)
    return h[:-1] - h[1:]
