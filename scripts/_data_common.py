"""What the `scripts/make_*_data.py` generators share: how a shipped JSONL file is written.

The files in `llminfo/data/` are compared byte for byte with what the generators make
(tests/test_data.py), so every generator writes them the same way: UTF-8, non-ASCII text
kept as is (`ensure_ascii=False`), one JSON object per line, each line ending in `\\n`.
Standard library only, so a generator runs with any Python.

Example:
    >>> from _data_common import write_rows  # doctest: +SKIP
    >>> write_rows(OUT, parse())  # in scripts/make_stories_data.py  # doctest: +SKIP
    wrote 48 rows to .../llminfo/data/stories.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence


def write_rows(path: Path, rows: Sequence[dict[str, Any]], note: str = "") -> None:
    """Write `rows` to `path` as JSON Lines (replacing the file), in the shipped files' format,
    and print `wrote N rows to PATH` (then `note`, e.g. counts per category)."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {path}" + (f" {note}" if note else ""))
