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
- attention over the cache per layer: QKᵀ and AV, heads · head_dim · span each, where the span
  is the whole cache on full-attention layers and at most `sliding_window − 1` cached tokens on
  sliding-window layers (Gemma 2/3: five of every six layers see the last 512 or 4096 tokens;
  transformers' mask lets a query see `sliding_window` keys, itself included);
- the LM head, h × vocab (once, not per layer).

Averaging over positions follows the paper's convention (decode FLOPs of L steps from an empty
cache, divided by L): a full-attention layer costs the mean cache length, a sliding layer the
mean of min(c, window − 1) — `context_sum` gives both sums in closed form.
"""

from __future__ import annotations

from typing import Any, Mapping

from llminfo.models.base import ModelInfo


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


def model_shape(info: ModelInfo | Mapping[str, Any] | Any) -> ModelInfo:
    """Normalise a `ModelInfo`, a dict (ModelInfo fields or HF config keys) or an HF config into
    a `ModelInfo` with every shape field filled (kv heads, head_dim and dense layers derived when
    absent; `name`, `backend`, `max_context` kept when given, else empty / 0)."""
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
    vals["dense_layers"] = dense_mlp_layers(raw, vals["num_layers"]) if vals.get("num_experts") else 0
    vals["sliding_window"], vals["sliding_layers"] = sliding_window_layers(raw, vals["num_layers"])
    if vals["sliding_layers"] > vals["num_layers"]:
        raise ValueError(f"`info`: {vals['sliding_layers']} sliding-window layers for {vals['num_layers']} layers")
    return ModelInfo(
        name=str(raw.get("name", "")), backend=str(raw.get("backend", "")),
        max_context=raw["max_context"] if isinstance(raw.get("max_context"), int) else 0, **vals,
    )


def dense_mlp_layers(raw: Mapping[str, Any], num_layers: int) -> int:
    """Qwen2-MoE style: layer i is sparse iff i not in mlp_only_layers and (i+1) % step == 0."""
    if "dense_layers" in raw:
        return int(raw["dense_layers"])
    only = set(raw.get("mlp_only_layers") or [])
    step = int(raw.get("decoder_sparse_step") or 1)
    return sum(1 for i in range(num_layers) if i in only or (i + 1) % step != 0)


def sliding_window_layers(raw: Mapping[str, Any], num_layers: int) -> tuple[int, int]:
    """(window, layers using it) from an HF config dict: `layer_types` when the config has them
    (Gemma 2/3, gpt-oss, Qwen2 in transformers >= 4.53), else `sliding_window_pattern` (older
    Gemma 3 configs: layer i slides iff (i+1) % pattern), else every layer when `sliding_window`
    is set (Mistral v0.1, Phi-3) unless `use_sliding_window` is false. (0, 0) = full attention."""
    if "sliding_layers" in raw:  # a ModelInfo dict
        return int(raw.get("sliding_window") or 0), int(raw["sliding_layers"])
    w = raw.get("sliding_window")
    if isinstance(w, bool) or not isinstance(w, int) or w <= 0 or raw.get("use_sliding_window") is False:
        return 0, 0
    types = raw.get("layer_types")
    pattern = raw.get("sliding_window_pattern") or raw.get("_sliding_window_pattern")
    if types:
        n = sum(1 for t in types if t == "sliding_attention")
    elif isinstance(pattern, int) and pattern > 0:
        n = sum(1 for i in range(num_layers) if (i + 1) % pattern)
    else:
        n = num_layers
    return (w, n) if n else (0, 0)


def context_sum(first: int, count: int, cap: int | None = None) -> float:
    """Σ min(c, cap) over the cache lengths c = first, first+1, …, first+count−1 (no cap when
    `cap` is None): the attention span summed over `count` consecutive decode steps.

    Example:
        >>> context_sum(0, 4), context_sum(0, 4, cap=2)  # 0+1+2+3, 0+1+2+2
        (6.0, 5.0)
    """
    if count <= 0:
        return 0.0
    last = first + count - 1
    if cap is None or last <= cap:
        return count * (first + last) / 2.0
    if first >= cap:
        return float(count * cap)
    below = cap - first + 1  # c = first .. cap
    return below * (first + cap) / 2.0 + (count - below) * float(cap)


def flops_per_token(info: ModelInfo | Mapping[str, Any] | Any, context_len: float, window_context_len: float | None = None) -> float:
    """Decode FLOPs to produce one token with `context_len` tokens attended to.

    Args:
        info: the model's shape: `model.describe()` (a `ModelInfo`), a dict of its fields or of
            Hugging Face config keys, or a transformers config (`LlamaConfig`, `MixtralConfig`,
            `Qwen2MoeConfig`, ...).
        context_len (`float`): tokens in the KV cache the new token attends to (a mean over
            positions may be fractional).
        window_context_len (`float`, *optional*): cached tokens a sliding-window layer attends
            to; defaults to min(context_len, sliding_window − 1), exact for one position. For a
            mean over positions pass the mean of min(c, sliding_window − 1) (`context_sum`).
    Returns:
        FLOPs (2 per multiply-add).

    Example:
        >>> from transformers import LlamaConfig
        >>> f = flops_per_token(LlamaConfig(), context_len=512)  # Llama-2-7B shape
        >>> round(f / 1e9, 2)  # ≈ 2 × parameters, plus attention over the cache
        13.48
    """
    for arg, v in (("context_len", context_len), ("window_context_len", window_context_len)):
        if v is None and arg == "window_context_len":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise ValueError(f"`{arg}` has to be a number >= 0, got {v!r}")
    s = model_shape(info)
    if window_context_len is None:
        window_context_len = min(float(context_len), s.sliding_window - 1.0) if s.sliding_layers else 0.0
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
    full_layers = s.num_layers - s.sliding_layers
    attn_cache = 2 * q_width * (full_layers * float(context_len) + s.sliding_layers * float(window_context_len))  # QKᵀ, AV
    macs = s.num_layers * attn_proj + attn_cache + mlp_total + s.hidden_size * s.vocab_size
    return 2.0 * macs


def paper_flops_per_token(config: Mapping[str, Any] | Any, max_tokens: int = 1024, name: str = "", windowed: bool = False) -> float:
    """Decode FLOPs per token exactly as Yuan et al. (2025) count them (the authors' `flops.py`,
    github.com/TeleAI-AI-Flow/InformationCapacity): the decode FLOPs of generating
    `max_tokens` = L tokens from an empty cache, divided by L.

    Per layer and token, at 2 FLOPs per multiply-add, with d_k = hidden / heads (the paper
    ignores a config's own `head_dim`): projections 2·(2·d² + 2·d·kv_heads·d_k); attention over
    the cache 4·heads·d_k·c, averaged over c = 0..L−1 — or, for DeepSeek's multi-head latent
    attention (MLA, "reuse" mode), 4·heads·d_k·kv_lora_rank; the MLP:

    - dense / gated: 6·d·intermediate_size;
    - Qwen-MoE (`qwen2_moe`): 6·d·(intermediate_size + shared_expert_intermediate_size) when
      the checkpoint's `name` has "B-A" (Qwen2-57B-A14B), else 6·d·intermediate_size — the
      authors' code decides by the checkpoint path, so Qwen1.5-MoE-A2.7B is counted without its
      shared expert; kept to reproduce their numbers;
    - DeepSeek MoE (MLA models): (n_shared_experts + num_experts_per_tok)·6·d·moe_intermediate_size;
    - gpt-oss (no gate): 4·d·intermediate_size·num_experts_per_tok;
    - Llama-4: d·(6·intermediate_size_mlp + 4·intermediate_size);

    plus the LM head 2·d·vocab once per token. Routers, norms and the first dense layers of
    DeepSeek are not counted (as in the paper); `flops_per_token` is llminfo's finer count.

    Sliding-window attention is not counted by the paper: its code has a Gemma 3 branch that
    still attends every layer to the whole cache. `windowed=True` is llminfo's variant of the
    paper's count (not the paper's numbers): sliding layers attend to min(c, window − 1).

    Args:
        config: a Hugging Face config (object or dict; a nested `text_config` is used).
        max_tokens (`int`, defaults to 1024): L, the sample length the paper evaluates at.
        name (`str`, *optional*): the checkpoint name (only Qwen-MoE depends on it, see above).
        windowed (`bool`, defaults to `False`): count sliding-window layers' shorter span
            (llminfo's variant; the paper's code does not).
    Returns:
        FLOPs per token.

    Example:
        >>> cfg = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
        ...        "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256}  # Llama-3-8B
        >>> round(paper_flops_per_token(cfg) / 1e9, 3)
        15.277
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"`max_tokens` has to be an integer >= 1, got {max_tokens!r}")
    cfg = dict(config) if isinstance(config, Mapping) else (config.to_dict() if hasattr(config, "to_dict") else None)
    if cfg is None:
        raise TypeError(f"`config` has to be a dict or a transformers config, got {type(config).__name__}")
    if isinstance(cfg.get("text_config"), Mapping):
        cfg = {**cfg["text_config"]}
    mtype = str(cfg.get("model_type", "")).lower()

    def get(*names: str, default: int | None = None) -> int:
        for n in names:
            if cfg.get(n) is not None:
                return int(cfg[n])
        if default is None:
            raise ValueError(f"`config` lacks `{names[0]}`")
        return default

    d = get("hidden_size")
    layers = get("num_hidden_layers", "n_layer")
    heads = get("num_attention_heads", "n_head")
    kv_heads = get("num_key_value_heads", default=heads)
    vocab = get("vocab_size")
    d_k = d // heads
    T = max_tokens
    proj = 2 * (2 * d * d + 2 * d * kv_heads * d_k)
    if "deepseek" in mtype:  # MLA, MoE with shared experts
        d_ff = get("moe_intermediate_size", "intermediate_size")
        mlp = (get("n_shared_experts", default=0) + get("num_experts_per_tok", default=0)) * 6 * d * d_ff
        attn_total = 4 * heads * d_k * T * get("kv_lora_rank", default=1)
    else:
        if mtype.startswith("gpt_oss"):
            mlp = 4 * d * get("intermediate_size") * get("num_experts_per_tok")
        elif mtype.startswith("llama4"):
            mlp = d * (6 * get("intermediate_size_mlp") + 4 * get("intermediate_size"))
        elif mtype == "qwen2_moe" and "B-A" in name:
            mlp = 6 * d * (get("intermediate_size") + get("shared_expert_intermediate_size", default=0))
        else:
            mlp = 6 * d * get("intermediate_size", "ffn_hidden_size")
        attn_total = 4 * heads * d_k * (T * (T - 1) // 2)
        window, sliding = sliding_window_layers(cfg, layers) if windowed else (0, 0)
        if sliding:  # per layer on average, so that `layers * attn_total` stays the total
            spans = (layers - sliding) * context_sum(0, T) + sliding * context_sum(0, T, cap=window - 1)
            attn_total = 4 * heads * d_k * spans / layers
    decode_total = layers * (T * (proj + mlp) + attn_total) + 2 * T * d * vocab
    return float(decode_total) / T
