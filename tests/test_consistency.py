"""prompt_disagreement: the second prompt and greedy decode it uses, the matching rule on
closed-form cases, scripted answers, the tiny model against direct `generate` calls, batch
independence, one decode loop with the scorer, and bad input."""

from __future__ import annotations

import pytest
from fake_qa_model import FakeQAModel

from llminfo.analyzers.base import QAItem, SampleCache, answers_for
from llminfo.analyzers.consistency import PromptDisagreement, answers_match
from llminfo.analyzers.registry import get_method_class
from llminfo.analyzers.scorer import HallucinationScorer
from llminfo.analyzers.semantic_entropy import FARQUHAR_BRIEF, farquhar_prompt
from llminfo.models.base import Completion


class TwoPromptModel(FakeQAModel):
    """FakeQAModel whose greedy answer under the brief few-shot prompt is scripted apart."""

    def __init__(self, first: dict[str, str], second: dict[str, str]):
        super().__init__({q: [(a, -1.0)] for q, a in first.items()}, greedy=first)
        self.second = second
        self.second_prompts: list[str] = []

    def generate(self, prompts, **kw):
        prompts = list(prompts)
        brief = [p for p in prompts if p.startswith(FARQUHAR_BRIEF)]
        if not brief:
            return super().generate(prompts, **kw)
        assert len(brief) == len(prompts) and kw.get("temperature") == 0 and kw.get("n", 1) == 1
        self.second_prompts += prompts
        out = []
        for p in prompts:
            q = p.rsplit("Question: ", 1)[1].split("\n", 1)[0]
            out.append([Completion(self.second[q], [1], [-0.1], [0.2], "stop", [-0.1])])
        return out


@pytest.mark.parametrize("a, b, same", [
    ("The capital of Norway is Oslo.", "Oslo", True),   # the short answer inside the sentence
    ("Oslo", "The capital of Norway is Oslo.", True),   # either way round
    ("Oslo.", "oslo", True),                             # case and final full stop
    ("The answer is 18.", "8 + 1 = 9", False),
    ("Parisian cafes", "Paris", False),                  # whole tokens only
    ("", "Paris", False), ("Paris", "  ", False), ("Paris", ".", False),  # an empty answer matches nothing
    ("!", "?", False), ("...", "...", False),  # nor does one without a letter or digit, not even itself
    ("A", "A", True),  # "A" is an answer (a blood type) although normalising drops it as an article
])
def test_answers_match_closed_form(a, b, same):
    assert answers_match(a, b) is same


def test_scripted_answers_give_the_expected_scores_and_prompts():
    first = {"What is the capital of Norway?": "The capital of Norway is Oslo.",
             "What is 8 + 1?": "The answer is 18.",
             "Who wrote Hamlet?": "Shakespeare",
             "What is the capital of France?": "Lyon"}
    second = {"What is the capital of Norway?": "Oslo", "What is 8 + 1?": "9", "Who wrote Hamlet?": "",
              "What is the capital of France?": "Paris."}
    model = TwoPromptModel(first, second)
    items = [QAItem(q) for q in first] + [QAItem("What is the capital of France?", answer="paris")]
    res = PromptDisagreement().score(model, items)
    assert [r.score for r in res] == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert [r.details["answer"] for r in res] == list(first.values()) + ["paris"]
    assert [r.details["second_answer"] for r in res] == ["Oslo", "9", "", "Paris.", "Paris."]
    assert [r.details["agree"] for r in res] == [True, False, False, False, True]
    # the second prompt is the semantic-entropy paper's brief few-shot prompt (each asked once)
    assert model.second_prompts == list(dict.fromkeys(farquhar_prompt(it.question, it.context) for it in items))
    ctx = [QAItem("Who wrote Hamlet?", context="Hamlet is a tragedy.")]
    model = TwoPromptModel(first, second)
    PromptDisagreement().score(model, ctx)
    assert model.second_prompts == [farquhar_prompt(ctx[0].question, ctx[0].context)]
    assert model.second_prompts[0].endswith("Context: Hamlet is a tragedy.\nQuestion: Who wrote Hamlet?\nAnswer:")


def test_custom_second_prompt_is_used():
    first, second = {"Who wrote Hamlet?": "Shakespeare"}, {"Who wrote Hamlet?": "William Shakespeare"}
    model = TwoPromptModel(first, second)
    fmt = lambda q, c: FARQUHAR_BRIEF + f"Question: {q}\nAnswer:"  # noqa: E731
    [r] = PromptDisagreement(prompt=fmt).score(model, list(first))
    assert model.second_prompts == [fmt("Who wrote Hamlet?", None)] and r.score == 0.0


def short(question, context):  # the tiny model's context (256 tokens) is shorter than the brief few-shot prompt
    return (f"Context: {context}\n" if context else "") + f"Question: {question}\nAnswer:"


def test_tiny_model_matches_direct_generate_and_is_batch_independent(tiny_model):
    items = [QAItem("What is the capital of France?"), QAItem("Who wrote Hamlet?", answer="Shakespeare"),
             QAItem("Who?", context="The quick brown fox.")]
    res = PromptDisagreement(prompt=short, max_new_tokens=6).score(tiny_model, items)
    firsts = answers_for(tiny_model, items, max_new_tokens=6)
    seconds = tiny_model.generate([short(it.question, it.context) for it in items],
                                  temperature=0, max_new_tokens=6, stop=["\n"])
    for r, a, s in zip(res, firsts, seconds):
        assert r.details["answer"] == a and r.details["second_answer"] == s[0].text.strip()
        assert r.score == (0.0 if answers_match(a, s[0].text.strip()) else 1.0)
    alone = [PromptDisagreement(prompt=short, max_new_tokens=6).score(tiny_model, [it])[0] for it in items]
    assert [r.to_dict() for r in alone] == [r.to_dict() for r in res]


def test_scorer_decodes_both_answers_in_one_loop(tiny_model):
    items = ["What is the capital of France?", "Who wrote Hamlet?"]
    cache = SampleCache()
    rows = HallucinationScorer(["msp", ("prompt_disagreement", {"prompt": short})]).score(tiny_model, items, cache=cache)
    assert cache.generate_calls == 1  # the greedy answers of both prompts in one decode loop
    direct = PromptDisagreement(prompt=short).score(tiny_model, items)
    assert [r.scores["prompt_disagreement"] for r in rows] == [d.score for d in direct]
    assert [r.answer for r in rows] == [d.details["answer"] for d in direct]


def test_registered():
    assert get_method_class("prompt_disagreement") is PromptDisagreement


@pytest.mark.parametrize("kwargs, match", [
    ({"prompt": "brief"}, "`prompt` has to be one of"),
    ({"prompt": 3}, "`prompt`"),
    ({"max_new_tokens": 0}, "`max_new_tokens`"),
    ({"max_new_tokens": True}, "`max_new_tokens`"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PromptDisagreement(**kwargs)


def test_prompt_function_returning_a_non_string_names_the_item():
    model = TwoPromptModel({"Who wrote Hamlet?": "Shakespeare"}, {"Who wrote Hamlet?": "x"})
    with pytest.raises(TypeError, match=r"items\[0\]"):
        PromptDisagreement(prompt=lambda q, c: None).score(model, ["Who wrote Hamlet?"])
