"""Entailment judges for semantic clustering (Farquhar et al., Nature 2024).

Two answers mean the same when each entails the other. The paper judges entailment with an
NLI model (DeBERTa-large-MNLI; the question prepended to each answer) or, as its
alternative, with an LLM asked the question below (the reference code's
`EntailmentLlama.equivalence_prompt`, jlko/semantic_uncertainty), answered greedily and read
from the first 30 characters of the reply ("entailment" / "neutral" / "contradiction";
anything else counts as neutral).

- `nli_from_pretrained(folder)` / `nli_from_model(model, tokenizer)`: any Hugging Face
  sequence-classification MNLI model as an NLI callable `pairs -> labels`.
- `llm_relations(...)`: the LLM judge over every ordered pair of distinct answers of every
  question in ONE batched `generate` call.

Example:
    >>> from llminfo.analyzers.clustering import cluster_answers
    >>> cluster_answers(["Paris", "The city of Paris", "Lyon"], "llm", judge=model,
    ...                 question="What is the capital of France?")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

NLIFn = Callable[[Sequence[tuple[str, str]]], Sequence[str]]
LABELS = ("entailment", "neutral", "contradiction")
JUDGE_MAX_NEW_TOKENS = 10


def equivalence_prompt(question: str, text1: str, text2: str) -> str:
    """The paper's LLM entailment prompt (reference `EntailmentLlama.equivalence_prompt`)."""
    return (
        f'We are evaluating answers to the question "{question}"\n'
        "Here are two possible answers:\n"
        f"Possible Answer 1: {text1}\nPossible Answer 2: {text2}\n"
        "Does Possible Answer 1 semantically entail Possible Answer 2? "
        "Respond only with entailment, contradiction, or neutral.\n"
        "Response:"
    )


def parse_judgement(reply: str) -> str:
    """The reference's reading of a judge reply: its first 30 characters, lower-cased."""
    head = reply.lower()[:30]
    for label in LABELS:
        if label in head:
            return label
    return "neutral"


def _relation(labels: np.ndarray, strict: bool) -> np.ndarray:
    """Equivalence from an (n, n) matrix of directed labels (label[i, j]: does i entail j)."""
    if strict:
        rel = (labels == "entailment") & (labels.T == "entailment")
    else:  # the reference's non-strict rule: no contradiction, and not both neutral
        contra = (labels == "contradiction") | (labels.T == "contradiction")
        both_neutral = (labels == "neutral") & (labels.T == "neutral")
        rel = ~contra & ~both_neutral
    rel = np.asarray(rel, dtype=bool)
    np.fill_diagonal(rel, True)
    return rel


def _directed_pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(n) if i != j]


def _fill(uniqs: list[list[str]], labels: Sequence[str], strict: bool) -> list[np.ndarray]:
    out, it = [], iter(labels)
    for u in uniqs:
        lab = np.full((len(u), len(u)), "entailment", dtype=object)
        for i, j in _directed_pairs(len(u)):
            lab[i, j] = next(it)
        out.append(_relation(lab, strict))
    return out


def nli_relations(
    uniqs: list[list[str]], nli: NLIFn, questions: Sequence[str] | None, strict: bool
) -> list[np.ndarray]:
    """Equivalence matrices of each answer list from ONE call of the NLI callable."""
    pairs: list[tuple[str, str]] = []
    for k, u in enumerate(uniqs):
        texts = [f"{questions[k]} {a}" if questions is not None else a for a in u]
        pairs += [(texts[i], texts[j]) for i, j in _directed_pairs(len(u))]
    labels = [str(x).lower() for x in nli(pairs)] if pairs else []
    if len(labels) != len(pairs):
        raise ValueError(f"`nli` returned {len(labels)} labels for {len(pairs)} pairs")
    return _fill(uniqs, labels, strict)


def llm_relations(
    uniqs: list[list[str]], judge: Any, questions: Sequence[str] | None, strict: bool
) -> list[np.ndarray]:
    """Equivalence matrices judged by a `LanguageModel` with the paper's prompt: every
    ordered pair of every list in ONE greedy `generate` call (the reference samples at
    T = 0.02; greedy is its limit)."""
    if not hasattr(judge, "generate"):
        raise TypeError(f"`judge` has to be a LanguageModel (with `generate`), got {type(judge).__name__}")
    prompts = []
    for k, u in enumerate(uniqs):
        q = questions[k] if questions is not None else ""
        prompts += [equivalence_prompt(q, u[i], u[j]) for i, j in _directed_pairs(len(u))]
    labels: list[str] = []
    if prompts:
        out = judge.generate(prompts, n=1, max_new_tokens=JUDGE_MAX_NEW_TOKENS, temperature=0.0, seed=0)
        labels = [parse_judgement(comps[0].text) for comps in out]
    return _fill(uniqs, labels, strict)


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
