"""`EntropyHaltingProcessor` is a transformers `LogitsProcessor` and refuses beam search
(its per-row state would follow the wrong beam after a reorder)."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList

from llminfo.processors.halting import EntropyHaltingProcessor


@pytest.fixture(scope="module")
def tiny():
    from tiny import tiny_llama

    model, tok = tiny_llama(0)
    tok.padding_side = "left"
    return model, tok


def _proc(tok):
    return EntropyHaltingProcessor(tok, threshold=0.5, window=2, min_tokens=1, max_thinking_tokens=4, close_marker="</think>")


def test_is_a_transformers_logits_processor(tiny):
    assert isinstance(_proc(tiny[1]), LogitsProcessor)


@pytest.mark.parametrize("do_sample", [False, True])
def test_beam_search_raises_a_clear_error(tiny, do_sample):
    model, tok = tiny
    enc = tok(["The quick brown fox"], return_tensors="pt")
    with pytest.raises(ValueError, match=r"does not support beam search \(num_beams=2\)"):
        model.generate(
            **enc, num_beams=2, do_sample=do_sample, max_new_tokens=6, pad_token_id=tok.pad_token_id,
            logits_processor=LogitsProcessorList([_proc(tok)]),
        )


def test_greedy_and_sampling_still_run_and_halt_at_the_budget(tiny):
    model, tok = tiny
    enc = tok(["The quick brown fox", "One two"], return_tensors="pt", padding=True)
    forced = tok.encode("</think>", add_special_tokens=False)
    for kw in ({"do_sample": False}, {"do_sample": True, "num_return_sequences": 2}):
        proc = _proc(tok)
        out = model.generate(
            **enc, max_new_tokens=10, pad_token_id=tok.pad_token_id, eos_token_id=None,
            logits_processor=LogitsProcessorList([proc]), **kw,
        )
        new = out[:, enc["input_ids"].shape[1] :].tolist()
        recs = proc.records()
        assert len(recs) == out.shape[0]
        for row, rec in zip(new, recs):
            assert rec.halted and rec.halt_step is not None and rec.halt_step <= 4
            assert row[rec.halt_step : rec.halt_step + len(forced)] == forced


def test_rows_reordered_between_steps_raise(tiny):
    """Any caller that reorders rows of one prompt (as beam search does) is caught at the next step."""
    _, tok = tiny
    proc = _proc(tok)
    ids = torch.tensor([[5, 6, 7], [5, 6, 7]])
    scores = torch.randn(2, len(tok))
    proc(ids, scores)
    proc(torch.cat([ids, torch.tensor([[11], [12]])], 1), scores)  # consistent: fine
    swapped = torch.tensor([[5, 6, 7, 12, 13], [5, 6, 7, 11, 14]])  # the rows' histories swapped
    with pytest.raises(ValueError, match="reordered"):
        proc(swapped, scores)
