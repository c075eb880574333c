"""Turn several hallucination scores into one calibrated risk in [0, 1].

Three pieces, all numpy (no scikit-learn at run time; tests compare with it):
- `fit_logistic`: L2-penalised logistic regression by Newton steps (same objective as
  scikit-learn's `LogisticRegression(C=...)`: intercept not penalised).
- `fit_isotonic` / `isotonic_predict`: pool-adjacent-violators (Barlow et al., 1972), with
  scikit-learn's tie handling and linear interpolation between fitted points.
- `Calibrator`: AUROC-weighted ECDF average → monotone logistic ("rank", the default),
  regularised stacking ("stacked": logit ECDF features → L2 logistic regression, its
  strength chosen by inner cross-validation), standardise → logistic, or ECDF average →
  isotonic; plus the answer/abstain threshold that meets a target risk on the calibration
  split. Serialises to plain JSON.
- `reference_risk`: the uncalibrated risk — a FIXED map of each score (percentile against
  shipped reference quantiles), averaged: a row's risk never depends on the other rows of
  its batch or on the batch size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from llminfo import measures

KINDS = ("rank", "stacked", "logistic", "isotonic")
# Inverse L2 strengths tried by the inner cross-validation of the "stacked" kind.
STACKING_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
STACKING_FOLDS = 5


def _nanmean_rows(a: np.ndarray, empty: float = 0.5) -> np.ndarray:
    """Row means ignoring NaN; `empty` for rows with no finite value."""
    ok = np.isfinite(a)
    n = ok.sum(axis=1)
    total = np.where(ok, a, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), empty)


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann–Whitney AUROC of scores `s` for labels `y` (ties half); 0.5 when undefined."""
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    pos, neg = int(y.sum()), int((1 - y).sum())
    if pos == 0 or neg == 0:
        return 0.5
    return measures.auroc(y, s)


def _row_dot(x: np.ndarray, w: Sequence[float]) -> np.ndarray:
    """x @ w summed column by column, so each row's value is bit-identical whatever the
    number of rows (a BLAS matrix-vector product may change its summation order with N)."""
    out = np.zeros(x.shape[0])
    for j, wj in enumerate(w):
        out = out + x[:, j] * wj
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float = 1.0, steps: int = 50, tol: float = 1e-10) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method.

    Minimises Σ_i log(1 + exp(−s_i (x_i·w + b))) + ||w||² / (2C), s_i = ±1 — scikit-learn's
    `LogisticRegression(C=c)` objective (intercept unpenalised). The objective is strictly
    convex, so a few damped Newton steps reach the optimum.

    Args:
        x: (N, D) features. y: (N,) labels in {0, 1}. c: inverse regularisation strength > 0.
    Returns:
        (w of shape (D,), intercept b).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"`x` has to be (N, D) and `y` (N,), got {x.shape} and {y.shape}")
    if not (c > 0):
        raise ValueError(f"`c` has to be > 0, got {c!r}")
    n, d = x.shape
    xa = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    reg = np.full(d + 1, 1.0 / c)
    reg[-1] = 0.0

    def loss(t: np.ndarray) -> float:
        z = xa @ t
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(reg * t * t))

    current = loss(theta)
    for _ in range(steps):
        p = _sigmoid(xa @ theta)
        grad = xa.T @ (p - y) + reg * theta
        hess = (xa * (p * (1 - p))[:, None]).T @ xa + np.diag(reg) + 1e-12 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:  # backtracking keeps separable data from diverging
            cand = theta - t * step
            new = loss(cand)
            if new <= current:
                break
            t *= 0.5
        theta, done = cand, current - new < tol
        current = new
        if done:
            break
    return theta[:-1], float(theta[-1])


def fit_isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing least-squares fit of y on x by pool-adjacent-violators.

    Equal x values are first merged into one point (their mean y, weighted by count), as
    scikit-learn's `IsotonicRegression` does.

    Returns:
        (knots_x, knots_y): sorted unique x and the fitted non-decreasing values there.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(f"`x` and `y` have to be non-empty (N,) arrays, got {x.shape} and {y.shape}")
    ux, inv = np.unique(x, return_inverse=True)
    w = np.bincount(inv).astype(np.float64)
    v = np.bincount(inv, weights=y) / w
    # Blocks: (value, weight, count of knots); merge backwards while order is violated.
    vals: list[float] = []
    wts: list[float] = []
    cnts: list[int] = []
    for vi, wi in zip(v, w):
        vals.append(vi)
        wts.append(wi)
        cnts.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            wsum = wts[-2] + wts[-1]
            vals[-2] = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / wsum
            wts[-2] = wsum
            cnts[-2] += cnts[-1]
            del vals[-1], wts[-1], cnts[-1]
    fitted = np.repeat(vals, cnts)
    return ux, fitted


def isotonic_predict(knots_x: np.ndarray, knots_y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear interpolation between knots, clipped to the end values outside them."""
    return np.interp(np.asarray(x, dtype=np.float64), knots_x, knots_y)


def choose_threshold(risk: np.ndarray, wrong: np.ndarray, target_risk: float) -> tuple[float, float, float]:
    """Largest threshold t such that answering the items with risk ≤ t has error rate ≤ target.

    Returns:
        (t, coverage, error rate of the answered items). t = −1 (always abstain) when no
        threshold meets the target.
    """
    order = np.argsort(risk, kind="mergesort")
    r, e = risk[order], wrong[order]
    errors = np.cumsum(e) / np.arange(1, r.size + 1)
    best = (-1.0, 0.0, 0.0)
    for k in range(r.size):
        # Only cut between distinct risks: tied items are answered or abstained together.
        if k + 1 < r.size and r[k + 1] == r[k]:
            continue
        if errors[k] <= target_risk:
            best = (float(r[k]), (k + 1) / r.size, float(errors[k]))
    return best


def stratified_folds(y: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """(N,) fold index of each row: each label's rows, in a seeded random order, dealt round
    the `folds` folds (so every fold keeps the label mix)."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=int)
    for label in (0.0, 1.0):
        idx = np.flatnonzero(y == label)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    return fold


def choose_c(x: np.ndarray, y: np.ndarray, grid: Sequence[float] = STACKING_C_GRID, folds: int = STACKING_FOLDS, seed: int = 0) -> float:
    """The inverse L2 strength with the best out-of-fold log-likelihood (stratified,
    seeded folds; ties → the stronger penalty)."""
    y = np.asarray(y, dtype=np.float64)
    folds = max(2, min(folds, int(y.sum()), int((1 - y).sum())))
    fold = stratified_folds(y, folds, seed)
    best, best_ll = float(grid[0]), -np.inf
    for c in grid:
        ll = 0.0
        for k in range(folds):
            tr, te = fold != k, fold == k
            w, b = fit_logistic(x[tr], y[tr], c=c)
            p = np.clip(_sigmoid(x[te] @ w + b), 1e-12, 1 - 1e-12)
            ll += float(np.sum(y[te] * np.log(p) + (1 - y[te]) * np.log(1 - p)))
        if ll > best_ll + 1e-9:
            best, best_ll = float(c), ll
    return best


@dataclass
class Calibrator:
    """Maps per-method scores (N, M) to a calibrated risk P(wrong) and an answer/abstain threshold.

    Args:
        kind (`str`, defaults to "rank"): "stacked" (regularised stacking: each score's
            percentile against the calibration split, as a logit, into an L2 logistic
            regression whose strength `c` is chosen by 5-fold cross-validation), "rank" (ECDF percentiles of the scores against
            the calibration split, averaged with weights 2·AUROC − 1, then a one-feature
            logistic map: strictly monotone, so the risk ranks items exactly as the
            weighted average does), "logistic" (standardised scores → logistic regression
            on all methods at once) or "isotonic" (the same weighted ECDF average →
            isotonic regression: a step function, so tied risks).
            On the shipped factual set "rank" ranks wrong answers best (BENCHMARKS.md): an
            average of percentiles is robust to heavy-tailed scores and does not overfit
            correlated methods the way a joint fit on a few hundred labels does.
        target_risk (`float`, defaults to 0.2): error rate allowed among answered items; the
            threshold is the largest that meets it on the calibration split.
        c (`float` or `None`, defaults to 1.0): inverse L2 strength of the "logistic" and
            "rank" fits; `None` with "logistic" chooses it by 5-fold cross-validation on the
            calibration split (`choose_c`: regularised stacking of standardised scores). The
            chosen value is stored, so a fitted calibrator always holds a number.

    Example:
        >>> import numpy as np
        >>> scores = np.array([[0.1, 0.2], [0.4, 0.1], [2.0, 1.5], [3.0, 2.5], [0.3, 0.5], [2.5, 1.0]])
        >>> correct = [True, True, False, False, True, False]
        >>> cal = Calibrator("logistic").fit(["msp", "semantic_entropy"], scores, correct)
        >>> risk = cal.predict(scores)  # (N,) risks in [0, 1]
        >>> risk.round(2).tolist(), cal.decide(risk)[:3]
        ([0.16, 0.18, 0.75, 0.94, 0.22, 0.75], ['answer', 'answer', 'abstain'])
    """

    kind: str = "rank"
    target_risk: float = 0.2
    c: float | None = 1.0
    methods: list[str] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    reference: list[list[float]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    knots_x: list[float] = field(default_factory=list)
    knots_y: list[float] = field(default_factory=list)
    threshold: float = 0.5
    calibration: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"`kind` has to be one of {KINDS}, got {self.kind!r}")
        if not (isinstance(self.target_risk, (int, float)) and 0 <= self.target_risk <= 1):
            raise ValueError(f"`target_risk` has to be in [0, 1], got {self.target_risk!r}")
        ok_c = isinstance(self.c, (int, float)) and not isinstance(self.c, bool) and np.isfinite(self.c) and self.c > 0
        if not (ok_c or (self.c is None and self.kind in ("logistic", "stacked"))):
            raise ValueError(f"`c` has to be a number > 0 (or None with kind 'logistic' or 'stacked'), got {self.c!r}")

    @property
    def fitted(self) -> bool:
        return bool(self.methods)

    def fit(self, methods: Sequence[str], scores: np.ndarray, correct: Sequence[bool | int]) -> "Calibrator":
        """Fit on a labelled split. `scores` (N, M) in the order of `methods`; `correct` (N,) 0/1."""
        s = np.asarray(scores, dtype=np.float64)
        y_ok = np.asarray(correct, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != len(methods):
            raise ValueError(f"`scores` has to be (N, {len(methods)}) to match `methods`, got {s.shape}")
        if y_ok.shape != (s.shape[0],) or not np.isin(y_ok, (0.0, 1.0)).all():
            raise ValueError("`correct` has to hold one 0/1 (or bool) label per row of `scores`")
        if s.shape[0] < 2 or y_ok.min() == y_ok.max():
            raise ValueError("calibration needs at least one correct and one wrong answer")
        wrong = 1.0 - y_ok
        self.methods = list(methods)
        self.mean = _nanmean_rows(s.T, empty=0.0).tolist()
        if self.kind == "logistic":
            z = self._standardize(s, fit=True)
            if self.c is None:
                self.c = choose_c(z, wrong)
            w, b = fit_logistic(z, wrong, c=self.c)
            self.coef, self.intercept = [float(v) for v in w], b
        elif self.kind == "stacked":
            self.reference = [sorted(float(v) for v in s[:, j] if np.isfinite(v)) for j in range(s.shape[1])]
            z = self._logit_ecdf(s)
            self.c = choose_c(z, wrong)
            w, b = fit_logistic(z, wrong, c=self.c)
            self.coef, self.intercept = [float(v) for v in w], b
        else:
            self.reference = [sorted(float(v) for v in s[:, j] if np.isfinite(v)) for j in range(s.shape[1])]
            # Signed weight per method = 2·AUROC − 1 on this split: a method that ranks the
            # wrong answers higher counts in proportion, a reversed one counts reversed, a
            # useless one not at all (so noise does not dilute the isotonic input).
            self.weights = [2.0 * _auroc(wrong, s[:, j]) - 1.0 for j in range(s.shape[1])]
            mix = self._ecdf_mean(s)
            if self.kind == "rank":
                scale = float(np.std(mix)) or 1.0  # the L2 penalty acts on a standardised slope
                w, b = fit_logistic(((mix - 0.5) / scale)[:, None], wrong, c=self.c)
                # The weighted average ranks wrong answers above right ones on this split
                # (weights are signed by AUROC), so the slope is positive; keep the map
                # increasing even on degenerate splits so the ranking is never inverted.
                self.coef, self.intercept = [max(float(w[0]) / scale, 1e-6)], b
            else:
                kx, ky = fit_isotonic(mix, wrong)
                self.knots_x, self.knots_y = kx.tolist(), ky.tolist()
        risk = self.predict(s)
        t, cov, err = choose_threshold(risk, wrong, self.target_risk)
        self.threshold = t
        self.calibration = {"n": int(s.shape[0]), "error_rate": float(wrong.mean()), "coverage": cov, "risk_at_threshold": err}
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated risk P(wrong) in [0, 1] for scores (N, M); NaN scores count as average."""
        if not self.fitted:
            raise ValueError("the calibrator is not fitted: call `fit` first (or `load` a fitted one)")
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != len(self.methods):
            raise ValueError(f"scores have to be (N, {len(self.methods)}) for methods {self.methods}, got {s.shape}")
        if self.kind == "logistic":
            return _sigmoid(_row_dot(self._standardize(s), self.coef) + self.intercept)
        if self.kind == "rank":
            return _sigmoid((self._ecdf_mean(s) - 0.5) * self.coef[0] + self.intercept)
        if self.kind == "stacked":
            return _sigmoid(_row_dot(self._logit_ecdf(s), self.coef) + self.intercept)
        return np.clip(isotonic_predict(np.asarray(self.knots_x), np.asarray(self.knots_y), self._ecdf_mean(s)), 0.0, 1.0)

    def decide(self, risk: np.ndarray) -> list[str]:
        return ["answer" if r <= self.threshold else "abstain" for r in np.asarray(risk)]

    def _standardize(self, s: np.ndarray, fit: bool = False) -> np.ndarray:
        mean = np.asarray(self.mean)
        s = np.where(np.isfinite(s), s, mean)
        if fit:
            std = s.std(axis=0)
            self.std = [float(v) if v > 1e-12 else 1.0 for v in std]
        return (s - mean) / np.asarray(self.std)

    def _logit_ecdf(self, s: np.ndarray) -> np.ndarray:
        """(N, M) logits of each score's mid-rank percentile in the calibration split (kept
        inside [1/(2n), 1 − 1/(2n)]); NaN → 0 (the median)."""
        cols = []
        for j, ref in enumerate(self.reference):
            r = np.asarray(ref)
            v = s[:, j]
            if r.size == 0:
                cols.append(np.zeros(v.shape))
                continue
            pct = (np.searchsorted(r, v, "left") + np.searchsorted(r, v, "right")) / (2.0 * r.size)
            eps = 0.5 / r.size
            pct = np.clip(pct, eps, 1 - eps)
            cols.append(np.where(np.isfinite(v), np.log(pct / (1 - pct)), 0.0))
        return np.column_stack(cols)

    def _ecdf_mean(self, s: np.ndarray) -> np.ndarray:
        cols = []
        for j, ref in enumerate(self.reference):
            r = np.asarray(ref)
            v = s[:, j]
            if r.size == 0:
                cols.append(np.full(v.shape, np.nan))
                continue
            pct = (np.searchsorted(r, v, "left") + np.searchsorted(r, v, "right")) / (2.0 * r.size)
            cols.append(np.where(np.isfinite(v), pct - 0.5, np.nan))
        centred = np.column_stack(cols)
        w = np.asarray(self.weights) if self.weights and np.any(self.weights) else np.ones(len(cols))
        ok = np.isfinite(centred)
        norm = (np.abs(w) * ok).sum(axis=1)
        mix = (np.where(ok, centred, 0.0) * w).sum(axis=1)
        return 0.5 + np.where(norm > 0, mix / np.maximum(norm, 1e-300), 0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "calibrator") -> "Calibrator":
        """Read `to_dict`'s output, checking every field (names, types, lengths) first.

        Raises:
            ValueError: naming the field, e.g. "calibrator.coef: has to hold 2 numbers (one per method), got 0".
        """
        if not isinstance(d, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(d).__name__}")
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)}")
        _check_fields(d, where)
        return cls(**d)


def _numbers(d: dict[str, Any], key: str, where: str, length: int | None = None, what: str = "") -> list[float]:
    v = d.get(key, [])
    ok = isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) for x in v)
    if not ok:
        raise ValueError(f"{where}.{key}: has to be a list of finite numbers, got {v!r:.80}")
    if length is not None and len(v) != length:
        raise ValueError(f"{where}.{key}: has to hold {length} numbers{what}, got {len(v)}")
    return v


def _number(d: dict[str, Any], key: str, where: str, lo: float = -np.inf, hi: float = np.inf) -> None:
    if key not in d:
        return
    v = d[key]
    if not (isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{where}.{key}: has to be a number in [{lo:g}, {hi:g}], got {v!r}")


def _check_fields(d: dict[str, Any], where: str) -> None:
    """Every field of a saved calibrator: types, ranges and lengths that match `methods`."""
    kind = d.get("kind", "rank")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind: has to be one of {KINDS}, got {kind!r}")
    _number(d, "target_risk", where, 0.0, 1.0)
    _number(d, "c", where, 1e-300)
    _number(d, "intercept", where)
    _number(d, "threshold", where, -1.0, 1.0)  # -1 = always abstain
    if not isinstance(d.get("calibration", {}), dict):
        raise ValueError(f"{where}.calibration: has to be an object, got {d['calibration']!r:.80}")
    methods = d.get("methods", [])
    if not isinstance(methods, list) or not all(isinstance(m, str) and m for m in methods):
        raise ValueError(f"{where}.methods: has to be a list of method names, got {methods!r:.80}")
    if not methods:  # an unfitted calibrator carries no parameters
        return
    m, per = len(methods), " (one per method)"
    _numbers(d, "mean", where, m, per)
    if kind == "logistic":
        _numbers(d, "coef", where, m, per)
        std = _numbers(d, "std", where, m, per)
        if any(v <= 0 for v in std):
            raise ValueError(f"{where}.std: has to hold positive numbers, got {std}")
        return
    ref = d.get("reference")
    if kind == "stacked":
        _numbers(d, "coef", where, m, per)
    if not isinstance(ref, list) or len(ref) != m:
        raise ValueError(f"{where}.reference: has to be {m} lists of numbers (one per method), got {ref!r:.80}")
    for j in range(m):
        col = _numbers({"reference": ref[j]}, "reference", f"{where}", None)
        if any(a > b for a, b in zip(col, col[1:])):
            raise ValueError(f"{where}.reference[{j}]: has to be sorted ascending")
    if kind == "stacked":
        return
    _numbers(d, "weights", where, m, per)
    if kind == "rank":
        coef = _numbers(d, "coef", where, 1, " (the slope of the rank map)")
        if coef[0] <= 0:
            raise ValueError(f"{where}.coef: the rank map's slope has to be > 0, got {coef[0]}")
    else:
        kx = _numbers(d, "knots_x", where)
        ky = _numbers(d, "knots_y", where, len(kx), " (as many as knots_x)")
        if not kx or any(a >= b for a, b in zip(kx, kx[1:])):
            raise ValueError(f"{where}.knots_x: has to be a non-empty, strictly increasing list")
        if any(not 0 <= v <= 1 for v in ky):
            raise ValueError(f"{where}.knots_y: has to hold risks in [0, 1]")


# -- shipped calibrators and the fixed uncalibrated map -----------------------------------

CALIBRATOR_DIR = "calibrators"  # inside llminfo/data: {model name}.json + reference_quantiles.json
REFERENCE_FILE = "reference_quantiles.json"


def shipped_calibrator_path(model_name: str) -> "Any":
    """Path of the fitted scorer shipped for an embedded model with the default methods
    (`llminfo/data/calibrators/{model_name}.json`, written by `scripts/fit_calibrator.py`), or None."""
    paths = shipped_calibrator_paths(model_name)
    return paths[0] if paths and paths[0].name == f"{model_name}.json" else None


def shipped_calibrator_paths(model_name: str) -> list:
    """Every fitted scorer shipped for an embedded model: `{model_name}.json` (the default
    methods) first, then its variants `{model_name}.{variant}.json` (other method sets, e.g.
    the cheaper "fast" one; `fit_calibrator.py --variant`), by name."""
    import glob

    from llminfo.data import DATA_DIR

    if not isinstance(model_name, str) or not model_name or "/" in model_name or model_name.startswith("."):
        return []
    folder = DATA_DIR / CALIBRATOR_DIR
    main = folder / f"{model_name}.json"
    variants = sorted(p for p in folder.glob(f"{glob.escape(model_name)}.*.json") if p.is_file())
    return ([main] if main.is_file() else []) + variants


def shipped_reference_quantiles() -> dict[str, list[float]]:
    """`{method: 101 quantiles}` of each method's score on the shipped factual set with the
    embedded default model: the fixed reference of `reference_risk`."""
    import json

    from llminfo.data import DATA_DIR

    path = DATA_DIR / CALIBRATOR_DIR / REFERENCE_FILE
    if not path.is_file():
        return {}
    return {k: [float(x) for x in v] for k, v in json.loads(path.read_text(encoding="utf-8"))["quantiles"].items()}


def reference_risk(names: Sequence[str], scores: np.ndarray, references: dict[str, Sequence[float]] | None = None) -> np.ndarray:
    """Uncalibrated combined risk in [0, 1], a fixed function of each row alone.

    Each method's score is mapped to its percentile among fixed reference quantiles (the
    shipped ones by default: `shipped_reference_quantiles`); a method without reference
    quantiles goes through the fixed squashing 0.5 + 0.5·x/(1 + |x|). The percentiles are
    averaged over the methods that scored the row (0.5 when none did). Unlike a rank within
    the batch, one row alone gets the same risk as inside any batch.

    Args:
        names: the M method names, in the column order of `scores`.
        scores: (N, M) raw scores, higher = riskier; NaN = not scored.
        references (`dict`, *optional*): `{method: sorted quantiles}`.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != len(names):
        raise ValueError(f"`scores` has to be (N, {len(names)}) for methods {list(names)}, got {s.shape}")
    refs = shipped_reference_quantiles() if references is None else references
    cols = []
    for j, name in enumerate(names):
        v = s[:, j]
        q = np.asarray(refs.get(name) or [], dtype=np.float64)
        if q.size >= 2:
            pct = np.interp(np.where(np.isfinite(v), v, 0.0), q, np.linspace(0.0, 1.0, q.size))
        else:
            safe = np.where(np.isfinite(v), v, 0.0)
            pct = 0.5 + 0.5 * safe / (1.0 + np.abs(safe))
        cols.append(np.where(np.isfinite(v), pct, np.nan))
    if not cols:
        return np.full(s.shape[0], 0.5)
    return _nanmean_rows(np.column_stack(cols))
