"""`OpenAIModel`: the LanguageModel interface over an OpenAI-compatible server (e.g. `vllm serve`).

A model served elsewhere — a multi-node vLLM deployment, a tensor-parallel `vllm serve` on a
GPU box — becomes an llminfo backend. Requests go through the `openai` client (its retries with
exponential backoff on 408/409/429/5xx and connection errors, honouring `Retry-After`; its
timeouts), at most `max_concurrency` requests in flight.

Prompts are tokenised here with the model's own tokenizer (chat template, token ids) and sent
as token ids, so the server sees exactly the tokens `HFModel` / `VLLMModel` see:

- `generate`: `/v1/completions` with `n`, `seed`, `stop`, `logprobs=k`. Per token the
  sampled token's log-probability is the server's (raw, temperature 1, under vLLM's default
  `--logprobs-mode raw_logprobs`), so `Completion.logprobs == Completion.model_logprobs`.
  vLLM gives sample j of a request the seed `seed + j`; prompts get seeds spread as
  `VLLMModel` spreads them, one request per prompt.
- `score`: `echo=True` with `logprobs` (vLLM maps it to `prompt_logprobs`): the teacher-forced
  log-probability of every continuation token, many pairs per request.
- `next_token_logprobs`: scores each candidate (exact, sum of token logprobs).

Entropies (`Completion.entropy`, `Scored.entropy`): a server returns top-k log-probabilities
only, so the entropy of the full next-token distribution has two modes (`entropy=`):

- `"topk"` (default): `measures.topk_entropy_lower_bound` over the top `top_logprobs` tokens
  (20 = vLLM's default `--max-logprobs`) — a lower bound, exact only when the top-k hold all
  the mass. The model says so in `approximations` (`{"entropy": ...}`), and `llminfo score`
  writes that into every output row.
- `"exact"`: full-vocabulary log-probabilities (`logprobs=-1`); the vLLM server must be
  started with `--max-logprobs -1`. `score` then asks for one next-token distribution per
  continuation position (prompt + continuation[:t], the server's prefix cache sharing the
  prompt), as echo would return a vocabulary for every prompt position too. Exact and equal
  to the in-process backends, but every scored position sends the whole vocabulary over HTTP
  (megabytes of JSON for a 50k vocabulary): for audits and tests, not for throughput.

llminfo's entropy-recording vLLM processor cannot send its floats back through an HTTP
response (vLLM's OpenAI server has no field for per-request processor output), so it is not
used here; `processors` with a vLLM counterpart (typical, halting) are sent as `vllm_xargs`
and need a server started with llminfo's processors (`--logits-processors ...`).

Example:
    >>> from llminfo.models.openai import OpenAIModel
    >>> m = OpenAIModel("http://127.0.0.1:8000/v1", "default")   # `vllm serve ... --served-model-name default`
    >>> [[c]] = m.generate([m.chat("What is the capital of France?")], temperature=0, max_new_tokens=8)
    >>> c.text, m.score([m.chat("Capital of France?")], ["Paris"])[0].logprobs
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np

from llminfo import measures
from llminfo.errors import UserError
from llminfo.models.base import (
    Completion,
    ModelInfo,
    Scored,
    seed_bases,
    validate_pairs,
)
from llminfo.models.tokenized import TokenizedLM
from llminfo.models.openai_server import check_base_url, describe_failure, load_tokenizer

ENTROPY_MODES = ("topk", "exact")
DEFAULT_TOP_LOGPROBS = 20
# Pairs per scoring request: bounds one response's size (top-k dicts per position).
SCORE_PAIRS_PER_REQUEST = 16
# Positions per request in entropy="exact" scoring: each returns a whole vocabulary.
FULL_VOCAB_POSITIONS_PER_REQUEST = 2


class OpenAIServerError(UserError):
    """The server could not be reached, or answered with an error after the retries.

    A problem of the whole run that the user fixes (start the server, fix the URL, lower the
    load): the CLI shows it as one line, and a scoring run stops instead of skipping rows.
    """


class OpenAIModel(TokenizedLM):
    """An OpenAI-compatible server (a `vllm serve` deployment) behind the `LanguageModel` interface.

    Args:
        base_url (`str`): the server's API root, e.g. `"http://127.0.0.1:8000/v1"`.
        model (`str`): the served model name (`vllm serve ... --served-model-name NAME`).
        tokenizer (`str`, *optional*): where to load the model's tokenizer from (a local folder,
            `"default"`, or a hub id); defaults to `model`.
        api_key (`str`, *optional*): defaults to the environment's `OPENAI_API_KEY`, else `"EMPTY"`
            (what a vLLM server without `--api-key` accepts).
        entropy (`str`, defaults to `"topk"`): `"topk"` (documented lower bound) or `"exact"`
            (full-vocabulary logprobs; server started with `--max-logprobs -1`).
        top_logprobs (`int`, defaults to 20): k for `entropy="topk"`.
        max_concurrency (`int`, defaults to 8): requests in flight at once.
        max_retries (`int`, defaults to 4): retries per request on 408/409/429/5xx and
            connection errors (exponential backoff, `Retry-After` honoured).
        timeout (`float`, defaults to 120): seconds per request.
        check (`bool`, defaults to True): ask the server for its model list at start, so a bad
            URL, a server that is down or a wrong model name fail here with a clear error.

    Example:
        >>> m = OpenAIModel("http://127.0.0.1:8000/v1", "default", entropy="topk")
        >>> m.approximations
        {'entropy': 'top-20 lower bound (measures.topk_entropy_lower_bound)'}
    """

    backend = "openai"  # tokenisation and chat formatting: TokenizedLM's, as the in-process backends

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        tokenizer: str | None = None,
        api_key: str | None = None,
        entropy: str = "topk",
        top_logprobs: int = DEFAULT_TOP_LOGPROBS,
        max_concurrency: int = 8,
        max_retries: int = 4,
        timeout: float = 120.0,
        check: bool = True,
    ):
        self.base_url = check_base_url(base_url)
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"`model` has to be the served model name, got {model!r}")
        if entropy not in ENTROPY_MODES:
            raise ValueError(f"`entropy` has to be one of {ENTROPY_MODES}, got {entropy!r}")
        for name, value in (("top_logprobs", top_logprobs), ("max_concurrency", max_concurrency)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` has to be an integer >= 1, got {value!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"`max_retries` has to be an integer >= 0, got {max_retries!r}")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"`timeout` has to be a number of seconds > 0, got {timeout!r}")
        try:
            import openai
        except ImportError:
            raise ImportError("backend='openai' needs the `openai` package: `pip install openai`") from None
        self.name = model
        self.entropy_mode = entropy
        self.top_logprobs = top_logprobs
        self.max_concurrency = max_concurrency
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=max_retries, timeout=float(timeout))
        self.server: dict[str, Any] = self._served_model() if check else {}
        self.is_vllm = self.server.get("owned_by") == "vllm"
        if entropy == "exact" and check and not self.is_vllm:
            raise ValueError(f"`entropy='exact'` needs a vLLM server started with --max-logprobs -1; {self.base_url} is not vLLM")
        self._tokenizer = load_tokenizer(tokenizer or model)
        self.max_context = int(self.server.get("max_model_len") or getattr(self._tokenizer, "model_max_length", 0) or 2048)
        if self.max_context > 10**7:  # transformers' "no limit" sentinel
            self.max_context = 2048

    @property
    def approximations(self) -> dict[str, str]:
        """What this backend computes approximately (written into `llminfo score` rows)."""
        if self.entropy_mode == "exact":
            return {}
        return {"entropy": f"top-{self.top_logprobs} lower bound (measures.topk_entropy_lower_bound)"}

    def describe(self) -> ModelInfo:
        from transformers import AutoConfig

        path = getattr(self._tokenizer, "name_or_path", None)
        try:
            cfg = AutoConfig.from_pretrained(path)
        except Exception as e:  # a hub id offline, a tokenizer-only folder
            raise ValueError(
                f"OpenAIModel.describe needs the model's config.json next to its tokenizer ({path!r}): {e}"
            ) from None
        return ModelInfo.from_hf_config(
            cfg, name=self.name, backend=self.backend, max_context=self.max_context, dtype="unknown", device=self.base_url
        )

    # -- interface ----------------------------------------------------------------------

    def _sample(
        self, encoded: list[list[int]], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        bases = seed_bases(seeds, len(encoded))
        xargs = self._xargs(processors, typical_p)
        extra: dict[str, Any] = {}
        if top_k:
            extra["top_k"] = int(top_k)
        if self.is_vllm:
            extra["return_tokens_as_token_ids"] = True
        if xargs:
            extra["vllm_xargs"] = xargs

        def one(i: int) -> list[Completion]:
            resp = self._call(
                f"prompts[{i}]",
                prompt=encoded[i],
                n=n,
                max_tokens=max_new_tokens,
                temperature=float(temperature),
                top_p=float(top_p),
                seed=bases[i],
                stop=stop or None,
                logprobs=self._k(),
                extra_body=extra or None,
            )
            row: list[Completion] = [None] * n  # type: ignore[list-item]
            for ch in resp.choices:
                lps, ents, ids = self._token_stats(ch.logprobs, 0, None, f"prompts[{i}]")
                row[ch.index] = Completion(
                    text=ch.text,
                    token_ids=ids,
                    logprobs=lps,
                    entropy=ents,
                    finish_reason=str(ch.finish_reason or "length"),
                    model_logprobs=list(lps),
                )
            if any(c is None for c in row):
                raise OpenAIServerError(f"server returned {len(resp.choices)} choices for `prompts[{i}]`, asked for n={n}")
            return row

        return self._map(one, range(len(encoded)))

    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        prompts, continuations = validate_pairs(prompts, continuations)
        prompt_ids = [self.encode_prompt(p, f"prompts[{k}]", allow_empty=True) for k, p in enumerate(prompts)]
        cont_ids = [self._tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        for k in range(len(prompts)):
            if len(prompt_ids[k]) + len(cont_ids[k]) + 1 > self.max_context:
                raise ValueError(
                    f"`prompts[{k}]` + `continuations[{k}]` is {len(prompt_ids[k]) + len(cont_ids[k])} tokens: "
                    f"no room within the server's max_model_len ({self.max_context})"
                )
        results = [Scored([], [], []) for _ in prompts]
        todo = [k for k in range(len(prompts)) if cont_ids[k]]
        if entropy and self.entropy_mode == "exact":
            return self._score_full_vocab(prompt_ids, cont_ids, todo, results)
        chunks = [todo[s : s + SCORE_PAIRS_PER_REQUEST] for s in range(0, len(todo), SCORE_PAIRS_PER_REQUEST)]

        def one(chunk: list[int]) -> list[tuple[int, Scored]]:
            resp = self._call(
                f"continuations[{chunk[0]}..{chunk[-1]}]",
                prompt=[prompt_ids[k] + cont_ids[k] for k in chunk],
                echo=True,
                max_tokens=1,
                temperature=0.0,
                logprobs=self._k() if entropy else 0,
                extra_body={"return_tokens_as_token_ids": True} if self.is_vllm else None,
            )
            choices = sorted(resp.choices, key=lambda c: c.index)
            if len(choices) != len(chunk):
                raise OpenAIServerError(f"server returned {len(choices)} choices for {len(chunk)} prompts")
            out = []
            for k, ch in zip(chunk, choices):
                where = f"continuations[{k}]"
                lps, ents, _ = self._token_stats(ch.logprobs, len(prompt_ids[k]), len(cont_ids[k]), where)
                out.append((k, Scored(list(cont_ids[k]), lps, ents if entropy else [])))
            return out

        for part in self._map(one, chunks):
            for k, s in part:
                results[k] = s
        return results

    def _score_full_vocab(
        self, prompt_ids: list[list[int]], cont_ids: list[list[int]], todo: list[int], results: list[Scored]
    ) -> list[Scored]:
        """Exact entropies: one full-vocabulary next-token distribution per continuation position.

        Echo would return the full vocabulary for every *prompt* position too; here each
        position is its own one-token generation over prompt + continuation[:t] (the server's
        prefix cache shares the prompt), so only continuation positions cost a vocabulary.
        """
        positions = [(k, t) for k in todo for t in range(len(cont_ids[k]))]
        chunks = [positions[s : s + FULL_VOCAB_POSITIONS_PER_REQUEST] for s in range(0, len(positions), FULL_VOCAB_POSITIONS_PER_REQUEST)]

        def one(chunk: list[tuple[int, int]]) -> list[tuple[int, int, float, float]]:
            resp = self._call(
                f"continuations[{chunk[0][0]}] token {chunk[0][1]}",
                prompt=[prompt_ids[k] + cont_ids[k][:t] for k, t in chunk],
                max_tokens=1,
                temperature=0.0,
                logprobs=-1,
                extra_body={"return_tokens_as_token_ids": True},
            )
            choices = sorted(resp.choices, key=lambda c: c.index)
            out = []
            for (k, t), ch in zip(chunk, choices):
                top = (ch.logprobs.top_logprobs or [None])[0] if ch.logprobs else None
                want = f"token_id:{cont_ids[k][t]}"
                if not top or want not in top:
                    raise OpenAIServerError(
                        f"server returned no full-vocabulary logprobs for token {t} of continuations[{k}]: "
                        "start vLLM with --max-logprobs -1 for entropy='exact'"
                    )
                out.append((k, t, float(top[want]), measures.topk_entropy_lower_bound(list(top.values()))))
            return out

        per: dict[int, list[tuple[int, float, float]]] = {k: [] for k in todo}
        for part in self._map(one, chunks):
            for k, t, lp, h in part:
                per[k].append((t, lp, h))
        for k in todo:
            rows = sorted(per[k])
            results[k] = Scored(list(cont_ids[k]), [r[1] for r in rows], [r[2] for r in rows])
        return results

    def _next_token_logprobs(self, prompts: list[str], per_prompt: list[list[str]]) -> np.ndarray:
        flat_p = [p for i, p in enumerate(prompts) for _ in per_prompt[i]]
        flat_c = [c for row in per_prompt for c in row]
        scored = self.score(flat_p, flat_c, entropy=False)
        return np.array([s.sum_logprob for s in scored]).reshape(len(prompts), -1)

    # -- helpers ------------------------------------------------------------------------

    def _k(self) -> int:
        return -1 if self.entropy_mode == "exact" else self.top_logprobs

    def _xargs(self, processors: Sequence[Any] | None, typical_p: float) -> dict[str, Any]:
        from llminfo.models.vllm import _processor_extra_args

        xargs = _processor_extra_args(processors, typical_p)
        if xargs and not self.is_vllm:
            raise ValueError(
                "`processors` / `typical_p` on the openai backend need a vLLM server started with llminfo's "
                f"processors (they are sent as vllm_xargs); {self.base_url} is not a vLLM server"
            )
        return xargs

    def _served_model(self) -> dict[str, Any]:
        try:
            listed = self.client.models.list()
        except Exception as e:
            raise OpenAIServerError(describe_failure(e, self.base_url, "listing models")) from None
        models = {m.id: m.model_dump() for m in listed.data}
        if self.name not in models:
            raise ValueError(
                f"`model` {self.name!r} is not served at {self.base_url} (it serves: {', '.join(sorted(models)) or 'nothing'})"
            )
        return models[self.name]

    def _call(self, where: str, **kwargs: Any) -> Any:
        try:
            return self.client.completions.create(model=self.name, **kwargs)
        except Exception as e:
            raise OpenAIServerError(describe_failure(e, self.base_url, f"request for {where}")) from None

    def _map(self, fn: Callable[[Any], Any], jobs: Sequence[Any] | range) -> list[Any]:
        jobs = list(jobs)
        if len(jobs) <= 1 or self.max_concurrency == 1:
            return [fn(j) for j in jobs]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(jobs))) as pool:
            return list(pool.map(fn, jobs))

    def _token_stats(
        self, lp: Any, start: int, length: int | None, where: str
    ) -> tuple[list[float], list[float], list[int]]:
        """Per-token (logprob, entropy, token id) of positions [start, start + length)."""
        if lp is None or not lp.token_logprobs:
            raise OpenAIServerError(f"server returned no logprobs for {where}")
        end = len(lp.token_logprobs) if length is None else start + length
        if end > len(lp.token_logprobs):
            raise OpenAIServerError(f"server returned {len(lp.token_logprobs)} token logprobs for {where}, expected >= {end}")
        tops = lp.top_logprobs or []
        logprobs, ents, ids = [], [], []
        for t in range(start, end):
            value = lp.token_logprobs[t]
            if value is None:
                raise OpenAIServerError(f"server returned no logprob for token {t - start} of {where}")
            logprobs.append(float(value))
            top = tops[t] if t < len(tops) and tops[t] else {lp.tokens[t]: value}
            ents.append(measures.topk_entropy_lower_bound(list(top.values())))
            ids.append(self._token_id(lp.tokens[t]))
        return logprobs, ents, ids

    def _token_id(self, token: str) -> int:
        if token.startswith("token_id:"):
            return int(token.split(":", 1)[1])
        tid = self._tokenizer.convert_tokens_to_ids(token)
        return int(tid) if tid is not None else -1

