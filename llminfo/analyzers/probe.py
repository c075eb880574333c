"""Hidden-state probe (`hidden_probe`): a linear classifier on the model's own hidden states of
its answer, fitted to predict "this answer is wrong".

Idea: a model's internal states carry its own knowledge of whether a statement it reads (or
writes) is true, often more than its output probabilities do — Azaria & Mitchell, "The Internal
State of an LLM Knows When It's Lying" (Findings of EMNLP 2023, SAPLMA: a classifier on one
layer's hidden state of the statement's last token); CCS-style and linear truthfulness probes
(Burns et al. 2023; Marks & Tegmark 2023) show the signal is largely linear. It needs labelled
questions per model, so every embedded model ships a fitted probe
(`llminfo/data/probes/{model name}.json`, `scripts/fit_probe.py`); for another Hugging Face
model, `fit_probe(model, items, correct)` fits one on labelled questions: save it and pass
`probe=path`.

llminfo's variant (not SAPLMA's exact recipe, hence its own name): an L2-penalised logistic
regression — SAPLMA trains an MLP on ~6k statements, we have a few hundred labelled questions per
model — on the hidden state of layer ℓ pooled over the answer's tokens ("mean") or taken at the
last token ("last", SAPLMA's choice), after the same short-answer prompt the white-box
baselines teacher-force the answer after. ℓ, the pooling and the regularisation C are chosen by
repeated cross-validation on the development questions only. The score is

    risk = σ(w · h_ℓ(x, y) + b),

the probe's probability that the answer is wrong (standardisation folded into w and b).
On a model without a probe, or a backend without hidden states (vLLM, OpenAI servers), the
score is NaN and `details["error"]` says why; the scorer's combined risk then uses the other
methods.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.probe import HiddenStateProbe
    >>> model = load_model("default")
    >>> [r] = HiddenStateProbe().score(model, [{"question": "What is the capital of France?"}])
    >>> 0 < r.score < 1, r.details["layer"], r.details["pool"]  # doctest: +SKIP
    (True, 11, 'mean')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo.analyzers.base import ANSWER_MAX_NEW_TOKENS, HallucinationMethod, MethodResult, answer_continuation
from llminfo.models.base import HIDDEN_POOLS, LanguageModel

PROBE_DIR = "probes"  # inside llminfo/data: {model name}.json
FORMAT = "llminfo.LinearProbe"


@dataclass
class LinearProbe:
    """risk = σ(w · h + b) on one layer's pooled hidden state h.

    Attributes:
        layer: hidden-state index (0 = embeddings, l = output of block l).
        pool: "mean" over the answer tokens or "last" token (`LanguageModel.hidden_states`).
        weights: (D,) w, in the units of the raw hidden state (standardisation folded in).
        bias: b.
        meta: how it was fitted (model, rows, C, cross-validated AUROC, ...).
    """

    layer: int
    pool: str
    weights: np.ndarray
    bias: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def hidden_size(self) -> int:
        return int(self.weights.size)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N,) probabilities that the answers are wrong from (N, D) pooled hidden states."""
        from llminfo.analyzers.calibration import _sigmoid

        h = np.asarray(features, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != self.hidden_size:
            raise ValueError(f"`features` has to be (N, {self.hidden_size}) (this probe's hidden size), got {h.shape}")
        return _sigmoid(h @ self.weights + self.bias)

    @classmethod
    def fit(cls, features: np.ndarray, wrong: Sequence[float], *, layer: int, pool: str, c: float,
            meta: Mapping[str, Any] | None = None) -> "LinearProbe":
        """L2 logistic regression of `wrong` on standardised `features` (N, D) with strength `c`
        (`calibration.fit_logistic`, scikit-learn's objective), the standardisation folded
        into the returned weights."""
        from llminfo.analyzers.calibration import fit_logistic

        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(wrong, dtype=np.float64)
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"`features` has to be (N, D) and `wrong` (N,), got {x.shape} and {y.shape}")
        if not np.all(np.isin(y, (0.0, 1.0))) or y.min() == y.max():
            raise ValueError("`wrong` has to hold both labels 0 and 1")
        mean, std = x.mean(axis=0), x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        w, b = fit_logistic((x - mean) / std, y, c=c)
        weights = w / std
        return cls(int(layer), pool, weights, float(b - weights @ mean), dict(meta or {}))

    # -- persistence (plain JSON) ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "layer": self.layer, "pool": self.pool, "bias": self.bias,
                "weights": [float(v) for v in self.weights], "meta": self.meta}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "probe") -> "LinearProbe":
        """Build from `to_dict`'s output; errors name the field."""
        from llminfo.errors import UserError

        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise UserError(f"{where}: not a saved probe (missing 'format': '{FORMAT}')")
        layer, pool, bias, weights = d.get("layer"), d.get("pool"), d.get("bias"), d.get("weights")
        if not isinstance(layer, int) or isinstance(layer, bool) or layer < 0:
            raise UserError(f"{where}: field `layer` has to be an integer >= 0, got {layer!r}")
        if pool not in HIDDEN_POOLS:
            raise UserError(f"{where}: field `pool` has to be one of {HIDDEN_POOLS}, got {pool!r}")
        if not isinstance(bias, (int, float)) or isinstance(bias, bool) or not math.isfinite(bias):
            raise UserError(f"{where}: field `bias` has to be a finite number, got {bias!r}")
        if (not isinstance(weights, list) or not weights
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in weights)):
            raise UserError(f"{where}: field `weights` has to be a non-empty list of finite numbers")
        meta = d.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise UserError(f"{where}: field `meta` has to be an object")
        return cls(layer, pool, np.asarray(weights, dtype=np.float64), float(bias), dict(meta))

    def save(self, path: str | Path) -> None:
        from llminfo.fileio import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "LinearProbe":
        from llminfo.fileio import read_json_file

        return cls.from_dict(read_json_file(path, "probe"), where=f"probe {path}")


#: L2 strengths the probe's C is chosen from.
PROBE_CS = (0.001, 0.01, 0.1, 1.0)


def out_of_fold(x: np.ndarray, wrong: np.ndarray, *, c: float, folds: int = 5, seed: int = 0) -> np.ndarray:
    """(N,) out-of-fold probe predictions over stratified seeded folds (`LinearProbe.fit` at `c`)."""
    from llminfo.analyzers.calibration import stratified_folds

    fold = stratified_folds(wrong, folds, seed)
    p = np.empty(len(wrong))
    for f in range(folds):
        tr = fold != f
        p[~tr] = LinearProbe.fit(x[tr], wrong[tr], layer=0, pool="mean", c=c).predict(x[~tr])
    return p


def select_probe(
    features: Mapping[str, np.ndarray], wrong: Sequence[float], *, layers: Sequence[int] | None = None,
    cs: Sequence[float] = PROBE_CS, folds: int = 5, repeats: int = 3, seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Choose pooling, layer and C by repeated stratified cross-validation (mean out-of-fold AUROC).

    Args:
        features: `{pool: (N, K, D)}` pooled hidden states of K layers (`LanguageModel.hidden_states`).
        wrong: (N,) 1 = the answer is wrong.
        layers (*optional*): the hidden-state index of each of the K columns (default 0..K−1;
            index 0, the embeddings, is skipped).
    Returns:
        (best `{"pool", "layer", "c", "cv_auroc"}`, every grid point).
    """
    from llminfo.eval.metrics import auroc

    y = np.asarray(wrong, dtype=np.float64)
    grid = []
    for pool, h in features.items():
        idx = list(layers) if layers is not None else list(range(h.shape[1]))
        for k, layer in enumerate(idx):
            if layer == 0:
                continue
            x = h[:, k].astype(np.float64)
            for c in cs:
                cv = [auroc(y, out_of_fold(x, y, c=c, folds=folds, seed=seed + r)) for r in range(repeats)]
                grid.append({"pool": pool, "layer": int(layer), "c": float(c), "cv_auroc": float(np.mean(cv))})
    if not grid:
        raise ValueError("no layer to choose from: `features` holds only the embeddings (layer 0)")
    return max(grid, key=lambda g: g["cv_auroc"]), grid


def probe_features(
    model: LanguageModel, items: Sequence[Any], answers: Sequence[str] | None, layers: Sequence[int],
    pools: Sequence[str] = HIDDEN_POOLS,
) -> dict[str, np.ndarray]:
    """`{pool: (N, len(layers), D)}`: what the probes read — each answer teacher-forced after the
    short-answer prompt the white-box baselines use, or (`answers=None`, the query probe) the
    prompt's last token alone (pool "last")."""
    from llminfo.analyzers.base import as_items, qa_prompt

    items = as_items(items)
    prompts = [qa_prompt(model, it.question, it.context) for it in items]
    if answers is None:
        pools, conts = ("last",), [""] * len(items)
    else:
        conts = [answer_continuation(model, a) for a in answers]
    return {pool: model.hidden_states(prompts, conts, layers, pool=pool) for pool in pools}  # batched inside


def fit_probe(
    model: LanguageModel, items: Sequence[Any], correct: Sequence[bool | int], *, layers: Sequence[int] | None = None,
    pools: Sequence[str] = HIDDEN_POOLS, cs: Sequence[float] = PROBE_CS, folds: int = 5, repeats: int = 3, seed: int = 0,
    query: bool = False,
) -> LinearProbe:
    """Fit a `hidden_probe` for `model` on labelled questions; save it and pass
    `HiddenStateProbe(probe=path)` (or `("hidden_probe", {"probe": path})` to a scorer).

    The answers are the items' own or the model's greedy answers (as the scorer scores them);
    pooling, layer and C are chosen by `select_probe`, then the probe is fitted on every item.
    `meta` records the choice, its CV AUROC and the grid size. Aim for a few hundred labelled
    questions with both outcomes well represented.

    Args:
        model: a model exposing hidden states (Hugging Face backend).
        items: questions (`QAItem`, dicts or strings). correct: is item i's answer right.
        layers (*optional*): hidden-state indices to consider (default: every block's output).
        query (`bool`, defaults to False): fit a `query_probe` instead — the prompt's last token,
            before any answer (`pools` is then ("last",); the labels still judge the answers).

    Example:
        >>> probe = fit_probe(model, items, correct)  # doctest: +SKIP
        >>> probe.save("my_probe.json"); HiddenStateProbe(probe="my_probe.json")  # doctest: +SKIP
    """
    from llminfo.analyzers.base import answers_for, as_items

    items = as_items(items)
    if len(correct) != len(items):
        raise ValueError(f"`correct` has {len(correct)} labels for {len(items)} items")
    wrong = np.array([0.0 if bool(c) else 1.0 for c in correct])
    if wrong.min() == wrong.max():
        raise ValueError("`correct` has to hold both right and wrong answers to fit a probe")
    if min(wrong.sum(), (1 - wrong).sum()) < folds:
        raise ValueError(f"`correct` needs at least {folds} right and {folds} wrong answers (`folds`={folds})")
    for pool in pools:
        if pool not in HIDDEN_POOLS:
            raise ValueError(f"`pools` has to hold values of {HIDDEN_POOLS}, got {pool!r}")
    idx = list(layers) if layers is not None else list(range(model.describe().num_layers + 1))
    features = probe_features(model, items, None if query else answers_for(model, items), idx, pools)
    best, grid = select_probe(features, wrong, layers=idx, cs=cs, folds=folds, repeats=repeats, seed=seed)
    x = features[best["pool"]][:, idx.index(best["layer"])].astype(np.float64)
    meta = {"model": getattr(model, "name", None), "kind": "query" if query else "answer", "n_rows": len(items), "cv_auroc": best["cv_auroc"],
            "c": best["c"], "grid_points": len(grid), "procedure": f"{repeats} x {folds}-fold stratified CV"}
    return LinearProbe.fit(x, wrong, layer=best["layer"], pool=best["pool"], c=best["c"], meta=meta)


def shipped_probe_path(model_name: Any, kind: str = "answer") -> Path | None:
    """Path of the probe shipped for an embedded model, or None: `llminfo/data/probes/{name}.json`
    (`kind="answer"`, `hidden_probe`) or `{name}.query.json` (`kind="query"`, `query_probe`)."""
    from llminfo.data import DATA_DIR

    if not isinstance(model_name, str) or not model_name or "/" in model_name or model_name.startswith("."):
        return None
    path = DATA_DIR / PROBE_DIR / (f"{model_name}.json" if kind == "answer" else f"{model_name}.{kind}.json")
    return path if path.is_file() else None


class HiddenStateProbe(HallucinationMethod):
    """σ(w · h_ℓ + b): a fitted linear probe on the answer's hidden states (llminfo's variant of
    SAPLMA, Azaria & Mitchell 2023). Higher = more likely wrong.

    Args:
        probe (`str` or `Path`, *optional*): a probe file written by `scripts/fit_probe.py`
            or `fit_probe` (`LinearProbe.save`). Default: the probe shipped for the model
            (embedded models).
        max_new_tokens (`int`, defaults to 24): length of the greedy answer when none is given.
    """

    name = "hidden_probe"
    needs = ("answers",)
    kind = "answer"  # what the probe reads: the answer after the prompt ("query": the prompt alone)

    def __init__(self, probe: str | Path | None = None, max_new_tokens: int = ANSWER_MAX_NEW_TOKENS):
        if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` has to be an integer >= 1, got {max_new_tokens!r}")
        if probe is not None and not isinstance(probe, (str, Path)):
            raise TypeError(f"`probe` has to be a path to a probe file or None, got {type(probe).__name__}")
        self.max_new_tokens = max_new_tokens
        self.probe_path = probe
        self._probe = LinearProbe.load(probe) if probe is not None else None
        self._shipped: dict[str, LinearProbe | None] = {}

    def probe_for(self, model: LanguageModel) -> LinearProbe | None:
        """The given probe, else the one shipped for `model` (by name), else None."""
        if self._probe is not None:
            return self._probe
        name = getattr(model, "name", None)
        if name not in self._shipped:
            path = shipped_probe_path(name, self.kind)
            self._shipped[name] = LinearProbe.load(path) if path is not None else None
        return self._shipped[name]

    def _inputs(self, model: LanguageModel, stats: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        """The continuation each probe reads after its prompt, and each row's base details."""
        return ([answer_continuation(model, a) for a in stats["answers"]], [{"answer": a} for a in stats["answers"]])

    def reduce(self, model, items, stats, *, seed, cache) -> list[MethodResult]:
        conts, base = self._inputs(model, stats)
        probe = self.probe_for(model)
        if probe is None:
            why = (f"no probe fitted for model {getattr(model, 'name', None)!r}: fit one with "
                   f"llminfo.analyzers.probe.fit_probe on labelled questions and pass {type(self).__name__}(probe=path)")
            return self._not_scored(base, why)
        try:
            h = model.hidden_states(stats["prompts"], conts, [probe.layer], pool=probe.pool)[:, 0]
        except NotImplementedError as e:
            return self._not_scored(base, str(e))
        if h.shape[1] != probe.hidden_size:
            raise ValueError(f"the probe has {probe.hidden_size} weights but the model's hidden size is {h.shape[1]}: "
                             "it was fitted for another model")
        risk = probe.predict(h)
        return [MethodResult(float(r), {**d, "layer": probe.layer, "pool": probe.pool}) for d, r in zip(base, risk)]

    def _not_scored(self, base: list[dict[str, Any]], why: str) -> list[MethodResult]:
        """NaN scores that say why, and a warning (once per reason): a scorer's combined risk
        then rests on its other methods."""
        import warnings

        warnings.warn(f"{self.name} is not scored: {why}; the combined risk uses the other methods", UserWarning, stacklevel=3)
        return [MethodResult(math.nan, {**d, "error": why}) for d in base]


class QueryProbe(HiddenStateProbe):
    """σ(w · h_ℓ + b) on the hidden state of the prompt's last token: the risk that the model
    will answer this question wrongly, read before it answers — llminfo's linear variant of
    Ji et al., "LLM Internal States Reveal Hallucination Risk Faced With a Query" (BlackboxNLP
    2024; an MLP on the query's last-token state there). Cheap: one prompt forward that stops
    at layer ℓ, no answer needed. Higher = more likely wrong.

    Args:
        probe (`str` or `Path`, *optional*): a probe file from `fit_probe(..., query=True)`.
            Default: the query probe shipped for the model (embedded models).
    """

    name = "query_probe"
    needs = ("prompts",)
    kind = "query"

    def __init__(self, probe: str | Path | None = None):
        super().__init__(probe)
        if self._probe is not None and self._probe.pool != "last":
            raise ValueError(f"`probe`: a query probe reads the prompt's last token (pool 'last'), this one has pool {self._probe.pool!r}")

    def _inputs(self, model: LanguageModel, stats: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        return [""] * len(stats["prompts"]), [{} for _ in stats["prompts"]]
