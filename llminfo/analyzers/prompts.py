"""The prompt for this model: a chat prompt for models with a chat template, plain text for base models.

Instruction-tuned models get the user turn through their chat template (`model.chat`). Base
models have no template (their `chat` raises); they get a plain-text prompt instead — for
questions, the few-shot prompt the semantic-entropy papers used with base models (Kuhn et al.,
ICLR 2023; Farquhar et al., Nature 2024, code `semantic_uncertainty/uncertainty/utils/utils.py`):
"Answer the following question as briefly as possible.", five `Question: …\\nAnswer: …` pairs,
then `Question: <question>\\nAnswer:`. The papers drew the five examples from the dataset's
training split; llminfo ships fixed ones that are not in its datasets (a test checks this).

Analyzers and eval tasks call `question_prompt` (short answers) or `instruction_prompt`
(anything else) instead of `model.chat`, so every method works on both kinds of model.

Example:
    >>> from llminfo import load_model
    >>> from llminfo.analyzers.prompts import question_prompt
    >>> p = question_prompt(load_model("gemma3-270m"), "What is the capital of France?")
    >>> p.splitlines()[-2:]
    ['Question: What is the capital of France?', 'Answer:']
"""

from __future__ import annotations

from typing import Any

# Farquhar et al.'s brief prompt for base models ('default' in their BRIEF_PROMPTS).
BRIEF_INSTRUCTION = "Answer the following question as briefly as possible."
# Five examples, as the papers' default `num_few_shot=5`; none is in llminfo's shipped datasets.
FEW_SHOT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Which metal is liquid at room temperature?", "Mercury"),
    ("What is the freezing point of water in degrees Fahrenheit?", "32"),
    ("Who painted The Starry Night?", "Vincent van Gogh"),
    ("In which country is the city of Marrakesh?", "Morocco"),
    ("How many rings are on the Olympic flag?", "Five"),
)


def has_chat_template(model: Any) -> bool:
    """Whether `model` formats prompts with a chat template (False for base models).

    A Hugging Face tokenizer says so (`chat_template` None on base models); a model without
    one (a remote server, a test double) formats chats itself: True.
    """
    tok = getattr(model, "tokenizer", None)
    if tok is None or not hasattr(tok, "chat_template"):
        return True
    return bool(tok.chat_template)


def answer_prefix(model: Any) -> str:
    """What separates a short answer from its prompt when the answer is teacher-forced.

    A chat prompt ends at the start of the assistant turn, where the reply begins: "". The
    base-model prompt ends in "Answer:" and the few-shot examples put a space before each answer,
    so the model writes " Paris" (one token, "▁Paris" / "ĠParis"), and that is what it
    generates; scoring "Paris" glued to "Answer:" would read the likelihood of a spelling the
    model never produces. So the continuation gets a leading space, as lm-evaluation-harness's
    `target_delimiter`, and teacher-forced scores equal the generated tokens' log-probabilities.
    """
    return "" if has_chat_template(model) else " "


def question_prompt(
    model: Any,
    question: str,
    context: str | None = None,
    instruction: str | None = None,
) -> str:
    """The short-answer prompt for `model`: its chat template if it has one, else few-shot plain text.

    Args:
        model: a `LanguageModel` (its tokenizer tells whether it has a chat template).
        question: the question.
        context (`str`, *optional*): evidence, shown as `Context: …` before the question.
        instruction (`str`, *optional*): first line of the chat user turn (default: the
            short-answer instruction of `llminfo.analyzers.base`). Base models get the papers'
            brief instruction and the few-shot examples instead.

    Example:
        >>> question_prompt(model, "What is the capital of France?")  # doctest: +SKIP
    """
    if has_chat_template(model):
        if instruction is None:
            from llminfo.analyzers.base import SHORT_ANSWER_INSTRUCTION

            instruction = SHORT_ANSWER_INSTRUCTION
        body = f"{instruction}\n\n"
        if context:
            body += f"Context: {context}\n\n"
        return model.chat(body + f"Question: {question}")
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in FEW_SHOT_EXAMPLES)
    ctx = f"Context: {context}\n" if context else ""
    return f"{BRIEF_INSTRUCTION}\n{shots}{ctx}Question: {question}\nAnswer:"


def instruction_prompt(model: Any, body: str, cue: str = "Answer:") -> str:
    """`body` as the user turn of `model`'s chat template, or, for a base model, `body` then `cue`.

    Args:
        model: a `LanguageModel`.
        body: the instruction / question text.
        cue (`str`, defaults to `"Answer:"`): the line a base model continues after.
    """
    if has_chat_template(model):
        return model.chat(body)
    return f"{body}\n{cue}"
