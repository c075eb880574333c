"""`HFModel`: the LanguageModel interface over transformers' `AutoModelForCausalLM`.

Generation is llminfo's own decode loop (not `model.generate`) so that, per step, the
entropy of the full next-token distribution and the chosen token's log-probability are
reduced to one float each while the step's logits are in hand: `(steps, vocab)` tensors
are never kept. Prompts are encoded once; their KV cache is repeated for the `n` samples
(generation) or the continuations that share them (scoring).
"""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
import torch

from llminfo import measures
from llminfo.models.base import (
    Completion,
    ModelInfo,
    Scored,
    check_prompts,
    normalize_candidates,
    per_prompt_seeds,
    validate_generate_args,
    validate_pairs,
)
from llminfo.models.tokenized import TokenizedLM

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Rows per forward when scoring: bounds the transient (rows, positions, vocab) logits.
_SCORE_ROWS = 16


class HFModel(TokenizedLM):
    """A transformers causal LM behind the `LanguageModel` interface.

    Args:
        model: a `PreTrainedModel` (causal LM), already on its device.
        tokenizer: its tokenizer.
        name (`str`, *optional*): display name.

    Example:
        >>> from llminfo.models import load_model
        >>> m = load_model("default")
        >>> [[c]] = m.generate([m.chat("What is the capital of France?")], temperature=0, max_new_tokens=8)
        >>> len(c.entropy) == len(c.logprobs) == len(c.token_ids), c.finish_reason
        (True, 'stop')
    """

    backend = "hf"

    def __init__(self, model: Any, tokenizer: Any, name: str | None = None):
        self.model = model.eval()
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
        return cls(model if device_map is not None else model.to(device), tok, name=name or path)

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
        # As in transformers' generate: user processors see the raw logits, then the warpers run.
        warpers = list(processors or []) + self._warpers(temperature, top_p, top_k, typical_p)
        rows = len(prompts) * n
        gens = _row_generators(seed, len(prompts), n, self.device)

        ids, mask = self._left_pad(encoded)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask), use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        logits = out.logits[:, -1, :]
        if n > 1:  # every sample of a prompt reuses the prompt's KV cache
            cache.batch_repeat_interleave(n)
            logits = logits.repeat_interleave(n, dim=0)
            ids = ids.repeat_interleave(n, dim=0)
            mask = mask.repeat_interleave(n, dim=0)

        generated: list[list[int]] = [[] for _ in range(rows)]
        logprobs: list[list[float]] = [[] for _ in range(rows)]
        model_logprobs: list[list[float]] = [[] for _ in range(rows)]
        entropies: list[list[float]] = [[] for _ in range(rows)]
        finish = ["length"] * rows
        active = torch.ones(rows, dtype=torch.bool, device=self.device)
        seq = ids
        for _step in range(max_new_tokens):
            raw = torch.log_softmax(logits.float(), dim=-1)
            ent = measures.entropy_from_logprobs(raw)
            scores = logits.float()
            for proc in warpers:
                scores = proc(seq, scores)
            if temperature == 0:
                next_tok = scores.argmax(dim=-1)
            else:
                probs = torch.softmax(scores, dim=-1)
                next_tok = torch.empty(rows, dtype=torch.long, device=self.device)
                for r in range(rows):
                    if active[r]:
                        next_tok[r] = torch.multinomial(probs[r], 1, generator=gens[r])[0]
                    else:
                        next_tok[r] = self.pad_id
            next_tok = torch.where(active, next_tok, torch.full_like(next_tok, self.pad_id))
            chosen_lp = torch.log_softmax(scores, dim=-1).gather(1, next_tok[:, None])[:, 0]
            chosen_raw = raw.gather(1, next_tok[:, None])[:, 0]
            tok_list = next_tok.tolist()
            for r in torch.nonzero(active).flatten().tolist():
                t = tok_list[r]
                generated[r].append(t)
                logprobs[r].append(float(chosen_lp[r]))
                model_logprobs[r].append(float(chosen_raw[r]))
                entropies[r].append(float(ent[r]))
                if t in self.eos_ids:
                    finish[r] = "stop"
                    active[r] = False
                elif stop and _hits_stop(self._tokenizer, generated[r], stop):
                    finish[r] = "stop"
                    active[r] = False
            if not bool(active.any()) or _step == max_new_tokens - 1:
                break
            mask = torch.cat([mask, active[:, None].long()], dim=1)
            seq = torch.cat([seq, next_tok[:, None]], dim=1)
            pos = (mask.sum(dim=1, keepdim=True) - 1).clamp(min=0)
            out = self.model(
                input_ids=next_tok[:, None], attention_mask=mask, position_ids=pos, past_key_values=cache, use_cache=True
            )
            cache = out.past_key_values
            logits = out.logits[:, -1, :]

        results: list[list[Completion]] = []
        for i in range(len(prompts)):
            row_results = []
            for j in range(n):
                r = i * n + j
                toks = generated[r]
                if toks and toks[-1] in self.eos_ids:
                    text_toks = toks[:-1]
                else:
                    text_toks = toks
                text = self._tokenizer.decode(text_toks, skip_special_tokens=True)
                if finish[r] == "stop" and stop:
                    text = _cut_at_stop(text, stop)
                row_results.append(
                    Completion(
                        text=text,
                        token_ids=toks,
                        logprobs=logprobs[r],
                        entropy=entropies[r],
                        finish_reason=finish[r],
                        model_logprobs=model_logprobs[r],
                    )
                )
            results.append(row_results)
        return results

    @torch.inference_mode()
    def score(self, prompts: Sequence[str], continuations: Sequence[str], *, entropy: bool = True) -> list[Scored]:
        prompts, continuations = validate_pairs(prompts, continuations)
        groups: OrderedDict[str, list[int]] = OrderedDict()
        for k, p in enumerate(prompts):
            groups.setdefault(p, []).append(k)
        prompt_ids, cont_ids = self.encode_pairs(prompts, continuations)
        results: list[Scored | None] = [None] * len(prompts)
        if all(len(ks) == 1 for ks in groups.values()):
            # No prompt is shared: one forward over prompt+continuation per batch is cheapest.
            for start in range(0, len(prompts), _SCORE_ROWS):
                ks = list(range(start, min(start + _SCORE_ROWS, len(prompts))))
                scored = self._score_plain([prompt_ids[prompts[k]] for k in ks], [cont_ids[k] for k in ks], entropy)
                for k, s in zip(ks, scored):
                    results[k] = s
            return results  # type: ignore[return-value]
        unique = list(groups)
        for start in range(0, len(unique), _SCORE_ROWS):
            chunk = unique[start : start + _SCORE_ROWS]
            pairs = [(u, k) for u, p in enumerate(chunk) for k in groups[p]]
            scored = self._score_shared([prompt_ids[p] for p in chunk], [(u, cont_ids[k]) for u, k in pairs], entropy)
            for (_u, k), s in zip(pairs, scored):
                results[k] = s
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def next_token_logprobs(
        self, prompts: Sequence[str], candidates: Sequence[str] | Sequence[Sequence[str]]
    ) -> np.ndarray:
        prompts = check_prompts(prompts, "prompts", allow_empty_strings=True)
        per_prompt = normalize_candidates(candidates, len(prompts))
        cand_ids = self.candidate_ids(per_prompt)
        if all(len(t) == 1 for t in cand_ids.values()):
            # One forward per prompt batch: read the candidates' first-token logprobs.
            out = np.empty((len(prompts), len(per_prompt[0])))
            encoded = [self.encode_prompt(p, f"prompts[{i}]", allow_empty=True) for i, p in enumerate(prompts)]
            for start in range(0, len(prompts), _SCORE_ROWS):
                ids, mask = self._left_pad(encoded[start : start + _SCORE_ROWS])
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask), logits_to_keep=1).logits[:, -1, :]
                logp = torch.log_softmax(logits.float(), dim=-1)
                idx = torch.tensor([[cand_ids[c][0] for c in per_prompt[i]] for i in range(start, start + len(ids))], device=self.device)
                out[start : start + len(ids)] = logp.gather(1, idx).cpu().double().numpy()
            return out
        return self.score_candidates(prompts, per_prompt)

    # -- helpers ------------------------------------------------------------------------

    def _left_pad(self, seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            if s:
                ids[r, width - len(s) :] = torch.tensor(s)
                mask[r, width - len(s) :] = 1
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
        lp, ent = _token_logprobs_and_entropy(logits, targets, entropy)
        lp, ent = lp.tolist(), ent.tolist()
        return [
            Scored(list(c), lp[r][keep - 1 - len(c) :], ent[r][keep - 1 - len(c) :]) if c else Scored([], [], [])
            for r, c in enumerate(cont_ids)
        ]

    def _score_shared(
        self, prompts: list[list[int]], pairs: list[tuple[int, list[int]]], entropy: bool = True
    ) -> list[Scored]:
        """Encode each prompt once (one batched forward); run every continuation on its prompt's KV cache.

        pairs: (index into `prompts`, continuation ids).
        """
        ids, pmask = self._left_pad(prompts)
        first = self.model(input_ids=ids, attention_mask=pmask, position_ids=_positions(pmask), use_cache=True, logits_to_keep=1)
        last = first.logits[:, -1]
        plen = pmask.sum(dim=1)
        results: list[Scored] = []
        for start in range(0, len(pairs), _SCORE_ROWS):
            chunk = pairs[start : start + _SCORE_ROWS]
            width = max(len(c) for _u, c in chunk) - 1
            if width <= 0:  # single-token continuations: the prompts' last logits suffice
                results += [_scored_from_logits(last[u][None], c, entropy) if c else Scored([], [], []) for u, c in chunk]
                continue
            rows = torch.tensor([u for u, _c in chunk], device=self.device)
            cache = copy.deepcopy(first.past_key_values)
            cache.batch_select_indices(rows)
            inp = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
            cmask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, (_u, c) in enumerate(chunk):
                if len(c) > 1:
                    inp[r, : len(c) - 1] = torch.tensor(c[:-1])
                    cmask[r, : len(c) - 1] = 1
            mask = torch.cat([pmask[rows], cmask.to(self.device)], dim=1)
            pos = plen[rows, None] + torch.arange(width, device=self.device)[None]
            logits = self.model(
                input_ids=inp.to(self.device), attention_mask=mask, position_ids=pos, past_key_values=cache, use_cache=True
            ).logits
            # Position 0 is predicted by the prompt's last logits, the rest by the continuation forward.
            full = torch.cat([last[rows][:, None], logits[:, : width]], dim=1)
            targets = torch.zeros(full.shape[:2], dtype=torch.long, device=self.device)
            for r, (_u, c) in enumerate(chunk):
                if c:
                    targets[r, : len(c)] = torch.tensor(c)
            lp, ent = _token_logprobs_and_entropy(full, targets, entropy)
            lp, ent = lp.tolist(), ent.tolist()
            results += [Scored(list(c), lp[r][: len(c)], ent[r][: len(c)]) for r, (_u, c) in enumerate(chunk)]
        return results

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


def _token_logprobs_and_entropy(
    logits: torch.Tensor, targets: torch.Tensor, entropy: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """logits (..., vocab), targets (...) → log p(target) and entropy, both (...).

    Without entropy, log p = logit − logsumexp: no (..., vocab) log-softmax is materialised.
    The entropy is then an empty (..., 0) tensor, so per-row `.tolist()` slices are empty lists.
    """
    logits = logits.float()
    if not entropy:
        lp = logits.gather(-1, targets[..., None])[..., 0] - torch.logsumexp(logits, dim=-1)
        return lp, torch.empty(*lp.shape[:-1], 0, device=lp.device)
    logp = torch.log_softmax(logits, dim=-1)
    lp = logp.gather(-1, targets[..., None])[..., 0]
    return lp, measures.entropy_from_logprobs(logp)


def _scored_from_logits(rows: torch.Tensor, tokens: list[int], entropy: bool = True) -> Scored:
    """rows: (len(tokens), vocab) logits predicting each token."""
    lp, ent = _token_logprobs_and_entropy(rows, torch.tensor(tokens, device=rows.device), entropy)
    return Scored(token_ids=list(tokens), logprobs=lp.tolist(), entropy=ent.tolist())


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(dim=1) - 1).clamp(min=0)


def _row_generators(seed: int | Sequence[int] | None, num_prompts: int, n: int, device: torch.device) -> list[torch.Generator]:
    """One generator per (prompt, sample): sample j's stream depends only on (the prompt's seed, j)."""
    seeds = per_prompt_seeds(seed, num_prompts) or [int(torch.randint(0, 2**31 - 1, (1,)).item())] * num_prompts
    gens = []
    for i in range(num_prompts):
        for j in range(n):
            g = torch.Generator(device=device)
            g.manual_seed((seeds[i] * 1_000_003 + j) % (2**63 - 1))
            gens.append(g)
    return gens


def _hits_stop(tokenizer: Any, toks: list[int], stop: list[str]) -> bool:
    # Decode only a tail long enough to contain any stop string.
    tail = tokenizer.decode(toks[-(max(len(s) for s in stop) + 8) :], skip_special_tokens=True)
    return any(s in tail for s in stop)


def _cut_at_stop(text: str, stop: list[str]) -> str:
    cut = min((text.find(s) for s in stop if s in text), default=-1)
    return text[:cut] if cut >= 0 else text


warnings.filterwarnings("ignore", message=".*generation flags are not valid.*")
