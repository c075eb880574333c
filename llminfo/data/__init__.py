"""Small datasets and a prose corpus written for llminfo, shipped inside the package.

Files (all UTF-8; JSONL has one object per line):

- `factual_qa.jsonl` — short-answer factual questions with answer aliases, easy to hard
  (`id`, `question`, `answers`, `category`, `difficulty`): hallucination detection.
- `many_answers.jsonl` — questions with many valid answers ("Name a fruit."): aleatoric vs
  epistemic uncertainty (`id`, `question`, `answers`, `category`).
- `icl_classification.jsonl` + `icl_tasks.json` — in-context classification (sentiment,
  topic, parity) for permutation dispersion (`id`, `task`, `text`, `label`).
- `stories.jsonl` — story/continuation prompts for typical decoding (`id`, `prompt`).
- `reasoning.jsonl` — arithmetic word problems and multiple-choice questions with checkable
  answers for early halting (`id`, `question`, `answer`, `type`, `options`?).
- `corpus/` — plain English prose of varied kinds for information-capacity measurement.

Example:
    >>> from llminfo.data import data_path, list_datasets, load_jsonl
    >>> rows = load_jsonl("factual_qa")
    >>> rows[0]["question"], rows[0]["answers"]
    ('What is the capital of France?', ['Paris'])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["DATA_DIR", "data_path", "list_datasets", "load_jsonl", "corpus_files"]

DATA_DIR = Path(__file__).resolve().parent
_SUFFIXES = (".jsonl", ".json")


def list_datasets() -> list[str]:
    """Names of the shipped data files and folders (e.g. `"factual_qa.jsonl"`, `"corpus"`), sorted."""
    return sorted(
        p.name
        for p in DATA_DIR.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix in _SUFFIXES + (".txt", ".csv"))
    )


def data_path(name: str) -> Path:
    """Path of a shipped data file or folder.

    Args:
        name (`str`): a name from `list_datasets()`; the `.jsonl` / `.json` suffix may be
            left out (`"factual_qa"`).

    Returns:
        `pathlib.Path` of an existing file or folder inside the installed package.

    Raises:
        TypeError: `name` is not a str.
        FileNotFoundError: no such shipped file; the message lists the available ones.

    Example:
        >>> data_path("factual_qa").name
        'factual_qa.jsonl'
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` has to be a str, got {type(name).__name__}")
    available = list_datasets()
    candidates = [name] + [name + s for s in _SUFFIXES]
    for cand in candidates:
        if cand in available:
            return DATA_DIR / cand
    raise FileNotFoundError(
        f"no shipped dataset named {name!r} in llminfo.data; available: {', '.join(available) or '(none)'}"
    )


def json_object(line: str | bytes, where: str) -> dict[str, Any]:
    """One JSONL line parsed as a JSON object; ValueError naming `where` (file and line) if it is not."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: invalid JSON ({e.msg})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    return row


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """Rows of a shipped JSONL file (see `data_path` for `name`).

    Raises:
        ValueError: a line is not a JSON object; the message names the file and line number.
    """
    path = data_path(name)
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rows.append(json_object(line, f"{path.name} line {lineno}"))
    return rows


def corpus_files() -> list[Path]:
    """The `.txt` files of the shipped prose corpus, sorted by name."""
    return sorted(data_path("corpus").glob("*.txt"))
