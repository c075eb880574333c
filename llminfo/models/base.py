"""The LanguageModel interface every analyzer talks to.

Backends (`HFModel`, `VLLMModel`, `OpenAIModel`) implement five methods (`generate` through `_generate`); everything else in llminfo is
built on them. Prompts are plain strings (already formatted: use `chat()` to apply the chat
template). A continuation is scored/generated as the tokens that follow the prompt's tokens:
prompt and continuation are tokenised separately and concatenated, so a prompt shared by
many continuations has one tokenisation and one KV cache.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np


@dataclass
class Completion:
    """One generated continuation.

    Attributes:
        text: decoded continuation (stop string excluded).
        token_ids: generated token ids.
        logprobs: per token, log-probability of the sampled token under the distribution it
            was sampled from (after temperature, top-k/top-p/typical and user processors).
        entropy: per token, entropy (nats) of the model's full next-token distribution
            (raw logits, temperature 1), computed on the fly — never stored as a vocab tensor.
        finish_reason: "stop" (EOS or a stop string), "length" (max_new_tokens) or
            "halt" (a halting processor closed the reasoning and the answer finished).
        model_logprobs: per token, log-probability of the sampled token under the raw model
            distribution (temperature 1, no processors): what likelihood-based scores use.
    """

    text: str
    token_ids: list[int]
    logprobs: list[float]
    entropy: list[float]
    finish_reason: str
    model_logprobs: list[float] = field(default_factory=list)

    @property
    def mean_logprob(self) -> float:
        lp = self.model_logprobs or self.logprobs
        return float(np.mean(lp)) if lp else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Scored:
    """Teacher-forced scores of one continuation given its prompt.

    Attributes:
        token_ids: continuation token ids.
        logprobs: per continuation token, log p(token | prompt, previous tokens) (nats).
        entropy: per continuation token, entropy (nats) of the next-token distribution at
            that position.
    """

    token_ids: list[int]
    logprobs: list[float]
    entropy: list[float]

    @property
    def sum_logprob(self) -> float:
        return float(np.sum(self.logprobs)) if self.logprobs else 0.0

    @property
    def mean_logprob(self) -> float:
        return float(np.mean(self.logprobs)) if self.logprobs else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelInfo:
    """Shape of a model, enough to count decode FLOPs (see `llminfo.analyzers.flops`).

    The one shape record: `llminfo.analyzers.flops.model_shape` normalises configs and dicts
    into it. `shared_expert_intermediate_size` and `dense_layers` (layers that keep a dense MLP)
    describe Qwen2-MoE-style models; 0 elsewhere. `sliding_window` / `sliding_layers` describe
    sliding-window attention (Gemma 2/3, Mistral v0.1, gpt-oss); 0 for full attention everywhere.
    """

    name: str
    backend: str
    vocab_size: int
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    max_context: int
    num_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    tie_word_embeddings: bool = False
    num_parameters: int = 0
    dtype: str = "float32"
    device: str = "cpu"
    shared_expert_intermediate_size: int = 0
    dense_layers: int = 0
    sliding_window: int = 0  # keys a sliding-window layer's query sees (itself included); 0 = none
    sliding_layers: int = 0  # layers with that window (Gemma 2/3: 5 of every 6; Mistral v0.1: all)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_hf_config(cls, cfg: Any, **runtime: Any) -> "ModelInfo":
        """Shape fields from a transformers config; `runtime` gives name, backend, max_context,
        num_parameters, dtype, device."""
        from llminfo.analyzers.flops import dense_mlp_layers, sliding_window_layers

        cfg = getattr(cfg, "text_config", None) or cfg  # multimodal configs nest the LM
        heads = int(cfg.num_attention_heads)
        hidden = int(cfg.hidden_size)
        num_experts = int(getattr(cfg, "num_local_experts", None) or getattr(cfg, "num_experts", None) or 0)
        return cls(
            vocab_size=int(cfg.vocab_size),
            num_layers=int(cfg.num_hidden_layers),
            hidden_size=hidden,
            num_heads=heads,
            num_kv_heads=int(getattr(cfg, "num_key_value_heads", None) or heads),
            head_dim=int(getattr(cfg, "head_dim", None) or hidden // heads),
            intermediate_size=int(getattr(cfg, "intermediate_size", 0) or 0),
            num_experts=num_experts,
            experts_per_token=int(getattr(cfg, "num_experts_per_tok", 0) or 0),
            moe_intermediate_size=int(getattr(cfg, "moe_intermediate_size", 0) or 0),
            tie_word_embeddings=bool(getattr(cfg, "tie_word_embeddings", False)),
            shared_expert_intermediate_size=int(getattr(cfg, "shared_expert_intermediate_size", 0) or 0),
            dense_layers=dense_mlp_layers(cfg.to_dict(), int(cfg.num_hidden_layers)) if num_experts else 0,
            **dict(zip(("sliding_window", "sliding_layers"), sliding_window_layers(cfg.to_dict(), int(cfg.num_hidden_layers)))),
            **runtime,
        )


class LanguageModel(ABC):
    """What every backend provides. See DESIGN.md, "The LanguageModel interface"."""

    name: str
    backend: str

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        max_new_tokens: int = 64,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        typical_p: float = 1.0,
        seed: int | Sequence[int] | None = None,
        stop: Sequence[str] | None = None,
        processors: Sequence[Any] | None = None,
    ) -> list[list[Completion]]:
        """Sample `n` continuations of each prompt. `temperature=0` is greedy.

        Returns one list of `n` Completions per prompt. With a seed (one for all prompts, or
        one per prompt), results repeat exactly and sample j of a prompt depends only on
        (its seed, j), not on which other prompts share the call.
        `processors` are transformers-style callables `(input_ids, scores) -> scores`
        (e.g. `LocallyTypicalLogitsProcessor`, `EntropyHaltingProcessor`) applied to the raw
        logits before the built-in temperature/top-k/top-p/typical warpers, as transformers'
        `generate` orders `logits_processor` before its warpers.

        Backends implement `_generate`, which receives the arguments checked (errors name the
        argument), `stop` as a list and `seeds` as one integer per prompt (None: unseeded).
        """
        prompts = validate_generate_args(prompts, n, max_new_tokens, temperature, top_p, top_k, typical_p)
        return self._generate(
            prompts, n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            typical_p=typical_p, seeds=per_prompt_seeds(seed, len(prompts)),
            stop=[stop] if isinstance(stop, str) else list(stop or []), processors=list(processors or []),
        )

    def _generate(
        self, prompts: list[str], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        """The backend's sampling, on arguments `generate` has checked and normalised."""
        raise NotImplementedError(f"{type(self).__name__} implements neither `generate` nor `_generate`")

    @abstractmethod
    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True
    ) -> list[Scored]:
        """Teacher-forced per-token logprobs/entropies of `continuations[i]` after `prompts[i]`.

        Batched; pairs sharing a prompt encode the prompt once. With `entropy=False` only the
        log-probabilities are computed (`Scored.entropy` is empty): cheaper for long texts.
        """

    def next_token_logprobs(
        self, prompts: Sequence[str], candidates: Sequence[str] | Sequence[Sequence[str]]
    ) -> np.ndarray:
        """log p(candidate | prompt) for each prompt and candidate string, shape (P, C).

        `candidates` is one list shared by all prompts or one list per prompt (same length).
        Multi-token candidates are scored in full (sum of token logprobs). Backends implement
        `_next_token_logprobs` on the checked prompts and one candidate list per prompt.
        """
        prompts = check_prompts(prompts, "prompts", allow_empty_strings=True)
        return self._next_token_logprobs(prompts, normalize_candidates(candidates, len(prompts)))

    def _next_token_logprobs(self, prompts: list[str], per_prompt: list[list[str]]) -> np.ndarray:
        """The backend's candidate scoring, on arguments `next_token_logprobs` has checked."""
        raise NotImplementedError(f"{type(self).__name__} implements neither `next_token_logprobs` nor `_next_token_logprobs`")

    def hidden_states(
        self, prompts: Sequence[str], continuations: Sequence[str], layers: Sequence[int], *, pool: str = "mean"
    ) -> np.ndarray:
        """Hidden states of `continuations[i]` after `prompts[i]`, pooled, shape (N, len(layers), D).

        Layer 0 is the embedding output and layer l the output of the l-th decoder block (as
        transformers' `output_hidden_states`). `pool="mean"` averages over the continuation's
        tokens (the last prompt token when the continuation is empty); `pool="last"` takes the
        last token of prompt + continuation. Backends that do not expose hidden states (vLLM,
        OpenAI-compatible servers) raise `NotImplementedError`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not expose hidden states: methods that read them "
            "(hidden_probe) need a Hugging Face model (`load_model(..., backend='hf')`)"
        )

    @abstractmethod
    def chat(self, messages: Sequence[dict[str, str]] | str, *, system: str | None = None) -> str:
        """Format a conversation with the model's chat template, ready for the assistant turn.

        A plain string is one user message.
        """

    @abstractmethod
    def describe(self) -> ModelInfo:
        """Name, vocab and layer/hidden/head/FFN sizes (for FLOP counting)."""

    # -- helpers shared by backends -------------------------------------------------------

    @property
    @abstractmethod
    def tokenizer(self) -> Any:
        """The Hugging Face tokenizer (both backends load one)."""


def per_prompt_seeds(seed: int | Sequence[int] | None, num_prompts: int) -> list[int] | None:
    """One seed per prompt from `generate`'s `seed` (one integer for all, or one per prompt)."""
    if seed is None:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return [int(seed)] * num_prompts
    seeds = list(seed)
    if len(seeds) != num_prompts or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"`seed` has to be an integer or one integer per prompt ({num_prompts}), got {seed!r}")
    return [int(s) for s in seeds]


def seed_bases(seeds: list[int] | None, num_prompts: int) -> list[int]:
    """Per-prompt base seeds for a vLLM engine or server, which seeds sample j with base + j.

    The bases are spread (s · 1_000_003 mod 2⁶², as `HFModel` spreads its keys) so that calls
    with seeds s and s + 1 share no samples; no seed: one random base for the whole call.
    """
    seeds = seeds or [random.randrange(2**31)] * num_prompts
    return [(s * 1_000_003) % 2**62 for s in seeds]


def validate_generate_args(
    prompts: Sequence[str],
    n: int,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    top_k: int,
    typical_p: float,
) -> list[str]:
    """Check `generate` arguments; errors name the argument. Returns prompts as a list."""
    prompts = check_prompts(prompts, "prompts")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"`n` has to be an integer >= 1, got {n!r}")
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 0:
        raise ValueError(f"`max_new_tokens` has to be an integer >= 0, got {max_new_tokens!r}")
    if not (isinstance(temperature, (int, float)) and temperature >= 0 and np.isfinite(temperature)):
        raise ValueError(f"`temperature` has to be a finite float >= 0, got {temperature!r}")
    if not (isinstance(top_p, (int, float)) and 0 < top_p <= 1):
        raise ValueError(f"`top_p` has to be a float in (0, 1], got {top_p!r}")
    if not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"`top_k` has to be an integer >= 0 (0 = off), got {top_k!r}")
    if not (isinstance(typical_p, (int, float)) and 0 < typical_p <= 1):
        raise ValueError(f"`typical_p` has to be a float in (0, 1], got {typical_p!r}")
    return prompts


#: How `LanguageModel.hidden_states` pools a continuation's token states.
HIDDEN_POOLS = ("mean", "last")


def check_layers(layers: Sequence[int], config: Any) -> list[int]:
    """`layers` as a list of hidden-state indices valid for a model with
    `config.num_hidden_layers` blocks (0 = embeddings, ..., num_hidden_layers = last block)."""
    top = int(getattr(config, "num_hidden_layers", getattr(getattr(config, "text_config", None), "num_hidden_layers", 0)))
    if isinstance(layers, (int, str)) or not len(layers):
        raise ValueError(f"`layers` has to be a non-empty list of integers, got {layers!r}")
    for layer in layers:
        if not isinstance(layer, (int, np.integer)) or isinstance(layer, bool) or not 0 <= layer <= top:
            raise ValueError(f"`layers` has to hold integers in [0, {top}] (0 = embeddings), got {layer!r}")
    return [int(x) for x in layers]


def validate_pairs(prompts: Sequence[str], continuations: Sequence[str]) -> tuple[list[str], list[str]]:
    prompts = check_prompts(prompts, "prompts", allow_empty_strings=True)
    if isinstance(continuations, str):
        raise TypeError("`continuations` has to be a list of strings, got a single string")
    continuations = list(continuations)
    if len(continuations) != len(prompts):
        raise ValueError(
            f"`prompts` and `continuations` must have the same length, got {len(prompts)} and {len(continuations)}"
        )
    for i, c in enumerate(continuations):
        if not isinstance(c, str):
            raise TypeError(f"`continuations[{i}]` has to be a string, got {type(c).__name__}")
    return prompts, continuations


def normalize_candidates(
    candidates: Sequence[str] | Sequence[Sequence[str]], num_prompts: int
) -> list[list[str]]:
    """One candidate list per prompt; errors name `candidates`."""
    if isinstance(candidates, str) or len(candidates) == 0:
        raise ValueError("`candidates` has to be a non-empty list of strings (or one list per prompt)")
    if all(isinstance(c, str) for c in candidates):
        per_prompt = [list(candidates)] * num_prompts  # type: ignore[arg-type]
    else:
        per_prompt = [list(c) for c in candidates]  # type: ignore[union-attr]
        if len(per_prompt) != num_prompts:
            raise ValueError(
                f"`candidates` has one list per prompt but {len(per_prompt)} lists for {num_prompts} prompts"
            )
        sizes = {len(c) for c in per_prompt}
        if len(sizes) != 1:
            raise ValueError("`candidates`: every prompt needs the same number of candidates")
    for i, row in enumerate(per_prompt):
        for c in row:
            if not isinstance(c, str) or c == "":
                raise ValueError(f"`candidates` for prompt {i} contains {c!r}; candidates are non-empty strings")
    return per_prompt


def check_prompts(prompts: Sequence[str], name: str, allow_empty_strings: bool = False) -> list[str]:
    if isinstance(prompts, str):
        raise TypeError(f"`{name}` has to be a list of strings, got a single string (wrap it in a list)")
    prompts = list(prompts)
    if not prompts:
        raise ValueError(f"`{name}` is empty: pass at least one prompt")
    for i, p in enumerate(prompts):
        if not isinstance(p, str):
            raise TypeError(f"`{name}[{i}]` has to be a string, got {type(p).__name__}")
        if not allow_empty_strings and p == "":
            raise ValueError(f"`{name}[{i}]` is an empty string")
    return prompts
