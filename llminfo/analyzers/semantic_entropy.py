"""Semantic entropy (Farquhar et al., "Detecting hallucinations in large language models
using semantic entropy", Nature 2024).

Sample M answers to the question (default 10, T = 1), cluster them by meaning, and take
the entropy over meaning clusters: many different meanings = the model is confabulating.
The likelihood-weighted version uses each answer's sequence log-likelihood (mean token
log-probability under the raw model, `Completion.model_logprobs`); the discrete version
uses cluster counts only. Formulas: `llminfo.measures.semantic_entropy` and
`discrete_semantic_entropy`.

Clustering is semantic by default (`clustering="semantic"`: bidirectional entailment with an
NLI model when `clustering_kwargs={"nli": ...}`, else an LLM judge when `{"judge": model or
"self"}`, else the shipped sentence embeddings; see `llminfo.analyzers.clustering`).

Prompt protocols (`prompt=`): `"short"` (default: llminfo's short-answer chat prompt, the one
the scored greedy answer uses, so samples are shared with iterative MI) or `"farquhar"`, the
paper's: "Answer the following question as briefly as possible." then few-shot
"Question: …\nAnswer: …" pairs, then "Question: {q}\nAnswer:", sent as raw text (the
reference does not apply a chat template), answers up to 50 tokens, cut at a newline.

Also here, from the same samples: naive predictive entropy (`PredictiveEntropy`, the paper's
"regular entropy" baseline) and p(True) (`PTrue`, Kadavath et al. 2022, the paper's baseline).

Samples come from the shared `SampleCache` (one `generate` call for every question × M),
and clustering of every question runs in one batch (one embedding / NLI / judge call).

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.semantic_entropy import SemanticEntropy
    >>> model = load_model("default")
    >>> [r] = SemanticEntropy(num_samples=10).score(model, ["Who wrote Hamlet?"], seed=0)
    >>> r.score >= 0, sum(r.details["cluster_sizes"])
    (True, 10)
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from llminfo import measures
from llminfo.analyzers.base import (
    ANSWER_MAX_NEW_TOKENS,
    HallucinationMethod,
    MethodResult,
    QAItem,
    SampleCache,
    check_sampling_args,
)
from llminfo.analyzers.clustering import check_clustering, sample_and_cluster
from llminfo.analyzers.p_true_few_shot import check_few_shot_examples, p_true_few_shot_prompt
from llminfo.models.base import LanguageModel

PROMPTS = ("short", "farquhar")
# The paper's brief instruction (reference `BRIEF_PROMPTS["default"]`) and answer length.
FARQUHAR_BRIEF = "Answer the following question as briefly as possible.\n"
FARQUHAR_MAX_NEW_TOKENS = 50
# Few-shot pairs for the "farquhar" prompt: the reference draws 5 from the dataset's training
# split; these are fixed general-knowledge pairs that are not in the shipped sets.
FARQUHAR_FEW_SHOT = (
    ("Which composer wrote the opera The Magic Flute?", "Wolfgang Amadeus Mozart"),
    ("In which city is the Brandenburg Gate?", "Berlin"),
    ("Which element has the atomic number 6?", "Carbon"),
    ("In which country is the city of Kyoto?", "Japan"),
    ("What is the longest river in South America?", "The Amazon"),
)


def farquhar_prompt(question: str, context: str | None = None, few_shot: Sequence[tuple[str, str]] = FARQUHAR_FEW_SHOT) -> str:
    """The paper's sampling prompt (reference `make_prompt` with `brief_always=False`)."""
    text = FARQUHAR_BRIEF
    for q, a in few_shot:
        text += f"Question: {q}\nAnswer: {a}\n\n"
    if context:
        text += f"Context: {context}\n"
    return text + f"Question: {question}\nAnswer:"


def _check_common(num_samples: Any, temperature: Any, max_new_tokens: Any, prompt: Any) -> None:
    check_sampling_args(num_samples, temperature, max_new_tokens)
    if prompt not in PROMPTS:
        raise ValueError(f"`prompt` has to be one of {PROMPTS}, got {prompt!r}")


class _SampledAnswers(HallucinationMethod):
    """M sampled answers per question under the chosen prompt protocol (shared samples)."""

    def __init__(self, num_samples: int = 10, temperature: float = 1.0, max_new_tokens: int | None = None, prompt: str = "short"):
        _check_common(num_samples, temperature, max_new_tokens, prompt)
        self.num_samples = num_samples
        self.temperature = float(temperature)
        self.prompt = prompt
        default_len = FARQUHAR_MAX_NEW_TOKENS if prompt == "farquhar" else ANSWER_MAX_NEW_TOKENS
        self.max_new_tokens = max_new_tokens or default_len

    def sampling_prompts(self, model: LanguageModel, items: Sequence[QAItem]) -> list[str] | None:
        """The prompts answers are sampled from; None = the standard short-answer prompt."""
        if self.prompt == "farquhar":
            return [farquhar_prompt(it.question, it.context) for it in items]
        return None

    def _sample(self, model: LanguageModel, items: Sequence[QAItem], seed: int, cache: SampleCache, clustering: Any = "exact", clustering_kwargs: dict | None = None):
        return sample_and_cluster(
            model, items, cache, num_samples=self.num_samples, temperature=self.temperature,
            max_new_tokens=self.max_new_tokens, seed=seed, clustering=clustering,
            clustering_kwargs=clustering_kwargs or {}, prompts=self.sampling_prompts(model, items),
        )


class SemanticEntropy(_SampledAnswers):
    """Likelihood-weighted semantic entropy (nats). Higher = more meanings = more uncertain.

    Args:
        num_samples (`int`, defaults to 10): M sampled answers per question.
        temperature (`float`, defaults to 1.0): sampling temperature.
        clustering (`str` or callable, defaults to `"semantic"`): see `cluster_answers`.
        clustering_kwargs (`dict`, *optional*): e.g. `{"nli": fn}`, `{"judge": "self"}`,
            `{"threshold": 0.85}`.
        max_new_tokens (`int`, *optional*): answer length limit; 24 for `"short"`, the paper's
            50 for `"farquhar"`.
        prompt (`str`, defaults to `"short"`): the sampling prompt protocol (module docstring).
    """

    name = "semantic_entropy"
    needs = ("clusters",)

    def __init__(
        self,
        num_samples: int = 10,
        temperature: float = 1.0,
        clustering: str | Callable[[str, str], bool] = "semantic",
        clustering_kwargs: dict[str, Any] | None = None,
        max_new_tokens: int | None = None,
        prompt: str = "short",
    ):
        super().__init__(num_samples, temperature, max_new_tokens, prompt)
        check_clustering(clustering, dict(clustering_kwargs or {}))
        self.clustering = clustering
        self.clustering_kwargs = dict(clustering_kwargs or {})

    def _value(self, cluster_ids: list[int], seq_logprobs: list[float]) -> float:
        return measures.semantic_entropy(cluster_ids, seq_logprobs)

    def reduce(self, model: LanguageModel, items: list[QAItem], stats: dict[str, Any], *, seed: int, cache: SampleCache) -> list[MethodResult]:
        samples, answers, ids_per_item = stats["samples"], stats["sampled_answers"], stats["cluster_ids"]
        results = []
        for comps, ans, ids in zip(samples, answers, ids_per_item):
            seq_lp = [c.mean_logprob for c in comps]
            lc = measures.cluster_log_probs(ids, seq_lp)
            details = {
                "answers": ans,
                "cluster_ids": ids,
                "cluster_sizes": np.bincount(ids).tolist(),
                "cluster_probs": np.exp(lc).tolist(),
                "seq_logprobs": seq_lp,
                "semantic_entropy": measures.semantic_entropy(ids, seq_lp),
                "discrete_semantic_entropy": measures.discrete_semantic_entropy(ids),
                "num_clusters": int(max(ids) + 1),
            }
            results.append(MethodResult(self._value(ids, seq_lp), details))
        return results


class DiscreteSemanticEntropy(SemanticEntropy):
    """Semantic entropy from cluster counts, −Σ (n_c/M) ln(n_c/M): black-box, same samples
    and arguments as `SemanticEntropy` (shares its samples through the cache)."""

    name = "discrete_semantic_entropy"

    def _value(self, cluster_ids: list[int], seq_logprobs: list[float]) -> float:
        return measures.discrete_semantic_entropy(cluster_ids)


class PredictiveEntropy(_SampledAnswers):
    """Naive predictive entropy (nats): −(1/M) Σ_m (1/T_m) Σ_t log p(y_mt | …) over the M
    sampled answers — the paper's "regular entropy" baseline (length-normalised likelihoods,
    no clustering). Formula: `measures.predictive_entropy`. Same samples as `SemanticEntropy`
    with the same arguments (shared through the cache).

    Args:
        num_samples (`int`, defaults to 10), temperature (`float`, defaults to 1.0),
        max_new_tokens (`int`, *optional*), prompt (`str`, defaults to `"short"`): as
        `SemanticEntropy`.
    """

    name = "predictive_entropy"

    def reduce(self, model, items, stats, *, seed, cache):  # type: ignore[override]
        _p, samples, answers, _ids = self._sample(model, items, seed, cache)
        out = []
        for comps, ans in zip(samples, answers):
            seq_lp = [c.mean_logprob for c in comps]
            out.append(MethodResult(measures.predictive_entropy(seq_lp), {"answers": ans, "seq_logprobs": seq_lp}))
        return out


P_TRUE_PROTOCOLS = ("farquhar", "kadavath", "kadavath_samples")
# The option whose probability is P(True), and the other one, per protocol.
P_TRUE_OPTIONS = {"farquhar": (" A", " B"), "kadavath": (" (A)", " (B)"), "kadavath_samples": (" (A)", " (B)")}
class PTrue(_SampledAnswers):
    """p(True) (Kadavath et al., 2022, "Language Models (Mostly) Know What They Know"): ask
    the model whether the proposed answer is true and read the probability of the "True"
    option. Score = 1 − P(True) (higher = riskier). One batched `score` call for all items.

    Protocols (`protocol=`):
    - `"farquhar"` (default): the semantic-entropy paper's baseline (reference
      `calculate_p_true`, raw text): the question, the M brainstormed (sampled) answers and
      the scored answer, "Is the possible answer:\nA) True\nB) False\nThe possible answer
      is:", P(" A"). The reference prepends 20 labelled few-shot examples of this prompt
      from the training split (`p_true_few_shot_prompt`); pass them as `few_shot`, default none.
    - `"kadavath"`: Kadavath et al.'s zero-shot prompt, "Question: …\nProposed Answer: …\nIs
      the proposed answer:\n (A) True\n (B) False\nThe proposed answer is:", P(" (A)").
    - `"kadavath_samples"`: their variant that shows brainstormed samples first ("Here are
      some brainstormed ideas: …", "Possible Answer: …"), P(" (A)").

    Args:
        num_samples (`int`, defaults to 10): brainstormed answers (the shared samples).
        temperature (`float`, defaults to 1.0), max_new_tokens, prompt: as `SemanticEntropy`.
        few_shot (`str` or `list[dict]`, defaults to ""): text put before the question (then
            "\n"), or labelled examples — dicts with "question", "answers" (brainstormed
            samples), "answer" (most likely) and "correct" (bool) — from which the
            reference's prefix is built (`p_true_few_shot_prompt`, "farquhar" only), once per
            model and reused for every question (the model's `score` then encodes it once
            per batch of prompts as their shared prefix).
        token_limit (`int`, *optional*): the context the few-shot prefix is cut to fit, as the
            reference does; default the model's (`describe().max_context`; the reference sets
            4096 for Llama 2 and 2048 for its other models, `huggingface_models.py` line 197).
        protocol (`str`, defaults to "farquhar"): one of `P_TRUE_PROTOCOLS`.
        normalize (`bool`, defaults to False): llminfo's own variant — P(True) renormalised
            over the two options, P(A) / (P(A) + P(B)) (a small model puts most of its mass
            on neither option; the papers read P(A) as it is).
        chat (`bool`, defaults to False): send the prompt as a user message through the
            model's chat template and read the option at the start of the assistant's reply
            ("A" / "(A)", no leading space), as lm-polygraph does for instruction-tuned models;
            the papers use raw text.
    """

    name = "p_true"
    needs = ("answers",)

    def __init__(self, num_samples: int = 10, temperature: float = 1.0, max_new_tokens: int | None = None,
                 prompt: str = "short", few_shot: str | Sequence[Mapping[str, Any]] = "", protocol: str = "farquhar",
                 normalize: bool = False, chat: bool = False, token_limit: int | None = None):
        super().__init__(num_samples, temperature, max_new_tokens, prompt)
        if protocol not in P_TRUE_PROTOCOLS:
            raise ValueError(f"`protocol` has to be one of {P_TRUE_PROTOCOLS}, got {protocol!r}")
        self.few_shot_examples: list[dict[str, Any]] | None = None
        if not isinstance(few_shot, str):
            self.few_shot_examples = check_few_shot_examples(few_shot)
            if self.few_shot_examples and protocol != "farquhar":
                raise ValueError(f"labelled `few_shot` examples build the semantic-entropy reference's prompt: they need "
                                 f"protocol='farquhar', got {protocol!r} (pass a string for other protocols)")
            few_shot = ""
        for arg, v in (("normalize", normalize), ("chat", chat)):
            if not isinstance(v, bool):
                raise ValueError(f"`{arg}` has to be True or False, got {v!r}")
        if token_limit is not None and (isinstance(token_limit, bool) or not isinstance(token_limit, int) or token_limit < 1):
            raise ValueError(f"`token_limit` has to be a positive integer or None, got {token_limit!r}")
        self.token_limit = token_limit
        self._few_shot_memo: dict[tuple[int, int], tuple[Any, str, int]] = {}
        self.few_shot = few_shot
        self.protocol = protocol
        self.normalize = normalize
        self.chat = chat

    @staticmethod
    def p_true_prompt(question: str, brainstormed: Sequence[str], answer: str, few_shot: str = "") -> str:
        """The semantic-entropy reference's p(True) prompt (without the hint variant)."""
        text = few_shot + "\n" if few_shot else ""
        text += "Question: " + question + "\nBrainstormed Answers: "
        for a in list(brainstormed) + [answer]:
            text += a.strip() + "\n"
        text += "Possible answer: " + answer + "\n"
        return text + "Is the possible answer:\nA) True\nB) False\nThe possible answer is:"

    @staticmethod
    def kadavath_prompt(question: str, answer: str, brainstormed: Sequence[str] | None = None, few_shot: str = "") -> str:
        """Kadavath et al.'s prompt; with `brainstormed`, their variant showing samples first."""
        text = few_shot + "\n" if few_shot else ""
        text += "Question: " + question.strip() + "\n"
        if brainstormed is None:
            text += "Proposed Answer: " + answer.strip() + "\nIs the proposed answer:\n"
            return text + " (A) True\n (B) False\nThe proposed answer is:"
        text += "Here are some brainstormed ideas: " + "\n".join(a.strip() for a in brainstormed) + "\n"
        text += "Possible Answer: " + answer.strip() + "\nIs the possible answer:\n"
        return text + " (A) True\n (B) False\nThe possible answer is:"

    def few_shot_prefix(self, model: LanguageModel | None = None) -> tuple[str, int]:
        """(prefix, examples kept): `few_shot` as given, or the reference's prefix built from the
        labelled examples with `model`'s tokenizer and context, once per model (memoised)."""
        if not self.few_shot_examples:
            return self.few_shot, 0
        if model is None:
            raise ValueError("labelled `few_shot` examples need the model (its tokenizer and context) to build the prompt")
        tok = model.tokenizer
        limit = self.token_limit or int(model.describe().max_context)
        key = (id(tok), limit)  # the memo keeps `tok` alive, so its id is not reused
        if key not in self._few_shot_memo:
            built = p_true_few_shot_prompt(
                self.few_shot_examples, lambda text: len(tok.encode(text)), limit, self.num_samples, self.max_new_tokens)
            self._few_shot_memo[key] = (tok, *built)
        return self._few_shot_memo[key][1:]

    def prompt_for(self, question: str, brainstormed: Sequence[str], answer: str, model: LanguageModel | None = None) -> str:
        """The protocol's prompt; through `model`'s chat template when `chat=True`."""
        if self.protocol == "farquhar":
            text = self.p_true_prompt(question, brainstormed, answer, self.few_shot_prefix(model)[0])
        else:
            text = self.kadavath_prompt(question, answer, brainstormed if self.protocol == "kadavath_samples" else None, self.few_shot)
        if self.chat:
            if model is None:
                raise ValueError("`chat=True` needs the model (its chat template) to build the prompt")
            return model.chat(text)
        return text

    @property
    def options(self) -> tuple[str, str]:
        """(True option, False option) continuations: without the leading space in chat mode."""
        t, f = P_TRUE_OPTIONS[self.protocol]
        return (t.lstrip(), f.lstrip()) if self.chat else (t, f)

    def reduce(self, model, items, stats, *, seed, cache):  # type: ignore[override]
        answers = stats["answers"]
        if self.protocol == "kadavath":
            brainstormed = [[] for _ in items]  # no samples shown: none drawn
        else:
            _p, _samples, brainstormed, _ids = self._sample(model, items, seed, cache)
        prompts = [self.prompt_for(it.question, b, a, model) for it, b, a in zip(items, brainstormed, answers)]
        true_opt, false_opt = self.options
        conts = [true_opt] * len(prompts) + ([false_opt] * len(prompts) if self.normalize else [])
        scored = cache.score(model, prompts * (2 if self.normalize else 1), conts, entropy=False)
        extra = {"few_shot_examples": self.few_shot_prefix(model)[1]} if self.few_shot_examples else {}
        out = []
        for i, a in enumerate(answers):
            lp_true = scored[i].sum_logprob
            if self.normalize:
                lp_true -= float(np.logaddexp(lp_true, scored[len(prompts) + i].sum_logprob))
            p = float(np.exp(lp_true))
            out.append(MethodResult(1.0 - p, {"answer": a, "p_true": p, **extra}))
        return out
