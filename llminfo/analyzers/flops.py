"""Decode FLOPs per token of a decoder-only transformer, from its shape alone.

Information capacity (Yuan et al., 2025) divides compression gain by log₂ of the compute a
model spends to produce one token. We count the matrix multiplies of one decode step with a
KV cache of `context_len` tokens, at 2 FLOPs per multiply-add (norms, activations, rotary
embeddings and softmax are lower order and left out):

- attention projections per layer: q (h × heads·head_dim), k and v (h × kv_heads·head_dim
  each, so grouped-query attention is cheaper), o (heads·head_dim × h);
- MLP per layer: gated (gate, up, down: 3 · h · ffn); for a mixture of experts, the
  `experts_per_token` active experts (3 · h · expert_ffn each) plus the router (h × experts),
  plus a shared expert and its gate when the config has one (Qwen2-MoE);
- attention over the cache per layer: QKᵀ and AV, heads · head_dim · context each;
- the LM head, h × vocab (once, not per layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from llminfo.models.base import ModelInfo


@dataclass(frozen=True)
class _Shape:
    vocab_size: int
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    num_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    dense_layers: int = 0  # MoE models whose some layers keep a dense MLP (Qwen2-MoE)


# ModelInfo field -> names a Hugging Face config uses for it (first present wins).
_HF_NAMES = {
    "vocab_size": ("vocab_size",),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "num_heads": ("num_attention_heads", "n_head"),
    "num_kv_heads": ("num_key_value_heads",),
    "head_dim": ("head_dim",),
    "intermediate_size": ("intermediate_size", "ffn_dim", "n_inner"),
    "num_experts": ("num_local_experts", "num_experts"),
    "experts_per_token": ("num_experts_per_tok",),
    "moe_intermediate_size": ("moe_intermediate_size",),
    "shared_expert_intermediate_size": ("shared_expert_intermediate_size",),
}


def model_shape(info: ModelInfo | Mapping[str, Any] | Any) -> _Shape:
    """Normalise a `ModelInfo`, a dict (ModelInfo fields or HF config keys) or an HF config."""
    if isinstance(info, ModelInfo):
        raw: dict[str, Any] = info.to_dict()
    elif isinstance(info, Mapping):
        raw = dict(info)
    elif hasattr(info, "to_dict") and hasattr(info, "model_type"):
        cfg = getattr(info, "text_config", None) or info  # multimodal configs nest the LM
        raw = cfg.to_dict()
    else:
        raise TypeError(
            f"`info` has to be a ModelInfo, a dict or a transformers config, got {type(info).__name__}"
        )
    raw = {k: v for k, v in raw.items() if v is not None}
    vals: dict[str, int] = {}
    for field, names in _HF_NAMES.items():
        key = field if field in raw else next((n for n in names if n in raw), None)
        if key is not None:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"`info`: `{key}` has to be an integer >= 0, got {v!r}")
            vals[field] = int(v)
    for required in ("vocab_size", "num_layers", "hidden_size", "num_heads"):
        if not vals.get(required):
            raise ValueError(f"`info` lacks `{required}` (or its config name: {', '.join(_HF_NAMES[required])})")
    vals.setdefault("num_kv_heads", 0)
    vals["num_kv_heads"] = vals["num_kv_heads"] or vals["num_heads"]
    vals["head_dim"] = vals.get("head_dim") or vals["hidden_size"] // vals["num_heads"]
    vals.setdefault("intermediate_size", 0)
    if vals.get("num_experts", 0) and not vals.get("experts_per_token"):
        raise ValueError("`info`: a mixture-of-experts model (num_experts > 0) needs `experts_per_token` > 0")
    if not vals["intermediate_size"] and not vals.get("num_experts"):
        raise ValueError("`info` lacks `intermediate_size` (the MLP width)")
    vals["dense_layers"] = _dense_layers(raw, vals["num_layers"]) if vals.get("num_experts") else 0
    return _Shape(**vals)


def _dense_layers(raw: Mapping[str, Any], num_layers: int) -> int:
    """Qwen2-MoE style: layer i is sparse iff i not in mlp_only_layers and (i+1) % step == 0."""
    if "dense_layers" in raw:
        return int(raw["dense_layers"])
    only = set(raw.get("mlp_only_layers") or [])
    step = int(raw.get("decoder_sparse_step") or 1)
    return sum(1 for i in range(num_layers) if i in only or (i + 1) % step != 0)


def flops_per_token(info: ModelInfo | Mapping[str, Any] | Any, context_len: float) -> float:
    """Decode FLOPs to produce one token with `context_len` tokens attended to.

    Args:
        info: the model's shape: `model.describe()` (a `ModelInfo`), a dict of its fields or of
            Hugging Face config keys, or a transformers config (`LlamaConfig`, `MixtralConfig`,
            `Qwen2MoeConfig`, ...).
        context_len (`float`): tokens in the KV cache the new token attends to (a mean over
            positions may be fractional).
    Returns:
        FLOPs (2 per multiply-add).

    Example:
        >>> from transformers import LlamaConfig
        >>> f = flops_per_token(LlamaConfig(), context_len=512)  # Llama-2-7B shape
        >>> round(f / 1e9, 2)  # ≈ 2 × parameters, plus attention over the cache
        13.48
    """
    if isinstance(context_len, bool) or not isinstance(context_len, (int, float)) or not context_len >= 0:
        raise ValueError(f"`context_len` has to be a number >= 0, got {context_len!r}")
    s = model_shape(info)
    q_width = s.num_heads * s.head_dim
    kv_width = s.num_kv_heads * s.head_dim
    attn_proj = s.hidden_size * q_width + 2 * s.hidden_size * kv_width + q_width * s.hidden_size
    dense_mlp = 3 * s.hidden_size * s.intermediate_size
    if s.num_experts:
        expert_ffn = s.moe_intermediate_size or s.intermediate_size
        sparse_mlp = s.experts_per_token * 3 * s.hidden_size * expert_ffn + s.hidden_size * s.num_experts
        if s.shared_expert_intermediate_size:
            sparse_mlp += 3 * s.hidden_size * s.shared_expert_intermediate_size + s.hidden_size  # + its sigmoid gate
        mlp_total = s.dense_layers * dense_mlp + (s.num_layers - s.dense_layers) * sparse_mlp
    else:
        mlp_total = s.num_layers * dense_mlp
    attn_cache = 2 * q_width * float(context_len)  # QKᵀ and AV
    macs = s.num_layers * (attn_proj + attn_cache) + mlp_total + s.hidden_size * s.vocab_size
    return 2.0 * macs
