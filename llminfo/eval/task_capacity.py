"""`capacity`: information capacity of the model on a text corpus (Yuan et al., 2025).

Items are documents: rows of a JSONL/CSV/hub dataset with a `text` field (one sample each,
truncated to `max_tokens` = L tokens), or — when `dataset.path` is a folder or a .txt file
(e.g. `llminfo:corpus`) — pieces of plain-text files, each cut into consecutive windows of
L tokens (at most `max_samples` windows per piece when set). Per document the row keeps what
`llminfo.analyzers.capacity.InformationCapacity` measures — tokens scored, UTF-8 bytes,
NLL bits, mean attention context and decode FLOPs per token. The corpus-level result sums
these token-weighted: TS = 8·bytes/tokens, NLL = bits/tokens, F = token-weighted mean FLOPs
(exact, since decode FLOPs are affine in the context length), IC = (TS − NLL + b)/log₂ F;
bits per byte too. A bootstrap interval (over documents) for IC.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from llminfo.eval import metrics as M
from llminfo.eval.config import ConfigError
from llminfo.eval.tasks import Param, Task, fmt


def _capacity():
    from llminfo.analyzers import capacity  # lazy: the analyzer imports torch

    return capacity


class CapacityTask(Task):
    name = "capacity"
    fields = {"text": True}
    input_field = "text"
    params = {
        "max_tokens": Param(int, 1024, "tokens per sample L: an integer >= 2", lambda x: x >= 2),
        "bias": Param((int, float), -27.0, "the dataset constant b: a number", lambda x: math.isfinite(x)),
        "max_samples": Param(int, 0, "windows per document piece (0 = all): an integer >= 0", lambda x: x >= 0),
    }
    metric_names = ("information_capacity", "nll_bits_per_token", "bits_per_byte")

    @classmethod
    def validate_methods(cls, cfg) -> None:
        if cfg.methods:
            raise ConfigError("config key `methods`: task capacity has no methods; set `params` (max_tokens, bias)")
        _capacity()

    def load_items(self) -> list[dict[str, Any]]:
        folder = _text_source(self.config.dataset.path)
        if folder is None:
            return super().load_items()
        cap = _capacity()
        items = []
        for doc in cap.iter_documents(str(folder)):
            where = doc.where.replace(str(folder), "").lstrip("/") or folder.name
            items.append({"key": where, "text": doc.text, "stream": doc.stream})
        limit = self.config.dataset.limit
        return items[:limit] if limit else items

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        cap = _capacity()
        ic = cap.InformationCapacity(model, max_tokens=self.p["max_tokens"], bias=float(self.p["bias"]), batch_size=max(1, len(items)))
        rows = []
        for it in items:  # one measure per document: the per-document totals are what resumes need
            doc = cap.Document(f"item {it['key']}", str(it["text"]), stream=bool(it.get("stream", False)))
            r = ic.measure([doc], max_samples=self.p["max_samples"] or None)
            rows.append({
                "samples": r.samples,
                "tokens": r.tokens,
                "bytes": r.bytes,
                "nll_bits": r.nll_bits_per_token * r.tokens,
                "mean_context": r.mean_context,
                "flops_per_token": r.flops_per_token,
            })
        return rows

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n_items": len(rows)}
        if not rows:
            return out
        t = np.array([r["tokens"] for r in rows], float)
        b = np.array([r["bytes"] for r in rows], float)
        nll = np.array([r["nll_bits"] for r in rows], float)
        fl = np.array([r["flops_per_token"] for r in rows], float)
        bias = float(self.p["bias"])

        def capacity_of(t, b, nll, fl) -> float:
            return corpus_capacity(t, b, nll, fl, bias)["information_capacity"]

        out.update(corpus_capacity(t, b, nll, fl, bias))
        rep = self.config.report
        if rep.bootstrap and len(rows) > 1:
            out["information_capacity_ci"] = list(M.bootstrap_ci(capacity_of, t, b, nll, fl, n_resamples=rep.bootstrap, level=rep.confidence_level, seed=self.config.seed))
        return out

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        from llminfo.eval import report

        if not rows:
            return []
        per_doc = {"documents": ([r["tokens"] for r in rows], [r["nll_bits"] / max(r["tokens"], 1) for r in rows])}
        return [("NLL bits per token vs document length", report.plot_xy(per_doc, "tokens scored", "NLL (bits/token)", annotate=False))]

    def summary(self, metrics: dict[str, Any]) -> str:
        keys = ["tokens", "text_bits_per_token", "nll_bits_per_token", "bits_per_byte", "log2_flops", "information_capacity"]
        return f"documents: {metrics['n_items']}\n" + "\n".join(f"{k:<24}{fmt(metrics.get(k), 4):>12}" for k in keys)


def _text_source(spec: str) -> Path | None:
    """The folder / .txt file behind `dataset.path`, or None for row datasets."""
    if spec.startswith("llminfo:"):
        from llminfo.data import data_path

        try:
            path = Path(data_path(spec.split(":", 1)[1]))
        except FileNotFoundError as e:
            raise ConfigError(f"config key `dataset.path`: {e}") from None
    else:
        path = Path(spec).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix == ".txt"):
        return path
    return None


def corpus_capacity(tokens: np.ndarray, bytes_: np.ndarray, nll_bits: np.ndarray, flops: np.ndarray, bias: float) -> dict[str, float]:
    """Token-weighted corpus totals → TS, NLL, bits/byte, F and IC (`measures.information_capacity`)."""
    from llminfo import measures

    T = float(tokens.sum())
    ts = 8.0 * float(bytes_.sum()) / T
    nll = float(nll_bits.sum()) / T
    f = float(np.sum(flops * tokens) / T)
    return {
        "tokens": int(T),
        "text_bits_per_token": ts,
        "nll_bits_per_token": nll,
        "bits_per_byte": float(nll_bits.sum() / bytes_.sum()),
        "flops_per_token": f,
        "log2_flops": math.log2(f),
        "bias": bias,
        "information_capacity": float(measures.information_capacity(ts, nll, f, bias)),
    }
