"""The formulas and the numpy-only modules import without torch (a fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["llminfo", "llminfo.measures", "llminfo.eval.metrics", "llminfo.analyzers.calibration", "llminfo.analyzers.scorer", "llminfo.eval",
     "llminfo.processors.halting_reasons", "llminfo.analyzers.adaptive_think", "llminfo.analyzers.halting_entropy"],
)
def test_module_does_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", f"import {module} imported torch"


def test_torch_functions_of_measures_still_work_after_a_lazy_import():
    code = (
        "import sys, llminfo.measures as m; assert 'torch' not in sys.modules; import torch; "
        "print(round(float(m.entropy_from_logits(torch.zeros(4))), 6), m.typical_mask(torch.zeros(1, 3), 0.5).tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split(" ", 1)[0] == "1.386294"  # ln 4
    assert "[[True, True, True]]" in out  # uniform: every token equally typical, ties kept


def test_old_private_names_of_the_typical_engine_still_resolve():
    from llminfo import measures
    from llminfo.processors import typical_core

    from llminfo.measures import _typical_filter_fast  # noqa: F401  (from-import works too)

    for old, new in measures._MOVED_TO_TYPICAL_CORE.items():
        assert getattr(measures, old) is getattr(typical_core, new)
