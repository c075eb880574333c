"""`llminfo` command line. Thin: parses arguments, then calls models/, analyzers/ or eval/.

Each subcommand has an `_add_<name>(subparsers)` that declares it and a `_cmd_<name>(args)`
that runs it. Errors a user can fix (bad argument, bad file) exit with code 2 and one line.
"""

from __future__ import annotations

import argparse
import sys


class UserError(Exception):
    """An error the user can fix: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llminfo",
        description="Information theory for language-model inference.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Subcommands register themselves here, one line each.
    return parser


def _version() -> str:
    from llminfo import __version__

    return f"llminfo {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, TypeError, FileNotFoundError) as e:
        print(f"llminfo {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"llminfo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
