"""The vLLM V1 typical-sampling processor: batch bookkeeping, a real engine, the server."""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("vllm")
pytestmark = pytest.mark.vllm

from vllm import SamplingParams  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdate, MoveDirectionality  # noqa: E402

from llminfo.measures import typical_mask  # noqa: E402
from llminfo.processors.vllm import TypicalLogitsProcessor  # noqa: E402
from typical_ref import f64_mass_keep  # noqa: E402
from vllm_server import vllm_server  # noqa: E402

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


def _proc(rows: int = 8, cfg=None) -> TypicalLogitsProcessor:
    cfg = cfg or SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=rows))
    return TypicalLogitsProcessor(cfg, torch.device("cpu"), False)  # type: ignore[arg-type]


def _params(tau: float | None = None, **extra) -> SamplingParams:
    args = dict(extra)
    if tau is not None:
        args["typical_p"] = tau
    return SamplingParams(max_tokens=8, extra_args=args or None)


def _check_rows(proc: TypicalLogitsProcessor, taus: list[float | None], seed: int = 0) -> None:
    """apply() filters exactly the rows with τ (transformers' typical set, cumulative mass in
    float64: tests/test_typical.py::f64_mass_keep), and leaves others bit-identical."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(len(taus), 500, generator=g) * 3
    out = proc.apply(logits.clone())
    for r, tau in enumerate(taus):
        if tau is None or tau == 1.0:
            assert torch.equal(out[r], logits[r]), r
        else:
            keep = f64_mass_keep(logits[r : r + 1], tau)[0]
            assert keep.sum() < keep.numel()
            assert torch.equal(out[r], logits[r].masked_fill(~keep, -math.inf)), r


def _f64_keep_rows(logits: torch.Tensor, taus: list[float]) -> torch.Tensor:
    return torch.cat([f64_mass_keep(logits[r : r + 1], t) for r, t in enumerate(taus)])


def test_batch_bookkeeping_add_remove_move_swap():
    proc = _proc()
    outs: list[list[int]] = [[] for _ in range(4)]
    added = [(0, _params(0.2), [1], outs[0]), (1, _params(), [1], outs[1]), (2, _params(0.9), [1], outs[2]), (3, _params(1.0), [1], outs[3])]
    proc.update_state(BatchUpdate(batch_size=4, removed=[], added=added, moved=[]))
    _check_rows(proc, [0.2, None, 0.9, None])
    proc.update_state(None)  # no change in makeup
    _check_rows(proc, [0.2, None, 0.9, None], seed=1)
    proc.update_state(BatchUpdate(batch_size=4, removed=[], added=[], moved=[(0, 1, MoveDirectionality.SWAP)]))
    _check_rows(proc, [None, 0.2, 0.9, None])
    # Row 1 finishes; row 2 is moved into its slot (vLLM condenses the batch).
    proc.update_state(BatchUpdate(batch_size=3, removed=[1], added=[], moved=[(2, 1, MoveDirectionality.UNIDIRECTIONAL)]))
    _check_rows(proc, [None, 0.9, None])
    proc.update_state(BatchUpdate(batch_size=3, removed=[1], added=[(1, _params(0.5), [1], [])], moved=[]))
    _check_rows(proc, [None, 0.5, None])
    proc.update_state(BatchUpdate(batch_size=2, removed=[1], added=[], moved=[(2, 1, MoveDirectionality.UNIDIRECTIONAL)]))
    _check_rows(proc, [None, None])


def test_apply_returns_at_once_when_no_request_uses_it():
    proc = _proc()
    proc.update_state(BatchUpdate(batch_size=2, removed=[], added=[(0, _params(), [1], []), (1, _params(other=3), [1], [])], moved=[]))
    logits = torch.randn(2, 50)
    assert proc.apply(logits) is logits
    assert _proc().apply(logits) is logits  # fresh processor, no update yet


def test_all_rows_path_matches_typical_mask():
    proc = _proc()
    proc.update_state(BatchUpdate(batch_size=3, removed=[], added=[(i, _params(t), [1], []) for i, t in enumerate([0.3, 0.6, 0.95])], moved=[]))
    _check_rows(proc, [0.3, 0.6, 0.95], seed=4)


def test_registered_twice_filters_once():
    """Entry point + explicit `logits_processors=[...]` build two instances applied in turn
    to the same logits tensor: the second must not filter again (typical is not idempotent)."""
    cfg = SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=4))
    first, second = _proc(cfg=cfg), _proc(cfg=cfg)
    upd = BatchUpdate(batch_size=2, removed=[], added=[(0, _params(0.3), [1], []), (1, _params(0.6), [1], [])], moved=[])
    first.update_state(upd)
    second.update_state(upd)
    for step in range(3):  # each step brings a new logits tensor
        logits = torch.randn(2, 300, generator=torch.Generator().manual_seed(step)) * 3
        expected = logits.masked_fill(~_f64_keep_rows(logits, [0.3, 0.6]), -math.inf)
        out = second.apply(first.apply(logits))
        assert torch.equal(out, expected)
        # A filtered distribution filtered again would lose tokens: the guard matters.
        assert not torch.equal(_f64_keep_rows(expected, [0.3, 0.6]), torch.isfinite(expected))
    # vLLM may rebuild its processors (new InputBatch): a lone later instance still filters.
    del first
    logits = torch.randn(2, 300) * 3
    assert torch.equal(second.apply(logits.clone()), logits.masked_fill(~_f64_keep_rows(logits, [0.3, 0.6]), -math.inf))


@pytest.mark.parametrize("bad", [0, 0.0, -1, 1.5, float("nan"), "0.5", True, None, [0.5]])
def test_validate_params_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="typical_p"):
        TypicalLogitsProcessor.validate_params(SamplingParams(extra_args={"typical_p": bad}))


def test_validate_params_accepts_good_and_absent_values():
    for params in (SamplingParams(), SamplingParams(extra_args={"other": 1}), _params(0.5), _params(1), _params(1e-3)):
        TypicalLogitsProcessor.validate_params(params)


def test_entry_point_is_registered():
    from importlib.metadata import entry_points

    eps = {ep.name: ep for ep in entry_points(group="vllm.logits_processors")}
    assert "llminfo_typical" in eps, "run `pip install -e . --no-deps` so the entry point is visible"
    assert eps["llminfo_typical"].load() is TypicalLogitsProcessor


# -- a real engine ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm(request):
    """The shared session engine when tests/conftest.py provides one, else our own."""
    try:
        yield request.getfixturevalue("vllm_model").llm
        return
    except pytest.FixtureLookupError:
        pass
    from vllm import LLM

    from llminfo.models.default import default_model_dir

    engine = LLM(
        str(default_model_dir()), max_model_len=1024, enforce_eager=True, dtype="float32", seed=0,
        logprobs_mode="processed_logprobs",
    )  # fmt: skip
    yield engine
    del engine


@pytest.fixture(scope="module")
def hf_reference():
    from transformers import AutoModelForCausalLM

    from llminfo.models.default import default_model_dir

    return AutoModelForCausalLM.from_pretrained(default_model_dir(), dtype=torch.float32).eval()


PROMPTS = ["Once upon a time, in a small village,", "The old lighthouse keeper"]


@pytest.mark.integration
def test_mixed_batch_typical_rows_stay_in_typical_set_others_unchanged(llm, hf_reference):
    taus = [0.2, 0.5, 0.9]
    mixed, plain, kinds = [], [], []
    for i in range(8):
        seed, prompt = 100 + i, PROMPTS[i % 2]
        kind = taus[i // 2 % 3] if i % 2 == 0 else ("greedy" if i == 7 else "sample")
        temp = 0.0 if kind == "greedy" else 1.0
        base = dict(max_tokens=16, seed=seed, temperature=temp, top_p=1.0, top_k=0, logprobs=1)
        mixed.append(SamplingParams(**base, extra_args={"typical_p": kind} if isinstance(kind, float) else None))
        plain.append(SamplingParams(**base))
        kinds.append((prompt, kind))
    prompts = [p for p, _ in kinds]
    # Both runs below must see the same prefix-cache state, or cached vs recomputed prompt
    # KV could differ in the last bits: warm the cache first.
    llm.generate(prompts, SamplingParams(max_tokens=1, temperature=0.0), use_tqdm=False)
    out_mixed = llm.generate(prompts, mixed, use_tqdm=False)
    out_plain = llm.generate(prompts, plain, use_tqdm=False)

    mode = str(llm.llm_engine.vllm_config.model_config.logprobs_mode)
    outside_plain = 0
    for (prompt, kind), om, op in zip(kinds, out_mixed, out_plain):
        cm, cp = om.outputs[0], op.outputs[0]
        if not isinstance(kind, float):
            assert list(cm.token_ids) == list(cp.token_ids), "a request without typical_p changed"
            continue
        ids = torch.tensor([list(om.prompt_token_ids) + list(cm.token_ids)])
        with torch.no_grad():
            logits = hf_reference(ids).logits[0, len(om.prompt_token_ids) - 1 : -1]
        gen = torch.tensor(list(cm.token_ids))
        steps = torch.arange(len(gen))
        # vLLM's CPU kernels and transformers differ by ~1e-5 in logits; a token on the edge
        # of the set may flip, so membership is checked with τ + 0.02 (a superset), and the
        # exact-τ set must hold all but at most one token.
        assert typical_mask(logits, min(1.0, kind + 0.02))[steps, gen].all(), kind
        assert typical_mask(logits, kind)[steps, gen].sum() >= len(gen) - 1
        if "processed" in mode:
            keep = typical_mask(logits, kind)
            lp = torch.log_softmax(logits.masked_fill(~keep, -math.inf), -1)[steps, gen]
            got = torch.tensor([d[t].logprob for d, t in zip(cm.logprobs, cm.token_ids)])
            assert torch.allclose(got, lp, atol=2e-3)
        # Without typical_p the same request samples outside the τ-set now and then.
        gen_p = torch.tensor(list(cp.token_ids))
        ids_p = torch.tensor([list(op.prompt_token_ids) + list(cp.token_ids)])
        with torch.no_grad():
            logits_p = hf_reference(ids_p).logits[0, len(op.prompt_token_ids) - 1 : -1]
        outside_plain += int((~typical_mask(logits_p, kind)[torch.arange(len(gen_p)), gen_p]).sum())
    assert outside_plain > 0, "typical sets never excluded a sampled token: the test would be vacuous"


# -- the OpenAI-compatible server ------------------------------------------------------


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.mark.integration
def test_server_vllm_xargs_typical_p_and_flat_halting(tmp_path):
    """One OpenAI-compatible server (vLLM's default multi-process engine): typical_p and the
    halting settings as flat `vllm_xargs` over HTTP; bad values are HTTP 400 naming the key."""
    from llminfo.models.default import default_model_dir
    from llminfo.models.vllm_engine import engine_processors

    # the processors the installed entry points do not already load (none once installed)
    procs = [p for p in engine_processors([]) if not p.endswith("EntropyRecorderLogitsProcessor")]

    args = [
        "--model", str(default_model_dir()), "--max-model-len", "1024", "--enforce-eager",
        "--dtype", "float32", "--logprobs-mode", "processed_logprobs", "--max-logprobs", "50",
    ] + (["--logits-processors", *procs] if procs else [])  # fmt: skip
    with vllm_server(args, tmp_path / "server.log") as base:
        model = str(default_model_dir())
        body = {"model": model, "prompt": PROMPTS[0], "max_tokens": 12, "temperature": 1.0, "seed": 7, "logprobs": 50}
        status, good = _post(base + "/v1/completions", {**body, "vllm_xargs": {"typical_p": 0.5}})
        assert status == 200, good
        choice = good["choices"][0]
        assert choice["text"]
        # Processed logprobs (the server writes −inf as −9999): at τ = 0.5 some of the top-50
        # tokens of some step are filtered; without typical_p none is.
        def filtered(choice: dict) -> int:
            return sum(1 for d in choice["logprobs"]["top_logprobs"] for v in d.values() if v <= -9999.0)

        assert filtered(choice) > 0
        status, plain = _post(base + "/v1/completions", body)
        assert status == 200
        assert filtered(plain["choices"][0]) == 0
        status, bad = _post(base + "/v1/completions", {**body, "vllm_xargs": {"typical_p": 1.5}})
        assert status == 400, bad
        assert "typical_p" in json.dumps(bad)
        halt = {"entropy_halting_threshold": 100.0, "entropy_halting_window": 1, "entropy_halting_min_tokens": 3}
        greedy = {**body, "temperature": 0.0, "max_tokens": 16}
        status, halted = _post(base + "/v1/completions", {**greedy, "vllm_xargs": halt})
        assert status == 200, halted
        status, free = _post(base + "/v1/completions", greedy)
        text, free_text = halted["choices"][0]["text"], free["choices"][0]["text"]
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model)
        # 3 thinking tokens (the model's own greedy ones), then the forced close marker + cue
        first3 = tok.decode(tok(free_text, add_special_tokens=False)["input_ids"][:3])
        assert text.startswith(first3 + "</think>\nThe answer is"), (text, free_text)
        assert "</think>" not in free_text
        status, bad = _post(base + "/v1/completions", {**greedy, "vllm_xargs": {**halt, "entropy_halting_window": 0}})
        assert status == 400 and "window" in json.dumps(bad), bad
