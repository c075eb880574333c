"""`HFModel`: the LanguageModel interface over transformers' `AutoModelForCausalLM`.

Generation is llminfo's own decode loop (not `model.generate`) so that, per step, the
entropy of the full next-token distribution and the chosen token's log-probability are
reduced to one float each while the step's logits are in hand: `(steps, vocab)` tensors
are never kept. Prompts are encoded once; their KV cache is repeated for the `n` samples
(generation) or the continuations that share them (scoring), and prompts that start alike
encode their common prefix once (scoring).

The decode loop (vectorised seeded sampling, compaction of finished rows, static cache) is
in `hf_decode`; the scoring internals (prefix groups, KV reuse) in `hf_score`. Three things
spare repeated work without changing a number: `generate_mixed` runs several sampling requests
(greedy answers, samples at different temperatures) on the same prompts in one decode loop;
the next `generate` on the same prompts starts from the last call's prompt cache; and on CPU,
grouped-query attention reads the shared key/value heads in place (`hf_attention`).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
import torch

from llminfo.models import hf_attention, hf_decode, hf_score
from llminfo.models.base import (
    HIDDEN_POOLS,
    Completion,
    ModelInfo,
    Scored,
    check_layers,
    validate_generate_args,
    validate_pairs,
)
from llminfo.models.tokenized import TokenizedLM

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Rows per forward when scoring: bounds the transient (rows, positions, vocab) logits.
_SCORE_ROWS = 16
# The last generate call's prompt cache is kept for the next call on the same prompts when
# it holds at most this many bytes.
PREFILL_MEMO_BYTES = 64 * 2**20
# `generate` encodes a prefix common to all its prompts once (a few-shot template, a chat
# system prompt) when it is at least this many tokens long.
SHARED_PREFIX_MIN = 16


class HFModel(TokenizedLM):
    """A transformers causal LM behind the `LanguageModel` interface.

    Args:
        model: a `PreTrainedModel` (causal LM), already on its device.
        tokenizer: its tokenizer.
        name (`str`, *optional*): display name.
        static_cache (`bool`, defaults to False): decode with a `StaticCache` sized to prompt +
            `max_new_tokens` (fixed shapes; finished rows are not dropped from the batch).
            Meant for GPUs, with `compile`.
        compile (`bool`, defaults to False): `torch.compile` the decode step (implies
            `static_cache`). Off by default: compiling costs more than it saves on CPU and for
            short generations.

    Example:
        >>> from llminfo.models import load_model
        >>> m = load_model("default")
        >>> [[c]] = m.generate([m.chat("What is the capital of France?")], temperature=0, max_new_tokens=8)
        >>> len(c.entropy) == len(c.logprobs) == len(c.token_ids), c.finish_reason
        (True, 'stop')
    """

    backend = "hf"
    # A Completion's `model_logprobs` and `entropy` are the raw model's at each generated
    # position, as `score` computes them: `SampleCache.score` may read them instead of scoring.
    generation_matches_score = True

    def __init__(
        self, model: Any, tokenizer: Any, name: str | None = None, *, static_cache: bool = False, compile: bool = False
    ):
        self.model = model.eval()
        self.static_cache = bool(static_cache or compile)
        self.compile = bool(compile)
        # Prompts sharing leading tokens encode them once in `score` (see `hf_score`).
        self.share_prefixes = True
        # `generate` on the same prompts as the last call starts from that call's prompt cache.
        self.reuse_prefill = True
        self._prefill_memo: tuple[tuple, Any, torch.Tensor] | None = None
        self.prefill_hits = 0  # for tests and benchmarks
        self.shared_prefix_prefills = 0  # generate calls that encoded their prompts' common prefix once
        self._compiled: Any = None
        self._tokenizer = tokenizer
        self.name = name or getattr(model.config, "name_or_path", None) or type(model).__name__
        # Inputs go where the embeddings are (the first device when `device_map` spreads the model).
        self.device = model.get_input_embeddings().weight.device
        cfg = model.config
        self.max_context = int(getattr(cfg, "max_position_embeddings", 0) or getattr(tokenizer, "model_max_length", 0) or 2048)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if self.pad_id is None:
            self.pad_id = 0
        eos = getattr(model.generation_config, "eos_token_id", None) if getattr(model, "generation_config", None) else None
        eos = eos if eos is not None else tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else []))

    @classmethod
    def from_pretrained(
        cls,
        path: str,
        *,
        dtype: str | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
        name: str | None = None,
        device_map: str | dict[str, Any] | None = None,
    ) -> "HFModel":
        """Load a local folder or hub id.

        Args:
            path: the model folder or hub id.
            dtype (`str`, *optional*): "float32" (default), "bfloat16", "float16" or "auto".
            device (`str`, *optional*): one device; default CUDA when available, else CPU.
            trust_remote_code (`bool`, defaults to False): passed to transformers.
            name (`str`, *optional*): display name.
            device_map (`str` or `dict`, *optional*): place the layers with accelerate instead of
                on one `device` — `"auto"` fills every GPU, then CPU memory, for models larger
                than one GPU (also "balanced", "sequential", or an explicit `{module: device}`).
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        if dtype is not None and dtype != "auto" and dtype not in _DTYPES:
            raise ValueError(f"`dtype` has to be one of auto, {', '.join(_DTYPES)}, got {dtype!r}")
        if device_map is not None and device is not None:
            raise ValueError("pass either `device` or `device_map`, not both")
        if device_map is not None and not isinstance(device_map, (str, dict)):
            raise TypeError(f"`device_map` has to be a string such as 'auto' or a dict, got {type(device_map).__name__}")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        placement = {"device_map": device_map} if device_map is not None else {}
        torch_dtype = "auto" if dtype == "auto" else _DTYPES.get(dtype or "float32")
        try:
            tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(
                path, dtype=torch_dtype, trust_remote_code=trust_remote_code, **placement
            )
        except OSError as e:
            raise FileNotFoundError(
                f"could not load model {path!r}: not a local model folder, and not loadable from the "
                f"Hugging Face hub (offline, or unknown id). Details: {str(e).splitlines()[0]}"
            ) from None
        model = model if device_map is not None else model.to(device)
        # CPU + grouped-query attention: read the shared key/value heads in place (same numbers).
        hf_attention.use_in_place_gqa(model)
        return cls(model, tok, name=name or path)

    # -- interface ----------------------------------------------------------------------

    def describe(self) -> ModelInfo:
        return ModelInfo.from_hf_config(
            self.model.config,
            name=self.name,
            backend=self.backend,
            max_context=self.max_context,
            num_parameters=int(sum(p.numel() for p in self.model.parameters())),
            dtype=str(self.model.dtype).replace("torch.", ""),
            device=str(self.device),
        )

    @torch.inference_mode()
    def _sample(
        self, encoded: list[list[int]], *, n: int, max_new_tokens: int, temperature: float, top_p: float, top_k: int,
        typical_p: float, seeds: list[int] | None, stop: list[str], processors: list[Any],
    ) -> list[list[Completion]]:
        kw = dict(n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
                  typical_p=typical_p, stop=stop, processors=processors)
        groups = self._prefix_groups(encoded, processors)
        if len(groups) > 1:  # prompts of several few-shot templates: one loop per template
            out: list[list[Completion]] = [[] for _ in encoded]
            for idx in groups:
                part = self._sample([encoded[i] for i in idx], seeds=None if seeds is None else [seeds[i] for i in idx], **kw)
                for i, comps in zip(idx, part):
                    out[i] = comps
            return out
        shared = self._shared_prefix_len(encoded) if self._can_share(processors) and len(encoded) > 1 else 0
        ids, mask = self._left_pad(encoded, shared)
        tok = self._tokenizer
        rows_out = hf_decode.decode(
            self.model, ids, mask, n=n, max_new_tokens=max_new_tokens, greedy=temperature == 0,
            # As in transformers' generate: user processors see the raw logits, then the warpers run.
            warpers=self._warpers(temperature, top_p, top_k, typical_p), processors=processors,
            keys=hf_decode.row_keys(seeds, n, len(encoded)), pad_id=self.pad_id, eos_ids=self.eos_ids,
            is_stopped=(lambda toks: _hits_stop(tok, toks, stop)) if stop else None,
            static_cache=self.static_cache, compiled_step=self._compiled_step(),
            prefilled=None if self.static_cache else self._prefill(encoded, ids, mask, shared),
        )
        return [[self._completion(rows_out, i * n + j, stop) for j in range(n)] for i in range(len(encoded))]

    def _can_share(self, processors: Sequence[Any]) -> bool:
        """Whether `generate` may encode a common prefix once: not with a static cache (fixed
        shapes) nor with user processors (they see the prompt ids, which would hold padding
        between the prefix and the rest)."""
        return self.share_prefixes and not self.static_cache and not processors

    def _shared_prefix_len(self, encoded: Sequence[Sequence[int]]) -> int:
        """Leading tokens every prompt shares, when there are at least SHARED_PREFIX_MIN of them
        (each prompt keeps one token of its own), else 0; 0 too when a prompt is longer than the
        model's sliding attention window (its cache then drops tokens as it is filled)."""
        window = getattr(self.model.config, "sliding_window", None)
        if isinstance(window, int) and window > 0 and max(len(e) for e in encoded) > window:
            return 0
        first, ell = encoded[0], min(len(e) for e in encoded) - 1
        for e in encoded[1:]:
            k = 0
            while k < ell and e[k] == first[k]:
                k += 1
            ell = k
        return ell if ell >= SHARED_PREFIX_MIN else 0

    def _prefix_groups(self, encoded: Sequence[Sequence[int]], processors: Sequence[Any]) -> list[list[int]]:
        """Indices of the prompts to decode together: all of them, or — when the prompts fall
        into several groups each sharing a prefix of SHARED_PREFIX_MIN tokens or more (several
        few-shot templates in one call) — one group per shared prefix, so each is encoded once."""
        everyone = [list(range(len(encoded)))]
        if not self._can_share(processors) or len(encoded) < 2 or self._shared_prefix_len(encoded):
            return everyone
        groups: dict[tuple, list[int]] = {}
        for i, e in enumerate(encoded):
            groups.setdefault(tuple(e[:SHARED_PREFIX_MIN]), []).append(i)
        parts = list(groups.values())
        if len(parts) < 2 or not all(len(g) > 1 and self._shared_prefix_len([encoded[i] for i in g]) for g in parts):
            return everyone
        return parts

    @torch.inference_mode()
    def generate_mixed(
        self,
        prompts: Sequence[str],
        requests: Sequence[tuple[Sequence[int], int, float, Sequence[int] | None]],
        *,
        max_new_tokens: int,
        stop: Sequence[str] | None = None,
    ) -> list[list[list[Completion]]]:
        """Several sampling requests on the same prompts in ONE decode loop.

        The greedy answers, semantic entropy's samples at T = 1 and iterative MI's at T = 0.9
        of the same questions are different requests, but a decode step reads every weight
        once whatever the number of rows: one loop over all rows costs much less than three.
        Each row gets the arithmetic of a `generate` call of its own (same seeded draws, same
        temperature division, same argmax), so the completions are those `generate` returns
        for each request (the forward of a larger batch may differ by float round-off, as any
        change of batch does).

        Args:
            prompts: the prompts (encoded once, a prefix they all share once; `generate`'s
                prompt cache reuse applies).
            requests: per request `(indices into prompts, n, temperature, seeds)`:
                temperature 0 is greedy; seeds one per listed prompt, or None (unseeded).
            max_new_tokens: for every request.
            stop (`list[str]`, *optional*): stop strings, for every request.
        Returns:
            per request, per listed prompt, `n` Completions.
        """
        prompts = validate_generate_args(prompts, 1, max_new_tokens, 1.0, 1.0, 0, 1.0)
        row_prompts: list[int] = []
        row_temps: list[float] = []
        keys: list[int] = []
        spans = []
        for r, (idx, n, temperature, seeds) in enumerate(requests):
            validate_generate_args([prompts[i] for i in idx], n, max_new_tokens, temperature, 1.0, 0, 1.0)
            if seeds is not None and len(seeds) != len(idx):
                raise ValueError(f"`requests[{r}]`: {len(seeds)} seeds for {len(idx)} prompts")
            start = len(row_prompts)
            for k, i in enumerate(idx):
                row_prompts += [i] * n
                row_temps += [float(temperature)] * n
                keys += hf_decode.row_keys(None if seeds is None else [int(seeds[k])], n, 1)
            spans.append((start, len(idx), n))
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        if self.static_cache:  # fixed shapes: one call per request
            return [self.generate([prompts[i] for i in idx], n=n, max_new_tokens=max_new_tokens, temperature=temperature,
                                  seed=None if seeds is None else list(seeds), stop=stop)
                    for idx, n, temperature, seeds in requests]
        encoded = self.encode_for_generation(prompts, max_new_tokens)
        shared = self._shared_prefix_len(encoded) if self._can_share(()) and len(encoded) > 1 else 0
        ids, mask = self._left_pad(encoded, shared)
        tok = self._tokenizer
        rows_out = hf_decode.decode(
            self.model, ids, mask, n=1, max_new_tokens=max_new_tokens, greedy=False, warpers=[], processors=[],
            keys=keys, pad_id=self.pad_id, eos_ids=self.eos_ids,
            is_stopped=(lambda toks: _hits_stop(tok, toks, stop)) if stop else None,
            prefilled=self._prefill(encoded, ids, mask, shared), row_prompts=row_prompts, row_temperatures=row_temps,
        )
        return [
            [[self._completion(rows_out, start + k * n + j, stop) for j in range(n)] for k in range(count)]
            for start, count, n in spans
        ]

    def _completion(self, rows_out: hf_decode.RowOutputs, r: int, stop: list[str]) -> Completion:
        """Row r of the decode loop as a Completion (text without EOS, cut at a stop string)."""
        toks = rows_out.tokens[r]
        text_toks = toks[:-1] if toks and toks[-1] in self.eos_ids else toks
        text = self._tokenizer.decode(text_toks, skip_special_tokens=True)
        if rows_out.finish[r] == "stop" and stop:
            text = _cut_at_stop(text, stop)
        return Completion(text=text, token_ids=toks, logprobs=rows_out.logprobs[r], entropy=rows_out.entropy[r],
                          finish_reason=rows_out.finish[r], model_logprobs=rows_out.model_logprobs[r])

    @torch.inference_mode()
    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        prompts, continuations = validate_pairs(prompts, continuations)
        groups: OrderedDict[str, list[int]] = OrderedDict()
        for k, p in enumerate(prompts):
            groups.setdefault(p, []).append(k)
        prompt_ids, cont_ids = self.encode_pairs(prompts, continuations)
        results: list[Scored | None] = [None] * len(prompts)
        unique = list(groups)
        uids = [prompt_ids[p] for p in unique]
        shared_prefix = self.share_prefixes and any(ell and len(m) > 1 for ell, m in hf_score.plan_prefix_groups(uids))
        if all(len(ks) == 1 for ks in groups.values()) and not shared_prefix:
            # No prompt or prefix is shared: one forward over prompt+continuation per batch is cheapest.
            for start in range(0, len(prompts), _SCORE_ROWS):
                ks = list(range(start, min(start + _SCORE_ROWS, len(prompts))))
                scored = self._score_plain([prompt_ids[prompts[k]] for k in ks], [cont_ids[k] for k in ks], entropy)
                for k, s in zip(ks, scored):
                    results[k] = s
            return results  # type: ignore[return-value]
        pairs = [(u, k) for u, p in enumerate(unique) for k in groups[p]]
        scored = hf_score.score_shared(
            self.model, uids, [(u, cont_ids[k]) for u, k in pairs], self.pad_id, self.device, entropy,
            share_prefixes=self.share_prefixes,
        )
        for (_u, k), s in zip(pairs, scored):
            results[k] = s
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def _next_token_logprobs(self, prompts: list[str], per_prompt: list[list[str]]) -> np.ndarray:
        cand_ids = self.candidate_ids(per_prompt)
        if all(len(t) == 1 for t in cand_ids.values()):
            # Read the candidates' first-token logprobs off each prompt's last logits: identical
            # prompts (EDFL's skeletons often equal the full prompt) are encoded once, prompts
            # sharing a prefix encode it once (as in `score`), and no candidate token is forwarded.
            encoded: dict[str, list[int]] = {}
            for i, p in enumerate(prompts):
                if p not in encoded:
                    encoded[p] = self.encode_prompt(p, f"prompts[{i}]", allow_empty=True)
            row = {p: u for u, p in enumerate(encoded)}
            pairs = [(row[p], cand_ids[c]) for p, cands in zip(prompts, per_prompt) for c in cands]
            scored = hf_score.score_shared(
                self.model, list(encoded.values()), pairs, self.pad_id, self.device, entropy=False,
                share_prefixes=self.share_prefixes,
            )
            return np.array([s.logprobs[0] for s in scored], dtype=np.float64).reshape(len(prompts), -1)
        return self.score_candidates(prompts, per_prompt)

    @torch.inference_mode()
    def hidden_states(
        self, prompts: Sequence[str], continuations: Sequence[str], layers: Sequence[int], *, pool: str = "mean"
    ) -> np.ndarray:
        prompts, continuations = validate_pairs(prompts, continuations)
        layers = check_layers(layers, self.model.config)
        if pool not in HIDDEN_POOLS:
            raise ValueError(f"`pool` has to be one of {HIDDEN_POOLS}, got {pool!r}")
        prompt_ids, cont_ids = self.encode_pairs(prompts, continuations)
        out = []
        for start in range(0, len(prompts), _SCORE_ROWS):
            ks = range(start, min(start + _SCORE_ROWS, len(prompts)))
            seqs = [prompt_ids[prompts[k]] + cont_ids[k] for k in ks]
            ids, mask = self._left_pad(seqs)
            hs = _hidden_states(self.model, ids, mask, layers)
            h = torch.stack([hs[layer] for layer in layers], dim=1).float()  # (rows, L, T, D)
            width = ids.shape[1]
            for r, k in enumerate(ks):
                n = len(cont_ids[k])
                if pool == "last" or n == 0:
                    out.append(h[r, :, width - 1])
                else:
                    out.append(h[r, :, width - n :].mean(dim=1))
        return torch.stack(out).cpu().numpy()

    def clear_prefill_cache(self) -> None:
        """Forget the kept prompt cache of the last `generate` call (e.g. between timings)."""
        self._prefill_memo = None

    # -- helpers ------------------------------------------------------------------------

    def _prefill(self, encoded: list[list[int]], ids: torch.Tensor, mask: torch.Tensor, shared: int = 0) -> tuple[Any, torch.Tensor]:
        """The prompts' cache and last logits: the last call's when it had the same prompts
        (same batch, so the same tensors), else a fresh `hf_decode.prefill` — which encodes the
        `shared` leading tokens of every prompt once (`_left_pad(encoded, shared)` layout) —
        kept for the next call when it is small (`PREFILL_MEMO_BYTES`)."""
        key = (shared, tuple(tuple(e) for e in encoded))
        memo = self._prefill_memo
        if self.reuse_prefill and memo is not None and memo[0] == key:
            cache = hf_decode.fork_cache(memo[1])
            if cache is not None:
                self.prefill_hits += 1
                return cache, memo[2].clone()
        cache, logits = hf_decode.prefill(self.model, ids, mask, shared)
        if shared:
            self.shared_prefix_prefills += 1
        self._prefill_memo = None
        if self.reuse_prefill:
            kept = hf_decode.fork_cache(cache)
            if kept is not None and hf_decode.cache_bytes(kept) <= PREFILL_MEMO_BYTES:
                self._prefill_memo = (key, kept, logits.clone())
        return cache, logits

    def _left_pad(self, seqs: Sequence[Sequence[int]], shared: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows, width) ids and attention mask, each sequence right-aligned; with `shared`
        leading tokens common to all, those stay in the first `shared` columns and the padding
        goes between them and the rest ([prefix][pads][own tokens]: the positions, from the
        mask, are those of the sequence alone)."""
        width = shared + max(len(s) - shared for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        if shared:
            ids[:, :shared] = torch.tensor(seqs[0][:shared])
            mask[:, :shared] = 1
        for r, s in enumerate(seqs):
            if len(s) > shared:
                ids[r, width - len(s) + shared :] = torch.tensor(s[shared:])
                mask[r, width - len(s) + shared :] = 1
        return ids.to(self.device), mask.to(self.device)

    def _score_plain(self, prompt_ids: list[list[int]], cont_ids: list[list[int]], entropy: bool = True) -> list[Scored]:
        """One forward over prompt+continuation, left-padded; only the last positions' logits."""
        seqs = [p + c for p, c in zip(prompt_ids, cont_ids)]
        ids, mask = self._left_pad(seqs)
        keep = max(len(c) for c in cont_ids) + 1
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask), logits_to_keep=keep).logits
        # logits[:, j] predicts token at position (width - keep + j + 1); continuations end at width.
        # One vectorised pass over all rows: logprobs of the targets and per-position entropies.
        logits = logits[:, :-1]
        targets = torch.full(logits.shape[:2], 0, dtype=torch.long, device=self.device)
        for r, c in enumerate(cont_ids):
            if c:
                targets[r, keep - 1 - len(c) :] = torch.tensor(c)
        lp, ent = hf_score.token_logprobs_and_entropy(logits, targets, entropy)
        lp, ent = lp.tolist(), ent.tolist()
        return [
            Scored(list(c), lp[r][keep - 1 - len(c) :], ent[r][keep - 1 - len(c) :]) if c else Scored([], [], [])
            for r, c in enumerate(cont_ids)
        ]

    def _compiled_step(self) -> Any:
        """The compiled forward used for decode steps (built once), or None."""
        if not self.compile:
            return None
        if self._compiled is None:
            # Decode steps have fixed shapes with the static cache: one graph, CUDA graphs on GPU.
            mode = "reduce-overhead" if self.device.type == "cuda" else None
            self._compiled = torch.compile(self.model.forward, mode=mode, fullgraph=False, dynamic=False)
        return self._compiled

    def _warpers(self, temperature: float, top_p: float, top_k: int, typical_p: float) -> list[Any]:
        if temperature == 0:
            return []
        from transformers.generation.logits_process import (
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        warpers: list[Any] = []
        if temperature != 1.0:
            warpers.append(TemperatureLogitsWarper(float(temperature)))
        if top_k:
            warpers.append(TopKLogitsWarper(int(top_k)))
        if typical_p < 1.0:
            warpers.append(_typical_processor(typical_p))
        if top_p < 1.0:
            warpers.append(TopPLogitsWarper(float(top_p)))
        return warpers


def _typical_processor(typical_p: float) -> Any:
    from llminfo.processors.typical import LocallyTypicalLogitsProcessor

    return LocallyTypicalLogitsProcessor(float(typical_p))


class _StopForward(Exception):
    """Raised by a hook once the hidden states asked for are captured: the rest of the model
    (the later blocks, the final norm, the LM head) never runs."""


def _hidden_states(model: Any, ids: torch.Tensor, mask: torch.Tensor, layers: list[int]) -> dict[int, torch.Tensor]:
    """{layer: (rows, T, D) hidden states} as transformers' `output_hidden_states` numbers them.

    Hidden state l < num_layers is the input of decoder block l: forward pre-hooks capture it
    and the forward stops at block max(layers), so a probe on layer 10 of 30 costs a third of a
    forward. The last layer (final norm applied) or a model whose blocks are not found takes
    one full forward with `output_hidden_states`.
    """
    blocks = getattr(getattr(model, "get_decoder", lambda: None)(), "layers", None)
    if blocks is None or max(layers) >= len(blocks):
        hs = model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask),
                   output_hidden_states=True, logits_to_keep=1).hidden_states
        return {layer: hs[layer] for layer in layers}
    captured: dict[int, torch.Tensor] = {}
    top = max(layers)

    def hook(layer: int):
        def capture(_module: Any, args: tuple, kwargs: dict) -> None:
            captured[layer] = args[0] if args else kwargs["hidden_states"]
            if layer == top:
                raise _StopForward
        return capture

    handles = [blocks[layer].register_forward_pre_hook(hook(layer), with_kwargs=True) for layer in sorted(set(layers))]
    try:
        model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask), use_cache=False, logits_to_keep=1)
    except _StopForward:
        pass
    finally:
        for h in handles:
            h.remove()
    return captured


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(dim=1) - 1).clamp(min=0)


def _hits_stop(tokenizer: Any, toks: list[int], stop: list[str]) -> bool:
    # Decode only a tail long enough to contain any stop string.
    tail = tokenizer.decode(toks[-(max(len(s) for s in stop) + 8) :], skip_special_tokens=True)
    return any(s in tail for s in stop)


def _cut_at_stop(text: str, stop: list[str]) -> str:
    cut = min((text.find(s) for s in stop if s in text), default=-1)
    return text[:cut] if cut >= 0 else text


warnings.filterwarnings("ignore", message=".*generation flags are not valid.*")
