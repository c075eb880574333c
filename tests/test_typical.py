"""Locally typical sampling: `measures.typical_mask` and `LocallyTypicalLogitsProcessor`.

The reference is the installed transformers' `TypicalLogitsWarper`: the kept set must be
identical on random and adversarial inputs (ties, near-ties, −inf, peaked, flat), every
dtype, batch size, τ and `min_tokens_to_keep`.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import LogitsProcessorList
from transformers.generation.logits_process import TypicalLogitsWarper

from llminfo.processors import typical_core
from llminfo.measures import typical_mask
from llminfo.processors import LocallyTypicalLogitsProcessor
from typical_ref import f64_mass_keep

DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def hf_keep(logits: torch.Tensor, tau: float, k: int = 1) -> torch.Tensor:
    """Kept set according to transformers: filtered entries are marked with NaN."""
    out = TypicalLogitsWarper(tau, filter_value=float("nan"), min_tokens_to_keep=k)(None, logits.clone())
    return ~torch.isnan(out)


def make_logits(seed: int, batch: int, vocab: int, kind: str, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if kind == "normal":
        x = torch.randn(batch, vocab, generator=g) * (0.5 + 4 * torch.rand(batch, 1, generator=g))
    elif kind == "ties":  # few distinct values: many exact ties in score and logit
        x = torch.randint(0, 3, (batch, vocab), generator=g).float()
    elif kind == "near_ties":
        x = torch.randint(0, 3, (batch, vocab), generator=g).float() + 1e-6 * torch.randn(batch, vocab, generator=g)
    elif kind == "neg_inf":
        x = torch.randn(batch, vocab, generator=g) * 3
        x[torch.rand(batch, vocab, generator=g) < 0.6] = -math.inf
        x[:, 0] = torch.randn(batch, generator=g)  # at least one finite logit per row
    elif kind == "peaked":
        x = torch.randn(batch, vocab, generator=g)
        x[torch.arange(batch), torch.randint(0, vocab, (batch,), generator=g)] = 25.0
    elif kind == "flat":
        x = torch.zeros(batch, vocab)
    elif kind == "symmetric":  # tokens at H ± d: equal scores with different probabilities
        x = torch.log(torch.tensor([0.4, 0.1, 0.1, 0.4]).repeat(batch, vocab // 4 + 1)[:, :vocab] + 1e-3)
    else:  # "large": logits near the fp16 range
        x = torch.randn(batch, vocab, generator=g) * 2000
    return x.to(dtype)


KINDS = ["normal", "ties", "near_ties", "neg_inf", "peaked", "flat", "symmetric", "large"]
taus = st.floats(min_value=1e-4, max_value=1.0, exclude_min=True, exclude_max=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    batch=st.integers(1, 5),
    vocab=st.integers(1, 260),
    kind=st.sampled_from(KINDS),
    dtype=st.sampled_from(DTYPES),
    tau=taus,
    k=st.integers(1, 6),
)
def test_same_kept_set_as_transformers(seed, batch, vocab, kind, dtype, tau, k):
    x = make_logits(seed, batch, vocab, kind, dtype)
    expected = hf_keep(x, tau, k)
    got = typical_mask(x, tau, k)
    assert got.dtype == torch.bool and got.shape == x.shape
    assert torch.equal(got, expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10**6),
    batch=st.integers(1, 6),
    vocab=st.integers(16, 300),
    kind=st.sampled_from(KINDS + ["zipf"] * 3),
    dtype=st.sampled_from(DTYPES),
    tau=taus,
    k=st.integers(2, 4),
    topk=st.sampled_from([(1,), (2, 4), (4,), (1, 3)]),
)
def test_fast_filter_is_the_float64_mass_reference(monkeypatch, seed, batch, vocab, kind, dtype, tau, k, topk):
    """The vLLM processor's core (partial sorts, then the full sort for rows they cannot
    settle) keeps exactly the reference set; tiny top-k sizes make every branch run at these
    vocabulary sizes. With `min_tokens_to_keep` > 1 it equals its own full-sort path."""
    x = _zipf_logits(seed, batch, vocab, dtype) if kind == "zipf" else make_logits(seed, batch, vocab, kind, dtype)
    taus_t = torch.rand(batch, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).clamp(1e-3, 0.999)
    taus_t[0] = tau
    monkeypatch.setattr(typical_core, "TYPICAL_TOPK", ())
    full_sort = typical_core.typical_filter_fast(x, taus_t, k)
    monkeypatch.setattr(typical_core, "TYPICAL_TOPK", topk)
    got = ~typical_core.typical_filter_fast(x, taus_t)
    for row in range(batch):
        assert torch.equal(got[row], f64_mass_keep(x[row : row + 1], float(taus_t[row]))[0]), row
    assert torch.equal(typical_core.typical_filter_fast(x, taus_t, k), full_sort)


def _zipf_logits(seed: int, batch: int, vocab: int, dtype: torch.dtype) -> torch.Tensor:
    """Next-token logits shaped like a language model's: a Zipf law over a random token
    order, a random temperature, noise."""
    g = torch.Generator().manual_seed(seed)
    rank = torch.stack([torch.randperm(vocab, generator=g) for _ in range(batch)]) + 1.0
    alpha = 1.2 + torch.rand(batch, 1, generator=g)
    return (-alpha * rank.log() + 0.5 * torch.randn(batch, vocab, generator=g)).to(dtype)


def test_fast_filter_settles_most_rows_by_partial_sort_and_agrees_with_transformers():
    """At a real vocabulary size the partial sorts settle almost every row (the full sort is
    the exception); the result is the reference's, and transformers' float32 warper keeps
    the same set on all but rows whose cumulative mass sits at τ within float32 rounding."""
    x = _zipf_logits(0, 32, 49152, torch.float32)
    scores, p = typical_core.typicality_scores(x, with_probs=True)
    for tau in (0.2, 0.9, 0.95):
        mass = torch.full((32, 1), tau, dtype=torch.float64)
        _, settled = typical_core.typical_topk(scores, p, mass, 1, typical_core.TYPICAL_TOPK[-1])
        assert int(settled.sum()) >= 28, (tau, int(settled.sum()))
        got = ~typical_core.typical_filter_fast(x, mass)
        assert torch.equal(got, f64_mass_keep(x, tau)), tau
        assert int((got == hf_keep(x, tau)).all(dim=1).sum()) >= 30, tau


def test_partial_sort_leaves_a_row_at_the_boundary_to_the_full_sort(monkeypatch):
    """A row whose cumulative mass equals τ up to rounding is not settled by the partial
    sort, and the result equals the full sort's."""
    p = torch.full((1, 4096), 1e-9, dtype=torch.float64)
    p[0, :4] = torch.tensor([0.5, 0.25, 0.15, 0.1 - 4092e-9], dtype=torch.float64)
    x = p.log()  # typicality order: 0.25, 0.5, 0.15, 0.1 → cumulative 0.25, 0.75, 0.9, 1
    scores, probs = typical_core.typicality_scores(x, with_probs=True)
    for tau, settles in [(0.75, False), (0.9, False), (0.8, True), (0.5, True)]:
        mass = torch.tensor([[tau]], dtype=torch.float64)
        _, settled = typical_core.typical_topk(scores, probs, mass, 1, 64)
        assert bool(settled[0]) == settles, tau
        got = typical_core.typical_filter_fast(x, mass)
        monkeypatch.setattr(typical_core, "TYPICAL_TOPK", ())
        assert torch.equal(got, typical_core.typical_filter_fast(x, mass)), tau
        monkeypatch.undo()


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.one_of(st.floats(-30, 30), st.just(-math.inf), st.sampled_from([0.0, 1.0, -1.0])), min_size=1, max_size=12),
        min_size=1,
        max_size=4,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    tau=taus,
    k=st.integers(1, 3),
    dtype=st.sampled_from(DTYPES),
)
def test_same_kept_set_on_explicit_values(rows, tau, k, dtype):
    """Hand-shrinkable inputs, including all −inf rows (both pass them through whole)."""
    x = torch.tensor(rows, dtype=torch.float32).to(dtype)
    assert torch.equal(typical_mask(x, tau, k), hf_keep(x, tau, k))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 49152), (3, 151936)])
def test_same_kept_set_at_real_vocab_sizes(dtype, shape):
    for seed, tau in [(0, 0.2), (1, 0.9), (2, 0.95), (3, 0.5)]:
        x = make_logits(seed, *shape, "normal", dtype)
        assert torch.equal(typical_mask(x, tau), hf_keep(x, tau))


def test_min_tokens_to_keep_splitting_a_tie_follows_the_sort_like_transformers():
    """When the k-th kept token is tied with the next one, which tied tokens survive is
    decided by the sort order; ours must pick the same ones (the straddle must occur)."""
    straddles = 0
    g = torch.Generator().manual_seed(0)
    for dtype in DTYPES:
        # Two tied groups (logits 0 and 1) plus token 0 at v ∈ [0.5, 0.9]: token 0 is then
        # the single most typical token and a small τ keeps only it, so min_tokens_to_keep
        # must take k − 1 members of a tied group: the sort order decides which.
        x = torch.randint(0, 2, (40, 64), generator=g).float()
        x[:, 0] = 0.5 + 0.4 * torch.rand(40, generator=g)
        x = x.to(dtype)
        for k in (2, 3, 5):
            expected = hf_keep(x, 0.01, k)
            assert torch.equal(typical_mask(x, 0.01, k), expected), (dtype, k)
            straddles += int(((expected.sum(dim=1) == k) & hf_keep(x, 0.01, 1).sum(dim=1).eq(1)).sum())
    assert straddles > 50


def test_tau_rounded_to_logits_dtype_like_transformers():
    """In bf16, τ = 0.9 acts as bf16(0.9) = 0.8984375: a cumulative mass of exactly that
    value counts as reaching τ. The same input in fp32 needs one more token."""
    # Sorted by typicality the masses are 0.8984375 then the rest.
    p = torch.tensor([0.8984375, 0.1015625 / 2, 0.1015625 / 2])
    x32 = p.log().unsqueeze(0)
    x16 = x32.to(torch.bfloat16)
    for x in (x32, x16):
        assert torch.equal(typical_mask(x, 0.9), hf_keep(x, 0.9))
    # Per-row τ given as a tensor is rounded the same way.
    tau = torch.tensor([0.9])
    assert torch.equal(typical_mask(x16, tau), hf_keep(x16, 0.9))


def test_definition_on_a_closed_form_example():
    """p = (0.5, 0.3, 0.15, 0.05): H = 1.142 nats; scores |−ln p − H| = 0.449, 0.062, 0.755,
    1.854, so the typicality order is 0.3, 0.5, 0.15, 0.05 (cumulative 0.3, 0.8, 0.95, 1)."""
    p = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    H = -(p * p.log()).sum()
    order = torch.argsort((-p.log() - H).abs())
    assert order.tolist() == [1, 0, 2, 3]
    x = p.log().float().unsqueeze(0)
    for tau, kept in [(0.1, [1]), (0.3, [1]), (0.31, [1, 0]), (0.8, [1, 0]), (0.81, [1, 0, 2]), (0.99, [1, 0, 2, 3])]:
        assert typical_mask(x, tau)[0].nonzero().flatten().sort().values.tolist() == sorted(kept), tau


def test_tau_one_keeps_everything_and_tensor_tau_per_row():
    x = make_logits(0, 4, 100, "normal", torch.float32)
    assert typical_mask(x, 1.0).all()
    taus = torch.tensor([0.2, 1.0, 0.9, 0.5])
    got = typical_mask(x, taus, 2)
    for r, t in enumerate(taus.tolist()):
        expected = torch.ones(100, dtype=torch.bool) if t == 1.0 else hf_keep(x[r : r + 1], t, 2)[0]
        assert torch.equal(got[r], expected)


def test_min_tokens_to_keep_larger_than_vocab_keeps_all():
    x = make_logits(0, 2, 5, "peaked", torch.float32)
    assert typical_mask(x, 0.1, 7).all()
    assert typical_mask(x, 0.1, 1).sum(dim=1).tolist() == [1, 1]


def test_all_neg_inf_row_passes_through_without_nan():
    x = make_logits(0, 3, 50, "normal", torch.float32)
    x[1] = -math.inf
    keep = typical_mask(x, 0.5)
    assert keep[1].all()
    assert torch.equal(keep, hf_keep(x, 0.5))
    out = LocallyTypicalLogitsProcessor(0.5)(None, x)
    assert not out.isnan().any()
    assert torch.equal(out[1], x[1])
    assert torch.isfinite(out[[0, 2]]).any(dim=1).all()


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.0001, 2, float("nan"), float("inf")])
def test_bad_typical_p_is_a_value_error_naming_it(bad):
    x = torch.zeros(1, 4)
    with pytest.raises(ValueError, match="typical_p"):
        typical_mask(x, bad)
    with pytest.raises(ValueError, match="typical_p"):
        LocallyTypicalLogitsProcessor(bad)


@pytest.mark.parametrize("bad", ["0.9", None, True, [0.9]])
def test_non_float_typical_p_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match="typical_p"):
        LocallyTypicalLogitsProcessor(bad)


def test_other_bad_arguments_name_themselves():
    x = torch.zeros(2, 4)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="min_tokens_to_keep"):
            typical_mask(x, 0.5, bad)
        with pytest.raises(ValueError, match="min_tokens_to_keep"):
            LocallyTypicalLogitsProcessor(0.5, min_tokens_to_keep=bad)
    with pytest.raises(ValueError, match="filter_value"):
        LocallyTypicalLogitsProcessor(0.5, filter_value=float("nan"))
    with pytest.raises(ValueError, match="logits"):
        typical_mask(torch.zeros(4), 0.5)
    with pytest.raises(TypeError, match="logits"):
        typical_mask(torch.zeros(2, 4, dtype=torch.long), 0.5)
    with pytest.raises(ValueError, match="typical_p"):
        typical_mask(x, torch.tensor([0.5]))
    with pytest.raises(ValueError, match="typical_p"):
        typical_mask(x, torch.tensor([0.5, 0.0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_processor_output_equals_transformers_warper(dtype):
    x = make_logits(5, 6, 300, "neg_inf", dtype)
    ours = LocallyTypicalLogitsProcessor(0.7, min_tokens_to_keep=2, filter_value=-1e4)(None, x)
    ref = TypicalLogitsWarper(0.7, min_tokens_to_keep=2, filter_value=-1e4)(None, x.clone())
    assert ours.dtype == dtype
    assert torch.equal(ours, ref)
    assert LocallyTypicalLogitsProcessor(1.0)(None, x) is x


def test_in_transformers_generate_matches_builtin_typical_p(tiny_model):
    """`generate(logits_processor=[ours])` draws the very same tokens as `typical_p=τ`."""
    hf, tok = tiny_model.model, tiny_model.tokenizer
    inputs = tok(["The quick brown", "One two"], return_tensors="pt", padding=True)
    common = dict(do_sample=True, top_k=0, top_p=1.0, temperature=1.0, max_new_tokens=12, pad_token_id=tok.pad_token_id)
    torch.manual_seed(3)
    a = hf.generate(**inputs, typical_p=0.6, **common)
    torch.manual_seed(3)
    b = hf.generate(**inputs, logits_processor=LogitsProcessorList([LocallyTypicalLogitsProcessor(0.6)]), **common)
    assert torch.equal(a, b)


def test_llminfo_generate_samples_only_typical_tokens(tiny_model):
    """Each sampled token lies in the typical set recomputed by a direct forward pass, and
    the reported logprob is that of the renormalised typical distribution."""
    tau = 0.5
    prompt = "The capital of"
    comps = tiny_model.generate([prompt], n=3, max_new_tokens=10, seed=1, processors=[LocallyTypicalLogitsProcessor(tau)])[0]
    tok, hf = tiny_model.tokenizer, tiny_model.model
    prompt_ids = tok(prompt, return_tensors="pt").input_ids
    for c in comps:
        ids = torch.cat([prompt_ids, torch.tensor([c.token_ids])], dim=1)
        with torch.no_grad():
            logits = hf(ids).logits[0, prompt_ids.shape[1] - 1 : -1].float()
        keep = typical_mask(logits, tau)
        assert keep[torch.arange(len(c.token_ids)), torch.tensor(c.token_ids)].all()
        filtered = torch.log_softmax(logits.masked_fill(~keep, -math.inf), dim=-1)
        expected_lp = filtered[torch.arange(len(c.token_ids)), torch.tensor(c.token_ids)]
        assert torch.allclose(torch.tensor(c.logprobs), expected_lp, atol=1e-4)
        # Typical sets here are strictly smaller than the vocabulary, or the test is vacuous.
        assert (keep.sum(dim=1) < logits.shape[1]).all()


# -- decoding-quality measures (llminfo.measures + llminfo.analyzers.decoding) ------------

from llminfo.analyzers.decoding import (  # noqa: E402
    DecodingSetting,
    compare_decoding,
    completion_stats,
    standard_settings,
    summarize,
)
from llminfo.measures import distinct_n, mean_surprisal_deviation, seq_rep_n  # noqa: E402
from llminfo.models.base import Completion, LanguageModel  # noqa: E402


def test_rep_and_distinct_closed_forms():
    assert seq_rep_n(list(range(20)), 4) == 0.0
    L = 21  # "abab…": 20 bigrams, 2 distinct
    loop = [0, 1] * 10 + [0]
    assert seq_rep_n(loop, 2) == pytest.approx(1 - 2 / (L - 1))
    assert seq_rep_n([7] * 10, 1) == pytest.approx(0.9)
    assert seq_rep_n([1, 2], 3) == 0.0  # no trigram
    assert distinct_n([[1, 2, 3], [4, 5, 6]], 2) == 1.0
    assert distinct_n([[1, 2, 3], [1, 2, 3]], 3) == 0.5
    assert distinct_n([[1]], 2) == 0.0
    assert mean_surprisal_deviation([-0.5, -2.5, -1.0], [1.0, 1.0, 1.0]) == pytest.approx((0.5 + 1.5 + 0.0) / 3)
    assert math.isnan(mean_surprisal_deviation([], []))


@settings(max_examples=100, deadline=None)
@given(seq=st.lists(st.integers(0, 4), min_size=0, max_size=30), n=st.integers(1, 4))
def test_rep_is_one_minus_distinct_within_a_sequence(seq, n):
    grams = [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]
    expected = 1 - len(set(grams)) / len(grams) if grams else 0.0
    assert seq_rep_n(seq, n) == pytest.approx(expected)
    if grams:
        assert seq_rep_n(seq, n) == pytest.approx(1 - distinct_n([seq], n))
    assert 0.0 <= seq_rep_n(seq, n) < 1.0


def test_decoding_measures_reject_bad_input():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="`n`"):
            seq_rep_n([1, 2], bad)
        with pytest.raises(ValueError, match="`n`"):
            distinct_n([[1, 2]], bad)
    with pytest.raises(TypeError, match="sequences"):
        distinct_n("abc", 1)
    with pytest.raises(ValueError, match="entropies"):
        mean_surprisal_deviation([-1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="logprobs"):
        mean_surprisal_deviation([0.5], [1.0])
    with pytest.raises(ValueError, match="typical_p"):
        DecodingSetting("x", typical_p=0.0)
    with pytest.raises(ValueError, match="top_k"):
        DecodingSetting("x", top_k=-1)
    with pytest.raises(ValueError, match="temperature"):
        DecodingSetting("x", temperature=float("nan"))
    with pytest.raises(ValueError, match="unknown keys"):
        DecodingSetting.from_dict({"name": "a", "typicalp": 0.5}, where="settings[0]")
    with pytest.raises(ValueError, match="settings\\[0\\]"):
        DecodingSetting.from_dict({"name": "a", "typicalp": 0.5}, where="settings[0]")


def _completion(tokens, lp, ent, reason="length", raw=None):
    return Completion(text=" ".join(map(str, tokens)), token_ids=tokens, logprobs=lp, entropy=ent, finish_reason=reason, model_logprobs=raw or [])


def test_completion_stats_and_summary_by_hand():
    a = _completion([1, 2, 1, 2], [-1.0] * 4, [1.0, 1.0, 2.0, 2.0], raw=[-1.0, -1.0, -1.0, -3.0])
    b = _completion([3, 4], [-0.5, -0.5], [0.5, 1.5], reason="stop")
    sa = completion_stats(a, ns=(1, 2))
    assert sa.rep == {1: 0.5, 2: pytest.approx(1 / 3)}
    assert sa.distinct == {1: 0.5, 2: pytest.approx(2 / 3)}
    assert sa.surprisal_deviation == pytest.approx((0 + 0 + 1 + 1) / 4)  # uses model_logprobs
    s = summarize([a, b], ns=(1, 2))
    assert s["rep_1"] == pytest.approx(0.25)
    assert s["distinct_1"] == pytest.approx(4 / 6)
    assert s["surprisal_deviation"] == pytest.approx((0 + 0 + 1 + 1 + 0 + 1) / 6)  # b falls back to logprobs
    assert s["mean_tokens"] == 3.0 and s["frac_length"] == 0.5
    with pytest.raises(ValueError, match="entropies"):
        completion_stats(_completion([1, 2], [-1.0, -1.0], [1.0]))
    with pytest.raises(ValueError, match="empty"):
        summarize([])


class _ScriptedModel(LanguageModel):
    """Returns a canned completion per decoding setting; records the generate calls."""

    name, backend = "scripted", "test"

    def __init__(self):
        self.calls = []

    def generate(self, prompts, *, n=1, max_new_tokens=64, temperature=1.0, top_p=1.0, top_k=0, typical_p=1.0, seed=None, stop=None, processors=None):
        self.calls.append(dict(n=n, temperature=temperature, top_p=top_p, top_k=top_k, typical_p=typical_p))
        loop = temperature == 0  # greedy loops, samplers don't
        toks = [5, 6] * 4 if loop else list(range(8))
        return [[_completion(toks, [-1.0] * 8, [1.0] * 8) for _ in range(n)] for _ in prompts]

    def score(self, prompts, continuations):
        raise NotImplementedError

    def next_token_logprobs(self, prompts, candidates):
        raise NotImplementedError

    def chat(self, messages, *, system=None):
        return str(messages)

    def describe(self):
        raise NotImplementedError

    @property
    def tokenizer(self):
        return None


def test_compare_decoding_passes_settings_and_summarizes():
    model = _ScriptedModel()
    out = compare_decoding(model, ["a", "b"], standard_settings(), n=3, max_new_tokens=8)
    names = [s.name for s in standard_settings()]
    assert list(out["summary"]) == names
    by_name = dict(zip(names, model.calls))
    assert by_name["typical_0.2"]["typical_p"] == 0.2 and by_name["typical_0.2"]["n"] == 3
    assert by_name["nucleus_0.95"]["top_p"] == 0.95 and by_name["top_k_50"]["top_k"] == 50
    assert by_name["greedy"] == dict(n=1, temperature=0.0, top_p=1.0, top_k=0, typical_p=1.0)
    assert out["summary"]["greedy"]["rep_2"] == pytest.approx(1 - 2 / 7)
    assert out["summary"]["ancestral"]["rep_2"] == 0.0
    assert len(out["rows"]) == 2 * 3 * 6 + 2
    with pytest.raises(ValueError, match="unique"):
        compare_decoding(model, ["a"], [DecodingSetting("x"), DecodingSetting("x")])


def test_compare_decoding_on_a_real_model(tiny_model):
    out = compare_decoding(tiny_model, ["The quick"], [DecodingSetting("typical_0.5", typical_p=0.5), DecodingSetting("greedy", temperature=0.0)], n=2, max_new_tokens=6, seed=0)
    for row in out["rows"]:
        assert row["num_tokens"] <= 6 and row["surprisal_deviation"] >= 0
    assert [r["setting"] for r in out["rows"]] == ["typical_0.5", "typical_0.5", "greedy"]
    assert out["summary"]["typical_0.5"]["num_completions"] == 2.0
