"""Cross-prompt disagreement: does the model give the same answer when asked another way?

`PromptDisagreement` (`prompt_disagreement`) asks each question a second time under a
different prompt — by default the semantic-entropy paper's brief few-shot prompt
(`semantic_entropy.farquhar_prompt`: "Answer the following question as briefly as possible."
and five question/answer pairs; Farquhar et al., Nature 2024) — takes the model's greedy
answer there, and scores 1.0 when that answer and the answer being scored do not match, 0.0
when they do. Two answers match when either occurs in the other as whole normalised tokens
(`llminfo.text.alias_match`, the rule that grades answers against gold aliases: "Oslo"
matches "The capital of Norway is Oslo."); an answer without a letter or digit never matches.

This is llminfo's own method: a one-sample, greedy, cross-prompt consistency check in the
family of SelfCheckGPT (Manakul et al., EMNLP 2023: agreement with sampled answers) and SAC3
(Zhang et al., EMNLP 2023: agreement across rephrased questions and across models). It reads the
model's behaviour, not its probabilities, so it is less correlated with the likelihood
baselines and the hidden-state probe than they are with each other (BENCHMARKS.md). Cost:
one more greedy answer per question; with the default scorer the second answers decode in
the same loop as the first ones (`generation_requests`, `SampleCache.prefetch`). Higher =
more uncertain.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.consistency import PromptDisagreement
    >>> model = load_model("default")
    >>> [r] = PromptDisagreement().score(model, ["What is the capital of Norway?"])
    >>> r.score, r.details["answer"], r.details["second_answer"]  # doctest: +SKIP
    (0.0, 'The capital of Norway is Oslo.', 'Oslo')
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from llminfo.analyzers.base import ANSWER_MAX_NEW_TOKENS, ANSWER_STOP, HallucinationMethod, MethodResult, QAItem, clean_answer
from llminfo.models.base import LanguageModel

#: The second prompts `PromptDisagreement` knows by name.
SECOND_PROMPTS = ("farquhar",)


def answers_match(a: str, b: str) -> bool:
    """Whether two answers say the same: either occurs in the other as whole normalised
    tokens (`alias_match` both ways). An answer without a letter or digit (empty, ".", "?")
    matches nothing."""
    from llminfo.text import alias_match

    if not any(ch.isalnum() for ch in a) or not any(ch.isalnum() for ch in b):
        return False
    return alias_match(a, [b]) or alias_match(b, [a])


class PromptDisagreement(HallucinationMethod):
    """1.0 when the model's greedy answer under a second prompt does not match the answer
    scored, else 0.0 (llminfo's own cross-prompt consistency check; module docstring).

    Args:
        prompt (`str` or callable, defaults to `"farquhar"`): the second prompt — `"farquhar"`
            (the semantic-entropy paper's brief few-shot prompt) or a function
            `(question, context) -> prompt string`.
        max_new_tokens (`int`, defaults to 24): length of both greedy answers (the scored one
            when the item has none, and the second one).
    """

    name = "prompt_disagreement"
    needs = ("answers",)

    def __init__(self, prompt: str | Callable[[str, str | None], str] = "farquhar", max_new_tokens: int = ANSWER_MAX_NEW_TOKENS):
        if not (prompt in SECOND_PROMPTS or callable(prompt)):
            raise ValueError(f"`prompt` has to be one of {SECOND_PROMPTS} or a function (question, context) -> str, got {prompt!r}")
        if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` has to be an integer >= 1, got {max_new_tokens!r}")
        self.prompt = prompt
        self.max_new_tokens = max_new_tokens

    def second_prompts(self, items: Sequence[QAItem]) -> list[str]:
        """The prompt of the second answer for each item."""
        if self.prompt == "farquhar":
            from llminfo.analyzers.semantic_entropy import farquhar_prompt

            return [farquhar_prompt(it.question, it.context) for it in items]
        out = []
        for i, it in enumerate(items):
            p = self.prompt(it.question, it.context)  # type: ignore[operator]
            if not isinstance(p, str) or not p:
                raise TypeError(f"`prompt` returned {p!r} for items[{i}]: it has to return a non-empty string")
            out.append(p)
        return out

    def _request(self, items: Sequence[QAItem]) -> dict[str, Any]:
        return dict(prompts=self.second_prompts(items), n=1, temperature=0.0, max_new_tokens=self.max_new_tokens,
                    seed=0, stop=ANSWER_STOP)

    def generation_requests(self, model: LanguageModel, items: Sequence[QAItem], *, seed: int) -> list[dict[str, Any]]:
        return super().generation_requests(model, items, seed=seed) + [self._request(items)]

    def reduce(self, model, items, stats, *, seed, cache) -> list[MethodResult]:
        second = [clean_answer(c[0].text) for c in cache.get(model, **self._request(items))]
        results = []
        for answer, other in zip(stats["answers"], second):
            agree = answers_match(answer, other)
            results.append(MethodResult(0.0 if agree else 1.0, {"answer": answer, "second_answer": other, "agree": agree}))
        return results
