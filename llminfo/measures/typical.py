"""Locally typical sampling (Meister et al., TACL 2023): the mask of kept tokens, as a formula.

The torch hot-path engine the processors run lives in `llminfo.processors.typical_core`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported inside the few tensor functions: numpy users never load it
    import torch


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
