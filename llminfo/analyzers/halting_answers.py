"""Answers of the halting protocols as text: the candidates a probe scores, the answer read
from a completion, and its comparison with the gold answer.

No model here: `llminfo.analyzers.adaptive_think` probes the candidates and generates the
answers. Numbers are compared as numbers ("1,000." = "1000"), multiple choice by option letter;
GSM8K-style gold solutions keep the part after "####".

Example:
    >>> from llminfo.analyzers.halting_answers import answer_candidates, extract_answer, is_correct
    >>> answer_candidates(None, ["52", "133", "52"]), answer_candidates({"A": "red", "B": "blue"})
    ([' 52', ' 133'], [' A', ' B'])
    >>> extract_answer(" 1,000 apples."), is_correct("1000", "She sold 1,000 in all. #### 1,000")
    ('1000', True)
    >>> extract_answer(" (B) blue", {"A": "red", "B": "blue"})
    'B'
"""

from __future__ import annotations

import re
from typing import Any, Sequence

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def answer_candidates(options: dict[str, str] | None, found: Sequence[str] = ()) -> list[str]:
    """The task's answer candidates as continuations of the cue: option letters (" A", " B",
    ...) for multiple choice, else the full numbers `found` (" 52", " 133"), in order."""
    if options:
        return [f" {k}" for k in options]
    return [f" {x}" for x in dict.fromkeys(found)]


def gold_answer(gold: Any) -> str:
    """The gold answer as compared: GSM8K-style solutions keep the part after "####"."""
    s = str(gold)
    return s.split("####")[-1].strip() if "####" in s else s.strip()


def extract_answer(text: str, options: dict[str, str] | None = None) -> str:
    """The option letter (multiple choice) or the first number in `text`; else the stripped text."""
    if options:
        letters = "".join(re.escape(k) for k in options)
        m = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text)
        return m.group(1) if m else text.strip()
    m = NUMBER.search(text)
    return canonical_number(m.group(0)) if m else text.strip()


def is_correct(prediction: str, gold: Any, options: dict[str, str] | None = None) -> bool:
    """`prediction` (from `extract_answer`) equals the gold answer: the option letter, else the
    number (within 1e-9), else the text (case-insensitive)."""
    gold = gold_answer(gold)
    if options:
        return prediction.strip().upper() == gold.upper()
    try:
        return abs(float(prediction) - float(gold.replace(",", ""))) < 1e-9
    except ValueError:
        return prediction.strip().lower() == gold.lower()


def canonical_number(s: str) -> str:
    """A number as compared and shown: thousands commas and a final stop dropped, "12.0" → "12"."""
    s = s.replace(",", "").rstrip(".")
    try:
        v = float(s)
    except ValueError:
        return s
    return str(int(v)) if v.is_integer() and "e" not in s.lower() else s
