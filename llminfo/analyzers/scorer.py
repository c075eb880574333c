"""`HallucinationScorer`: run several hallucination signals, combine them into one risk.

Every method scores the same answer (the item's own, or the model's greedy answer) and
draws its samples from one shared `SampleCache`, so K samples per question are generated
once for all methods. The combined `risk` in [0, 1] is calibrated (`calibrated: true`) when a
fitted `Calibrator` is attached (`fit`, `load`) or — by default — when the model is an
embedded model that ships a calibrator fitted for these methods
(`llminfo/data/calibrators/{model name}.json`, `scripts/fit_calibrator.py`). Otherwise it is
`calibration.reference_risk`, a fixed map of each score (`calibrated: false`). Either way a
row's risk depends on that row alone, never on the batch. The `decision`
("answer"/"abstain") compares the risk with the calibrator's threshold (chosen for a target
risk on its calibration split), or with `threshold` (0.5) when uncalibrated.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers import HallucinationScorer
    >>> model = load_model("default")
    >>> scorer = HallucinationScorer(["msp", "mean_entropy"])
    >>> # optional: scorer.fit(model, train_items, correct) calibrates on labelled data
    >>> [r] = scorer.score(model, [{"question": "Who wrote 'Hamlet'?"}])
    >>> sorted(r.scores), 0 <= r.risk <= 1, r.decision in ("answer", "abstain"), r.calibrated
    (['mean_entropy', 'msp'], True, True, False)
    >>> HallucinationScorer().score(model, ["Who wrote 'Hamlet'?"])[0].calibrated  # shipped calibrator
    True
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo.analyzers.base import HallucinationMethod, QAItem, SampleCache, answers_for, as_items, greedy_requests
from llminfo.analyzers.calibration import Calibrator, reference_risk, shipped_calibrator_paths
from llminfo.analyzers.registry import DEFAULT_METHODS, available_methods, get_method_class, method_names
from llminfo.models.base import LanguageModel

FORMAT_VERSION = 2  # 2: one decision threshold, at the top level (1 also had one inside the calibrator)


def build_method(spec: str | tuple[str, Mapping[str, Any]] | HallucinationMethod) -> tuple[HallucinationMethod, dict]:
    """A method from a name, a (name, kwargs) pair or an instance; returns (method, kwargs)."""
    if isinstance(spec, HallucinationMethod):
        return spec, {}
    name, kwargs = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
    cls = get_method_class(name)
    try:
        return cls(**kwargs), kwargs
    except TypeError as e:
        raise ValueError(f"method {name!r}: bad parameters {kwargs}: {e}") from None


@dataclass
class ScoredItem:
    """The scorer's verdict on one item.

    Attributes:
        answer: the scored answer (given, or the model's greedy answer).
        scores: `{method: raw score}`, higher = more uncertain (None where a method failed).
        risk: combined risk in [0, 1], higher = more likely wrong.
        decision: "answer" or "abstain".
        details: `{method: details dict}`.
        calibrated: True when a fitted calibrator produced `risk` (a probability of being
            wrong), False for the fixed uncalibrated map.
    """

    answer: str
    scores: dict[str, float | None]
    risk: float
    decision: str
    details: dict[str, Any] = field(default_factory=dict)
    calibrated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HallucinationScorer:
    """Combine hallucination signals into one risk and an answer/abstain decision.

    Args:
        methods (`Sequence`, defaults to `DEFAULT_METHODS`): method names (see
            `available_methods()`), `(name, kwargs)` pairs, or `HallucinationMethod` instances.
        calibrator (`Calibrator`, *optional*): a fitted calibrator; `fit` makes one.
        threshold (`float`, defaults to 0.5): decision threshold on the uncalibrated risk.
        samples (`int`, *optional*): K for every sampling method built by name (overrides
            their default `num_samples`).

    Example:
        >>> scorer = HallucinationScorer(["msp", ("semantic_entropy", {"num_samples": 5})])
        >>> results = scorer.score(model, ["What is the capital of France?"])  # doctest: +SKIP
        >>> scorer.save("calibrator.json"); HallucinationScorer.load("calibrator.json").names
        ['msp', 'semantic_entropy']
    """

    def __init__(
        self,
        methods: Sequence[str | tuple[str, Mapping[str, Any]] | HallucinationMethod] = DEFAULT_METHODS,
        calibrator: Calibrator | None = None,
        threshold: float = 0.5,
        samples: int | None = None,
    ):
        if isinstance(methods, (str, HallucinationMethod)):
            methods = [methods]
        if not methods:
            raise ValueError("`methods` is empty: name at least one method")
        if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
            raise ValueError(f"`samples` has to be an integer >= 1, got {samples!r}")
        if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
            raise ValueError(f"`threshold` has to be in [0, 1], got {threshold!r}")
        self.methods: list[HallucinationMethod] = []
        self.method_params: list[dict] = []
        for spec in methods:
            if samples is not None and not isinstance(spec, HallucinationMethod):
                name, kw = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
                if name in method_names() and "num_samples" in _init_params(get_method_class(name)):
                    kw.setdefault("num_samples", samples)
                spec = (name, kw)
            method, params = build_method(spec)
            self.methods.append(method)
            self.method_params.append(params)
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"`methods` names a method twice: {names}")
        if calibrator is not None and calibrator.fitted and calibrator.methods != names:
            raise ValueError(f"calibrator was fitted on methods {calibrator.methods}, scorer has {names}")
        self.calibrator = calibrator
        self.threshold = float(threshold)
        self._shipped: dict[str, Calibrator | None] = {}

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.methods]

    def raw_scores(
        self, model: LanguageModel, items: Sequence[QAItem | Mapping | str], *, seed: int = 0, cache: SampleCache | None = None
    ) -> tuple[list[str], np.ndarray, list[dict]]:
        """Answers, scores (N, M) (NaN where a method failed) and per-item details."""
        items = as_items(items)
        cache = cache if cache is not None else SampleCache()
        # every method's greedy answers and samples in as few decode loops as the backend allows
        cache.prefetch(model, greedy_requests(model, items) + [
            r for m in self.methods for r in m.generation_requests(model, items, seed=seed)])
        answers = answers_for(model, items, cache=cache)
        answered = [replace(it, answer=a) for it, a in zip(items, answers)]
        scores = np.full((len(items), len(self.methods)), np.nan)
        details: list[dict] = [{} for _ in items]
        for j, method in enumerate(self.methods):
            results = method.score(model, answered, seed=seed, cache=cache)
            if len(results) != len(items):
                raise RuntimeError(f"method {method.name!r} returned {len(results)} results for {len(items)} items")
            for i, r in enumerate(results):
                scores[i, j] = r.score if r.score is not None else np.nan
                details[i][method.name] = r.details
        return answers, scores, details

    def calibrator_for(self, model: LanguageModel | None) -> Calibrator | None:
        """The fitted calibrator used for `model`: the attached one, else one shipped for this
        embedded model (the default methods' or a variant's, `shipped_calibrator_paths`) that
        was fitted on exactly these methods and parameters."""
        if self.calibrator is not None and self.calibrator.fitted:
            return self.calibrator
        name = getattr(model, "name", None)
        if name is None:
            return None
        if name not in self._shipped:
            self._shipped[name] = None
            for path in shipped_calibrator_paths(name):
                shipped = HallucinationScorer.load(path)
                if shipped.names == self.names and shipped.method_params == self.method_params:
                    self._shipped[name] = shipped.calibrator
                    break
        return self._shipped[name]

    def combine(self, scores: np.ndarray, model: LanguageModel | None = None) -> tuple[np.ndarray, list[str]]:
        """Risk (N,) and decisions from raw scores (N, M); calibrated when
        `calibrator_for(model)` is not None.

        Each row's risk is a function of that row alone (no batch statistics).
        """
        cal = self.calibrator_for(model)
        if cal is not None:
            risk = cal.predict(scores)
            return risk, cal.decide(risk)
        risk = reference_risk(self.names, scores)
        return risk, ["answer" if r <= self.threshold else "abstain" for r in risk]

    def score(
        self, model: LanguageModel, items: Sequence[QAItem | Mapping | str], *, seed: int = 0, cache: SampleCache | None = None
    ) -> list[ScoredItem]:
        """Score a batch: answers, each method's raw score, combined risk and decision."""
        answers, scores, details = self.raw_scores(model, items, seed=seed, cache=cache)
        risk, decisions = self.combine(scores, model)
        calibrated = self.calibrator_for(model) is not None
        return [
            ScoredItem(
                answer=a,
                scores={n: (float(v) if np.isfinite(v) else None) for n, v in zip(self.names, row)},
                risk=float(r),
                decision=d,
                details=det,
                calibrated=calibrated,
            )
            for a, row, r, d, det in zip(answers, scores, risk, decisions, details)
        ]

    def fit(
        self,
        model: LanguageModel,
        items: Sequence[QAItem | Mapping | str],
        correct: Sequence[bool | int],
        *,
        kind: str = "rank",
        target_risk: float = 0.2,
        seed: int = 0,
        cache: SampleCache | None = None,
    ) -> "HallucinationScorer":
        """Score labelled items and fit the calibrator. `correct[i]`: is item i's answer right."""
        items = as_items(items)
        if len(correct) != len(items):
            raise ValueError(f"`correct` has {len(correct)} labels for {len(items)} items")
        _, scores, _ = self.raw_scores(model, items, seed=seed, cache=cache)
        return self.fit_scores(scores, correct, kind=kind, target_risk=target_risk)

    def fit_scores(
        self, scores: np.ndarray, correct: Sequence[bool | int], *, kind: str = "rank", target_risk: float = 0.2,
        c: float | None = 1.0,
    ) -> "HallucinationScorer":
        """Fit the calibrator on precomputed raw scores (N, M) in the order of `names`
        (`kind`, `target_risk`, `c`: as `Calibrator`)."""
        self.calibrator = Calibrator(kind=kind, target_risk=target_risk, c=c).fit(self.names, scores, correct)
        return self

    # -- persistence (plain JSON, no pickle) ------------------------------------------------

    @property
    def decision_threshold(self) -> float:
        """The one threshold `decision` uses: the calibrator's when fitted, else `threshold`."""
        if self.calibrator is not None and self.calibrator.fitted:
            return float(self.calibrator.threshold)
        return self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: methods with parameters, the decision threshold, the calibrator's fit."""
        cal = None
        if self.calibrator is not None:
            cal = self.calibrator.to_dict()
            cal.pop("threshold", None)  # the file has one threshold: the top-level one
        return {
            "format": "llminfo.HallucinationScorer",
            "version": FORMAT_VERSION,
            "methods": [{"name": n, "params": p} for n, p in zip(self.names, self.method_params)],
            "threshold": self.decision_threshold,
            "calibrator": cal,
        }

    def save(self, path: str | Path) -> None:
        """Write the method list and the calibrator as JSON (atomically: a failed save keeps the old file)."""
        from llminfo.fileio import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "scorer") -> "HallucinationScorer":
        """Build from `to_dict`'s output. Every field is checked before anything is built.

        Raises:
            UserError: naming the field (`methods[1].params`, `calibrator.coef`, ...).
        """
        from llminfo.errors import UserError

        if not isinstance(d, Mapping) or d.get("format") != "llminfo.HallucinationScorer":
            raise UserError(f"{where}: not a saved HallucinationScorer (missing 'format': 'llminfo.HallucinationScorer')")
        version = d.get("version")
        if version not in (1, FORMAT_VERSION):
            raise UserError(f"{where}: unsupported version {version!r} (this llminfo reads 1 and {FORMAT_VERSION})")
        extra = set(d) - {"format", "version", "methods", "threshold", "calibrator"}
        if extra:
            raise UserError(f"{where}: unknown keys {sorted(extra)}")
        methods = d.get("methods")
        if not isinstance(methods, list) or not methods:
            raise UserError(f"{where}: field `methods` has to be a non-empty list of {{'name', 'params'}} objects")
        for i, m in enumerate(methods):
            if not isinstance(m, Mapping) or not isinstance(m.get("name"), str) or set(m) - {"name", "params"}:
                raise UserError(f"{where}: field `methods[{i}]` has to be an object {{'name': str, 'params': {{...}}}}, got {m!r:.80}")
            if not isinstance(m.get("params") or {}, Mapping):
                raise UserError(f"{where}: field `methods[{i}].params` has to be an object, got {m['params']!r:.80}")
        names = [m["name"] for m in methods]
        cal = d.get("calibrator")
        if cal is not None and not isinstance(cal, dict):
            raise UserError(f"{where}: field `calibrator` has to be an object or null, got {type(cal).__name__}")
        cal = dict(cal) if cal is not None else None
        threshold = d.get("threshold", 0.5)
        if version == 1 and cal is not None and "threshold" in cal:
            threshold = cal.pop("threshold")  # version 1 kept the calibrated threshold here
        elif cal is not None and "threshold" in cal:
            raise UserError(f"{where}: field `calibrator.threshold`: version {FORMAT_VERSION} has one threshold, "
                            "the top-level `threshold`")
        fitted = bool(cal and cal.get("methods"))
        lo = -1.0 if fitted else 0.0  # a calibrated threshold of -1 means: always abstain
        if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and lo <= threshold <= 1):
            raise UserError(f"{where}: field `threshold` has to be a number in [{lo:g}, 1], got {threshold!r}")
        calibrator = None
        if cal is not None:
            try:
                calibrator = Calibrator.from_dict({**cal, "threshold": threshold} if fitted else cal, where=f"{where}: field calibrator")
            except (TypeError, ValueError) as e:
                raise UserError(str(e)) from None
            if fitted and calibrator.methods != names:
                raise UserError(f"{where}: field `calibrator.methods` {calibrator.methods} does not match `methods` {names}: "
                                "the calibrator was fitted on other methods")
        try:
            return cls([(m["name"], m.get("params") or {}) for m in methods], calibrator=calibrator,
                       threshold=threshold if not fitted else 0.5)
        except (TypeError, ValueError) as e:
            raise UserError(f"{where}: field `methods`: {e}") from None

    @classmethod
    def load(cls, path: str | Path) -> "HallucinationScorer":
        """Read and check a scorer written by `save` (no model is needed)."""
        from llminfo.fileio import read_json_file

        return cls.from_dict(read_json_file(path, "calibrator"), where=str(path))


def _init_params(cls: type | None) -> set[str]:
    import inspect

    if cls is None:
        return set()
    return set(inspect.signature(cls.__init__).parameters)
