"""`TokenizedLM`: what every backend with a Hugging Face tokenizer shares.

The middle class between the `LanguageModel` interface and the backends (the pattern of
lm-evaluation-harness's `TemplateLM`): `HFModel` and `VLLMModel` run different engines but must
tokenise, template and bound prompts identically so that both give the same numbers. Those
steps live here once; a backend implements only its sampling (`_sample`, from token ids),
`score`, `next_token_logprobs` and `describe`, and sets `_tokenizer`,
`max_context` and `context_name`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from llminfo.models.base import Completion, LanguageModel, Scored


class TokenizedLM(LanguageModel):
    """A `LanguageModel` whose prompts go through a Hugging Face tokenizer and chat template.

    Subclasses set `self._tokenizer`, `self.max_context` (tokens) and may override
    `context_name` (how errors call the context limit).

    Example:
        >>> from llminfo.models import load_model
        >>> m = load_model("default")
        >>> ids = m.encode_prompt(m.chat("Hi"))  # same ids on every backend
    """

    _tokenizer: Any
    max_context: int
    context_name = "the model's context window"

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def chat(self, messages: Sequence[dict[str, str]] | str, *, system: str | None = None) -> str:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        messages = list(messages)
        if system is not None:
            messages = [{"role": "system", "content": system}] + messages
        if not getattr(self._tokenizer, "chat_template", None):
            raise ValueError(
                f"model {self.name!r} has no chat template (a base model): give it plain-text prompts; "
                "llminfo's analyzers use a few-shot prompt for base models (llminfo.analyzers.prompts)"
            )
        return self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def encode_prompt(self, prompt: str, where: str = "prompt", reserve: int = 0, allow_empty: bool = False) -> list[int]:
        """Token ids of a prompt; adds the tokenizer's special tokens unless the text has them.

        An empty prompt becomes the BOS token (so its first continuation token has a context).
        `reserve` tokens (e.g. `max_new_tokens`) must fit after it in the context.
        """
        tok = self._tokenizer
        bos = tok.bos_token
        add = not (bos and prompt.startswith(bos))
        ids = tok(prompt, add_special_tokens=add)["input_ids"] if prompt else []
        if not ids:
            start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
            if not allow_empty or start is None:
                raise ValueError(f"`{where}` encodes to no tokens")
            ids = [start]
        if len(ids) + reserve > self.max_context:
            what = f"`{where}` has {len(ids)} tokens"
            if reserve:
                what += f" and `max_new_tokens` is {reserve}"
            raise ValueError(f"{what}: more than {self.context_name} ({self.max_context} tokens)")
        return ids

    def encode_continuation(self, text: str) -> list[int]:
        """Token ids of a continuation: tokenised alone, no special tokens (see `base`)."""
        return self._tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_for_generation(self, prompts: Sequence[str], max_new_tokens: int) -> list[list[int]]:
        """Token ids of each prompt, with room for `max_new_tokens` after it (errors name `prompts[i]`)."""
        return [self.encode_prompt(p, f"prompts[{i}]", reserve=max_new_tokens) for i, p in enumerate(prompts)]

    def _generate(
        self, prompts: list[str], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        """Encodes the prompts (`encode_for_generation`), then samples with `_sample`;
        `max_new_tokens=0` gives `n` empty completions per prompt without running the model."""
        encoded = self.encode_for_generation(prompts, max_new_tokens)
        if max_new_tokens == 0:
            return [[Completion("", [], [], [], "length", []) for _ in range(n)] for _ in prompts]
        return self._sample(
            encoded, n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            typical_p=typical_p, seeds=seeds, stop=stop, processors=processors,
        )

    def _sample(
        self, encoded: list[list[int]], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        """The backend's sampling from the prompts' token ids (`encoded[i]` is `prompts[i]`;
        `max_new_tokens` >= 1; the other arguments as `LanguageModel._generate` receives them)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither `_generate` nor `_sample`")

    def encode_pairs(
        self, prompts: Sequence[str], continuations: Sequence[str]
    ) -> tuple[dict[str, list[int]], list[list[int]]]:
        """Prompt ids (once per distinct prompt) and continuation ids of validated pairs; a pair
        longer than the context is an error naming it."""
        prompt_ids: dict[str, list[int]] = {}
        for k, p in enumerate(prompts):
            if p not in prompt_ids:
                prompt_ids[p] = self.encode_prompt(p, f"prompts[{k}]", allow_empty=True)
        cont_ids = [self.encode_continuation(c) for c in continuations]
        for k, p in enumerate(prompts):
            if len(prompt_ids[p]) + len(cont_ids[k]) > self.max_context:
                raise ValueError(
                    f"`prompts[{k}]` + `continuations[{k}]` is {len(prompt_ids[p]) + len(cont_ids[k])} tokens, "
                    f"longer than {self.context_name} ({self.max_context})"
                )
        return prompt_ids, cont_ids

    def candidate_ids(self, per_prompt: list[list[str]]) -> dict[str, list[int]]:
        """Token ids of every answer candidate (as continuations)."""
        return {c: self.encode_continuation(c) for row in per_prompt for c in row}

    def score_candidates(self, prompts: list[str], per_prompt: list[list[str]]) -> np.ndarray:
        """log p(candidate | prompt), (P, C), by scoring each candidate in full (multi-token)."""
        flat_p = [p for i, p in enumerate(prompts) for _ in per_prompt[i]]
        flat_c = [c for row in per_prompt for c in row]
        scored: list[Scored] = self.score(flat_p, flat_c, entropy=False)  # log-probs suffice
        return np.array([s.sum_logprob for s in scored]).reshape(len(prompts), -1)
