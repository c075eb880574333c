"""Tiny randomly initialised models and a tokenizer built in code, for fast unit tests."""

from __future__ import annotations

import functools

import torch

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France? The capital of France is Paris.",
    "One two three four five six seven eight nine ten.",
    "Answer: A B C D yes no true false. The answer is 42.",
    "<think> Let me think step by step. </think> Final answer:",
] * 20


@functools.lru_cache(maxsize=None)
def tiny_tokenizer():
    """Byte-level BPE tokenizer (~400 tokens) trained in code; has <|im_start|>/<|im_end|>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_llama(seed: int = 0, vocab_size: int | None = None, num_layers: int = 2):
    """A 2-layer Llama with hidden 32, grouped-query attention, random weights (fp32)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer()
    cfg = LlamaConfig(
        vocab_size=vocab_size or len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).eval()
    # Larger logits than the default init so distributions are not near-uniform.
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    return model, tok


def tiny_hf_model(seed: int = 0, **kw):
    """`HFModel` wrapping `tiny_llama`."""
    from llminfo.models.hf import HFModel

    model, tok = tiny_llama(seed, **kw)
    return HFModel(model, tok, name=f"tiny-llama-{seed}")
