"""Nested metrics as flat tables: shared by the runner (`compare_runs`) and the report.

Example:
    >>> from llminfo.eval.tables import flatten
    >>> flatten({"methods": {"msp": {"auroc": 0.7}}, "n": 40})
    {'methods.msp.auroc': 0.7, 'n': 40}
"""

from __future__ import annotations

from typing import Any


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts → one level, keys joined by "." (`{"a": {"b": 1}}` → `{"a.b": 1}`);
    other values (lists included) are kept as they are."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
