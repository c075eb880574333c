"""The contract every hallucination-risk method follows, and what they share.

A method takes a `LanguageModel` and a batch of `QAItem`s and returns one `MethodResult`
per item: a float `score` (higher = more uncertain = more likely a hallucination) and a
`details` dict (JSON-serialisable) explaining it.

Methods that need K sampled answers to the same question at the same temperature and seed
(semantic entropy, iterative-prompting MI, ...) draw them from one `SampleCache`, so the
samples are generated once per batch and shared — lm-polygraph's "statistics computed once
per batch". The cache calls `model.generate` once for all prompts it has not seen yet.

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

import hashlib
from abc import ABC
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from llminfo.models.base import Completion, LanguageModel, Scored

SHORT_ANSWER_INSTRUCTION = "Answer the question with just the answer, in a few words."
# Short answers: a few words on one line. A newline ends the answer.
ANSWER_MAX_NEW_TOKENS = 24
ANSWER_STOP: tuple[str, ...] = ("\n",)
# Rows (prompts x samples) per `generate` call: bounds the KV cache held at once.
MAX_ROWS_PER_CALL = 128


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


def item_seed(seed: int | None, key: str) -> int | None:
    """The seed of one item's samples, derived from (run seed, item key).

    The key is the prompt the samples are drawn from (it holds the item's question and
    context), so an item's samples never depend on its batch, its position, the shard or
    worker that scores it, or the batch size; and two items do not share one random stream.

    Example:
        >>> item_seed(0, "Q: capital of France?") == item_seed(0, "Q: capital of France?")
        True
    """
    if seed is None:
        return None
    digest = hashlib.blake2b(f"{int(seed)}\x00{key}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % 2**31


class SampleCache:
    """Sampled completions shared by every method scoring the same batch.

    Keyed by (model, prompt, temperature, max_new_tokens, seed, stop, top_p). Each prompt's
    samples are seeded by `item_seed(seed, prompt)` and a backend's sample j depends only on
    (that seed, j) — not on the other prompts or on `n` — so a request for n samples of a
    cached prompt that holds ≥ n is served from the cache, and batched, sharded and
    one-prompt-at-a-time results are equal.

    `score(model, prompts, continuations)` memoises teacher-forced scores the same way (one
    `model.score` call for every pair not seen yet). A pair whose continuation is, token for
    token, the start of a completion this cache generated from the same prompt is read off
    that completion's records instead (its `model_logprobs` and `entropy` are the raw model's
    at those positions, which is what `score` computes) — e.g. the greedy answer the white-box
    baselines score, or iterative MI's sampled answers under F₀. Only for backends whose
    records equal their scores (`model.generation_matches_score`, e.g. `HFModel`); the same
    numbers to float round-off (~1e-6). `reuse_generations=False` turns it off.

    Memory: each Completion / Scored keeps per-token floats only (no vocabulary tensors).

    Args:
        max_rows_per_call (`int`, defaults to 128): prompts × n per `generate` call.
        reuse_generations (`bool`, defaults to True): serve `score` from generation records
            where they hold the same tokens after the same prompt (see above).

    Example:
        >>> from llminfo import load_model
        >>> model = load_model("default")
        >>> prompts = [qa_prompt(model, "What is the capital of France?")]
        >>> cache = SampleCache()
        >>> samples = cache.get(model, prompts, n=4, temperature=1.0, seed=0)
        >>> again = cache.get(model, prompts, n=2, temperature=1.0, seed=0)  # no model call
        >>> cache.generate_calls, again[0] == samples[0][:2]
        (1, True)
    """

    def __init__(self, max_rows_per_call: int = MAX_ROWS_PER_CALL, reuse_generations: bool = True):
        if not isinstance(max_rows_per_call, int) or max_rows_per_call < 1:
            raise ValueError(f"`max_rows_per_call` has to be an integer >= 1, got {max_rows_per_call!r}")
        self.max_rows_per_call = max_rows_per_call
        self.reuse_generations = bool(reuse_generations)
        self._store: dict[tuple, list[Completion]] = {}
        self._by_prompt: dict[tuple, list[tuple]] = {}  # (model, prompt) -> keys of _store
        self._scored: dict[tuple, Scored] = {}
        self._no_entropy: set[tuple] = set()  # keys scored with entropy=False
        self.generate_calls = 0  # for tests and benchmarks: how many model calls ran
        self.score_calls = 0
        self.scores_from_generations = 0  # pairs `score` read off generation records

    def get(
        self,
        model: LanguageModel,
        prompts: Sequence[str],
        n: int,
        temperature: float,
        max_new_tokens: int = ANSWER_MAX_NEW_TOKENS,
        seed: int | None = 0,
        stop: Sequence[str] | None = ANSWER_STOP,
        top_p: float = 1.0,
    ) -> list[list[Completion]]:
        """`n` completions per prompt; generates only what is not cached, in batched calls.

        Returns:
            one list of `n` Completions per prompt, in order.
        """
        if isinstance(prompts, str):
            raise TypeError("`prompts` has to be a list of strings, got a single string")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"`n` has to be an integer >= 1, got {n!r}")
        stop_t = tuple(stop or ())
        keys = [self._key(model, p, temperature, max_new_tokens, seed, stop_t, top_p) for p in prompts]
        missing: list[str] = []
        seen = set()
        for p, k in zip(prompts, keys):
            if (k not in self._store or len(self._store[k]) < n) and p not in seen:
                missing.append(p)
                seen.add(p)
        per_call = max(1, self.max_rows_per_call // n)
        for start in range(0, len(missing), per_call):
            chunk = missing[start : start + per_call]
            self.generate_calls += 1
            out = model.generate(
                chunk,
                n=n,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=None if seed is None else [item_seed(seed, p) for p in chunk],
                stop=list(stop_t) or None,
            )
            for p, comps in zip(chunk, out):
                self._put(self._key(model, p, temperature, max_new_tokens, seed, stop_t, top_p), comps)
        return [list(self._store[k][:n]) for k in keys]

    def prefetch(self, model: LanguageModel, requests: Sequence[Mapping[str, Any]]) -> None:
        """Generate now what `get` will be asked for, as few decode loops as the backend allows.

        Each request holds `get`'s arguments (`prompts`, `n`, `temperature`, and optionally
        `max_new_tokens`, `seed`, `stop`, `top_p`). With a backend that has `generate_mixed`
        (`HFModel`), requests sharing `max_new_tokens`, `stop` and `top_p = 1` run in
        one decode loop — the greedy answers and every method's samples of the same questions
        together — each row exactly as its own call would draw it; otherwise, or for one
        request alone, this is `get` per request. Requests already served change nothing.
        """
        mixed = getattr(model, "generate_mixed", None)
        groups: dict[tuple, dict[tuple, tuple[int, list[str]]]] = {}
        for r in requests:
            args = dict(max_new_tokens=ANSWER_MAX_NEW_TOKENS, seed=0, stop=ANSWER_STOP, top_p=1.0) | dict(r)
            if isinstance(args["prompts"], str):
                raise TypeError("`prompts` has to be a list of strings, got a single string")
            stop_t = tuple(args["stop"] or ())
            if mixed is None or float(args["top_p"]) != 1.0:
                self.get(model, list(args["prompts"]), n=args["n"], temperature=args["temperature"],
                         max_new_tokens=args["max_new_tokens"], seed=args["seed"], stop=stop_t, top_p=args["top_p"])
                continue
            by_request = groups.setdefault((args["max_new_tokens"], stop_t), {})
            n, prompts = by_request.get((float(args["temperature"]), args["seed"]), (0, []))
            by_request[(float(args["temperature"]), args["seed"])] = (max(n, args["n"]), prompts + list(args["prompts"]))
        for (max_new_tokens, stop_t), by_request in groups.items():
            todo = []  # (temperature, seed, n, prompts still missing)
            for (temperature, seed), (n, prompts) in by_request.items():
                missing = [p for p in dict.fromkeys(prompts)
                           if len(self._store.get(self._key(model, p, temperature, max_new_tokens, seed, stop_t, 1.0), ())) < n]
                if missing:
                    todo.append((temperature, seed, n, missing))
            if len(todo) == 1:
                temperature, seed, n, missing = todo[0]
                self.get(model, missing, n=n, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed, stop=stop_t)
                continue
            if not todo:
                continue
            # chunks of prompts holding at most `max_rows_per_call` rows (at least one prompt)
            prompts = list(dict.fromkeys(p for *_tsn, missing in todo for p in missing))
            rows_of = {p: sum(n for _t, _s, n, missing in todo if p in missing) for p in prompts}
            chunks: list[list[str]] = [[]]
            for p in prompts:
                if chunks[-1] and sum(rows_of[q] for q in chunks[-1]) + rows_of[p] > self.max_rows_per_call:
                    chunks.append([])
                chunks[-1].append(p)
            for chunk in chunks:
                where = {p: i for i, p in enumerate(chunk)}
                reqs, plan = [], []
                for temperature, seed, n, missing in todo:
                    mine = [p for p in missing if p in where]
                    if mine:
                        seeds = None if seed is None else [item_seed(seed, p) for p in mine]
                        reqs.append(([where[p] for p in mine], n, temperature, seeds))
                        plan.append((temperature, seed, mine))
                self.generate_calls += 1
                out = mixed(chunk, reqs, max_new_tokens=max_new_tokens, stop=list(stop_t) or None)
                for (temperature, seed, mine), per_prompt in zip(plan, out):
                    for p, comps in zip(mine, per_prompt):
                        self._put(self._key(model, p, temperature, max_new_tokens, seed, stop_t, 1.0), comps)

    @staticmethod
    def _key(model: LanguageModel, prompt: str, temperature: float, max_new_tokens: int, seed: int | None,
             stop_t: tuple, top_p: float) -> tuple:
        return (id(model), prompt, float(temperature), max_new_tokens, seed, stop_t, float(top_p))

    def _put(self, key: tuple, comps: list[Completion]) -> None:
        if key not in self._store:
            self._by_prompt.setdefault((key[0], key[1]), []).append(key)
        self._store[key] = comps

    def score(
        self, model: LanguageModel, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True
    ) -> list[Scored]:
        """Teacher-forced `model.score`, memoised per (model, prompt, continuation).

        Every pair not yet scored goes to ONE `model.score` call (which encodes a shared
        prompt once), so methods that score the same answers share the work. With
        `entropy=False` the per-token entropies may be left empty (cheaper: no full-vocabulary
        log-softmax); a pair scored with entropies serves both kinds of request.
        """
        if isinstance(prompts, str) or isinstance(continuations, str):
            raise TypeError("`prompts` and `continuations` have to be lists of strings")
        if len(prompts) != len(continuations):
            raise ValueError(f"`prompts` and `continuations` differ in length: {len(prompts)} and {len(continuations)}")
        keys = [(id(model), p, c) for p, c in zip(prompts, continuations)]

        def have(k: tuple) -> bool:
            return k in self._scored and (not entropy or k not in self._no_entropy)

        missing = list(dict.fromkeys(k for k in keys if not have(k)))
        if missing and self.reuse_generations and getattr(model, "generation_matches_score", False):
            missing = self._score_from_generations(model, missing)
        if missing:
            self.score_calls += 1
            args = ([k[1] for k in missing], [k[2] for k in missing])
            out = model.score(*args) if entropy else model.score(*args, entropy=False)
            self._scored.update(zip(missing, out))
            if entropy:
                self._no_entropy.difference_update(missing)
            else:
                self._no_entropy.update(missing)
        return [self._scored[k] for k in keys]

    def _score_from_generations(self, model: LanguageModel, missing: list[tuple]) -> list[tuple]:
        """Fill `_scored` for the pairs whose continuation tokens start a completion generated
        from the same prompt (same model); returns the pairs still to score."""
        left = []
        for k in missing:
            found = None
            gen_keys = self._by_prompt.get((k[0], k[1]), ())
            if gen_keys:
                ids = list(model.encode_continuation(k[2]))  # type: ignore[attr-defined]
                m = len(ids)
                found = next(
                    (c for gk in gen_keys for c in self._store[gk]
                     if m and c.token_ids[:m] == ids and len(c.model_logprobs) >= m and len(c.entropy) >= m),
                    None,
                )
            if found is None:
                left.append(k)
                continue
            self._scored[k] = Scored(ids, list(found.model_logprobs[:m]), list(found.entropy[:m]))
            self._no_entropy.discard(k)
            self.scores_from_generations += 1
        return left

    def clear(self) -> None:
        self._store.clear()
        self._by_prompt.clear()
        self._scored.clear()
        self._no_entropy.clear()


def answer_continuation(model: LanguageModel, answer: str, end_with_eos: bool = False) -> str:
    """The text to teacher-force for an answer.

    With `end_with_eos` (or when the answer is empty) the tokenizer's EOS string is appended,
    so the score is P(answer, then stop): it then compares answers of different lengths
    fairly, and an empty answer ("stop at once") still has a probability.
    """
    eos = getattr(getattr(model, "tokenizer", None), "eos_token", None) or ""
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
