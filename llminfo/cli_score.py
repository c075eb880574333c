"""`llminfo score` and `llminfo calibrate`: the hallucination-risk commands of the CLI.

Everything a user gives is checked before the model loads: the flags, the calibrator file,
the input rows (bad ones reported by line and skipped, or stop the run), the output path,
that no other process writes the output, and that an existing output was produced by the
same methods, parameters, model, seed, calibrator and llminfo version (resume).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from llminfo import cli
from llminfo.errors import UserError

DEFAULT_BATCH = 8


def add_score(sub) -> None:
    p = cli._sub(sub, "score", cmd_score, examples=[
        "llminfo score questions.jsonl --output scored.jsonl",
        "llminfo score in.jsonl --output out.jsonl --methods msp,semantic_entropy \\\n"
        "      --samples 5 --method-arg semantic_entropy.temperature=0.9",
        "llminfo score in.jsonl --output scored.jsonl --calibrator cal.json \\\n      --on-bad-row stop"])
    p.add_argument("input", help="JSONL file, one question per line (UTF-8; a BOM is fine)")
    p.add_argument("--output", required=True, help="output JSONL (appended; existing ids are skipped)")
    cli.add_model_args(p)
    _add_method_args(p)
    p.add_argument("--calibrator", default=None, help="scorer JSON from `llminfo calibrate` (sets the methods)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help=f"questions per batch (default {DEFAULT_BATCH})")
    p.add_argument("--on-bad-row", default="skip", choices=["skip", "stop"],
                   help="malformed or failing rows: report by line and skip (default), or stop with exit 2")
    p.add_argument("--details", action="store_true", help="also write each method's details")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run as a Ray Data job: on the Ray cluster at ADDRESS ('auto', 'ray://host:10001'), or a "
                   "local Ray instance without ADDRESS; INPUT may be .jsonl or .parquet, --output is a folder of part files")
    p.add_argument("--workers", type=int, default=1, help="with --ray: scoring actors, one model each (default 1)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="with --ray: GPUs per actor (default 0)")
    p.add_argument("--output-format", default="jsonl", choices=["jsonl", "parquet"], help="with --ray: part file format")


def _add_method_args(p: argparse.ArgumentParser) -> None:
    from llminfo.analyzers.registry import DEFAULT_METHODS

    p.add_argument("--methods", default=None, help=f"comma-separated methods (default: {','.join(DEFAULT_METHODS)}); "
                   "see `available_methods()`")
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


def scorer_from_args(args: argparse.Namespace):
    """The scorer the flags describe (or the calibrator file, checked field by field)."""
    from llminfo.analyzers.registry import DEFAULT_METHODS, available_methods
    from llminfo.analyzers.scorer import HallucinationScorer

    calibrator = getattr(args, "calibrator", None)
    if calibrator:
        if args.methods:
            raise UserError("--methods and --calibrator both given: the calibrator file fixes the methods")
        if args.samples is not None or args.method_arg:
            raise UserError("--samples/--method-arg and --calibrator both given: the calibrator file fixes the methods' parameters")
        return HallucinationScorer.load(calibrator)
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


def producer(args: argparse.Namespace, scorer) -> dict:
    """What produced a scored row: resuming is refused when any of it differs."""
    from llminfo import __version__
    from llminfo.analyzers.score_file import effective_params

    cal = None
    if getattr(args, "calibrator", None):
        cal = "sha256:" + hashlib.sha256(Path(args.calibrator).read_bytes()).hexdigest()[:16]
    return {
        "llminfo": __version__,
        "model": args.model,
        "backend": args.backend,
        "dtype": args.dtype,
        "methods": [{"name": m.name, "params": effective_params(type(m), p)} for m, p in zip(scorer.methods, scorer.method_params)],
        "seed": args.seed,
        "calibrator": cal,
    }


def _check_common(args: argparse.Namespace, input_flag: str, input_path: str) -> None:
    from llminfo.fileio import check_output_file, same_file

    if args.batch_size < 1:
        raise UserError(f"--batch-size has to be >= 1, got {args.batch_size}")
    check_output_file(args.output, "--output")
    if Path(input_path).exists() and same_file(input_path, args.output):
        raise UserError(f"--output {args.output!r} is the {input_flag} file itself; choose another output")


def cmd_score(args: argparse.Namespace) -> int:
    """Score answers in a JSONL file for hallucination risk.

    Score each row {"id"?, "question", "answer"?, "context"?} of INPUT.jsonl. Rows without an answer are
    answered greedily by the model; a row without an id gets `sha256:` + a hash of its question, answer
    and context, so editing other lines never mixes rows up. Output rows add `answer`, `scores` ({method:
    value}, higher = more uncertain), `risk` in [0, 1], `decision` (answer/abstain) and `producer`
    (llminfo version, model, methods with parameters, seed, calibrator hash). Rows are appended as batches
    finish; rerunning with the same --output resumes, and is refused if the output was produced
    differently. One process writes an output at a time. A row that fails (e.g. too long for the context)
    is reported by line and id and skipped with --on-bad-row skip. An input without rows prints a warning
    and exits 0. With the default methods on an embedded model, risk comes from the calibrator shipped
    for that model (`calibrated`: true); otherwise, without --calibrator, it is a fixed map of each
    row's scores (`calibrated`: false); either way it never depends on the other rows of the batch.
    Fit a calibrator with `llminfo calibrate`.
    """
    from llminfo.analyzers.score_file import read_rows, resumable_output, score_rows

    if args.ray is not None:
        return _score_on_ray(args)
    _check_common(args, "INPUT", args.input)
    scorer = scorer_from_args(args)
    rows = read_rows(args.input, on_bad_row=args.on_bad_row)
    if not rows:
        print(f"llminfo score: warning: {args.input} has no usable rows; nothing to score", file=sys.stderr)
        return 0
    made_by = producer(args, scorer)
    with resumable_output(args.output, made_by) as done:  # locked and checked before the model loads
        stats = {"scored": 0, "failed": 0, "skipped_done": len(rows)}
        if len(done) < len(rows):
            model = cli.load_model_from_args(args)
            stats = score_rows(model, scorer, rows, args.output, done, batch_size=args.batch_size, seed=args.seed,
                               details=args.details, progress=not args.no_progress, producer=made_by,
                               on_bad_row=args.on_bad_row, source=str(args.input))
    failed = f", {stats['failed']} failed and skipped" if stats.get("failed") else ""
    print(f"scored {stats['scored']} rows ({stats['skipped_done']} already in {args.output}{failed}) -> {args.output}",
          file=sys.stderr)
    return 0


def _score_on_ray(args: argparse.Namespace) -> int:
    """`llminfo score --ray`: the same scoring as a Ray Data job (`llminfo.scale.score_on_ray`)."""
    import json

    from llminfo.scale import RayEngine, score_on_ray

    if args.batch_size < 1:
        raise UserError(f"--batch-size has to be >= 1, got {args.batch_size}")
    if Path(args.output).is_file():
        raise UserError(f"--output {args.output!r} is a file; with --ray it is a folder of part files")
    scorer = scorer_from_args(args)
    try:
        engine = RayEngine(address=None if args.ray == "local" else args.ray, workers=args.workers,
                           gpus_per_worker=args.gpus_per_worker, batch_size=args.batch_size)
    except ValueError as e:
        raise UserError(str(e).replace("engine `workers`", "--workers").replace("engine `gpus_per_worker`", "--gpus-per-worker")) from None
    try:
        stats = score_on_ray(args.input, args.output, model=args.model or "default", backend=args.backend,
                             model_kwargs=cli.model_kwargs_from_args(args), scorer=scorer, seed=args.seed, engine=engine,
                             output_format=args.output_format, details=args.details, producer=producer(args, scorer))
    except (FileNotFoundError, ImportError) as e:
        raise UserError(str(e)) from None
    for row in stats["error_rows"][:20]:
        print(f"failed row id {json.dumps(row['id'])}: {row['error']}", file=sys.stderr)
    print(f"scored {stats['scored']} rows, {stats['errors']} failed, {stats['skipped_done']} already in {args.output} "
          f"-> {args.output}", file=sys.stderr)
    return 1 if stats["errors"] else 0


def add_calibrate(sub) -> None:
    p = cli._sub(sub, "calibrate", cmd_calibrate, examples=[
        "llminfo calibrate labelled.jsonl --output calibrator.json",
        "llminfo calibrate labelled.jsonl --output cal.json --methods msp,perplexity \\\n"
        "      --kind logistic --target-risk 0.3"])
    p.add_argument("labelled", help="labelled JSONL file")
    p.add_argument("--output", required=True, help="calibrator JSON to write")
    cli.add_model_args(p)
    _add_method_args(p)
    p.add_argument("--kind", default="rank", choices=["rank", "stacked", "logistic", "isotonic"],
                   help="calibration map: rank = AUROC-weighted average of score percentiles → monotone logistic "
                   "(default), stacked = logit percentiles → L2 logistic regression (strength by cross-validation), "
                   "logistic = logistic regression on all scores, isotonic = percentile average → isotonic")
    p.add_argument("--target-risk", type=float, default=0.2, help="error rate allowed among answered items (default 0.2)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                   help=f"questions scored per batch, as `score` does (default {DEFAULT_BATCH})")
    p.add_argument("--on-bad-row", default="skip", choices=["skip", "stop"])
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the hallucination-risk calibrator on labelled rows.

    Fit a calibrated risk on LABELLED.jsonl: rows with `question`, optional `answer`, and a label —
    `correct` (true/false), `label` (1 = correct, 0 = wrong), or `answers` (gold aliases: the answer, or
    the model's greedy answer, is labelled by alias match). Writes a JSON scorer (methods with parameters,
    the fitted map and one decision threshold) for `llminfo score --calibrator`; the file is replaced only
    when the fit succeeds.
    """
    import json

    import numpy as np

    from llminfo.analyzers.base import SampleCache
    from llminfo.analyzers.score_file import check_labelled, labels_for, progress_bar, read_rows, scored_chunks

    if not 0 <= args.target_risk <= 1:
        raise UserError(f"--target-risk has to be in [0, 1], got {args.target_risk}")
    _check_common(args, "LABELLED", args.labelled)
    scorer = scorer_from_args(args)
    rows = read_rows(args.labelled, on_bad_row=args.on_bad_row, require=check_labelled)
    if len(rows) < 2:
        raise UserError(f"{args.labelled}: calibration needs at least 2 usable rows, got {len(rows)}")
    model = cli.load_model_from_args(args)

    def run(chunk):
        cache = SampleCache()
        items, correct = labels_for(model, chunk, cache=cache)
        _, scores, _ = scorer.raw_scores(model, items, seed=args.seed, cache=cache)
        return list(zip(correct, scores))

    correct, scores = [], []
    bar = progress_bar(len(rows), not args.no_progress, "calibrating", "q")
    for _chunk, results, consumed in scored_chunks(rows, args.batch_size, run, on_bad_row=args.on_bad_row,
                                                   source=str(args.labelled)):
        for c, s in results:
            correct.append(c)
            scores.append(s)
        bar.update(consumed)
    bar.close()
    if len(set(correct)) < 2:
        raise UserError(f"{args.labelled}: calibration needs both correct and wrong answers; all {len(correct)} are "
                        f"{'correct' if correct and correct[0] else 'wrong'}")
    scorer.fit_scores(np.array(scores), correct, kind=args.kind, target_risk=args.target_risk)
    scorer.save(args.output)
    cal = scorer.calibrator
    print(json.dumps({"output": args.output, "methods": scorer.names, "kind": cal.kind, "threshold": scorer.decision_threshold,
                      **cal.calibration}))
    return 0
