"""Permutation dispersion: how much a model's in-context prediction depends on example order.

In-context examples are exchangeable, so a Bayesian predictor's label distribution does not
depend on their order. "LLMs are Bayesian, in Expectation, not in Realization" (2025) shows
transformers are order-invariant only on average over orderings: single orderings scatter
around the mean, and the permutation-averaged prediction has lower log-loss than the single
identity ordering (the Jensen gap). `PermutationDispersion` measures this per query and
across a dataset with the paper's protocol by default: banded orderings (the context split
into bands, examples shuffled within each band), the dispersion mean |q_π − q̄| at the
identity order's predicted label fitted as a + b·ln n (b with its confidence interval), the
self-consistency Jensen gap (at the identity order's argmax: no gold label needed) and the
martingale-violation test against the Θ(log n / n) bound (`dispersion_summary.summarize`).
KL-dispersion, std and the Jensen gap at the gold label are kept as extras; "full" shuffles
and "tail" (a fixed prefix and one shuffled tail, llminfo's prefix-cache-friendly variant)
are the other schemes.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.dispersion import ICLTask, DispersionItem, PermutationDispersion
    >>> task = ICLTask("sentiment", labels=["positive", "negative"], instruction="Classify the sentiment.")
    >>> item = DispersionItem(examples=[("I loved it.", "positive"), ("Awful food.", "negative"),
    ...                                 ("What a joy!", "positive")], query="Not worth it.", label="negative")
    >>> [r] = PermutationDispersion(load_model("default"), orderings=6, seed=0).analyze(task, [item])
    >>> len(r.q_mean), r.kl_dispersion >= 0, r.jensen_gap >= 0  # q̄ over the 2 labels; nats
    (2, True, True)
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo import measures
from llminfo.models.base import LanguageModel

DEFAULT_TEMPLATE = "Text: {text}\nLabel: {label}"
SHUFFLES = ("banded", "full", "tail")
DEFAULT_BAND = 4  # examples per band (banded) when `band` is not given


@dataclass
class ICLTask:
    """An in-context classification task: labels, an example template and an instruction.

    The prompt is `instruction`, then each example rendered by `template`, then the query
    rendered by the part of `template` before `{label}`. Spaces between that part and
    `{label}` move onto the candidate strings (" positive"), as a tokenizer that marks word
    starts with a space expects.

    Args:
        name: task name.
        labels: the label set (>= 2 distinct non-empty strings).
        template (`str`, defaults to `"Text: {text}\\nLabel: {label}"`): must contain `{text}`
            and end with `{label}`.
        instruction (`str`, defaults to `""`): text before the examples.
        separator (`str`, defaults to `"\\n\\n"`): between instruction, examples and query.
        label_names (`dict`, *optional*): a dataset's raw label values to label strings
            ({"0": "negative", "1": "positive"} for SST-2).
    """

    name: str
    labels: list[str]
    template: str = DEFAULT_TEMPLATE
    instruction: str = ""
    separator: str = "\n\n"
    label_names: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.labels, str) or not isinstance(self.labels, (list, tuple)):
            raise TypeError(f"task {self.name!r}: `labels` has to be a list of strings")
        self.labels = list(self.labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"task {self.name!r}: `labels` needs >= 2 distinct labels, got {self.labels!r}")
        if any(not isinstance(lab, str) or not lab.strip() for lab in self.labels):
            raise ValueError(f"task {self.name!r}: `labels` has to hold non-empty strings, got {self.labels!r}")
        if not isinstance(self.template, str) or "{text}" not in self.template or not self.template.endswith("{label}"):
            raise ValueError(f"task {self.name!r}: `template` has to contain {{text}} and end with {{label}}, got {self.template!r}")
        try:
            self.template.format(text="", label="")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"task {self.name!r}: `template` may only use {{text}} and {{label}} ({e!r})") from None
        head = self.template[: -len("{label}")]
        self._query_head = head.rstrip(" \t")
        self._label_prefix = head[len(self._query_head) :]

    @classmethod
    def from_dict(cls, name: str, spec: Mapping[str, Any]) -> "ICLTask":
        """From an `icl_tasks.json` entry: `labels` (or `label_set`), `template`, `instruction`."""
        if not isinstance(spec, Mapping):
            raise TypeError(f"task {name!r}: its description has to be a JSON object")
        labels = spec.get("labels", spec.get("label_set"))
        if labels is None:
            raise ValueError(f"task {name!r}: missing `labels`")
        return cls(
            name=name,
            labels=list(labels),
            template=spec.get("template", spec.get("example_template", DEFAULT_TEMPLATE)),
            instruction=spec.get("instruction", ""),
            separator=spec.get("separator", "\n\n"),
            label_names=spec.get("label_names"),
        )

    def label_of(self, raw: Any) -> str:
        """A dataset's label value as a label string (through `label_names` when set)."""
        key = str(raw)
        return self.label_names.get(key, key) if self.label_names else key

    def candidates(self) -> list[str]:
        """Label strings as the model should continue the prompt with (leading space kept)."""
        return [self._label_prefix + lab for lab in self.labels]

    def label_index(self, label: str, where: str = "label") -> int:
        if label not in self.labels:
            raise ValueError(f"{where}: {label!r} is not a label of task {self.name!r} ({', '.join(self.labels)})")
        return self.labels.index(label)

    def format_prompt(self, examples: Sequence[tuple[str, str]], query: str) -> str:
        """instruction, rendered examples in the given order, then the query (no label)."""
        parts = [self.instruction] if self.instruction else []
        parts += [self.template.format(text=t, label=lab) for t, lab in examples]
        parts.append(self._query_head.format(text=query))
        return self.separator.join(parts)


@dataclass
class DispersionItem:
    """A query with its in-context examples (in identity order) and, optionally, its label."""

    examples: list[tuple[str, str]]
    query: str
    label: str | None = None
    id: Any = None


@dataclass
class DispersionResult:
    """Per-query dispersion (nats; probabilities over the task's labels).

    Attributes:
        q: (m, L) label distribution under each ordering; row 0 is the identity order.
        q_mean: (L,) permutation-averaged distribution q̄.
        std, mad: (L,) spread of q_k per label (population std; mean |q_k − q̄|).
        kl_dispersion: mean_k KL(q_k ‖ q̄) (extra).
        jensen_gap: self-consistency Jensen gap mean_k[−ln q_k(ŷ)] + ln q̄(ŷ) at ŷ = the
            identity order's argmax (the paper's; needs no label).
        mad_pred: mean_k |q_k(ŷ) − q̄(ŷ)|, the dispersion the paper fits against ln n.
        jensen_gap_label: the same gap at the true label (extra; None without a label).
        pred_identity, pred_average: argmax label of q_0 and of q̄.
        logloss_identity, logloss_average: −ln q_0(y), −ln q̄(y) (None without a label).
    """

    id: Any
    n_examples: int
    query: str
    label: str | None
    labels: list[str]
    orderings: list[list[int]]
    q: list[list[float]]
    q_mean: list[float]
    std: list[float]
    mad: list[float]
    kl_dispersion: float
    jensen_gap: float
    pred_identity: str
    pred_average: str
    mad_pred: float = 0.0
    jensen_gap_label: float | None = None
    logloss_identity: float | None = None
    logloss_average: float | None = None
    std_label: float | None = None
    mad_label: float | None = None
    correct_identity: bool | None = None
    correct_average: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_orderings(
    n: int, m: int, shuffle: str = "banded", band: int | None = None, rng: np.random.Generator | None = None
) -> list[tuple[int, ...]]:
    """m orderings of n examples, identity first, distinct.

    `banded` (the paper's scheme) splits the n positions into consecutive bands of `band`
    examples (the last band may be shorter) and shuffles the examples within each band, so
    every example stays in its band; `full` permutes all n; `tail` (llminfo's variant) keeps
    the first n − band examples in place (a prefix every ordering shares, for prefix caches)
    and permutes the last `band`. When the scheme allows at most m orderings, all of them are
    returned (exact average); otherwise the identity and m − 1 distinct random ones.

    Args:
        n: number of examples (>= 1). m: orderings wanted (>= 1).
        shuffle: "banded", "full" or "tail".
        band: examples per band ("banded", default 4) or the shuffled tail length ("tail",
            default n // 2).
        rng: numpy Generator (seeded by the caller for reproducibility).
    Returns:
        list of permutations of range(n), as tuples.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` (number of examples) has to be an integer >= 1, got {n!r}")
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"`orderings` has to be an integer >= 1, got {m!r}")
    if shuffle not in SHUFFLES:
        raise ValueError(f"`shuffle` has to be one of {', '.join(SHUFFLES)}, got {shuffle!r}")
    if shuffle == "full":
        blocks = [list(range(n))]
    elif shuffle == "tail":
        k = min(n, band if band is not None else max(n // 2, 1))
        blocks = [[i] for i in range(n - k)] + [list(range(n - k, n))]
    else:
        w = band if band is not None else DEFAULT_BAND
        blocks = [list(range(s, min(s + w, n))) for s in range(0, n, w)]
    if math.prod(math.factorial(len(b)) for b in blocks) <= m:
        return [tuple(i for part in parts for i in part) for parts in itertools.product(*(itertools.permutations(b) for b in blocks))]
    rng = rng if rng is not None else np.random.default_rng(0)
    out = [tuple(range(n))]
    seen = set(out)
    while len(out) < m:
        perm = tuple(int(b[j]) for b in blocks for j in rng.permutation(len(b)))
        if perm not in seen:
            seen.add(perm)
            out.append(perm)
    return out


def bands_of(n: int, band: int | None = None) -> list[list[int]]:
    """The bands (lists of positions) the banded scheme shuffles within."""
    w = band if band is not None else DEFAULT_BAND
    return [list(range(s, min(s + w, n))) for s in range(0, n, w)]


class PermutationDispersion:
    """Order sensitivity of in-context classification ("LLMs are Bayesian, in Expectation,
    not in Realization", 2025).

    For each query, renders the prompt under m orderings of its examples, reads
    q_k = P(label | ordering k) from `model.next_token_logprobs` renormalised over the label
    set (one batched call for all queries and orderings), and reports q̄, std, MAD,
    KL-dispersion, the Jensen gap and the identity-order vs permutation-averaged prediction.

    Args:
        model: a `LanguageModel`.
        orderings (`int`, defaults to 8): m, orderings per query (identity included).
        shuffle (`str`, defaults to `"banded"`): "banded" (the paper), "full" or "tail" (see
            `make_orderings`).
        band (`int`, *optional*): examples per band ("banded") or shuffled tail length ("tail").
        seed (`int`, defaults to 0): orderings (and example draws in `evaluate`) depend only on
            (seed, n, query position): reruns repeat exactly.
    """

    def __init__(
        self, model: LanguageModel, orderings: int = 8, shuffle: str = "banded", band: int | None = None, seed: int = 0
    ):
        if isinstance(orderings, bool) or not isinstance(orderings, int) or orderings < 1:
            raise ValueError(f"`orderings` has to be an integer >= 1, got {orderings!r}")
        if shuffle not in SHUFFLES:
            raise ValueError(f"`shuffle` has to be one of {', '.join(SHUFFLES)}, got {shuffle!r}")
        if band is not None and (isinstance(band, bool) or not isinstance(band, int) or band < 1):
            raise ValueError(f"`band` has to be an integer >= 1, got {band!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"`seed` has to be an integer, got {seed!r}")
        self.model = model
        self.orderings = orderings
        self.shuffle = shuffle
        self.band = band
        self.seed = seed

    def orderings_for(self, n: int, key: str = "") -> list[tuple[int, ...]]:
        """The orderings for a query with n examples; depend only on (seed, n, key)."""
        rng = np.random.default_rng([self.seed, n, zlib.crc32(key.encode("utf-8"))])
        return make_orderings(n, self.orderings, self.shuffle, self.band, rng)

    def analyze(self, task: ICLTask, items: Sequence[DispersionItem]) -> list[DispersionResult]:
        """Dispersion of each item; one `next_token_logprobs` call covers every prompt."""
        items = list(items)
        if not items:
            raise ValueError("`items` is empty: pass at least one DispersionItem")
        prompts: list[str] = []
        plans = []
        for i, it in enumerate(items):
            where = f"items[{i}]" + (f" (id {it.id!r})" if it.id is not None else "")
            if not isinstance(it.query, str) or not it.query.strip():
                raise ValueError(f"{where}: `query` has to be a non-empty string")
            if not it.examples:
                raise ValueError(f"{where}: needs at least one in-context example")
            for j, ex in enumerate(it.examples):
                if not (isinstance(ex, (tuple, list)) and len(ex) == 2):
                    raise ValueError(f"{where}: examples[{j}] has to be a (text, label) pair")
                task.label_index(ex[1], f"{where}: examples[{j}]")
            y = task.label_index(it.label, f"{where}: label") if it.label is not None else None
            # Keyed by the item's content, not its position: batched == one at a time.
            orders = self.orderings_for(len(it.examples), f"{it.id!r}\x00{it.query}")
            plans.append((orders, y, len(prompts)))
            prompts += [task.format_prompt([it.examples[k] for k in o], it.query) for o in orders]
        logp = np.asarray(self.model.next_token_logprobs(prompts, task.candidates()), dtype=np.float64)
        if logp.shape != (len(prompts), len(task.labels)):
            raise ValueError(f"model returned label logprobs of shape {logp.shape}, expected {(len(prompts), len(task.labels))}")
        q_all = measures.normalize_logprobs(logp, axis=-1)
        return [self._result(task, it, orders, y, q_all[start : start + len(orders)]) for it, (orders, y, start) in zip(items, plans)]

    def _result(self, task: ICLTask, it: DispersionItem, orders, y: int | None, q: np.ndarray) -> DispersionResult:
        d = measures.permutation_dispersion(q)
        labels = task.labels
        yhat = int(np.argmax(q[0]))  # the identity order's prediction: self-consistency
        res = DispersionResult(
            id=it.id,
            n_examples=len(it.examples),
            query=it.query,
            label=it.label,
            labels=list(labels),
            orderings=[list(o) for o in orders],
            q=q.tolist(),
            q_mean=d["mean"].tolist(),
            std=d["std"].tolist(),
            mad=d["mad"].tolist(),
            kl_dispersion=float(d["kl_dispersion"]),
            jensen_gap=measures.jensen_gap(q, yhat),
            pred_identity=labels[yhat],
            pred_average=labels[int(np.argmax(d["mean"]))],
            mad_pred=float(d["mad"][yhat]),
        )
        if y is not None:
            res.jensen_gap_label = measures.jensen_gap(q, y)
            res.logloss_identity = float(-np.log(q[0, y]))
            res.logloss_average = float(-np.log(d["mean"][y]))
            res.std_label = float(d["std"][y])
            res.mad_label = float(d["mad"][y])
            res.correct_identity = res.pred_identity == it.label
            res.correct_average = res.pred_average == it.label
        return res

    def evaluate(
        self,
        task: ICLTask,
        rows: Sequence[tuple[str, str]],
        n_examples: Sequence[int] = (2, 4, 8, 16),
        num_queries: int = 20,
    ) -> tuple[list[DispersionResult], dict[str, Any]]:
        """Dispersion across a labelled dataset and its curve over n.

        The first `num_queries` rows of a seeded shuffle are the queries. For each query the
        context examples are drawn (seeded) from the other rows, nested across n (the 4 examples
        extend the 2), so the curve over n compares like with like. All (n, query, ordering)
        prompts go to the model in one call.

        Args:
            task: the `ICLTask`.
            rows: (text, label) pairs.
            n_examples: numbers of in-context examples to sweep.
            num_queries: queries per n.
        Returns:
            (per-query results, summary) — see `summarize`.
        """
        rows = [(str(t), str(lab)) for t, lab in rows]
        ns = sorted({int(n) for n in n_examples})
        if not ns or ns[0] < 1:
            raise ValueError(f"`n_examples` has to hold integers >= 1, got {list(n_examples)!r}")
        if isinstance(num_queries, bool) or not isinstance(num_queries, int) or num_queries < 1:
            raise ValueError(f"`num_queries` has to be an integer >= 1, got {num_queries!r}")
        if len(rows) < ns[-1] + 1:
            raise ValueError(f"task {task.name!r} has {len(rows)} rows: too few for n = {ns[-1]} examples plus a query")
        for i, (_t, lab) in enumerate(rows):
            task.label_index(lab, f"row {i}")
        order = np.random.default_rng([self.seed, len(rows)]).permutation(len(rows))
        queries = [int(i) for i in order[: min(num_queries, len(rows))]]
        items: list[DispersionItem] = []
        for qi, r in enumerate(queries):
            pool = [int(i) for i in np.random.default_rng([self.seed, 1, qi]).permutation(len(rows)) if i != r]
            for n in ns:
                items.append(DispersionItem([rows[k] for k in pool[:n]], rows[r][0], rows[r][1], id=f"{task.name}-q{r}-n{n}"))
        results = self.analyze(task, items)
        return results, summarize(results)


from llminfo.analyzers.dispersion_summary import summarize  # noqa: E402  (re-exported: the summary of `evaluate`)
