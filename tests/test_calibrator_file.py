"""The calibrator JSON: one decision threshold, version-1 files still read, atomic saves; and
the CLI's error contract (only `UserError` becomes one line with exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llminfo.analyzers.scorer import FORMAT_VERSION, HallucinationScorer
from llminfo.errors import UserError


def _fitted(kind: str = "rank") -> tuple[HallucinationScorer, np.ndarray]:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(40, 2))
    correct = (scores.sum(axis=1) + rng.normal(scale=0.5, size=40)) < 0
    scorer = HallucinationScorer(["msp", "mean_entropy"]).fit_scores(scores, correct, kind=kind, target_risk=0.3)
    return scorer, scores


@pytest.mark.parametrize("kind", ["rank", "logistic", "isotonic"])
def test_one_threshold_in_the_file_and_it_drives_the_decisions(tmp_path, kind):
    scorer, scores = _fitted(kind)
    path = tmp_path / "cal.json"
    scorer.save(path)
    text = path.read_text()
    saved = json.loads(text)
    assert text.count('"threshold"') == 1 and "threshold" not in saved["calibrator"]
    assert saved["version"] == FORMAT_VERSION == 2
    assert saved["threshold"] == scorer.calibrator.threshold != scorer.threshold  # the calibrated one, not 0.5
    loaded = HallucinationScorer.load(path)
    risk, decisions = loaded.combine(scores)
    assert decisions == ["answer" if r <= saved["threshold"] else "abstain" for r in risk]
    assert decisions == scorer.combine(scores)[1]
    assert loaded.to_dict() == scorer.to_dict()


def test_uncalibrated_file_keeps_its_threshold(tmp_path):
    scorer = HallucinationScorer(["msp"], threshold=0.3)
    scorer.save(tmp_path / "s.json")
    loaded = HallucinationScorer.load(tmp_path / "s.json")
    assert loaded.decision_threshold == 0.3 and loaded.calibrator is None


def test_version_1_file_is_read_with_its_calibrated_threshold(tmp_path):
    scorer, scores = _fitted()
    v1 = scorer.to_dict()
    v1["version"] = 1
    v1["calibrator"]["threshold"] = v1["threshold"]  # version 1 had the calibrated one here ...
    v1["threshold"] = 0.5  # ... and the uncalibrated default at the top
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    loaded = HallucinationScorer.load(tmp_path / "v1.json")
    assert loaded.decision_threshold == scorer.decision_threshold
    assert loaded.combine(scores)[1] == scorer.combine(scores)[1]


def test_save_is_atomic(tmp_path, monkeypatch):
    """A save that fails half-way leaves the previous file as it was, and no temporary file."""
    import os

    scorer, _ = _fitted()
    path = tmp_path / "cal.json"
    path.write_text("previous")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        scorer.save(path)
    assert path.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["cal.json"]


def test_validation_names_the_field_before_any_model():
    scorer, _ = _fitted("isotonic")
    good = scorer.to_dict()
    for edit, field in [
        (lambda d: d["calibrator"].update(knots_y=d["calibrator"]["knots_y"][:-1]), "calibrator.knots_y"),
        (lambda d: d["calibrator"].update(knots_x=list(reversed(d["calibrator"]["knots_x"]))), "calibrator.knots_x"),
        (lambda d: d["calibrator"].update(mean=[0.0, "x"]), "calibrator.mean"),
        (lambda d: d["calibrator"]["reference"][0].reverse(), "calibrator.reference[0]"),
        (lambda d: d.update(extra=1), "unknown keys ['extra']"),
        (lambda d: d["methods"][0].update(params=[1]), "methods[0].params"),
        (lambda d: d["calibrator"].update(target_risk=2), "calibrator.target_risk"),
    ]:
        d = json.loads(json.dumps(good))
        edit(d)
        with pytest.raises(UserError, match=field.replace("[", r"\[").replace("]", r"\]")):
            HallucinationScorer.from_dict(d, where="cal.json")


def test_only_user_errors_become_one_line(monkeypatch, capsys):
    """A programming error inside a command keeps its traceback; a UserError is one line, exit 2."""
    from llminfo import cli

    parser_cmd = "models"

    def bug(args):
        raise TypeError("unsupported operand")

    def user(args):
        raise UserError("--model 'x': not there")

    monkeypatch.setattr(cli, "_cmd_models", bug)
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.main([parser_cmd])
    monkeypatch.setattr(cli, "_cmd_models", user)
    assert cli.main([parser_cmd]) == 2
    assert capsys.readouterr().err == "llminfo models: error: --model 'x': not there\n"
    # A ValueError that is not a UserError is a bug too.
    monkeypatch.setattr(cli, "_cmd_models", lambda args: int("x"))
    with pytest.raises(ValueError):
        cli.main([parser_cmd])
