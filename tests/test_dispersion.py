"""Permutation dispersion: measures, orderings, the analyzer (scripted and tiny models), CLI."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo import measures
from llminfo.analyzers.dispersion import (
    DispersionItem,
    ICLTask,
    PermutationDispersion,
    bands_of,
    make_orderings,
    summarize,
)
from llminfo.models.base import LanguageModel, ModelInfo

TASK = ICLTask("sentiment", labels=["positive", "negative"], instruction="Classify the sentiment.")
ROWS = [(f"sentence number {i} {'good' if i % 2 else 'bad'}", "positive" if i % 2 else "negative") for i in range(30)]


class ScriptedICLModel(LanguageModel):
    """Reads the example labels out of the prompt. `recency=0`: logits are label counts, so
    order does not matter; `recency>0`: later examples weigh more (order-sensitive).
    Leaves e^-1 of the mass off the label set, so the analyzer has to renormalise."""

    name = "scripted"
    backend = "fake"

    def __init__(self, recency: float = 0.0):
        self.recency = recency
        self.calls: list[tuple[list[str], list[str]]] = []

    def next_token_logprobs(self, prompts, candidates):
        self.calls.append((list(prompts), list(candidates)))
        out = []
        for p in prompts:
            labels = re.findall(r"Label: (\w+)", p)
            z = np.zeros(len(candidates))
            for i, lab in enumerate(labels):
                j = [c.strip() for c in candidates].index(lab)
                z[j] += 1.0 + self.recency * i
            z += 0.01 * len(p.rsplit("Text: ", 1)[-1])  # depends on the query, not on order
            out.append(z - measures.logsumexp(z) - 1.0)
        return np.array(out)

    def generate(self, *a, **k):
        raise NotImplementedError

    def score(self, *a, **k):
        raise NotImplementedError

    def chat(self, messages, *, system=None):
        return str(messages)

    def describe(self):
        return ModelInfo("scripted", "fake", 2, 1, 1, 1, 1, 1, 1, 1)

    @property
    def tokenizer(self):
        return None


# -- measures --------------------------------------------------------------------------------


def _random_q(rng, m, L):
    q = rng.random((m, L)) + 1e-3
    return q / q.sum(axis=1, keepdims=True)


def test_permutation_dispersion_matches_direct_loops():
    q = _random_q(np.random.default_rng(0), 5, 3)
    d = measures.permutation_dispersion(q)
    mean = [sum(q[k, j] for k in range(5)) / 5 for j in range(3)]
    std = [math.sqrt(sum((q[k, j] - mean[j]) ** 2 for k in range(5)) / 5) for j in range(3)]
    mad = [sum(abs(q[k, j] - mean[j]) for k in range(5)) / 5 for j in range(3)]
    kl = sum(sum(q[k, j] * math.log(q[k, j] / mean[j]) for j in range(3)) for k in range(5)) / 5
    np.testing.assert_allclose(d["mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(d["std"], std, rtol=1e-12)
    np.testing.assert_allclose(d["mad"], mad, rtol=1e-12)
    assert d["kl_dispersion"] == pytest.approx(kl, rel=1e-12)


def test_identical_orderings_give_zero_and_disjoint_give_ln_m():
    d = measures.permutation_dispersion([[0.3, 0.7]] * 4)
    assert d["kl_dispersion"] == 0 and not d["std"].any() and not d["mad"].any()
    assert measures.jensen_gap([[0.3, 0.7]] * 4, 1) == 0.0
    # m one-hot rows on distinct labels: KL(q_k || uniform) = ln m
    assert measures.permutation_dispersion(np.eye(3))["kl_dispersion"] == pytest.approx(math.log(3))


def test_jensen_gap_closed_form():
    q = np.array([[0.9, 0.1], [0.5, 0.5]])
    expected = (-math.log(0.9) - math.log(0.5)) / 2 + math.log(0.7)
    assert measures.jensen_gap(q, 0) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(2, 5), st.integers(0, 2**31 - 1), st.data())
def test_jensen_gap_nonnegative_and_bounded_by_kl(m, L, seed, data):
    q = _random_q(np.random.default_rng(seed), m, L)
    y = data.draw(st.integers(0, L - 1))
    gap = measures.jensen_gap(q, y)
    assert gap >= 0.0
    d = measures.permutation_dispersion(q)
    assert d["kl_dispersion"] >= -1e-15
    assert d["kl_dispersion"] <= math.log(m) + 1e-12


def test_optimal_cot_tokens_closed_form():
    assert measures.optimal_cot_tokens(4, math.exp(-1)) == pytest.approx(2.0)
    assert measures.optimal_cot_tokens(36, 0.01, c=0.5) == pytest.approx(0.5 * 6 * math.log(100))
    with pytest.raises(ValueError, match="eps"):
        measures.optimal_cot_tokens(4, 1.0)
    with pytest.raises(ValueError, match="`n`"):
        measures.optimal_cot_tokens(0, 0.1)


def test_log_curve_fit_recovers_coefficients():
    ns = np.array([2, 4, 8, 16])
    a, b = measures.log_curve_fit(ns, 0.7 - 0.15 * np.log(ns))
    assert a == pytest.approx(0.7) and b == pytest.approx(-0.15)
    with pytest.raises(ValueError, match="two distinct"):
        measures.log_curve_fit([4, 4], [1, 2])


def test_dispersion_measures_reject_bad_input():
    with pytest.raises(ValueError, match="normalised"):
        measures.permutation_dispersion([[0.5, 0.6]])
    with pytest.raises(ValueError, match="2-D"):
        measures.permutation_dispersion([0.5, 0.5])
    with pytest.raises(ValueError, match="`y`"):
        measures.jensen_gap([[0.5, 0.5]], 2)


# -- orderings and tasks --------------------------------------------------------------------


def test_orderings_identity_first_distinct_and_seeded():
    a = make_orderings(6, 10, rng=np.random.default_rng(1))
    b = make_orderings(6, 10, rng=np.random.default_rng(1))
    c = make_orderings(6, 10, rng=np.random.default_rng(2))
    assert a == b and a != c
    assert a[0] == tuple(range(6)) and len(set(a)) == 10
    assert all(sorted(o) == list(range(6)) for o in a)
    assert sorted(make_orderings(3, 8)) == sorted(__import__("itertools").permutations(range(3)))


def test_banded_orderings_keep_band_membership():
    """The paper's scheme: every example stays in its band; within a band, any order."""
    orders = make_orderings(10, 12, shuffle="banded", band=3, rng=np.random.default_rng(0))
    assert len(set(orders)) == 12 and orders[0] == tuple(range(10))
    for o in orders:
        assert [k // 3 for k in o] == [p // 3 for p in range(10)]  # same band at every position
    assert any(o[9] != 9 for o in orders) is False  # the last band has one example: it never moves
    assert len({o[:3] for o in orders}) > 1  # the first band does get shuffled
    # few enough orderings: all of them (2! · 2! = 4), exactly
    assert sorted(make_orderings(4, 10, shuffle="banded", band=2)) == [(0, 1, 2, 3), (0, 1, 3, 2), (1, 0, 2, 3), (1, 0, 3, 2)]
    assert bands_of(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert make_orderings(4, 3, shuffle="banded", band=1) == [(0, 1, 2, 3)]  # bands of one: identity only


def test_tail_orderings_keep_a_shared_prefix():
    orders = make_orderings(8, 6, shuffle="tail", band=3, rng=np.random.default_rng(0))
    assert len(set(orders)) == 6 and orders[0] == tuple(range(8))
    assert all(o[:5] == (0, 1, 2, 3, 4) for o in orders)
    with pytest.raises(ValueError, match="shuffle"):
        make_orderings(4, 2, shuffle="sideways")


def test_task_prompt_and_candidates():
    assert TASK.candidates() == [" positive", " negative"]
    p = TASK.format_prompt([("a", "positive"), ("b", "negative")], "c")
    assert p == "Classify the sentiment.\n\nText: a\nLabel: positive\n\nText: b\nLabel: negative\n\nText: c\nLabel:"
    t = ICLTask("x", ["A", "B"], template="Q: {text}\nA:\n{label}")
    assert t.candidates() == ["A", "B"] and t.format_prompt([], "q") == "Q: q\nA:\n"
    with pytest.raises(ValueError, match="template"):
        ICLTask("x", ["A", "B"], template="{label} {text}")
    with pytest.raises(ValueError, match="labels"):
        ICLTask("x", ["A"])


# -- analyzer on scripted models ---------------------------------------------------------------


def _items(n=5, count=3):
    return [DispersionItem(ROWS[i + 1 : i + 1 + n], ROWS[i][0], ROWS[i][1], id=i) for i in range(count)]


def test_order_invariant_model_gives_exactly_zero():
    model = ScriptedICLModel(recency=0.0)
    results = PermutationDispersion(model, orderings=6, seed=3).analyze(TASK, _items())
    for r in results:
        assert len(r.orderings) == 6
        assert r.kl_dispersion == 0.0 and r.jensen_gap == 0.0
        assert r.std == [0.0, 0.0] and r.mad == [0.0, 0.0]
        assert r.pred_identity == r.pred_average and r.logloss_identity == r.logloss_average


def test_order_sensitive_model_values_and_one_call():
    model = ScriptedICLModel(recency=0.7)
    pd = PermutationDispersion(model, orderings=5, seed=0)
    results = pd.analyze(TASK, _items(count=4))
    assert len(model.calls) == 1 and len(model.calls[0][0]) == 4 * 5
    assert model.calls[0][1] == [" positive", " negative"]
    for it, r in zip(_items(count=4), results):
        # recompute q_k independently from the orderings the analyzer reports
        q = []
        for o in r.orderings:
            z = np.zeros(2)
            for pos, k in enumerate(o):
                z[TASK.labels.index(it.examples[k][1])] += 1.0 + 0.7 * pos
            q.append(np.exp(z - measures.logsumexp(z)))
        q = np.array(q)
        np.testing.assert_allclose(r.q, q, rtol=1e-9)
        y = TASK.labels.index(it.label)
        assert r.jensen_gap_label == pytest.approx(np.mean(-np.log(q[:, y])) + np.log(q[:, y].mean()), rel=1e-9)
        yhat = int(np.argmax(q[0]))  # self-consistency: the identity order's argmax, no label
        assert r.jensen_gap == pytest.approx(np.mean(-np.log(q[:, yhat])) + np.log(q[:, yhat].mean()), rel=1e-9)
        assert r.mad_pred == pytest.approx(np.mean(np.abs(q[:, yhat] - q[:, yhat].mean())), rel=1e-9)
        assert r.jensen_gap > 0 and r.kl_dispersion > 0
        assert r.logloss_identity == pytest.approx(-math.log(q[0, y]))
        assert r.logloss_average == pytest.approx(-math.log(q[:, y].mean()))


def test_analyze_errors_name_the_item():
    pd = PermutationDispersion(ScriptedICLModel())
    with pytest.raises(ValueError, match=r"items\[0\].*'neutral'"):
        pd.analyze(TASK, [DispersionItem([("x", "positive")], "q", "neutral")])
    with pytest.raises(ValueError, match=r"items\[0\].*example"):
        pd.analyze(TASK, [DispersionItem([], "q", "positive")])
    with pytest.raises(ValueError, match="orderings"):
        PermutationDispersion(ScriptedICLModel(), orderings=0)


def test_evaluate_curve_is_reproducible_and_fits():
    model = ScriptedICLModel(recency=0.5)
    pd = PermutationDispersion(model, orderings=4, seed=1)
    res1, summ1 = pd.evaluate(TASK, ROWS, n_examples=(2, 4, 8), num_queries=5)
    res2, summ2 = PermutationDispersion(ScriptedICLModel(recency=0.5), orderings=4, seed=1).evaluate(
        TASK, ROWS, n_examples=(2, 4, 8), num_queries=5
    )
    assert summ1 == summ2 and [r.q for r in res1] == [r.q for r in res2]
    assert len(model.calls) == 1
    assert [row["n"] for row in summ1["per_n"]] == [2, 4, 8]
    # the n = 2 context is part of the n = 4 context for the same query (nested draws)
    prompts = model.calls[0][0]
    texts = [set(re.findall(r"Text: (.*)\nLabel: \w", p)) for p in prompts]
    first_q_n2, first_q_n4 = texts[0], texts[len(res1[0].orderings)]  # items: query-major, n inner
    assert len(first_q_n2) == 2 and len(first_q_n4) == 4 and first_q_n2 < first_q_n4
    ns = [row["n"] for row in summ1["per_n"]]
    a, b = measures.log_curve_fit(ns, [row["kl_dispersion"] for row in summ1["per_n"]])
    assert summ1["fit_kl_dispersion"]["a"] == pytest.approx(a) and summ1["fit_kl_dispersion"]["b"] == pytest.approx(b)
    for row in summ1["per_n"]:
        rs = [r for r in res1 if r.n_examples == row["n"]]
        assert row["accuracy_average"] == pytest.approx(np.mean([r.pred_average == r.label for r in rs]))
        # Jensen: the averaged prediction's log-loss is at most the mean single-ordering log-loss,
        # and the difference is the mean Jensen gap
        single = np.mean([np.mean(-np.log(np.array(r.q)[:, r.labels.index(r.label)])) for r in rs])
        assert row["logloss_orderings"] == pytest.approx(single)
        assert row["logloss_average"] <= single + 1e-12
        assert single - row["logloss_average"] == pytest.approx(row["jensen_gap_label"])
    with pytest.raises(ValueError, match="too few"):
        pd.evaluate(TASK, ROWS[:5], n_examples=(8,))
    with pytest.raises(ValueError, match="row 1"):
        pd.evaluate(TASK, [ROWS[0], ("x", "meh")] + ROWS[2:], n_examples=(2,))


def test_summarize_without_labels():
    items = [DispersionItem(ROWS[1:4], "q", None, id=0), DispersionItem(ROWS[1:7], "q", None, id=1)]
    res = PermutationDispersion(ScriptedICLModel(0.5), orderings=3).analyze(TASK, items)
    assert res[0].jensen_gap_label is None and res[0].logloss_identity is None and res[0].jensen_gap >= 0
    s = summarize(res)
    assert "accuracy_identity" not in s["per_n"][0] and "fit_kl_dispersion" in s
    assert "jensen_gap" in s["per_n"][0] and "martingale_bound" in s["per_n"][0]


def test_martingale_statistic_of_an_exchangeable_predictor_is_within_its_bound():
    """An order-invariant (exchangeable) predictor: violation exactly 0 <= c·ln n / n."""
    res, s = PermutationDispersion(ScriptedICLModel(recency=0.0), orderings=6, seed=0).evaluate(TASK, ROWS, n_examples=(2, 4, 8), num_queries=4)
    for row in s["per_n"]:
        assert row["martingale_violation"] == 0.0 and row["mad_ci"] == [0.0, 0.0]
        assert row["martingale_bound"] == pytest.approx(math.log(row["n"]) / row["n"])
        assert row["exceeds_bound"] is False
    assert s["martingale"]["all_within"] is True


class _R:  # the fields `summarize` reads, for hand-made cases
    def __init__(self, n, mad, std=0.0):
        self.n_examples, self.mad_pred, self.jensen_gap, self.kl_dispersion = n, mad, 0.0, 0.0
        self.orderings, self.labels, self.pred_identity, self.std, self.label = [[0]], ["a", "b"], "a", [std, std], None


def test_summary_fit_ci_martingale_test_and_cot_constant_by_hand():
    from scipy import stats

    rng = np.random.default_rng(0)
    ns = [2] * 5 + [8] * 5 + [32] * 5
    mads = [0.3 + 0.05 * math.log(n) + 0.01 * rng.standard_normal() for n in ns]
    stds = {2: 0.1, 8: 0.2, 32: 0.4}
    s = summarize([_R(n, m, stds[n]) for n, m in zip(ns, mads)], level=0.9, martingale_c=0.5, cot_eps=0.1)
    ref = stats.linregress(np.log(ns), mads)  # independent OLS: slope and its standard error
    t = stats.t.ppf(0.95, len(ns) - 2)
    f = s["fit_mad"]
    assert f["b"] == pytest.approx(ref.slope) and f["a"] == pytest.approx(ref.intercept)
    assert (f["b_low"], f["b_high"]) == (pytest.approx(ref.slope - t * ref.stderr), pytest.approx(ref.slope + t * ref.stderr))
    # violations ~0.33..0.47 vs 0.5·ln n / n = 0.173, 0.130, 0.054: all exceed
    for row in s["per_n"]:
        assert row["martingale_bound"] == pytest.approx(0.5 * math.log(row["n"]) / row["n"])
        assert row["exceeds_bound"] is True
    assert s["martingale"]["all_within"] is False
    # CoT constant: k_n = (σ_n/ε)² fitted by least squares on √n·ln(1/ε), used for k* per n
    k = np.array([(stds[n] / 0.1) ** 2 for n in (2, 8, 32)])
    x = np.sqrt([2, 8, 32]) * math.log(10)
    c = float(k @ x / (x @ x))
    assert s["cot"]["constant"] == pytest.approx(c)
    assert [row["optimal_cot_tokens"] for row in s["per_n"]] == pytest.approx([c * math.sqrt(n) * math.log(10) for n in (2, 8, 32)])


def test_dispersion_measures_closed_forms():
    assert measures.martingale_violation_bound(1) == 0.0
    assert measures.martingale_violation_bound(10, c=2.0) == pytest.approx(2 * math.log(10) / 10)
    assert measures.fit_cot_constant([1, 4], [3.0, 6.0], 1 / math.e) == pytest.approx(3.0)
    for bad in ({"n": 0}, {"c": 0.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            measures.martingale_violation_bound(**{"n": 4, "c": 1.0, **bad})
    with pytest.raises(ValueError, match="eps"):
        measures.fit_cot_constant([1], [1.0], 1.5)
    with pytest.raises(ValueError, match="3 points"):
        measures.log_curve_fit([1, 2], [0.0, 1.0], level=0.95)


# -- tiny real model -------------------------------------------------------------------------


def test_tiny_model_batched_equals_unbatched_and_direct_forward(tiny_model):
    import torch

    task = ICLTask("t", labels=["yes", "no"], template="Q: {text} A: {label}")
    items = [DispersionItem([("one two", "yes"), ("three", "no"), ("four five", "yes")], q, lab, id=q)
             for q, lab in [("six", "no"), ("seven eight nine", "yes")]]
    pd = PermutationDispersion(tiny_model, orderings=4, seed=0)
    together = pd.analyze(task, items)
    alone = [pd.analyze(task, [it])[0] for it in items]
    for a, b in zip(together, alone):
        assert a.orderings == b.orderings
        np.testing.assert_allclose(a.q, b.q, atol=1e-6)
    # reference: one forward pass per prompt, softmax over the candidates' tokens
    tok = tiny_model.tokenizer
    cand = [tok(c, add_special_tokens=False)["input_ids"] for c in task.candidates()]
    assert all(len(c) == 1 for c in cand)
    it, r = items[1], together[1]
    for o, qk in zip(r.orderings, r.q):
        prompt = task.format_prompt([it.examples[k] for k in o], it.query)
        ids = torch.tensor([tok(prompt)["input_ids"]])
        with torch.no_grad():
            logits = tiny_model.model(input_ids=ids).logits[0, -1]
        ref = torch.softmax(logits[[c[0] for c in cand]].double(), dim=0).numpy()
        np.testing.assert_allclose(qk, ref, atol=1e-5)


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_writes_jsonl_summary_and_plot(tmp_path, monkeypatch):
    from llminfo import cli

    data = tmp_path / "icl.jsonl"
    with data.open("w") as f:
        for i, (t, lab) in enumerate(ROWS):
            f.write(json.dumps({"id": i, "task": "sentiment", "text": t, "label": lab}) + "\n")
    monkeypatch.setattr(cli, "load_model_from_args", lambda args: ScriptedICLModel(recency=0.5))
    out = tmp_path / "out"
    rc = cli.main(["dispersion", "--data", str(data), "--task", "sentiment", "--orderings", "3",
                   "--n-examples", "2,4", "--queries", "4", "--output", str(out)])
    assert rc == 0  # the eval task `dispersion` ran: results.jsonl, metrics.json, report + plots
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all({r["n_examples"] for r in row["results"]} == {2, 4} for row in rows)
    metrics = json.loads((out / "metrics.json").read_text())
    assert sorted(metrics["per_n"], key=int) == ["2", "4"]
    assert (out / "report.html").is_file() and max(p.stat().st_size for p in out.glob("*.png")) > 1000
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task": "sentiment", "text": "x"}\n')
    assert cli.main(["dispersion", "--data", str(bad), "--output", str(out)]) == 2


def test_shipped_tasks_match_their_query_templates():
    import json as _json

    from llminfo.analyzers.dispersion_io import load_icl_rows, load_icl_tasks
    from llminfo.data import data_path

    tasks = load_icl_tasks()
    raw = _json.loads(data_path("icl_tasks.json").read_text())
    rows = load_icl_rows(str(data_path("icl_classification.jsonl")))
    assert set(tasks) == set(raw) and set(rows) >= set(tasks)
    for name, task in tasks.items():
        prompt = task.format_prompt(rows[name][:2], rows[name][3][0])
        assert prompt.endswith(raw[name]["query_template"].format(text=rows[name][3][0]))
        assert {lab for _t, lab in rows[name]} == set(task.labels)


@pytest.mark.integration
def test_load_icl_rows_names_file_and_line_of_a_bad_row(tmp_path):
    from llminfo.analyzers.dispersion_io import load_icl_rows

    good = json.dumps({"task": "t", "text": "fine", "label": "a"}) + "\n"
    for body, match in [(good + "{oops\n", r"rows.jsonl, line 2: invalid JSON"),
                        (good + "\n" + '"just a string"\n', r"rows.jsonl, line 3: expected a JSON object, got str"),
                        (good + json.dumps({"task": "t", "text": "", "label": "a"}) + "\n", r"line 2: field `text`")]:
        path = tmp_path / "rows.jsonl"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(ValueError, match=match):
            load_icl_rows(str(path))


def test_default_model_q_matches_direct_forward(default_model):
    import torch

    from llminfo.analyzers.dispersion_io import load_icl_rows, load_icl_tasks
    from llminfo.data import data_path

    task = load_icl_tasks()["sentiment"]
    rows = load_icl_rows(str(data_path("icl_classification.jsonl")), "sentiment")["sentiment"]
    tok = default_model.tokenizer
    cand = [tok(c, add_special_tokens=False)["input_ids"] for c in task.candidates()]
    assert all(len(c) == 1 for c in cand)  # " positive" / " negative" are single tokens for SmolLM2
    item = DispersionItem(rows[:4], rows[50][0], rows[50][1], id="x")
    [r] = PermutationDispersion(default_model, orderings=3, seed=0).analyze(task, [item])
    for o, qk in zip(r.orderings, r.q):
        ids = torch.tensor([tok(task.format_prompt([item.examples[k] for k in o], item.query))["input_ids"]])
        with torch.no_grad():
            logits = default_model.model(input_ids=ids).logits[0, -1].double()
        ref = torch.softmax(logits[[c[0] for c in cand]], dim=0).numpy()
        np.testing.assert_allclose(qk, ref, atol=1e-4)


def test_cli_reads_an_eval_config(tmp_path, monkeypatch):
    from llminfo import cli

    data = tmp_path / "icl.jsonl"
    data.write_text("".join(json.dumps({"task": "sentiment", "text": t, "label": lab}) + "\n" for t, lab in ROWS))
    cfg = tmp_path / "d.yaml"
    cfg.write_text(
        "task: dispersion\n"
        f"dataset: {{path: {data}}}\n"
        "params: {task: sentiment, orderings: 2, n_examples: [2, 3], queries: 3, shuffle: banded, band: 0}\n"
        f"output_dir: {tmp_path / 'run'}\n"
    )
    model = ScriptedICLModel(recency=0.5)
    monkeypatch.setattr(cli, "load_model_from_args", lambda args: model)
    assert cli.main(["dispersion", "--config", str(cfg), "--queries", "2"]) == 0  # flags override the config
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert sorted(metrics["per_n"], key=int) == ["2", "3"]
    assert metrics["n_items"] == 2 and all(row["queries"] == 2 for row in metrics["per_n"].values())
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["params"]["shuffle"] == "banded" and saved["params"]["orderings"] == 2
    cfg.write_text("task: capacity\ndataset: {path: x}\n")
    assert cli.main(["dispersion", "--config", str(cfg), "--output", str(tmp_path)]) == 2
