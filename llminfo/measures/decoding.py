"""Decoding-quality measures: repetition (seq-rep-n, Welleck et al., ICLR 2020), diversity
(distinct-n, Li et al., NAACL 2016) and the surprisal–entropy deviation of typical sampling
(Meister et al., TACL 2023).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


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
