"""The README runs top to bottom: every ```python block, in order, in one fresh interpreter
(blocks share names, as a reader's session would). Blocks that use vLLM run on their own as a
script (`__main__`), and only where vLLM is installed. The example files the tour names exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks() -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block of the README."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        out.append((text[: m.start()].count("\n") + 2, m.group(1)))
    return out


def _uses_vllm(code: str) -> bool:
    return re.search(r"^\s*(from|import) vllm\b", code, flags=re.M) is not None


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), VLLM_CPU_KVCACHE_SPACE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run(script: str, tmp_path: Path, timeout: int) -> subprocess.CompletedProcess:
    path = tmp_path / "readme_blocks.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(path)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def test_readme_has_the_blocks_the_tour_describes():
    blocks = python_blocks()
    assert len(blocks) >= 5
    assert sum(_uses_vllm(code) for _, code in blocks) >= 1
    for _, code in blocks:
        if _uses_vllm(code):  # vLLM starts worker processes: the block must be a script
            assert 'if __name__ == "__main__":' in code


def test_example_files_of_the_tour_exist_and_parse():
    text = README.read_text(encoding="utf-8")
    for name, needed in (("questions.jsonl", "question"), ("labelled.jsonl", "question")):
        assert f"examples/{name}" in text
        rows = [json.loads(line) for line in (ROOT / "examples" / name).read_text(encoding="utf-8").splitlines()]
        assert rows and all(needed in r for r in rows)
    from llminfo.analyzers.score_file import check_labelled

    for i, line in enumerate((ROOT / "examples" / "labelled.jsonl").read_text(encoding="utf-8").splitlines()):
        check_labelled(json.loads(line), f"labelled.jsonl line {i + 1}")


@pytest.mark.integration
def test_readme_python_blocks_run_in_order(tmp_path):
    """Every non-vLLM block, in order, in one interpreter (the embedded default model)."""
    blocks = [(line, code) for line, code in python_blocks() if not _uses_vllm(code)]
    parts = ["import sys", "ns = {'__name__': '__main__'}"]
    for line, code in blocks:
        parts.append(f"print('--- README.md line {line}', flush=True)")
        parts.append(f"exec(compile({code!r}, 'README.md:{line}', 'exec'), ns)")
    r = _run("\n".join(parts) + "\n", tmp_path, timeout=900)
    assert r.returncode == 0, f"{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    assert r.stdout.count("--- README.md line") == len(blocks)


@pytest.mark.integration
@pytest.mark.vllm
def test_readme_vllm_blocks_run_as_scripts(tmp_path):
    pytest.importorskip("vllm")
    for line, code in python_blocks():
        if not _uses_vllm(code):
            continue
        r = _run(textwrap.dedent(code), tmp_path, timeout=600)
        assert r.returncode == 0, f"README.md line {line}:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
        assert r.stdout.strip(), f"README.md line {line} printed nothing"
