"""scripts/edfl_audit.py and scripts/p_true_variants.py: their evaluations on hand-built rows."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import edfl_audit  # noqa: E402
import p_true_variants  # noqa: E402

from llminfo.analyzers.edfl import EDFLRiskAnalyzer  # noqa: E402


def _audit_rows():
    rng = np.random.default_rng(0)
    rows = []
    an = EDFLRiskAnalyzer(skeleton_policy="llminfo")
    for i in range(40):
        p = float(rng.uniform(0.5, 0.99))
        q = rng.uniform(0.01, 0.9, size=6).tolist() if i % 2 else [p] * 6  # odd: masked skeletons
        d = an.decide(p, q, "answer")
        rows.append({"id": f"q{i}", "policy": "llminfo" if i % 2 else "paper", "correct": bool(i % 3), "q_skeletons": q,
                     "unmasked_skeletons": 0 if i % 2 else 6, "roh": d["roh"], **{k: d[k] for k in (
                         "event_label", "p_answer", "delta_bar", "q_bar", "q_lo", "b2t", "isr", "decision")}})
    return rows


def test_edfl_audit_evaluation():
    from llminfo.eval.metrics import isr_audit

    rows = _audit_rows()
    rep = edfl_audit.evaluate(rows)
    paper, ll = rep["paper"], rep["llminfo"]
    # unmasked skeletons: Δ̄ = 0, nothing answered
    assert paper["all_skeletons_unmasked"] == 1.0 and paper["delta_bar_zero"] == 1.0
    assert paper["isr_audit"]["abstention_rate"] == 1.0 and paper["isr_audit"]["wilson_upper"] == 1.0
    rs = [r for r in rows if r["policy"] == "llminfo"]
    correct = [1.0 if r["correct"] else 0.0 for r in rs]
    assert ll["isr_audit"] == isr_audit([r["decision"] for r in rs], correct)
    assert 0 < ll["isr_audit"]["answered"] < len(rs)
    # the margin sweep re-decides from the stored probabilities: margin 0.2 = the stored decisions
    assert ll["margin_sweep"]["0.2"] == ll["isr_audit"]
    answered = [ll["margin_sweep"][m]["answered"] for m in ("0", "0.1", "0.2", "0.5", "1")]
    assert answered == sorted(answered, reverse=True)


def test_p_true_variants_evaluation():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    recs = []
    for i in range(60):
        correct = bool(i % 2)
        lt = math.log(0.6 if correct else 0.3) + rng.normal(scale=0.1)
        recs.append({"id": f"q{i}", "correct": correct, "stored_p_true": math.exp(lt),
                     **{p: {"logp_true": lt, "logp_false": math.log(0.2)} for p in ("farquhar", "kadavath", "kadavath_samples")}})
    rep = p_true_variants.evaluate(recs)
    wrong = np.array([0.0 if r["correct"] else 1.0 for r in recs])
    lt = np.array([r["farquhar"]["logp_true"] for r in recs])
    assert rep["farquhar"]["paper (risk = 1 - P(True))"]["auroc"] == pytest.approx(roc_auc_score(wrong, -lt))
    p_norm = np.exp(lt) / (np.exp(lt) + 0.2)
    assert rep["kadavath"]["normalized (risk = 1 - P(A)/(P(A)+P(B)))"]["auroc"] == pytest.approx(roc_auc_score(wrong, 1 - p_norm))
    assert rep["farquhar_vs_stored_p_true_max_abs_diff"] < 1e-12
