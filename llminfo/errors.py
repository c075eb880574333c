"""llminfo's own error type for mistakes a user can fix (a bad argument, file, row or config key).

The CLI prints a `UserError` as one line and exits with code 2; any other exception is a
bug and keeps its traceback. It subclasses `ValueError`, so library callers that catch
`ValueError` keep working.

Example:
    >>> from llminfo.errors import UserError
    >>> raise UserError("--batch-size has to be >= 1, got 0")
    Traceback (most recent call last):
    ...
    llminfo.errors.UserError: --batch-size has to be >= 1, got 0
"""

from __future__ import annotations

__all__ = ["UserError", "InputFileNotFound"]


class UserError(ValueError):
    """An error the user can fix; the message names the argument, file, line or config key."""


class InputFileNotFound(UserError, FileNotFoundError):
    """A file the user named does not exist (also a `FileNotFoundError` for library callers)."""
