"""GPU check of the HF backend: `HFModel.generate` vs transformers' `generate`, `score` vs a bare forward.

Meant for a lent GPU machine that has torch + transformers only (no vLLM, no package
registry, carried files ≤ 64 MiB). It therefore needs neither the embedded model's pip
package nor a download: by default it builds a model **of the embedded model's shape**
(SmolLM2-135M: Llama, vocab 49152, hidden 576, 30 layers, 9 heads / 3 KV heads, FFN 1536,
tied embeddings) from a config in code, with seeded random weights, and a word-level
tokenizer of the same vocabulary ("w0" … "w49151") built in code. Speed does not depend on
the weights' values; random weights rarely emit EOS, so rows run to `--new-tokens`. With
`--model-dir` it loads a real model folder instead (e.g. a bf16 copy small enough to carry).

Measured, each as a ratio in the same run (interleaved rounds, median of per-round ratios):
- tokens/s of `HFModel.generate` / transformers `model.generate` on the same prompts and
  settings: greedy, and sampling at temperature 1 with top-k/top-p off; batch 1/16/64;
- optionally (`--compile`) `HFModel(static_cache=True, compile=True)` vs the same baseline;
- tokens/s of `HFModel.score` / a bare forward over the same (prompt + continuation) batch.
Writes JSON (default `bench_results/gpu_check.json`).

    # on the GPU machine, from the repository root (torch + transformers installed):
    python scripts/gpu_check.py --device cuda --dtype bfloat16 --batches 1,16,64 --compile
    # smoke run on CPU (small sizes):
    python scripts/gpu_check.py --device cpu --dtype float32 --batches 1,4 --new-tokens 8 --rounds 1 --layers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The embedded default model's shape (SmolLM2-135M-Instruct's config.json).
SMOLLM2_135M = dict(
    vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
    num_key_value_heads=3, max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
    tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2,
)


def word_tokenizer(vocab_size: int):
    """A whitespace word-level tokenizer with tokens "w0" … "w{vocab-1}", built in code."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {f"w{i}": i for i in range(vocab_size)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="w1", eos_token="w2", pad_token="w2", unk_token="w0")


def build_model(args):
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    dtype = getattr(torch, args.dtype)
    if args.model_dir:
        model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=dtype)
        tok = AutoTokenizer.from_pretrained(args.model_dir)
        return model.to(args.device).eval(), tok, f"{args.model_dir} ({args.dtype})"
    cfg = LlamaConfig(**{**SMOLLM2_135M, "num_hidden_layers": args.layers or SMOLLM2_135M["num_hidden_layers"]})
    torch.manual_seed(0)
    with torch.device(args.device):
        model = LlamaForCausalLM(cfg)
    model = model.to(dtype).eval()
    return model, word_tokenizer(cfg.vocab_size), f"SmolLM2-135M shape, random weights, {cfg.num_hidden_layers} layers ({args.dtype})"


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> tuple[float, object]:
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t, out


def prompts_of(batch: int, length: int, vocab: int, offset: int = 0) -> list[str]:
    g = torch.Generator().manual_seed(1000 + offset)
    ids = torch.randint(3, vocab, (batch, length), generator=g)
    return [" ".join(f"w{i}" for i in row.tolist()) for row in ids]


def interleaved(named: dict, rounds: int, device: str) -> dict:
    """Run each callable once per round (order alternating), returning per-callable
    (tokens/s per round); each callable returns the tokens it produced."""
    names = list(named)
    rates = {k: [] for k in names}
    for r in range(rounds):
        for k in (names if r % 2 == 0 else names[::-1]):
            dt, n_tok = timed(named[k], device)
            rates[k].append(n_tok / dt)
    return rates


def check_generate(m, args, batch: int) -> dict:
    prompts = prompts_of(batch, args.prompt_tokens, m.describe().vocab_size, batch)
    enc = m.tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False).to(args.device)
    res = {}
    for mode in ("greedy", "sampled"):
        temperature = 0.0 if mode == "greedy" else 1.0
        hf_kw = dict(do_sample=False) if mode == "greedy" else dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0)

        def ours(model=m):
            out = model.generate(prompts, max_new_tokens=args.new_tokens, temperature=temperature, seed=0)
            return sum(len(c.token_ids) for row in out for c in row)

        def theirs():
            with torch.inference_mode():
                o = m.model.generate(**enc, max_new_tokens=args.new_tokens, pad_token_id=m.pad_id, **hf_kw)
            gen = o[:, enc["input_ids"].shape[1]:].tolist()
            return sum(next((i + 1 for i, t in enumerate(row) if t in m.eos_ids), len(row)) for row in gen)

        named = {"hfmodel": ours, "transformers": theirs}
        if args.compile:
            from llminfo.models.hf import HFModel

            compiled = HFModel(m.model, m.tokenizer, name=m.name, static_cache=True, compile=True)
            named["hfmodel_static_compiled"] = lambda: ours(compiled)
        for f in named.values():  # warm-up (and compilation)
            f()
        rates = interleaved(named, args.rounds, args.device)
        entry = {k: statistics.median(v) for k, v in rates.items()}
        entry["ratio_hfmodel_vs_transformers"] = statistics.median(
            [a / b for a, b in zip(rates["hfmodel"], rates["transformers"])])
        if args.compile:
            entry["ratio_compiled_vs_transformers"] = statistics.median(
                [a / b for a, b in zip(rates["hfmodel_static_compiled"], rates["transformers"])])
        res[mode] = entry
        print(f"generate batch {batch:3d} {mode:8s} " + json.dumps({k: round(v, 3) for k, v in entry.items()}), flush=True)
    return res


def check_score(m, args, batch: int) -> dict:
    vocab = m.describe().vocab_size
    prompts = prompts_of(batch, args.prompt_tokens, vocab, 7)
    conts = [" " + p for p in prompts_of(batch, args.cont_tokens, vocab, 8)]
    ids = [m.encode_prompt(p) + m.tokenizer(c, add_special_tokens=False)["input_ids"] for p, c in zip(prompts, conts)]
    x, mask = m._left_pad(ids)
    keep = args.cont_tokens + 1
    tokens = int(mask.sum())

    def bare():
        with torch.inference_mode():
            m.model(input_ids=x, attention_mask=mask, logits_to_keep=keep)
        return tokens

    def score():
        m.score(prompts, conts)
        return tokens

    bare(), score()
    rates = interleaved({"score": score, "bare_forward": bare}, args.rounds, args.device)
    entry = {"tokens": tokens, "score_tok_s": statistics.median(rates["score"]),
             "bare_forward_tok_s": statistics.median(rates["bare_forward"]),
             "ratio_score_vs_bare_forward": statistics.median([a / b for a, b in zip(rates["score"], rates["bare_forward"])])}
    print(f"score    batch {batch:3d} " + json.dumps({k: round(v, 3) for k, v in entry.items()}), flush=True)
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--batches", default="1,16,64")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--cont-tokens", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layers", type=int, default=0, help="override the layer count (smoke runs)")
    ap.add_argument("--model-dir", default=None, help="a local model folder instead of the config-built model")
    ap.add_argument("--compile", action="store_true", help="also time HFModel(static_cache=True, compile=True)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "gpu_check.json"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from llminfo.models.hf import HFModel

    model, tok, desc = build_model(args)
    m = HFModel(model, tok, name=desc)
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu"
    report = {"model": desc, "device": args.device, "device_name": device_name, "dtype": args.dtype,
              "torch": torch.__version__, "prompt_tokens": args.prompt_tokens, "new_tokens": args.new_tokens,
              "rounds": args.rounds, "loadavg_start": os.getloadavg(), "generate": {}, "score": {}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for b in [int(x) for x in args.batches.split(",")]:
        report["generate"][f"batch{b}"] = check_generate(m, args, b)
        report["score"][f"batch{b}"] = check_score(m, args, b)
        out.write_text(json.dumps(report, indent=2) + "\n")  # partial results survive a crash
    report["loadavg_end"] = os.getloadavg()
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
