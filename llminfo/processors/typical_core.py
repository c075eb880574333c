"""The tensor engine of locally typical sampling: fast, exact kernels for the typical set.

`llminfo.measures.typical_mask` states the formula (Meister et al., TACL 2023, with the exact
kept set of transformers' `TypicalLogitsWarper`); the functions here compute it on the hot
path of the processors: `typical_filter` for the HF processor
(`llminfo.processors.typical.LocallyTypicalLogitsProcessor`), `typical_filter_fast` (float64
mass, partial sorts on CPU) for the vLLM processor (`llminfo.processors.vllm`). They return
the complement of the mask (True = filter out) and skip argument checks and host syncs.
"""

from __future__ import annotations

import torch


def check_typical_p(typical_p: float) -> float:
    """`typical_p` must be a real number in (0, 1]; errors name `typical_p`."""
    if isinstance(typical_p, bool) or not isinstance(typical_p, (int, float)):
        raise TypeError(f"`typical_p` has to be a float in (0, 1], got {type(typical_p).__name__} {typical_p!r}")
    typical_p = float(typical_p)
    if not (0.0 < typical_p <= 1.0):  # also False for NaN
        raise ValueError(f"`typical_p` has to be a float > 0 and <= 1, got {typical_p!r}")
    return typical_p


def check_min_tokens_to_keep(min_tokens_to_keep: int) -> int:
    """`min_tokens_to_keep` must be an integer >= 1; errors name it."""
    if isinstance(min_tokens_to_keep, bool) or not isinstance(min_tokens_to_keep, int) or min_tokens_to_keep < 1:
        raise ValueError(f"`min_tokens_to_keep` has to be a positive integer, got {min_tokens_to_keep!r}")
    return min_tokens_to_keep


def typical_filter(
    logits: torch.Tensor,
    mass: float | torch.Tensor,
    min_tokens_to_keep: int,
    filter_rows: torch.Tensor | None = None,
) -> torch.Tensor:
    """The complement of `typical_mask` (True = filter out), without argument checks or
    host syncs: the hot path of the HF processor.

    `mass` is a float or a (batch, 1) tensor already in `logits.dtype`; `filter_rows` an
    optional (batch, 1) bool tensor, False for rows to leave whole.
    """
    remove = typical_filter_sorted(logits, typicality_scores(logits), mass, min_tokens_to_keep)
    if filter_rows is not None:
        remove &= filter_rows
    return remove


def typicality_scores(logits: torch.Tensor, with_probs: bool = False):
    """|−log p − H| per token, with the ops of TypicalLogitsWarper (bit-identical scores);
    with `with_probs`, also the probabilities p those ops compute on the way."""
    # |a + H| is bitwise |(−a) − H| (IEEE negation is exact and rounding is symmetric).
    normalized = torch.nn.functional.log_softmax(logits, dim=-1)
    p = torch.exp(normalized)
    ent = -(normalized * p).nansum(-1, keepdim=True)
    scores = (normalized + ent).abs_()
    return (scores, p) if with_probs else scores


SORTABLE_INT = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.float64: torch.int64}


def sortable(scores: torch.Tensor) -> torch.Tensor:
    """Scores are ≥ 0 or NaN (sign bit clear), so their bit patterns as integers sort in the
    same order (NaN last, as torch.sort puts it); torch sorts and selects integers ~1.5×
    faster than floats on CPU, with the same permutation (ties included)."""
    int_dtype = SORTABLE_INT.get(scores.dtype)
    return scores if int_dtype is None else scores.view(int_dtype)


def typical_filter_sorted(
    logits: torch.Tensor,
    shifted_scores: torch.Tensor,
    mass: float | torch.Tensor,
    min_tokens_to_keep: int,
    probs: torch.Tensor | None = None,
) -> torch.Tensor:
    """Transformers' cut-off by a full sort of the typicality scores (True = filter out).

    The cumulative mass is transformers' (softmax of the sorted logits, summed in the
    logits' dtype) or, given `probs`, their cumulative sum in float64 in sorted order.
    """
    vocab = logits.shape[-1]
    sorted_keys, sorted_indices = torch.sort(sortable(shifted_scores), descending=False)
    sorted_scores = sorted_keys.view(shifted_scores.dtype)
    if probs is None:
        cumulative_probs = logits.gather(-1, sorted_indices).softmax(dim=-1).cumsum(dim=-1)
    else:
        cumulative_probs = probs.gather(-1, sorted_indices).to(torch.float64).cumsum(dim=-1)
    last_ind = (cumulative_probs < mass).sum(dim=1)
    last_ind.clamp_(max=vocab - 1)
    cutoff = sorted_scores.gather(1, last_ind.view(-1, 1))
    # Comparing unsorted scores with the cut-off replaces transformers' full scatter; NaN
    # scores (all −inf / NaN rows) compare False with `>`, so such rows keep everything.
    remove = shifted_scores > cutoff
    remove.scatter_(1, sorted_indices[:, :min_tokens_to_keep], False)
    return remove


# Partial sorts tried, in turn, by `typical_filter_fast` on CPU before the full sort.
TYPICAL_TOPK = (256, 2048)


def typical_filter_fast(logits: torch.Tensor, mass: torch.Tensor, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """The typical filter with the cumulative mass summed in float64 (True = filter out): the
    hot path of the vLLM processor.

    Scores and probabilities p are transformers' (`TypicalLogitsWarper`'s ops, in float32 for
    half-precision logits); the cumulative mass of the sorted p is summed in float64 and
    compared with τ in float64, where transformers re-normalises and sums in the logits'
    dtype. The kept sets differ only when a cumulative mass lies within float32
    rounding (~1e-5) of τ. Summing in float64 is what makes a partial sort exact: on CPU the
    k most typical tokens (k = 256, then 2048) settle the cut-off of almost every row (see
    `typical_topk`) and only the others are fully sorted — 3–5× faster than the full sort at
    a 49k vocabulary. On other devices the full sort runs, with no host sync.

    `mass` is a (batch, 1) float64 tensor of τ.
    """
    if logits.dtype not in (torch.float32, torch.float64):
        logits = logits.float()
    shifted_scores, p = typicality_scores(logits, with_probs=True)
    batch, vocab = logits.shape
    if logits.device.type != "cpu":
        return typical_filter_sorted(logits, shifted_scores, mass, min_tokens_to_keep, p)
    remove = None
    rows = torch.arange(batch, device=logits.device)
    for k in TYPICAL_TOPK:
        if rows.numel() == 0 or 4 * k > vocab:
            break
        if remove is None:  # first pass: every row, no gathers
            cut, settled = typical_topk(shifted_scores, p, mass, min_tokens_to_keep, k)
            remove = shifted_scores > cut
        else:
            cut, settled = typical_topk(shifted_scores[rows], p[rows], mass[rows], min_tokens_to_keep, k)
            done = rows[settled]
            remove[done] = shifted_scores[done] > cut[settled]
        rows = rows[~settled]
    if remove is None:
        remove = torch.empty(logits.shape, dtype=torch.bool, device=logits.device)
    if rows.numel():
        remove[rows] = typical_filter_sorted(logits[rows], shifted_scores[rows], mass[rows], min_tokens_to_keep, p[rows])
    return remove


def typical_topk(
    shifted_scores: torch.Tensor,
    probs: torch.Tensor,
    mass: torch.Tensor,
    min_tokens_to_keep: int,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The full sort's cut-off score (float64 mass) from the k most typical tokens alone,
    where provably equal.

    The full sort's cut-off index is L = #{j : c_j < τ}, with c_j the float64 cumulative
    sum of the j+1 most typical probabilities. For j < k the top k hold the same
    values in the same order, except that tied scores may come in another order, which
    changes c_j by at most δ·c_j with δ = (k + 4)·2⁻⁵³. A row is *settled* when no c_j
    lies within δ of τ and the cut-off lies in the top k; its cut-off is then the L-th
    smallest score (a value: independent of how ties are ordered). Not settled: the
    cut-off lies beyond the top k, a c_j is that close to τ, the cut-off is below
    `min_tokens_to_keep` (the sort's tie order picks those), NaN rows.

    Returns:
        `(cutoff, settled)` of shapes `(batch, 1)` (valid on settled rows) and `(batch,)`.
    """
    top_keys, top_idx = torch.topk(sortable(shifted_scores), k, largest=False, sorted=True)
    top_scores = top_keys.view(shifted_scores.dtype)
    cum = probs.gather(-1, top_idx).to(torch.float64).cumsum(dim=-1)
    delta = (k + 4) * 2.0**-53
    below = (cum < mass * (1 - delta)).sum(dim=1)
    at = below.clamp(max=k - 1).view(-1, 1)
    reached = cum.gather(1, at) >= mass * (1 + delta)
    settled = (below < k) & reached.squeeze(1) & (below >= min_tokens_to_keep - 1)
    return top_scores.gather(1, at), settled
