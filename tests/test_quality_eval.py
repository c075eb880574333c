"""scripts/quality_eval.py: the stratified held-out split, the combination chosen by
cross-validation on development rows only, the held-out comparison, MI vs SE on the mix."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
pytest.importorskip("sklearn")

import quality_eval as qe  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def _synthetic(n: int, seed: int, signals=(1.0, 1.0)):
    """Two complementary noisy signals of `wrong` (each sees half of the errors well) + noise."""
    rng = np.random.default_rng(seed)
    wrong = (rng.random(n) < 0.5).astype(float)
    kind = rng.random(n) < 0.5  # which signal sees this error
    a = signals[0] * wrong * kind + rng.normal(scale=0.5, size=n)
    b = signals[1] * wrong * ~kind + rng.normal(scale=0.5, size=n)
    noise = rng.normal(size=(n, 3))
    return np.column_stack([a, b, noise]), wrong, ["a", "b", "n1", "n2", "n3"]


def test_held_out_split_is_stratified_fixed_and_score_free():
    rng = np.random.default_rng(0)
    ids = [f"q{i:04d}" for i in range(400)]
    wrong = (rng.random(400) < 0.4).astype(float)
    diff = rng.choice(["easy", "medium", "hard"], 400)
    held = qe.held_out_mask(ids, wrong, diff)
    for w in (0.0, 1.0):
        for d in ("easy", "medium", "hard"):
            cell = (wrong == w) & (diff == d)
            assert held[cell].sum() == round(0.3 * cell.sum())  # 30 % of every stratum
    # the same questions whatever the row order (a function of ids and labels only)
    perm = rng.permutation(400)
    held_p = qe.held_out_mask([ids[i] for i in perm], wrong[perm], diff[perm])
    assert set(np.array(ids)[held]) == set(np.array(ids)[perm][held_p])
    assert qe.held_out_mask(ids, wrong).sum() == round(0.3 * (wrong == 0).sum()) + round(0.3 * (wrong == 1).sum())


def test_select_picks_the_best_single_method_on_the_training_rows():
    S, wrong, names = _synthetic(300, 1, signals=(2.0, 0.5))
    methods, cal = qe.fit_candidate("select", S, wrong, names)
    best = names[int(np.argmax([roc_auc_score(wrong, S[:, j]) for j in range(S.shape[1])]))]
    assert methods == [best] == ["a"]
    # one method through a monotone map ranks exactly as the raw score
    assert roc_auc_score(wrong, cal.predict(S[:, :1])) == pytest.approx(roc_auc_score(wrong, S[:, 0]))
    m3, _ = qe.fit_candidate("stacked_top3", S, wrong, names)
    assert len(m3) == 3 and {"a", "b"} <= set(m3)
    with pytest.raises(ValueError, match="procedure"):
        qe.fit_candidate("magic", S, wrong, names)


def test_cross_validation_is_honest_on_noise():
    """Pure noise: every procedure's out-of-fold AUROC stays near 0.5 (selection happens inside
    the folds, so choosing the luckiest method on all rows does not leak)."""
    rng = np.random.default_rng(2)
    S = rng.normal(size=(200, 6))
    wrong = (rng.random(200) < 0.5).astype(float)
    sel = qe.select_combination(S, wrong, [f"m{j}" for j in range(6)])
    assert all(abs(c["cv_auroc"] - 0.5) < 0.1 for c in sel["candidates"])
    assert [c["procedure"] for c in sel["candidates"]] == list(qe.CANDIDATES)


def test_stacking_wins_on_complementary_signals_and_held_out_confirms():
    S, wrong, names = _synthetic(500, 3)
    held = qe.held_out_mask([f"q{i}" for i in range(500)], wrong)
    res = qe.combined_on_held_out(S, wrong, names, held)
    cv = {c["procedure"]: c["cv_auroc"] for c in res["candidates_cv_development"]}
    assert max(cv, key=cv.get) == res["chosen_on_development"]["procedure"] != "select"
    assert cv[res["chosen_on_development"]["procedure"]] > cv["select"] + 0.03
    # measured once on the held-out rows: beats the best single method chosen on development
    assert res["held_out_best_single_chosen_on_dev"]["method"] in ("a", "b")
    assert res["held_out_gain_over_single"] > 0.03 and res["targets"]["gain_ge_0.03"]
    lo, hi = res["held_out_gain_ci95"]
    assert lo <= res["held_out_gain_over_single"] <= hi
    # the chosen combination's held-out AUROC is what refitting on development and predicting gives
    methods, cal = qe.fit_candidate(res["chosen_on_development"]["procedure"], S[~held], wrong[~held], names)
    risk = cal.predict(S[held][:, [names.index(m) for m in methods]])
    assert res["held_out"]["auroc"] == pytest.approx(roc_auc_score(wrong[held], risk))


def test_mi_vs_se_on_the_mix():
    """An MI that stays low on valid many-answer questions separates them from wrong factual
    answers; an SE that rises on them does not (the paper's qualitative claim)."""
    rng = np.random.default_rng(4)
    wrong = (rng.random(200) < 0.5).astype(float)
    se_f = 1.0 + wrong + rng.normal(scale=0.3, size=200)
    mi_f = 0.1 + 0.5 * wrong + rng.normal(scale=0.1, size=200)
    se_m = 2.2 + rng.normal(scale=0.3, size=40)  # many valid answers: SE high
    mi_m = 0.1 + rng.normal(scale=0.1, size=40)  # ... MI low
    out = qe.mi_vs_se({"semantic_entropy": (se_f, se_m), "iterative_mi": (mi_f, mi_m)}, wrong, 50)
    w = wrong == 1
    y = np.r_[np.ones(w.sum()), np.zeros(40)]
    assert out["iterative_mi"]["auroc_wrong_factual_vs_valid_many"] == pytest.approx(roc_auc_score(y, np.r_[mi_f[w], mi_m]))
    assert out["iterative_mi"]["auroc_wrong_factual_vs_valid_many"] > 0.9 > 0.4 > out["semantic_entropy"]["auroc_wrong_factual_vs_valid_many"]
    assert out["semantic_entropy"]["auroc_valid_many_vs_right_factual"] > 0.9
    d = out["mi_minus_se_wrong_factual_vs_valid_many"]
    assert d["diff"] == pytest.approx(out["iterative_mi"]["auroc_wrong_factual_vs_valid_many"]
                                      - out["semantic_entropy"]["auroc_wrong_factual_vs_valid_many"])
    assert d["ci95"][0] > 0
    assert out["semantic_entropy"]["flagged_valid_many_at_recall"]["0.8"] > 0.8 > out["iterative_mi"]["flagged_valid_many_at_recall"]["0.8"]


def test_evaluate_on_rows_reports_every_section():
    S, wrong, names = _synthetic(120, 6)
    rng = np.random.default_rng(6)
    rows = [{"id": f"f{i}", "set": "factual", "difficulty": "easy", "correct": not wrong[i],
             "scores": {**dict(zip(names, S[i].tolist())), "semantic_entropy": float(S[i, 0]), "iterative_mi": float(S[i, 1])},
             "details": {"edfl": {"decision": "answer" if S[i, 0] < 0 else "abstain"}}} for i in range(120)]
    rows += [{"id": f"m{i}", "set": "many", "correct": i % 2 == 0,
              "scores": {**{n: 0.0 for n in names}, "semantic_entropy": float(rng.normal()), "iterative_mi": float(rng.normal())}}
             for i in range(10)]
    rep = qe.evaluate(rows)
    assert rep["n_factual"] == 120 and rep["split"]["held_out"] == round(0.3 * (wrong == 0).sum()) + round(0.3 * wrong.sum())
    assert set(rep["combined"]["targets"]) == {"gain_ge_0.03", "auroc_ge_0.80", "not_below_best_single"}
    assert rep["mi_vs_se_mix"]["iterative_mi"]["many_valid"] == 5 and "mi_minus_se_valid_many_vs_right_factual" in rep["mi_vs_se_mix"]
    dec = [r["details"]["edfl"]["decision"] for r in rows[:120]]
    assert rep["isr_audit"]["edfl"]["answered"] == dec.count("answer")


def test_fit_calibrator_ships_the_procedure_chosen_on_development(tmp_path, monkeypatch):
    """scripts/fit_calibrator.py on synthetic rows: the chosen procedure is refitted on every
    factual row and saved as a scorer whose risk equals that refit, row alone == in a batch."""
    import json

    import fit_calibrator

    from llminfo.analyzers.scorer import HallucinationScorer

    S, wrong, _ = _synthetic(240, 7)
    names = ["msp", "perplexity", "mean_entropy", "semantic_entropy", "iterative_mi"]
    rows = [{"id": f"q{i}", "set": "factual", "difficulty": ["easy", "hard"][i % 2], "correct": not wrong[i],
             "scores": dict(zip(names, S[i].tolist()))} for i in range(240)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(sys, "argv", ["fit_calibrator.py", "--model", "toy", "--rows", str(path), "--output-dir",
                                      str(tmp_path / "cal"), "--report", str(tmp_path / "report.json")])
    fit_calibrator.main()
    report = json.loads((tmp_path / "report.json").read_text())
    best = report["chosen_on_development"]
    assert best["procedure"] in qe.CANDIDATES and best["procedure"] != "select"  # two complementary signals
    scorer = HallucinationScorer.load(tmp_path / "cal" / "toy.json")
    methods, cal = qe.fit_candidate(best["procedure"], S, wrong, names)
    assert scorer.names == methods
    cols = [names.index(m) for m in methods]
    risk = scorer.calibrator.predict(S[:, cols])
    np.testing.assert_allclose(risk, cal.predict(S[:, cols]), atol=1e-12)
    assert all(scorer.calibrator.predict(S[i : i + 1, cols])[0] == risk[i] for i in range(0, 240, 17))
    assert roc_auc_score(wrong, risk) > max(roc_auc_score(wrong, S[:, j]) for j in range(5)) + 0.03


def test_fit_calibrator_variant_writes_its_own_file_only(tmp_path, monkeypatch):
    """--variant NAME writes {model}.{NAME}.json (for that method set) and leaves the default
    methods' file alone; a bad name is refused before anything is written."""
    import json

    import fit_calibrator

    from llminfo.analyzers.scorer import HallucinationScorer

    S, wrong, _ = _synthetic(120, 5)
    names = ["msp", "perplexity", "mean_entropy", "semantic_entropy", "iterative_mi"]
    rows = [{"id": f"q{i}", "set": "factual", "difficulty": "easy", "correct": not wrong[i],
             "scores": dict(zip(names, S[i].tolist()))} for i in range(120)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["fit_calibrator.py", "--model", "toy", "--rows", str(path), "--output-dir", str(tmp_path / "cal"),
              "--report", str(tmp_path / "report.json"), "--procedures", "rank", "stacked"]
    monkeypatch.setattr(sys, "argv", common + ["--methods", "msp", "perplexity", "--variant", "fast"])
    fit_calibrator.main()
    assert sorted(p.name for p in (tmp_path / "cal").iterdir()) == ["toy.fast.json"]
    assert HallucinationScorer.load(tmp_path / "cal" / "toy.fast.json").names == ["msp", "perplexity"]
    monkeypatch.setattr(sys, "argv", common + ["--variant", "../x"])
    with pytest.raises(SystemExit, match="--variant"):
        fit_calibrator.main()


def test_selection_among_given_procedures_only():
    """fit_calibrator's --procedures: a calibrator shipped for the default scorer has to combine
    all its methods, so the selection can be limited to procedures that do."""
    S, wrong, names = _synthetic(200, 3)
    sel = qe.select_combination(S, wrong, names, candidates=["rank", "stacked"])
    assert [c["procedure"] for c in sel["candidates"]] == ["rank", "stacked"]
    assert sel["best"]["methods"] == list(names)
    with pytest.raises(ValueError, match="one of"):
        qe.select_combination(S, wrong, names, candidates=["select", "magic"])


def test_script_arguments_naming_what_cannot_be_done_stop_before_any_model_runs(tmp_path, monkeypatch):
    """fresh_check.py --before with a scorer of other methods, and quality_hallucination.py
    --add-method with an unregistered name, stop with a message naming the argument (no model
    is loaded: load_model would raise)."""
    import json

    import fresh_check
    import quality_hallucination

    from llminfo.analyzers.scorer import HallucinationScorer

    def no_model(*a, **k):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr("llminfo.models.load_model", no_model)
    other = HallucinationScorer(["msp", "semantic_entropy"]).fit_scores(np.c_[np.arange(20.0), np.arange(20.0)],
                                                                        np.arange(20) % 2 == 0, kind="rank")
    other.save(tmp_path / "other.json")
    questions = tmp_path / "unseen_factual_qa.jsonl"  # a question not scored yet: the model would be needed
    questions.write_text(json.dumps({"id": "u1", "question": "What is 2 + 2?", "answers": ["4"]}) + "\n")
    monkeypatch.setattr(sys, "argv", ["fresh_check.py", "--questions", str(questions), "--before", str(tmp_path / "other.json")])
    with pytest.raises(SystemExit, match=r"--before .*\['semantic_entropy'\]"):
        fresh_check.main()
    monkeypatch.setattr(sys, "argv", ["quality_hallucination.py", "--add-method", "bogus", "--rows", str(tmp_path / "r.jsonl")])
    with pytest.raises(SystemExit, match="--add-method: unknown method 'bogus'"):
        quality_hallucination.main()
