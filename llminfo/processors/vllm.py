"""llminfo's vLLM logits processors: one name each, for both of vLLM's model runners.

vLLM 0.32 has two custom-logits-processor interfaces: the legacy V1 runner's (the CPU build
uses it) and Model Runner V2's (the default wherever Triton exists, i.e. every GPU install).
Each class here subclasses both, so vLLM's entry-point loader, `LLM(logits_processors=[...])`
and `--logits-processors` accept it under either runner, and constructing it returns the
implementation for the runner that asked (`llminfo.processors.vllm_runners`). The class names
are those of the transformers processors (`llminfo.processors`):

- `LocallyTypicalLogitsProcessor` — locally typical sampling, per request
  `extra_args={"typical_p": τ}` (entry point `llminfo_typical`);
- `EntropyHaltingProcessor` — entropy-based early halting of reasoning, per request flat keys
  `extra_args={"entropy_halting_threshold": 0.5, "entropy_halting_window": 8, ...}`
  (entry point `llminfo_halting`);
- `EntropyRecorderLogitsProcessor` — per-token entropy and raw log-probabilities for
  `llminfo.models.VLLMModel` (registered by `VLLMModel.load`, not an entry point).

Installed as entry points (group `vllm.logits_processors`), the first two load in every vLLM
engine of the environment and cost nothing for requests that do not ask for them. Old names
stay as aliases: `TypicalLogitsProcessor` here, `vllm_halting:EntropyHaltingLogitsProcessor`,
`vllm_entropy:EntropyRecorderLogitsProcessor`.

Example:

```python
>>> from vllm import LLM, SamplingParams
>>> from llminfo.processors.vllm import LocallyTypicalLogitsProcessor
>>> if __name__ == "__main__":
...     llm = LLM(model_dir, logits_processors=[LocallyTypicalLogitsProcessor])  # or rely on the entry point
...     llm.generate(["Once upon a time"], SamplingParams(max_tokens=32, extra_args={"typical_p": 0.9}))
```

Server: `python -m vllm.entrypoints.openai.api_server --model DIR` (the entry points load the
processors), then `{"prompt": ..., "vllm_xargs": {"typical_p": 0.9}}` or
`{"vllm_xargs": {"entropy_halting_threshold": 0.5, "entropy_halting_max_thinking_tokens": 400}}`;
a bad value gets HTTP 400.

Importing this module imports vLLM.
"""

from __future__ import annotations

from llminfo.processors.vllm_entropy import EntropyRecorderMRV2, EntropyRecorderV1
from llminfo.processors.vllm_halting import HaltingMRV2, HaltingV1
from llminfo.processors.vllm_runners import BothRunners, runner_bases
from llminfo.processors.vllm_typical import EXTRA_ARG, TypicalMRV2, TypicalV1


class LocallyTypicalLogitsProcessor(BothRunners, *runner_bases()):  # type: ignore[misc]
    r"""Locally typical sampling in vLLM (Meister et al., TACL 2023), on either model runner.

    Per request, keep the tokens whose information content −log p is closest to the entropy of
    the next-token distribution until their mass reaches τ. Scores, probabilities and cut-off
    rule are transformers' `TypicalLogitsWarper` (`min_tokens_to_keep = 1`); the cumulative
    mass is summed in float64 (transformers sums in float32), so the kept set is the warper's
    except when a cumulative mass lies within float32 rounding (~1e-5) of τ. Applied after
    temperature and only to sampled requests (a greedy request ignores τ), as in transformers.

    Per-request argument (`SamplingParams.extra_args`, or `vllm_xargs` in a server request):
        typical_p (`float` in (0, 1]): mass of the typical set; 1 (or absent) = off.

    Implementations: `vllm_typical.TypicalV1` (V1 runner), `vllm_typical.TypicalMRV2` (MRV2).
    """

    _v1 = TypicalV1
    _mrv2 = TypicalMRV2


class EntropyHaltingProcessor(BothRunners, *runner_bases()):  # type: ignore[misc]
    r"""Entropy-based early halting of reasoning in vLLM, on either model runner.

    Same rule as the transformers `llminfo.processors.EntropyHaltingProcessor` — llminfo's own
    streaming rule on the next-token entropy, not a paper's protocol (closest: the
    answer-entropy probes of "Think or Not?", Yong et al., 2025, in
    `llminfo.analyzers.adaptive_think`, and the trial-answer confidence exits of DEER, Yang et
    al., 2025): inside the reasoning span, once at least `min_tokens` reasoning tokens are written and the mean
    next-token entropy (nats, raw logits) over the last `window` steps is below `threshold` (or
    `max_thinking_tokens` is reached), the request is forced to emit `close_marker +
    answer_cue`, then answers freely (or for `max_answer_tokens` tokens).

    Per-request arguments (flat keys of `SamplingParams.extra_args`, or `vllm_xargs`):
        entropy_halting_threshold (`float`, required): nats; switches halting on.
        entropy_halting_window (`int`, 8), entropy_halting_min_tokens (`int`, 16),
        entropy_halting_max_thinking_tokens (`int`, none), entropy_halting_open_marker (`str`,
        absent = from the first token; also found in the prompt), entropy_halting_close_marker
        (`str`, "</think>"), entropy_halting_answer_cue (`str`, "\nThe answer is"),
        entropy_halting_max_answer_tokens (`int`, none). Bad values raise ValueError (HTTP 400).

    Implementations: `vllm_halting.HaltingV1` (V1 runner), `vllm_halting.HaltingMRV2` (MRV2).
    """

    _v1 = HaltingV1
    _mrv2 = HaltingMRV2


class EntropyRecorderLogitsProcessor(BothRunners, *runner_bases()):  # type: ignore[misc]
    """Per-token entropy / raw log-probability recorder behind `VLLMModel` (see
    `llminfo.processors.vllm_entropy` for the record channel), on either model runner."""

    _v1 = EntropyRecorderV1
    _mrv2 = EntropyRecorderMRV2


TypicalLogitsProcessor = LocallyTypicalLogitsProcessor  # the old name

__all__ = [
    "LocallyTypicalLogitsProcessor",
    "EntropyHaltingProcessor",
    "EntropyRecorderLogitsProcessor",
    "TypicalLogitsProcessor",
    "EXTRA_ARG",
]
