"""The run report: PNG plots (matplotlib, Agg) and one self-contained `report.html`.

Images are inlined as base64 `data:` URIs and also written next to the HTML as PNG files,
so the report opens offline, from a mail attachment or a CI artifact. matplotlib is
imported lazily (extra `plot`); without it the report has the tables only.

Example:
    >>> from llminfo.eval.report import plot_roc
    >>> png = plot_roc({"msp": (correct, scores)}, {})  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo.eval import metrics as M
from llminfo.eval.tables import flatten
from llminfo.fileio import atomic_write_bytes, atomic_write_text

REPORT = "report.html"


def _figure(width: float = 5.6, height: float = 4.2):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def plot_roc(arrays: Mapping[str, tuple[np.ndarray, np.ndarray]], method_metrics: Mapping[str, Any]) -> bytes:
    """ROC curve per method. `arrays[name] = (correct, uncertainty)`; positive = wrong answer."""
    plt, fig, ax = _figure()
    for name, (y, s) in arrays.items():
        fpr, tpr, _ = M.roc_curve(1 - y, s)
        auc = method_metrics.get(name, {}).get("auroc", M.auroc(1 - y, s))
        ax.plot(fpr, tpr, label=f"{name} (AUROC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    ax.set_xlabel("false positive rate (right answers flagged)")
    ax.set_ylabel("true positive rate (wrong answers flagged)")
    ax.legend(fontsize=8, loc="lower right")
    return _png(plt, fig)


def plot_risk_coverage(arrays: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Risk (error rate of kept answers) vs coverage, with the oracle and random references."""
    plt, fig, ax = _figure()
    y0 = None
    for name, (y, s) in arrays.items():
        cov, risk = M.risk_coverage_curve(y, s)
        ax.plot(cov, risk, label=f"{name} (AUARC {M.auarc(y, s):.3f})")
        y0 = y if y0 is None or y.size > y0.size else y0
    if y0 is not None:
        cov, risk = M.risk_coverage_curve(y0, -y0)
        ax.plot(cov, risk, color="black", linestyle="--", label="oracle")
        ax.axhline(1 - y0.mean(), color="grey", linestyle=":", label="random")
    ax.set_xlabel("coverage (fraction of answers kept)")
    ax.set_ylabel("risk (error rate among kept)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def plot_reliability(conf: Mapping[str, tuple[np.ndarray, np.ndarray]], n_bins: int = 10) -> bytes:
    """Reliability diagram: accuracy vs mean confidence per bin. `conf[name] = (correct, confidence)`."""
    plt, fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, (y, c) in conf.items():
        mean_c, acc, count = M.reliability_bins(y, c, n_bins)
        used = count > 0
        ax.plot(mean_c[used], acc[used], marker="o", label=f"{name} (ECE {M.ece(y, c, n_bins):.3f})")
    ax.set_xlabel("predicted probability of a right answer")
    ax.set_ylabel("observed accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def plot_xy(
    points: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    annotate: bool = True,
) -> bytes:
    """Scatter of one point (or a line of points) per setting, e.g. accuracy vs tokens."""
    plt, fig, ax = _figure()
    for name, (xs, ys) in points.items():
        ax.plot(list(xs), list(ys), marker="o", linestyle="-" if len(list(xs)) > 1 else "none", label=name)
        if annotate and len(list(xs)) == 1:
            ax.annotate(name, (list(xs)[0], list(ys)[0]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def plot_bars(values: Mapping[str, float], ylabel: str, errors: Mapping[str, tuple[float, float]] | None = None) -> bytes:
    """One bar per setting (e.g. repetition rate per decoding setting)."""
    plt, fig, ax = _figure(max(5.6, 0.7 * len(values) + 2), 4.2)
    names = list(values)
    ys = [values[n] for n in names]
    yerr = None
    if errors:
        yerr = np.array([[ys[i] - errors[n][0], errors[n][1] - ys[i]] for i, n in enumerate(names)]).T
    ax.bar(range(len(names)), ys, yerr=yerr, capsize=3, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    return _png(plt, fig)


def write_report(
    out: Path,
    config: Any,
    metrics: dict[str, Any],
    figures: Sequence[tuple[str, bytes]],
    summary: str = "",
) -> Path:
    """Write the PNGs and `report.html` into `out`; returns the HTML path."""
    imgs = []
    for i, (caption, png) in enumerate(figures, 1):
        name = f"fig{i}_{_slug(caption)}.png"
        atomic_write_bytes(out / name, png)
        b64 = base64.b64encode(png).decode("ascii")
        imgs.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(caption)} <small>({name})</small></figcaption></figure>"
        )
    title = f"llminfo eval — {config.task} — {config.model.name}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=meta>dataset <code>{html.escape(str(config.dataset.path))}</code> · "
        f"config hash <code>{html.escape(metrics.get('config_hash', ''))}</code> · seed {config.seed} · "
        f"generated {time.strftime('%Y-%m-%d %H:%M:%S')}</p>",
    ]
    if summary:
        body.append(f"<h2>Summary</h2><pre>{html.escape(summary)}</pre>")
    body.append("<h2>Plots</h2>" + ("".join(imgs) if imgs else "<p>No plots (matplotlib missing or no usable data).</p>"))
    body.append("<h2>Metrics</h2>" + _metrics_table(metrics))
    body.append(
        "<h2>Config</h2><pre>" + html.escape(json.dumps(config.to_dict(), indent=2, default=str)) + "</pre>"
    )
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    path = out / REPORT
    atomic_write_text(path, page)
    return path


def _metrics_table(metrics: dict[str, Any]) -> str:
    rows = []
    for k, v in flatten(metrics).items():
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) or x is None for x in v):
            v = "[" + ", ".join("—" if x is None or x != x else f"{x:.3f}" for x in v) + "]"
        elif isinstance(v, float):
            v = "—" if v != v else f"{v:.4f}"
        rows.append(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>")
    return "<table><tr><th>metric</th><th>value</th></tr>" + "".join(rows) + "</table>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:32]


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "figure{display:inline-block;margin:0.5em;vertical-align:top}figure img{max-width:520px;border:1px solid #ddd}"
    "figcaption{font-size:0.85em;max-width:520px}table{border-collapse:collapse;font-size:0.85em}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}pre{background:#f6f6f6;padding:0.8em;overflow:auto}"
    ".meta{color:#666;font-size:0.9em}"
)
