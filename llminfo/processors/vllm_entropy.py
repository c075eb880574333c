"""Per-token entropy (and raw log-probabilities) inside vLLM, on both of its model runners.

vLLM returns only top-k log-probabilities, so the entropy of the *full* next-token
distribution (DESIGN.md, `Completion.entropy`) has to be computed where the logits are: in a
logits processor. The recorder only acts on requests that carry `extra_args[RECORD_KEY]`;
for the others it returns at once.

Per recorded request and output position t it keeps a few floats (never a vocabulary row per
generated token):

- `entropy[t]`: H = −Σ p log p (nats) of softmax(raw logits);
- `model_logprobs[t]`: log p(token_t) under the raw distribution. The token is only known after
  sampling, so the raw log-softmax rows of the request's latest step are held (one step only)
  and resolved by the next step's input token, or at the end by `take_records` with the
  request's final token ids (which also fixes rows of draft tokens a spec-decoding verifier
  rejected);
- teacher forcing (`extra_args[FORCE_KEY]` = token ids): at output position t the raw
  log-probability of the forced token is recorded and every other logit is set to −inf, so the
  request generates exactly those tokens (`VLLMModel.score` with entropies);
- probing (`extra_args[PROBE_KEY]` = token ids): the raw log-probabilities of those tokens at the
  first output position (`VLLMModel.next_token_logprobs`).

A record is indexed by output position, so chunked prefill (a partial step's row predicts no
output position), preemption (a request comes back with its output so far) and rejected draft
tokens overwrite rather than append.

**The channel back to the caller.** A processor sees a request's `SamplingParams`, not its id.
`VLLMModel` puts a unique key in `extra_args[RECORD_KEY]`; with `SamplingParams(n=k, seed=s)`
vLLM gives child j the seed s + j, so the record of sample j is `f"{key}/{j}"`
(`extra_args[SEED0_KEY]` = s). Records live in this module's store (`_RECORDS`) *in the process
that runs the sampler* (the engine core's worker: the caller's process only with
`VLLM_ENABLE_V1_MULTIPROCESSING=0`). After `LLM.generate` returns, `VLLMModel` fetches them with
vLLM's own RPC to the workers: the engine is started with
`worker_extension_cls="llminfo.processors.vllm_entropy:RecordChannel"`, which adds the method
`llminfo_take_records` to every worker, and `LLM.collective_rpc("llminfo_take_records", ...)`
runs it in each worker process (one round trip per `generate`/`score` call, a few floats per
token; msgpack, no pickle). Under tensor or pipeline parallelism every rank that samples holds
the same records; only the first tensor-parallel rank of the last pipeline stage returns them
(the others drop theirs). So the same code serves the in-process engine, vLLM's default
multi-process engine core and `tensor_parallel_size > 1`.

Two implementations of one contract: `EntropyRecorderV1` for the legacy V1 runner
(`vllm.v1.sample.logits_processor`, persistent-batch slot updates) and `EntropyRecorderMRV2`
for Model Runner V2 (`vllm.v1.worker.gpu.sample.logits_processor`: a logits row is not a
request; rows map to request slots through `ctx.expanded_idx_mapping`; under speculative
decoding a request owns one row per draft token). The public class
`llminfo.processors.vllm.EntropyRecorderLogitsProcessor` builds whichever the engine asks for.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from llminfo import measures
from llminfo.processors.vllm_runners import MRV2LogitsProcessor, V1LogitsProcessor

RECORD_KEY = "llminfo_record"
SEED0_KEY = "llminfo_seed0"
FORCE_KEY = "llminfo_force"
PROBE_KEY = "llminfo_probe"
WORKER_EXTENSION = "llminfo.processors.vllm_entropy.RecordChannel"  # vLLM resolves a dotted qualname
TAKE_METHOD = "llminfo_take_records"


@dataclass
class TokenRecord:
    """What the recorder kept for one request (one sample).

    Attributes:
        entropy: per output position, entropy (nats) of the raw next-token distribution.
        model_logprobs: per output position, raw log-probability of the generated token.
        probe: raw log-probabilities of the probe tokens at the first output position, if asked.
        pending: output position -> raw log-softmax row (vocab,) of the request's latest step,
            waiting for the token sampled there.
    """

    entropy: list[float] = field(default_factory=list)
    model_logprobs: list[float] = field(default_factory=list)
    probe: list[float] | None = None
    pending: dict[int, torch.Tensor] = field(default_factory=dict)

    def put(self, values: list[float], pos: int, value: float) -> None:
        """`values[pos] = value`, dropping what followed (a position is re-recorded after
        preemption or a rejected draft); gaps are filled with NaN."""
        del values[pos:]
        values.extend([math.nan] * (pos - len(values)))
        values.append(value)

    def finish(self, token_ids: Sequence[int]) -> None:
        """Resolve the held rows with the request's final token ids and cut to their length."""
        n = len(token_ids)
        for pos, row in self.pending.items():
            if pos < n and pos <= len(self.model_logprobs):
                self.put(self.model_logprobs, pos, float(row[int(token_ids[pos])]))
        self.pending.clear()
        del self.entropy[n:]
        del self.model_logprobs[n:]


_RECORDS: dict[str, TokenRecord] = {}
_LOCK = threading.Lock()


def record_name(key: str, sample: int) -> str:
    return f"{key}/{sample}"


def take_records(requests: Sequence[tuple[str, Sequence[int] | None]]) -> dict[str, dict[str, Any]]:
    """Remove the named records from this process's store and return them as plain lists.

    Args:
        requests: `(record name, final token ids or None)`; the token ids resolve the last
            step's raw logprobs (None: leave them as recorded, e.g. teacher forcing / probes).
    """
    out: dict[str, dict[str, Any]] = {}
    with _LOCK:
        recs = [(name, toks, _RECORDS.pop(name, None)) for name, toks in requests]
    for name, toks, rec in recs:
        if rec is None:
            continue
        if toks is not None:
            rec.finish(toks)
        rec.pending.clear()
        out[name] = {"entropy": rec.entropy, "model_logprobs": rec.model_logprobs, "probe": rec.probe}
    return out


def discard_records(prefix: str) -> None:
    """Drop every record whose name starts with `prefix` (after an aborted call)."""
    with _LOCK:
        for name in [n for n in _RECORDS if n.startswith(prefix)]:
            del _RECORDS[name]


class RecordChannel:
    """vLLM worker extension (`worker_extension_cls`): the RPC end of the record channel.

    vLLM mixes this class into its worker class in every worker process;
    `LLM.collective_rpc(TAKE_METHOD, args=(requests,))` then calls it on each rank.
    """

    def llminfo_take_records(self, requests: list[list[Any]], prefix: str = "") -> dict[str, dict[str, Any]] | None:
        """Records of `requests` (`[name, token_ids | None]`) from this worker; None on ranks that
        do not answer (not the first tensor-parallel rank of the last pipeline stage)."""
        reqs = [(str(r[0]), r[1]) for r in requests]
        if not _answering_rank():
            take_records(reqs)
            if prefix:
                discard_records(prefix)
            return None
        out = take_records(reqs)
        if prefix:
            discard_records(prefix)
        return out


def _answering_rank() -> bool:
    try:
        from vllm.distributed.parallel_state import get_pp_group, get_tp_group

        return get_tp_group().rank_in_group == 0 and get_pp_group().is_last_rank
    except Exception:  # not initialised: a single in-process worker
        return True


def check_record_args(sampling_params: Any) -> None:
    args = sampling_params.extra_args or {}
    if RECORD_KEY not in args:
        return
    if not isinstance(args[RECORD_KEY], str):
        raise ValueError(f"extra_args[{RECORD_KEY!r}] has to be a string")
    for k in (FORCE_KEY, PROBE_KEY):
        ids = args.get(k)
        if ids is not None and not (isinstance(ids, list) and ids and all(isinstance(t, int) and t >= 0 for t in ids)):
            raise ValueError(f"extra_args[{k!r}] has to be a non-empty list of token ids")


@dataclass
class _Request:
    record: TokenRecord
    force: list[int] | None
    probe: list[int] | None


def _open_request(params: Any) -> _Request | None:
    args = params.extra_args or {}
    key = args.get(RECORD_KEY)
    if key is None:
        return None
    seed0 = args.get(SEED0_KEY)
    sample = int(params.seed - seed0) if (params.seed is not None and seed0 is not None) else 0
    with _LOCK:  # re-added after preemption: the same record
        rec = _RECORDS.setdefault(record_name(key, sample), TokenRecord())
    return _Request(rec, args.get(FORCE_KEY), args.get(PROBE_KEY))


def record_rows(
    logits: torch.Tensor,
    rows: Sequence[int],
    requests: Sequence[_Request],
    out_pos: Sequence[int],
    input_ids: Sequence[int] | None,
) -> None:
    """Record one step: logits row `rows[j]` predicts output position `out_pos[j]` of
    `requests[j]`; `input_ids[j]` (if given) is the token the row was fed, i.e. output token
    `out_pos[j] − 1`. Rows of one request must come in increasing position. Forced rows are
    set in place."""
    logp = torch.log_softmax(logits[list(rows)].float(), dim=-1)  # (rows, vocab): this step only
    ent = measures.entropy_from_logprobs(logp).tolist()
    forced = [(j, r.force[min(p, len(r.force) - 1)]) for j, (r, p) in enumerate(zip(requests, out_pos)) if r.force]
    forced_lp = logp[[j for j, _ in forced], [t for _, t in forced]].tolist() if forced else []
    seen: set[int] = set()
    for j, (req, pos) in enumerate(zip(requests, out_pos)):
        rec = req.record
        rec.put(rec.entropy, pos, ent[j])
        if req.probe is not None and pos == 0:
            rec.probe = logp[j, req.probe].tolist()
        if req.force:
            continue
        prev = rec.pending.get(pos - 1)
        if id(rec) not in seen:  # the request's first row this step: older held rows are settled
            seen.add(id(rec))
            rec.pending = {}
        if prev is not None and input_ids is not None:
            rec.put(rec.model_logprobs, pos - 1, float(prev[int(input_ids[j])]))
        rec.pending[pos] = logp[j]  # a view: the step tensor lives until the request moves on
    for (j, tok), lp in zip(forced, forced_lp):
        req, pos = requests[j], out_pos[j]
        req.record.put(req.record.model_logprobs, pos, lp)
        row = rows[j]
        logits[row].fill_(-math.inf)
        logits[row, tok] = 0.0


class EntropyRecorderV1(V1LogitsProcessor):  # type: ignore[misc, valid-type]
    """The recorder on vLLM's legacy V1 runner: slots follow the persistent batch.

    Not argmax-invariant, so vLLM applies it in its first stage, to raw logits, for greedy and
    sampled requests alike. The V1 runner hands over each request's live list of output ids,
    so the previous step's token is read from it.
    """

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        self.rows: dict[int, tuple[_Request, list[int]]] = {}

    validate_params = classmethod(lambda cls, sp: check_record_args(sp))

    def is_argmax_invariant(self) -> bool:
        return False

    def update_state(self, batch_update: Any) -> None:
        from vllm.v1.sample.logits_processor.builtin import process_dict_updates

        def new(params: Any, _prompt: Any, output: list[int]) -> tuple[_Request, list[int]] | None:
            req = _open_request(params)
            return None if req is None else (req, output)

        process_dict_updates(self.rows, batch_update, new)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self.rows:
            return logits
        rows = list(self.rows)
        outputs = [self.rows[i][1] for i in rows]
        prev = [o[-1] if o else 0 for o in outputs]
        record_rows(logits, rows, [self.rows[i][0] for i in rows], [len(o) for o in outputs], prev)
        return logits


class EntropyRecorderMRV2(MRV2LogitsProcessor):  # type: ignore[misc, valid-type]
    """The recorder on vLLM's Model Runner V2.

    Runs after vLLM's bias/penalty/bad-words/grammar stages and before temperature (MRV2's
    contract), so with llminfo's requests (none of those set) it sees the model's raw logits.
    A row's output position is `pos + 1 − prompt_len[slot]` (negative for a partial prefill
    chunk: nothing recorded); its input token is output token `pos − prompt_len[slot]`, which
    settles the previous position's raw logprob (under spec decoding, the previous row's).
    """

    def __init__(self, vllm_config: Any, req_states: Any) -> None:
        self.req_states = req_states
        self.slots: dict[int, _Request] = {}
        self._on = np.zeros(int(req_states.max_num_reqs), dtype=bool)

    validate_params = classmethod(lambda cls, sp: check_record_args(sp))

    def add_request(self, req_idx: int, sampling_params: Any) -> bool:
        req = _open_request(sampling_params)
        self._on[req_idx] = req is not None
        if req is None:
            self.slots.pop(req_idx, None)
            return False
        self.slots[req_idx] = req
        return True

    def apply(self, logits: torch.Tensor, ctx: Any) -> torch.Tensor:
        if not self.slots or not self._on[np.asarray(ctx.idx_mapping_np)].any():
            return logits
        slot_of = ctx.expanded_idx_mapping.cpu().numpy()
        rows = np.flatnonzero(self._on[slot_of])
        pos = ctx.pos.cpu().numpy()[rows]
        fed = ctx.input_ids.cpu().numpy()[rows]
        out_pos = pos + 1 - np.asarray(self.req_states.prompt_len.np)[slot_of[rows]]
        keep = [j for j in np.lexsort((out_pos, slot_of[rows])) if out_pos[j] >= 0]
        if keep:
            record_rows(
                logits,
                [int(rows[j]) for j in keep],
                [self.slots[int(slot_of[rows[j]])] for j in keep],
                [int(out_pos[j]) for j in keep],
                [int(fed[j]) for j in keep],
            )
        return logits


__all__ = [
    "EntropyRecorderMRV2",
    "EntropyRecorderV1",
    "RecordChannel",
    "TokenRecord",
    "take_records",
    "discard_records",
    "record_name",
    "RECORD_KEY",
    "SEED0_KEY",
    "FORCE_KEY",
    "PROBE_KEY",
]


def __getattr__(name: str) -> Any:
    if name == "EntropyRecorderLogitsProcessor":  # the old FQCN: the class that serves both runners
        from llminfo.processors.vllm import EntropyRecorderLogitsProcessor

        return EntropyRecorderLogitsProcessor
    raise AttributeError(name)
