"""The semantic-entropy reference's labelled few-shot prefix for p(True) (`PTrue(few_shot=[...])`).

Farquhar et al. (Nature 2024) run the p(True) baseline (Kadavath et al. 2022) with 20 labelled
examples from the training split in front of every test question; their code builds that
prefix in `construct_few_shot_prompt` (jlko/semantic_uncertainty). This module builds the same
text from examples the caller supplies (question, brainstormed answers, most likely answer,
its correctness label) and validates them.

Example:
    >>> from llminfo.analyzers.p_true_few_shot import p_true_few_shot_prompt
    >>> prefix, kept = p_true_few_shot_prompt([{"question": "2+2?", "answers": ["4"], "answer": "4", "correct": True}])
    >>> prefix.endswith("The possible answer is: A"), kept
    (True, 1)
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from llminfo.analyzers.base import ANSWER_MAX_NEW_TOKENS

# Fields of one labelled few-shot example (`PTrue(few_shot=[...])`).
FEW_SHOT_FIELDS = ("question", "answers", "answer", "correct")
# Tokens the reference keeps free for the test question and its "Possible answer" (`construct_few_shot_prompt`).
P_TRUE_QUESTION_BUFFER = 200


def check_few_shot_examples(examples: Any, arg: str = "few_shot") -> list[dict[str, Any]]:
    """Validate labelled p(True) few-shot examples; errors name `arg[i]` and the field."""
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Sequence):
        raise TypeError(f"`{arg}` has to be a string or a list of examples, got {type(examples).__name__}")
    out = []
    for i, ex in enumerate(examples):
        where = f"{arg}[{i}]"
        if not isinstance(ex, Mapping):
            raise TypeError(f"`{where}` has to be a dict with keys {FEW_SHOT_FIELDS}, got {type(ex).__name__}")
        missing = [k for k in FEW_SHOT_FIELDS if k not in ex]
        extra = sorted(str(k) for k in ex if k not in FEW_SHOT_FIELDS)
        if missing or extra:
            raise ValueError(f"`{where}` needs exactly the keys {FEW_SHOT_FIELDS}: missing {missing}, unknown {extra}")
        if not isinstance(ex["question"], str) or not ex["question"].strip():
            raise ValueError(f"`{where}[\"question\"]` has to be a non-empty string, got {ex['question']!r}")
        if not isinstance(ex["answer"], str):
            raise ValueError(f"`{where}[\"answer\"]` (the most likely answer) has to be a string, got {ex['answer']!r}")
        answers = ex["answers"]
        if isinstance(answers, str) or not isinstance(answers, Sequence) or not all(isinstance(a, str) for a in answers):
            raise ValueError(f"`{where}[\"answers\"]` (the brainstormed answers) has to be a list of strings, got {answers!r}")
        if not isinstance(ex["correct"], (bool, np.bool_)):
            raise ValueError(f"`{where}[\"correct\"]` has to be True or False, got {ex['correct']!r}")
        out.append({"question": ex["question"], "answers": list(answers), "answer": ex["answer"], "correct": bool(ex["correct"])})
    return out


def p_true_few_shot_prompt(
    examples: Sequence[Mapping[str, Any]],
    num_tokens: Callable[[str], int] | None = None,
    token_limit: int | None = None,
    num_generations: int = 10,
    max_new_tokens: int = ANSWER_MAX_NEW_TOKENS,
) -> tuple[str, int]:
    r"""The semantic-entropy reference's labelled p(True) few-shot prefix.

    jlko/semantic_uncertainty, `uncertainty/uncertainty_measures/p_true.py`,
    `construct_few_shot_prompt` (lines 5-69, commit a8d9aa8; called in
    `generate_answers.py` lines 96-103 with `p_true_num_fewshot=20` examples drawn at random from the
    training split): each example is "Question: q\nBrainstormed Answers: " then the most likely
    answer and the brainstormed answers, each stripped and followed by " \n" (space, newline:
    the reference's few-shot format, unlike its test prompt's "\n"), "Possible answer: a\n",
    "Is the possible answer:\nA) True\nB) False\nThe possible answer is:" and the label,
    " A" when the example's answer is correct else " B"; examples are joined by "\n". The
    reference stops adding examples at the first one that would make
    `num_tokens(prefix) + num_generations * max_new_tokens + 200` reach `token_limit` (its
    model's context); no limit when `num_tokens` or `token_limit` is None.

    Args:
        examples: dicts with "question", "answers" (brainstormed, without the most likely
            one), "answer" (most likely) and "correct" (bool); see `check_few_shot_examples`.
        num_tokens: counts a text's tokens (the reference: `len(tokenizer.encode(text))`).
        token_limit: the context the prompt has to fit.
        num_generations, max_new_tokens: brainstormed answers per test question and their
            length limit (the room kept for the test question).

    Returns:
        (prefix, number of examples kept).

    Example:
        >>> p_true_few_shot_prompt([{"question": "2+2?", "answers": ["4", "5"], "answer": "4", "correct": True}])[0]
        'Question: 2+2?\nBrainstormed Answers: 4 \n4 \n5 \nPossible answer: 4\nIs the possible answer:\nA) True\nB) False\nThe possible answer is: A'
    """
    pieces: list[str] = []
    kept = 0
    for i, ex in enumerate(check_few_shot_examples(examples, "examples")):
        cand = ["\n"] if i else []
        cand += ["Question: " + ex["question"], "\nBrainstormed Answers: "]
        cand += [f"{r.strip()} \n" for r in [ex["answer"]] + ex["answers"]]
        cand += ["Possible answer: " + ex["answer"] + "\n", "Is the possible answer:\n", "A) True\n", "B) False\n",
                 "The possible answer is:", " A" if ex["correct"] else " B"]
        if num_tokens is not None and token_limit is not None:
            if num_tokens("".join(pieces + cand)) + num_generations * max_new_tokens + P_TRUE_QUESTION_BUFFER >= token_limit:
                break
        pieces += cand
        kept += 1
    return "".join(pieces), kept
