"""Every name the packages re-export resolves (lazy exports cannot silently rot)."""

import importlib

import pytest


@pytest.mark.parametrize("module", ["llminfo", "llminfo.models", "llminfo.analyzers", "llminfo.processors"])
def test_exports_resolve(module):
    mod = importlib.import_module(module)
    for name in mod.__all__:
        if module == "llminfo.models" and name == "VLLMModel":
            pytest.importorskip("vllm")
        assert getattr(mod, name) is not None, f"{module}.{name}"
