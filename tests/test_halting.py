"""Entropy-based early halting: measures, the logits processor, Adaptive Think."""

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


# -- Adaptive Think on a scripted LanguageModel ----------------------------------------------

from llminfo.analyzers.adaptive_think import run_halting, run_halting_item  # noqa: E402
from llminfo.models.base import Completion, LanguageModel  # noqa: E402

P_UNIFORM = [0.25, 0.25, 0.25, 0.25]  # 2 bits: H/C = 0.5
P_LEANING = [0.7, 0.1, 0.1, 0.1]  # 1.357 bits: H/C = 0.339
P_SURE = [0.97, 0.01, 0.01, 0.01]  # 0.242 bits: H/C = 0.061 < 0.3/(e ln 2) = 0.159


class _Tok:
    eos_token_id = 0


class ScriptedModel(LanguageModel):
    """Reasoning chunks are " x" per token; the k-th probe of a question returns script[q][k].

    `paragraph` = tokens per paragraph (the chunk stops at "\\n\\n" when `stop` asks for it);
    `eos_at` = {question: total tokens after which the model ends}.
    """

    name, backend = "scripted", "fake"

    def __init__(self, script: dict[str, list[list[float]]], paragraph: int | None = None, eos_at=None):
        self.script, self.paragraph, self.eos_at = script, paragraph, eos_at or {}
        self.probe_prompts: list[str] = []
        self.calls: list[dict] = []

    @property
    def tokenizer(self):
        return _Tok()

    def chat(self, messages, *, system=None):
        return f"USER: {messages}\nASSISTANT:"

    def _question(self, prompt: str) -> str:
        return next(q for q in self.script if q in prompt)

    def generate(self, prompts, *, n=1, max_new_tokens=64, stop=None, **kw):
        self.calls.append({"prompts": list(prompts), "max_new_tokens": max_new_tokens, "stop": stop})
        out = []
        for p in prompts:
            if p.endswith("The answer is"):
                out.append([Completion(" 42.\nMore", [9, 9, 9], [0.0] * 3, [0.0] * 3, "stop")])
                continue
            done = p.count(" x")
            k = max_new_tokens
            reason = "length"
            if stop and self.paragraph:
                k = min(k, self.paragraph - done % self.paragraph)
                reason = "stop" if k < max_new_tokens or done + k == self.paragraph else reason
            ids = [5] * k
            end = self.eos_at.get(self._question(p))
            if end is not None and done + k >= end:
                ids = [5] * (end - done) + [0]
                out.append([Completion(" x" * (end - done), ids, [0.0] * len(ids), [0.0] * len(ids), "stop")])
                continue
            out.append([Completion(" x" * k, ids, [0.0] * k, [0.0] * k, reason)])
        return out

    def next_token_logprobs(self, prompts, candidates):
        rows = []
        for p in prompts:
            self.probe_prompts.append(p)
            q = self._question(p)
            k = len([x for x in self.probe_prompts if self._question(x) == q]) - 1
            rows.append(np.log(self.script[q][min(k, len(self.script[q]) - 1)]))
        return np.array(rows)

    def score(self, prompts, continuations):
        raise NotImplementedError

    def describe(self):
        raise NotImplementedError


OPTS = {"A": "one", "B": "two", "C": "three", "D": "four"}


def _bits(p):
    p = np.asarray(p)
    return float(-(p * np.log2(p)).sum())


def test_adaptive_halts_at_first_probe_below_threshold():
    thr = 0.3 / (math.e * math.log(2))
    script = {"Q1": [P_UNIFORM, P_LEANING, P_SURE, P_SURE]}
    assert [_bits(p) / 4 < thr for p in script["Q1"]] == [False, False, True, True]
    m = ScriptedModel(script)
    [r] = run_halting(m, [{"question": "Q1", "answer": "A", "options": OPTS}], "adaptive", probe_every=16, max_thinking_tokens=256)
    assert r.halted and r.halt_reason == "adaptive"
    assert r.probes == [16, 32, 48] and r.thinking_tokens == 48 and r.tokens_saved == 256 - 48
    assert np.allclose(r.entropies, [_bits(p) for p in script["Q1"][:3]])
    assert np.allclose(r.info_gain, [_bits(P_UNIFORM) - _bits(P_LEANING), _bits(P_LEANING) - _bits(P_SURE)])
    assert all(p.endswith(" x" * 16 + "\nThe answer is") for p in m.probe_prompts)  # closing "" + cue
    assert r.candidates == [" A", " B", " C", " D"]
    assert r.answer_text == "42." and r.answer_tokens == 3 and r.tokens_used == 48 + 3
    assert r.prediction == "42."  # multiple choice, no option letter in the answer: the raw text
    assert r.correct is False


def test_adaptive_budget_min_tokens_and_rows_independent():
    script = {"QA": [P_SURE], "QB": [P_UNIFORM, P_UNIFORM, P_SURE], "QC": [P_UNIFORM]}
    items = [{"question": q, "options": OPTS} for q in script]
    m = ScriptedModel(script)
    res = run_halting(m, items, "adaptive", probe_every=10, max_thinking_tokens=50, close_marker="</think>")
    assert [r.thinking_tokens for r in res] == [10, 30, 50]
    assert [r.halt_reason for r in res] == ["adaptive", "adaptive", "budget"]
    assert [r.probes for r in res] == [[10], [10, 20, 30], [10, 20, 30, 40]]  # no probe after the budget
    assert all(p.endswith("</think>\nThe answer is") for p in m.probe_prompts)
    alone = [run_halting(ScriptedModel({q: s}), [it], "adaptive", probe_every=10, max_thinking_tokens=50, close_marker="</think>")[0] for (q, s), it in zip(script.items(), items)]
    assert [a.to_dict() for a in alone] == [r.to_dict() for r in res]
    # min_tokens: sure from the first probe, but halting waits until 30 tokens were written
    [r] = run_halting(ScriptedModel({"QA": [P_SURE]}), [items[0]], "adaptive", probe_every=10, min_tokens=30)
    assert r.probes == [10, 20, 30] and r.thinking_tokens == 30
    # a larger ratio halts earlier: H/C = 0.339 < 0.3 * 0.531 * 2.5
    [r] = run_halting(ScriptedModel({"QB": [P_LEANING]}), [items[1]], "adaptive", probe_every=10, ratio=0.75)
    assert r.thinking_tokens == 10


def test_adaptive_paragraph_probes_and_eos():
    m = ScriptedModel({"Q": [P_UNIFORM] * 10}, paragraph=6, eos_at={"Q": 20})
    [r] = run_halting(m, [{"question": "Q", "answer": "42"}], "adaptive", probe_every=32)
    assert r.probes == [6, 12, 18]  # a probe at every paragraph break
    assert r.reasoning.count("\n\n") == 3 and r.halt_reason == "eos" and r.thinking_tokens == 21  # 20 + EOS
    assert r.candidates == [f" {d}" for d in range(10)] and r.prediction == "42" and r.correct is True
    [r] = run_halting(m, [{"question": "Q"}], "adaptive", probe_every=32, paragraph_probes=False)
    assert r.probes == [] and r.halt_reason == "eos"  # ended inside the first chunk


def test_no_halting_mode_uses_the_budget():
    m = ScriptedModel({"Q": [P_SURE]})
    r = run_halting_item(m, "Q", "none", answer="42", max_thinking_tokens=40)
    assert r["thinking_tokens"] == 40 and r["halt_reason"] == "budget" and r["probes"] == [] and not r["halted"]
    assert m.probe_prompts == [] and r["correct"] is True


@pytest.mark.parametrize(
    "kwargs, err, name",
    [
        ({"mode": "fast"}, ValueError, "mode"),
        ({"probe_every": 0}, ValueError, "probe_every"),
        ({"ratio": -1.0}, ValueError, "ratio"),
        ({"max_thinking_tokens": -5}, ValueError, "max_thinking_tokens"),
        ({"entropy_threshold": float("nan")}, ValueError, "entropy_threshold"),
        ({"answer_cue": None}, TypeError, "answer_cue"),
        ({"probe_evry": 3}, ValueError, "probe_evry"),
    ],
)
def test_run_halting_validates(kwargs, err, name):
    kwargs = {"mode": "adaptive", **kwargs}
    with pytest.raises(err, match=name):
        run_halting(ScriptedModel({"Q": [P_SURE]}), [{"question": "Q"}], **kwargs)


def test_run_halting_validates_items():
    m = ScriptedModel({"Q": [P_SURE]})
    with pytest.raises(ValueError, match=r"items\[1\].*question"):
        run_halting(m, [{"question": "Q"}, {"question": ""}], "none")
    with pytest.raises(ValueError, match=r"items\[0\].*options"):
        run_halting(m, [{"question": "Q", "options": ["A", "B"]}], "none")


def test_entropy_mode_on_tiny_model(tiny_model, tok):
    """Threshold above any entropy: every row halts at exactly `min_tokens` thinking tokens."""
    items = [{"question": "The quick brown fox", "answer": "42"}, {"question": "One two three", "answer": "7"}]
    res = run_halting(tiny_model, items, "entropy", entropy_threshold=1e6, window=2, min_tokens=5, max_answer_tokens=4, max_thinking_tokens=32)
    for r in res:
        assert (r.halt_reason, r.halted, r.thinking_tokens) == ("entropy", True, 5)
        assert 0 < r.answer_tokens <= 4 and r.tokens_used == 5 + r.answer_tokens
    # budget below the minimum: the budget wins, exactly
    res = run_halting(tiny_model, items[:1], "entropy", entropy_threshold=0.0, max_thinking_tokens=3, max_answer_tokens=2)
    assert (res[0].halt_reason, res[0].thinking_tokens, res[0].tokens_saved) == ("budget", 3, 0)


@pytest.mark.integration
def test_adaptive_and_entropy_on_default_model(default_model):
    from llminfo.analyzers.adaptive_think import answer_candidates, halting_prompt

    m = default_model
    q = {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "7"}
    # ratio 10: threshold 5.3 bits per candidate, so the first probe halts; its entropy must
    # equal an independent read of the answer distribution after the kept reasoning.
    [r] = run_halting(m, [q], "adaptive", probe_every=8, ratio=10.0, max_thinking_tokens=64)
    assert r.halt_reason == "adaptive" and r.probes == [r.thinking_tokens] and 0 < r.thinking_tokens <= 8
    logp = m.next_token_logprobs([halting_prompt(m, q["question"]) + r.reasoning + "\nThe answer is"], answer_candidates(None))
    assert r.entropies[0] == pytest.approx(float(measures.answer_entropy_bits(logp)[0]), abs=1e-6)
    assert 0 <= r.entropies[0] <= math.log2(10)
    [e] = run_halting(m, [q], "entropy", entropy_threshold=1e6, window=1, min_tokens=6, max_answer_tokens=6)
    assert e.thinking_tokens == 6 and e.halt_reason == "entropy" and e.answer_tokens > 0
    [n] = run_halting(m, [q], "none", max_thinking_tokens=24)
    assert n.thinking_tokens <= 24 and n.halt_reason in ("eos", "budget") and n.probes == []
