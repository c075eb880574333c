"""Answer normalisation and matching (llminfo.text) against hand-computed values."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llminfo.text import NUMBER_WORDS, alias_match, best_token_f1, normalize_answer, token_f1


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  PARIS\t\n", "paris"),
        ("An apple a day", "apple day"),
        ("It's the U.S.A.", "its usa"),
        ("São Paulo", "sao paulo"),
        ("Zürich, Ångström", "zurich angstrom"),
        ("1,000,000 people", "1000000 people"),
        ("pi is 3.14.", "pi is 3.14"),
        ("well-known / famous", "well known famous"),
        ("Four legs", "4 legs"),
        ("zero ten twenty", "0 10 20"),
        ("twenty-one", "21"),
        ("Ninety nine", "99"),
        ("thirty", "30"),
        ("“Hamlet”", "hamlet"),
        ("the", ""),
        ("", ""),
        ("theatre another", "theatre another"),  # articles only as whole words
    ],
)
def test_normalize_answer_hand_values(raw, expected):
    assert normalize_answer(raw) == expected


def test_every_number_word_maps_to_its_digit():
    words = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    assert len(NUMBER_WORDS) == 21
    for i, w in enumerate(words):
        assert normalize_answer(w) == str(i)
        assert normalize_answer(w.upper()) == str(i)


def _squad_normalize(s: str) -> str:
    # The original SQuAD v1.1 evaluation normaliser, as an independent reference.
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " .,;:!?'\"()", max_size=40))
def test_agrees_with_squad_on_plain_ascii_words(s):
    # Without digits, hyphens or number words our normaliser is SQuAD's.
    words = normalize_answer(s).split()
    if any(w in NUMBER_WORDS or w in {"thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"} for w in _squad_normalize(s).split()):
        return
    assert words == _squad_normalize(s).split()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_normalize_is_idempotent(s):
    once = normalize_answer(s)
    assert normalize_answer(once) == once


@pytest.mark.parametrize(
    "pred, ref, expected",
    [
        ("Paris", "paris", 1.0),
        ("Paris, France", "Paris", 2 * (1 / 2) * 1 / (1 / 2 + 1)),  # P=1/2, R=1
        ("in Paris France", "Paris", 0.5),  # P=1/3, R=1
        ("William Shakespeare", "Shakespeare", 2 / 3),
        ("new york city", "york new", 2 * (2 / 3) * 1 / (2 / 3 + 1)),  # order ignored
        ("a a b", "a b b", 2 / 3),  # articles dropped: "b" vs "b b", P=1, R=1/2
        ("red red blue", "red blue blue", 2 / 3),  # multiset: common = {red, blue}
        ("cat", "dog", 0.0),
        ("the", "a", 1.0),  # both empty after normalisation
        ("the", "cat", 0.0),
        ("four", "4", 1.0),
    ],
)
def test_token_f1_hand_values(pred, ref, expected):
    assert token_f1(pred, ref) == pytest.approx(expected)


def _f1_reference(p: str, r: str) -> float:
    pt, rt = normalize_answer(p).split(), normalize_answer(r).split()
    if not pt or not rt:
        return float(pt == rt)
    common = sum((Counter(pt) & Counter(rt)).values())
    return 0.0 if common == 0 else 2 * common / (len(pt) + len(rt))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["red", "blue", "the", "cat", "four", "4"]), max_size=6),
       st.lists(st.sampled_from(["red", "blue", "the", "cat", "four", "4"]), max_size=6))
def test_token_f1_properties(a, b):
    x, y = " ".join(a), " ".join(b)
    f = token_f1(x, y)
    assert 0.0 <= f <= 1.0
    assert f == pytest.approx(token_f1(y, x))
    assert f == pytest.approx(_f1_reference(x, y))  # 2PR/(P+R) == 2c/(|p|+|r|)


@pytest.mark.parametrize(
    "pred, aliases, expected",
    [
        ("Paris", ["Paris"], True),
        ("The capital is Paris.", ["Paris"], True),
        ("Parisian", ["Paris"], False),  # whole tokens only
        ("Paris Hilton", ["Hilton Paris"], False),  # contiguous, in order
        ("It was William Shakespeare.", ["Shakespeare", "William Shakespeare"], True),
        ("A dog has four legs.", ["4"], True),
        ("4", ["four"], True),
        ("14", ["4"], False),
        ("twenty-one", ["20"], False),
        ("twenty-one", ["21"], True),
        ("It ended in 1945.", "1945", True),
        ("I don't know.", ["1945"], False),
        ("the", ["The"], True),  # exact match of two empty normalisations
        ("cat", ["The"], False),  # an alias that normalises to nothing never matches by containment
        ("sao paulo", ["São Paulo"], True),
        ("Rio", ["Rio de Janeiro"], False),
    ],
)
def test_alias_match_hand_values(pred, aliases, expected):
    assert alias_match(pred, aliases) is expected


def test_best_token_f1():
    assert best_token_f1("Shakespeare", ["William Shakespeare", "Shakespeare"]) == 1.0
    assert best_token_f1("William", ["William Shakespeare", "Bill"]) == pytest.approx(2 / 3)
    assert best_token_f1("x", "y") == 0.0


def test_bad_input_errors_name_the_argument():
    with pytest.raises(TypeError, match="`s`"):
        normalize_answer(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`prediction`"):
        token_f1(3, "3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`reference`"):
        token_f1("3", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`prediction`"):
        alias_match(None, ["x"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`aliases`"):
        alias_match("x", [])
    with pytest.raises(TypeError, match=r"`aliases\[1\]`"):
        alias_match("x", ["x", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="`aliases`"):
        alias_match("x", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`aliases`"):
        best_token_f1("x", [])
