"""Result files that survive crashes, reruns and second writers.

- `check_output_file` / `check_output_dir`: an output path is usable (not a directory where a
  file is needed, no parent that is a file) — checked before any model loads.
- `atomic_write_text`: write a temporary file in the same folder, then `os.replace` it over
  the target, so a failed rerun never leaves an emptied or half-written file.
- `exclusive_output`: an exclusive lock (`filelock`, a `PATH.lock` file next to the output)
  held while a command appends to a results file; a second writer gets a clear error
  instead of writing every row twice.
- `jsonl_lines`: the non-blank lines of a JSONL file, decoded one by one, so one line of
  invalid UTF-8 is reported by number and the others are kept; a UTF-8 BOM is accepted.

Example:
    >>> from llminfo.fileio import atomic_write_text, exclusive_output
    >>> with exclusive_output("out.jsonl", flag="--output"):  # doctest: +SKIP
    ...     atomic_write_text("summary.json", "{}")
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from llminfo.errors import UserError

__all__ = ["check_output_file", "check_output_dir", "atomic_write_text", "atomic_write_bytes", "exclusive_output", "jsonl_lines", "same_file"]

_BOM = b"\xef\xbb\xbf"


def _check_parents(path: Path, flag: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"{flag} {str(path)!r}: {str(parent)!r} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise UserError(f"{flag} {str(path)!r}: folder {str(parent)!r} is not writable")
            return


def check_output_file(path: str | os.PathLike, flag: str = "--output") -> Path:
    """`path` can be written as a file: it is not a folder and no existing parent is a file.

    Raises:
        UserError: naming `flag` and the offending path.
    """
    p = Path(path).expanduser()
    if str(path).endswith(os.sep) or p.is_dir():
        raise UserError(f"{flag} {str(path)!r} is a folder; give a file name")
    if p.exists() and not p.is_file():
        raise UserError(f"{flag} {str(path)!r} is not a regular file")
    if p.exists() and not os.access(p, os.W_OK):
        raise UserError(f"{flag} {str(path)!r} is not writable")
    _check_parents(p, flag)
    return p


def check_output_dir(path: str | os.PathLike, flag: str = "--output") -> Path:
    """`path` can be used as an output folder: it is not a file and no existing parent is a file."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise UserError(f"{flag} {str(path)!r} is a file; give a folder")
    if p.exists() and not os.access(p, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {str(path)!r} is not writable")
    _check_parents(p, flag)
    return p


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when `a` and `b` name one file (resolved paths, hard links included)."""
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` all at once: a temporary file in the same folder, fsync, `os.replace`."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` all at once (see `atomic_write_text`)."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def exclusive_output(path: str | os.PathLike, flag: str = "--output") -> Iterator[None]:
    """Hold an exclusive lock on `PATH.lock` while writing `path`; a second writer gets a UserError.

    The lock is an OS file lock (released by the kernel when the process dies, so a killed
    run never leaves a stale lock); the empty `.lock` file may stay behind and is harmless.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(f"{path}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UserError(
            f"{flag} {str(path)!r} is being written by another llminfo process (lock {path}.lock); "
            "wait for it to finish or choose another output"
        ) from None
    try:
        yield
    finally:
        lock.release()


def read_json_file(path: str | os.PathLike, what: str) -> Any:
    """The JSON object in `path`; a missing file is `InputFileNotFound` and a directory or
    invalid JSON / UTF-8 a `UserError`, both naming `what` and the path."""
    import json

    from llminfo.errors import InputFileNotFound

    path = Path(path)
    if not path.is_file():
        raise (InputFileNotFound if not path.exists() else UserError)(
            f"{what} file not found: {path}" if not path.exists() else f"{what} {path} is not a file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: invalid JSON ({e})") from None


def jsonl_lines(path: str | os.PathLike) -> Iterator[tuple[int, str | UnicodeDecodeError]]:
    """(line number, text) for each non-blank line; text is the `UnicodeDecodeError` of a line
    that is not valid UTF-8 (the caller reports or skips it). A leading UTF-8 BOM is dropped."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if n == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield n, e
                continue
            if line.strip():
                yield n, line


def describe_decode_error(e: UnicodeDecodeError) -> str:
    """'invalid UTF-8 (byte 0xff at column 12)' for an error message."""
    return f"invalid UTF-8 (byte 0x{e.object[e.start]:02x} at column {e.start + 1}); re-save the file as UTF-8"
