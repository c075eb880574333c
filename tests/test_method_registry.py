"""The method registry and the `HallucinationMethod.score` template: adding a method is one
class plus one registration, and the base class prepares the statistics it declares."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from llminfo.analyzers import registry
from llminfo.analyzers.base import (
    HallucinationMethod,
    MethodResult,
    QAItem,
    SampleCache,
    answer_continuation,
    clean_answer,
    qa_prompt,
)


class SampleDisagreement(HallucinationMethod):
    """Toy method: the fraction of sampled answers that differ from the scored answer."""

    name = "toy_disagreement"
    needs = ("answers", "samples")

    def __init__(self, num_samples: int = 4, temperature: float = 1.0, max_new_tokens: int = 6):
        self.num_samples, self.temperature, self.max_new_tokens = num_samples, temperature, max_new_tokens

    def reduce(self, model, items, stats, *, seed, cache):
        return [
            MethodResult(float(np.mean([clean_answer(c.text) != a for c in comps])), {"answer": a})
            for a, comps in zip(stats["answers"], stats["samples"])
        ]


@pytest.fixture
def toy_registered():
    registry.register_method("toy_disagreement", SampleDisagreement)
    yield
    registry.unregister_method("toy_disagreement")


def test_registered_toy_method_runs_through_the_scorer(tiny_model, toy_registered):
    from llminfo.analyzers.scorer import HallucinationScorer

    items = [QAItem("What is the capital of France?"), QAItem("One two three?", answer="four")]
    scorer = HallucinationScorer([("toy_disagreement", {"num_samples": 3, "max_new_tokens": 5}), "msp"])
    cache = SampleCache()
    res = scorer.score(tiny_model, items, seed=7, cache=cache)

    # Independent reference: the prompts, greedy answer and samples straight from the model.
    prompts = [qa_prompt(tiny_model, it.question, it.context) for it in items]
    greedy = clean_answer(tiny_model.generate(prompts[:1], n=1, max_new_tokens=24, temperature=0.0, seed=0, stop=["\n"])[0][0].text)
    answers = [greedy, "four"]
    samples = tiny_model.generate(prompts, n=3, max_new_tokens=5, temperature=1.0, seed=7, stop=["\n"])
    for r, a, comps in zip(res, answers, samples):
        assert r.answer == a
        assert r.scores["toy_disagreement"] == pytest.approx(np.mean([clean_answer(c.text) != a for c in comps]))
        assert r.details["toy_disagreement"] == {"answer": a}
    # msp through the same template: -log P(answer | prompt) from a direct score call.
    direct = tiny_model.score(prompts, [answer_continuation(tiny_model, a) for a in answers])
    assert [r.scores["msp"] for r in res] == pytest.approx([-s.sum_logprob for s in direct], rel=1e-5, abs=1e-5)
    # The template draws through the shared cache: greedy answers + samples = 2 generate calls.
    assert cache.generate_calls == 2

    # Saved by name, loaded by name.
    again = HallucinationScorer.from_dict(scorer.to_dict())
    assert again.names == ["toy_disagreement", "msp"]


def test_registered_toy_method_in_the_qa_eval_task(toy_registered):
    from llminfo.eval.task_qa import QAHallucinationTask

    assert QAHallucinationTask.method_registry()["toy_disagreement"] is SampleDisagreement


def test_register_errors_name_the_problem():
    with pytest.raises(ValueError, match="already registered"):
        registry.register_method("msp", SampleDisagreement)
    with pytest.raises(ValueError, match="named 'toy_disagreement'"):
        registry.register_method("other_name", SampleDisagreement)
    with pytest.raises(TypeError, match="not a HallucinationMethod"):
        registry.register_method("x", dict)
    with pytest.raises(ValueError, match="module:ClassName"):
        registry.register_method("x", "no_colon")
    with pytest.raises(ValueError, match="unknown method 'nope'; choose from"):
        registry.get_method_class("nope")
    assert "x" not in registry.method_names()


def test_lazy_string_registration(toy_registered):
    registry.register_method("toy_lazy", "test_method_registry:SampleDisagreement")
    try:
        with pytest.raises(ValueError, match="named 'toy_disagreement'"):  # checked on first import
            registry.get_method_class("toy_lazy")
    finally:
        registry.unregister_method("toy_lazy")


def test_needs_are_checked_when_the_class_is_defined():
    with pytest.raises(TypeError, match="unknown statistics"):

        class Bad(HallucinationMethod):  # noqa: F841
            needs = ("logits",)


def test_every_builtin_is_registered_under_its_own_name_and_old_names_work():
    import llminfo.analyzers as A
    from llminfo.analyzers.base import builtin_methods
    from llminfo.analyzers.scorer import DEFAULT_METHODS, available_methods

    methods = registry.available_methods()
    assert {"msp", "perplexity", "mean_entropy", "semantic_entropy", "discrete_semantic_entropy",
            "iterative_mi", "edfl", "edfl_answer"} <= set(methods)
    for name, cls in methods.items():
        assert cls.name == name
        assert getattr(A, cls.__name__) is cls  # re-exported from the registry line
    assert available_methods() == builtin_methods() == A.available_methods() == methods
    assert set(DEFAULT_METHODS) <= set(methods)


def test_registry_import_is_lazy():
    code = (
        "import sys, llminfo.analyzers.registry as r; r.method_names(); "
        "print([m for m in ('llminfo.analyzers.baselines', 'llminfo.analyzers.edfl', 'llminfo.analyzers.base') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
