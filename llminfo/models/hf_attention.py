"""`llminfo_sdpa`: transformers' SDPA attention that reads grouped-query heads in place on CPU.

transformers' `sdpa` attention copies every key/value head `num_key_value_groups` times
(`repeat_kv`) whenever an attention mask is passed — always, for a padded batch or a decode
step — because on CUDA `enable_gqa` with a mask falls back to the slow math kernel. On CPU
PyTorch's flash kernel takes the mask and `enable_gqa=True` together and gives the same
output bit for bit (the kernel indexes the shared head instead of a copy of it); skipping the
copies makes a decode step of the embedded model (9 query heads, 3 key/value heads) spend
about 4× less in attention. Everywhere else (CUDA, no mask, no grouping, attention outputs,
paged caches, position biases) this calls transformers' `sdpa_attention_forward` unchanged.
Masks are built exactly as for `sdpa`.

Example:
    >>> from llminfo.models import load_model
    >>> m = load_model("default")  # CPU: HFModel.from_pretrained switches sdpa models to it
    >>> m.model.config._attn_implementation
    'llminfo_sdpa'
"""

from __future__ import annotations

from typing import Any

import torch

NAME = "llminfo_sdpa"
_registered = False


def sdpa_gqa_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature; see the module docstring."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    groups = getattr(module, "num_key_value_groups", 1)
    plain = (
        query.device.type != "cpu"
        or groups <= 1
        or attention_mask is None
        or attention_mask.ndim != 4
        or kwargs.get("output_attentions", False)
        or kwargs.get("position_bias") is not None
        or kwargs.get("cache") is not None
        or key.shape[-1] != value.shape[-1]
    )
    if plain:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    # With a mask transformers' sdpa passes is_causal=False too (the mask holds the causal pattern).
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=False, enable_gqa=True
    )
    return out.transpose(1, 2).contiguous(), None


def register() -> None:
    """Make `NAME` a transformers attention implementation (masks as for `sdpa`)."""
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    AttentionInterface.register(NAME, sdpa_gqa_forward)
    AttentionMaskInterface.register(NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    _registered = True


def use_in_place_gqa(model: Any) -> bool:
    """Switch a CPU model that uses `sdpa` with grouped-query attention to `NAME`; returns
    whether it did. Other models are left as they are."""
    cfg = getattr(model, "config", None)
    text_cfg = getattr(cfg, "text_config", None) or cfg
    heads = getattr(text_cfg, "num_attention_heads", None)
    kv_heads = getattr(text_cfg, "num_key_value_heads", None) or heads
    if cfg is None or getattr(cfg, "_attn_implementation", None) != "sdpa" or not heads or heads == kv_heads:
        return False
    if any(p.device.type != "cpu" for p in model.parameters()):
        return False
    register()
    try:
        model.set_attn_implementation(NAME)
    except (ValueError, AttributeError):
        return False
    return getattr(model.config, "_attn_implementation", None) == NAME
