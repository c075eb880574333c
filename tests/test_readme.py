"""The README's CLI reference is the argparse help of each command, as generated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_in_readme_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_cli_reference.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
