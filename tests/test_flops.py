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


# -- the paper's own count (Yuan et al., 2025) ------------------------------------------------
# Reference values: the authors' flops.py (github.com/TeleAI-AI-Flow/InformationCapacity,
# gqa_/mla_model_theoretical_flops, decode_total / gen_len) run on these configs; one per
# architecture family the paper counts differently. The paper's PDF tables were not reachable
# offline, so its code is the reference here.
PAPER_CONFIGS = {
    "llama3-8b (dense GQA)": ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                               "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256},
                              {1024: 15277490176.0, 512: 15143272448.0}),
    "qwen1.5-moe-a2.7b (Qwen MoE)": ({"model_type": "qwen2_moe", "hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 16,
                                      "num_key_value_heads": 16, "intermediate_size": 5632, "moe_intermediate_size": 1408,
                                      "shared_expert_intermediate_size": 5632, "num_experts": 60, "num_experts_per_tok": 4, "vocab_size": 151936},
                                     {1024: 3189145600.0, 512: 3138813952.0}),
    "Qwen2-57B-A14B (Qwen MoE + shared expert)": ({"model_type": "qwen2_moe", "hidden_size": 3584, "num_hidden_layers": 28,
                                                   "num_attention_heads": 28, "num_key_value_heads": 4, "intermediate_size": 18944,
                                                   "moe_intermediate_size": 2560, "shared_expert_intermediate_size": 20480,
                                                   "num_experts": 64, "num_experts_per_tok": 8, "vocab_size": 151936},
                                                  {1024: 26676228096.0, 512: 26573467648.0}),
    "deepseek-v3 (MLA + MoE)": ({"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
                                 "num_key_value_heads": 128, "intermediate_size": 18432, "moe_intermediate_size": 2048, "n_routed_experts": 256,
                                 "n_shared_experts": 1, "num_experts_per_tok": 8, "kv_lora_rank": 512, "n_group": 8, "vocab_size": 129280},
                                {1024: 76178522112.0, 512: 76178522112.0}),
    "gpt-oss-20b (ungated MoE)": ({"model_type": "gpt_oss", "hidden_size": 2880, "num_hidden_layers": 24, "num_attention_heads": 64,
                                   "num_key_value_heads": 8, "intermediate_size": 2880, "num_local_experts": 32, "num_experts_per_tok": 4,
                                   "vocab_size": 201088},
                                  {1024: 5380531200.0, 512: 5309752320.0}),
    "llama-4-scout (text_config)": ({"model_type": "llama4", "text_config": {"model_type": "llama4_text", "hidden_size": 5120, "num_hidden_layers": 48,
                                     "num_attention_heads": 40, "num_key_value_heads": 8, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
                                     "num_local_experts": 16, "num_experts_per_tok": 1, "vocab_size": 202048}},
                                    {1024: 40823848960.0, 512: 40572190720.0}),
    "smollm2-135m (embedded)": ({"model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9,
                                 "num_key_value_heads": 3, "intermediate_size": 1536, "vocab_size": 49152},
                                {1024: 304314624.0, 512: 286619904.0}),
}


@pytest.mark.parametrize("name", list(PAPER_CONFIGS))
def test_paper_flops_match_the_authors_code(name):
    from llminfo.analyzers.flops import paper_flops_per_token

    cfg, ref = PAPER_CONFIGS[name]
    for L, want in ref.items():  # the authors' code keys the Qwen-MoE shared expert on the checkpoint name
        assert paper_flops_per_token(cfg, L, name=name.split(" ")[0]) == pytest.approx(want, rel=1e-12), (name, L)


def test_paper_flops_errors():
    from llminfo.analyzers.flops import paper_flops_per_token

    with pytest.raises(ValueError, match="max_tokens"):
        paper_flops_per_token(PAPER_CONFIGS["llama3-8b (dense GQA)"][0], 0)
    with pytest.raises(ValueError, match="hidden_size"):
        paper_flops_per_token({"model_type": "llama"})
    with pytest.raises(TypeError, match="config"):
        paper_flops_per_token(3)


def test_model_info_from_a_moe_config_keeps_the_shared_expert_and_dense_layers():
    # `describe()` builds its ModelInfo with `from_hf_config`: the FLOPs counted from it are the
    # config's own (the shared expert and the dense layer included), as the closed form above.
    from transformers import Qwen2MoeConfig

    from llminfo.analyzers.flops import model_shape

    cfg = Qwen2MoeConfig(vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, num_experts=6, num_experts_per_tok=2,
                         moe_intermediate_size=32, shared_expert_intermediate_size=96,
                         decoder_sparse_step=1, mlp_only_layers=[0])
    info = ModelInfo.from_hf_config(cfg, name="moe", backend="hf", max_context=128)
    assert (info.shared_expert_intermediate_size, info.dense_layers) == (96, 1)
    assert flops_per_token(info, context_len=0) == flops_per_token(cfg, context_len=0) == 544384
    shape = model_shape(info)  # the one shape record: a ModelInfo, name kept
    assert isinstance(shape, ModelInfo) and shape.name == "moe" and shape.dense_layers == 1


# -- sliding-window attention (Gemma 2/3, Mistral v0.1) ---------------------------------------


def _tiny_gemma3(**kw):
    from transformers import Gemma3TextConfig

    # 6 layers, pattern 3 -> layers 0, 1, 3, 4 slide (window 4), layers 2, 5 attend to everything
    args = dict(vocab_size=1000, hidden_size=64, intermediate_size=256, num_hidden_layers=6, num_attention_heads=4,
                num_key_value_heads=1, head_dim=32, sliding_window=4, sliding_window_pattern=3)
    return Gemma3TextConfig(**{**args, **kw})


def test_gemma3_sliding_layers_attend_to_the_window_only():
    cfg = _tiny_gemma3()
    assert cfg.layer_types == ["sliding_attention", "sliding_attention", "full_attention"] * 2
    # q 64x128, k and v 64x32 (1 kv head x 32), o 128x64; gated MLP 3 x 64 x 256
    proj_mlp = 64 * 128 + 2 * 64 * 32 + 128 * 64 + 3 * 64 * 256
    # a query sees `sliding_window` = 4 keys, itself included: 3 cached tokens on a sliding layer
    attn = 2 * 128 * (2 * 10 + 4 * 3)  # 2 full layers x 10 cached tokens + 4 sliding layers x 3
    assert flops_per_token(cfg, context_len=10) == 2 * (6 * proj_mlp + attn + 64 * 1000) == 979968
    # inside the window nothing changes: every layer sees the whole cache
    full = _tiny_gemma3(layer_types=["full_attention"] * 6)
    assert flops_per_token(cfg, context_len=3) == flops_per_token(full, context_len=3)
    assert flops_per_token(cfg, context_len=10) < flops_per_token(full, context_len=10)


def test_mean_over_positions_equals_the_mean_of_per_position_counts():
    # the paper's convention: decode FLOPs of L steps from an empty cache, divided by L
    from llminfo.analyzers.flops import context_sum

    cfg = _tiny_gemma3()
    for L in (1, 3, 4, 5, 17):
        per_step = [flops_per_token(cfg, c) for c in range(L)]
        mean = flops_per_token(cfg, context_sum(0, L) / L, context_sum(0, L, cap=3) / L)
        assert mean == pytest.approx(sum(per_step) / L, rel=1e-14), L


@pytest.mark.parametrize("first,count,cap", [(0, 0, 3), (0, 1, None), (0, 7, None), (1, 7, 3), (0, 4, 3), (5, 6, 3), (2, 9, 2), (3, 1, 3)])
def test_context_sum_is_the_capped_sum(first, count, cap):
    from llminfo.analyzers.flops import context_sum

    want = sum(c if cap is None else min(c, cap) for c in range(first, first + count))
    assert context_sum(first, count, cap) == want


def test_which_layers_slide_in_each_config_family():
    from transformers import MistralConfig, Qwen2Config

    from llminfo.analyzers.flops import model_shape

    assert (model_shape(_tiny_gemma3()).sliding_window, model_shape(_tiny_gemma3()).sliding_layers) == (4, 4)
    # an older Gemma 3 config.json: a pattern, no layer_types
    raw = {**_tiny_gemma3().to_dict(), "sliding_window_pattern": 2}
    del raw["layer_types"]
    assert model_shape(raw).sliding_layers == 3  # layers 0, 2, 4
    # Mistral v0.1: every layer slides; Qwen2 keeps its window off unless asked
    mistral = MistralConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, sliding_window=16)
    assert (model_shape(mistral).sliding_window, model_shape(mistral).sliding_layers) == (16, 3)
    assert model_shape(MistralConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                                     num_attention_heads=4, sliding_window=None)).sliding_layers == 0
    qwen = Qwen2Config(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4)
    assert model_shape(qwen).sliding_layers == 0
    # describe() records it, and counting from the ModelInfo (or its dict) gives the config's count
    info = ModelInfo.from_hf_config(_tiny_gemma3(), name="g", backend="hf", max_context=64)
    assert (info.sliding_window, info.sliding_layers) == (4, 4)
    assert flops_per_token(info, 10) == flops_per_token(info.to_dict(), 10) == flops_per_token(_tiny_gemma3(), 10)
    with pytest.raises(ValueError, match="window_context_len"):
        flops_per_token(info, 10, window_context_len=-1)


def test_the_cached_gemma3_270m_config_has_15_sliding_layers_of_512():
    import json
    from pathlib import Path

    from llminfo.analyzers.flops import model_shape

    path = Path.home() / ".cache" / "llminfo" / "gemma-3-270m" / "config.json"
    if not path.exists():
        pytest.skip("gemma3-270m is not installed (scripts/setup.sh --models all)")
    s = model_shape(json.loads(path.read_text()))
    assert (s.num_layers, s.sliding_layers, s.sliding_window) == (18, 15, 512)


def test_paper_count_ignores_windows_unless_asked():
    # The authors' flops.py has a Gemma 3 branch and still attends every layer to the whole
    # cache; `windowed=True` is llminfo's variant: here the brute-force sum over decode steps.
    from llminfo.analyzers.flops import paper_flops_per_token

    cfg = _tiny_gemma3()
    full = _tiny_gemma3(layer_types=["full_attention"] * 6)
    assert paper_flops_per_token(cfg, 16) == paper_flops_per_token(full, 16)
    d, heads, d_k, T = 64, 4, 16, 16  # the paper's d_k = hidden / heads
    proj, mlp = 2 * (2 * d * d + 2 * d * 1 * d_k), 6 * d * 256
    attn = sum(4 * heads * d_k * (c if layer in (2, 5) else min(c, 3)) for layer in range(6) for c in range(T))
    want = (6 * T * (proj + mlp) + attn + 2 * T * d * 1000) / T
    assert paper_flops_per_token(cfg, T, windowed=True) == pytest.approx(want, rel=1e-14)
    assert paper_flops_per_token(cfg, 4, windowed=True) == paper_flops_per_token(cfg, 4)  # c <= 3: window never binds
    llama = PAPER_CONFIGS["smollm2-135m (embedded)"][0]
    assert paper_flops_per_token(llama, 1024, windowed=True) == paper_flops_per_token(llama, 1024)
