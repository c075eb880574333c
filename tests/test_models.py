"""Model layer: HFModel against direct forward passes on a tiny random Llama."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llminfo import measures
from llminfo.models.base import Completion
from llminfo.models.loading import load_model
from llminfo.models.tokenized import TokenizedLM

PROMPTS = ["The quick brown", "What is the capital of France?", "One two"]
CONTS = [" fox jumps over", " The capital is Paris.", " three four five"]


def direct_logprobs(m, prompt: str, cont: str) -> tuple[list[float], list[float]]:
    """Reference: one plain forward over prompt+continuation, no padding, no cache."""
    p_ids = m.encode_prompt(prompt)
    c_ids = m.tokenizer(cont, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p_ids + c_ids])
    with torch.no_grad():
        logp = m.model(ids).logits[0].log_softmax(-1)
    rows = logp[len(p_ids) - 1 : len(p_ids) + len(c_ids) - 1]
    lp = rows.gather(1, torch.tensor(c_ids)[:, None])[:, 0]
    ent = -(rows.exp() * rows).sum(-1)
    return lp.tolist(), ent.tolist()


def assert_scores_match_direct(m, scored, prompts: list[str], conts: list[str], atol: float = 1e-5) -> None:
    """`scored[k]` has the log-probs and entropies of `direct_logprobs(m, prompts[k], conts[k])`."""
    assert len(scored) == len(prompts) == len(conts)
    for s, p, c in zip(scored, prompts, conts):
        ref_lp, ref_ent = direct_logprobs(m, p, c)
        np.testing.assert_allclose(s.logprobs, ref_lp, atol=atol)
        np.testing.assert_allclose(s.entropy, ref_ent, atol=atol)


def test_score_matches_direct_forward(tiny_model):
    assert_scores_match_direct(tiny_model, tiny_model.score(PROMPTS, CONTS), PROMPTS, CONTS)


def test_score_batched_equals_one_by_one(tiny_model):
    batched = tiny_model.score(PROMPTS, CONTS)
    for s, p, c in zip(batched, PROMPTS, CONTS):
        [one] = tiny_model.score([p], [c])
        assert one.token_ids == s.token_ids
        np.testing.assert_allclose(one.logprobs, s.logprobs, atol=1e-5)


def test_shared_prompt_path_equals_plain_path(tiny_model):
    prompt = "What is the capital of France?"
    conts = [" Paris.", " The capital is Paris, of course.", " Lyon", " one two three four five six"]
    prompts = [prompt] * len(conts)
    assert_scores_match_direct(tiny_model, tiny_model.score(prompts, conts), prompts, conts)


def test_shared_prompt_encodes_prompt_once(tiny_model, monkeypatch):
    calls = []
    orig = tiny_model.model.forward

    def counting(*a, **kw):
        ids = kw.get("input_ids")
        calls.append(tuple(ids.shape))
        return orig(*a, **kw)

    monkeypatch.setattr(tiny_model.model, "forward", counting)
    prompt = "The quick brown fox jumps over the lazy dog."
    tiny_model.score([prompt] * 5, [" one", " two three", " four", " five six", " seven"])
    p_len = len(tiny_model.encode_prompt(prompt))
    prompt_forwards = [s for s in calls if s[1] >= p_len]
    assert len(prompt_forwards) == 1, calls


def test_next_token_logprobs_matches_score(tiny_model):
    cands = [" fox", " dog", " jumps over"]
    got = tiny_model.next_token_logprobs(PROMPTS[:2], cands)
    assert got.shape == (2, 3)
    for i, p in enumerate(PROMPTS[:2]):
        for j, c in enumerate(cands):
            ref, _ = direct_logprobs(tiny_model, p, c)
            assert got[i, j] == pytest.approx(sum(ref), abs=1e-4)


def test_next_token_logprobs_single_token_fast_path(tiny_model):
    cands = [" A", " B"]
    assert all(len(tiny_model.tokenizer(c, add_special_tokens=False)["input_ids"]) == 1 for c in cands)
    got = tiny_model.next_token_logprobs(PROMPTS, cands)
    for i, p in enumerate(PROMPTS):
        for j, c in enumerate(cands):
            ref, _ = direct_logprobs(tiny_model, p, c)
            assert got[i, j] == pytest.approx(ref[0], abs=1e-5)


@pytest.mark.parametrize("share", [True, False])
def test_next_token_logprobs_single_token_reuses_prompts_and_prefixes(tiny_model, monkeypatch, share):
    # EDFL's case: repeated prompts (skeletons equal to the full prompt) and a shared prefix.
    monkeypatch.setattr(tiny_model, "share_prefixes", share)
    head = "Question: what is the capital of France? Decide whether you can answer it."
    prompts = [head + " Reply:", head + " Reply:", head + " Answer now:", PROMPTS[0], head + " Reply:"]
    cands = [" A", " B", " yes"]
    rows = []
    orig = tiny_model.model.forward

    def counting(*a, **kw):
        rows.append(int(kw["input_ids"].shape[0]))
        return orig(*a, **kw)

    monkeypatch.setattr(tiny_model.model, "forward", counting)
    got = tiny_model.next_token_logprobs(prompts, cands)
    monkeypatch.setattr(tiny_model.model, "forward", orig)
    assert got.shape == (5, 3)
    for i, p in enumerate(prompts):
        for j, c in enumerate(cands):
            ref, _ = direct_logprobs(tiny_model, p, c)  # a plain forward over prompt + candidate
            assert got[i, j] == pytest.approx(ref[0], abs=1e-5)
    # Three distinct prompts: no forward carries a row per repeated prompt, and no candidate forward.
    # Sharing: the head once (1 row), its two prompts' own tokens (2 rows), the lone prompt (1 row).
    assert rows == ([1, 2, 1] if share else [3]), rows


def test_generate_entropy_and_logprobs_match_separate_forward(tiny_model):
    [[c]] = tiny_model.generate([PROMPTS[0]], max_new_tokens=8, seed=3)
    p_ids = tiny_model.encode_prompt(PROMPTS[0])
    ids = torch.tensor([p_ids + c.token_ids])
    with torch.no_grad():
        logits = tiny_model.model(ids).logits[0, len(p_ids) - 1 : -1]
    ref_ent = measures.entropy_from_logits(logits)
    ref_lp = logits.log_softmax(-1).gather(1, torch.tensor(c.token_ids)[:, None])[:, 0]
    np.testing.assert_allclose(c.entropy, ref_ent.tolist(), atol=1e-5)
    np.testing.assert_allclose(c.model_logprobs, ref_lp.tolist(), atol=1e-5)
    # temperature 1, no warpers: processed logprobs are the model's
    np.testing.assert_allclose(c.logprobs, ref_lp.tolist(), atol=1e-5)


def test_generate_seeded_repeats_and_samples_differ(tiny_model):
    a = tiny_model.generate(PROMPTS[:2], n=4, max_new_tokens=12, seed=7)
    b = tiny_model.generate(PROMPTS[:2], n=4, max_new_tokens=12, seed=7)
    assert [[c.token_ids for c in row] for row in a] == [[c.token_ids for c in row] for row in b]
    assert len({tuple(c.token_ids) for c in a[0]}) > 1


def test_generate_batched_equals_one_at_a_time(tiny_model):
    batched = tiny_model.generate(PROMPTS, n=3, max_new_tokens=10, seed=11)
    for i, p in enumerate(PROMPTS):
        alone = tiny_model.generate([p], n=3, max_new_tokens=10, seed=11)[0]
        assert [c.token_ids for c in alone] == [c.token_ids for c in batched[i]]
        np.testing.assert_allclose(alone[0].entropy, batched[i][0].entropy, atol=1e-5)


FEW_SHOT = ("Answer briefly. Question: What is the capital of Italy? Answer: Rome. Question: What is two plus "
            "two? Answer: four. Question: ")
TEMPLATE_B = "Reply with one word only, please, to each of the questions that follow below here. Q: "


def _direct_greedy(hf, prompt, k):
    """Greedy continuation and its per-token log-probs from plain full forward passes."""
    ids, lps = hf.encode_prompt(prompt), []
    for _ in range(k):
        with torch.no_grad():
            lp = hf.model(torch.tensor([ids])).logits[0, -1].double().log_softmax(-1)
        t = int(lp.argmax())
        ids, lps = ids + [t], lps + [float(lp[t])]
    return ids[-k:], lps


@pytest.mark.parametrize("prompts, groups", [
    ([FEW_SHOT + q for q in ("Who wrote Hamlet?", "What is 3 + 4?", "Name a colour that is often used for the sky?")], 1),
    ([t + q for t in (FEW_SHOT, TEMPLATE_B) for q in ("Who wrote Hamlet?", "Name a big cat?")], 2),  # two templates
])
def test_generate_encodes_a_shared_prefix_once_and_matches_each_prompt_alone(tiny_model, prompts, groups):
    assert tiny_model._shared_prefix_len([tiny_model.encode_prompt(p) for p in prompts[:2]]) >= 16
    before = tiny_model.shared_prefix_prefills
    greedy = tiny_model.generate(prompts, temperature=0, max_new_tokens=6)
    assert tiny_model.shared_prefix_prefills == before + groups  # one shared prefill per template
    for p, [c] in zip(prompts, greedy):
        ids, lps = _direct_greedy(tiny_model, p, len(c.token_ids))
        assert c.token_ids == ids
        np.testing.assert_allclose(c.model_logprobs, lps, atol=1e-5)
    # seeded samples: the same as each prompt alone (which shares nothing)
    sampled = tiny_model.generate(prompts, n=3, max_new_tokens=8, seed=5)
    alone = [tiny_model.generate([p], n=3, max_new_tokens=8, seed=5)[0] for p in prompts]
    assert [[c.token_ids for c in row] for row in sampled] == [[c.token_ids for c in row] for row in alone]
    for row, ref in zip(sampled, alone):
        np.testing.assert_allclose(row[0].entropy, ref[0].entropy, atol=1e-5)


def test_generate_shares_no_prefix_beyond_a_sliding_window(tiny_model, monkeypatch):
    prompts = [FEW_SHOT + "Who wrote Hamlet?", FEW_SHOT + "What is 3 + 4?"]
    monkeypatch.setattr(tiny_model.model.config, "sliding_window", 20, raising=False)
    before = tiny_model.shared_prefix_prefills
    tiny_model.generate(prompts, temperature=0, max_new_tokens=2)
    assert tiny_model.shared_prefix_prefills == before  # the prompts are longer than the window
    monkeypatch.setattr(tiny_model.model.config, "sliding_window", 4096, raising=False)
    tiny_model.generate(prompts, temperature=0, max_new_tokens=2)
    assert tiny_model.shared_prefix_prefills == before + 1


def test_generate_shares_no_prefix_with_processors_or_without_one(tiny_model):
    from llminfo.processors.typical import LocallyTypicalLogitsProcessor

    prompts = [FEW_SHOT + "Who wrote Hamlet?", FEW_SHOT + "What is 3 + 4?"]
    before = tiny_model.shared_prefix_prefills
    with_proc = tiny_model.generate(prompts, n=2, max_new_tokens=6, seed=1, processors=[LocallyTypicalLogitsProcessor(0.9)])
    tiny_model.generate(PROMPTS, temperature=0, max_new_tokens=4)  # no common prefix
    assert tiny_model.shared_prefix_prefills == before
    alone = [tiny_model.generate([p], n=2, max_new_tokens=6, seed=1, processors=[LocallyTypicalLogitsProcessor(0.9)])[0]
             for p in prompts]
    assert [[c.token_ids for c in row] for row in with_proc] == [[c.token_ids for c in row] for row in alone]


def test_generate_greedy_is_argmax(tiny_model):
    [[c]] = tiny_model.generate([PROMPTS[1]], temperature=0, max_new_tokens=6)
    ids = tiny_model.encode_prompt(PROMPTS[1])
    for t in c.token_ids:
        with torch.no_grad():
            nxt = int(tiny_model.model(torch.tensor([ids])).logits[0, -1].argmax())
        assert t == nxt
        ids = ids + [t]


def test_generate_temperature_changes_processed_logprobs_only(tiny_model):
    [[c]] = tiny_model.generate([PROMPTS[0]], max_new_tokens=5, temperature=0.5, seed=0)
    p_ids = tiny_model.encode_prompt(PROMPTS[0])
    with torch.no_grad():
        logits = tiny_model.model(torch.tensor([p_ids + c.token_ids])).logits[0, len(p_ids) - 1 : -1]
    idx = torch.tensor(c.token_ids)[:, None]
    np.testing.assert_allclose(c.logprobs, (logits / 0.5).log_softmax(-1).gather(1, idx)[:, 0].tolist(), atol=1e-4)
    np.testing.assert_allclose(c.model_logprobs, logits.log_softmax(-1).gather(1, idx)[:, 0].tolist(), atol=1e-5)


def test_generate_stop_string(tiny_model):
    outs = tiny_model.generate([PROMPTS[0]], n=6, max_new_tokens=30, seed=2)
    text = outs[0][0].text
    assert len(text) > 3
    stop = text[2:4]
    [[c]] = tiny_model.generate([PROMPTS[0]], n=1, max_new_tokens=30, seed=2, stop=[stop])
    assert stop not in c.text and c.finish_reason == "stop"
    assert text.startswith(c.text)


def test_user_processor_is_applied(tiny_model):
    banned = 100

    def ban(input_ids, scores):
        scores = scores.clone()
        scores[:, banned] = -float("inf")
        return scores

    outs = tiny_model.generate(PROMPTS, n=4, max_new_tokens=20, seed=0, processors=[ban])
    assert all(banned not in c.token_ids for row in outs for c in row)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"prompts": []}, "prompts"),
        ({"prompts": "a string"}, "prompts"),
        ({"n": 0}, "`n`"),
        ({"max_new_tokens": -1}, "max_new_tokens"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"typical_p": 1.5}, "typical_p"),
    ],
)
def test_generate_bad_input_names_argument(tiny_model, kwargs, name):
    args = {"prompts": ["hello"], **kwargs}
    prompts = args.pop("prompts")
    with pytest.raises((ValueError, TypeError), match=name):
        tiny_model.generate(prompts, **args)


def test_prompt_longer_than_context(tiny_model):
    long = "one two three " * 200
    with pytest.raises(ValueError, match=r"prompts\[0\].*context window"):
        tiny_model.generate([long], max_new_tokens=4)
    with pytest.raises(ValueError, match="context window"):
        tiny_model.score([long], [" x"])


def test_score_bad_input(tiny_model):
    with pytest.raises(ValueError, match="same length"):
        tiny_model.score(["a", "b"], ["c"])
    with pytest.raises(TypeError, match=r"continuations\[0\]"):
        tiny_model.score(["a"], [3])
    with pytest.raises(ValueError, match="candidates"):
        tiny_model.next_token_logprobs(["a"], [])


def test_unknown_model_path():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model("/nonexistent/model/folder")
    with pytest.raises(ValueError, match="backend"):
        load_model("default", backend="onnx")


def test_local_folder_loads(tmp_path, tiny_model):
    tiny_model.model.save_pretrained(tmp_path)
    tiny_model.tokenizer.save_pretrained(tmp_path)
    m = load_model(str(tmp_path))
    a = m.score(PROMPTS, CONTS)
    b = tiny_model.score(PROMPTS, CONTS)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.logprobs, y.logprobs, atol=1e-5)
    assert m.describe().num_kv_heads == 2


@pytest.mark.integration
def test_default_model_answers_paris_offline(default_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    [[c]] = default_model.generate([default_model.chat("What is the capital of France?")], temperature=0, max_new_tokens=16)
    assert "Paris" in c.text
    info = default_model.describe()
    assert (info.vocab_size, info.num_layers, info.hidden_size, info.num_kv_heads) == (49152, 30, 576, 3)


@pytest.mark.integration
def test_default_model_score_matches_direct(default_model):
    prompts, conts = [default_model.chat("Name a colour.")], ["Blue is a colour."]
    assert_scores_match_direct(default_model, default_model.score(prompts, conts), prompts, conts, atol=1e-4)


def test_several_shared_prompts_in_one_batch(tiny_model):
    prompts = ["What is the capital of France?", "One two", "The quick brown"]
    pairs_p, pairs_c = [], []
    for p in prompts:
        for c in [" Paris is big.", " three", " fox jumps over the lazy dog", "."]:
            pairs_p.append(p)
            pairs_c.append(c)
    pairs_p.append("A lone prompt")
    pairs_c.append(" with its continuation")
    assert_scores_match_direct(tiny_model, tiny_model.score(pairs_p, pairs_c), pairs_p, pairs_c)


def test_score_without_entropy_gives_same_logprobs(tiny_model):
    pairs_p = PROMPTS + [PROMPTS[0], PROMPTS[0]]
    pairs_c = CONTS + [" a", " lazy dog"]
    for ps, cs in [(PROMPTS, CONTS), (pairs_p, pairs_c)]:  # plain path, then shared path
        full = tiny_model.score(ps, cs)
        fast = tiny_model.score(ps, cs, entropy=False)
        for a, b in zip(full, fast):
            np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)
            assert b.entropy == [] and a.token_ids == b.token_ids


def test_user_processors_see_raw_logits_before_temperature(tiny_model):
    seen = []

    def spy(input_ids, scores):
        seen.append(scores[0].clone())
        return scores

    [[c]] = tiny_model.generate([PROMPTS[0]], max_new_tokens=1, temperature=0.5, seed=0, processors=[spy])
    with torch.no_grad():
        raw = tiny_model.model(torch.tensor([tiny_model.encode_prompt(PROMPTS[0])])).logits[0, -1]
    torch.testing.assert_close(seen[0], raw, atol=1e-5, rtol=1e-5)


# -- TokenizedLM._generate: what the OpenAI and vLLM backends share before they sample -------


class _RecordingLM(TokenizedLM):
    """A `TokenizedLM` with no engine: `_sample` records what it is given."""

    name, backend = "recording", "none"

    def __init__(self, max_context: int = 64):
        from tiny import tiny_tokenizer

        self._tokenizer = tiny_tokenizer()
        self.max_context = max_context
        self.calls: list[tuple[list[list[int]], dict]] = []

    def _sample(self, encoded, **kw):
        self.calls.append((encoded, kw))
        return [[Completion("x", [7], [-1.0], [0.5], "stop", [-1.0]) for _ in range(kw["n"])] for _ in encoded]

    def score(self, prompts, continuations, *, entropy=True):
        raise NotImplementedError

    def describe(self):
        raise NotImplementedError


def test_tokenized_generate_encodes_then_samples():
    m = _RecordingLM()
    out = m.generate(PROMPTS, n=2, max_new_tokens=3, temperature=0.5, top_k=4, seed=9, stop="two")
    [(encoded, kw)] = m.calls
    assert encoded == [m.tokenizer(p)["input_ids"] for p in PROMPTS]
    assert kw == dict(n=2, max_new_tokens=3, temperature=0.5, top_p=1.0, top_k=4, typical_p=1.0,
                      seeds=[9, 9, 9], stop=["two"], processors=[])
    assert [[c.text for c in row] for row in out] == [["x", "x"]] * len(PROMPTS)


def test_tokenized_zero_new_tokens_samples_nothing(tiny_model):
    m = _RecordingLM()
    out = m.generate(PROMPTS, n=3, max_new_tokens=0)
    assert m.calls == []
    assert out == tiny_model.generate(PROMPTS, n=3, max_new_tokens=0)  # HFModel (a TokenizedLM too) alike
    assert [len(row) for row in out] == [3] * len(PROMPTS)
    assert all(c == Completion("", [], [], [], "length", []) for row in out for c in row)


def test_tokenized_generate_checks_the_context_before_sampling():
    m = _RecordingLM(max_context=8)
    with pytest.raises(ValueError, match=r"`prompts\[1\]` has \d+ tokens and `max_new_tokens` is 6"):
        m.generate(["One two", "The quick brown fox jumps over"], max_new_tokens=6)
    with pytest.raises(ValueError, match=r"`prompts\[0\]` has \d+ tokens: more than the model's context"):
        m.generate(["The quick brown fox jumps over the lazy dog."], max_new_tokens=0)
    assert m.calls == []


def test_tokenized_backend_without_sampling_says_so():
    class NoSampling(_RecordingLM):
        _sample = TokenizedLM._sample

    with pytest.raises(NotImplementedError, match="NoSampling implements neither `_generate` nor `_sample`"):
        NoSampling().generate(["One two"], max_new_tokens=1)


# -- decode loop: seeded sampling, compaction, static cache --------------------------------


def _first_token_logits(m, prompt: str) -> torch.Tensor:
    with torch.no_grad():
        return m.model(torch.tensor([m.encode_prompt(prompt)])).logits[0, -1].double()


def _chi_square_p(counts: np.ndarray, probs: np.ndarray) -> float:
    """Pearson chi-square p-value, categories with expected count < 5 pooled into one."""
    from scipy import stats

    expected = probs * counts.sum()
    big = expected >= 5
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue)


@pytest.mark.parametrize("kwargs", [{}, {"temperature": 0.5, "top_k": 20}])
def test_seeded_samples_follow_the_softmax(tiny_model, kwargs):
    """Chi-square of 6000 seeded first tokens against the (processed) softmax of the model."""
    prompt = PROMPTS[0]
    rows = tiny_model.generate([prompt], n=6000, max_new_tokens=1, seed=123, **kwargs)[0]
    logits = _first_token_logits(tiny_model, prompt) / kwargs.get("temperature", 1.0)
    if "top_k" in kwargs:
        kth = logits.topk(kwargs["top_k"]).values[-1]
        logits = logits.masked_fill(logits < kth, -float("inf"))
    probs = torch.softmax(logits, -1).numpy()
    counts = np.bincount([c.token_ids[0] for c in rows], minlength=len(probs))
    assert counts[probs == 0].sum() == 0  # never a filtered token
    assert _chi_square_p(counts, probs) > 1e-3
    # and a wrong reference is rejected: the distribution at temperature 1 vs 2
    wrong = torch.softmax(logits / 2, -1).numpy()
    assert _chi_square_p(counts, wrong) < 1e-6


def test_sample_j_does_not_depend_on_n_or_other_prompts(tiny_model):
    small = tiny_model.generate([PROMPTS[1]], n=2, max_new_tokens=8, seed=5)[0]
    big = tiny_model.generate([PROMPTS[0], PROMPTS[1]], n=5, max_new_tokens=8, seed=5)[1]
    assert [c.token_ids for c in small] == [c.token_ids for c in big[:2]]
    other_seed = tiny_model.generate([PROMPTS[1]], n=2, max_new_tokens=8, seed=6)[0]
    assert [c.token_ids for c in other_seed] != [c.token_ids for c in small]


def _frequent_tokens_as_eos(m, k: int = 25) -> set[int]:
    """The k likeliest first tokens of a prompt: as EOS, rows end at many different steps."""
    return set(_first_token_logits(m, PROMPTS[2]).topk(k).indices.tolist())


def test_compaction_gives_same_tokens_as_no_compaction(tiny_model, monkeypatch):
    from llminfo.models import hf_decode

    monkeypatch.setattr(tiny_model, "eos_ids", _frequent_tokens_as_eos(tiny_model))
    batch_sizes = []
    orig = tiny_model.model.forward

    def spy(*a, **kw):
        batch_sizes.append(kw["input_ids"].shape[0])
        return orig(*a, **kw)

    monkeypatch.setattr(tiny_model.model, "forward", spy)
    kw = dict(n=6, max_new_tokens=16, seed=9)
    monkeypatch.setattr(hf_decode, "COMPACT_FRACTION", 0.0)  # drop rows as soon as they end
    compacted = tiny_model.generate(PROMPTS, **kw)
    assert min(batch_sizes) < max(batch_sizes[1:]), batch_sizes  # rows were dropped
    sizes_compacted, batch_sizes[:] = list(batch_sizes), []
    monkeypatch.setattr(hf_decode, "COMPACT_FRACTION", float("inf"))  # never drop rows
    full = tiny_model.generate(PROMPTS, **kw)
    assert set(batch_sizes[1:]) == {len(PROMPTS) * 6} and sum(batch_sizes) > sum(sizes_compacted)
    lengths = {len(c.token_ids) for row in full for c in row}
    assert len(lengths) > 3  # rows really ended at different steps
    for row_a, row_b in zip(compacted, full):
        for a, b in zip(row_a, row_b):
            assert a.token_ids == b.token_ids and a.finish_reason == b.finish_reason
            np.testing.assert_allclose(a.entropy, b.entropy, atol=1e-5)
            np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)


def test_finished_rows_match_separate_forward_after_compaction(tiny_model, monkeypatch):
    """Entropy/logprobs of every row (some dropped early) equal a plain forward of its tokens."""
    from llminfo.models import hf_decode

    monkeypatch.setattr(tiny_model, "eos_ids", _frequent_tokens_as_eos(tiny_model))
    monkeypatch.setattr(hf_decode, "COMPACT_FRACTION", 0.0)
    rows = tiny_model.generate(PROMPTS[:2], n=4, max_new_tokens=12, seed=4)
    for p, row in zip(PROMPTS, rows):
        for c in row:
            p_ids = tiny_model.encode_prompt(p)
            with torch.no_grad():
                logits = tiny_model.model(torch.tensor([p_ids + c.token_ids])).logits[0, len(p_ids) - 1 : -1]
            ref_lp = logits.log_softmax(-1).gather(1, torch.tensor(c.token_ids)[:, None])[:, 0]
            np.testing.assert_allclose(c.model_logprobs, ref_lp.tolist(), atol=1e-5)
            np.testing.assert_allclose(c.entropy, measures.entropy_from_logits(logits).tolist(), atol=1e-5)


@pytest.mark.parametrize("compile_step", [False, True])
def test_static_cache_path_gives_same_tokens(tiny_model, monkeypatch, compile_step):
    kw = dict(n=3, max_new_tokens=10, seed=2, stop=["zz"])
    dynamic = tiny_model.generate(PROMPTS, **kw)
    greedy = tiny_model.generate(PROMPTS, temperature=0, max_new_tokens=10)
    monkeypatch.setattr(tiny_model, "static_cache", True)
    if compile_step:  # the compiled path's plumbing, with the eager backend (no C++ compiler on CPU)
        monkeypatch.setattr(tiny_model, "compile", True)
        monkeypatch.setattr(tiny_model, "_compiled", torch.compile(tiny_model.model.forward, backend="eager", dynamic=False))
    static = tiny_model.generate(PROMPTS, **kw)
    static_greedy = tiny_model.generate(PROMPTS, temperature=0, max_new_tokens=10)
    for a_row, b_row in zip(dynamic + greedy, static + static_greedy):
        for a, b in zip(a_row, b_row):
            assert a.token_ids == b.token_ids
            np.testing.assert_allclose(a.entropy, b.entropy, atol=1e-4)


# -- score: KV reuse across different prompts sharing a prefix -----------------------------

SHARED = "Consider the following question: Q: what is the capital of France? "
MI_PROMPTS = [SHARED + f"One answer to question Q is {a}. Provide an answer." for a in ("Paris", "Lyon", "Paris, France")]


def test_prefix_groups_plan():
    from llminfo.models.hf_score import plan_prefix_groups

    seqs = [[1, 2, 3, 4, 5, 6, 9], [8, 8, 8], [1, 2, 3, 4, 5, 6, 7, 7], [1, 2, 3, 4, 5, 6], [1, 2]]
    groups = plan_prefix_groups(seqs, overhead=2)
    assert sorted(u for _ell, m in groups for u in m) == list(range(len(seqs)))
    assert (5, [3, 2, 0]) in groups  # sorted order; the prefix leaves [1..6] one token of its own
    for ell, members in groups:
        assert all(ell < len(seqs[u]) and seqs[u][:ell] == seqs[members[0]][:ell] for u in members)
        assert ell > 0 or len(members) == 1
    # sharing 1 token is not worth an extra forward
    assert all(ell == 0 for ell, _m in plan_prefix_groups([[1, 5], [1, 6]], overhead=8))


@pytest.mark.parametrize("entropy, small_batches", [(True, False), (False, False), (True, True)])
def test_shared_prefix_across_prompts_equals_plain(tiny_model, monkeypatch, entropy, small_batches):
    from llminfo.models import hf_score

    if small_batches:  # groups split across prompt batches, continuations over several batches
        monkeypatch.setattr(hf_score, "PROMPT_ROWS", 2)
        monkeypatch.setattr(hf_score, "CONT_ROWS", 3)
    prompts, conts = [], []
    for p in MI_PROMPTS:
        for c in [" Paris", " Lyon is big", "", " the capital of France is Paris, of course"]:
            prompts.append(p)
            conts.append(c)
    prompts += ["What is the capital of France?", "x", SHARED + "lone"]  # a 1-token prompt, a lone one
    conts += [" Paris.", " y z", " w"]
    scored = tiny_model.score(prompts, conts, entropy=entropy)
    monkeypatch.setattr(tiny_model, "share_prefixes", False)
    plain = tiny_model.score(prompts, conts, entropy=entropy)
    for s, q, p, c in zip(scored, plain, prompts, conts):
        assert s.token_ids == q.token_ids
        np.testing.assert_allclose(s.logprobs, q.logprobs, atol=1e-5)
        np.testing.assert_allclose(s.entropy, q.entropy, atol=1e-5)
        if c:
            ref_lp, ref_ent = direct_logprobs(tiny_model, p, c)
            np.testing.assert_allclose(s.logprobs, ref_lp, atol=1e-5)
            if entropy:
                np.testing.assert_allclose(s.entropy, ref_ent, atol=1e-5)


def test_shared_prefix_is_encoded_once(tiny_model, monkeypatch):
    tokens = []
    orig = tiny_model.model.forward

    def counting(*a, **kw):
        tokens.append(int(kw["attention_mask"][:, -kw["input_ids"].shape[1] :].sum()))
        return orig(*a, **kw)

    monkeypatch.setattr(tiny_model.model, "forward", counting)
    conts = [" Paris", " Lyon"]
    prompts = [p for p in MI_PROMPTS for _ in conts]
    tiny_model.score(prompts, conts * len(MI_PROMPTS))
    shared_tokens = sum(tokens)
    tokens.clear()
    monkeypatch.setattr(tiny_model, "share_prefixes", False)
    tiny_model.score(prompts, conts * len(MI_PROMPTS))
    prefix = len(tiny_model.encode_prompt(SHARED)) - 2
    assert shared_tokens <= sum(tokens) - (len(MI_PROMPTS) - 1) * prefix, (shared_tokens, sum(tokens))
