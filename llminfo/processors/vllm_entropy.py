"""`EntropyRecorderLogitsProcessor`: per-token entropy (and raw log-probabilities) inside vLLM.

vLLM returns only top-k log-probabilities, so the entropy of the *full* next-token
distribution (DESIGN.md, `Completion.entropy`) has to be computed where the logits are: in a
V1 batch-level logits processor. This one is registered by `VLLMModel` at engine
construction and only acts on requests that carry `extra_args[RECORD_KEY]`; for the others
it returns at once (no cost).

Per recorded request and step it reduces the step's raw logits (before temperature, top-k,
top-p, typical: it is not argmax-invariant, so vLLM applies it in the first, raw stage, for
greedy and random requests alike) to a few floats:

- `entropy[t]`: H = −Σ p log p (nats) of softmax(raw logits) at output position t;
- `model_logprobs[t]`: log p(token_t) under the raw distribution. The sampled token is only
  known after sampling, so the step's raw log-softmax row is held (one row per live
  request, never one per generated token) until the next step reads the token from the
  request's output list; the last token is resolved by `pop_record(..., final_token)`;
- teacher forcing (`extra_args[FORCE_KEY]` = token ids): at step t the raw log-probability
  of the forced token is recorded and every other logit is set to −inf, so the request
  generates exactly those tokens. `VLLMModel.score` uses this: exact logprobs *and*
  entropies of a continuation, and the prompt's KV cache is shared through prefix caching;
- probing (`extra_args[PROBE_KEY]` = token ids): the raw log-probabilities of those tokens at
  the first step (`VLLMModel.next_token_logprobs`).

How the floats get back: vLLM hands a logits processor no request id, only the request's
`SamplingParams`. `VLLMModel` puts a unique key in `extra_args[RECORD_KEY]`; with
`SamplingParams(n=k, seed=s)` vLLM gives child j the seed s + j, so the record of sample j
is `f"{key}/{j}"` (`extra_args[SEED0_KEY]` = s). Records live in a module-level side buffer
(`_RECORDS`) that `VLLMModel` pops after `LLM.generate` returns. This needs the engine
core in the caller's process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, which `VLLMModel.load`
sets); a record is indexed by output position, so chunked prefill (a partial step samples a
token that is thrown away) and preemption (a request is re-added with its output so far)
overwrite rather than append.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

from llminfo import measures

RECORD_KEY = "llminfo_record"
SEED0_KEY = "llminfo_seed0"
FORCE_KEY = "llminfo_force"
PROBE_KEY = "llminfo_probe"


@dataclass
class TokenRecord:
    """What the recorder kept for one request (one sample).

    Attributes:
        entropy: per output position, entropy (nats) of the raw next-token distribution.
        model_logprobs: per output position, raw log-probability of the generated token.
        probe: raw log-probabilities of the probe tokens at the first step, if asked for.
    """

    entropy: list[float] = field(default_factory=list)
    model_logprobs: list[float] = field(default_factory=list)
    probe: list[float] | None = None
    pending: torch.Tensor | None = None  # (vocab,) raw log-softmax of the last step


_RECORDS: dict[str, TokenRecord] = {}
_LOCK = threading.Lock()


def record_name(key: str, sample: int) -> str:
    return f"{key}/{sample}"


def pop_record(name: str, final_token: int | None = None) -> TokenRecord | None:
    """Remove and return a record; `final_token` resolves the last token's raw logprob."""
    with _LOCK:
        rec = _RECORDS.pop(name, None)
    if rec is None:
        return None
    if final_token is not None and rec.pending is not None and len(rec.model_logprobs) == len(rec.entropy) - 1:
        rec.model_logprobs.append(float(rec.pending[int(final_token)]))
    rec.pending = None
    return rec


def discard_records(prefix: str) -> None:
    """Drop every record whose name starts with `prefix` (after an aborted call)."""
    with _LOCK:
        for name in [n for n in _RECORDS if n.startswith(prefix)]:
            del _RECORDS[name]


@dataclass
class _Row:
    record: TokenRecord
    output: list[int]  # vLLM's live reference to the request's generated tokens
    force: list[int] | None
    probe: list[int] | None


class EntropyRecorderLogitsProcessor(LogitsProcessor):
    """Records per-token entropy and raw logprobs of flagged requests; can teacher-force.

    Args (vLLM's logits-processor constructor):
        vllm_config: the engine config (unused).
        device (`torch.device`): where logits live.
        is_pin_memory (`bool`): unused.

    Requests opt in through `SamplingParams.extra_args`: `{RECORD_KEY: str, SEED0_KEY: int}`,
    optionally `FORCE_KEY: list[int]` and `PROBE_KEY: list[int]`.

    Example:
        >>> from vllm import LLM, SamplingParams
        >>> from llminfo.processors import vllm_entropy as ve
        >>> llm = LLM(path, logits_processors=[ve.EntropyRecorderLogitsProcessor])  # in-process engine
        >>> sp = SamplingParams(n=2, seed=7, extra_args={ve.RECORD_KEY: "q1", ve.SEED0_KEY: 7})
        >>> out = llm.generate(["Hello"], sp)
        >>> ve.pop_record(ve.record_name("q1", 0), out[0].outputs[0].token_ids[-1]).entropy
    """

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        self.rows: dict[int, _Row] = {}

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        args = sampling_params.extra_args or {}
        if RECORD_KEY not in args:
            return
        if not isinstance(args[RECORD_KEY], str):
            raise ValueError(f"extra_args[{RECORD_KEY!r}] has to be a string")
        for k in (FORCE_KEY, PROBE_KEY):
            ids = args.get(k)
            if ids is not None and not (isinstance(ids, list) and ids and all(isinstance(t, int) and t >= 0 for t in ids)):
                raise ValueError(f"extra_args[{k!r}] has to be a non-empty list of token ids")

    def is_argmax_invariant(self) -> bool:
        # False puts it in vLLM's first stage: raw logits, applied to greedy requests too.
        return False

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        process_dict_updates(self.rows, batch_update, self._new_row)

    def _new_row(self, params: SamplingParams, prompt_ids: list[int] | None, output_ids: list[int]) -> _Row | None:
        args = params.extra_args or {}
        key = args.get(RECORD_KEY)
        if key is None:
            return None
        seed0 = args.get(SEED0_KEY)
        sample = int(params.seed - seed0) if (params.seed is not None and seed0 is not None) else 0
        name = record_name(key, sample)
        with _LOCK:
            rec = _RECORDS.setdefault(name, TokenRecord())  # re-added after preemption: same record
        return _Row(rec, output_ids, args.get(FORCE_KEY), args.get(PROBE_KEY))

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self.rows:
            return logits
        index = list(self.rows)
        logp = torch.log_softmax(logits[index].float(), dim=-1)  # (rows, vocab), one step only
        ent = measures.entropy_from_logprobs(logp).tolist()
        for r, i in enumerate(index):
            row = self.rows[i]
            rec = row.record
            pos = len(row.output)
            del rec.entropy[pos:]
            rec.entropy.append(ent[r])
            if row.probe is not None and pos == 0:
                rec.probe = logp[r, row.probe].tolist()
            if row.force is not None:
                tok = row.force[min(pos, len(row.force) - 1)]
                del rec.model_logprobs[pos:]
                rec.model_logprobs.append(float(logp[r, tok]))
                logits[i].fill_(-math.inf)
                logits[i, tok] = 0.0
            else:
                if pos > 0 and rec.pending is not None:
                    del rec.model_logprobs[pos - 1 :]
                    rec.model_logprobs.append(float(rec.pending[row.output[pos - 1]]))
                rec.pending = logp[r]  # a view: the step tensor lives until every row moves on
        return logits
