"""HallucinationScorer and its calibration: numpy fits vs scikit-learn, thresholds, JSON
round trip, batched = one-at-a-time, shared samples."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo.analyzers.base import HallucinationMethod, MethodResult, QAItem, SampleCache
from llminfo.analyzers.calibration import (
    Calibrator,
    choose_threshold,
    fit_isotonic,
    fit_logistic,
    isotonic_predict,
)
from llminfo.analyzers.scorer import HallucinationScorer, available_methods

sklearn = pytest.importorskip("sklearn")


# -- numpy fits vs scikit-learn -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_logistic_matches_sklearn(seed, c):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 3))
    y = (x @ [1.5, -1.0, 0.3] + rng.normal(size=120) > 0).astype(float)
    w, b = fit_logistic(x, y, c=c)
    ref = LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(w, ref.coef_[0], atol=1e-5)
    assert b == pytest.approx(ref.intercept_[0], abs=1e-5)


def test_logistic_separable_data_stays_finite():
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    w, b = fit_logistic(x, np.array([0, 0, 1, 1.0]), c=1e6)
    assert np.isfinite(w).all() and np.isfinite(b) and w[0] > 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1)), min_size=2, max_size=40))
def test_isotonic_matches_sklearn(pairs):
    from sklearn.isotonic import IsotonicRegression

    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs], dtype=float)
    kx, ky = fit_isotonic(x, y)
    assert np.all(np.diff(ky) >= -1e-12)
    ref = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.linspace(-1, 7, 33)
    np.testing.assert_allclose(isotonic_predict(kx, ky, grid), ref.predict(grid), atol=1e-9)


def test_threshold_brute_force():
    rng = np.random.default_rng(1)
    risk = rng.random(50).round(1)
    wrong = (rng.random(50) < risk).astype(float)
    t, cov, err = choose_threshold(risk, wrong, 0.25)
    best = -1.0
    for cand in np.unique(risk):
        kept = risk <= cand
        if wrong[kept].mean() <= 0.25:
            best = cand
    assert t == best
    if t >= 0:
        assert cov == pytest.approx(np.mean(risk <= t)) and err == pytest.approx(wrong[risk <= t].mean())
    assert choose_threshold(np.array([0.1, 0.2]), np.array([1.0, 1.0]), 0.1)[0] == -1.0


@pytest.mark.parametrize("kind", ["rank", "stacked", "logistic", "isotonic"])
def test_calibrator_learns_signal_and_orientation(kind):
    rng = np.random.default_rng(0)
    wrong = (rng.random(400) < 0.5).astype(float)
    informative = wrong + rng.normal(scale=0.7, size=400)
    reversed_ = -wrong + rng.normal(scale=0.7, size=400)  # lower = riskier: the fit must flip it
    noise = rng.normal(size=400)
    s = np.column_stack([informative, reversed_, noise])
    cal = Calibrator(kind).fit(["a", "b", "c"], s[:200], 1 - wrong[:200])
    risk = cal.predict(s[200:])
    from sklearn.metrics import roc_auc_score

    auc_cal = roc_auc_score(wrong[200:], risk)
    auc_one = roc_auc_score(wrong[200:], informative[200:])
    assert risk.min() >= 0 and risk.max() <= 1
    if kind in ("logistic", "stacked"):
        assert cal.coef[0] > 0 and cal.coef[1] < 0
        assert auc_cal > auc_one  # combining the reversed signal helps
    if kind == "stacked":  # C chosen by inner CV; features = logits of the training percentiles
        from llminfo.analyzers.calibration import STACKING_C_GRID, choose_c, fit_logistic

        z = cal._logit_ecdf(s[:200])
        assert cal.c in STACKING_C_GRID and cal.c == choose_c(z, wrong[:200])
        w, b = fit_logistic(z, wrong[:200], c=cal.c)
        np.testing.assert_allclose(cal.coef, w) and np.testing.assert_allclose(cal.intercept, b)
        assert cal._logit_ecdf(np.array([[np.nan, 0.0, 0.0]]))[0, 0] == 0.0  # NaN = the median
    else:
        assert auc_cal > 0.75
    if kind == "rank":  # a strictly increasing map of the weighted percentile average
        mix = cal._ecdf_mean(s[200:])
        order = np.argsort(mix, kind="stable")
        assert np.all(np.diff(risk[order]) >= 0) and np.all((np.diff(risk[order]) > 0) == (np.diff(mix[order]) > 0))
        assert cal.weights[0] > 0.3 and cal.weights[1] < -0.3 and abs(cal.weights[2]) < 0.2
        assert roc_auc_score(wrong[200:], risk) == pytest.approx(roc_auc_score(wrong[200:], mix))
    # Calibrated: mean predicted risk tracks the error rate on held-out data.
    assert abs(risk.mean() - wrong[200:].mean()) < 0.08


def test_logistic_with_c_chosen_by_cross_validation():
    """kind="logistic", c=None: regularised stacking of standardised scores, C chosen by the
    inner CV (`choose_c`) — the fit equals fit_logistic at that C, and it is saved as a number."""
    from sklearn.metrics import roc_auc_score

    from llminfo.analyzers.calibration import STACKING_C_GRID, choose_c

    rng = np.random.default_rng(5)
    wrong = (rng.random(300) < 0.4).astype(float)
    s = np.column_stack([wrong + rng.normal(scale=0.8, size=300), -wrong + rng.normal(scale=1.2, size=300),
                         rng.normal(size=300)])
    cal = Calibrator("logistic", c=None).fit(["a", "b", "c"], s[:200], 1 - wrong[:200])
    z = (s[:200] - s[:200].mean(0)) / s[:200].std(0)
    assert cal.c in STACKING_C_GRID and cal.c == choose_c(z, wrong[:200])
    w, b = fit_logistic(z, wrong[:200], c=cal.c)
    np.testing.assert_allclose(cal.coef, w, atol=1e-12)
    assert cal.coef[0] > 0 and cal.coef[1] < 0 and abs(cal.coef[2]) < abs(cal.coef[1])
    risk = cal.predict(s[200:])
    assert roc_auc_score(wrong[200:], risk) > roc_auc_score(wrong[200:], s[200:, 0])  # both signals used
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again.c == cal.c and np.array_equal(again.predict(s[200:]), risk)
    # a fixed C is kept as given
    assert Calibrator("logistic", c=0.5).fit(["a", "b", "c"], s[:200], 1 - wrong[:200]).c == 0.5


def test_calibrator_errors():
    for bad in (0, -1.0, float("nan"), True, "1"):
        with pytest.raises(ValueError, match="`c`"):
            Calibrator("logistic", c=bad)
    with pytest.raises(ValueError, match="`c`"):
        Calibrator("rank", c=None)  # the rank map's strength is not chosen by CV
    with pytest.raises(ValueError, match="kind"):
        Calibrator("svm")
    with pytest.raises(ValueError, match="target_risk"):
        Calibrator(target_risk=2.0)
    with pytest.raises(ValueError, match="one correct and one wrong"):
        Calibrator().fit(["a"], np.ones((3, 1)), [1, 1, 1])
    with pytest.raises(ValueError, match="correct"):
        Calibrator().fit(["a"], np.ones((3, 1)), [1, 0, 2])
    with pytest.raises(ValueError, match="not fitted"):
        Calibrator().predict(np.ones((1, 1)))
    with pytest.raises(ValueError, match="unknown keys"):
        Calibrator.from_dict({"kind": "logistic", "slope": []})


# -- the scorer on scripted methods --------------------------------------------------------


class Echo(HallucinationMethod):
    """Score = a number read from the question, to test combination exactly."""

    def __init__(self, name: str, sign: float = 1.0):
        self.name, self.sign = name, sign
        self.calls = 0

    def score(self, model, items, *, seed=0, cache=None):
        self.calls += 1
        return [MethodResult(self.sign * float(it.question.split()[-1]), {"answer": it.answer}) for it in items]


def _items(values):
    return [QAItem(f"question {v}", answer=f"a{i}") for i, v in enumerate(values)]


def test_uncalibrated_risk_is_a_fixed_map_of_the_row():
    from llminfo.analyzers.calibration import reference_risk

    a, b = Echo("a"), Echo("b", sign=-1.0)
    scorer = HallucinationScorer([a, b])
    res = scorer.score(None, _items([1, 2, 3, 4]))
    assert [r.scores for r in res][0] == {"a": 1.0, "b": -1.0}
    # no reference quantiles for these names: 0.5 + 0.5·x/(1+|x|), averaged
    squash = lambda x: 0.5 + 0.5 * x / (1 + abs(x))  # noqa: E731
    assert [r.risk for r in res] == pytest.approx([(squash(v) + squash(-v)) / 2 for v in (1, 2, 3, 4)])
    assert all(r.calibrated is False for r in res)
    assert [r.answer for r in res] == ["a0", "a1", "a2", "a3"]
    assert res[0].details["a"] == {"answer": "a0"}
    single = HallucinationScorer([Echo("a")]).score(None, _items([-2, -1, 1, 2]))
    assert [r.decision for r in single] == ["answer", "answer", "abstain", "abstain"]
    # with reference quantiles: the percentile among them (linear between quantiles)
    refs = {"a": [0.0, 1.0, 2.0, 4.0]}
    np.testing.assert_allclose(reference_risk(["a"], np.array([[0.5], [3.0], [9.0], [np.nan]]), refs),
                               [1 / 6, 5 / 6, 1.0, 0.5])


@pytest.mark.parametrize("fit", [None, ("stacked", 1.0), ("logistic", None)])
def test_row_risk_never_depends_on_the_batch(fit):
    rng = np.random.default_rng(3)
    values = rng.normal(size=40).round(3)
    scorer = HallucinationScorer([Echo("a"), Echo("b", sign=-0.5)])
    calibrated = fit is not None
    if calibrated:
        _, scores, _ = scorer.raw_scores(None, _items(values))
        scorer.fit_scores(scores, values < 0.1, kind=fit[0], c=fit[1])
    for size in (1, 2, 7, 40):
        for start in range(0, 40, size):
            batch = scorer.score(None, _items(values[start : start + size]))
            for k, r in enumerate(batch):
                alone = scorer.score(None, _items(values[start + k : start + k + 1]))[0]
                assert r.risk == alone.risk and r.decision == alone.decision and r.calibrated is calibrated


def reference_risk_of(name, s):
    from llminfo.analyzers.calibration import reference_risk

    return reference_risk([name], s)


def test_shipped_calibrator_is_used_for_its_model_and_methods_only(tmp_path, monkeypatch):
    from llminfo.analyzers import calibration

    rng = np.random.default_rng(0)
    values = rng.normal(size=60).round(3)
    fitted = HallucinationScorer(["msp"]).fit_scores(values[:, None], values < 0.2, kind="logistic")
    (tmp_path / "calibrators").mkdir()
    fitted.save(tmp_path / "calibrators" / "toy.json")
    monkeypatch.setattr("llminfo.data.DATA_DIR", tmp_path)

    class Named:
        name = "toy"

    s = np.array([[0.5], [-1.0]])
    risk, dec = HallucinationScorer(["msp"]).combine(s, Named())
    assert HallucinationScorer(["msp"]).calibrator_for(Named()) is not None
    np.testing.assert_allclose(risk, fitted.calibrator.predict(s))
    # another model, or other methods / parameters: the fixed uncalibrated map
    Named.name = "other"
    assert HallucinationScorer(["msp"]).calibrator_for(Named()) is None
    Named.name = "toy"
    assert HallucinationScorer(["perplexity"]).calibrator_for(Named()) is None
    assert HallucinationScorer([("msp", {"max_new_tokens": 5})]).calibrator_for(Named()) is None
    np.testing.assert_allclose(HallucinationScorer(["perplexity"]).combine(s, Named())[0], reference_risk_of("perplexity", s))
    assert calibration.shipped_calibrator_path("../etc") is None


def test_shipped_calibrator_variants_serve_their_own_method_sets(tmp_path, monkeypatch):
    from llminfo.analyzers import calibration

    rng = np.random.default_rng(1)
    values = rng.normal(size=60).round(3)
    main = HallucinationScorer(["msp", "perplexity"]).fit_scores(np.c_[values, -values], values < 0.2, kind="logistic")
    fast = HallucinationScorer(["msp"]).fit_scores(values[:, None], values > 0.5, kind="logistic")  # a different fit
    (tmp_path / "calibrators").mkdir()
    main.save(tmp_path / "calibrators" / "toy.json")
    fast.save(tmp_path / "calibrators" / "toy.fast.json")
    HallucinationScorer(["perplexity"]).fit_scores(values[:, None], values < 0.0).save(tmp_path / "calibrators" / "toy2.json")
    monkeypatch.setattr("llminfo.data.DATA_DIR", tmp_path)

    class Named:
        name = "toy"

    folder = tmp_path / "calibrators"
    assert calibration.shipped_calibrator_paths("toy") == [folder / "toy.json", folder / "toy.fast.json"]
    assert calibration.shipped_calibrator_path("toy") == folder / "toy.json"
    assert calibration.shipped_calibrator_paths("toy2") == [folder / "toy2.json"]  # toy's files are not toy2's
    assert calibration.shipped_calibrator_paths("nothing") == [] and calibration.shipped_calibrator_path("nothing") is None
    s = np.array([[0.5], [-1.0]])
    np.testing.assert_allclose(HallucinationScorer(["msp"]).combine(s, Named())[0], fast.calibrator.predict(s))
    s2 = np.c_[s, -s]
    np.testing.assert_allclose(HallucinationScorer(["msp", "perplexity"]).combine(s2, Named())[0], main.calibrator.predict(s2))
    assert HallucinationScorer(["perplexity"]).calibrator_for(Named()) is None  # no file fitted on these methods


@pytest.mark.parametrize("model_name", ["default", "gemma3-270m"])
def test_fast_variant_calibrates_the_default_methods_without_prompt_disagreement(model_name):
    from llminfo.analyzers.registry import DEFAULT_METHODS

    class Named:
        name = model_name

    fast = HallucinationScorer([m for m in DEFAULT_METHODS if m != "prompt_disagreement"])
    cal = fast.calibrator_for(Named())
    assert cal is not None and cal is not HallucinationScorer().calibrator_for(Named())
    s = np.array([[3.0, 0.2, 1.0, 0.1, 0.2], [15.0, 1.5, 3.0, 0.6, 0.8]])
    risk = fast.combine(s, Named())[0]
    assert risk[0] < risk[1]


def test_scorer_fit_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=60).round(3)
    correct = values < 0.2
    scorer = HallucinationScorer([Echo("a")])
    scorer.fit(None, _items(values), correct, kind="isotonic", target_risk=0.1)
    res = scorer.score(None, _items(values))
    wrong_answered = [not c for c, r in zip(correct, res) if r.decision == "answer"]
    assert np.mean(wrong_answered) <= 0.1 + 1e-12
    path = tmp_path / "cal.json"
    scorer.save(path)
    saved = json.loads(path.read_text())
    assert saved["methods"] == [{"name": "a", "params": {}}]
    # Instances are not rebuilt by name: load a by-name scorer instead.
    by_name = HallucinationScorer(["msp"], samples=3)
    by_name.fit_scores(values[:, None], correct)
    by_name.save(path)
    loaded = HallucinationScorer.load(path)
    assert loaded.names == ["msp"] and loaded.calibrator.to_dict() == by_name.calibrator.to_dict()
    np.testing.assert_allclose(loaded.combine(values[:, None])[0], by_name.combine(values[:, None])[0])


def test_scorer_load_errors(tmp_path):
    p = tmp_path / "bad.json"
    with pytest.raises(FileNotFoundError):
        HallucinationScorer.load(p)
    p.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        HallucinationScorer.load(p)
    p.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a saved HallucinationScorer"):
        HallucinationScorer.load(p)
    p.write_text(json.dumps({"format": "llminfo.HallucinationScorer", "version": 1, "methods": [{"name": "nope"}]}))
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        HallucinationScorer.load(p)


def test_scorer_bad_arguments():
    with pytest.raises(ValueError, match="unknown method"):
        HallucinationScorer(["msp", "bogus"])
    with pytest.raises(ValueError, match="twice"):
        HallucinationScorer(["msp", "msp"])
    with pytest.raises(ValueError, match="samples"):
        HallucinationScorer(["msp"], samples=0)
    with pytest.raises(ValueError, match="empty"):
        HallucinationScorer([])
    cal = Calibrator().fit(["x"], np.array([[0.0], [1.0]]), [1, 0])
    with pytest.raises(ValueError, match="fitted on methods"):
        HallucinationScorer(["msp"], calibrator=cal)
    with pytest.raises(ValueError, match="correct"):
        HallucinationScorer([Echo("a")]).fit(None, _items([1, 2]), [1])


def test_available_methods_include_all():
    assert {"msp", "perplexity", "mean_entropy", "semantic_entropy", "iterative_mi", "edfl"} <= set(available_methods())


# -- real methods on the tiny model ---------------------------------------------------------


def test_tiny_model_batched_equals_naive_and_samples_shared(tiny_model):
    methods = ["msp", "mean_entropy", ("semantic_entropy", {"num_samples": 4}), ("iterative_mi", {"num_samples": 4}),
               ("edfl", {"num_skeletons": 3})]
    items = [QAItem("What is the capital of France?"), QAItem("One two three?", answer="four"), QAItem("The answer is?")]
    scorer = HallucinationScorer(methods)
    cache = SampleCache()
    batched = scorer.score(tiny_model, items, seed=5, cache=cache)
    # Greedy answers and K samples per temperature (SE at T=1, MI at T=0.9): one decode loop.
    assert cache.generate_calls == 1
    again = scorer.score(tiny_model, items, seed=5, cache=cache)
    assert cache.generate_calls == 1 and [r.scores for r in again] == [r.scores for r in batched]
    for it, b in zip(items, batched):
        [one] = scorer.score(tiny_model, [it], seed=5)
        assert one.answer == b.answer
        for name in scorer.names:
            assert one.scores[name] == pytest.approx(b.scores[name], abs=1e-5), name
        assert set(b.scores) == set(scorer.names) and 0 <= b.risk <= 1 and b.decision in ("answer", "abstain")
    assert batched[1].answer == "four"


def test_internal_auroc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    from llminfo.analyzers.calibration import _auroc

    rng = np.random.default_rng(3)
    y = (rng.random(80) < 0.4).astype(float)
    s = rng.integers(0, 6, 80).astype(float)
    assert _auroc(y, s) == pytest.approx(roc_auc_score(y, s))


@pytest.mark.parametrize("model_name", ["default", "gemma3-270m"])
def test_default_scorer_uses_the_calibrator_shipped_for_each_embedded_model(model_name):
    from llminfo.analyzers.calibration import shipped_calibrator_path
    from llminfo.analyzers.scorer import DEFAULT_METHODS
    from llminfo.models.embedded import EMBEDDED_MODELS

    assert model_name in EMBEDDED_MODELS
    path = shipped_calibrator_path(model_name)
    assert path is not None, f"no calibrator shipped for the embedded model {model_name}"
    shipped = HallucinationScorer.load(path)
    scorer = HallucinationScorer()
    assert shipped.names == scorer.names and shipped.method_params == scorer.method_params
    assert scorer.names == list(DEFAULT_METHODS)

    class Default:
        name = model_name

    # msp, perplexity, mean_entropy, edfl_answer, hidden_probe, prompt_disagreement
    s = np.array([[3.0, 0.2, 1.0, 0.1, 0.2, 0.0], [15.0, 1.5, 3.0, 0.6, 0.8, 1.0]])
    risk, dec = scorer.combine(s, Default())
    assert scorer.calibrator_for(Default()) is not None and risk[0] < risk[1]
    np.testing.assert_allclose(risk, shipped.calibrator.predict(s))
