"""Where typical sampling sits relative to temperature (T != 1), against transformers' own
`generate(typical_p=...)`, which applies temperature first.

- `generate(logits_processor=[LocallyTypicalLogitsProcessor(τ)], temperature=T)`: transformers
  runs a user processor BEFORE its warpers, so the typical set is that of the raw logits z and
  temperature then reshapes the kept tokens.
- `[TemperatureLogitsWarper(T), LocallyTypicalLogitsProcessor(τ)]` with `temperature=1`: the
  very same tokens as transformers' `typical_p=τ, temperature=T` (typical set of z / T).
- llminfo's own `model.generate(typical_p=τ, temperature=T)`: temperature first, like transformers.
"""

from __future__ import annotations

import math

import pytest
import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper

from llminfo.measures import typical_mask
from llminfo.processors import LocallyTypicalLogitsProcessor

TAU = 0.5


def _gen(tiny_model, seed, **kw):
    hf, tok = tiny_model.model, tiny_model.tokenizer
    inputs = tok(["The quick brown", "One two"], return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    return hf.generate(
        **inputs, do_sample=True, top_k=0, top_p=1.0, max_new_tokens=12, pad_token_id=tok.pad_token_id,
        output_scores=True, output_logits=True, return_dict_in_generate=True, **kw,
    )


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_processor_after_temperature_is_transformers_typical_p(tiny_model, temperature):
    ref = _gen(tiny_model, 3, typical_p=TAU, temperature=temperature)
    ours = _gen(
        tiny_model, 3, temperature=1.0,
        logits_processor=LogitsProcessorList([TemperatureLogitsWarper(temperature), LocallyTypicalLogitsProcessor(TAU)]),
    )
    assert torch.equal(ref.sequences, ours.sequences)
    for a, b in zip(ref.scores, ours.scores):
        assert torch.equal(torch.isfinite(a), torch.isfinite(b))


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_processor_in_generate_runs_before_temperature(tiny_model, temperature):
    ours = _gen(tiny_model, 5, temperature=temperature, logits_processor=LogitsProcessorList([LocallyTypicalLogitsProcessor(TAU)]))
    differ = 0
    for raw, processed in zip(ours.logits, ours.scores):
        kept = torch.isfinite(processed)
        assert torch.equal(kept, typical_mask(raw.float(), TAU))  # the typical set of the raw logits
        differ += int(not torch.equal(kept, typical_mask(raw.float() / temperature, TAU)))
        # ... and temperature scales the kept tokens afterwards.
        torch.testing.assert_close(processed[kept], raw[kept] / temperature)
    assert differ > 0  # the two orders do differ on this model, or the test would be vacuous


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_llminfo_generate_typical_p_applies_temperature_first(tiny_model, temperature):
    prompt = "The capital of"
    [comps] = tiny_model.generate([prompt], n=3, max_new_tokens=10, seed=1, temperature=temperature, typical_p=TAU)
    tok, hf = tiny_model.tokenizer, tiny_model.model
    prompt_ids = tok(prompt, return_tensors="pt").input_ids
    differ = 0
    for c in comps:
        ids = torch.cat([prompt_ids, torch.tensor([c.token_ids])], dim=1)
        with torch.no_grad():
            z = hf(ids).logits[0, prompt_ids.shape[1] - 1 : -1].float() / temperature
        keep = typical_mask(z, TAU)
        rows, chosen = torch.arange(len(c.token_ids)), torch.tensor(c.token_ids)
        assert keep[rows, chosen].all()
        expected = torch.log_softmax(z.masked_fill(~keep, -math.inf), dim=-1)[rows, chosen]
        torch.testing.assert_close(torch.tensor(c.logprobs), expected, atol=1e-4, rtol=0)
        differ += int(not torch.equal(keep, typical_mask(z * temperature, TAU)))
    assert differ > 0
