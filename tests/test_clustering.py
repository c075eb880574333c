"""Answer clustering: the rule of Farquhar et al. against a direct transcription of their
`get_semantic_ids` (non-transitive relations included), each equivalence, batching, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo.analyzers.clustering import cluster_answer_sets, cluster_answers
from llminfo.analyzers.entailment import equivalence_prompt, nli_from_model, parse_judgement


def farquhar_semantic_ids(strings, equivalent):
    """Transcription of semantic_uncertainty/uncertainty/uncertainty_measures/semantic_entropy.py
    (jlko/semantic_uncertainty): a later answer is reassigned even when it already has an id."""
    semantic_set_ids = [-1] * len(strings)
    next_id = 0
    for i, s1 in enumerate(strings):
        if semantic_set_ids[i] == -1:
            semantic_set_ids[i] = next_id
            for j in range(i + 1, len(strings)):
                if equivalent(s1, strings[j]):
                    semantic_set_ids[j] = next_id
            next_id += 1
    return semantic_set_ids


def test_exact_normalised_match():
    assert cluster_answers(["Paris", "paris.", "The Paris", "Lyon", " PARIS "]) == [0, 0, 0, 1, 0]
    assert cluster_answers(["", "Lyon", ""]) == [0, 1, 0]


def test_lexical_token_f1_threshold():
    ans = ["Paris", "Paris, France", "Lyon, France", "Lyon"]
    assert cluster_answers(ans, "lexical") == [0, 0, 1, 1]  # F1(Paris, Paris France) = 2/3
    assert cluster_answers(ans, "lexical", threshold=0.9) == [0, 1, 2, 3]
    # first-member rule: "Lyon, France" is compared to "Paris" (F1 0) — not chained through
    # "Paris, France" (F1 0.5)
    assert cluster_answers(["Paris", "Paris, France", "Lyon, France"], "lexical", threshold=0.5) == [0, 0, 1]
    with pytest.raises(ValueError, match="lexical"):
        cluster_answers(ans, "f1")


def test_non_transitive_follows_reference_reassignment():
    # a~c and b~c but not a~b: c is equivalent to the first members of two clusters. The
    # reference puts it in the later one (cluster of b); a first-match rule would say 0.
    rel = {frozenset({"a", "c"}), frozenset({"b", "c"})}
    eq = lambda x, y: x == y or frozenset({x, y}) in rel  # noqa: E731
    assert farquhar_semantic_ids(["a", "b", "c"], eq) == [0, 1, 1]
    assert cluster_answers(["a", "b", "c"], eq) == [0, 1, 1]
    # chain a~b, b~c: b joins a's cluster; c is compared with a (first member) only
    rel = {frozenset({"a", "b"}), frozenset({"b", "c"})}
    assert cluster_answers(["a", "b", "c"], eq) == farquhar_semantic_ids(["a", "b", "c"], eq) == [0, 0, 1]
    assert cluster_answers(["b", "a", "c"], eq) == [0, 0, 0]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.booleans(), min_size=n * n, max_size=n * n))))
def test_greedy_equals_reference_on_random_relations(data):
    n, bits = data
    names = [f"w{i}" for i in range(n)]
    m = np.array(bits).reshape(n, n)
    sym = m | m.T
    eq = lambda x, y: x == y or bool(sym[names.index(x), names.index(y)])  # noqa: E731
    assert cluster_answers(names, eq) == farquhar_semantic_ids(names, eq)


def test_embedding_with_fake_embedder_batched_once():
    vecs = {"Paris": [1.0, 0.0], "paris, france": [0.9, 0.1], "London": [0.0, 1.0], "UK": [0.1, 1.0]}
    calls = []

    def embedder(texts):
        calls.append(list(texts))
        return np.array([vecs[t] for t in texts]) * 3.0  # unnormalised on purpose

    out = cluster_answer_sets([["Paris", "paris, france", "London"], ["London", "UK", "Paris"]], "embedding", embedder=embedder)
    assert out == [[0, 0, 1], [0, 0, 1]]
    assert len(calls) == 1
    assert cluster_answers(["Paris", "paris, france"], "embedding", embedder=embedder, threshold=0.999) == [0, 1]
    with pytest.raises(ValueError, match="embedder"):
        cluster_answers(["Paris", "London"], "embedding", embedder=lambda t: np.zeros((1, 2)))


def test_nli_bidirectional_entailment_strict_and_lenient():
    labels = {("Q? Paris", "Q? paris city"): "entailment", ("Q? paris city", "Q? Paris"): "entailment",
              ("Q? Paris", "Q? France"): "entailment", ("Q? France", "Q? Paris"): "neutral",
              ("Q? paris city", "Q? France"): "contradiction", ("Q? France", "Q? paris city"): "neutral"}
    calls = []

    def nli(pairs):
        calls.append(list(pairs))
        return [labels[p].upper() for p in pairs]

    ans = ["Paris", "paris city", "France"]
    assert cluster_answers(ans, "nli", nli=nli, question="Q?") == [0, 0, 1]
    assert len(calls) == 1 and len(calls[0]) == 6
    # lenient: not contradiction and not both neutral -> Paris~France (entail + neutral)
    assert cluster_answers(ans, "nli", nli=nli, question="Q?", strict=False) == [0, 0, 0]
    with pytest.raises(ValueError, match="`nli`"):
        cluster_answers(ans, "nli")
    with pytest.raises(ValueError, match="`nli` returned"):
        cluster_answers(ans, "nli", nli=lambda p: ["entailment"], question="Q?")


def test_nli_from_model_matches_direct_forward():
    from tiny import tiny_tokenizer
    from transformers import BertConfig, BertForSequenceClassification

    tok = tiny_tokenizer()
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, num_labels=3, pad_token_id=tok.pad_token_id,
                     id2label={0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"},
                     label2id={"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2})
    model = BertForSequenceClassification(cfg).eval()
    pairs = [("the fox", "the dog"), ("one two three", "four"), ("yes", "no")]
    fn = nli_from_model(model, tok, batch_size=2)
    got = fn(pairs)
    expected = []
    for p, h in pairs:
        enc = tok([p], [h], return_tensors="pt", padding=True)
        with torch.no_grad():
            expected.append(cfg.id2label[int(model(**enc).logits.argmax(-1))].lower())
    assert got == expected
    cfg_bad = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, num_labels=2)
    with pytest.raises(ValueError, match="entailment"):
        nli_from_model(BertForSequenceClassification(cfg_bad), tok)


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        cluster_answers(["a"], "bogus")
    with pytest.raises(TypeError, match=r"answer_sets\[0\]\[1\]"):
        cluster_answers(["a", 3])
    with pytest.raises(TypeError, match="single string"):
        cluster_answers("Paris")
    with pytest.raises(ValueError, match="empty"):
        cluster_answers([])
    with pytest.raises(ValueError, match="threshold"):
        cluster_answers(["a", "b"], "lexical", threshold=1.5)
    with pytest.raises(ValueError, match="questions"):
        cluster_answer_sets([["a"], ["b"]], "nli", nli=lambda p: [], questions=["q"])


@pytest.mark.integration
def test_shipped_minilm_embedding():
    assert cluster_answers(["Paris", "paris, France", "London"], "embedding") == [0, 0, 1]


def test_question_words_are_stripped_only_when_asked():
    q = "What is the capital of Burkina Faso?"
    ans = ["The capital of Burkina Faso is Abidjan.", "Abidjan", "The capital of Burkina Faso is Koua.", "Koua, I think"]
    assert cluster_answers(ans, "exact", question=q, strip_question=True) == [0, 0, 1, 1]
    assert cluster_answers(ans, "lexical", question=q, strip_question=True) == [0, 0, 1, 1]
    # the papers' rule (default): no stripping, the echoed words dominate F1 (5 of 6 tokens shared)
    assert cluster_answers(ans[::2], "lexical") == [0, 0]
    assert cluster_answers(ans[::2], "lexical", question=q) == [0, 0]
    # an answer that is only the question's words is kept whole
    from llminfo.analyzers.clustering import answer_core

    assert answer_core("Burkina Faso", q) == "burkina faso"
    assert answer_core("It is Paris, I believe.", "What is the capital of France?") == "paris"


class _Judge:
    """A LanguageModel stand-in answering the paper's entailment prompt from a table."""

    def __init__(self, table):
        self.table, self.calls = table, []

    def generate(self, prompts, n=1, max_new_tokens=16, temperature=1.0, seed=None, **kw):
        from llminfo.models.base import Completion

        self.calls.append(list(prompts))
        out = []
        for p in prompts:
            a1 = p.split("Possible Answer 1: ")[1].split("\n")[0]
            a2 = p.split("Possible Answer 2: ")[1].split("\n")[0]
            out.append([Completion(text=self.table.get((a1, a2), "I am not sure"), token_ids=[], logprobs=[], entropy=[], finish_reason="stop")])
        return out


def test_llm_judge_paper_prompt_one_call_and_reference_parsing():
    assert equivalence_prompt("Q?", "x", "y").endswith(
        "Does Possible Answer 1 semantically entail Possible Answer 2? "
        "Respond only with entailment, contradiction, or neutral.\nResponse:")
    assert parse_judgement(" Entailment.") == "entailment"
    assert parse_judgement("nope") == "neutral"
    assert parse_judgement("x" * 30 + "entailment") == "neutral"  # only the first 30 characters
    judge = _Judge({("Paris", "The city of Paris"): " entailment", ("The city of Paris", "Paris"): "Entailment",
                    ("Paris", "Lyon"): "contradiction"})
    out = cluster_answer_sets([["Paris", "The city of Paris", "Lyon"], ["Lyon", "Paris"]], "llm", judge=judge,
                              questions=["Capital of France?", "Capital of France?"])
    assert out == [[0, 0, 1], [0, 1]]
    assert len(judge.calls) == 1 and len(judge.calls[0]) == 6 + 2
    assert '"Capital of France?"' in judge.calls[0][0]
    # "semantic" = nli when given, else the judge when given, else the fallback
    from llminfo.analyzers.clustering import SEMANTIC_FALLBACK, resolve_method

    assert resolve_method("semantic", nli=lambda p: p) == "nli"
    assert resolve_method("semantic", judge=judge) == "llm"
    assert resolve_method("semantic") == SEMANTIC_FALLBACK
    assert cluster_answers(["Paris", "The city of Paris"], "semantic", judge=judge, question="Q") == [0, 0]
    with pytest.raises(ValueError, match="judge"):
        cluster_answers(["a", "b"], "llm")
