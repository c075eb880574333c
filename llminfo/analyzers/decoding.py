"""Decoding quality: how repetitive, diverse and locally typical generated text is.

Meister et al. ("Locally Typical Sampling", TACL 2023) claim typical sampling cuts the
degenerate repetition of ancestral / nucleus / top-k sampling at comparable quality. This
module measures, per completion, the repeated n-gram rate (seq-rep-n), within-completion
distinct-n, the mean distance of surprisal from entropy (1/T) Σ |−log p(x_t) − H_t| and the
length; per decoding setting, the means plus corpus-level distinct-n over all completions.
The formulas live in `llminfo.measures`; the eval task `typical-decoding` calls
`compare_decoding` (or `completion_stats` + `summarize` on its own batches).

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.decoding import compare_decoding, standard_settings
    >>> model = load_model("default")
    >>> out = compare_decoding(model, ["Once upon a time"], standard_settings(), max_new_tokens=16, seed=0)
    >>> 0 <= out["summary"]["typical_0.9"]["rep_4"] <= 1
    True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from llminfo.measures import distinct_n, mean_surprisal_deviation, seq_rep_n
from llminfo.models.base import Completion, LanguageModel, validate_generate_args

DEFAULT_NS: tuple[int, ...] = (1, 2, 3, 4)
_GENERATE_KEYS = ("temperature", "top_p", "top_k", "typical_p")


@dataclass
class DecodingSetting:
    """One decoding configuration, as `LanguageModel.generate` arguments.

    Attributes:
        name: label used in results (`"typical_0.9"`).
        temperature: 0 = greedy. top_p, top_k, typical_p: 1.0 / 0 / 1.0 = off.
    """

    name: str
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    typical_p: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"`name` has to be a non-empty string, got {self.name!r}")
        # Same checks (and messages naming the argument) as `generate`.
        validate_generate_args(["-"], 1, 0, self.temperature, self.top_p, self.top_k, self.typical_p)

    def generate_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _GENERATE_KEYS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "setting") -> "DecodingSetting":
        """Build from a config mapping; unknown keys raise a ValueError naming `where`."""
        if not isinstance(d, Mapping):
            raise TypeError(f"`{where}` has to be a mapping with `name` and generate arguments, got {type(d).__name__}")
        unknown = set(d) - {"name", *_GENERATE_KEYS}
        if unknown:
            raise ValueError(f"`{where}`: unknown keys {sorted(unknown)}; allowed: name, {', '.join(_GENERATE_KEYS)}")
        if "name" not in d:
            raise ValueError(f"`{where}` needs a `name`")
        return cls(**dict(d))


def standard_settings(typical_ps: Sequence[float] = (0.2, 0.9, 0.95), top_p: float = 0.95, top_k: int = 50) -> list[DecodingSetting]:
    """The comparison of Meister et al.: typical τ's, nucleus, top-k, pure sampling, greedy."""
    out = [DecodingSetting(f"typical_{t:g}", typical_p=float(t)) for t in typical_ps]
    out += [
        DecodingSetting(f"nucleus_{top_p:g}", top_p=top_p),
        DecodingSetting(f"top_k_{top_k}", top_k=top_k),
        DecodingSetting("ancestral"),
        DecodingSetting("greedy", temperature=0.0),
    ]
    return out


@dataclass
class CompletionStats:
    """Quality measures of one completion (token-level n-grams).

    Attributes:
        num_tokens: generated tokens.
        rep: {n: seq-rep-n} (Welleck et al., 2020), 0 = no repeated n-gram.
        distinct: {n: distinct-n within the completion} (Li et al., 2016).
        surprisal_deviation: mean |−log p(x_t) − H_t| under the raw model (nats); NaN if empty.
        mean_entropy: mean next-token entropy H_t (nats); NaN if empty.
        finish_reason: as reported by the backend.
    """

    num_tokens: int
    rep: dict[int, float]
    distinct: dict[int, float]
    surprisal_deviation: float
    mean_entropy: float
    finish_reason: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rep"] = {str(k): v for k, v in self.rep.items()}
        d["distinct"] = {str(k): v for k, v in self.distinct.items()}
        return d


def _check_ns(ns: Sequence[int]) -> tuple[int, ...]:
    ns = tuple(ns)
    if not ns or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in ns):
        raise ValueError(f"`ns` has to be a non-empty list of positive integers, got {ns!r}")
    return ns


def completion_stats(completion: Completion, ns: Sequence[int] = DEFAULT_NS) -> CompletionStats:
    """Measures of one `Completion`. Surprisal is the raw-model log-probability
    (`model_logprobs`), falling back to `logprobs` when a backend does not report it (they
    coincide for pure sampling at temperature 1)."""
    if not isinstance(completion, Completion):
        raise TypeError(f"`completion` has to be a Completion, got {type(completion).__name__}")
    ns = _check_ns(ns)
    toks = list(completion.token_ids)
    lp = completion.model_logprobs or completion.logprobs
    ent = completion.entropy
    if len(lp) != len(toks) or len(ent) != len(toks):
        raise ValueError(
            f"`completion` has {len(toks)} tokens but {len(lp)} logprobs and {len(ent)} entropies: one of each per token"
        )
    return CompletionStats(
        num_tokens=len(toks),
        rep={n: seq_rep_n(toks, n) for n in ns},
        distinct={n: distinct_n([toks], n) for n in ns},
        surprisal_deviation=mean_surprisal_deviation(lp, ent),
        mean_entropy=float(np.mean(ent)) if ent else math.nan,
        finish_reason=completion.finish_reason,
    )


def summarize(completions: Sequence[Completion], ns: Sequence[int] = DEFAULT_NS) -> dict[str, float]:
    """Per-setting summary over many completions.

    Returns keys `rep_n` (mean seq-rep-n), `distinct_n` (corpus distinct-n over all
    completions together: cross-sample diversity), `surprisal_deviation` (token-weighted
    mean |−log p − H|), `mean_entropy`, `mean_tokens`, `frac_length` (share cut by the
    token limit), `num_completions`.
    """
    ns = _check_ns(ns)
    comps = list(completions)
    if not comps:
        raise ValueError("`completions` is empty: nothing to summarize")
    stats = [completion_stats(c, ns) for c in comps]
    out: dict[str, float] = {}
    for n in ns:
        out[f"rep_{n}"] = float(np.mean([s.rep[n] for s in stats]))
        out[f"distinct_{n}"] = distinct_n([c.token_ids for c in comps], n)
    dev = [abs(-lp - h) for c in comps for lp, h in zip(c.model_logprobs or c.logprobs, c.entropy)]
    out["surprisal_deviation"] = float(np.mean(dev)) if dev else math.nan
    ents = [h for c in comps for h in c.entropy]
    out["mean_entropy"] = float(np.mean(ents)) if ents else math.nan
    out["mean_tokens"] = float(np.mean([s.num_tokens for s in stats]))
    out["frac_length"] = float(np.mean([c.finish_reason == "length" for c in comps]))
    out["num_completions"] = float(len(comps))
    return out


def compare_decoding(
    model: LanguageModel,
    prompts: Sequence[str],
    settings: Sequence[DecodingSetting] | None = None,
    *,
    n: int = 1,
    max_new_tokens: int = 128,
    seed: int | None = 0,
    ns: Sequence[int] = DEFAULT_NS,
) -> dict[str, Any]:
    """Generate with every setting and measure the completions.

    Args:
        model: any `LanguageModel`.
        prompts: prompt strings (already formatted).
        settings: `DecodingSetting`s (default `standard_settings()`); names must be unique.
        n (`int`, defaults to 1): samples per prompt and setting (greedy gets 1).
        max_new_tokens (`int`, defaults to 128), seed (`int`, defaults to 0): passed to generate.
        ns: n-gram orders for rep-n / distinct-n.
    Returns:
        `{"summary": {setting: summarize(...)}, "rows": [{"setting", "prompt_index",
        "sample", "text", **CompletionStats.to_dict()}]}`.
    """
    settings = list(settings) if settings is not None else standard_settings()
    if not settings:
        raise ValueError("`settings` is empty: give at least one DecodingSetting")
    names = [s.name for s in settings]
    if len(set(names)) != len(names):
        raise ValueError(f"`settings` names have to be unique, got {names}")
    ns = _check_ns(ns)
    summary: dict[str, dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    for s in settings:
        k = 1 if s.temperature == 0 else n
        outs = model.generate(list(prompts), n=k, max_new_tokens=max_new_tokens, seed=seed, **s.generate_kwargs())
        flat = []
        for i, per_prompt in enumerate(outs):
            for j, c in enumerate(per_prompt):
                flat.append(c)
                rows.append({"setting": s.name, "prompt_index": i, "sample": j, "text": c.text, **completion_stats(c, ns).to_dict()})
        summary[s.name] = summarize(flat, ns)
    return {"summary": summary, "rows": rows}
