"""Reading in-context classification data and task descriptions (plots: `llminfo.eval.report`).

Kept apart from `dispersion.py` (the analysis) so that module stays about the method.
"""

from __future__ import annotations

from llminfo.analyzers.dispersion import ICLTask


def load_icl_rows(path: str, task: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """(text, label) rows per task from a JSONL file with `task`, `text`, `label` per line
    (`task` optional when `task=` names it). Errors name the file and line."""
    from llminfo.data import json_object

    out: dict[str, list[tuple[str, str]]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            row = json_object(line, where)
            name = row.get("task", task)
            for key, val in (("text", row.get("text")), ("label", row.get("label")), ("task", name)):
                if not isinstance(val, str) or not val.strip():
                    raise ValueError(f"{where}: field `{key}` has to be a non-empty string, got {val!r}")
            if task is None or name == task:
                out.setdefault(name, []).append((row["text"], row["label"]))
    if task is not None and task not in out:
        raise ValueError(f"{path}: no rows for task {task!r}")
    return out


def load_icl_tasks(path: str | None = None) -> dict[str, ICLTask]:
    """Task descriptions from a JSON file (default: the shipped `icl_tasks.json`), {} if absent."""
    import json

    if path is None:
        from llminfo.data import DATA_DIR

        if not (DATA_DIR / "icl_tasks.json").is_file():
            return {}
        path = str(DATA_DIR / "icl_tasks.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec = spec.get("tasks", spec) if isinstance(spec, dict) else spec
    if isinstance(spec, list):  # [{"name": ..., ...}, ...]
        spec = {s.get("name", s.get("task")): s for s in spec}
    return {name: ICLTask.from_dict(name, s) for name, s in spec.items()}

