"""Reference typical sets for the tests, written independently of llminfo.measures."""

from __future__ import annotations

import torch


def f64_mass_keep(x: torch.Tensor, tau: float) -> torch.Tensor:
    """Reference for the vLLM processor's core, written independently: transformers' scores
    and probabilities p, the cumulative sum of p in float64 along a stable sort, the
    warper's cut-off rule (first index reaching τ, ties kept, NaN rows kept whole)."""
    x = x if x.dtype in (torch.float32, torch.float64) else x.float()
    n = torch.log_softmax(x, -1)
    p = n.exp()
    s = (-n - (-(n * p).nansum(-1, keepdim=True))).abs()
    keep = torch.empty(x.shape, dtype=torch.bool)
    for r in range(x.shape[0]):
        order = torch.sort(s[r], stable=True).indices
        c = p[r, order].double().cumsum(0)
        last = min(int((c < tau).sum()), x.shape[1] - 1)
        keep[r] = ~(s[r] > s[r, order[last]])
    return keep
