"""Adaptive Think and the halting modes (`llminfo.analyzers.adaptive_think`).

A scripted LanguageModel whose k-th probe of a question returns a known answer distribution
pins the halting step, probes, entropies and InfoGain exactly; then the tiny and the
embedded models run the real code paths.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from llminfo import measures
from llminfo.analyzers.adaptive_think import run_halting, run_halting_item
from llminfo.models.base import Completion, LanguageModel


@pytest.fixture(scope="module")
def tok():
    from tiny import tiny_tokenizer

    return tiny_tokenizer()


# -- Adaptive Think on a scripted LanguageModel ----------------------------------------------


P_UNIFORM = [0.25, 0.25, 0.25, 0.25]  # 2 bits: H/C = 0.5
P_LEANING = [0.7, 0.1, 0.1, 0.1]  # 1.357 bits: H/C = 0.339
P_SURE = [0.97, 0.01, 0.01, 0.01]  # 0.242 bits: H/C = 0.061 < 0.3/(e ln 2) = 0.159


class _Tok:
    eos_token_id = 0

    def encode(self, text, add_special_tokens=False):
        return text.split()


class ScriptedModel(LanguageModel):
    """Reasoning chunks are " x" per token; the k-th probe of a question returns script[q][k]
    over its first len(script[q][k]) candidates (others get 1e-9 before renormalising).

    `paragraph` = tokens per paragraph (the chunk stops at "\\n\\n" when `stop` asks for it);
    `eos_at` = {question: total tokens after which the model ends}. After the answer cue the
    greedy answer is " 42." and sampled answers are " 41", " 43", ... (one per sample).
    """

    name, backend = "scripted", "fake"

    def __init__(self, script: dict[str, list[list[float]]], paragraph: int | None = None, eos_at=None):
        self.script, self.paragraph, self.eos_at = script, paragraph, eos_at or {}
        self.probe_prompts: list[str] = []
        self.probe_candidates: list[list[str]] = []
        self.calls: list[dict] = []

    @property
    def tokenizer(self):
        return _Tok()

    def chat(self, messages, *, system=None):
        return f"USER: {messages}\nASSISTANT:"

    def _question(self, prompt: str) -> str:
        return next(q for q in self.script if q in prompt)

    def generate(self, prompts, *, n=1, max_new_tokens=64, stop=None, **kw):
        self.calls.append({"prompts": list(prompts), "max_new_tokens": max_new_tokens, "stop": stop, "n": n})
        out = []
        for p in prompts:
            if p.endswith("The answer is"):
                if n == 1:
                    out.append([Completion(" 42.\nMore", [9, 9, 9], [0.0] * 3, [0.0] * 3, "stop")])
                else:
                    out.append([Completion(f" {41 + 2 * j}", [9], [0.0], [0.0], "stop") for j in range(n)])
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
        for p, cands in zip(prompts, candidates):
            self.probe_prompts.append(p)
            self.probe_candidates.append(list(cands))
            q = self._question(p)
            k = len([x for x in self.probe_prompts if self._question(x) == q]) - 1
            probs = list(self.script[q][min(k, len(self.script[q]) - 1)])[: len(cands)]
            probs += [1e-9] * (len(cands) - len(probs))
            rows.append(np.log(probs))
        return np.array(rows)

    def score(self, prompts, continuations):
        raise NotImplementedError

    def describe(self):
        raise NotImplementedError


OPTS = {"A": "one", "B": "two", "C": "three", "D": "four"}


def _bits(p):
    p = np.asarray(p)
    return float(-(p * np.log2(p)).sum())


def _reasoning_calls(m):
    return [c for c in m.calls if not all(p.endswith("The answer is") for p in c["prompts"])]


def test_probe_before_reasoning_halts_a_confident_item():
    """The paper probes before any reasoning: an item already sure of its answer halts with
    zero thinking tokens and answers with the probe's argmax, without one reasoning call."""
    m = ScriptedModel({"Q": [[0.01, 0.97, 0.01, 0.01]]})
    [r] = run_halting(m, [{"question": "Q", "answer": "B", "options": OPTS}], "adaptive")
    assert (r.halted, r.halt_reason, r.probes, r.thinking_tokens) == (True, "adaptive", [0], 0)
    assert (r.answer_source, r.answer_text, r.prediction, r.correct) == ("probe", "B", "B", True)
    assert r.answer_tokens == 1 and r.tokens_used == 1 and _reasoning_calls(m) == []
    assert r.info_bias == pytest.approx([-math.log2(0.97)])
    assert m.probe_prompts == ["USER: Q\nA. one\nB. two\nC. three\nD. four\n\nThink step by step, then give the final answer.\nASSISTANT:\nThe answer is"]


def test_adaptive_halts_at_first_probe_below_threshold():
    thr = 0.3 / (math.e * math.log(2))
    script = {"Q1": [P_UNIFORM, P_LEANING, P_SURE, P_SURE]}
    assert [_bits(p) / 4 < thr for p in script["Q1"]] == [False, False, True, True]
    m = ScriptedModel(script, paragraph=16)
    [r] = run_halting(m, [{"question": "Q1", "answer": "B", "options": OPTS}], "adaptive", max_thinking_tokens=256)
    assert r.halted and r.halt_reason == "adaptive"
    assert r.probes == [0, 16, 32] and r.thinking_tokens == 32 and r.tokens_saved == 256 - 32
    assert np.allclose(r.entropies, [_bits(p) for p in script["Q1"][:3]])
    assert np.allclose(r.info_gain, [_bits(P_UNIFORM) - _bits(P_LEANING), _bits(P_LEANING) - _bits(P_SURE)])
    assert np.allclose(r.info_bias, [2.0, -math.log2(0.1), -math.log2(0.01)])  # gold B
    assert r.candidates == [" A", " B", " C", " D"] and m.probe_candidates[0] == r.candidates
    assert r.answer_text == "A" and r.prediction == "A" and r.correct is False  # argmax of the halting probe
    assert r.tokens_used == 32 + 1


def test_paragraphs_shorter_than_the_minimum_are_merged():
    m = ScriptedModel({"Q": [P_UNIFORM] * 10}, paragraph=6, eos_at={"Q": 20})
    [r] = run_halting(m, [{"question": "Q", "options": OPTS}], "adaptive", min_paragraph_tokens=10)
    # 6-token paragraphs: probes after 12 and (the closing probe) where the model ended, 20 + EOS
    assert r.probes == [0, 12, 21] and r.halt_reason == "eos" and r.thinking_tokens == 21
    assert r.reasoning.count("\n\n") == 3 and r.answer_source == "probe"
    [r] = run_halting(ScriptedModel({"Q": [P_UNIFORM] * 10}, paragraph=6, eos_at={"Q": 20}), [{"question": "Q", "options": OPTS}], "adaptive", min_paragraph_tokens=0)
    assert r.probes == [0, 6, 12, 18, 21]
    # no blank lines at all: llminfo's cap `probe_every` still probes
    [r] = run_halting(ScriptedModel({"Q": [P_UNIFORM] * 10}), [{"question": "Q", "options": OPTS}], "adaptive", probe_every=10, max_thinking_tokens=30)
    assert r.probes == [0, 10, 20, 30] and r.halt_reason == "budget"


def test_numeric_candidates_are_the_probes_full_answers():
    """Free-form numbers: the candidates are the full numbers the probes answer (greedy 42,
    samples 41, 43, 45), pooled; the gold joins the scored list for InfoBias only."""
    m = ScriptedModel({"Q": [[0.9, 0.05, 0.03, 0.02]]})
    [r] = run_halting(m, [{"question": "Q", "answer": "#### 7"}], "adaptive", probe_samples=3)
    assert r.candidates == [" 42", " 41", " 43", " 45"]
    assert m.probe_candidates[0] == [" 42", " 41", " 43", " 45", " 7"]
    assert r.probes == [0] and r.halt_reason == "adaptive" and r.prediction == "42" and r.correct is False
    q7 = 1e-9 / (1.0 + 1e-9)
    assert r.info_bias == pytest.approx([-math.log2(q7)])
    [r] = run_halting(ScriptedModel({"Q": [[1.0]]}), [{"question": "Q", "answer": "42"}], "adaptive", probe_samples=0)
    assert r.candidates == [" 42"] and r.entropies == [0.0] and r.correct is True and r.info_bias == [0.0]


def test_gated_and_no_think_baselines():
    script = {"QS": [P_SURE], "QU": [P_UNIFORM]}
    items = [{"question": q, "answer": "A", "options": OPTS} for q in script]
    m = ScriptedModel(script)
    sure, unsure = run_halting(m, items, "gated", max_thinking_tokens=40)
    assert (sure.halt_reason, sure.thinking_tokens, sure.probes, sure.answer_source, sure.prediction) == ("gated", 0, [0], "probe", "A")
    assert (unsure.halt_reason, unsure.thinking_tokens, unsure.probes, unsure.answer_source) == ("budget", 40, [0], "generated")
    assert len(m.probe_prompts) == 2  # one decision, before reasoning; none afterwards
    m = ScriptedModel(script)
    res = run_halting(m, items, "no_think")
    assert [(r.thinking_tokens, r.halt_reason, r.probes, r.answer_source) for r in res] == [(0, "no_think", [], "generated")] * 2
    assert m.probe_prompts == [] and all(p.endswith("ASSISTANT:\nThe answer is") for p in m.calls[0]["prompts"])


def test_adaptive_budget_min_tokens_and_rows_independent():
    script = {"QA": [P_UNIFORM, P_SURE], "QB": [P_UNIFORM, P_UNIFORM, P_UNIFORM, P_SURE], "QC": [P_UNIFORM]}
    items = [{"question": q, "options": OPTS} for q in script]
    m = ScriptedModel(script)
    kw = dict(probe_every=10, max_thinking_tokens=50, close_marker="</think>")
    res = run_halting(m, items, "adaptive", **kw)
    assert [r.thinking_tokens for r in res] == [10, 30, 50]
    assert [r.halt_reason for r in res] == ["adaptive", "adaptive", "budget"]
    assert [r.probes for r in res] == [[0, 10], [0, 10, 20, 30], [0, 10, 20, 30, 40, 50]]
    assert all(p.endswith("</think>\nThe answer is") for p in m.probe_prompts)
    alone = [run_halting(ScriptedModel({q: s}), [it], "adaptive", **kw)[0] for (q, s), it in zip(script.items(), items)]
    assert [a.to_dict() for a in alone] == [r.to_dict() for r in res]
    # min_tokens: sure from the first probe, but halting waits until 30 tokens were written
    [r] = run_halting(ScriptedModel({"QA": [P_SURE]}), [items[0]], "adaptive", probe_every=10, min_tokens=30)
    assert r.probes == [0, 10, 20, 30] and r.thinking_tokens == 30
    # a larger ratio halts earlier: H/C = 0.339 < 0.3 * 0.531 * 2.5
    [r] = run_halting(ScriptedModel({"QB": [P_LEANING]}), [items[1]], "adaptive", probe_every=10, ratio=0.75)
    assert r.thinking_tokens == 0


def test_no_halting_mode_uses_the_budget():
    m = ScriptedModel({"Q": [P_SURE]})
    r = run_halting_item(m, "Q", "none", answer="42", max_thinking_tokens=40)
    assert r["thinking_tokens"] == 40 and r["halt_reason"] == "budget" and r["probes"] == [] and not r["halted"]
    assert m.probe_prompts == [] and r["correct"] is True and r["answer_source"] == "generated"


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
        ({"min_paragraph_tokens": -1}, ValueError, "min_paragraph_tokens"),
        ({"max_candidates": 1}, ValueError, "max_candidates"),
        ({"paragraph_probes": "yes"}, TypeError, "paragraph_probes"),
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
    from llminfo.analyzers.adaptive_think import halting_prompt

    m = default_model
    q = {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "7"}
    # ratio 10: threshold 5.3 bits per candidate, so the probe before reasoning halts; its
    # entropy must equal an independent read of the answer distribution over its candidates.
    [r] = run_halting(m, [q], "adaptive", ratio=10.0, probe_samples=2, max_answer_tokens=6)
    assert r.halt_reason == "adaptive" and r.probes == [0] and r.thinking_tokens == 0 and r.answer_source == "probe"
    logp = m.next_token_logprobs([halting_prompt(m, q["question"]) + "\nThe answer is"], [r.candidates])
    # the probe scored the gold " 7" alongside (InfoBias): another call shape, float32 rounding
    assert r.entropies[0] == pytest.approx(float(measures.answer_entropy_bits(logp)[0]), abs=1e-4)
    assert r.answer_text == r.candidates[int(np.argmax(logp[0]))].strip()
    assert 0 <= r.entropies[0] <= math.log2(len(r.candidates)) + 1e-9 and len(r.info_bias) == 1
    [e] = run_halting(m, [q], "entropy", entropy_threshold=1e6, window=1, min_tokens=6, max_answer_tokens=6)
    assert e.thinking_tokens == 6 and e.halt_reason == "entropy" and e.answer_tokens > 0
    [n] = run_halting(m, [q], "none", max_thinking_tokens=24)
    assert n.thinking_tokens <= 24 and n.halt_reason in ("eos", "budget") and n.probes == []


def test_entropy_mode_without_processor_records_reads_the_output(tiny_model, tok):
    """On vLLM the processor runs inside the engine (no records here): the halt is read from
    the forced string in the output, and must agree with the records of an HF run."""
    from llminfo.processors.halting import EntropyHaltingProcessor

    class EngineLike:  # runs a copy of the processor, built from its vLLM settings
        name, backend, tokenizer = "engine-like", "fake", tiny_model.tokenizer
        chat = tiny_model.chat

        def generate(self, prompts, *, processors=None, **kw):
            cfg = processors[0].vllm_extra_args()["entropy_halting"]
            copy = EntropyHaltingProcessor(self.tokenizer, cfg.pop("threshold"), **cfg)
            return tiny_model.generate(prompts, processors=[copy], **kw)

    items = [{"question": "The quick brown fox"}, {"question": "One two three four"}]
    for kw in ({"entropy_threshold": 1e6, "min_tokens": 4}, {"entropy_threshold": 0.0, "max_thinking_tokens": 6}):
        kw = {"window": 2, "max_answer_tokens": 3, "max_thinking_tokens": 32, **kw}
        direct = run_halting(tiny_model, items, "entropy", **kw)
        via = run_halting(EngineLike(), items, "entropy", **kw)
        assert [r.to_dict() for r in via] == [r.to_dict() for r in direct]
        assert all(r.halted or r.halt_reason == "budget" for r in direct)
