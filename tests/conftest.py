from __future__ import annotations

import os
import sys

import pytest
import torch

# One thread is steadier than two on a shared 2-core machine.
torch.set_num_threads(int(os.environ.get("LLMINFO_TEST_THREADS", "1")))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="session")
def tiny_model():
    from tiny import tiny_hf_model

    return tiny_hf_model(0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """`tiny_llama(0)` saved as a model folder: what `--model PATH` and `load_model(PATH)` read."""
    from tiny import tiny_llama

    model, tok = tiny_llama(0)
    path = tmp_path_factory.mktemp("tiny_model")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def default_model():
    """The embedded SmolLM2-135M-Instruct on the HF backend (one load per session)."""
    from llminfo.models import load_model

    return load_model("default")


@pytest.fixture(scope="session")
def vllm_model():
    """The embedded default model on the vLLM backend: ONE engine per test session.

    Skips when vLLM is not installed. Other tests reach the raw engine as `vllm_model.llm`.
    """
    pytest.importorskip("vllm")
    from llminfo.models import load_model

    return load_model("default", backend="vllm")
