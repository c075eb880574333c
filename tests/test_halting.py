"""Entropy-based early halting: the measures and `EntropyHaltingProcessor` (scripted and real models)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llminfo import measures
from llminfo.processors.halting import EntropyHaltingProcessor

V = 385  # tiny tokenizer vocabulary
POOL = list(range(100, 160))  # tokens the scripted model emits: none is part of a marker
CLOSE, CUE = "</think>", "\nThe answer is"


@pytest.fixture(scope="module")
def tok():
    from tiny import tiny_tokenizer

    return tiny_tokenizer()


# -- measures ----------------------------------------------------------------------------


def test_threshold_closed_form():
    # 1/(e ln 2) is the maximum of -p log2 p (reached at p = 1/e): check against a grid.
    p = np.linspace(1e-6, 1, 2_000_001)
    peak = float(np.max(-p * np.log2(p)))
    for ratio in (0.1, 0.3, 1.0, 2.5):
        assert measures.halting_threshold(ratio) == pytest.approx(ratio * peak, rel=1e-9)
        assert measures.halting_threshold(ratio) == pytest.approx(ratio / (math.e * math.log(2)), rel=1e-15)
    assert measures.halting_threshold() == pytest.approx(0.3 / (math.e * math.log(2)))


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), float("inf"), "0.3", True])
def test_threshold_rejects_bad_ratio(bad):
    with pytest.raises(ValueError, match="`ratio`"):
        measures.halting_threshold(bad)


def test_answer_entropy_bits_against_scipy():
    from scipy.stats import entropy as scipy_entropy

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 5)) * 3 - 4  # unnormalised log-weights, as candidate logprobs are
    ours = measures.answer_entropy_bits(logits)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert np.allclose(ours, scipy_entropy(p, base=2, axis=-1), atol=1e-12)
    assert measures.answer_entropy_bits(np.zeros(8)) == pytest.approx(3.0)  # uniform over 8: log2 8
    assert measures.answer_entropy_bits([0.0, -np.inf, -np.inf]) == pytest.approx(0.0)


def test_answer_entropy_bits_bad_input():
    with pytest.raises(ValueError, match="candidate_logprobs"):
        measures.answer_entropy_bits([])
    with pytest.raises(ValueError, match="candidate_logprobs"):
        measures.answer_entropy_bits([0.0, np.nan])
    with pytest.raises(ValueError, match="candidate_logprobs"):
        measures.answer_entropy_bits([-np.inf, -np.inf])


def test_should_halt_and_info_gain():
    thr = measures.halting_threshold(0.3)
    c = 4
    below, above = (thr - 1e-9) * c, (thr + 1e-9) * c
    assert measures.should_halt_thinking(below, c, 0.3) and not measures.should_halt_thinking(above, c, 0.3)
    assert measures.should_halt_thinking(np.array([below, above]), c).tolist() == [True, False]
    with pytest.raises(ValueError, match="num_candidates"):
        measures.should_halt_thinking(0.1, 0)
    h = np.array([2.0, 1.2, 1.5, 0.1])
    gain = measures.info_gain(h)
    assert gain.shape == (3,) and np.allclose(gain, [0.8, -0.3, 1.4])
    assert np.isclose(gain.sum(), h[0] - h[-1])  # telescopes
    assert measures.info_gain([1.0]).shape == (0,)


# -- processor on a scripted model ---------------------------------------------------------


def scripted_logits(ks: list[int]) -> torch.Tensor:
    """One row per entry: uniform over the first k tokens of POOL, so the entropy is ln k."""
    out = torch.full((len(ks), V), float("-inf"))
    for r, k in enumerate(ks):
        out[r, POOL[:k]] = 0.0
    return out


def run_scripted(proc, prompts: list[list[int]], schedule: list[list[int]], emit=None):
    """A decode loop like HFModel's: left-padded prompts, processor called each step.

    schedule[r][t] = k for row r at step t (entropy ln k). The "model" emits POOL[0] (or
    emit[r][t] when given) unless the processor left one finite logit, which it then takes.
    Returns generated tokens per row and the processed scores per step.
    """
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts])
    gen: list[list[int]] = [[] for _ in prompts]
    seen = []
    for t in range(len(schedule[0])):
        raw = scripted_logits([row[t] for row in schedule])
        out = proc(ids, raw.clone())
        seen.append((raw, out))
        nxt = []
        for r in range(len(prompts)):
            choice = emit[r][t] if emit is not None and emit[r][t] is not None else POOL[0]
            tok_id = int(out[r].argmax()) if not torch.equal(out[r], raw[r]) else choice
            gen[r].append(tok_id)
            nxt.append(tok_id)
        ids = torch.cat([ids, torch.tensor(nxt)[:, None]], dim=1)
    return gen, seen


def expected_halt(ks: list[int], threshold: float, window: int, min_tokens: int, budget: int | None = None) -> int | None:
    """First step t with t >= min_tokens and mean(ln k) over steps t-window+1..t < threshold."""
    for t in range(len(ks)):
        if budget is not None and t >= budget:
            return t
        if t >= min_tokens and t + 1 >= window and np.mean(np.log(ks[t - window + 1 : t + 1])) < threshold:
            return t
    return None


def test_halts_at_exact_step_and_forces_close_plus_cue(tok):
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    ks = [40] * 6 + [2] * 3 + [1] * 30  # steps 0-5: ln 40; 6-8: ln 2; then 0
    thr, window = 0.3, 3
    step = expected_halt(ks, thr, window, min_tokens=0)
    assert step == 10  # by hand: window 7..9 = (ln2, ln2, 0) -> 0.462; 8..10 = (ln2, 0, 0) -> 0.231 < 0.3
    proc = EntropyHaltingProcessor(tok, threshold=thr, window=window, min_tokens=0, close_marker=CLOSE, answer_cue=CUE)
    gen, seen = run_scripted(proc, [[5, 6, 7]], [ks])
    assert gen[0][:step] == [POOL[0]] * step
    assert gen[0][step : step + len(forced)] == forced
    assert gen[0][step + len(forced) :] == [POOL[0]] * (len(ks) - step - len(forced))  # answer is free
    for t, (raw, out) in enumerate(seen):
        if step <= t < step + len(forced):
            assert torch.isfinite(out[0]).sum() == 1 and out[0, forced[t - step]] == 0.0
        else:
            assert torch.equal(out, raw)  # untouched outside the forced span
    [rec] = proc.records()
    assert rec.halted and rec.reason == "entropy" and rec.halt_step == step and rec.thinking_tokens == step
    assert rec.tokens_saved is None
    assert rec.window_mean == pytest.approx(np.mean(np.log(ks[step - window + 1 : step + 1])), abs=1e-6)


def test_answer_budget_forces_eos(tok):
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    for n_answer in (0, 3):
        proc = EntropyHaltingProcessor(tok, threshold=0.1, window=1, min_tokens=2, max_answer_tokens=n_answer)
        gen, _ = run_scripted(proc, [[5]], [[1] * 20])
        tail = gen[0][2 + len(forced) :]
        assert tail[:n_answer] == [POOL[0]] * n_answer and tail[n_answer] == tok.eos_token_id
        assert tail[n_answer + 1 :] == [POOL[0]] * (len(tail) - n_answer - 1)  # ended: untouched after
    with pytest.raises(ValueError, match="max_answer_tokens"):
        EntropyHaltingProcessor(tok, threshold=0.1, max_answer_tokens=-1)


def test_rows_halt_independently(tok):
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    n = 40
    schedules = [
        [30] * 4 + [1] * (n - 4),  # halts early
        [30] * 15 + [2] * (n - 15),  # halts later
        [30] * n,  # never halts
    ]
    thr, window, mn = 0.8, 4, 2
    proc = EntropyHaltingProcessor(tok, threshold=thr, window=window, min_tokens=mn, close_marker=CLOSE, answer_cue=CUE)
    gen, seen = run_scripted(proc, [[5], [5, 6, 7, 8], [9, 9]], schedules)  # ragged: left padding
    steps = [expected_halt(s, thr, window, mn) for s in schedules]
    assert steps[0] < steps[1] and steps[2] is None
    for r, step in enumerate(steps):
        if step is None:
            assert gen[r] == [POOL[0]] * n
            assert all(torch.equal(out[r], raw[r]) for raw, out in seen)
        else:
            assert gen[r][step : step + len(forced)] == forced
            assert POOL[0] not in gen[r][step : step + len(forced)]
    recs = proc.records()
    assert [r.halt_step for r in recs] == steps
    assert [r.reason for r in recs] == ["entropy", "entropy", "thinking"]


def test_nothing_halts_before_min_tokens(tok):
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    for mn in (0, 1, 7, 12):
        proc = EntropyHaltingProcessor(tok, threshold=0.5, window=2, min_tokens=mn, close_marker=CLOSE, answer_cue=CUE)
        gen, _ = run_scripted(proc, [[5, 6]], [[1] * 30])  # entropy 0 from the first step
        step = max(mn, 1)  # the window needs 2 entropies: steps 0 and 1
        assert gen[0][:step] == [POOL[0]] * step
        assert gen[0][step : step + len(forced)] == forced
        assert proc.records()[0].thinking_tokens == step


def test_budget_is_respected(tok):
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    for budget in (0, 5, 12):
        proc = EntropyHaltingProcessor(
            tok, threshold=0.1, window=3, min_tokens=0, max_thinking_tokens=budget, close_marker=CLOSE, answer_cue=CUE
        )
        gen, _ = run_scripted(proc, [[5], [6]], [[50] * 30, [50] * 30])
        for r in range(2):
            assert gen[r][:budget] == [POOL[0]] * budget
            assert gen[r][budget : budget + len(forced)] == forced
        rec = proc.records()[0]
        assert (rec.reason, rec.halt_step, rec.thinking_tokens, rec.tokens_saved) == ("budget", budget, budget, 0)


def test_open_marker_model_close_and_eos(tok):
    open_ids = tok.encode("<think>", add_special_tokens=False)
    close_ids = tok.encode(CLOSE, add_special_tokens=False)
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    n = 30
    ks = [1] * n  # entropy 0 everywhere: halts as soon as allowed inside the span
    emit: list[list[int | None]] = [[None] * n for _ in range(4)]
    emit[0][3 : 3 + len(open_ids)] = open_ids  # row 0 opens the span at steps 3..5
    emit[2][1 : 1 + len(close_ids)] = close_ids  # row 2 (span open in the prompt) closes it itself
    emit[3][2] = tok.eos_token_id  # row 3 ends while thinking
    prompts = [[5, 6], [5] + open_ids, [5] + open_ids, [5] + open_ids]
    proc = EntropyHaltingProcessor(
        tok, threshold=0.1, window=1, min_tokens=4, open_marker="<think>", close_marker=CLOSE, answer_cue=CUE
    )
    gen, _ = run_scripted(proc, prompts, [ks] * 4, emit=emit)
    start0 = 3 + len(open_ids)
    assert gen[0][start0 + 4 : start0 + 4 + len(forced)] == forced  # 4 thinking tokens after the marker
    assert gen[1][4 : 4 + len(forced)] == forced  # span open in the prompt
    assert forced[0] not in gen[2][1 + len(close_ids) :]  # closed by the model: never forced
    recs = proc.records()
    assert [r.reason for r in recs] == ["entropy", "entropy", "closed", "eos"]
    assert recs[0].halt_step == start0 + 4 and recs[0].thinking_tokens == 4
    assert recs[2].thinking_tokens == 1 + len(close_ids) and not recs[2].halted
    never = EntropyHaltingProcessor(tok, threshold=0.1, window=1, min_tokens=0, open_marker="<think>")
    gen, seen = run_scripted(never, [[5, 6]], [ks])
    assert all(torch.equal(raw, out) for raw, out in seen) and never.records()[0].reason == "not_started"


def test_processor_resets_between_generations(tok):
    proc = EntropyHaltingProcessor(tok, threshold=0.1, window=1, min_tokens=3, close_marker=CLOSE, answer_cue=CUE)
    first, _ = run_scripted(proc, [[5, 6]], [[1] * 20])
    second, _ = run_scripted(proc, [[7, 8, 9]], [[1] * 20])
    assert first[0] == second[0] and proc.records()[0].halt_step == 3


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": 1.0, "window": 0}, "window"),
        ({"threshold": 1.0, "min_tokens": -1}, "min_tokens"),
        ({"threshold": 1.0, "max_thinking_tokens": -2}, "max_thinking_tokens"),
        ({"threshold": 1.0, "close_marker": "", "answer_cue": ""}, "close_marker"),
        ({"threshold": 1.0, "open_marker": ""}, "open_marker"),
    ],
)
def test_processor_validates_arguments(tok, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}"):
        EntropyHaltingProcessor(tok, **kwargs)
    with pytest.raises(TypeError, match="close_marker"):
        EntropyHaltingProcessor(tok, threshold=1.0, close_marker=3)  # type: ignore[arg-type]


# -- processor on real (tiny) models ---------------------------------------------------------


def _window_means(ent: list[float], window: int) -> list[float]:
    return [float(np.mean(ent[t - window + 1 : t + 1])) for t in range(window - 1, len(ent))]


def test_with_transformers_generate_matches_raw_logit_entropies(tok):
    """transformers' own `generate`: the halt step follows from the entropies of its raw logits."""
    from tiny import tiny_llama
    from transformers import LogitsProcessorList

    model, _ = tiny_llama(0)
    tok.padding_side = "left"
    enc = tok(["The quick brown fox", "One two"], return_tensors="pt", padding=True)
    kw = dict(max_new_tokens=40, do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=None)
    base = model.generate(**enc, output_logits=True, return_dict_in_generate=True, **kw)
    ent = [[float(measures.entropy_from_logits(step[r])) for step in base.logits] for r in range(2)]
    window, mn = 4, 3
    means = _window_means(ent[0], window)
    thr = float(np.quantile(means[mn:], 0.3)) + 1e-4  # row 0 must halt somewhere in the middle
    steps = [expected_halt(np.exp(e).tolist(), thr, window, mn) for e in ent]  # expected_halt takes k = e^H
    assert steps[0] is not None
    proc = EntropyHaltingProcessor(tok, threshold=thr, window=window, min_tokens=mn, close_marker=CLOSE, answer_cue=CUE)
    out = model.generate(**enc, logits_processor=LogitsProcessorList([proc]), **kw)
    new = out[:, enc["input_ids"].shape[1] :].tolist()
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    base_new = base.sequences[:, enc["input_ids"].shape[1] :].tolist()
    for r, step in enumerate(steps):
        rec = proc.records()[r]
        assert rec.halt_step == step
        if step is not None:
            assert new[r][:step] == base_new[r][:step]  # untouched before the halt
            assert new[r][step : step + len(forced)] == forced[: 40 - step]
        else:
            assert new[r] == base_new[r]


def test_with_hfmodel_generate(tiny_model, tok):
    """llminfo's HF decode loop: halt steps follow from the per-token entropies it reports."""
    prompts = ["The quick brown fox", "What is the capital"]
    [[b0], [b1]] = tiny_model.generate(prompts, temperature=0, max_new_tokens=30)
    window, mn = 3, 2
    thr = float(np.quantile(_window_means(b0.entropy, window)[mn:], 0.3)) + 1e-4
    steps = [expected_halt(np.exp(c.entropy).tolist(), thr, window, mn) for c in (b0, b1)]
    proc = EntropyHaltingProcessor(tok, threshold=thr, window=window, min_tokens=mn, close_marker=CLOSE, answer_cue=CUE)
    [[c0], [c1]] = tiny_model.generate(prompts, temperature=0, max_new_tokens=30, processors=[proc])
    forced = tok.encode(CLOSE + CUE, add_special_tokens=False)
    assert steps[0] is not None
    for r, (base, c, step) in enumerate(zip((b0, b1), (c0, c1), steps)):
        assert proc.records()[r].halt_step == step
        if step is None:
            assert c.token_ids == base.token_ids
        else:
            assert c.token_ids[:step] == base.token_ids[:step]
            assert c.token_ids[step : step + len(forced)] == forced[: 30 - step]
