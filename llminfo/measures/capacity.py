"""Information capacity (Yuan et al., 2025): compression efficiency per log₂ FLOP.
"""

from __future__ import annotations

import math

import numpy as np


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
