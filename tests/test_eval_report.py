"""The report: PNG plots, a self-contained report.html, rendered by headless Chromium.

Chromium is needed for the rendering test (`apt-get install -y chromium`); without it that
test is skipped with the reason.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from llminfo.eval import report
from llminfo.eval.config import config_from_dict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fake_rows(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        correct = int(rng.random() < 0.5)
        rows.append({
            "key": f"k{i}",
            "correct": correct,
            "scores": {"msp": float(rng.normal() - correct), "semantic_entropy": float(rng.random() + 0.5 * (1 - correct))},
        })
    return rows


@pytest.fixture
def built_report(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"question": "q?", "answers": ["a"]}) + "\n")
    cfg = config_from_dict({
        "task": "qa-hallucination",
        "dataset": {"path": str(data)},
        "methods": ["msp", {"name": "semantic_entropy", "num_samples": 3}],
        "output_dir": str(tmp_path / "run"),
        "report": {"bootstrap": 50},
    })
    from llminfo.eval.task_qa import QAHallucinationTask

    task = QAHallucinationTask(cfg)
    rows = _fake_rows()
    metrics = task.compute_metrics(rows)
    figs = task.figures(rows, metrics)
    out = tmp_path / "run"
    out.mkdir()
    path = report.write_report(out, cfg, {"config_hash": cfg.config_hash(), **metrics}, figs, task.summary(metrics))
    return path, figs, metrics


def test_report_is_self_contained_with_inlined_pngs(built_report):
    path, figs, metrics = built_report
    html = path.read_text()
    captions = [c for c, _ in figs]
    assert len(figs) == 3 and any("ROC" in c for c in captions) and any("Risk" in c for c in captions)
    assert any("Reliability" in c for c in captions)
    srcs = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(srcs) == 3
    for b64, (_, png) in zip(srcs, figs):
        assert base64.b64decode(b64) == png and png.startswith(PNG_MAGIC)
    # The PNGs are also files next to the HTML, and nothing is loaded from elsewhere.
    assert len(list(path.parent.glob("fig*.png"))) == 3
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert f"{metrics['methods']['msp']['auroc']:.4f}" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _headless(tmp_path, url: str, *extra: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chrome-profile'}", "--enable-logging=stderr", "--v=0",
    ]
    return subprocess.run([exe, *flags, *extra, url], capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(built_report, tmp_path):
    path, figs, _ = built_report
    shot = tmp_path / "shot.png"
    run = _headless(tmp_path, path.as_uri(), f"--screenshot={shot}", "--window-size=1200,2400")
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-2000:]
    assert shot.read_bytes().startswith(PNG_MAGIC)
    assert _console_errors(run.stderr) == []
    dom = _headless(tmp_path, path.as_uri(), "--dump-dom")
    # The rendered DOM holds the three images, each decoded to its natural size by the browser.
    assert dom.stdout.count("<img") == 3 and "data:image/png;base64," in dom.stdout
    assert "<table>" in dom.stdout and "Summary" in dom.stdout


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_console_error_detection_catches_a_broken_page(tmp_path):
    """Negative control: the check above would see a console error if the page had one."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); undefinedFn();</script></body></html>")
    run = _headless(tmp_path, bad.as_uri(), "--dump-dom")
    assert _console_errors(run.stderr), run.stderr[-2000:]


def test_combined_risk_is_out_of_fold_and_oriented(built_report):
    _, figs, metrics = built_report
    m = metrics["methods"]
    assert set(m) == {"msp", "semantic_entropy", "combined"}
    assert m["combined"]["n"] == 60
    # Oriented like the inputs (higher = riskier) and not worse than the best input by much.
    best = max(m["msp"]["auroc"], m["semantic_entropy"]["auroc"])
    assert 0.5 < m["combined"]["auroc"] and m["combined"]["auroc"] > best - 0.1
    assert 0 <= m["combined"]["ece"] <= 1 and 0 <= m["combined"]["brier"] <= 1
