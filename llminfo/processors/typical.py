"""Locally typical sampling as a transformers `LogitsProcessor`.

The formula is `llminfo.measures.typical_mask`; the kernel is
`llminfo.processors.typical_core.typical_filter` (the vLLM processor in
`llminfo.processors.vllm` uses the same engine).
"""

from __future__ import annotations

import math

import torch
from transformers import LogitsProcessor

from llminfo.processors.typical_core import check_min_tokens_to_keep, check_typical_p, typical_filter


class LocallyTypicalLogitsProcessor(LogitsProcessor):
    r"""[`LogitsProcessor`] for locally typical sampling: keep only the tokens whose
    information content −log p is close to the expected information content H of the
    next-token distribution, adding the most typical tokens until their mass reaches
    `typical_p`. The most likely tokens may be filtered out when they are far less
    informative than expected, which curbs the degenerate repetition of ancestral and
    nucleus sampling.

    See Meister, Pimentel, Wiher and Cotterell, [Locally Typical Sampling](https://arxiv.org/abs/2202.00666)
    (TACL 2023). The kept set is exactly that of transformers' `TypicalLogitsWarper`
    (see `llminfo.measures.typical_mask` for the fine print: cut-off index, ties, dtype,
    `min_tokens_to_keep`); unlike it, `typical_p = 1` is accepted and keeps every token, and
    rows that are entirely −inf pass through unchanged.

    Order relative to temperature (it matters only at T ≠ 1): transformers' `generate` runs
    a user `logits_processor` *before* its own warpers, so
    `generate(logits_processor=[LocallyTypicalLogitsProcessor(τ)], temperature=T)` keeps the
    typical set of the raw distribution and then divides the kept logits by T, whereas
    transformers' `generate(typical_p=τ, temperature=T)` divides by T first and takes the
    typical set of the tempered distribution. For transformers' order, put a
    `TemperatureLogitsWarper(T)` in front of this processor and leave `temperature=1`.
    llminfo's `model.generate(typical_p=τ, temperature=T)` applies temperature first (as
    transformers does) on both backends; on the HF backend a processor passed as
    `processors=[...]` runs before temperature, like a transformers `logits_processor`, while
    the vLLM backend turns it into `typical_p` (temperature first).
    Tested in `tests/test_typical_order.py`.

    Args:
        typical_p (`float`):
            Mass of the typical set, in (0, 1]. 1 keeps every token.
        min_tokens_to_keep (`int`, *optional*, defaults to 1):
            Minimum number of tokens that are never filtered.
        filter_value (`float`, *optional*, defaults to -inf):
            Value given to filtered tokens.

    Examples:

    ```python
    >>> from transformers import LogitsProcessorList, set_seed
    >>> from llminfo.models.default import default_model_dir
    >>> from transformers import AutoModelForCausalLM, AutoTokenizer
    >>> from llminfo.processors import LocallyTypicalLogitsProcessor

    >>> model = AutoModelForCausalLM.from_pretrained(default_model_dir())
    >>> tokenizer = AutoTokenizer.from_pretrained(default_model_dir())
    >>> inputs = tokenizer("Once upon a time", return_tensors="pt")

    >>> set_seed(0)
    >>> out = model.generate(**inputs, do_sample=True, max_new_tokens=20, top_k=0,
    ...     logits_processor=LogitsProcessorList([LocallyTypicalLogitsProcessor(0.9)]))
    >>> print(tokenizer.decode(out[0], skip_special_tokens=True))
    Once upon a time...

    ```

    Within llminfo, pass it to any backend's `generate`:
    `model.generate(["Once upon a time"], processors=[LocallyTypicalLogitsProcessor(0.9)])`.
    """

    def __init__(self, typical_p: float, min_tokens_to_keep: int = 1, filter_value: float = -math.inf):
        self.typical_p = check_typical_p(typical_p)
        self.min_tokens_to_keep = check_min_tokens_to_keep(min_tokens_to_keep)
        if isinstance(filter_value, bool) or not isinstance(filter_value, (int, float)) or math.isnan(filter_value):
            raise ValueError(f"`filter_value` has to be a float (not NaN), got {filter_value!r}")
        self.filter_value = float(filter_value)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Args: `input_ids` (batch, seq) (unused), `scores` (batch, vocab). Returns a new
        (batch, vocab) tensor with the atypical tokens set to `filter_value`."""
        if self.typical_p == 1.0:
            return scores
        if not isinstance(scores, torch.Tensor) or scores.dim() != 2 or not scores.is_floating_point():
            raise ValueError(f"`scores` has to be a floating-point (batch, vocab) tensor, got {getattr(scores, 'shape', type(scores))}")
        if scores.shape[0] == 0 or scores.shape[1] == 0:
            return scores
        remove = typical_filter(scores, self.typical_p, self.min_tokens_to_keep)
        return scores.masked_fill(remove, self.filter_value)

    def __repr__(self) -> str:
        return (
            f"LocallyTypicalLogitsProcessor(typical_p={self.typical_p}, "
            f"min_tokens_to_keep={self.min_tokens_to_keep}, filter_value={self.filter_value})"
        )
