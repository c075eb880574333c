"""Hallucination detection formulas: semantic entropy and predictive entropy (Farquhar et al.,
Nature 2024), the Wilson bound, iterative-prompting mutual information (Yadkori et al., 2024),
and the EDFL / ISR decision (Chlon et al., 2025). Natural logs (nats).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from llminfo.measures.core import _PROB_TOL, _check_distribution, bernoulli_kl, entropy, logsumexp


def _as_cluster_ids(cluster_ids: np.ndarray | Sequence[int], name: str = "cluster_ids") -> np.ndarray:
    ids = np.asarray(cluster_ids)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"`{name}` has to be a non-empty 1-D sequence of cluster ids, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"`{name}` has to hold integers, got dtype {ids.dtype}")
    if ids.min() < 0:
        raise ValueError(f"`{name}` has to hold cluster ids >= 0, got {int(ids.min())}")
    return ids


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


def predictive_entropy(seq_logprobs: np.ndarray | Sequence[float]) -> float:
    """Naive predictive entropy, the Monte Carlo estimate −(1/M) Σ_m log p(y_m | x)
    (Farquhar et al., Nature 2024, "regular entropy"; reference `predictive_entropy`).

    Args:
        seq_logprobs: (M,) log-likelihood of each sampled answer (the paper: mean token
            log-probability, i.e. length-normalised).
    Returns:
        nats.

    Example:
        >>> predictive_entropy([-0.5, -1.5])
        1.0
    """
    lp = np.asarray(seq_logprobs, dtype=np.float64)
    if lp.ndim != 1 or lp.size == 0 or np.isnan(lp).any():
        raise ValueError(f"`seq_logprobs` has to be a non-empty 1-D array without NaN, got shape {lp.shape}")
    return float(-lp.mean())


def wilson_upper(k: int, n: int, alpha: float = 0.05) -> float:
    """Upper end of the two-sided Wilson score interval for a rate k/n (the EDFL paper's
    audit bound on the hallucination rate among answered items; hallbayes
    `wilson_interval_upper`). 1.0 when n = 0.

    Example:
        >>> round(wilson_upper(0, 100), 4)
        0.037
    """
    from statistics import NormalDist

    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` has to be in (0, 1), got {alpha!r}")
    if n == 0:
        return 1.0
    phat = k / n
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (phat + z2 / (2 * n)) / denom
    half = z * np.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / denom
    return float(min(1.0, max(0.0, centre + half)))


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
    symmetric: bool = False,
) -> np.ndarray:
    """Information budget Δ̄ = mean_k clip(ln P(y) − ln S_k(y), 0, B) (Chlon et al., 2025);
    with `symmetric`, clip(·, −B, B) as the paper's audit (a skeleton that supports y better
    than the full prompt then lowers Δ̄; hallbayes' `clip_symmetric`).

    P(y) is the probability of the event y (e.g. "answer" rather than "refuse") on the full
    prompt, S_k(y) on skeleton k (the prompt with its evidence masked). The clipped average
    lift is the information the evidence contributes, in nats.

    Args:
        logp_full: ln P(y), shape () or (N,); values ≤ 0 (−inf allowed).
        logp_skeletons: ln S_k(y), shape (m,) or (N, m), m ≥ 1; values ≤ 0 (−inf allowed).
        clip (`float`, defaults to 12.0): the cap B > 0 on each term.
        symmetric (`bool`, defaults to False): clip to [−B, B] instead of [0, B].
    Returns:
        Δ̄ with shape () or (N,), each in [0, B] ([−B, B] when symmetric).

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
    return np.clip(lift, -clip if symmetric else 0.0, clip).mean(axis=-1)
