"""The vLLM V1 entropy-halting logits processor: batch bookkeeping, then a real engine."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("vllm")
pytestmark = pytest.mark.vllm

from vllm import SamplingParams  # noqa: E402
from vllm.exceptions import VLLMValidationError  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdate, MoveDirectionality  # noqa: E402

from llminfo.processors.vllm_halting import EntropyHaltingLogitsProcessor, halting_args_of  # noqa: E402

CLOSE, CUE = "</think>", "\nThe answer is"
POOL = list(range(100, 160))


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    from tiny import tiny_tokenizer

    d = tmp_path_factory.mktemp("tok")
    tiny_tokenizer().save_pretrained(d)
    return str(d)


def _proc(tok_dir: str, rows: int = 8) -> EntropyHaltingLogitsProcessor:
    cfg = SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=rows), model_config=SimpleNamespace(tokenizer=tok_dir))
    return EntropyHaltingLogitsProcessor(cfg, torch.device("cpu"), False)  # type: ignore[arg-type]


def _params(**halting) -> SamplingParams:
    return SamplingParams(max_tokens=64, extra_args={"entropy_halting": halting} if halting else None)


def _logits(ks: list[int], vocab: int = 385) -> torch.Tensor:
    out = torch.full((len(ks), vocab), float("-inf"))
    for r, k in enumerate(ks):
        out[r, POOL[:k]] = 0.0
    return out


def test_rows_halt_independently_through_moves_and_removals(tok_dir):
    """Drive the processor as vLLM's persistent batch does: add, step, swap, remove."""
    from tiny import tiny_tokenizer

    forced = tiny_tokenizer().encode(CLOSE + CUE, add_special_tokens=False)
    proc = _proc(tok_dir)
    outs = [[], [], []]  # vLLM's live output lists
    # row 0: halts once 4 tokens are written (entropy 0 < 0.1); row 1: no halting;
    # row 2: budget 6 with a high threshold never met.
    proc.update_state(
        BatchUpdate(
            batch_size=3,
            removed=[],
            added=[
                (0, _params(threshold=0.1, window=1, min_tokens=4), [5, 6], outs[0]),
                (1, _params(), [5], outs[1]),
                (2, _params(threshold=0.0, window=1, min_tokens=0, max_thinking_tokens=6), [7], outs[2]),
            ],
            moved=[],
        )
    )
    order = [0, 1, 2]  # batch row -> request
    steps = {0: 4, 2: 6}
    for t in range(14):
        if t == 5:  # swap rows 0 and 2 mid-generation
            order[0], order[2] = order[2], order[0]
            proc.update_state(BatchUpdate(batch_size=3, removed=[], added=[], moved=[(0, 2, MoveDirectionality.SWAP)]))
        elif t > 0:
            proc.update_state(None)
        raw = _logits([1 if req == 0 else 40 for req in order])  # request 0 is certain, the others not
        out = proc.apply(raw.clone())
        for row, req in enumerate(order):
            changed = not torch.equal(out[row], raw[row])
            outs[req].append(int(out[row].argmax()) if changed else POOL[0])
            if req == 1:
                assert not changed
    for req, step in steps.items():
        assert outs[req][:step] == [POOL[0]] * step
        assert outs[req][step : step + len(forced)] == forced
    assert outs[1] == [POOL[0]] * 14
    # removing a request frees its row: a new request there starts fresh
    proc.update_state(BatchUpdate(batch_size=2, removed=[2], added=[], moved=[]))
    assert 2 not in proc._requests
    new_out: list[int] = []
    proc.update_state(BatchUpdate(batch_size=3, removed=[], added=[(2, _params(threshold=0.1, window=1, min_tokens=2), [5], new_out)], moved=[]))
    for t in range(4):
        if t:
            proc.update_state(None)
        out = proc.apply(_logits([40, 40, 1]))
        new_out.append(int(out[2].argmax()) if not torch.equal(out[2], _logits([40, 40, 1])[2]) else POOL[0])
    assert new_out[:2] == [POOL[0]] * 2 and new_out[2:4] == forced[:2]


def test_no_request_uses_it_returns_logits_unchanged(tok_dir):
    proc = _proc(tok_dir)
    proc.update_state(BatchUpdate(batch_size=2, removed=[], added=[(0, _params(), [5], []), (1, _params(), [5], [])], moved=[]))
    x = _logits([3, 5])
    assert proc.apply(x) is x and torch.equal(x, _logits([3, 5]))


@pytest.mark.parametrize(
    "halting, match",
    [
        ({"window": 3}, "threshold"),
        ({"threshold": -1}, "threshold"),
        ({"threshold": 1.0, "window": 0}, "window"),
        ({"threshold": 1.0, "speed": 2}, "speed"),
        ({"threshold": 1.0, "close_marker": "", "answer_cue": ""}, "close_marker"),
        ({"threshold": 1.0, "max_answer_tokens": -1}, "max_answer_tokens"),
    ],
)
def test_validate_params(halting, match):
    with pytest.raises(VLLMValidationError, match=match):
        EntropyHaltingLogitsProcessor.validate_params(_params(**halting))
    with pytest.raises(ValueError, match=match):
        halting_args_of(_params(**halting))
    with pytest.raises(ValueError, match="entropy_halting"):
        halting_args_of(SamplingParams(extra_args={"entropy_halting": 0.5}))


# -- a real engine ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm(request):
    try:
        return request.getfixturevalue("vllm_model").llm  # the shared session engine, once it exists
    except pytest.FixtureLookupError:
        pass
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    from vllm import LLM

    from llminfo.models.default import default_model_dir

    return LLM(model=str(default_model_dir()), max_model_len=1024, seed=0, enforce_eager=True)


@pytest.mark.integration
def test_real_engine_forces_close_and_cue(llm):
    tok = llm.get_tokenizer()
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is 12 + 7? Think step by step."}], tokenize=False, add_generation_prompt=True)
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    greedy = dict(temperature=0.0, max_tokens=24)
    plain = SamplingParams(**greedy)
    always = SamplingParams(**greedy, extra_args={"entropy_halting": {"threshold": 1e6, "window": 1, "min_tokens": 5}})
    budget = SamplingParams(**greedy, extra_args={"entropy_halting": {"threshold": 0.0, "max_thinking_tokens": 3, "max_answer_tokens": 2}})
    base = llm.generate([prompt], plain, use_tqdm=False)[0].outputs[0]
    res = llm.generate([prompt, prompt, prompt], [always, plain, budget], use_tqdm=False)
    a, p, b = (r.outputs[0] for r in res)
    assert list(p.token_ids) == list(base.token_ids)  # a request without halting is unchanged
    assert list(a.token_ids[:5]) == list(base.token_ids[:5])
    assert list(a.token_ids[5 : 5 + len(forced)]) == forced
    assert list(b.token_ids[:3]) == list(base.token_ids[:3])
    assert list(b.token_ids[3 : 3 + len(forced)]) == forced
    assert len(b.token_ids) <= 3 + len(forced) + 2 + 1 and b.token_ids[-1] == tok.eos_token_id
    assert CLOSE + CUE in a.text
    with pytest.raises((ValueError, VLLMValidationError), match="window"):
        llm.generate([prompt], SamplingParams(max_tokens=4, extra_args={"entropy_halting": {"threshold": 1.0, "window": 0}}), use_tqdm=False)


def test_hf_processor_settings_round_trip_to_vllm(tok_dir):
    from tiny import tiny_tokenizer

    from llminfo.processors.halting import EntropyHaltingProcessor

    hf = EntropyHaltingProcessor(tiny_tokenizer(), 0.7, window=5, min_tokens=3, max_thinking_tokens=40, open_marker="<think>", max_answer_tokens=9)
    cfg = halting_args_of(SamplingParams(extra_args=hf.vllm_extra_args()))
    assert cfg == {
        "threshold": 0.7, "window": 5, "min_tokens": 3, "max_thinking_tokens": 40, "open_marker": "<think>",
        "close_marker": CLOSE, "answer_cue": CUE, "max_answer_tokens": 9,
    }  # fmt: skip
