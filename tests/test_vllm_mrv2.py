"""llminfo's processors under vLLM's Model Runner V2 (MRV2) interface, on CPU.

vLLM 0.32's CPU build has no Triton backend, so MRV2 itself cannot run here. What these tests
do run for real: vLLM's own MRV2 loaders (entry-point plugins, FQCNs, the params validator,
`build_custom_logits_processors`) and its V1 loaders, on llminfo's classes; and the MRV2
implementations through the MRV2 interface (`add_request`, `apply_staged_writes`,
`apply(logits, LogitsContext)`) with hand-built request state and batch layouts: rows
reordered every step, recycled slots, declined rows, several rows per request (speculative
decoding). References: the V1 implementations on the same logits, transformers-style typical
sets computed independently (`typical_ref`), and log-softmax/entropy computed here.
What they cannot cover: MRV2's real model runner (its buffers, async scheduling, CUDA graphs).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("vllm")
pytestmark = pytest.mark.vllm

from vllm import SamplingParams  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdate  # noqa: E402
from vllm.v1.sample.logits_processor import LogitsProcessor as V1LogitsProcessor  # noqa: E402
from vllm.v1.worker.gpu.sample.logits_processor import loader as mrv2_loader  # noqa: E402
from vllm.v1.worker.gpu.sample.logits_processor.interface import (  # noqa: E402
    LogitsContext,
    LogitsProcessor as MRV2LogitsProcessor,
    LogitsProcRequestState,
)

from llminfo import measures  # noqa: E402
from llminfo.processors import vllm as lv  # noqa: E402
from llminfo.processors import vllm_entropy as ve  # noqa: E402
from llminfo.processors.vllm_halting import HaltingMRV2, HaltingV1  # noqa: E402
from llminfo.processors.vllm_typical import TypicalMRV2, TypicalV1  # noqa: E402
from typical_ref import f64_mass_keep  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "llminfo.processors.vllm:LocallyTypicalLogitsProcessor",
    "llminfo.processors.vllm:EntropyHaltingProcessor",
    "llminfo.processors.vllm:EntropyRecorderLogitsProcessor",
    # old names, kept as aliases
    "llminfo.processors.vllm:TypicalLogitsProcessor",
    "llminfo.processors.vllm_halting:EntropyHaltingLogitsProcessor",
    "llminfo.processors.vllm_entropy:EntropyRecorderLogitsProcessor",
]


# -- a hand-built MRV2 batch --------------------------------------------------------------


class FakeRunner:
    """The parts of MRV2's model runner a custom processor sees: per-slot buffers
    (`LogitsProcRequestState`) and, per step, a `LogitsContext` for a chosen row order."""

    def __init__(self, procs: list, slots: int = 8, max_len: int = 96):
        n = slots
        self.procs = procs
        self.tokens: dict[int, list[int]] = {}
        self.all_ids = torch.zeros(n, max_len, dtype=torch.int64)
        self.prompt_len = np.zeros(n, dtype=np.int32)
        self.prefill_len = np.zeros(n, dtype=np.int32)
        self.total_len = torch.zeros(n, dtype=torch.int32)
        self.state = LogitsProcRequestState(
            device=torch.device("cpu"),
            max_num_reqs=n,
            vocab_size=0,
            all_token_ids=SimpleNamespace(gpu=self.all_ids),
            prompt_len=SimpleNamespace(np=self.prompt_len, gpu=torch.from_numpy(self.prompt_len)),
            prefill_len=SimpleNamespace(np=self.prefill_len, gpu=torch.from_numpy(self.prefill_len)),
            total_len=SimpleNamespace(gpu=self.total_len),
        )

    def add(self, slot: int, params: SamplingParams, prompt: list[int], output: list[int] = ()) -> list[bool]:
        """A request enters `slot` (its previous occupant's state must not survive)."""
        seq = list(prompt) + list(output)
        self.tokens[slot] = seq
        self.prompt_len[slot] = len(prompt)
        self.prefill_len[slot] = len(seq)
        self.all_ids[slot].zero_()
        self.all_ids[slot, : len(seq)] = torch.tensor(seq)
        self.total_len[slot] = len(seq)
        return [p.add_request(slot, params) for p in self.procs]

    def flush(self) -> None:
        for p in self.procs:
            p.apply_staged_writes()

    def commit(self, slot: int, toks: list[int]) -> None:
        seq = self.tokens[slot]
        self.all_ids[slot, len(seq) : len(seq) + len(toks)] = torch.tensor(toks)
        seq.extend(toks)
        self.total_len[slot] = len(seq)

    def ctx(self, order: list[int], drafts: dict[int, list[int]] | None = None) -> LogitsContext:
        """One step: requests in `order` (batch positions); a request with drafts owns
        1 + len(drafts) rows (input: its last committed token, then the drafts)."""
        drafts = drafts or {}
        slot_of, local, ids, pos = [], [], [], []
        for s in order:
            seq = self.tokens[s]
            feed = [seq[-1]] + list(drafts.get(s, []))
            for k, t in enumerate(feed):
                slot_of.append(s), local.append(k), ids.append(t), pos.append(len(seq) - 1 + k)
        as_t = lambda x: torch.tensor(x, dtype=torch.int64)  # noqa: E731
        return LogitsContext(
            expanded_idx_mapping=as_t(slot_of).to(torch.int32),
            idx_mapping=as_t(order).to(torch.int32),
            idx_mapping_np=np.array(order, dtype=np.int32),
            expanded_local_pos=as_t(local).to(torch.int32),
            input_ids=as_t(ids).to(torch.int32),
            pos=as_t(pos),
            seq_lens_upper_bound_np=np.array([len(self.tokens[s]) + len(drafts.get(s, [])) for s in order]),
        )


def _cfg(rows: int = 8, tok_dir: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        scheduler_config=SimpleNamespace(max_num_seqs=rows), model_config=SimpleNamespace(tokenizer=tok_dir)
    )


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    from tiny import tiny_tokenizer

    d = tmp_path_factory.mktemp("tok")
    tiny_tokenizer().save_pretrained(d)
    return str(d)


# -- vLLM's loaders -----------------------------------------------------------------------


def _tree_entry_points():
    """The entry points this tree's pyproject.toml declares (what a fresh install registers)."""
    from importlib.metadata import EntryPoint, EntryPoints

    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["vllm.logits_processors"]
    return EntryPoints(EntryPoint(name, value, "vllm.logits_processors") for name, value in table.items())


def test_mrv2_plugin_loader_accepts_installed_and_declared_entry_points(monkeypatch):
    """The issue's reproduction: MRV2's plugin loader raised ValueError for llminfo's V1 classes,
    which stopped every engine from starting. Installed metadata first, then this tree's."""
    loaded = mrv2_loader._load_v2_logitsprocs_plugins()  # the shared env's installed llminfo
    assert loaded and all(issubclass(c, MRV2LogitsProcessor) for c in loaded)
    declared = _tree_entry_points()
    assert {ep.name for ep in declared} == {"llminfo_typical", "llminfo_halting"}
    monkeypatch.setattr(mrv2_loader, "entry_points", lambda group: declared if group == "vllm.logits_processors" else ())
    v2 = mrv2_loader._load_v2_logitsprocs_plugins()
    assert set(v2) == {lv.LocallyTypicalLogitsProcessor, lv.EntropyHaltingProcessor}
    assert all(issubclass(c, MRV2LogitsProcessor) for c in v2)
    import importlib.metadata

    from vllm.v1.sample.logits_processor import _load_logitsprocs_plugins

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: declared)
    v1 = _load_logitsprocs_plugins()  # the legacy runner's loader gets V1 classes from the same names
    assert set(v1) == set(v2) and all(issubclass(c, V1LogitsProcessor) for c in v1)


def test_fqcn_loaders_of_both_runners_accept_every_documented_name():
    from vllm.v1.sample.logits_processor import _load_logitsprocs_by_fqcns

    v2 = mrv2_loader._load_v2_logitsprocs_by_fqcns(NAMES + [lv.EntropyHaltingProcessor])
    v1 = _load_logitsprocs_by_fqcns(NAMES + [lv.EntropyHaltingProcessor])
    assert v1 == v2
    assert v2[:3] == [lv.LocallyTypicalLogitsProcessor, lv.EntropyHaltingProcessor, lv.EntropyRecorderLogitsProcessor]
    assert v2[3:6] == v2[:3]  # old names are the same classes
    assert all(issubclass(c, MRV2LogitsProcessor) and issubclass(c, V1LogitsProcessor) for c in v2)
    with pytest.raises(ValueError, match="not a subclass"):  # the loader still rejects V1-only classes
        mrv2_loader._load_v2_logitsprocs_by_fqcns([TypicalV1])


def test_each_runner_builds_its_own_implementation(tok_dir):
    """vLLM's MRV2 builder (`build_custom_logits_processors`) and V1 builder construct the
    same public classes; each gets the implementation for its interface."""
    from vllm.v1.sample.logits_processor import build_logitsprocs

    n = 4
    req_states = SimpleNamespace(
        device=torch.device("cpu"), max_num_reqs=n, vocab_size=10,
        all_token_ids=SimpleNamespace(gpu=torch.zeros(n, 8, dtype=torch.int64)),
        prompt_len=SimpleNamespace(np=np.zeros(n, np.int32)), prefill_len=SimpleNamespace(np=np.zeros(n, np.int32)),
        total_len=SimpleNamespace(gpu=torch.zeros(n, dtype=torch.int32)),
    )  # fmt: skip
    names = NAMES[:3]
    built = mrv2_loader.build_custom_logits_processors(_cfg(n, tok_dir), req_states, False, names)
    ours = [type(p) for p in built if type(p).__module__.startswith("llminfo")]
    assert set(ours) == {TypicalMRV2, HaltingMRV2, ve.EntropyRecorderMRV2}
    assert all(isinstance(p, MRV2LogitsProcessor) for p in built)
    cfg = SimpleNamespace(**vars(_cfg(n, tok_dir)), speculative_config=None)
    v1 = build_logitsprocs(cfg, torch.device("cpu"), False, False, names)
    v1_ours = [type(p) for p in v1.all if type(p).__module__.startswith("llminfo")]
    assert set(v1_ours) == {TypicalV1, HaltingV1, ve.EntropyRecorderV1}


def test_mrv2_params_validator_names_the_bad_key():
    from vllm.exceptions import VLLMValidationError

    validate = mrv2_loader.build_custom_logits_processors_params_validator(tuple(NAMES[:3]))
    validate(SamplingParams(extra_args={"typical_p": 0.5, "entropy_halting_threshold": 0.4}))
    for extra, key in [
        ({"typical_p": 1.5}, "typical_p"),
        ({"entropy_halting_threshold": 0.4, "entropy_halting_window": 0}, "window"),
        ({"entropy_halting_window": 4}, "entropy_halting_threshold"),
        ({"entropy_halting_threshold": 0.4, "entropy_halting_speed": 2}, "entropy_halting_speed"),
        ({ve.RECORD_KEY: "k", ve.FORCE_KEY: ["x"]}, ve.FORCE_KEY),
    ]:
        with pytest.raises(VLLMValidationError, match=key):
            validate(SamplingParams(extra_args=extra))


# -- typical ------------------------------------------------------------------------------


def _v1_keep(logits_scaled: torch.Tensor, taus: list[float]) -> torch.Tensor:
    """Kept set of the V1 implementation on the same (temperature-scaled) rows."""
    v1 = TypicalV1(_cfg(len(taus)), torch.device("cpu"), False)
    added = [(r, SamplingParams(temperature=1.0, extra_args={"typical_p": t}), [1], []) for r, t in enumerate(taus)]
    v1.update_state(BatchUpdate(batch_size=len(taus), removed=[], added=added, moved=[]))
    TypicalV1._last_filtered = None
    return torch.isfinite(v1.apply(logits_scaled.clone()))


def test_typical_mrv2_rows_reordered_recycled_declined_and_spec_decoding():
    run = FakeRunner([])
    proc = TypicalMRV2(_cfg(), run.state)
    run.procs.append(proc)
    settings = {  # slot: (τ, temperature); None τ = declined
        0: (0.3, 1.0), 1: (None, 1.0), 2: (0.7, 0.7), 3: (0.5, 0.0), 5: (0.9, 1.3),
    }  # fmt: skip
    for slot, (tau, temp) in settings.items():
        extra = {"typical_p": tau} if tau is not None else None
        on = run.add(slot, SamplingParams(temperature=temp, extra_args=extra), [1, 2, 3])
        assert on == [tau is not None and temp > 0]  # greedy requests ignore τ
    run.flush()
    g = torch.Generator().manual_seed(0)
    for step, (order, drafts) in enumerate([([5, 2, 0, 1, 3], {5: [7, 8]}), ([1, 3, 0, 2, 5], {}), ([2, 5, 0], {2: [4]})]):
        ctx = run.ctx(order, drafts)
        logits = torch.randn(len(ctx.pos), 400, generator=g) * 3
        out = proc.apply(logits.clone(), ctx)
        slots = ctx.expanded_idx_mapping.tolist()
        on_rows = [r for r, s in enumerate(slots) if settings[s][0] is not None and settings[s][1] > 0]
        for r, s in enumerate(slots):
            if r not in on_rows:
                assert torch.equal(out[r], logits[r]), (step, r)  # declined rows untouched
        temps = torch.tensor([settings[slots[r]][1] for r in on_rows], dtype=torch.float32)[:, None]
        scaled = logits[on_rows] / temps  # what the V1 runner's processor receives
        taus = [settings[slots[r]][0] for r in on_rows]
        keep = torch.isfinite(out[on_rows])
        assert torch.equal(keep, _v1_keep(scaled, taus))  # the same tokens as the V1 processor
        ref = torch.cat([f64_mass_keep(scaled[i : i + 1], t) for i, t in enumerate(taus)])
        assert torch.equal(keep, ref) and not bool(keep.all())
        assert torch.equal(out[on_rows][keep], logits[on_rows][keep])  # kept logits unscaled
        for s in order:
            run.commit(s, [9])
    # slot 0 recycled for a request without τ, slot 1 for one with τ
    run.add(0, SamplingParams(), [4, 4])
    run.add(1, SamplingParams(temperature=1.0, extra_args={"typical_p": 0.2}), [4])
    run.flush()
    ctx = run.ctx([0, 1])
    logits = torch.randn(2, 400, generator=g)
    out = proc.apply(logits.clone(), ctx)
    assert torch.equal(out[0], logits[0])
    assert torch.equal(torch.isfinite(out[1:]), f64_mass_keep(logits[1:], 0.2))


def test_typical_mrv2_costs_nothing_without_tau():
    run = FakeRunner([])
    proc = TypicalMRV2(_cfg(), run.state)
    run.procs.append(proc)
    run.add(0, SamplingParams(), [1])
    run.add(1, SamplingParams(extra_args={"typical_p": 1.0}), [1])
    ctx = run.ctx([1, 0])
    x = torch.randn(2, 50)
    assert proc.apply(x, ctx) is x


# -- halting ------------------------------------------------------------------------------

POOL = list(range(100, 160))


def _peaked(n: int, ks: list[int], vocab: int = 385) -> torch.Tensor:
    out = torch.full((n, vocab), float("-inf"))
    for r, k in enumerate(ks):
        out[r, POOL[:k]] = 0.0
    return out


def _flat(**kw) -> SamplingParams:
    return SamplingParams(max_tokens=64, extra_args={f"entropy_halting_{k}": v for k, v in kw.items()} or None)


def test_halting_mrv2_halts_at_the_same_step_as_v1(tok_dir):
    """Same requests, same logits per request and step: the V1 implementation (rows in slot
    order) and the MRV2 one (rows shuffled every step, a declined request, a recycled slot)
    emit the same tokens, so they halt at the same step and force the same string."""
    from tiny import tiny_tokenizer

    forced = tiny_tokenizer().encode("</think>\nThe answer is", add_special_tokens=False)
    reqs = {  # request: (settings, certain-from-step)
        "a": (dict(threshold=0.1, window=2, min_tokens=3), 2),  # entropy halt
        "b": ({}, 0),  # declined: no halting
        "c": (dict(threshold=0.0, window=1, min_tokens=0, max_thinking_tokens=5), 99),  # budget halt
        "d": (dict(threshold=0.1, window=1, min_tokens=1, open_marker="<think>"), 0),  # waits for its marker
    }
    slots = {"a": 3, "b": 0, "c": 6, "d": 1}
    v1 = HaltingV1(_cfg(8, tok_dir), torch.device("cpu"), False)
    run = FakeRunner([])
    v2 = HaltingMRV2(_cfg(8, tok_dir), run.state)
    run.procs.append(v2)
    outs_v1: dict[str, list[int]] = {r: [] for r in reqs}
    added = []
    for row, (r, (cfg, _)) in enumerate(reqs.items()):
        added.append((row, _flat(**cfg), [5, 6], outs_v1[r]))
        assert run.add(slots[r], _flat(**cfg), [5, 6]) == [bool(cfg)]
    v1.update_state(BatchUpdate(batch_size=len(reqs), removed=[], added=added, moved=[]))
    run.flush()
    rng = np.random.default_rng(0)
    think = tiny_tokenizer().encode("<think>", add_special_tokens=False)
    for t in range(16):
        if t:
            v1.update_state(None)
        ks = [1 if t >= reqs[r][1] else 40 for r in reqs]
        out1 = v1.apply(_peaked(len(reqs), ks))
        order = list(rng.permutation(list(reqs)))
        ctx = run.ctx([slots[r] for r in order])
        out2 = v2.apply(_peaked(len(order), [ks[list(reqs).index(r)] for r in order]), ctx)
        for j, r in enumerate(order):
            i = list(reqs).index(r)
            assert torch.equal(out1[i], out2[j]), (t, r)
            changed = not torch.equal(out1[i], _peaked(1, [ks[i]])[0])
            tok = int(out1[i].argmax()) if changed else POOL[0]
            if r == "d" and t < len(think):
                tok = think[t] if not changed else tok  # d writes its opening marker first
            outs_v1[r].append(tok)
            run.commit(slots[r], [tok])
    assert outs_v1["b"] == [POOL[0]] * 16
    a = outs_v1["a"]
    halt = a.index(forced[0])
    assert a[halt : halt + len(forced)] == forced and halt >= 3
    c = outs_v1["c"]
    assert c[:5] == [POOL[0]] * 5 and c[5 : 5 + len(forced)] == forced
    d = outs_v1["d"]
    assert d[: len(think)] == think and forced[0] in d[len(think) :]
    # slot 3 recycled for a request without halting: its rows are left alone
    assert run.add(3, SamplingParams(), [5]) == [False]
    run.flush()
    x = _peaked(1, [1])
    assert torch.equal(v2.apply(x.clone(), run.ctx([3])), x)


def test_halting_mrv2_forces_draft_rows_with_the_next_forced_tokens(tok_dir):
    """Speculative decoding: a forcing request owns 1 + k rows; row j gets forced token j."""
    from tiny import tiny_tokenizer

    forced = tiny_tokenizer().encode("</think>\nThe answer is", add_special_tokens=False)
    run = FakeRunner([], slots=4)
    v2 = HaltingMRV2(_cfg(4, tok_dir), run.state)
    run.procs.append(v2)
    run.add(2, _flat(threshold=0.0, window=1, min_tokens=0, max_thinking_tokens=1), [5])
    run.add(0, SamplingParams(), [5])
    run.flush()
    out = v2.apply(_peaked(2, [40, 40]), run.ctx([0, 2]))  # first token: thinking
    run.commit(2, [POOL[0]]), run.commit(0, [POOL[0]])
    ctx = run.ctx([2, 0], drafts={2: forced[:2], 0: [7]})  # 3 rows for slot 2, 2 for slot 0
    x = _peaked(5, [40] * 5)
    out = v2.apply(x.clone(), ctx)
    assert [int(out[j].argmax()) for j in range(3)] == forced[:3]
    assert all(int(torch.isfinite(out[j]).sum()) == 1 for j in range(3))
    assert torch.equal(out[3:], x[3:])  # the other request's rows (and its draft row) untouched


def test_flat_and_nested_halting_settings_agree():
    from llminfo.processors.vllm_halting import halting_args_of

    flat = halting_args_of(_flat(threshold=0.5, window=4, max_thinking_tokens=100, close_marker="</t>"))
    nested = halting_args_of(
        SamplingParams(extra_args={"entropy_halting": {"threshold": 0.5, "window": 4, "max_thinking_tokens": 100, "close_marker": "</t>"}})
    )
    assert flat == nested and flat["min_tokens"] == 16
    with pytest.raises(ValueError, match="not both"):
        halting_args_of(SamplingParams(extra_args={"entropy_halting": {"threshold": 1}, "entropy_halting_window": 2}))
    assert halting_args_of(SamplingParams(extra_args={"typical_p": 0.5})) is None


# -- the recorder -------------------------------------------------------------------------


def test_recorder_mrv2_reordered_spec_decoding_recycled_and_channel():
    run = FakeRunner([])
    rec = ve.EntropyRecorderMRV2(None, run.state)
    run.procs.append(rec)
    g = torch.Generator().manual_seed(3)
    free = SamplingParams(seed=11, extra_args={ve.RECORD_KEY: "m:0", ve.SEED0_KEY: 10})  # sample 1
    forced = SamplingParams(extra_args={ve.RECORD_KEY: "m:1", ve.FORCE_KEY: [5, 9, 2]})
    probe = SamplingParams(extra_args={ve.RECORD_KEY: "m:2", ve.PROBE_KEY: [3, 4]})
    assert run.add(4, free, [1, 2, 3]) == [True]
    assert run.add(1, forced, [1]) == [True]
    assert run.add(6, probe, [7, 7]) == [True]
    assert run.add(2, SamplingParams(), [1]) == [False]  # declined
    expect: dict[str, dict[int, tuple[float, float]]] = {"m:0/1": {}, "m:1/0": {}}
    probe_ref = None
    # step 0: prefill rows; step 1: slot 4 verifies 2 drafts; step 2: one of them was rejected
    plans = [([6, 4, 2, 1], {}), ([1, 4, 2], {4: [20, 21]}), ([4, 1], {})]
    accept = {1: {4: [20, 30]}}  # step 1: slot 4 accepts draft 20, then samples 30 (21 rejected)
    for step, (order, drafts) in enumerate(plans):
        ctx = run.ctx(order, drafts)
        raw = torch.randn(len(ctx.pos), 40, generator=g)
        out = rec.apply(raw.clone(), ctx)
        slots = ctx.expanded_idx_mapping.tolist()
        logp = torch.log_softmax(raw, -1)
        for r, s in enumerate(slots):
            if s == 1:
                tok = [5, 9, 2][step]
                assert int(out[r].argmax()) == tok and int(torch.isfinite(out[r]).sum()) == 1
            else:
                assert torch.equal(out[r], raw[r])  # recorded or declined: logits untouched
        for s in order:
            rows = [r for r, x in enumerate(slots) if x == s]
            if s == 6:
                probe_ref = logp[rows[0], [3, 4]].tolist()
                continue
            if s == 2:
                continue
            name = "m:0/1" if s == 4 else "m:1/0"
            base = len(run.tokens[s]) - run.prompt_len[s]
            if s == 1:
                toks = [[5, 9, 2][step]]
            else:
                toks = accept.get(step, {}).get(s) or [int(raw[rows[0]].argmax())]
            for k, r in enumerate(rows[: len(toks)]):
                expect[name][base + k] = (float(measures.entropy_from_logprobs(logp[r])), float(logp[r, toks[k]]))
            run.commit(s, toks)
        if step == 0:
            run.commit(6, [0])
    final = {4: run.tokens[4][3:], 1: run.tokens[1][1:]}
    got = ve.RecordChannel().llminfo_take_records([["m:0/1", final[4]], ["m:1/0", None], ["m:2/0", None]], prefix="m:")
    for name, slot in (("m:0/1", 4), ("m:1/0", 1)):
        n = len(final[slot])
        assert len(got[name]["entropy"]) == n and len(got[name]["model_logprobs"]) == n
        for pos, (h, lp) in expect[name].items():
            assert got[name]["entropy"][pos] == pytest.approx(h, abs=1e-5), (name, pos)
            assert got[name]["model_logprobs"][pos] == pytest.approx(lp, abs=1e-5), (name, pos)
    assert got["m:2/0"]["probe"] == pytest.approx(probe_ref, abs=1e-6)
    assert ve.take_records([["m:0/1", None]]) == {}  # taken once
    # recycled slots: slot 4 starts a fresh record; slot 1 (was forced) now holds a plain request
    run.add(4, SamplingParams(extra_args={ve.RECORD_KEY: "n:0"}), [1])
    assert run.add(1, SamplingParams(), [1]) == [False]
    ctx = run.ctx([1, 4])
    out = rec.apply(torch.zeros(2, 40), ctx)
    assert torch.equal(out, torch.zeros(2, 40))
    again = ve.take_records([("n:0/0", [3])])["n:0/0"]
    assert again["entropy"] == pytest.approx([math.log(40)]) and again["model_logprobs"] == pytest.approx([-math.log(40)])


# -- score by prefill on MRV2 --------------------------------------------------------------


def test_prefill_score_on_mrv2_asks_for_exactly_the_continuation_tokens():
    """`VLLMModel.score(entropy=False)` on MRV2 sends `prompt_logprob_token_ids` (one row per
    continuation token, starting at the last prompt token: the row count vLLM's input processor
    requires) and reads `prompt_token_id_logprobs`. The engine is faked: MRV2 cannot run here."""
    from llminfo.models.base import Scored
    from llminfo.models.vllm import VLLMModel

    sent = []

    def fake_run(token_ids, params, call):
        sent.extend(zip(token_ids, params))
        return [SimpleNamespace(prompt_token_id_logprobs=np.array([[-0.5 - i] for i in range(len(p.prompt_logprob_token_ids))]))
                for p in params]  # fmt: skip

    m = object.__new__(VLLMModel)
    m._mrv2, m._run = True, fake_run
    prompts, conts = [[1, 2, 3], [4]], [[7, 8], [9, 10, 11]]
    out = m._score_prefill(prompts, conts, [Scored([], [], []) for _ in prompts])
    for (ids, params), p, c, s in zip(sent, prompts, conts, out):
        assert ids == p + c
        rows = params.prompt_logprob_token_ids
        assert [list(r) for r in rows] == [[t] for t in c]
        assert len(rows) == len(ids) - 1 - params.prompt_logprob_start  # vLLM's row-count rule
        assert params.prompt_logprobs is None
        assert s.token_ids == c and s.logprobs == [-0.5 - i for i in range(len(c))]


def test_processors_are_sent_as_flat_xargs():
    """`model.generate(processors=[EntropyHaltingProcessor(...)])` on vLLM / an OpenAI server
    sends flat keys (a server's vllm_xargs takes no nested object) meaning the same settings."""
    from tiny import tiny_tokenizer

    from llminfo.models.vllm import _processor_extra_args
    from llminfo.processors.halting import EntropyHaltingProcessor
    from llminfo.processors.vllm_halting import halting_args_of

    hf = EntropyHaltingProcessor(tiny_tokenizer(), 0.7, window=5, min_tokens=3, max_thinking_tokens=40, answer_cue=None)
    xargs = _processor_extra_args([hf], 0.9)
    assert all(not isinstance(v, (dict, type(None))) for v in xargs.values()) and xargs["typical_p"] == 0.9
    nested = halting_args_of(SamplingParams(extra_args=hf.vllm_extra_args()))
    flat = halting_args_of(SamplingParams(extra_args=xargs))
    assert {k: v or None for k, v in flat.items()} == {k: v or None for k, v in nested.items()}
