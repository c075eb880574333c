"""`score_on_ray`: hallucination scoring of a file or dataset as a Ray Data pipeline.

The job is `llminfo score` spread over Ray actors, built from Ray Data parts only:

    read (read_json / read_parquet / from_huggingface)
      → keep rows not yet in the output (resume)
      → map_batches(ScoringActor, concurrency=workers, num_gpus=gpus_per_worker)
      → per-batch part files in the output folder

Each `ScoringActor` loads ONE model (`load_model(model, backend, **engine_args)`: HF, or a vLLM
engine with its arguments passed through — `tensor_parallel_size` inside an actor, say — or an
`OpenAIModel` client) and ONE `HallucinationScorer`, and scores one batch at a time.

Never losing rows:
- every scored batch is written by the actor that scored it, as one part file in the output
  folder (`part-<hash of the batch's ids>.jsonl` or `.parquet`), written to a temporary name and
  renamed: a part is complete or absent. A worker killed mid-batch loses only that batch's
  work, never a written row; Ray retries the batch on a restarted actor (`max_restarts`),
  and a rerun of the same job skips every id already written (resume at row level).
- a row that fails (a bad row, a prompt longer than the context, ...) is retried alone; if it
  still fails it goes to an `errors-*.jsonl` part with its id and the error, and the job
  reports it. Error rows are not "done": a rerun tries them again.

Results never depend on the sharding: each item's samples are seeded from (seed, item)
(`llminfo.analyzers.base.item_seed`), so 1 worker, N workers and any batch size give the same
`scores`. (The uncalibrated `risk` is a rank within a batch today; with a calibrator it is a
per-row map.)

The output folder needs to be visible to every worker (one machine, or a shared filesystem).

Example:
    >>> import ray
    >>> from llminfo.scale import RayEngine, score_on_ray
    >>> ray.init(num_cpus=2)
    >>> stats = score_on_ray("questions.jsonl", "scored/", model="default", methods=["msp", "semantic_entropy"],
    ...                      engine=RayEngine(workers=2))
    >>> stats["scored"], stats["errors"]
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from llminfo.errors import UserError

OUTPUT_FORMATS = ("jsonl", "parquet")
# Reading and id-tagging are light I/O: they take no CPU slot, so scoring actors holding every
# CPU (2 workers on 2 cores) cannot starve them — Ray would otherwise wait forever.
_LIGHT = {"num_cpus": 0}
INSTALL_HINT = "the Ray path needs Ray Data: `pip install 'llminfo[ray]'` (or `pip install 'ray[data]'`)"


@dataclass
class RayEngine:
    """Where and how wide a Ray job runs (the eval config's `engine: {kind: ray, ...}`).

    Args:
        address (`str`, *optional*): a Ray cluster address (`"auto"`, `"ray://host:10001"`);
            `None` = the running Ray instance, else a new local one.
        workers (`int`, defaults to 1): scoring actors (each holds one model).
        gpus_per_worker (`float`, defaults to 0): GPUs per actor (e.g. 2 with
            `engine_args={"tensor_parallel_size": 2}`).
        cpus_per_worker (`float`, defaults to 1): CPUs per actor.
        batch_size (`int`, defaults to 8): rows per batch (one `scorer.score` call).
        max_restarts (`int`, defaults to -1): times Ray restarts a dead actor, its batch then
            retried (-1 = always, Ray Data's default; 0 = a dead actor fails the job, and a
            rerun completes it).
    """

    address: str | None = None
    workers: int = 1
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    batch_size: int = 8
    max_restarts: int = -1

    def __post_init__(self) -> None:
        for name in ("workers", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"engine `{name}` has to be an integer >= 1, got {v!r}")
        for name in ("gpus_per_worker", "cpus_per_worker"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"engine `{name}` has to be a number >= 0, got {v!r}")
        if not isinstance(self.max_restarts, int) or self.max_restarts < -1:
            raise ValueError(f"engine `max_restarts` has to be an integer >= -1, got {self.max_restarts!r}")
        if self.address is not None and (not isinstance(self.address, str) or not self.address.strip()):
            raise ValueError(f"engine `address` has to be a Ray address string, got {self.address!r}")

    @classmethod
    def from_config(cls, d: Mapping[str, Any], where: str = "engine") -> "RayEngine":
        """From `{kind: ray, address?, workers?, gpus_per_worker?, ...}`; errors name the key."""
        if not isinstance(d, Mapping):
            raise ValueError(f"`{where}` has to be a mapping like {{kind: ray, workers: 2}}, got {type(d).__name__}")
        if d.get("kind") != "ray":
            raise ValueError(f"`{where}.kind` has to be 'ray', got {d.get('kind')!r}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(d) - known - {"kind"})
        if unknown:
            raise ValueError(f"`{where}`: unknown key(s) {', '.join(unknown)} (known: kind, {', '.join(sorted(known))})")
        try:
            return cls(**{k: v for k, v in d.items() if k != "kind"})
        except ValueError as e:
            raise ValueError(f"`{where}`: {e}") from None


@dataclass
class ScorerSpec:
    """What each actor builds: the model and the scorer (plain data, shipped to the workers)."""

    model: str = "default"
    backend: str = "hf"
    model_kwargs: dict[str, Any] = field(default_factory=dict)  # dtype, engine args, base_url, ...
    scorer: dict[str, Any] = field(default_factory=dict)  # HallucinationScorer.to_dict()
    seed: int = 0
    details: bool = False
    threads: int = 1
    producer: dict[str, Any] | None = None


def score_on_ray(
    source: Any,
    output: str | Path,
    *,
    model: str = "default",
    backend: str = "hf",
    model_kwargs: Mapping[str, Any] | None = None,
    scorer: Any = None,
    methods: Sequence[Any] | None = None,
    seed: int = 0,
    engine: RayEngine | None = None,
    output_format: str = "jsonl",
    details: bool = False,
    producer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every row of `source` into the folder `output` on Ray actors; resumable.

    Args:
        source: a `.jsonl` / `.parquet` file (or a folder of them), or a `datasets.Dataset`.
            Rows are `{"id"?, "question", "answer"?, "context"?, ...}`; extra fields are kept.
            A row without `id` gets one from its content (a hash of question, answer, context).
        output (`str`): output folder (created); part files are added as batches finish.
        model, backend, model_kwargs: as `load_model(model, backend, **model_kwargs)` in each actor
            (`model_kwargs` holds `dtype`, vLLM engine arguments, or `base_url` for `"openai"`).
        scorer (`HallucinationScorer`, *optional*): the scorer (its methods and calibrator).
        methods (`Sequence`, *optional*): method specs when `scorer` is not given.
        seed (`int`, defaults to 0): sampling seed (each item's samples: `item_seed(seed, prompt)`).
        engine (`RayEngine`, *optional*): address, workers, GPUs per worker, batch size.
        output_format (`str`, defaults to `"jsonl"`): `"jsonl"` or `"parquet"` part files.
        details (`bool`, defaults to False): also write each method's details.
        producer (`dict`, *optional*): written into every row as `producer` (what made it).

    Returns:
        `{"scored", "errors", "skipped_done", "total", "error_rows": [{id, error}, ...], "output"}`.
    """
    engine = engine or RayEngine()
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"`output_format` has to be one of {OUTPUT_FORMATS}, got {output_format!r}")
    from llminfo.analyzers.scorer import HallucinationScorer

    if scorer is None:
        scorer = HallucinationScorer(methods) if methods is not None else HallucinationScorer()
    elif methods is not None:
        raise ValueError("give `scorer` or `methods`, not both")
    spec = ScorerSpec(model, backend, dict(model_kwargs or {}), scorer.to_dict(), int(seed), bool(details),
                      threads=max(1, int(engine.cpus_per_worker)), producer=dict(producer) if producer else None)
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(address=engine.address, ignore_reinit_error=True, log_to_driver=False)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    done = finished_ids(out)
    if done and producer is not None:
        _check_same_producer(out, dict(producer))
    ds = read_source(source).map_batches(_with_ids, batch_format="pyarrow", batch_size=None, **_LIGHT)
    total = ds.count()
    if done:
        ds = ds.filter(lambda row: row["_id"] not in done, **_LIGHT)
        if ds.count() == 0:  # all written: start no actor (each would load a model)
            return {"scored": 0, "errors": 0, "skipped_done": total, "total": total, "error_rows": [], "output": str(out)}
    results = ds.map_batches(
        ScoringActor,
        fn_constructor_kwargs={"spec": spec, "output": str(out), "output_format": output_format},
        batch_size=engine.batch_size,
        batch_format="pyarrow",
        concurrency=engine.workers,
        num_gpus=engine.gpus_per_worker,
        num_cpus=engine.cpus_per_worker,
        # Ray Data's default (-1): a dead actor is restarted and its batch retried.
        **({} if engine.max_restarts == -1 else {"max_restarts": engine.max_restarts}),
    )
    scored, errors = 0, []
    for batch in results.iter_rows():
        if batch["error"]:
            errors.append({"id": json.loads(batch["_id"]), "error": batch["error"]})
        else:
            scored += 1
    return {"scored": scored, "errors": len(errors), "skipped_done": total - scored - len(errors),
            "total": total, "error_rows": errors, "output": str(out)}


def _check_same_producer(out: Path, producer: dict[str, Any]) -> None:
    """Resume only what the same model, methods, parameters and seed produced."""
    first = next(_iter_parts(out), None)
    if first is not None and json.dumps(first.get("producer"), sort_keys=True, default=str) != json.dumps(
        producer, sort_keys=True, default=str
    ):
        raise UserError(
            f"output folder {out} holds rows produced differently (model, methods, parameters, seed or llminfo "
            "version); resuming would mix them: choose another output folder"
        )


def read_source(source: Any) -> Any:
    """A Ray Dataset from a JSONL / Parquet file or folder, or a `datasets.Dataset`."""
    ray = _import_ray()
    if not isinstance(source, (str, os.PathLike)):
        try:
            import datasets
        except ImportError:
            datasets = None
        if datasets is not None and isinstance(source, datasets.Dataset):
            return ray.data.from_huggingface(source)
        raise TypeError(f"`source` has to be a .jsonl/.parquet path or a datasets.Dataset, got {type(source).__name__}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    kinds = {f.suffix for f in files if f.suffix in (".jsonl", ".json", ".parquet")}
    if len(kinds) != 1:
        raise ValueError(f"input {path}: expected .jsonl or .parquet file(s), found {sorted(kinds) or 'none'}")
    if kinds == {".parquet"}:
        return ray.data.read_parquet(str(path), **_LIGHT)
    return ray.data.read_json(str(path), lines=True, **_LIGHT)


def _with_ids(table: Any) -> Any:
    """Add `_id` (the JSON-encoded row id; a content hash for rows without one)."""
    rows = table.to_pylist()
    ids = [json.dumps(r["id"] if r.get("id") is not None else content_id(r)) for r in rows]
    return table.append_column("_id", _pa().array(ids, type=_pa().string()))


def content_id(row: Mapping[str, Any]) -> str:
    """The id of an id-less row: a hash of its question, answer and context."""
    blob = json.dumps([row.get("question"), row.get("answer"), row.get("context")], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class ScoringActor:
    """A Ray actor holding one model and one `HallucinationScorer`; scores and writes batches.

    Args:
        spec (`ScorerSpec`): model, backend and its arguments, scorer dict, seed.
        output (`str`): output folder (shared by the workers).
        output_format (`str`): `"jsonl"` or `"parquet"`.
    """

    def __init__(self, spec: ScorerSpec, output: str, output_format: str = "jsonl"):
        import torch

        from llminfo.analyzers.scorer import HallucinationScorer
        from llminfo.models import load_model

        torch.set_num_threads(spec.threads)
        self.spec = spec
        self.output = Path(output)
        self.output_format = output_format
        self.model = load_model(spec.model, backend=spec.backend, **spec.model_kwargs)
        self.scorer = HallucinationScorer.from_dict(spec.scorer)

    def __call__(self, table: Any) -> Any:
        from llminfo.analyzers.base import QAItem, SampleCache

        rows = table.to_pylist()
        good, errors = [], {}
        for r in rows:
            try:
                data = {k: v for k, v in r.items() if k != "_id" and not (k == "id" and v is None)}
                data.setdefault("id", json.loads(r["_id"]))
                good.append((r["_id"], data, QAItem.from_dict(data, where=f"row id {r['_id']}")))
            except (TypeError, ValueError) as e:
                errors[r["_id"]] = str(e)
        scored = self._score(good, errors, SampleCache)
        if scored:
            self._write("part", [row for _, row in scored])
        if errors:
            self._write("errors", [{"id": json.loads(i), "error": e} for i, e in errors.items()], fmt="jsonl")
        ids = [r["_id"] for r in rows]
        return _pa().table({"_id": ids, "error": [errors.get(i, "") for i in ids]})

    def _score(self, good: list, errors: dict[str, str], cache_cls: Any) -> list[tuple[str, dict]]:
        if not good:
            return []
        try:
            results = self.scorer.score(self.model, [g[2] for g in good], seed=self.spec.seed, cache=cache_cls())
            return [(i, self._row(d, res)) for (i, d, _), res in zip(good, results)]
        except Exception as e:  # one bad row fails its batch: retry the rows alone
            if len(good) == 1:
                errors[good[0][0]] = f"{type(e).__name__}: {e}"
                return []
            return [x for g in good for x in self._score([g], errors, cache_cls)]

    def _row(self, data: dict, res: Any) -> dict:
        out = dict(data)
        out.update(answer=res.answer, scores=res.scores, risk=res.risk, decision=res.decision)
        approx = getattr(self.model, "approximations", None)
        if approx:
            out["approximations"] = approx
        if self.spec.details:
            out["details"] = res.details
        if self.spec.producer:
            out["producer"] = self.spec.producer
        return out

    def _write(self, kind: str, rows: list[dict], fmt: str | None = None) -> None:
        fmt = fmt or self.output_format
        ids = json.dumps(sorted(json.dumps(r["id"]) for r in rows))
        name = f"{kind}-{hashlib.sha256(ids.encode()).hexdigest()[:20]}.{fmt}"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.output)
        try:
            with os.fdopen(fd, "wb") as f:
                if fmt == "jsonl":
                    f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
                else:
                    import pyarrow.parquet as pq

                    pq.write_table(_pa().Table.from_pylist(rows), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.output / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def read_results(output: str | Path) -> list[dict]:
    """Every scored row in an output folder, one per id (a batch retried after a worker died
    may have been written twice: the copies are identical)."""
    rows: dict[str, dict] = {}
    for r in _iter_parts(Path(output)):
        rows[json.dumps(r["id"])] = r
    return list(rows.values())


def finished_ids(output: Path) -> set[str]:
    """JSON-encoded ids already scored in `output` (error parts excluded)."""
    return {json.dumps(r["id"]) for r in _iter_parts(output, columns=["id"])}


def _iter_parts(output: Path, columns: list[str] | None = None) -> Iterator[dict]:
    if not output.is_dir():
        return
    for f in sorted(output.glob("part-*")):
        if f.suffix == ".jsonl":
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{f}: line {n} is not valid JSON ({e}); move the file away") from None
        elif f.suffix == ".parquet":
            import pyarrow.parquet as pq

            yield from pq.read_table(f, columns=columns).to_pylist()


def _pa() -> Any:
    import pyarrow

    return pyarrow


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return ray
