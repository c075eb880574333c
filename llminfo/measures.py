"""Every formula in llminfo, as pure functions on tensors / arrays. No model, no I/O.

Natural logs (nats) unless a name says `bits`. Analyzers and processors call these; they
never re-derive a formula. Sections: core information measures; typical sampling; halting;
hallucination (semantic entropy, iterative-prompting MI, EDFL/ISR); permutation dispersion;
information capacity.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # torch is imported inside the few tensor functions: numpy users never load it
    import torch

LN2 = math.log(2.0)

# The typical-sampling engine moved to `llminfo.processors.typical_core` (public names there);
# the old private names still resolve, lazily, so code written against them keeps working.
_MOVED_TO_TYPICAL_CORE = {
    "_typical_filter_unchecked": "typical_filter",
    "_typicality_scores": "typicality_scores",
    "_sortable": "sortable",
    "_SORTABLE_INT": "SORTABLE_INT",
    "_typical_filter_sorted": "typical_filter_sorted",
    "_TYPICAL_TOPK": "TYPICAL_TOPK",
    "_typical_filter_fast": "typical_filter_fast",
    "_typical_topk": "typical_topk",
    "_check_typical_p": "check_typical_p",
    "_check_min_tokens_to_keep": "check_min_tokens_to_keep",
}


def __getattr__(name: str):
    if name in _MOVED_TO_TYPICAL_CORE:
        from llminfo.processors import typical_core

        return getattr(typical_core, _MOVED_TO_TYPICAL_CORE[name])
    raise AttributeError(f"module 'llminfo.measures' has no attribute {name!r}")

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
    import torch

    x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    return entropy_from_logprobs(torch.log_softmax(x, dim=dim), dim=dim)


def entropy_from_logprobs(logp: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """H = −Σ exp(logp)·logp for already normalised log-probabilities (−inf entries allowed)."""
    import torch

    # entr(p) = −p ln p with entr(0) = 0, so −inf logits (p = 0) contribute nothing, not NaN.
    return torch.special.entr(logp.exp()).sum(dim=dim)


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
        0.6438164686...
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
        1.0397207708...
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
        0.6931471805...
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
        0.0
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


# ---------------------------------------------------------------------------------------
# Typical sampling (locally typical mask) and decoding-quality measures
# ---------------------------------------------------------------------------------------


def typical_mask(
    logits: torch.Tensor,
    typical_p: float | torch.Tensor,
    min_tokens_to_keep: int = 1,
) -> torch.Tensor:
    """Locally typical set of each row (Meister et al., "Locally Typical Sampling", TACL 2023).

    With p = softmax(z) and H = −Σ p log p, each token's distance from the expected
    information content is s_i = |−log p_i − H|. Sorting by s ascending, the typical set is
    the shortest prefix whose probability mass reaches τ; the rest is filtered.

    The kept set is *exactly* that of transformers' `TypicalLogitsWarper` (same ops, same
    dtype, same sort), including its quirks:

    - the prefix is cut at index `last = #{k : cumsum_k < τ}` (clamped to V−1), so the
      token whose cumulative mass first reaches τ is kept;
    - every token whose score equals the cut-off score s_(last) is kept (ties kept), so the
      kept set does not depend on how the sort orders ties;
    - all arithmetic happens in the logits' dtype: for bf16/fp16, log-softmax, entropy and
      the cumulative sums are rounded to it and τ itself is compared after rounding to it
      (τ = 0.9 acts as 0.8984375 in bf16);
    - the cumulative mass is softmax of the *sorted logits* (not the gathered
      probabilities), which rounds differently near the cut-off;
    - `min_tokens_to_keep` keeps the first k tokens in sort order; among tokens tied at
      the k-th score, the sort's order decides (as in transformers);
    - a row with no finite maximum (all −inf), or holding NaN or +inf, has NaN scores; it
      is passed through: every token kept (output = input, no NaN created).

    τ = 1 keeps every token (transformers' warper rejects τ = 1; `generate` skips it).
    Runs in O(V log V) per row with no Python loop over batch or vocabulary.

    Args:
        logits (`torch.Tensor` of shape `(batch, vocab)`): next-token scores (fp32/bf16/fp16).
        typical_p (`float` or `torch.Tensor` of shape `(batch,)`): τ in (0, 1]; a tensor
            gives one τ per row (used by the vLLM processor), rows with τ = 1 keep all.
        min_tokens_to_keep (`int`, defaults to 1): always keep at least this many tokens.
    Returns:
        `torch.BoolTensor` of shape `(batch, vocab)`, True = keep.

    Example:
        >>> import torch
        >>> logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
        >>> typical_mask(logits, 0.2)  # H ≈ 1.14 nats: the 0.3 token (−log p ≈ 1.20) is most typical
        tensor([[False,  True, False, False]])
        >>> typical_mask(logits, 0.5)  # 0.3 < 0.5: the next most typical (p = 0.5) crosses τ
        tensor([[ True,  True, False, False]])
    """
    import torch

    from llminfo.processors.typical_core import check_min_tokens_to_keep, check_typical_p, typical_filter

    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(f"`logits` has to be a 2-D tensor (batch, vocab), got {getattr(logits, 'shape', type(logits))}")
    if not logits.is_floating_point():
        raise TypeError(f"`logits` has to be a floating-point tensor, got {logits.dtype}")
    min_tokens_to_keep = check_min_tokens_to_keep(min_tokens_to_keep)
    batch, vocab = logits.shape
    if isinstance(typical_p, torch.Tensor):
        if typical_p.shape != (batch,):
            raise ValueError(f"`typical_p` as a tensor has to have shape (batch,) = ({batch},), got {tuple(typical_p.shape)}")
        tp = typical_p.to(device=logits.device)
        if bool(((tp <= 0) | (tp > 1) | tp.isnan()).any()):
            raise ValueError("`typical_p` has values outside (0, 1]")
        # τ compared in the logits' dtype, as transformers does with a Python float.
        mass = tp.to(logits.dtype).unsqueeze(1)
        filter_rows = (tp < 1).unsqueeze(1)
    else:
        if check_typical_p(typical_p) == 1.0:
            return torch.ones_like(logits, dtype=torch.bool)
        mass = typical_p
        filter_rows = None
    if batch == 0 or vocab == 0:
        return torch.ones_like(logits, dtype=torch.bool)
    return ~typical_filter(logits, mass, min_tokens_to_keep, filter_rows)


def seq_rep_n(tokens: Sequence, n: int = 4) -> float:
    """Repeated n-gram rate of one sequence (Welleck et al., "Neural Text Generation with
    Unlikelihood Training", ICLR 2020, seq-rep-n).

    seq-rep-n = 1 − |unique n-grams| / |n-grams|: 0 for no repeated n-gram, → 1 for a
    degenerate loop. Used by Meister et al. (TACL 2023) to show typical sampling reduces
    degenerate repetition.

    Args:
        tokens: the sequence (token ids or words).
        n (`int`, defaults to 4): n-gram order.
    Returns:
        rate in [0, 1); 0.0 for a sequence shorter than n (no n-grams).

    Example:
        >>> seq_rep_n([1, 2, 1, 2, 1], n=2)  # 4 bigrams, 2 unique
        0.5
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` has to be a positive integer, got {n!r}")
    toks = list(tokens)
    grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def distinct_n(sequences: Sequence[Sequence], n: int = 2) -> float:
    """Distinct-n over a set of sequences (Li et al., "A Diversity-Promoting Objective
    Function for Neural Conversation Models", NAACL 2016).

    distinct-n = |unique n-grams over all sequences| / |n-grams over all sequences|: the
    diversity of a set of generations (1 = no n-gram ever repeats, within or across).

    Args:
        sequences: a list of sequences (token ids or words).
        n (`int`, defaults to 2): n-gram order.
    Returns:
        ratio in (0, 1]; 0.0 when no sequence has n tokens.

    Example:
        >>> distinct_n([[1, 2, 3], [1, 2, 4]], n=2)  # bigrams (1,2),(2,3),(1,2),(2,4)
        0.75
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` has to be a positive integer, got {n!r}")
    if isinstance(sequences, (str, bytes)):
        raise TypeError("`sequences` has to be a list of sequences, got a single string")
    total = 0
    unique: set = set()
    for s in sequences:
        toks = list(s)
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else 0.0


def mean_surprisal_deviation(
    logprobs: Sequence[float] | np.ndarray, entropies: Sequence[float] | np.ndarray
) -> float:
    """Mean distance of surprisal from entropy, (1/T) Σ_t |−log p(x_t) − H_t| (nats)
    (Meister et al., TACL 2023: the per-token local typicality of a text).

    Human text keeps its per-token information close to the expected information H_t;
    degenerate (repetitive) text sits far below it, incoherent text far above.

    Args:
        logprobs: (T,) log p(x_t | x_<t) of each token under the model (raw, T = 1).
        entropies: (T,) entropy H_t of the model's next-token distribution at each step.
    Returns:
        the mean in nats; NaN for an empty sequence (no tokens, no deviation).

    Example:
        >>> mean_surprisal_deviation([-1.0, -3.0], [2.0, 2.0])
        1.0
    """
    lp = np.asarray(logprobs, dtype=np.float64).reshape(-1)
    h = np.asarray(entropies, dtype=np.float64).reshape(-1)
    if lp.shape != h.shape:
        raise ValueError(f"`logprobs` has {lp.size} entries, `entropies` has {h.size}: one of each per token")
    if lp.size == 0:
        return float("nan")
    if not (np.all(np.isfinite(h)) and not np.any(np.isnan(lp)) and np.all(lp <= 0)):
        raise ValueError("`logprobs` have to be <= 0 and not NaN, `entropies` finite")
    return float(np.mean(np.abs(-lp - h)))


# ---------------------------------------------------------------------------------------
# Permutation dispersion ("LLMs are Bayesian, in Expectation, not in Realization", 2025)
# ---------------------------------------------------------------------------------------


def _check_ordering_distributions(q: np.ndarray | Sequence[Sequence[float]], name: str = "q") -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] < 2:
        raise ValueError(
            f"`{name}` has to be a 2-D array (orderings, labels) with >= 1 ordering and >= 2 labels, got shape {q.shape}"
        )
    _check_distribution(q, name)
    return q


def permutation_dispersion(q: np.ndarray | Sequence[Sequence[float]]) -> dict[str, np.ndarray | float]:
    """Spread of a model's label distribution across orderings of its in-context examples.

    An exchangeable Bayesian predictor gives the same posterior predictive for every ordering
    of exchangeable examples; transformers do so only on average over orderings
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025). With q_k the label
    distribution under ordering k and q̄ = (1/m) Σ_k q_k:

    - std = sqrt((1/m) Σ_k (q_k − q̄)²) per label (population std),
    - MAD = (1/m) Σ_k |q_k − q̄| per label,
    - KL-dispersion = (1/m) Σ_k KL(q_k ‖ q̄) (nats): the Jensen–Shannon-style information
      radius of the m distributions; 0 iff all orderings agree, ≤ ln m.

    Args:
        q: (m, L) array, row k the distribution over the L labels under ordering k
            (rows sum to 1).
    Returns:
        dict with `mean` (L,), `std` (L,), `mad` (L,) and `kl_dispersion` (float).

    Example:
        >>> d = permutation_dispersion([[0.9, 0.1], [0.5, 0.5]])
        >>> d["mean"], d["mad"]
        (array([0.7, 0.3]), array([0.2, 0.2]))
    """
    q = _check_ordering_distributions(q)
    # Identical rows: take q̄ = q_0 exactly (a float mean can be 1 ulp off, making a perfectly
    # order-invariant model look slightly dispersed).
    mean = q[0].copy() if np.all(q == q[0]) else q.mean(axis=0)
    dev = q - mean
    return {
        "mean": mean,
        "std": np.sqrt(np.mean(dev**2, axis=0)),
        "mad": np.abs(dev).mean(axis=0),
        "kl_dispersion": max(float(np.mean(kl_divergence(q, mean[None, :], axis=-1))), 0.0),
    }


def jensen_gap(q: np.ndarray | Sequence[Sequence[float]], y: int) -> float:
    """Jensen gap of the log-loss across orderings at label y:
    (1/m) Σ_k [−ln q_k(y)] + ln((1/m) Σ_k q_k(y)) ≥ 0
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025).

    The mean log-loss of single orderings minus the log-loss of the permutation-averaged
    prediction: by Jensen's inequality (−ln is convex) it is ≥ 0, and 0 iff every ordering
    gives the same q_k(y). It is what averaging over orderings gains, in nats.

    Args:
        q: (m, L) label distributions, one row per ordering.
        y: index of the true label (0 <= y < L).
    Returns:
        the gap in nats (inf if some ordering gives q_k(y) = 0 but not all do).

    Example:
        >>> round(jensen_gap([[0.9, 0.1], [0.5, 0.5]], 0), 4)
        0.0426
    """
    q = _check_ordering_distributions(q)
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer)) or not 0 <= int(y) < q.shape[1]:
        raise ValueError(f"`y` has to be a label index in [0, {q.shape[1]}), got {y!r}")
    qy = q[:, int(y)]
    if np.all(qy == qy[0]):
        return 0.0  # exact: avoids a 1-ulp negative from float rounding (and inf − inf)
    with np.errstate(divide="ignore"):
        gap = float(np.mean(-np.log(qy)) + np.log(np.mean(qy)))
    return max(gap, 0.0)


def optimal_cot_tokens(n: float, eps: float, c: float = 1.0) -> float:
    """Rule of thumb for chain-of-thought length: k* = c · √n · ln(1/ε)
    ("LLMs are Bayesian, in Expectation, not in Realization", 2025, v1: k* = Θ(√n log(1/ε))).

    The paper gives the rate; the constant c is task- and model-dependent: fit it with
    `fit_cot_constant` (the dispersion report does, from its measurements) rather than
    trusting the default.

    Args:
        n: number of in-context examples (> 0).
        eps: target error (0 < eps < 1).
        c (`float`, defaults to 1.0): the constant (> 0).

    Example:
        >>> round(optimal_cot_tokens(16, 0.01), 3)
        18.421
    """
    for name, v in (("n", n), ("eps", eps), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` has to be a finite number, got {v!r}")
    if n <= 0:
        raise ValueError(f"`n` has to be > 0, got {n!r}")
    if not 0 < eps < 1:
        raise ValueError(f"`eps` has to be in (0, 1), got {eps!r}")
    if c <= 0:
        raise ValueError(f"`c` has to be > 0, got {c!r}")
    return float(c * math.sqrt(n) * math.log(1.0 / eps))


def log_curve_fit(n: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], level: float | None = None) -> tuple[float, float] | dict[str, float]:
    """Least-squares fit values ≈ a + b · ln n: how dispersion varies with the number of
    in-context examples. "LLMs are Bayesian, in Expectation, not in Realization" (2025) fits
    mean |q_π − q̄| this way and reports the slope b; its sign is a measurement, not a
    prediction (the paper's bound is on the martingale violation, Θ(log n / n), see
    `martingale_violation_bound`; the fitted dispersion need not shrink).

    Args:
        n: (K,) positive numbers of examples, at least two distinct (repeats allowed: one point
            per query gives the interval its error bars).
        values: (K,) measured values (finite).
        level (`float`, *optional*): with a level in (0, 1), also the two-sided Student-t
            confidence interval of b from the OLS standard error (needs K >= 3).
    Returns:
        (a, b); with `level`, a dict with a, b, se_b, b_low, b_high, level.

    Example:
        >>> a, b = log_curve_fit([1, np.e], [2.0, 1.0]); round(a, 6), round(b, 6)
        (2.0, -1.0)
    """
    x = np.asarray(n, dtype=np.float64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"`n` has {x.size} entries, `values` has {y.size}: one value per n")
    if np.any(x <= 0) or not np.all(np.isfinite(x)):
        raise ValueError("`n` has to hold finite numbers > 0")
    if not np.all(np.isfinite(y)):
        raise ValueError("`values` has non-finite entries")
    if np.unique(x).size < 2:
        raise ValueError("`n` needs at least two distinct values to fit a + b·ln n")
    design = np.stack([np.ones_like(x), np.log(x)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    if level is None:
        return float(a), float(b)
    if not (isinstance(level, float) and 0 < level < 1):
        raise ValueError(f"`level` has to be a float in (0, 1), got {level!r}")
    if x.size < 3:
        raise ValueError("a confidence interval for b needs at least 3 points")
    from scipy import stats

    lx = np.log(x)
    resid = y - (a + b * lx)
    se_b = float(np.sqrt(resid @ resid / (x.size - 2) / np.sum((lx - lx.mean()) ** 2)))
    t = float(stats.t.ppf(0.5 + level / 2, x.size - 2))
    return {"a": float(a), "b": float(b), "se_b": se_b, "b_low": float(b) - t * se_b, "b_high": float(b) + t * se_b, "level": level}


def martingale_violation_bound(n: float, c: float = 1.0) -> float:
    """The martingale-violation rate c · ln n / n ("LLMs are Bayesian, in Expectation, not in
    Realization", 2025: positional encodings induce violations of order Θ(log n / n)).

    The paper states the rate, not a numeric constant: `c` (default 1) is a user choice. An
    exchangeable (order-invariant) predictor has violation 0, within the bound for every n.

    Args:
        n: number of in-context examples (>= 1).
        c (`float`, defaults to 1.0): the constant (> 0).

    Example:
        >>> round(martingale_violation_bound(10), 4)
        0.2303
    """
    for name, v in (("n", n), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` has to be a finite number, got {v!r}")
    if n < 1:
        raise ValueError(f"`n` has to be >= 1, got {n!r}")
    if c <= 0:
        raise ValueError(f"`c` has to be > 0, got {c!r}")
    return float(c * math.log(n) / n)


def fit_cot_constant(n: np.ndarray | Sequence[float], tokens: np.ndarray | Sequence[float], eps: float) -> float:
    """Least-squares c (through the origin) of tokens ≈ c · √n · ln(1/ε), the constant of
    `optimal_cot_tokens`: c = Σ k_i s_i / Σ s_i² with s_i = √n_i ln(1/ε).

    Args:
        n: (K,) numbers of examples (> 0). tokens: (K,) measured k (>= 0, finite).
        eps: the target error (0 < eps < 1).

    Example:
        >>> round(fit_cot_constant([4, 16], [2 * np.log(10), 4 * np.log(10)], 0.1), 6)
        1.0
    """
    x = np.asarray(n, dtype=np.float64).reshape(-1)
    k = np.asarray(tokens, dtype=np.float64).reshape(-1)
    if x.shape != k.shape or x.size == 0:
        raise ValueError(f"`n` and `tokens` need the same non-zero length, got {x.size} and {k.size}")
    if np.any(x <= 0) or not np.all(np.isfinite(x)) or np.any(k < 0) or not np.all(np.isfinite(k)):
        raise ValueError("`n` has to hold finite numbers > 0 and `tokens` finite numbers >= 0")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"`eps` has to be in (0, 1), got {eps!r}")
    s = np.sqrt(x) * math.log(1.0 / eps)
    return float(k @ s / (s @ s))


# ---------------------------------------------------------------------------------------
# Information capacity (Yuan et al., 2025)
# ---------------------------------------------------------------------------------------


def information_capacity(ts: float, nll: float, flops: float, bias: float = -27.0) -> float:
    """Information capacity IC = (TS − NLL + b) / log₂ F (Yuan et al., 2025,
    "Information Capacity: Evaluating the Efficiency of Large Language Models via Text Compression").

    Compression gain per unit of compute: TS is the text size in bits per token (UTF-8 bits
    of the text each token covers), NLL the model's code length in bits per token, so
    TS − NLL is the bits saved per token; F the decode FLOPs per token; b a dataset constant
    (default −27) that makes IC comparable across model sizes. Doubling F adds exactly 1 to
    the denominator.

    Args:
        ts: text size, bits per token.
        nll: negative log-likelihood, bits per token (>= 0).
        flops: decode FLOPs per token (> 1).
        bias (`float`, defaults to -27.0): the dataset constant b.

    Example:
        >>> information_capacity(ts=32.0, nll=4.0, flops=2.0 ** 28)
        0.03571428571428571
    """
    for name, v in (("ts", ts), ("nll", nll), ("flops", flops), ("bias", bias)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"`{name}` has to be a finite number, got {v!r}")
    if ts < 0 or nll < 0:
        raise ValueError(f"`ts` and `nll` are bits per token, >= 0; got ts={ts!r}, nll={nll!r}")
    if flops <= 1:
        raise ValueError(f"`flops` has to be > 1 (FLOPs per token), got {flops!r}")
    return float((ts - nll + bias) / math.log2(flops))


# ---------------------------------------------------------------------------------------
# Hallucination: EDFL / ISR decision (Chlon et al., 2025)
# ---------------------------------------------------------------------------------------


def _check_prob(x: float, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
        raise ValueError(f"`{name}` has to be a finite probability in (0, 1), got {x!r}")
    if not 0.0 < float(x) < 1.0:
        raise ValueError(f"`{name}` has to be in (0, 1), got {x!r}")
    return float(x)


def _check_nonneg(x: float, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or np.isnan(x) or x < 0:
        raise ValueError(f"`{name}` has to be a number >= 0, got {x!r}")
    return float(x)


def edfl_max_prob(delta_bar: float, q_bar: float, tol: float = 1e-12) -> float:
    """Largest success probability the information budget allows, by the EDFL inequality
    (Chlon et al., 2025, "Compression Failure in LLMs: Bayesian in Expectation, Not in
    Realization" / "hallbayes").

    Expectation-level Decompression Law: if evidence lifts the model's log-probability of an
    event by Δ̄ nats on average over skeleton (evidence-masked) prompts whose mean event
    probability is q̄, then the event's probability p on the full prompt satisfies
    KL(Ber(p) ‖ Ber(q̄)) ≤ Δ̄. The bound p_max is the largest p ≥ q̄ with KL ≤ Δ̄, found by
    bisection (KL(Ber(p)‖Ber(q̄)) increases on [q̄, 1]). The hallucination-risk bound is
    RoH = 1 − p_max.

    Args:
        delta_bar (`float`): information budget Δ̄ ≥ 0 in nats (see `information_budget`).
        q_bar (`float`): prior event probability q̄ in (0, 1).
        tol (`float`, defaults to 1e-12): bisection tolerance on p.
    Returns:
        p_max in [q̄, 1]. p_max(0, q̄) = q̄; non-decreasing in Δ̄; 1 once Δ̄ ≥ ln(1/q̄).

    Example:
        >>> edfl_max_prob(0.0, 0.3)
        0.3
        >>> round(edfl_max_prob(1.0, 0.3), 4)
        0.9595
    """
    delta_bar = _check_nonneg(delta_bar, "delta_bar")
    q_bar = _check_prob(q_bar, "q_bar")
    if delta_bar == 0.0:
        return q_bar
    if delta_bar >= -math.log(q_bar):  # KL(Ber(1)‖Ber(q̄)) = ln(1/q̄): every p is allowed
        return 1.0
    lo, hi = q_bar, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if float(bernoulli_kl(mid, q_bar)) <= delta_bar:
            lo = mid
        else:
            hi = mid
    return lo


def bits_to_trust(q_lo: float, h_star: float = 0.05) -> float:
    """Information needed to trust an answer at hallucination rate h*: B2T = KL(Ber(1 − h*) ‖ Ber(q_lo))
    (Chlon et al., 2025). Nats, despite the paper's name.

    The evidence must lift a worst-case prior q_lo to a success rate of 1 − h*; by EDFL
    that costs at least this many nats of information.

    Args:
        q_lo (`float`): conservative prior in (0, 1), e.g. max(min_k q_k, 1/(n+2)).
        h_star (`float`, defaults to 0.05): target hallucination rate in (0, 1).
    Returns:
        B2T ≥ 0 (nats); 0 iff q_lo = 1 − h*; decreasing in q_lo for q_lo < 1 − h*.

    Example:
        >>> round(bits_to_trust(0.5, 0.05), 4)
        0.4946
    """
    q_lo = _check_prob(q_lo, "q_lo")
    h_star = _check_prob(h_star, "h_star")
    return float(bernoulli_kl(1.0 - h_star, q_lo))


def isr(delta_bar: float, b2t: float) -> float:
    """Information Sufficiency Ratio ISR = Δ̄ / B2T (Chlon et al., 2025).

    ISR ≥ 1: the prompt carries enough information to answer at the target hallucination
    rate. B2T = 0 gives +inf (nothing needs to be learned) unless Δ̄ = 0 too (then 1.0).

    Args:
        delta_bar (`float`): information budget Δ̄ ≥ 0 (nats).
        b2t (`float`): bits-to-trust ≥ 0 (nats), from `bits_to_trust`.

    Example:
        >>> isr(1.0, 0.5)
        2.0
    """
    delta_bar = _check_nonneg(delta_bar, "delta_bar")
    b2t = _check_nonneg(b2t, "b2t")
    if b2t == 0.0:
        return 1.0 if delta_bar == 0.0 else math.inf
    return delta_bar / b2t


def information_budget(
    logp_full: float | np.ndarray | Sequence[float],
    logp_skeletons: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    clip: float = 12.0,
) -> np.ndarray:
    """Information budget Δ̄ = mean_k clip(ln P(y) − ln S_k(y), 0, B) (Chlon et al., 2025).

    P(y) is the probability of the event y (e.g. "answer" rather than "refuse") on the full
    prompt, S_k(y) on skeleton k (the prompt with its evidence masked). The clipped average
    lift is the information the evidence contributes, in nats.

    Args:
        logp_full: ln P(y), shape () or (N,); values ≤ 0 (−inf allowed).
        logp_skeletons: ln S_k(y), shape (m,) or (N, m), m ≥ 1; values ≤ 0 (−inf allowed).
        clip (`float`, defaults to 12.0): the cap B > 0 on each term.
    Returns:
        Δ̄ with shape () or (N,), each in [0, B].

    Example:
        >>> round(float(information_budget(np.log(0.9), np.log([0.3, 0.9, 0.95]))), 4)  # (ln 3 + 0 + 0) / 3
        0.3662
    """
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not (clip > 0 and np.isfinite(clip)):
        raise ValueError(f"`clip` has to be a finite number > 0, got {clip!r}")
    full = np.asarray(logp_full, dtype=np.float64)
    skel = np.asarray(logp_skeletons, dtype=np.float64)
    if full.ndim > 1:
        raise ValueError(f"`logp_full` has to have shape () or (N,), got {full.shape}")
    if skel.ndim != full.ndim + 1 or skel.shape[-1] == 0 or skel.shape[:-1] != full.shape:
        want = "(m,)" if full.ndim == 0 else f"({full.shape[0]}, m)"
        raise ValueError(f"`logp_skeletons` has to have shape {want} with m >= 1 to match `logp_full`, got {skel.shape}")
    for name, a in (("logp_full", full), ("logp_skeletons", skel)):
        if np.isnan(a).any() or (a > 1e-9).any():
            raise ValueError(f"`{name}` has to hold log-probabilities (<= 0, no NaN)")
    full = np.minimum(full, 0.0)
    skel = np.minimum(skel, 0.0)
    with np.errstate(invalid="ignore"):
        lift = full[..., None] - skel  # −inf − (−inf) = NaN: no lift either way
    lift = np.where(np.isnan(lift), 0.0, lift)
    return np.clip(lift, 0.0, clip).mean(axis=-1)
