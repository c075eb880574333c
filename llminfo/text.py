"""Answer normalisation and matching for short-answer evaluation.

The matchers follow the SQuAD evaluation script (Rajpurkar et al., "SQuAD: 100,000+
Questions for Machine Comprehension of Text", EMNLP 2016): lowercase, strip punctuation
and the articles *a*, *an*, *the*, collapse whitespace, then compare bags of tokens. Two
additions suit the answers of small chat models: accents are folded ("São Paulo" ==
"Sao Paulo") and the number words zero … ninety-nine become digits ("four" == "4", "twenty-one" == "21"), so a
dataset can store numbers as digits only.

Example:
    >>> from llminfo.text import normalize_answer, token_f1, alias_match
    >>> normalize_answer("The Eiffel Tower!")
    'eiffel tower'
    >>> token_f1("Paris, France", "Paris")
    0.6666666666666666
    >>> alias_match("A dog has four legs.", ["4"])
    True
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from typing import Iterable

__all__ = ["normalize_answer", "token_f1", "best_token_f1", "alias_match", "NUMBER_WORDS"]

NUMBER_WORDS: dict[str, str] = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}

_TENS: dict[str, int] = {
    w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
_UNITS = {w: int(d) for w, d in NUMBER_WORDS.items() if 1 <= int(d) <= 9}
_ARTICLES = frozenset({"a", "an", "the"})
# Hyphens, dashes and slashes separate words ("well-known" == "well known"); every other
# punctuation mark is dropped, as in SQuAD ("U.S." -> "us", "don't" -> "dont").
_SEPARATORS = re.compile(r"[-‐‑‒–—―/\\_]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_DECIMAL_MARK = "\ue000"  # a private-use character, removed from the input first
_PUNCT = set(string.punctuation) | {"’", "‘", "“", "”", "«", "»", "…", "¿", "¡", "·"}


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{name}` has to be a str, got {type(value).__name__}")
    return value


def normalize_answer(s: str) -> str:
    """Normalise a short answer for comparison (SQuAD-style, plus accents and number words).

    Steps: Unicode NFKD accent folding; lowercase; thousands separators inside numbers
    removed ("1,000" -> "1000") and decimal points between digits kept ("3.14");
    hyphens/dashes/slashes -> spaces; other punctuation removed; number words zero … twenty,
    the tens and "tens-unit" compounds up to ninety-nine -> digits; articles a/an/the
    removed; whitespace collapsed.

    Args:
        s (`str`): the answer text.

    Returns:
        `str`: the normalised answer (possibly empty).

    Example:
        >>> normalize_answer("  Twelve  o'clock, the NOON.")
        '12 oclock noon'
    """
    s = _check_str(s, "s")
    # Fold compatibility forms (𝒩 → N) and accents on both sides of lowercasing ("İ".lower()
    # adds a combining dot), so normalising twice changes nothing.
    s = _fold(_fold(s).lower())
    s = s.replace(_DECIMAL_MARK, "")
    s = _THOUSANDS.sub("", s)
    s = _DECIMAL.sub(_DECIMAL_MARK, s)
    s = _SEPARATORS.sub(" ", s)
    s = "".join(ch for ch in s if ch not in _PUNCT).replace(_DECIMAL_MARK, ".")
    return " ".join(t for t in _numbers_to_digits(s.split()) if t not in _ARTICLES)


def _fold(s: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def _numbers_to_digits(words: list[str]) -> list[str]:
    # "twenty one" (from "twenty-one") must become "21", not "20 1", or alias "20" would match.
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _TENS:
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt in _UNITS:
                out.append(str(_TENS[w] + _UNITS[nxt]))
                i += 2
                continue
            out.append(str(_TENS[w]))
        else:
            out.append(NUMBER_WORDS.get(w, w))
        i += 1
    return out


def token_f1(prediction: str, reference: str) -> float:
    """Token-level F1 between two answers after `normalize_answer` (the SQuAD F1).

    precision = |common| / |prediction tokens|, recall = |common| / |reference tokens|,
    counted as multisets; F1 = 2PR / (P + R). When either side normalises to no tokens,
    F1 is 1.0 if both do and 0.0 otherwise.

    Args:
        prediction (`str`): the model's answer.
        reference (`str`): one gold answer.

    Returns:
        `float` in [0, 1]; symmetric in its arguments.

    Example:
        >>> token_f1("the river Nile", "Nile")
        0.6666666666666666
    """
    p = normalize_answer(_check_str(prediction, "prediction")).split()
    r = normalize_answer(_check_str(reference, "reference")).split()
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


def _alias_list(aliases: str | Iterable[str]) -> list[str]:
    if isinstance(aliases, str):
        return [aliases]
    try:
        out = list(aliases)
    except TypeError:
        raise TypeError(f"`aliases` has to be a str or a list of str, got {type(aliases).__name__}") from None
    if not out:
        raise ValueError("`aliases` is empty: give at least one gold answer")
    for i, a in enumerate(out):
        if not isinstance(a, str):
            raise TypeError(f"`aliases[{i}]` has to be a str, got {type(a).__name__}")
    return out


def best_token_f1(prediction: str, aliases: str | Iterable[str]) -> float:
    """The highest `token_f1` of `prediction` against any of the gold `aliases`.

    Args:
        prediction (`str`): the model's answer.
        aliases (`str` or list of `str`): the gold answers.

    Example:
        >>> best_token_f1("Shakespeare", ["William Shakespeare", "Shakespeare"])
        1.0
    """
    _check_str(prediction, "prediction")
    return max(token_f1(prediction, a) for a in _alias_list(aliases))


def alias_match(prediction: str, aliases: str | Iterable[str]) -> bool:
    """Whether any gold alias occurs in the prediction as whole tokens, after normalisation.

    An alias matches when its normalised tokens appear as a contiguous run of the
    prediction's normalised tokens ("It is Paris." matches "Paris"; "Parisian" does not),
    or when both normalise to the same string. Aliases that normalise to nothing
    (e.g. "The") can only match a prediction that also normalises to nothing.

    Args:
        prediction (`str`): the model's answer, possibly a sentence.
        aliases (`str` or list of `str`): the gold answers.

    Returns:
        `bool`.

    Raises:
        TypeError: `prediction` or an alias is not a str.
        ValueError: `aliases` is an empty list.

    Example:
        >>> alias_match("I think it was in 1945.", ["1945"])
        True
        >>> alias_match("Paris Hilton", ["Paris Hilton"]), alias_match("Parisian", ["Paris"])
        (True, False)
    """
    pred = normalize_answer(_check_str(prediction, "prediction"))
    tokens = pred.split()
    for alias in _alias_list(aliases):
        a = normalize_answer(alias)
        if a == pred:
            return True
        want = a.split()
        if not want:
            continue
        k = len(want)
        if any(tokens[i : i + k] == want for i in range(len(tokens) - k + 1)):
            return True
    return False
