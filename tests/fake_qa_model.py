"""A scripted `LanguageModel` for testing hallucination analyzers exactly.

`generate` returns scripted answers (cycled) with scripted per-token log-probs; `score`
returns one pseudo-token per continuation whose log-prob is given by a user function of
(prompt, continuation). Every call is recorded, so tests can check batching.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Sequence

from llminfo.models.base import Completion, LanguageModel, ModelInfo, Scored

EOS = "<eos>"


class _Tok:
    eos_token = EOS


class FakeQAModel(LanguageModel):
    """Args:
    answers: question → list of (answer text, sequence log-prob) sampled in order (cycled).
    score_fn: (question, previous answers in the prompt, continuation without EOS) → log p.
    entropy: value reported as the per-token entropy by `score`.
    """

    name = "fake"
    backend = "fake"

    def __init__(
        self,
        answers: dict[str, list[tuple[str, float]]],
        score_fn: Callable[[str, list[str], str], float] | None = None,
        entropy: float = 0.5,
        greedy: dict[str, str] | None = None,
    ):
        self.answers = answers
        self.score_fn = score_fn or (lambda q, prev, a: -1.0)
        self.entropy_value = entropy
        self.greedy = greedy or {}
        self.generate_calls: list[tuple[list[str], int, float]] = []
        self.score_calls: list[int] = []
        self.score_entropy: list[bool] = []

    @property
    def tokenizer(self):
        return _Tok()

    def chat(self, messages, *, system=None) -> str:
        if not isinstance(messages, str):
            messages = "\n".join(m["content"] for m in messages)
        return f"<user>{messages}</user>"

    def describe(self) -> ModelInfo:  # pragma: no cover - not used
        return ModelInfo("fake", "fake", 10, 1, 1, 1, 1, 1, 1, 100)

    @staticmethod
    def question_of(prompt: str) -> str:
        m = re.search(r"Q(?:uestion)?: (.*?)(?:\n|</user>|$)", prompt)
        assert m, prompt
        return m.group(1)

    @staticmethod
    def previous_of(prompt: str) -> list[str]:
        return re.findall(r"answer to question Q is (.*?)\.\n", prompt)

    def generate(self, prompts: Sequence[str], *, n=1, max_new_tokens=64, temperature=1.0, top_p=1.0,
                 top_k=0, typical_p=1.0, seed=None, stop=None, processors=None) -> list[list[Completion]]:
        prompts = list(prompts)
        self.generate_calls.append((prompts, n, temperature))
        out = []
        for p in prompts:
            q = self.question_of(p)
            if temperature == 0:
                text = self.greedy.get(q, self.answers[q][0][0])
                out.append([Completion(text, [1], [-0.1], [0.2], "stop", [-0.1])])
                continue
            script = self.answers[q]
            comps = []
            for j in range(n):
                text, lp = script[j % len(script)]
                # model_logprobs average to lp; the sampled-distribution logprobs (2·lp) must not be used
                comps.append(Completion(text, [1, 2], [2 * lp, 2 * lp], [0.3, 0.3], "stop", [lp - 0.5, lp + 0.5]))
            out.append(comps)
        return out

    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        self.score_calls.append(len(prompts))
        self.score_entropy.append(entropy)
        out = []
        for p, c in zip(prompts, continuations):
            text = c[: -len(EOS)] if c.endswith(EOS) else c
            lp = self.score_fn(self.question_of(p), self.previous_of(p), text)
            # two pseudo-tokens summing to lp
            ent = [self.entropy_value, 2 * self.entropy_value] if entropy else []
            out.append(Scored([1, 2], [lp / 2, lp / 2], ent))
        return out

    def next_token_logprobs(self, prompts, candidates):  # pragma: no cover - not used
        raise NotImplementedError


def log(x: float) -> float:
    return math.log(x) if x > 0 else -1e9
