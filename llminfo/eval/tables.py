"""Nested metrics as flat tables: shared by the runner (`compare_runs`) and the report.

Example:
    >>> from llminfo.eval.tables import flatten
    >>> flatten({"methods": {"msp": {"auroc": 0.7}}, "n": 40})
    {'methods.msp.auroc': 0.7, 'n': 40}
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence


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


def summary_table(header: str, label: str, rows: Mapping[str, Mapping[str, Any]], cols: Sequence[str], width: int = 12) -> str:
    """A plain-text table for the terminal: a header line, then one line per row name with
    the `cols` values (3 decimals, missing/NaN as '—').

    Example:
        >>> print(summary_table("items: 2", "method", {"msp": {"auroc": 0.75}}, ["auroc"], width=8))
        items: 2
        method             auroc
        msp                0.750
    """
    from llminfo.eval.tasks import fmt

    lines = [header, f"{label:<16}" + "".join(f"{c:>{width}}" for c in cols)]
    for name, values in rows.items():
        lines.append(f"{name:<16}" + "".join(f"{fmt(values.get(c)):>{width}}" for c in cols))
    return "\n".join(lines)
