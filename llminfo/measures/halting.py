"""Entropy-based early halting of thinking ("Think or Not?", 2025): threshold, answer entropy
in bits, the halting rule and the information gain between steps.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from llminfo.measures.core import LN2, entropy, normalize_logprobs


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
