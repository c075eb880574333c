"""`HFModel.score` internals: teacher-forced scoring with KV reuse at two levels.

1. **Shared prefixes across different prompts.** Prompts that start with the same tokens
   (the chat template and instruction; iterative-prompting MI's F₁(x, Xᵢ) prompts, which
   differ only from the repeated answer on) are grouped (`plan_prefix_groups`), each group's
   common prefix is encoded once, and every prompt's remaining tokens run on a row of that
   prefix's KV cache.
2. **Shared prompts.** Every continuation of a prompt runs on a row of the prompt's KV cache.

Rows are assembled as `[prefix (left-padded) | prompt rest (left-padded) | continuation
(right-padded)]`; the attention mask has holes where the padding sits and positions count
real tokens only, so every logit is that of a plain forward over prompt + continuation (to
kernel round-off, ~1e-6). Only the logits predicting continuation tokens are computed.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from llminfo import measures
from llminfo.models import hf_decode
from llminfo.models.base import Scored

# Unique prompts per encoding batch, and bounds on a continuation batch.
PROMPT_ROWS = 16
CONT_ROWS = 32
CONT_TOKENS = 512
# A prefix group costs an extra forward and a cache copy: count it as this many tokens.
GROUP_OVERHEAD_TOKENS = 8
MAX_GROUP = 256


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def plan_prefix_groups(prompt_ids: Sequence[Sequence[int]], overhead: int = GROUP_OVERHEAD_TOKENS) -> list[tuple[int, list[int]]]:
    """Group prompts so that encoding each group's common prefix once saves the most tokens.

    Prompts are sorted (a group of prompts sharing a prefix is then contiguous) and split into
    runs by dynamic programming: a run of m prompts sharing ℓ leading tokens costs
    ℓ + Σ(len − ℓ) + `overhead` token-forwards, a lone prompt its length. The shared prefix
    leaves every prompt at least one token of its own (its last logits predict the
    continuation).

    Args:
        prompt_ids: token ids of distinct prompts.
        overhead: tokens a group's extra forward and cache copy are worth.
    Returns:
        `(prefix_len, members)` per group, members as indices into `prompt_ids`;
        `prefix_len` is 0 for a prompt left alone. Every prompt is in exactly one group.

    Example:
        >>> plan_prefix_groups([[1, 2, 3, 4, 5, 9], [7, 7], [1, 2, 3, 4, 5, 8]], overhead=1)
        [(5, [2, 0]), (0, [1])]
    """
    order = sorted(range(len(prompt_ids)), key=lambda i: list(prompt_ids[i]))
    seqs = [prompt_ids[i] for i in order]
    adj = [_lcp(seqs[i], seqs[i + 1]) for i in range(len(seqs) - 1)]
    best = [0.0] * (len(seqs) + 1)
    choice = [(0, 0)] * (len(seqs) + 1)  # (start of the last run, its prefix length)
    for j in range(len(seqs)):
        best[j + 1], choice[j + 1] = best[j] + len(seqs[j]), (j, 0)
        shared, shortest, total = 1 << 30, len(seqs[j]), len(seqs[j])
        for i in range(j - 1, max(-1, j - MAX_GROUP), -1):
            shared = min(shared, adj[i])
            shortest = min(shortest, len(seqs[i]))
            total += len(seqs[i])
            prefix = min(shared, shortest - 1)
            if prefix <= 0:
                break
            cost = best[i] + total - (j - i) * prefix + overhead
            if cost < best[j + 1]:
                best[j + 1], choice[j + 1] = cost, (i, prefix)
    groups = []
    j = len(seqs)
    while j > 0:
        i, prefix = choice[j]
        groups.append((prefix, [order[k] for k in range(i, j)]))
        j = i
    return groups[::-1]


def token_logprobs_and_entropy(
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


def select_rows(cache: Any, rows: torch.Tensor) -> Any:
    """A new cache holding `rows` of `cache` (only those rows are copied; `cache` is unchanged)."""
    new = hf_decode.shallow_copy(cache)
    new.batch_select_indices(rows)
    return new


def _pad(seqs: Sequence[Sequence[int]], pad_id: int, left: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max((len(s) for s in seqs), default=0)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        if s:
            sl = slice(width - len(s), width) if left else slice(0, len(s))
            ids[r, sl] = torch.tensor(s)
            mask[r, sl] = 1
    return ids.to(device), mask.to(device)


class _Encoded:
    """KV cache, attention mask, next position and last logits of a batch of prompts."""

    def __init__(self, cache: Any, mask: torch.Tensor, next_pos: torch.Tensor, last: torch.Tensor):
        self.cache, self.mask, self.next_pos, self.last = cache, mask, next_pos, last


def _forward(model: Any, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, cache: Any, keep: int = 1) -> Any:
    return model(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache, use_cache=True,
                 logits_to_keep=keep)


def encode_prompts(
    model: Any, prompts: Sequence[Sequence[int]], prefix_len: Sequence[int], group: Sequence[int], pad_id: int,
    device: torch.device,
) -> _Encoded:
    """Encode prompts, each group's shared prefix once.

    Args:
        prompts: token ids of the prompts (rows of the result).
        prefix_len: per prompt, the length of its group's shared prefix: all 0 (no sharing),
            or all ≥ 1 and shorter than the prompt.
        group: per prompt, the index of its group.
    """
    if not any(prefix_len):
        ids, mask = _pad(prompts, pad_id, left=True, device=device)
        out = _forward(model, ids, mask, (mask.cumsum(1) - 1).clamp(min=0), None)
        return _Encoded(out.past_key_values, mask, mask.sum(1), out.logits[:, -1].to(device))
    if not all(0 < ell < len(p) for p, ell in zip(prompts, prefix_len)):
        raise ValueError("every prefix has to be non-empty and shorter than its prompt")
    first: dict[int, int] = {}
    for r, g in enumerate(group):
        first.setdefault(g, r)
    uniq = list(first)
    hids, hmask = _pad([prompts[first[g]][: prefix_len[first[g]]] for g in uniq], pad_id, left=True, device=device)
    head_out = _forward(model, hids, hmask, (hmask.cumsum(1) - 1).clamp(min=0), None)
    rows = torch.tensor([uniq.index(g) for g in group], device=device)
    tids, tmask = _pad([p[ell:] for p, ell in zip(prompts, prefix_len)], pad_id, left=True, device=device)
    start = hmask.sum(1)[rows]
    tpos = start[:, None] + (tmask.cumsum(1) - 1).clamp(min=0)
    mask = torch.cat([hmask[rows], tmask], dim=1)
    out = _forward(model, tids, mask, tpos, select_rows(head_out.past_key_values, rows))
    return _Encoded(out.past_key_values, mask, start + tmask.sum(1), out.logits[:, -1].to(device))


def score_continuations(
    model: Any, enc: _Encoded, pairs: Sequence[tuple[int, Sequence[int]]], pad_id: int, entropy: bool = True
) -> list[Scored]:
    """Score each continuation on its prompt's row of `enc` (pairs: (row, continuation ids))."""
    device = enc.mask.device
    results: list[Scored | None] = [None] * len(pairs)
    order = sorted(range(len(pairs)), key=lambda k: len(pairs[k][1]))  # similar lengths batch together
    start = 0
    while start < len(order):
        chunk = [order[start]]
        while start + len(chunk) < len(order) and len(chunk) < CONT_ROWS:
            longest = len(pairs[order[start + len(chunk)]][1])
            if (len(chunk) + 1) * longest > CONT_TOKENS:
                break
            chunk.append(order[start + len(chunk)])
        start += len(chunk)
        rows = torch.tensor([pairs[k][0] for k in chunk], device=device)
        conts = [list(pairs[k][1]) for k in chunk]
        width = max(len(c) for c in conts) - 1
        last = enc.last[rows]
        if width <= 0:  # single-token continuations: the prompts' last logits suffice
            logits = last[:, None]
        else:
            ids, cmask = _pad([c[:-1] for c in conts], pad_id, left=False, device=device)
            pos = enc.next_pos[rows, None] + torch.arange(width, device=device)[None]
            out = _forward(model, ids, torch.cat([enc.mask[rows], cmask], dim=1), pos, select_rows(enc.cache, rows),
                           keep=width)
            # Position 0 is predicted by the prompt's last logits, the rest by the continuation forward.
            logits = torch.cat([last[:, None], out.logits.to(device)], dim=1)
        targets = torch.zeros(logits.shape[:2], dtype=torch.long, device=device)
        for r, c in enumerate(conts):
            if c:
                targets[r, : len(c)] = torch.tensor(c)
        lp, ent = token_logprobs_and_entropy(logits, targets, entropy)
        lp, ent = lp.tolist(), ent.tolist()
        for r, (k, c) in enumerate(zip(chunk, conts)):
            results[k] = Scored(c, lp[r][: len(c)], ent[r][: len(c)])
    return results  # type: ignore[return-value]


def score_shared(
    model: Any,
    prompt_ids: Sequence[Sequence[int]],
    pairs: Sequence[tuple[int, Sequence[int]]],
    pad_id: int,
    device: torch.device,
    entropy: bool = True,
    share_prefixes: bool = True,
) -> list[Scored]:
    """Score `pairs` (index into `prompt_ids`, continuation ids): each distinct prompt encoded
    once, prompts sharing a prefix encode it once (`share_prefixes`)."""
    groups = plan_prefix_groups(prompt_ids) if share_prefixes else [(0, [u]) for u in range(len(prompt_ids))]
    by_prompt: dict[int, list[int]] = {}
    for k, (u, _c) in enumerate(pairs):
        by_prompt.setdefault(u, []).append(k)
    # Batches of whole groups where possible; a group larger than a batch is split into
    # near-equal pieces (each keeps ≥ 2 members, so its prefix is still shared). Prompts
    # alone go to batches of their own.
    batches: list[list[tuple[int, int, int]]] = []  # (prompt, prefix_len, piece id)
    pieces, lone = [], []
    for ell, members in groups:
        if ell and len(members) > 1:
            k = -(-len(members) // PROMPT_ROWS)
            pieces += [(ell, members[i::k]) for i in range(k)]
        else:
            lone += members
    current: list[tuple[int, int, int]] = []
    for g, (ell, members) in enumerate(pieces):
        if current and len(current) + len(members) > PROMPT_ROWS:
            batches.append(current)
            current = []
        current += [(u, ell, g) for u in members]
    batches += [current] if current else []
    batches += [[(u, 0, -1 - i) for u in lone[i : i + PROMPT_ROWS]] for i in range(0, len(lone), PROMPT_ROWS)]
    results: list[Scored | None] = [None] * len(pairs)
    for batch in batches:
        enc = encode_prompts(model, [prompt_ids[u] for u, _e, _g in batch], [e for _u, e, _g in batch],
                             [g for _u, _e, g in batch], pad_id, device)
        todo = [(r, k) for r, (u, _e, _g) in enumerate(batch) for k in by_prompt.get(u, [])]
        scored = score_continuations(model, enc, [(r, pairs[k][1]) for r, k in todo], pad_id, entropy)
        for (_r, k), s in zip(todo, scored):
            results[k] = s
    return results  # type: ignore[return-value]
