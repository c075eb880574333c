"""`flops_per_token` against FLOPs counted by hand for configs built in code."""

from __future__ import annotations

import pytest

from llminfo.analyzers.flops import flops_per_token
from llminfo.models.base import ModelInfo


def test_dense_llama_multi_head():
    from transformers import LlamaConfig

    cfg = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=3,
                      num_attention_heads=8, num_key_value_heads=8)
    # per layer: q, k, v, o are 64x64 each; gated MLP 3 x 64 x 256; cache: 2 x 8 heads x 8 dims x 10 tokens
    layer = 4 * 64 * 64 + 3 * 64 * 256 + 2 * 8 * 8 * 10
    macs = 3 * layer + 64 * 1000
    assert flops_per_token(cfg, context_len=10) == 2 * macs == 528896


def test_grouped_query_attention_shrinks_k_and_v():
    from transformers import LlamaConfig

    cfg = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=3,
                      num_attention_heads=8, num_key_value_heads=2)
    # k and v project to 2 kv heads x 8 dims = 16 columns
    layer = 64 * 64 + 2 * 64 * 16 + 64 * 64 + 3 * 64 * 256 + 2 * 8 * 8 * 10
    assert flops_per_token(cfg, context_len=10) == 2 * (3 * layer + 64 * 1000) == 492032


def test_mixtral_counts_active_experts_and_router():
    from transformers import MixtralConfig

    cfg = MixtralConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, num_local_experts=8, num_experts_per_tok=2)
    # head_dim 16; kv width 32; 2 active experts of 3 x 64 x 128; router 64 x 8
    layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 2 * 3 * 64 * 128 + 64 * 8 + 2 * 4 * 16 * 20
    assert flops_per_token(cfg, context_len=20) == 2 * (2 * layer + 64 * 1000) == 386048


def test_qwen2_moe_shared_expert_and_dense_layers():
    from transformers import Qwen2MoeConfig

    cfg = Qwen2MoeConfig(vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, num_experts=6, num_experts_per_tok=2,
                         moe_intermediate_size=32, shared_expert_intermediate_size=96,
                         decoder_sparse_step=1, mlp_only_layers=[0])
    attn = 4 * 64 * 64
    sparse = 2 * 3 * 64 * 32 + 64 * 6 + 3 * 64 * 96 + 64  # experts, router, shared expert, shared gate
    dense = 3 * 64 * 256  # layer 0 is in mlp_only_layers
    macs = 4 * attn + dense + 3 * sparse + 64 * 1000
    assert flops_per_token(cfg, context_len=0) == 2 * macs == 544384


def test_model_info_dict_and_config_agree(tiny_model):
    info = tiny_model.describe()
    f = flops_per_token(info, 7.5)
    assert flops_per_token(info.to_dict(), 7.5) == f
    assert flops_per_token(tiny_model.model.config, 7.5) == f
    # tiny llama: hidden 32, 4 heads x 8, 2 kv heads, ffn 64, 2 layers, untied head
    layer = 32 * 32 + 2 * 32 * 16 + 32 * 32 + 3 * 32 * 64 + 2 * 32 * 7.5
    assert f == 2 * (2 * layer + 32 * info.vocab_size)


def test_each_cached_token_costs_four_flops_per_layer_head_dim():
    info = ModelInfo(name="x", backend="hf", vocab_size=49152, num_layers=30, hidden_size=576, num_heads=9,
                     num_kv_heads=3, head_dim=64, intermediate_size=1536, max_context=8192)
    step = flops_per_token(info, 101) - flops_per_token(info, 100)
    assert step == 2 * 2 * 30 * 9 * 64


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="context_len"):
        flops_per_token({"vocab_size": 10, "num_layers": 1, "hidden_size": 4, "num_heads": 1, "intermediate_size": 8}, -1)
    with pytest.raises(ValueError, match="hidden_size"):
        flops_per_token({"vocab_size": 10, "num_layers": 1, "num_heads": 1, "intermediate_size": 8}, 1)
    with pytest.raises(ValueError, match="experts_per_token"):
        flops_per_token({"vocab_size": 10, "num_layers": 1, "hidden_size": 4, "num_heads": 1, "num_experts": 4}, 1)
    with pytest.raises(ValueError, match="num_layers"):
        flops_per_token({"vocab_size": 10, "num_layers": "3", "hidden_size": 4, "num_heads": 1, "intermediate_size": 8}, 1)
    with pytest.raises(TypeError, match="info"):
        flops_per_token(42, 1)
