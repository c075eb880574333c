"""Load an evaluation dataset into items: rows → the task's fields, plus a prompt template.

Everything goes through the `datasets` library: local files offline
(`load_dataset("json", data_files=...)`), a folder written by `Dataset.save_to_disk` /
`DatasetDict.save_to_disk` (`load_from_disk`; a `DatasetDict` gives `dataset.split`), hub
datasets for users with a network, and — from Python — a `datasets.Dataset` / `DatasetDict`
object passed to `run_eval(config, dataset=...)`. Each item
is a dict holding the task's fields (renamed through `dataset.fields`), `key` (the row's id
as a string, else `row-<index>`) and, when a template is set, the rendered text in the
task's input field. A line of a local JSONL file that is not valid UTF-8 is reported (file
and line) and skipped; the other lines are kept.

Example:
    >>> from llminfo.eval.config import DatasetConfig
    >>> from llminfo.eval.datasets import load_items
    >>> items = load_items(DatasetConfig(path="llminfo:factual_qa", limit=3), {"question": True, "answers": True})
    >>> items[0]["question"], items[0]["answers"], items[0]["key"]
    ('What is the capital of France?', ['Paris'], 'fqa-0001')
"""

from __future__ import annotations

import contextlib
import contextvars
import string
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from llminfo.eval.config import ConfigError, DatasetConfig

LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}
# A folder holding one of these was written by `save_to_disk` (Dataset / DatasetDict).
SAVED_MARKERS = ("dataset_dict.json", "state.json", "dataset_info.json")
FROM_DISK = "load_from_disk"

# The in-memory dataset of the run in progress (`run_eval(config, dataset=...)`).
_RUN_DATASET: contextvars.ContextVar[Any] = contextvars.ContextVar("llminfo_eval_dataset", default=None)


@contextlib.contextmanager
def using_dataset(data: Any) -> Iterator[None]:
    """Within the block, `load_rows` reads `data` (a `datasets.Dataset` / `DatasetDict`)
    instead of `dataset.path`."""
    check_dataset_object(data)
    token = _RUN_DATASET.set(data)
    try:
        yield
    finally:
        _RUN_DATASET.reset(token)


def check_dataset_object(data: Any) -> None:
    """A `datasets.Dataset` or `DatasetDict`, else a TypeError naming `dataset`."""
    import datasets

    if not isinstance(data, (datasets.Dataset, datasets.DatasetDict)):
        raise TypeError(
            f"`dataset` has to be a datasets.Dataset or datasets.DatasetDict, got {type(data).__name__}"
        )


def resolve_path(spec: str) -> tuple[str, str | None]:
    """`(builder, data_file)`: a local file → ("json"/"csv"/..., path); a hub name → (name, None)."""
    if spec.startswith("llminfo:"):
        name = spec.split(":", 1)[1]
        from llminfo.data import data_path

        try:
            path = Path(data_path(name))
        except (FileNotFoundError, ValueError, KeyError) as e:
            if "." not in name:
                try:
                    path = Path(data_path(name + ".jsonl"))
                except (FileNotFoundError, ValueError, KeyError):
                    raise ConfigError(f"config key `dataset.path`: {e}") from None
            else:
                raise ConfigError(f"config key `dataset.path`: {e}") from None
        return LOCAL_FORMATS.get(path.suffix, "json"), str(path)
    path = Path(spec).expanduser()
    if path.is_dir() and any((path / m).is_file() for m in SAVED_MARKERS):
        return FROM_DISK, str(path)
    if path.is_dir():
        raise ConfigError(
            f"config key `dataset.path`: {spec!r} is a folder but not one written by `save_to_disk` "
            f"(none of {', '.join(SAVED_MARKERS)} in it)"
        )
    if path.suffix in LOCAL_FORMATS or spec.startswith((".", "/", "~")):
        if not path.is_file():
            raise ConfigError(f"config key `dataset.path`: file {spec!r} not found")
        if path.suffix not in LOCAL_FORMATS:
            raise ConfigError(
                f"config key `dataset.path`: {spec!r} has an unknown suffix; use one of {', '.join(LOCAL_FORMATS)}"
            )
        return LOCAL_FORMATS[path.suffix], str(path)
    return spec, None


def load_rows(cfg: DatasetConfig, data: Any = None) -> list[dict[str, Any]]:
    """All rows of the configured split as dicts (before shuffling and limiting).

    Args:
        cfg: the `dataset:` section.
        data (*optional*): a `datasets.Dataset` / `DatasetDict` to read instead of
            `cfg.path` (default: the one `run_eval(config, dataset=...)` is running on).
    """
    import datasets

    data = data if data is not None else _RUN_DATASET.get()
    if data is not None:
        check_dataset_object(data)
        return [dict(r) for r in _split_of(data, cfg.split, "the `dataset` argument")]
    builder, data_file = resolve_path(cfg.path)
    datasets.disable_progress_bars()
    if builder == FROM_DISK:
        try:
            saved = datasets.load_from_disk(data_file)
        except (FileNotFoundError, ValueError) as e:
            raise ConfigError(f"config key `dataset.path`: could not load the saved dataset {cfg.path!r}: {e}") from None
        return [dict(r) for r in _split_of(saved, cfg.split, repr(cfg.path))]
    with contextlib.ExitStack() as stack:
        try:
            if data_file is not None:
                clean = _without_bad_lines(data_file, stack)
                cache = {} if clean == data_file else {"cache_dir": str(Path(clean).parent / "cache")}
                ds = datasets.load_dataset(builder, data_files=clean, split="train", **cache)
            else:
                ds = datasets.load_dataset(builder, cfg.name, split=cfg.split)
        except (FileNotFoundError, ConnectionError, ValueError) as e:
            raise ConfigError(f"config key `dataset.path`: could not load {cfg.path!r}: {e}") from None
        except Exception as e:  # datasets raises many kinds (DatasetGenerationError, hub errors...)
            raise ConfigError(f"config key `dataset.path`: could not load {cfg.path!r}: {type(e).__name__}: {e}") from None
        return [dict(r) for r in ds]


def _without_bad_lines(data_file: str, stack: contextlib.ExitStack) -> str:
    """`data_file`, or — for a JSONL file with lines that are not valid UTF-8 — a copy without
    them in a temporary folder that `stack` removes (with the copy's `datasets` cache). Each
    skipped line is reported on stderr by file and line, as `llminfo score` reports its
    input's (`llminfo.fileio.jsonl_lines`)."""
    if Path(data_file).suffix != ".jsonl":
        return data_file
    from llminfo.fileio import describe_decode_error, jsonl_lines

    good: list[str] = []
    bad = 0
    for n, line in jsonl_lines(data_file):
        if isinstance(line, UnicodeDecodeError):
            print(f"skipping bad row: {data_file}: line {n}: {describe_decode_error(line)}", file=sys.stderr)
            bad += 1
        else:
            good.append(line if line.endswith("\n") else line + "\n")
    if not bad:
        return data_file
    if not good:
        raise ConfigError(f"config key `dataset.path`: {data_file!r} has no rows: every line was skipped (see above)")
    copy = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llminfo-data-"))) / Path(data_file).name
    copy.write_text("".join(good), encoding="utf-8")
    return str(copy)


def _split_of(data: Any, split: str, what: str) -> Any:
    """The `split` of a DatasetDict (a Dataset is its own only split)."""
    import datasets

    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise ConfigError(
                f"config key `dataset.split`: {what} has no split {split!r}; its splits: {', '.join(data)}"
            )
        return data[split]
    return data


def load_items(
    cfg: DatasetConfig,
    fields: Mapping[str, bool],
    seed: int = 0,
    input_field: str | None = None,
    row_filter: Callable[[Mapping[str, Any]], bool] | None = None,
    extra_limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows mapped to the task's fields, shuffled (if asked, with `seed`), limited, templated.

    Args:
        cfg: the `dataset:` section.
        fields: task field name → required?
        seed: shuffles when `cfg.shuffle`.
        input_field: the field a `template` writes (e.g. "question").
        row_filter: keeps a raw row when true (applied before shuffling and limiting).
        extra_limit: a task's own cap on items (the smaller of it and `cfg.limit` wins).

    Raises:
        ConfigError: a mapped column is missing (names `dataset.fields.<field>` and lists the
            columns), a required field is empty in a row (names the row), duplicate ids.
    """
    for f in cfg.fields:
        if f not in fields and f != "id":
            raise ConfigError(
                f"config key `dataset.fields.{f}`: this task has no field {f!r}; its fields are {', '.join(fields)}, id"
            )
    rows = load_rows(cfg)
    if not rows:
        raise ConfigError(f"config key `dataset.path`: {cfg.path!r} has no rows")
    columns = list(rows[0].keys())
    mapping = {}
    for f, required in {**fields, "id": False}.items():
        col = cfg.fields.get(f, f)
        if col in columns or (col not in columns and "." in col and col.split(".")[0] in columns):
            mapping[f] = col  # "answer.aliases": a nested field of a hub row (TriviaQA)
        elif f in cfg.fields or (required and not (cfg.template and f == input_field)):
            raise ConfigError(
                f"config key `dataset.fields.{f}`: column {col!r} not in the dataset; columns: {', '.join(columns)}"
            )
    order = np.arange(len(rows))
    if cfg.shuffle:
        order = np.random.default_rng(seed).permutation(len(rows))
    if row_filter is not None:
        order = np.array([i for i in order if row_filter(rows[int(i)])], dtype=int)
    limits = [x for x in (cfg.limit, extra_limit) if x is not None]
    if limits:
        order = order[: min(limits)]
    render = make_template(cfg.template, cfg.template_format) if cfg.template else None
    items, seen = [], {}
    for idx in order:
        row = rows[int(idx)]
        where = f"dataset row {int(idx)}"
        item = {f: _nested(row, c, where) for f, c in mapping.items()}
        if render is not None and input_field:
            item[input_field] = render({**row, **item}, where)
        for f, required in fields.items():
            if required and (item.get(f) is None or item.get(f) == "" or item.get(f) == []):
                raise ConfigError(f"{where}: required field {f!r} (column {mapping.get(f, f)!r}) is empty")
        key = str(item["id"]) if item.get("id") is not None else f"row-{int(idx)}"
        if key in seen:
            raise ConfigError(f"{where}: id {key!r} repeats {seen[key]}; ids must be unique")
        seen[key] = where
        item["key"] = key
        items.append(item)
    return items


def _nested(row: Mapping[str, Any], col: str, where: str) -> Any:
    """`row[col]`, or for a dotted column not in the row ("answer.aliases") the nested value."""
    if col in row:
        return row[col]
    value: Any = row
    for part in col.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise ConfigError(f"{where}: nested field {col!r} not found (no {part!r})")
        value = value[part]
    return value


def make_template(template: str, fmt: str = "auto"):
    """A function `(row, where) -> str` rendering `template` with str.format or Jinja.

    `auto` picks Jinja when the template contains `{{` or `{%`. Jinja runs sandboxed with
    undefined variables as errors. A missing field names the dataset row.
    """
    if fmt == "auto":
        fmt = "jinja" if ("{{" in template or "{%" in template) else "format"
    if fmt == "jinja":
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        try:
            compiled = env.from_string(template)
        except jinja2.TemplateSyntaxError as e:
            raise ConfigError(f"config key `dataset.template`: Jinja syntax error: {e}") from None

        def render(row: Mapping[str, Any], where: str) -> str:
            try:
                return compiled.render(**row)
            except jinja2.UndefinedError as e:
                raise ConfigError(f"{where}: `dataset.template`: {e} (columns: {', '.join(row)})") from None

        return render
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    except ValueError as e:
        raise ConfigError(f"config key `dataset.template`: bad str.format template: {e}") from None
    if any(n == "" or n.isdigit() for n in names):
        raise ConfigError("config key `dataset.template`: use named fields like {question}, not {} or {0}")

    def render_format(row: Mapping[str, Any], where: str) -> str:
        try:
            return template.format_map(dict(row))
        except KeyError as e:
            raise ConfigError(f"{where}: `dataset.template` uses {e} but the row has only: {', '.join(row)}") from None

    return render_format
