"""Core measures against closed-form values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llminfo import measures


def test_entropy_uniform_and_point_mass():
    for k in (1, 2, 7, 49152):
        logits = torch.zeros(1, k)
        assert measures.entropy_from_logits(logits).item() == pytest.approx(math.log(k), rel=1e-5)
    point = torch.tensor([[0.0, -float("inf"), -float("inf")]])
    assert measures.entropy_from_logits(point).item() == 0.0


def test_entropy_with_minus_inf_equals_entropy_of_the_rest():
    logits = torch.tensor([[1.0, 2.0, -float("inf"), 0.5, -float("inf")]])
    rest = torch.tensor([[1.0, 2.0, 0.5]])
    got = measures.entropy_from_logits(logits)
    assert torch.isfinite(got).all()
    assert got.item() == pytest.approx(measures.entropy_from_logits(rest).item(), abs=1e-6)


def test_entropy_closed_form_two_point():
    p = 0.3
    logits = torch.tensor([[math.log(p), math.log(1 - p)]])
    ref = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert measures.entropy_from_logits(logits).item() == pytest.approx(ref, abs=1e-6)
    assert float(measures.entropy([p, 1 - p])) == pytest.approx(ref)


def test_entropy_half_precision_is_computed_in_float32():
    logits = torch.randn(4, 1000) * 5
    ref = measures.entropy_from_logits(logits)
    got = measures.entropy_from_logits(logits.to(torch.bfloat16))
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref, atol=0.05, rtol=0.02)


def test_kl_js_bernoulli_closed_forms():
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    assert measures.kl_divergence(p, q) == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert measures.kl_divergence(p, p) == 0.0
    assert measures.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert measures.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert measures.js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    b = measures.bernoulli_kl(0.2, 0.6)
    assert b == pytest.approx(0.2 * math.log(0.2 / 0.6) + 0.8 * math.log(0.8 / 0.4))
    assert measures.bernoulli_kl(1.0, 0.25) == pytest.approx(math.log(4))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, 6, elements=st.floats(0.01, 1.0)), arrays(np.float64, 6, elements=st.floats(0.01, 1.0)))
def test_kl_js_properties(a, b):
    p, q = a / a.sum(), b / b.sum()
    assert measures.kl_divergence(p, q) >= -1e-12
    js = measures.js_divergence(p, q)
    assert -1e-12 <= js <= math.log(2) + 1e-12
    assert js == pytest.approx(measures.js_divergence(q, p))


def test_logsumexp_and_normalisation():
    x = np.array([1.0, 2.0, 3.0])
    assert measures.logsumexp(x) == pytest.approx(math.log(math.e + math.e**2 + math.e**3))
    assert measures.logsumexp([-np.inf, -np.inf]) == -np.inf
    assert measures.logsumexp([]) == -np.inf
    big = np.array([1000.0, 1000.0])
    assert measures.logsumexp(big) == pytest.approx(1000 + math.log(2))
    p = measures.normalize_logprobs([math.log(1), math.log(3)])
    np.testing.assert_allclose(p, [0.25, 0.75])
    rows = measures.normalize_logprobs(np.log([[1, 1], [1, 3]]), axis=-1)
    np.testing.assert_allclose(rows.sum(-1), [1.0, 1.0])
