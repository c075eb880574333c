"""`HFModel`'s decode loop: vectorised seeded sampling, batch compaction, preallocated buffers.

Per step, the entropy of the full next-token distribution and the chosen token's
log-probabilities are reduced to one float each while the step's logits are in hand
(`(steps, vocab)` tensors are never kept), and one small `(rows, 4)` tensor crosses to the
host.

**Seeded sampling.** Row r (sample j of a prompt) draws its t-th token by inverting the CDF
of its processed distribution at one uniform u(key_j, t) from a counter-based generator
(SplitMix64 of the row key and the step): no `torch.Generator` per row, one vectorised
`searchsorted` for the whole batch, and a row's tokens depend only on (seed, j, its own
history) — not on which other prompts share the call, nor on rows dropped from the batch.

**Compaction.** Rows that finished (EOS or a stop string) are dropped from the batch and
the KV cache (`DynamicCache.batch_select_indices`) once they are a quarter of the batch, so
short answers stop costing compute. Not with user `processors`: those may keep per-row
state (e.g. `EntropyHaltingProcessor`), as transformers' `generate` never reorders rows;
there, finished rows are fed padding as before.

**Prompt reuse across calls.** `prefill` encodes the prompts; `HFModel` keeps the last
batch's cache and logits (`fork_cache`) so a call on the same prompts — the greedy answers,
then semantic entropy's and iterative MI's samples of the same questions — starts from them:
the same tensors a fresh prefill computes, bit for bit.

**Static cache + `torch.compile`** (opt-in, meant for GPUs): a `StaticCache` sized to
prompt + `max_new_tokens` and a compiled decode step of fixed shapes. No compaction on that
path (shapes stay fixed). Same tokens as the dynamic path up to kernel round-off.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from llminfo import measures

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
# Compact the batch once this fraction of its rows has finished (a cache copy costs about
# as much as a few decode steps of the rows it drops).
COMPACT_FRACTION = 0.25


def _splitmix64(x: int) -> int:
    """SplitMix64 finaliser (Steele, Lea and Flood, OOPSLA 2014): a 64-bit bijective mixer."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def row_keys(seeds: Sequence[int] | None, n: int, num_prompts: int = 0) -> list[int]:
    """One 64-bit key per (prompt, sample) row: sample j's key depends only on (its prompt's
    seed, j). `seeds`: one per prompt (`per_prompt_seeds`), or None for one random seed shared
    by `num_prompts` prompts."""
    if seeds is None:
        seeds = [int(torch.randint(0, 2**31 - 1, (1,)).item())] * num_prompts
    return [_splitmix64(int(s) * 1_000_003 + j) for s in seeds for j in range(n)]


def row_uniforms(keys: Sequence[int], step: int) -> list[float]:
    """u(key, step) in [0, 1): 53 bits of SplitMix64(key + (step + 1)·φ), counter-based."""
    return [(_splitmix64(k + (step + 1) * _GOLDEN) >> 11) * 2.0**-53 for k in keys]


def sample_from_probs(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling, one uniform per row: the first token whose cumulative mass
    exceeds u · total. Tokens of probability 0 are never chosen.

    Args:
        probs: (rows, vocab) non-negative weights (need not sum to 1).
        uniforms: (rows,) float64 in [0, 1).
    Returns:
        (rows,) long token ids.
    """
    # float32 cumulative mass, like torch.multinomial's; adding non-negative terms keeps it
    # non-decreasing, and the target stays strictly below the total.
    cdf = probs.float().cumsum(dim=-1)
    total = cdf[:, -1:]
    target = (uniforms[:, None] * total.double()).float()
    target = torch.minimum(target, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, target, right=True)[:, 0].clamp_(max=probs.shape[-1] - 1)


@dataclass
class RowOutputs:
    """Per-row results of the decode loop, in the original row order."""

    tokens: list[list[int]]
    logprobs: list[list[float]]
    model_logprobs: list[list[float]]
    entropy: list[list[float]]
    finish: list[str] = field(default_factory=list)


def decode(
    model: Any,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    *,
    n: int,
    max_new_tokens: int,
    greedy: bool,
    warpers: Sequence[Callable],
    processors: Sequence[Callable],
    keys: Sequence[int],
    pad_id: int,
    eos_ids: set[int],
    is_stopped: Callable[[list[int]], bool] | None = None,
    static_cache: bool = False,
    compiled_step: Callable | None = None,
    prefilled: tuple[Any, torch.Tensor] | None = None,
    row_prompts: Sequence[int] | None = None,
    row_temperatures: Sequence[float] | None = None,
) -> RowOutputs:
    """Run the decode loop of `HFModel.generate` (see the module docstring).

    Args:
        model: the transformers causal LM.
        prompt_ids, prompt_mask: (prompts, width) left-padded prompt ids and attention mask.
        n: samples per prompt (rows = prompts · n; a prompt's KV cache is computed once).
        greedy: argmax instead of sampling.
        warpers: temperature/top-k/typical/top-p processors, applied after `processors`.
        processors: user processors `(input_ids, scores) -> scores`, on the raw logits.
        keys: one sampling key per row (`row_keys`).
        is_stopped: a row's generated ids → whether a stop string was reached.
        static_cache: use a `StaticCache` (no compaction).
        compiled_step: a compiled `model.forward` for the decode steps (static cache only).
        prefilled: `(cache, last logits)` of the prompts as `prefill` returns them, to start
            from instead of encoding the prompts (dynamic cache only; the cache is consumed).
        row_prompts, row_temperatures: several sampling requests in one loop (`n` is then
            ignored): row r continues prompt `row_prompts[r]` at temperature
            `row_temperatures[r]` (0 = greedy). Each row gets exactly the arithmetic of a call
            of its own (logits / T, the same log-softmax, inverse-CDF draw and argmax); no
            `warpers` or `processors`, dynamic cache only.
    """
    device = prompt_ids.device
    prompts, width = prompt_ids.shape
    mixed = row_temperatures is not None
    if mixed and (warpers or processors or static_cache or greedy or row_prompts is None
                  or len(row_prompts) != len(row_temperatures)):
        raise ValueError("per-row temperatures take `row_prompts` of the same length, no warpers, processors or static cache")
    rows = len(row_prompts) if mixed else prompts * n  # type: ignore[arg-type]
    total = width + max_new_tokens
    out = RowOutputs([[] for _ in range(rows)], [[] for _ in range(rows)], [[] for _ in range(rows)], [[] for _ in range(rows)])
    out.finish = ["length"] * rows
    if max_new_tokens == 0:
        return out

    if static_cache:
        from transformers import StaticCache

        # Fixed shapes: every row is in the batch from the prefill on.
        prompt_ids = prompt_ids.repeat_interleave(n, dim=0)
        prompt_mask = prompt_mask.repeat_interleave(n, dim=0)
        cache: Any = StaticCache(config=model.config, max_cache_len=total)
        mask_buf = torch.zeros((rows, total), dtype=prompt_mask.dtype, device=device)
        mask_buf[:, :width] = prompt_mask
        first = model(input_ids=prompt_ids, attention_mask=mask_buf, position_ids=_positions(prompt_mask),
                      past_key_values=cache, use_cache=True, logits_to_keep=1)
        logits = first.logits[:, -1, :].to(device)  # the last device under a device_map
        del first
    else:
        cache, logits = prefilled if prefilled is not None else prefill(model, prompt_ids, prompt_mask)
        if mixed:  # each row starts from its prompt's KV cache
            src = torch.tensor(list(row_prompts), device=device)  # type: ignore[arg-type]
            cache.batch_select_indices(src)
            logits, prompt_ids, prompt_mask = logits[src], prompt_ids[src], prompt_mask[src]
        elif n > 1:  # every sample of a prompt reuses the prompt's KV cache
            cache.batch_repeat_interleave(n)
            logits = logits.repeat_interleave(n, dim=0)
            prompt_ids = prompt_ids.repeat_interleave(n, dim=0)
            prompt_mask = prompt_mask.repeat_interleave(n, dim=0)
        mask_buf = torch.zeros((rows, total), dtype=prompt_mask.dtype, device=device)
        mask_buf[:, :width] = prompt_mask
    need_seq = bool(processors) or bool(warpers)
    seq_buf = None
    if need_seq:
        seq_buf = torch.full((rows, total), pad_id, dtype=torch.long, device=device)
        seq_buf[:, :width] = prompt_ids
    pos = prompt_mask.sum(dim=1, keepdim=True)  # next position of each row
    compact = not processors and not static_cache
    live = list(range(rows))  # original row of each batch row
    live_keys = list(keys)
    active = torch.ones(len(live), dtype=torch.bool, device=device)  # only without compaction
    done = [False] * rows
    pad = torch.tensor(pad_id, device=device)
    if mixed:
        temps = torch.tensor([t if t > 0 else 1.0 for t in row_temperatures], dtype=torch.float32, device=device)[:, None]  # type: ignore[union-attr]
        argmax_rows = torch.tensor([t == 0 for t in row_temperatures], dtype=torch.bool, device=device)  # type: ignore[union-attr]

    for step in range(max_new_tokens):
        cur = width + step
        raw = torch.log_softmax(logits.float(), dim=-1)
        raw_p = raw.exp()
        ent = measures.entropy_from_logprobs(raw, probs=raw_p)
        scores = logits
        seq = seq_buf[:, :cur] if seq_buf is not None else None
        for proc in list(processors) + list(warpers):
            scores = proc(seq, scores.float() if scores is logits else scores)
        if mixed:
            # As a call of its own: T = 1 leaves the logits as they are (x / 1.0 == x), T ≠ 1 is
            # the temperature warper's division; greedy rows take the argmax of the raw logits.
            scores = logits.float() / temps
        if greedy:
            next_tok = scores.argmax(dim=-1)
        if scores is logits:  # nothing processed the logits: the sampling law is the model's
            logp = raw
        else:
            logp = torch.log_softmax(scores.float(), dim=-1)
        if not greedy:
            u = torch.tensor(row_uniforms(live_keys, step), dtype=torch.float64, device=device)
            next_tok = sample_from_probs(raw_p if logp is raw else logp.exp(), u)
            if mixed and bool(argmax_rows.any()):
                next_tok = torch.where(argmax_rows, logits.argmax(dim=-1), next_tok)
        if not compact:
            next_tok = torch.where(active, next_tok, pad)
        idx = next_tok[:, None]
        chosen_raw = raw.gather(1, idx)[:, 0]
        chosen_lp = chosen_raw if logp is raw else logp.gather(1, idx)[:, 0]
        stats = torch.stack([next_tok.double(), chosen_lp.double(), chosen_raw.double(), ent.double()], dim=1).tolist()
        finished_now = []
        for b, (t, lp, mlp, h) in enumerate(stats):
            r = live[b]
            if done[r]:
                continue
            t = int(t)
            out.tokens[r].append(t)
            out.logprobs[r].append(lp)
            out.model_logprobs[r].append(mlp)
            out.entropy[r].append(h)
            if t in eos_ids or (is_stopped is not None and is_stopped(out.tokens[r])):
                out.finish[r] = "stop"
                done[r] = True
                finished_now.append(b)
        if step == max_new_tokens - 1 or all(done[r] for r in live):
            break
        if compact:
            dead = sum(done[r] for r in live)
            if dead and dead >= COMPACT_FRACTION * len(live):
                keep = [b for b, r in enumerate(live) if not done[r]]
                sel = torch.tensor(keep, device=device)
                cache.batch_select_indices(sel)
                live = [live[b] for b in keep]
                live_keys = [live_keys[b] for b in keep]
                next_tok, pos, mask_buf = next_tok[sel], pos[sel], mask_buf[sel]
                seq_buf = seq_buf[sel] if seq_buf is not None else None
                if mixed:
                    temps, argmax_rows = temps[sel], argmax_rows[sel]
                active = torch.ones(len(live), dtype=torch.bool, device=device)
            else:
                active = torch.tensor([not done[r] for r in live], device=device)
        elif finished_now:
            active[finished_now] = False
        mask_buf[:, cur] = active
        if seq_buf is not None:
            seq_buf[:, cur] = torch.where(active, next_tok, pad)
        if static_cache:
            step_out = (compiled_step or model)(
                input_ids=next_tok[:, None], attention_mask=mask_buf, position_ids=pos, past_key_values=cache, use_cache=True
            )
        else:
            step_out = model(
                input_ids=next_tok[:, None], attention_mask=mask_buf[:, : cur + 1], position_ids=pos,
                past_key_values=cache, use_cache=True,
            )
        pos = pos + 1
        logits = step_out.logits[:, -1, :].to(device)
    return out


def prefill(model: Any, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, shared: int = 0) -> tuple[Any, torch.Tensor]:
    """Encode left-padded prompts: their `DynamicCache` and last logits `(prompts, vocab)`.

    With `shared` > 0 the first `shared` columns hold the same tokens in every row (the
    `[prefix][pads][own tokens]` layout of `HFModel._left_pad`): they are encoded once, the
    cache repeated over the rows, then the rest of every row encoded against it."""
    if not shared:
        first = model(input_ids=prompt_ids, attention_mask=prompt_mask, position_ids=_positions(prompt_mask),
                      use_cache=True, logits_to_keep=1)
        return first.past_key_values, first.logits[:, -1, :].to(prompt_ids.device)  # last device under a device_map
    head = model(input_ids=prompt_ids[:1, :shared], use_cache=True, logits_to_keep=1)
    cache = head.past_key_values
    cache.batch_repeat_interleave(prompt_ids.shape[0])
    rest = model(input_ids=prompt_ids[:, shared:], attention_mask=prompt_mask, position_ids=_positions(prompt_mask)[:, shared:],
                 past_key_values=cache, use_cache=True, logits_to_keep=1)
    return rest.past_key_values, rest.logits[:, -1, :].to(prompt_ids.device)


def fork_cache(cache: Any) -> Any | None:
    """A copy of a `DynamicCache` that decoding may extend, repeat and compact without
    touching `cache` (its layers replace their tensors, never write into them, so the tensors
    are shared, not copied); None for cache types that write in place."""
    from transformers.cache_utils import DynamicCache, DynamicLayer, DynamicSlidingWindowLayer

    if type(cache) is not DynamicCache or any(type(x) not in (DynamicLayer, DynamicSlidingWindowLayer) for x in cache.layers):
        return None
    return shallow_copy(cache)


def shallow_copy(cache: Any) -> Any:
    """A new cache object with its own layer objects over the same tensors."""
    new = copy.copy(cache)
    new.layers = [copy.copy(layer) for layer in cache.layers]
    return new


def cache_bytes(cache: Any) -> int:
    """Bytes held by a dynamic cache's key and value tensors."""
    return sum(t.numel() * t.element_size() for x in cache.layers for t in (x.keys, x.values) if t is not None)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(dim=1) - 1).clamp(min=0)
