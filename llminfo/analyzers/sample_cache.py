"""`SampleCache`: the samples and teacher-forced scores every method scoring a batch shares.

Methods that need K sampled answers to the same question at the same temperature and seed
(semantic entropy, iterative-prompting MI, ...) draw them from one `SampleCache`, so the
samples are generated once per batch and shared — lm-polygraph's "statistics computed once
per batch". `prefetch` generates every method's samples (and the greedy answers) in one
decode loop where the backend allows it; `score` reads teacher-forced scores off generation
records where they hold the same tokens after the same prompt.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

from llminfo.models.base import Completion, LanguageModel, Scored

# Short answers: a few words on one line. A newline ends the answer.
ANSWER_MAX_NEW_TOKENS = 24
ANSWER_STOP: tuple[str, ...] = ("\n",)
# Rows (prompts x samples) per `generate` call: bounds the KV cache held at once.
MAX_ROWS_PER_CALL = 128


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
        >>> from llminfo.analyzers.base import qa_prompt
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
