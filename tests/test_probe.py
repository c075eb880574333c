"""Hidden-state probe: the model's pooled hidden states against direct forward passes, the
probe's fit against scikit-learn, the method's score against a hand computation, and the
shipped probes against the embedded models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from llminfo.analyzers.base import QAItem, answer_continuation, qa_prompt
from llminfo.analyzers.probe import HiddenStateProbe, LinearProbe, shipped_probe_path
from llminfo.errors import UserError

PAIRS = [("What is the capital of France?", " Paris"), ("One two", " three four five six"), ("The quick", "")]


def _direct(model, prompt: str, cont: str, layer: int, pool: str) -> np.ndarray:
    """Hidden state of one unpadded sequence, by a plain transformers forward pass."""
    p = model.encode_prompt(prompt, allow_empty=True)
    c = model.encode_continuation(cont)
    ids = torch.tensor([p + c])
    with torch.no_grad():
        h = model.model(input_ids=ids, output_hidden_states=True).hidden_states[layer][0]
    if pool == "last" or not c:
        return h[-1].numpy()
    return h[len(p):].mean(0).numpy()


@pytest.mark.parametrize("pool", ["mean", "last"])
def test_hidden_states_equal_direct_forward(tiny_model, pool):
    prompts, conts = [p for p, _ in PAIRS], [c for _, c in PAIRS]
    got = tiny_model.hidden_states(prompts, conts, [0, 1, 2], pool=pool)
    assert got.shape == (3, 3, tiny_model.model.config.hidden_size)
    for i, (p, c) in enumerate(PAIRS):
        for j, layer in enumerate([0, 1, 2]):
            np.testing.assert_allclose(got[i, j], _direct(tiny_model, p, c, layer, pool), atol=2e-5, rtol=1e-4)
    # one row alone = the same row in a padded batch
    alone = tiny_model.hidden_states(prompts[1:2], conts[1:2], [2], pool=pool)
    np.testing.assert_allclose(alone[0], got[1, 2:], atol=2e-5, rtol=1e-4)


def test_hidden_states_of_early_layers_stop_the_forward_early():
    from tiny import tiny_hf_model

    model = tiny_hf_model(1, num_layers=4)
    calls = []
    handle = model.model.get_decoder().layers[3].register_forward_hook(lambda *a: calls.append(1))
    prompts, conts = [p for p, _ in PAIRS], [c for _, c in PAIRS]
    got = model.hidden_states(prompts, conts, [2, 0], pool="mean")
    assert not calls  # block 3 (and the head) never ran
    handle.remove()
    for i, (p, c) in enumerate(PAIRS):
        for j, layer in enumerate([2, 0]):
            np.testing.assert_allclose(got[i, j], _direct(model, p, c, layer, "mean"), atol=2e-5, rtol=1e-4)
    assert all(not b._forward_pre_hooks for b in model.model.get_decoder().layers)  # hooks removed
    np.testing.assert_allclose(model.hidden_states(prompts, conts, [4], pool="last")[:, 0],
                               np.stack([_direct(model, p, c, 4, "last") for p, c in PAIRS]), atol=2e-5, rtol=1e-4)


def test_hidden_states_bad_arguments(tiny_model):
    with pytest.raises(ValueError, match="`layers`"):
        tiny_model.hidden_states(["a"], [" b"], [3])  # tiny model: 2 blocks, layers 0..2
    with pytest.raises(ValueError, match="`layers`"):
        tiny_model.hidden_states(["a"], [" b"], [])
    with pytest.raises(ValueError, match="`pool`"):
        tiny_model.hidden_states(["a"], [" b"], [1], pool="max")


def _data(seed=0, n=120, d=8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d) + rng.normal(size=d)
    y = (x[:, 0] / 3 + rng.normal(size=n) > np.median(x[:, 0] / 3)).astype(float)
    return x, y


@pytest.mark.parametrize("c", [0.01, 1.0])
def test_linear_probe_equals_sklearn_pipeline(c):
    sk = pytest.importorskip("sklearn")  # noqa: F841
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _data()
    probe = LinearProbe.fit(x, y, layer=3, pool="mean", c=c)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=c, tol=1e-10, max_iter=10000)).fit(x, y)
    np.testing.assert_allclose(probe.predict(x), ref.predict_proba(x)[:, 1], atol=1e-6)


def test_linear_probe_round_trip_and_errors(tmp_path):
    x, y = _data(1)
    probe = LinearProbe.fit(x, y, layer=2, pool="last", c=0.1, meta={"model": "m"})
    path = tmp_path / "p.json"
    probe.save(path)
    back = LinearProbe.load(path)
    assert (back.layer, back.pool, back.meta) == (2, "last", {"model": "m"})
    np.testing.assert_array_equal(back.predict(x), probe.predict(x))
    d = probe.to_dict()
    for field, bad in [("layer", -1), ("pool", "max"), ("bias", float("nan")), ("weights", []), ("weights", ["a"])]:
        with pytest.raises(UserError, match=f"`{field}`"):
            LinearProbe.from_dict({**d, field: bad})
    with pytest.raises(UserError, match="format"):
        LinearProbe.from_dict({k: v for k, v in d.items() if k != "format"})
    with pytest.raises(ValueError, match="both labels"):
        LinearProbe.fit(x, np.zeros(len(x)), layer=1, pool="mean", c=1.0)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        probe.predict(x[:, :3])


def test_method_score_equals_hand_computation(tiny_model, tmp_path):
    rng = np.random.default_rng(0)
    d = tiny_model.model.config.hidden_size
    probe = LinearProbe(layer=1, pool="mean", weights=rng.normal(size=d), bias=0.3)
    path = tmp_path / "probe.json"
    probe.save(path)
    items = [QAItem("What is the capital of France?", answer="Paris"), QAItem("One two", answer="three four")]
    results = HiddenStateProbe(probe=path).score(tiny_model, items)
    for it, r in zip(items, results):
        h = _direct(tiny_model, qa_prompt(tiny_model, it.question), answer_continuation(tiny_model, it.answer), 1, "mean")
        expected = 1 / (1 + math.exp(-(float(h @ probe.weights) + 0.3)))
        assert r.score == pytest.approx(expected, abs=1e-5)
        assert r.details == {"answer": it.answer, "layer": 1, "pool": "mean"}
    # one item alone scores as inside the batch
    [alone] = HiddenStateProbe(probe=path).score(tiny_model, items[1:])
    assert alone.score == pytest.approx(results[1].score, abs=1e-6)


def test_method_without_probe_or_hidden_states_is_nan_with_reason(tiny_model, tmp_path):
    with pytest.warns(UserWarning, match="hidden_probe is not scored: no probe fitted for model 'tiny-llama-0'"):
        [r] = HiddenStateProbe().score(tiny_model, [QAItem("What is 2 + 2?", answer="4")])
    assert math.isnan(r.score) and "no probe fitted for model 'tiny-llama-0'" in r.details["error"]

    class NoHidden(type(tiny_model)):
        def hidden_states(self, *a, **k):
            from llminfo.models.base import LanguageModel

            return LanguageModel.hidden_states(self, *a, **k)

    blind = NoHidden(tiny_model.model, tiny_model.tokenizer, name="blind")
    probe = LinearProbe(layer=1, pool="mean", weights=np.ones(tiny_model.model.config.hidden_size), bias=0.0)
    probe.save(tmp_path / "p.json")
    with pytest.warns(UserWarning, match="does not expose hidden states"):
        [r] = HiddenStateProbe(probe=tmp_path / "p.json").score(blind, [QAItem("What is 2 + 2?", answer="4")])
    assert math.isnan(r.score) and "does not expose hidden states" in r.details["error"]


def test_method_rejects_a_probe_of_another_size(tiny_model, tmp_path):
    LinearProbe(layer=1, pool="mean", weights=np.ones(7), bias=0.0).save(tmp_path / "p.json")
    with pytest.raises(ValueError, match="hidden size is 32"):
        HiddenStateProbe(probe=tmp_path / "p.json").score(tiny_model, [QAItem("q?", answer="a")])
    with pytest.raises(Exception, match="probe file not found"):
        HiddenStateProbe(probe=tmp_path / "missing.json")
    with pytest.raises(TypeError, match="`probe`"):
        HiddenStateProbe(probe=123)
    with pytest.raises(ValueError, match="`max_new_tokens`"):
        HiddenStateProbe(max_new_tokens=0)


def _embedded_names():
    from llminfo.models.embedded import EMBEDDED_MODELS

    return list(EMBEDDED_MODELS)


@pytest.mark.parametrize("name", _embedded_names())
def test_a_probe_ships_for_every_embedded_model(name):
    path = shipped_probe_path(name)
    assert path is not None, f"no probe shipped for embedded model {name!r} (scripts/fit_probe.py)"
    probe = LinearProbe.load(path)
    meta = json.loads(path.read_text())["meta"]
    assert meta["model"] == name and meta["n_rows"] >= 200
    assert probe.hidden_size in (576, 640)  # SmolLM2-135M, Gemma 3 270M


def test_select_probe_finds_the_informative_layer_and_pool():
    from llminfo.analyzers.probe import select_probe

    rng = np.random.default_rng(0)
    n, k, d = 80, 4, 6
    wrong = np.repeat([0.0, 1.0], n // 2)
    feats = {"mean": rng.normal(size=(n, k, d)), "last": rng.normal(size=(n, k, d))}
    feats["last"][:, 2, 0] += 3 * wrong  # only layer 2, last-token pooling carries the label
    best, grid = select_probe(feats, wrong, cs=(0.1, 1.0), repeats=2)
    assert (best["pool"], best["layer"]) == ("last", 2) and best["cv_auroc"] > 0.9
    assert len(grid) == 2 * (k - 1) * 2  # layer 0 (embeddings) skipped
    assert all(g["cv_auroc"] < 0.8 for g in grid if (g["pool"], g["layer"]) != ("last", 2))


def test_fit_probe_on_labelled_questions(tiny_model, tmp_path):
    from llminfo.analyzers.probe import fit_probe

    topics = ["France Paris capital", "fox dog quick brown"]
    items = [{"question": f"{topics[i % 2]} {i}?", "answer": "yes" if i % 2 else "no"} for i in range(40)]
    correct = [i % 2 == 0 for i in range(40)]  # the fox questions are the wrong ones
    probe = fit_probe(tiny_model, items, correct, cs=(1.0,), repeats=1)
    assert probe.meta["cv_auroc"] > 0.9 and probe.meta["n_rows"] == 40 and probe.meta["model"] == "tiny-llama-0"
    assert probe.pool in ("mean", "last") and 1 <= probe.layer <= 2
    probe.save(tmp_path / "p.json")
    res = HiddenStateProbe(probe=tmp_path / "p.json").score(tiny_model, items)
    risk = np.array([r.score for r in res])
    assert risk[1::2].min() > risk[0::2].max()  # fitted on these rows: separates them
    with pytest.raises(ValueError, match="both right and wrong"):
        fit_probe(tiny_model, items, [True] * 40)
    with pytest.raises(ValueError, match="at least 5 right and 5 wrong"):
        fit_probe(tiny_model, items, [i < 3 for i in range(40)])
    with pytest.raises(ValueError, match="`correct` has 3 labels for 40 items"):
        fit_probe(tiny_model, items, [True, False, True])
    with pytest.raises(ValueError, match="`pools`"):
        fit_probe(tiny_model, items, correct, pools=("max",))


def test_eval_warns_that_the_shipped_probe_is_in_sample_on_the_shipped_questions(tmp_path):
    from llminfo.analyzers.baselines import MaxSequenceProbability
    from llminfo.eval.task_qa import in_sample_notes

    LinearProbe(layer=1, pool="mean", weights=np.ones(3), bias=0.0).save(tmp_path / "p.json")
    methods = [("msp", MaxSequenceProbability()), ("hidden_probe", HiddenStateProbe())]
    [note] = in_sample_notes("llminfo:factual_qa", methods)
    assert "'hidden_probe'" in note and "in-sample" in note
    assert in_sample_notes("my_questions.jsonl", methods) == []
    assert in_sample_notes("llminfo:factual_qa", [("hidden_probe", HiddenStateProbe(probe=tmp_path / "p.json"))]) == []


def test_query_probe_reads_the_prompts_last_token(tiny_model, tmp_path):
    from llminfo.analyzers.probe import QueryProbe

    rng = np.random.default_rng(1)
    probe = LinearProbe(layer=2, pool="last", weights=rng.normal(size=tiny_model.model.config.hidden_size), bias=-0.2)
    probe.save(tmp_path / "q.json")
    items = [QAItem("What is the capital of France?", answer="Paris"), QAItem("One two", answer="three")]
    results = QueryProbe(probe=tmp_path / "q.json").score(tiny_model, items)
    for it, r in zip(items, results):
        h = _direct(tiny_model, qa_prompt(tiny_model, it.question), "", 2, "last")
        assert r.score == pytest.approx(1 / (1 + math.exp(-(float(h @ probe.weights) - 0.2))), abs=1e-5)
        assert r.details == {"layer": 2, "pool": "last"}
    # the answer does not matter: the risk is read before answering
    other = QueryProbe(probe=tmp_path / "q.json").score(tiny_model, [QAItem(items[0].question, answer="Lyon")])
    assert other[0].score == pytest.approx(results[0].score, abs=1e-6)
    LinearProbe(layer=2, pool="mean", weights=probe.weights, bias=0.0).save(tmp_path / "m.json")
    with pytest.raises(ValueError, match="pool 'last'"):
        QueryProbe(probe=tmp_path / "m.json")


def test_fit_query_probe(tiny_model):
    from llminfo.analyzers.probe import fit_probe

    topics = ["France Paris capital", "fox dog quick brown"]
    items = [{"question": f"{topics[i % 2]} {i}?", "answer": "yes"} for i in range(40)]
    probe = fit_probe(tiny_model, items, [i % 2 == 0 for i in range(40)], cs=(1.0,), repeats=1, query=True)
    assert probe.pool == "last" and probe.meta["kind"] == "query" and probe.meta["cv_auroc"] > 0.9


@pytest.mark.parametrize("name", _embedded_names())
def test_a_query_probe_ships_for_every_embedded_model(name):
    from llminfo.analyzers.probe import QueryProbe

    path = shipped_probe_path(name, "query")
    assert path is not None, f"no query probe shipped for embedded model {name!r} (scripts/fit_probe.py --query)"
    probe = QueryProbe(probe=path)._probe
    assert probe.pool == "last" and probe.meta["model"] == name and probe.meta["kind"] == "query"
