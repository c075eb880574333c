"""p(True) with the semantic-entropy reference's labelled few-shot examples (`PTrue(few_shot=[...])`):
the prefix against an independent transcription of the reference's `construct_few_shot_prompt`,
P(True) against a direct forward pass, the shared prefix encoded once per batch, input errors,
and the zero-shot prompt unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llminfo.analyzers.base import QAItem, SampleCache, qa_prompt
from llminfo.analyzers.p_true_few_shot import p_true_few_shot_prompt
from llminfo.analyzers.semantic_entropy import PTrue

EXAMPLES = [
    {"question": "What is the capital of France?", "answers": ["Paris", " Lyon "], "answer": "Paris", "correct": True},
    {"question": "What is 2 + 3?", "answers": ["5"], "answer": "The answer is 42.", "correct": False},
    {"question": "One two three?", "answers": [], "answer": " four ", "correct": True},
]


@pytest.fixture(scope="module")
def long_tiny():
    """The tiny random Llama with a 1024-token context (its byte-level tokenizer makes a
    few-shot prompt longer than the usual 256); rotary positions need no table."""
    from tiny import tiny_llama

    from llminfo.models.hf import HFModel

    model, tok = tiny_llama(0)
    model.config.max_position_embeddings = 1024
    return HFModel(model, tok, name="tiny-llama-1024")


def reference_few_shot_prompt(examples, count=None, token_limit=None, num_generations=10, max_new_tokens=24):
    """jlko/semantic_uncertainty `construct_few_shot_prompt`, transcribed line by line with the
    model calls replaced by the stored responses (responses[0] is the most likely answer)."""
    few_shot_prompt = []
    for it, ex in enumerate(examples):
        prompt_candidate = []
        if it != 0:
            prompt_candidate += ['\n']
        prompt_candidate += ['Question: ' + ex["question"]]
        prompt_candidate += ['\nBrainstormed Answers: ']
        responses = [ex["answer"]] + list(ex["answers"])
        for j in range(len(responses)):
            response = responses[j]
            prompt_candidate += [f'{response.strip()} \n']
            if j == 0:
                most_likely_response = response
                is_correct = ex["correct"]
        prompt_candidate += ['Possible answer: ' + most_likely_response + '\n']
        prompt_candidate += ['Is the possible answer:\n']
        prompt_candidate += ['A) True\n']
        prompt_candidate += ['B) False\n']
        prompt_candidate += ['The possible answer is:']
        prompt_candidate += [' A' if is_correct else ' B']
        if count is None:
            few_shot_prompt.extend(prompt_candidate)
            continue
        prompt_len = count(''.join(few_shot_prompt + prompt_candidate))
        max_input_len = prompt_len + num_generations * max_new_tokens + 200
        if max_input_len < token_limit:
            few_shot_prompt.extend(prompt_candidate)
        else:
            break
    return ''.join(few_shot_prompt)


def reference_calculate_p_true_prompt(question, most_probable_answer, brainstormed_answers, few_shot_prompt):
    """The prompt of the reference's `calculate_p_true` (hint=False), transcribed."""
    prompt = few_shot_prompt + '\n' if few_shot_prompt else ''
    prompt += 'Question: ' + question
    prompt += '\nBrainstormed Answers: '
    for answer in brainstormed_answers + [most_probable_answer]:
        prompt += answer.strip() + '\n'
    prompt += 'Possible answer: ' + most_probable_answer + '\n'
    prompt += 'Is the possible answer:\n'
    prompt += 'A) True\n'
    prompt += 'B) False\n'
    prompt += 'The possible answer is:'
    return prompt


def test_prefix_equals_the_reference_text():
    prefix, kept = p_true_few_shot_prompt(EXAMPLES)
    assert kept == 3 and prefix == reference_few_shot_prompt(EXAMPLES)
    # spelled out once, so a shared mistake of both transcriptions shows too
    assert prefix.startswith("Question: What is the capital of France?\nBrainstormed Answers: Paris \nParis \nLyon \n"
                             "Possible answer: Paris\nIs the possible answer:\nA) True\nB) False\nThe possible answer is: A\n"
                             "Question: What is 2 + 3?\nBrainstormed Answers: The answer is 42. \n5 \n")
    assert prefix.endswith("Brainstormed Answers: four \nPossible answer:  four \nIs the possible answer:\nA) True\n"
                           "B) False\nThe possible answer is: A")
    assert p_true_few_shot_prompt([]) == ("", 0)


@pytest.mark.parametrize("token_limit", [220, 330, 500, 10_000])
def test_prefix_is_cut_to_the_context_as_the_reference(tiny_model, token_limit):
    """The reference stops at the first example whose prefix + num_generations · max_new_tokens
    + 200 tokens reaches the model's token limit (500: the third example makes it exactly 500)."""
    count = lambda text: len(tiny_model.tokenizer.encode(text))  # noqa: E731
    prefix, kept = p_true_few_shot_prompt(EXAMPLES * 3, count, token_limit, num_generations=3, max_new_tokens=5)
    assert prefix == reference_few_shot_prompt(EXAMPLES * 3, count, token_limit, num_generations=3, max_new_tokens=5)
    assert prefix == p_true_few_shot_prompt((EXAMPLES * 3)[:kept])[0]
    assert (kept == 9) == (token_limit == 10_000) and (kept == 0) == (prefix == "")
    if kept < 9:  # the next example would not have fitted
        longer = p_true_few_shot_prompt((EXAMPLES * 3)[: kept + 1])[0]
        assert count(longer) + 3 * 5 + 200 >= token_limit


def test_p_true_with_few_shot_matches_a_direct_forward_pass(long_tiny):
    """P(True) = p(" A" | reference few-shot prefix + "\\n" + reference test prompt), from one plain
    forward pass of the model on the tokens of that text (the reference's `get_p_true`)."""
    items = [QAItem("What is the capital of France?", answer="Paris"), QAItem("What is 2 + 3?", answer="The answer is 42.")]
    examples = [dict(e, answers=e["answers"][:1]) for e in EXAMPLES[:2]]
    cache = SampleCache()
    pt = PTrue(num_samples=2, max_new_tokens=3, few_shot=examples, token_limit=10_000)
    res = pt.score(long_tiny, items, seed=1, cache=cache)
    prefix = reference_few_shot_prompt(examples)
    tok = long_tiny.tokenizer
    for it, r in zip(items, res):
        [comps] = cache.get(long_tiny, [qa_prompt(long_tiny, it.question)], n=2, temperature=1.0, max_new_tokens=3, seed=1)
        prompt = reference_calculate_p_true_prompt(it.question, it.answer, [c.text.strip() for c in comps], prefix)
        assert pt.prompt_for(it.question, [c.text.strip() for c in comps], it.answer, long_tiny) == prompt
        p_ids, a_ids = tok(prompt, add_special_tokens=False)["input_ids"], tok(" A", add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = long_tiny.model(input_ids=torch.tensor([p_ids + a_ids])).logits[0].double()
        lp = torch.log_softmax(logits, -1)[len(p_ids) - 1 : len(p_ids) + len(a_ids) - 1].gather(1, torch.tensor(a_ids)[:, None])
        p = math.exp(float(lp.sum()))
        assert r.details["p_true"] == pytest.approx(p, rel=1e-4)
        assert r.score == pytest.approx(1 - p, rel=1e-4, abs=1e-6)
        assert r.details["few_shot_examples"] == 2


def test_default_token_limit_is_the_models_context(long_tiny, monkeypatch):
    """Without `token_limit` the prefix is cut to the model's context (1024 tokens here), so
    the prompts of a long example list still fit."""
    from llminfo.analyzers import semantic_entropy

    built = []
    build = semantic_entropy.p_true_few_shot_prompt
    monkeypatch.setattr(semantic_entropy, "p_true_few_shot_prompt", lambda *a, **k: built.append(1) or build(*a, **k))
    pt = PTrue(num_samples=2, max_new_tokens=3, few_shot=EXAMPLES * 5)
    count = lambda text: len(long_tiny.tokenizer.encode(text))  # noqa: E731
    prefix, kept = pt.few_shot_prefix(long_tiny)
    assert 0 < kept < 15
    assert prefix == reference_few_shot_prompt(EXAMPLES * 5, count, 1024, num_generations=2, max_new_tokens=3)
    assert pt.few_shot_prefix(long_tiny) == (prefix, kept)
    res = pt.score(long_tiny, [QAItem("What is 2 + 3?", answer="5"), QAItem("One two three?", answer="four")], seed=0)
    assert all(0 < r.details["p_true"] < 1 and r.details["few_shot_examples"] == kept for r in res)
    assert len(built) == 1  # built once for the model, not per call or question


def test_shared_prefix_is_encoded_once_per_batch(long_tiny, monkeypatch):
    """The few-shot prefix is the same for every question: one `score` call for the batch,
    and the model forwards the prefix's tokens once, not once per question (up to the tokens
    where the prefix meets the question)."""
    items = [QAItem(q, answer=a) for q, a in [("What is 2 + 3?", "5"), ("One two three?", "four"), ("What is 42?", "42")]]
    pt = PTrue(num_samples=2, max_new_tokens=3, few_shot=EXAMPLES[:2], token_limit=10_000)
    cache = SampleCache()
    tok = long_tiny.tokenizer
    prefix_len = len(tok.encode(pt.few_shot_prefix(long_tiny)[0]))
    prompt_lens = []
    for it in items:
        [comps] = cache.get(long_tiny, [qa_prompt(long_tiny, it.question)], n=2, temperature=1.0, max_new_tokens=3, seed=0)
        prompt_lens.append(len(tok.encode(pt.prompt_for(it.question, [c.text.strip() for c in comps], it.answer, long_tiny))))
    forwarded = []  # real (unpadded) tokens of every forward during `score`
    score = long_tiny.score

    def counted_score(*args, **kwargs):
        hook = long_tiny.model.register_forward_pre_hook(
            lambda mod, a, kw: forwarded.append(int(kw["attention_mask"][:, -kw["input_ids"].shape[1]:].sum())),
            with_kwargs=True)
        try:
            return score(*args, **kwargs)
        finally:
            hook.remove()

    monkeypatch.setattr(long_tiny, "score", counted_score)
    res = pt.score(long_tiny, items, seed=0, cache=cache)
    assert cache.score_calls == 1 and len(res) == 3
    assert prefix_len > 150 and prefix_len <= sum(forwarded) <= sum(prompt_lens) - 2 * (prefix_len - 2)


def test_bad_few_shot_examples_name_the_field():
    good = dict(EXAMPLES[0])
    with pytest.raises(TypeError, match="`few_shot` has to be a string or a list"):
        PTrue(few_shot=3)
    with pytest.raises(TypeError, match=r"`few_shot\[1\]` has to be a dict"):
        PTrue(few_shot=[good, "Paris"])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]`.*missing \['correct'\]"):
        PTrue(few_shot=[{k: v for k, v in good.items() if k != "correct"}])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]`.*unknown \['is_correct'\]"):
        PTrue(few_shot=[dict(good, is_correct=True)])
    with pytest.raises(ValueError, match=r"`few_shot\[1\]\[\"correct\"\]` has to be True or False"):
        PTrue(few_shot=[good, dict(good, correct=1)])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]\[\"answers\"\]`"):
        PTrue(few_shot=[dict(good, answers="Paris")])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]\[\"answers\"\]`"):
        PTrue(few_shot=[dict(good, answers=["Paris", None])])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]\[\"question\"\]`"):
        PTrue(few_shot=[dict(good, question=" ")])
    with pytest.raises(ValueError, match=r"`few_shot\[0\]\[\"answer\"\]`"):
        PTrue(few_shot=[dict(good, answer=None)])
    with pytest.raises(ValueError, match="protocol='farquhar'"):
        PTrue(few_shot=[good], protocol="kadavath")
    with pytest.raises(ValueError, match="`token_limit`"):
        PTrue(few_shot=[good], token_limit=0)
    with pytest.raises(ValueError, match="need the model"):
        PTrue(few_shot=[good]).prompt_for("Q?", [], "A")


def test_zero_shot_is_unchanged():
    """No examples (the default, "" or []) gives the reference's zero-shot prompt, byte for byte."""
    zero = reference_calculate_p_true_prompt("Q1?", "Paris", ["Paris", " Lyon"], "")
    assert zero == ("Question: Q1?\nBrainstormed Answers: Paris\nLyon\nParis\nPossible answer: Paris\n"
                    "Is the possible answer:\nA) True\nB) False\nThe possible answer is:")
    for pt in (PTrue(), PTrue(few_shot=""), PTrue(few_shot=[])):
        assert pt.prompt_for("Q1?", ["Paris", " Lyon"], "Paris") == zero
    assert PTrue(few_shot="Some text").prompt_for("Q1?", ["Paris"], "Paris") == "Some text\n" + zero.replace("Lyon\n", "")


def _quality_rows(n: int = 60) -> list[dict]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        rows.append({"id": f"fqa-{i:04d}", "set": "factual" if i % 7 else "many", "difficulty": ("easy", "hard")[i % 2],
                     "question": f"Question {i}?", "answer": f"answer {i}", "correct": bool(rng.random() < 0.5),
                     "details": {"semantic_entropy": {"answers": [f"s{i}a", f"s{i}b"]}, "p_true": {"p_true": 0.3}}})
    return rows


def test_script_draws_few_shot_examples_from_the_development_split_only():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import p_true_variants
    from quality_eval import held_out_mask

    rows = _quality_rows()
    fact = [r for r in rows if r["set"] == "factual"]
    held = held_out_mask([r["id"] for r in fact], np.array([0.0 if r["correct"] else 1.0 for r in fact]),
                         [r["difficulty"] for r in fact])
    drawn, held_rows = p_true_variants.few_shot_split(rows, 10, seed=0)
    assert [r["id"] for r in held_rows] == [r["id"] for r, h in zip(fact, held) if h]
    dev_ids = {r["id"] for r, h in zip(fact, held) if not h}
    assert len({r["id"] for r in drawn}) == 10 and {r["id"] for r in drawn} <= dev_ids
    assert p_true_variants.few_shot_split(rows, 10, seed=0)[0] == drawn  # the seed fixes the draw
    assert p_true_variants.few_shot_split(list(reversed(rows)), 10, seed=0)[0] == drawn  # not the file order
    assert p_true_variants.few_shot_split(rows, 10, seed=1)[0] != drawn
    # on="development": the same examples, and every development row that is not one of them
    drawn_d, dev_rows = p_true_variants.few_shot_split(rows, 10, seed=0, on="development")
    assert drawn_d == drawn and {r["id"] for r in dev_rows} == dev_ids - {r["id"] for r in drawn}
    with pytest.raises(SystemExit, match="--few-shot-on"):
        p_true_variants.few_shot_split(rows, 10, seed=0, on="test")
    ex = p_true_variants.few_shot_examples(drawn[:1])
    assert ex == [{"question": drawn[0]["question"], "answers": drawn[0]["details"]["semantic_entropy"]["answers"],
                   "answer": drawn[0]["answer"], "correct": drawn[0]["correct"]}]
    PTrue(few_shot=ex)  # valid examples
    with pytest.raises(SystemExit, match="only"):
        p_true_variants.few_shot_split(rows, 1000, seed=0)


def test_script_few_shot_evaluation():
    import sys
    from pathlib import Path

    from sklearn.metrics import roc_auc_score

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import p_true_variants

    rng = np.random.default_rng(2)
    recs = []
    for i in range(80):
        correct = bool(i % 2)
        z = math.log(0.4) + rng.normal(scale=0.3)
        f = math.log(0.6 if correct else 0.3) + rng.normal(scale=0.2)
        recs.append({"id": f"q{i}", "correct": correct, "stored_p_true": math.exp(z),
                     "farquhar": {"logp_true": z, "logp_false": math.log(0.2)},
                     "farquhar_fewshot": {"logp_true": f, "logp_false": math.log(0.1)}})
    rep = p_true_variants.evaluate_few_shot(recs)
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    z = np.array([r["farquhar"]["logp_true"] for r in recs])
    f = np.array([r["farquhar_fewshot"]["logp_true"] for r in recs])
    paper = "paper (risk = 1 - P(True))"
    assert rep["farquhar"][paper]["auroc"] == pytest.approx(roc_auc_score(wrong, -z))
    assert rep["farquhar_fewshot"][paper]["auroc"] == pytest.approx(roc_auc_score(wrong, -f))
    d = rep["fewshot_minus_zero_shot_auroc"][paper]
    assert d["diff"] == pytest.approx(roc_auc_score(wrong, -f) - roc_auc_score(wrong, -z))
    assert d["ci95"][0] < d["diff"] < d["ci95"][1]
    norm = "normalized (risk = 1 - P(A)/(P(A)+P(B)))"
    assert rep["farquhar_fewshot"][norm]["auroc"] == pytest.approx(roc_auc_score(wrong, 1 - np.exp(f) / (np.exp(f) + 0.1)))
    assert rep["n_held_out"] == 80 and rep["farquhar_vs_stored_p_true_max_abs_diff"] < 1e-12


def test_script_rows_of_several_draws_share_a_file(tmp_path):
    """Records of different few-shot draws (configs) in one rows file are kept apart; the last
    record of an id wins; a torn last line is skipped."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import p_true_variants

    path = tmp_path / "rows.jsonl"
    recs = [{"id": "a", "config": "c0", "v": 1}, {"id": "a", "config": "c1", "v": 2}, {"id": "b", "config": "c0", "v": 3},
            {"id": "a", "config": "c0", "v": 4}]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs) + '{"id": "b", "con')
    assert {k: r["v"] for k, r in p_true_variants.read_config_rows(path, "c0").items()} == {"a": 4, "b": 3}
    assert {k: r["v"] for k, r in p_true_variants.read_config_rows(path, "c1").items()} == {"a": 2}
    assert p_true_variants.read_config_rows(tmp_path / "none.jsonl", "c0") == {}
