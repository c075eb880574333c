"""Regenerate the README's "CLI reference" section from the argparse help of each command.

    python scripts/make_cli_reference.py          # rewrite README.md in place
    python scripts/make_cli_reference.py --check  # exit 1 if README.md is out of date (a test runs this)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = "## CLI reference\n"
END = "\n## Layout\n"
INTRO = ("All commands take `--help`, which ends with examples. Errors a user can fix print one line and exit\n"
         "with code 2; any other error is a bug and keeps its traceback.\n")


def reference() -> str:
    """The section's text: one `--help` block per subcommand, wrapped at 80 columns."""
    os.environ["COLUMNS"] = "80"  # argparse wraps to the terminal width
    sys.path.insert(0, str(ROOT))
    from llminfo.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = [START, "\n", INTRO]
    for name, p in sub.choices.items():
        parts.append(f"\n#### `llminfo {name}`\n\n```\n{p.format_help().rstrip()}\n```\n")
    return "".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when README.md differs")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    a, b = text.index(START), text.index(END)
    new = text[:a] + reference() + text[b:]
    if args.check:
        if new != text:
            print("README.md's CLI reference is out of date: run python scripts/make_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
