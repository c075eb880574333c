"""Why a row stopped thinking: the halting reason codes and their names.

Torch-free, so the analyzers name the reasons (`llminfo.analyzers.adaptive_think`,
`llminfo.analyzers.halting_entropy`) without importing the tensor core. The core
(`llminfo.processors.halting_core`) keeps a code per row; `HaltingRecord.reason` carries
its name.

Example:

    >>> from llminfo.processors.halting_reasons import REASON_BUDGET, REASONS, BUDGET
    >>> REASONS[REASON_BUDGET] == BUDGET == "budget"
    True
"""

from __future__ import annotations

# The name of each code, in code order.
REASONS = ("thinking", "entropy", "budget", "closed", "eos", "not_started")
# Codes (the per-row state of the core).
REASON_THINKING, REASON_ENTROPY, REASON_BUDGET, REASON_CLOSED, REASON_EOS, REASON_NOT_STARTED = range(len(REASONS))
# Names: still thinking when generation stopped; the window mean of the entropy fell below the
# threshold; hit `max_thinking_tokens`; the model wrote the closing marker itself; the row ended
# while thinking; the opening marker never appeared.
STILL_THINKING, ENTROPY, BUDGET, CLOSED, EOS, NOT_STARTED = REASONS
