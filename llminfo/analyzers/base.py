"""The contract every hallucination-risk method follows, and what they share.

A method takes a `LanguageModel` and a batch of `QAItem`s and returns one `MethodResult`
per item: a float `score` (higher = more uncertain = more likely a hallucination) and a
`details` dict (JSON-serialisable) explaining it.

Methods that need K sampled answers to the same question at the same temperature and seed
(semantic entropy, iterative-prompting MI, ...) draw them from one `SampleCache`, so the
samples are generated once per batch and shared — lm-polygraph's "statistics computed once
per batch" (`llminfo.analyzers.sample_cache`).

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.base import QAItem, SampleCache
    >>> from llminfo.analyzers.semantic_entropy import SemanticEntropy
    >>> model = load_model("default")
    >>> items = [QAItem("What is the capital of France?")]
    >>> cache = SampleCache()
    >>> [r] = SemanticEntropy().score(model, items, seed=0, cache=cache)
    >>> r.score >= 0, sum(r.details["cluster_sizes"])  # nats; 10 samples, clustered by meaning
    (True, 10)
"""

from __future__ import annotations

from abc import ABC
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from llminfo.analyzers.sample_cache import (  # noqa: F401 (re-exported: the cache and its defaults lived here)
    ANSWER_MAX_NEW_TOKENS,
    ANSWER_STOP,
    MAX_ROWS_PER_CALL,
    SampleCache,
    item_seed,
)
from llminfo.models.base import LanguageModel

SHORT_ANSWER_INSTRUCTION = "Answer the question with just the answer, in a few words."


@dataclass
class QAItem:
    """One question to score.

    Attributes:
        question: the question text.
        answer: the answer to score; `None` = the model answers greedily (see `answers_for`).
        context: optional evidence / passage the question is about.
        id: optional identifier, carried through unchanged.
    """

    question: str
    answer: str | None = None
    context: str | None = None
    id: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError(f"`question` has to be a non-empty string, got {self.question!r}")
        if self.answer is not None and not isinstance(self.answer, str):
            raise TypeError(f"`answer` has to be a string or None, got {type(self.answer).__name__}")
        if self.context is not None and not isinstance(self.context, str):
            raise TypeError(f"`context` has to be a string or None, got {type(self.context).__name__}")

    @classmethod
    def from_dict(cls, row: Mapping[str, Any], where: str = "row") -> "QAItem":
        """Build from `{"question", "answer"?, "context"?, "id"?}`; errors name `where`."""
        if not isinstance(row, Mapping):
            raise TypeError(f"{where}: expected an object with a 'question' field, got {type(row).__name__}")
        if "question" not in row:
            raise ValueError(f"{where}: missing field 'question'")
        try:
            return cls(row["question"], row.get("answer"), row.get("context"), row.get("id"))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {e}") from None


@dataclass
class MethodResult:
    """One method's verdict on one item.

    Attributes:
        score: higher = more uncertain (more likely a hallucination). May be NaN only when
            the method could not be computed; `details["error"]` then says why.
        details: JSON-serialisable explanation (clusters, probabilities, answers, ...).
    """

    score: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Statistics `HallucinationMethod.score` prepares for a method that lists them in `needs`.
#: "prompts": the standard short-answer prompt per item (`qa_prompt`);
#: "answers": the answer to score per item (its own, else the model's greedy answer);
#: "answer_scores": `Scored` of each answer teacher-forced after its prompt (one batched call);
#: "samples": `num_samples` completions per prompt at the method's `temperature` (one batched call);
#: "clusters": the samples, their cleaned texts ("sampled_answers") and the meaning cluster of each
#:     ("cluster_ids"), clustered with the method's `clustering` / `clustering_kwargs` (one batch).
STATISTICS: tuple[str, ...] = ("prompts", "answers", "answer_scores", "samples", "clusters")


class HallucinationMethod(ABC):
    """A hallucination-risk signal: declare the statistics it needs, write only the reduction.

    `score` is a template method (lm-polygraph's estimators work the same way): it accepts
    items in any form `as_items` takes, makes a `SampleCache` when none is given, computes the
    statistics named in `needs` (see `STATISTICS`) through that cache — so methods scoring the
    same batch share one `generate` and one `score` call — and then calls the method's own
    `reduce`. A method with `"samples"` in `needs` sets `num_samples`, `temperature` and
    `max_new_tokens` attributes; with `"clusters"` also `clustering` and `clustering_kwargs`.

    To add a method: subclass, set `name` and `needs`, implement `reduce`, and add one line to
    `llminfo.analyzers.registry` (or call `register_method`).

    `reduce` must stay batched: any further model work is one call for every item, never a
    Python loop of model calls per item or sample.

    Example:
        >>> import numpy as np
        >>> from llminfo.analyzers.base import HallucinationMethod, MethodResult
        >>> class MinTokenLogprob(HallucinationMethod):
        ...     name = "min_token_logprob"
        ...     needs = ("answers", "answer_scores")
        ...     def reduce(self, model, items, stats, *, seed, cache):
        ...         return [MethodResult(-min(s.logprobs, default=0.0), {"answer": a})
        ...                 for a, s in zip(stats["answers"], stats["answer_scores"])]
    """

    name: str = "method"
    needs: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = [n for n in cls.needs if n not in STATISTICS]
        if isinstance(cls.needs, str) or unknown:
            raise TypeError(f"{cls.__name__}.needs: unknown statistics {unknown or cls.needs!r}; choose from {STATISTICS}")

    def score(
        self,
        model: LanguageModel,
        items: Sequence[QAItem | Mapping[str, Any] | str],
        *,
        seed: int = 0,
        cache: "SampleCache | None" = None,
    ) -> list[MethodResult]:
        """Score every item; returns one `MethodResult` per item, in order.

        Args:
            model: the `LanguageModel` to question.
            items: `QAItem`s, dicts (`QAItem.from_dict`) or question strings.
            seed (`int`, defaults to 0): seed of every sampled completion.
            cache (`SampleCache`, *optional*): share samples and scores with other methods.
        """
        items = as_items(items)
        cache = cache if cache is not None else SampleCache()
        stats = self.statistics(model, items, seed=seed, cache=cache)
        results = self.reduce(model, items, stats, seed=seed, cache=cache)
        if len(results) != len(items):
            raise RuntimeError(f"method {self.name!r} returned {len(results)} results for {len(items)} items")
        return results

    def statistics(
        self, model: LanguageModel, items: Sequence[QAItem], *, seed: int, cache: "SampleCache"
    ) -> dict[str, Any]:
        """The statistics named in `needs` (and those they depend on), computed through `cache`."""
        needs = set(self.needs)
        stats: dict[str, Any] = {}
        max_new_tokens = getattr(self, "max_new_tokens", ANSWER_MAX_NEW_TOKENS)
        if needs:
            stats["prompts"] = [qa_prompt(model, it.question, it.context) for it in items]
        if needs & {"answers", "answer_scores"}:
            stats["answers"] = answers_for(model, items, cache, max_new_tokens=max_new_tokens)
        if "answer_scores" in needs:
            conts = [answer_continuation(model, a) for a in stats["answers"]]
            stats["answer_scores"] = cache.score(model, stats["prompts"], conts)
        if "clusters" in needs:
            from llminfo.analyzers.clustering import sample_and_cluster

            # a method may sample from its own prompt protocol and filter its samples
            own_prompts = getattr(self, "sampling_prompts", None)
            stats["sampling_prompts"], stats["samples"], stats["sampled_answers"], stats["cluster_ids"] = sample_and_cluster(
                model, items, cache, num_samples=self.num_samples, temperature=self.temperature,  # type: ignore[attr-defined]
                max_new_tokens=max_new_tokens, seed=seed, clustering=self.clustering,  # type: ignore[attr-defined]
                clustering_kwargs=self.clustering_kwargs,  # type: ignore[attr-defined]
                prompts=own_prompts(model, items) if own_prompts else None,
                drop_unfinished=getattr(self, "drop_unfinished", False),
            )
        elif "samples" in needs:
            stats["samples"] = cache.get(
                model, stats["prompts"], n=self.num_samples, temperature=self.temperature,  # type: ignore[attr-defined]
                max_new_tokens=max_new_tokens, seed=seed,
            )
        return stats

    def generation_requests(self, model: LanguageModel, items: Sequence[QAItem], *, seed: int) -> list[dict[str, Any]]:
        """The `SampleCache.get` calls `statistics` will make, as `SampleCache.prefetch`
        requests (so a scorer can generate every method's samples in one loop)."""
        needs = set(self.needs)
        max_new_tokens = getattr(self, "max_new_tokens", ANSWER_MAX_NEW_TOKENS)
        requests = []
        if needs & {"answers", "answer_scores"}:
            requests += greedy_requests(model, items, max_new_tokens)
        if needs & {"clusters", "samples"}:
            own_prompts = getattr(self, "sampling_prompts", None) if "clusters" in needs else None
            prompts = (own_prompts(model, items) if own_prompts else None) or [qa_prompt(model, it.question, it.context) for it in items]
            requests.append(dict(prompts=list(prompts), n=self.num_samples, temperature=self.temperature,  # type: ignore[attr-defined]
                                 max_new_tokens=max_new_tokens, seed=seed))
        return requests

    def reduce(
        self,
        model: LanguageModel,
        items: list[QAItem],
        stats: dict[str, Any],
        *,
        seed: int,
        cache: "SampleCache",
    ) -> list[MethodResult]:
        """The method's own computation from the prepared `stats`; one result per item."""
        raise NotImplementedError(f"{type(self).__name__} has to implement `reduce` (or override `score`)")


def check_sampling_args(num_samples: Any, temperature: Any, max_new_tokens: Any) -> None:
    """The checks every method that samples answers makes (errors name the argument).

    `max_new_tokens` may be None (the method's own default length).
    """
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"`num_samples` has to be an integer >= 1, got {num_samples!r}")
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"`temperature` has to be a float > 0 (sampling), got {temperature!r}")
    if max_new_tokens is not None and (not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 1):
        raise ValueError(f"`max_new_tokens` has to be an integer >= 1, got {max_new_tokens!r}")


def as_items(items: Sequence[QAItem | Mapping[str, Any] | str]) -> list[QAItem]:
    """Accept QAItems, dicts (`QAItem.from_dict`) or bare question strings."""
    if isinstance(items, (str, QAItem, Mapping)):
        raise TypeError("`items` has to be a list of QAItem / dict / str, got a single item (wrap it in a list)")
    out = []
    for i, it in enumerate(items):
        if isinstance(it, QAItem):
            out.append(it)
        elif isinstance(it, str):
            out.append(QAItem(it))
        else:
            out.append(QAItem.from_dict(it, where=f"items[{i}]"))
    return out


def qa_prompt(
    model: LanguageModel,
    question: str,
    context: str | None = None,
    instruction: str = SHORT_ANSWER_INSTRUCTION,
) -> str:
    """The standard short-answer prompt: instruction, optional context, the question.

    Base models (no chat template) get the few-shot plain-text prompt instead
    (`llminfo.analyzers.prompts.question_prompt`).

    Args:
        model: supplies the chat template (`model.chat`).
        question: the question.
        context (`str`, *optional*): evidence shown before the question.
        instruction (`str`): first line of the user turn.

    Example:
        >>> qa_prompt(model, "What is the capital of France?")  # doctest: +SKIP
        '<|im_start|>system ... <|im_start|>user\\nAnswer the question with just the answer, ...'
    """
    from llminfo.analyzers.prompts import question_prompt

    return question_prompt(model, question, context, instruction)


def clean_answer(text: str) -> str:
    """Strip whitespace around a generated short answer (the newline stop is already cut)."""
    return text.strip()


def answer_continuation(model: LanguageModel, answer: str, end_with_eos: bool = False) -> str:
    """The text to teacher-force for an answer.

    On a base model the answer gets the leading space it is generated with
    (`prompts.answer_prefix`). With `end_with_eos` (or when the answer is empty) the
    tokenizer's EOS string is appended,
    so the score is P(answer, then stop): it then compares answers of different lengths
    fairly, and an empty answer ("stop at once") still has a probability.
    """
    from llminfo.analyzers.prompts import answer_prefix

    eos = getattr(getattr(model, "tokenizer", None), "eos_token", None) or ""
    if answer and not answer[0].isspace():
        answer = answer_prefix(model) + answer  # " Paris" after a base model's "Answer:"
    if end_with_eos or not answer:
        return answer + eos
    return answer


def answers_for(
    model: LanguageModel,
    items: Sequence[QAItem],
    cache: SampleCache | None = None,
    max_new_tokens: int = ANSWER_MAX_NEW_TOKENS,
) -> list[str]:
    """The answer to score for each item: its own `answer`, else the model's greedy answer.

    Greedy answers for all items without one come from one batched `generate` call
    (through `cache`, so several methods share them).
    """
    cache = cache if cache is not None else SampleCache()
    need = [i for i, it in enumerate(items) if it.answer is None]
    answers = [it.answer for it in items]
    for request in greedy_requests(model, [items[i] for i in need], max_new_tokens):
        greedy = cache.get(model, **request)
        for i, comps in zip(need, greedy):
            answers[i] = clean_answer(comps[0].text)
    return answers  # type: ignore[return-value]


def greedy_requests(model: LanguageModel, items: Sequence[QAItem], max_new_tokens: int = ANSWER_MAX_NEW_TOKENS) -> list[dict[str, Any]]:
    """The `SampleCache` request of the greedy answers of the items without an answer (none
    when every item has one)."""
    prompts = [qa_prompt(model, it.question, it.context) for it in items if it.answer is None]
    return [dict(prompts=prompts, n=1, temperature=0.0, max_new_tokens=max_new_tokens, seed=0)] if prompts else []


def builtin_methods() -> dict[str, type[HallucinationMethod]]:
    """`{method.name: class}` of every registered method; kept for compatibility, see
    `llminfo.analyzers.registry.available_methods`."""
    from llminfo.analyzers.registry import available_methods

    return available_methods()
