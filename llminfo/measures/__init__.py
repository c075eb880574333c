"""Every formula in llminfo, as pure functions on tensors / arrays. No model, no I/O.

Natural logs (nats) unless a name says `bits`. Analyzers and processors call these; they
never re-derive a formula. One module per paper, every name re-exported here
(`from llminfo import measures; measures.semantic_entropy(...)`):

- `core`: entropy, KL / JS divergences, log-sum-exp, ranks, AUROC
- `hallucination`: semantic / predictive entropy, Wilson bound, iterative-prompting MI, EDFL / ISR
- `halting`: entropy-based early halting ("Think or Not?", 2025)
- `typical`: the locally typical mask (the torch engine is `llminfo.processors.typical_core`)
- `decoding`: seq-rep-n, distinct-n, surprisal deviation
- `dispersion`: permutation dispersion and the CoT-length law (2025)
- `capacity`: information capacity (Yuan et al., 2025)

Importing this package does not import torch.
"""

from __future__ import annotations

from llminfo.measures.capacity import information_capacity
from llminfo.measures.core import (
    LN2,
    _check_distribution,
    _PROB_TOL,
    auroc,
    average_ranks,
    bernoulli_kl,
    entropy,
    entropy_from_logits,
    entropy_from_logprobs,
    js_divergence,
    kl_divergence,
    log_normalize,
    logsumexp,
    normalize_logprobs,
    topk_entropy_lower_bound,
)
from llminfo.measures.decoding import distinct_n, mean_surprisal_deviation, seq_rep_n
from llminfo.measures.dispersion import (
    _check_ordering_distributions,
    fit_cot_constant,
    jensen_gap,
    log_curve_fit,
    martingale_violation_bound,
    optimal_cot_tokens,
    permutation_dispersion,
)
from llminfo.measures.hallucination import (
    _as_cluster_ids,
    _check_nonneg,
    _check_prob,
    _mi_from_joint,
    bits_to_trust,
    cluster_log_probs,
    discrete_semantic_entropy,
    edfl_max_prob,
    information_budget,
    isr,
    iterative_prompting_mi,
    iterative_prompting_mi_general,
    predictive_entropy,
    semantic_entropy,
    wilson_upper,
)
from llminfo.measures.halting import answer_entropy_bits, halting_threshold, info_gain, should_halt_thinking
from llminfo.measures.typical import typical_mask

__all__ = [
    "LN2",
    "answer_entropy_bits",
    "auroc",
    "average_ranks",
    "bernoulli_kl",
    "bits_to_trust",
    "cluster_log_probs",
    "discrete_semantic_entropy",
    "distinct_n",
    "edfl_max_prob",
    "entropy",
    "entropy_from_logits",
    "entropy_from_logprobs",
    "fit_cot_constant",
    "halting_threshold",
    "info_gain",
    "information_budget",
    "information_capacity",
    "isr",
    "iterative_prompting_mi",
    "iterative_prompting_mi_general",
    "jensen_gap",
    "js_divergence",
    "kl_divergence",
    "log_curve_fit",
    "log_normalize",
    "logsumexp",
    "martingale_violation_bound",
    "mean_surprisal_deviation",
    "normalize_logprobs",
    "optimal_cot_tokens",
    "permutation_dispersion",
    "predictive_entropy",
    "semantic_entropy",
    "seq_rep_n",
    "should_halt_thinking",
    "topk_entropy_lower_bound",
    "typical_mask",
    "wilson_upper",
]

# The typical-sampling engine moved to `llminfo.processors.typical_core` (public names there);
# the old private names still resolve, lazily, so code written against them keeps working.
_MOVED_TO_TYPICAL_CORE = {
    "_typical_filter_unchecked": "typical_filter",
    "_typicality_scores": "typicality_scores",
    "_sortable": "sortable",
    "_SORTABLE_INT": "SORTABLE_INT",
    "_typical_filter_sorted": "typical_filter_sorted",
    "_TYPICAL_TOPK": "TYPICAL_TOPK",
    "_typical_filter_fast": "typical_filter_fast",
    "_typical_topk": "typical_topk",
    "_check_typical_p": "check_typical_p",
    "_check_min_tokens_to_keep": "check_min_tokens_to_keep",
}


def __getattr__(name: str):
    if name in _MOVED_TO_TYPICAL_CORE:
        from llminfo.processors import typical_core

        return getattr(typical_core, _MOVED_TO_TYPICAL_CORE[name])
    raise AttributeError(f"module 'llminfo.measures' has no attribute {name!r}")
