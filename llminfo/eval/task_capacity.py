"""`capacity`: information capacity of the model on a text corpus (Yuan et al., 2025).

Items are documents: rows of a JSONL/CSV/hub dataset with a `text` field (one sample each,
truncated to `max_tokens` = L tokens), or — when `dataset.path` is a folder or a .txt file
(e.g. `llminfo:corpus`) — pieces of plain-text files, each cut into consecutive windows of
L tokens (at most `max_samples` windows per piece when set). Per document the row keeps what
`llminfo.analyzers.capacity.InformationCapacity` measures on the samples' own token ids —
samples, tokens scored, UTF-8 bytes, the sum of per-sample TS, NLL bits and decode FLOPs per
token. The corpus result follows the paper (Yuan et al., 2025): TS = mean over samples,
NLL = bits/tokens, F = the paper's count at L (`flops: llminfo` for llminfo's, token-weighted),
b = the paper's constant for the corpus file name (`bias` for your own), IC = (TS − NLL + b)/log₂ F;
bits per byte too. A bootstrap interval (over documents) for IC.

Capacity compares models: `capacity_table` ranks several results and `plot_capacity` draws
IC against log₂ F (the paper's figures); `llminfo capacity --model A --model B` prints/plots them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo.eval import metrics as M
from llminfo.eval.config import ConfigError
from llminfo.eval.tasks import Param, Task, fmt


def _capacity():
    from llminfo.analyzers import capacity  # imported when the task runs

    return capacity


class CapacityTask(Task):
    name = "capacity"
    fields = {"text": True}
    params = {
        "max_tokens": Param(int, 1024, "tokens per sample L: an integer >= 2", lambda x: x >= 2),
        "bias": Param((int, float, type(None)), None, "the dataset constant b (null = the paper's value for the corpus): a number", lambda x: x is None or math.isfinite(x)),
        "flops": Param(str, "paper", "FLOPs count: paper (Yuan et al.) or llminfo", lambda x: x in ("paper", "llminfo")),
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
        ic = cap.InformationCapacity(model, max_tokens=self.p["max_tokens"], bias=self.bias, batch_size=max(1, len(items)), flops=self.p["flops"])
        rows = []
        for it in items:  # one measure per document: the per-document totals are what resumes need
            doc = cap.Document(f"item {it['key']}", str(it["text"]), stream=bool(it.get("stream", False)))
            r = ic.measure([doc], max_samples=self.p["max_samples"] or None)
            rows.append({
                "samples": r.samples,
                "tokens": r.tokens,
                "bytes": r.bytes,
                "ts_sum": r.text_bits_per_token * r.samples,
                "nll_bits": r.nll_bits_per_token * r.tokens,
                "mean_context": r.mean_context,
                "flops_per_token": r.flops_per_token,
            })
        return rows

    @property
    def bias(self) -> float:
        """b: `params.bias`, else the paper's value for the corpus file name."""
        if self.p["bias"] is not None:
            return float(self.p["bias"])
        return _capacity().paper_bias(self.config.dataset.path)[0]

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n_items": len(rows)}
        if not rows:
            return out
        cols = [np.array([r[k] for r in rows], float) for k in ("tokens", "bytes", "nll_bits", "flops_per_token", "samples", "ts_sum")]
        bias = self.bias

        def capacity_of(*c) -> float:
            return corpus_capacity(*c, bias=bias)["information_capacity"]

        out.update(corpus_capacity(*cols, bias=bias))
        out["bias_source"] = "user" if self.p["bias"] is not None else _capacity().paper_bias(self.config.dataset.path)[1]
        rep = self.config.report
        if rep.bootstrap and len(rows) > 1:
            out["information_capacity_ci"] = list(M.bootstrap_ci(capacity_of, *cols, n_resamples=rep.bootstrap, level=rep.confidence_level, seed=self.config.seed))
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


def corpus_capacity(tokens: np.ndarray, bytes_: np.ndarray, nll_bits: np.ndarray, flops: np.ndarray, samples: np.ndarray, ts_sum: np.ndarray, bias: float) -> dict[str, float]:
    """Per-document totals → the paper's corpus TS (mean over samples), NLL (per token), F
    (token-weighted), bits/byte and IC (`measures.information_capacity`)."""
    from llminfo import measures

    T = float(tokens.sum())
    ts = float(ts_sum.sum()) / float(samples.sum())
    nll = float(nll_bits.sum()) / T
    f = float(np.sum(flops * tokens) / T)
    return {
        "tokens": int(T),
        "samples": int(samples.sum()),
        "text_bits_per_token": ts,
        "text_bits_per_token_pooled": 8.0 * float(bytes_.sum()) / T,
        "nll_bits_per_token": nll,
        "bits_per_byte": float(nll_bits.sum() / bytes_.sum()),
        "flops_per_token": f,
        "log2_flops": math.log2(f),
        "bias": bias,
        "information_capacity": float(measures.information_capacity(ts, nll, f, bias)),
    }


def _field(r: Any, key: str, default: Any = None) -> Any:
    return r.get(key, default) if isinstance(r, Mapping) else getattr(r, key, default)


def capacity_table(results: Sequence[Any], source: str = "") -> str:
    """Several models ranked by information capacity, highest first: `CapacityResult`s or
    metrics dicts of task `capacity` (with a "model" key), as `llminfo capacity` prints them."""
    ranked = sorted(results, key=lambda r: _field(r, "information_capacity"), reverse=True)
    lines = []
    if ranked:
        r0 = ranked[0]
        L = _field(r0, "max_tokens")
        lines.append(f"corpus: {source or '-'}  ({f'L = {L}, ' if L else ''}b = {_field(r0, 'bias'):g} [{_field(r0, 'bias_source', 'user')}])")
    lines.append(f"{'rank':>4} {'model':<28} {'tokens':>8} {'TS bits/tok':>11} {'NLL bits/tok':>12} {'bits/byte':>9} {'log2 F':>7} {'IC':>8}")
    for k, r in enumerate(ranked, 1):
        lines.append(f"{k:>4} {str(_field(r, 'model'))[-28:]:<28} {_field(r, 'tokens'):>8} {_field(r, 'text_bits_per_token'):>11.3f} "
                     f"{_field(r, 'nll_bits_per_token'):>12.3f} {_field(r, 'bits_per_byte'):>9.3f} {_field(r, 'log2_flops'):>7.2f} "
                     f"{_field(r, 'information_capacity'):>8.4f}")
    return "\n".join(lines)


def plot_capacity(results: Sequence[Any], path: str, title: str = "") -> None:
    """Information capacity against log₂ FLOPs per token, one labelled point per model (PNG)."""
    from llminfo.eval import report

    points = {str(_field(r, "model")): ([_field(r, "log2_flops")], [_field(r, "information_capacity")]) for r in results}
    png = report.plot_xy(points, "log2 decode FLOPs per token" + (f" — {title}" if title else ""), "information capacity")
    from llminfo.fileio import atomic_write_bytes

    atomic_write_bytes(path, png)
