"""`llminfo eval` batches on Ray actors: the config key `engine: {kind: ray, ...}`.

The runner (`llminfo.eval.runner.run_eval`) stays the one place that loads items, resumes
and writes `results.jsonl`; with an engine it hands the items still to do to
`eval_batches_on_ray`, which runs `task.run_batch` on `RayEngine.workers` actors (each with
its own model and task) through Ray Data `map_batches`, and yields `(items, rows, consumed)`
back as batches finish, in any order; an item that fails is retried alone on the worker and,
if it fails again, reported and skipped (a rerun retries it), as in one process. The runner appends and fsyncs each batch, so an interrupted
run resumes as it does in one process; a dead actor is restarted and its batch retried by
Ray (`max_restarts`). Every task is batch-independent (samples seeded per item), so rows
equal the one-process run's.

Example config:

    task: qa-hallucination
    model: {name: default}
    dataset: {path: llminfo:factual_qa}
    engine: {kind: ray, workers: 4, gpus_per_worker: 1}     # address: auto for a cluster
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

from llminfo.eval.runner import _json_default
from llminfo.scale.ray_job import RayEngine, _import_ray


class EvalActor:
    """Holds one model and one task built from the eval config; runs `task.run_batch`."""

    def __init__(self, config: Any, threads: int = 1):
        import torch

        from llminfo.eval.runner import load_model_from_config
        from llminfo.eval.tasks import get_task

        torch.set_num_threads(threads)
        self.task = get_task(config.task)(config)
        self.model = load_model_from_config(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from llminfo.analyzers.score_file import scored_chunks

        items = [json.loads(s) for s in batch["item"]]
        failures: list[str] = []

        def run(chunk: list[dict]) -> list[dict]:
            rows = self.task.run_batch(self.model, chunk)
            if len(rows) != len(chunk):
                raise RuntimeError(f"task {self.task.name} returned {len(rows)} rows for {len(chunk)} items")
            return rows

        # As in one process: a failing batch is retried item by item; an item that fails alone
        # is reported (to the driver) and skipped, and a rerun retries it.
        good, rows = [], []
        for ok, res, _ in scored_chunks(items, len(items), run, warn=failures.append, describe=lambda it: f"item {it['key']!r}"):
            good += ok
            rows += res
        return {
            "item": [json.dumps(good, default=_json_default)],
            "row": [json.dumps(rows, default=_json_default)],
            "consumed": [len(items)],
            "failures": [json.dumps(failures)],
        }


def eval_batches_on_ray(
    config: Any, todo: list[dict[str, Any]], *, warn: Callable[[str], None], describe: Callable[[dict], str]
) -> Iterator[tuple[list[dict], list[dict], int]]:
    """Yield `(items scored, rows, items consumed)` per finished batch, running `config`'s task
    on Ray actors; items that failed are reported through `warn`."""
    engine = RayEngine.from_config(config.engine, where="engine")
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(address=engine.address, ignore_reinit_error=True, log_to_driver=False)
    ds = ray.data.from_items([{"item": json.dumps(it, default=_json_default)} for it in todo])
    out = ds.map_batches(
        EvalActor,
        fn_constructor_kwargs={"config": config, "threads": max(1, int(engine.cpus_per_worker))},
        batch_size=config.batch_size,
        batch_format="numpy",
        concurrency=engine.workers,
        num_gpus=engine.gpus_per_worker,
        num_cpus=engine.cpus_per_worker,
        **({} if engine.max_restarts == -1 else {"max_restarts": engine.max_restarts}),
    )
    for batch in out.iter_rows():
        for msg in json.loads(batch["failures"]):
            warn(f"skipping item that failed: {config.dataset.path}: {msg}")
        yield json.loads(batch["item"]), json.loads(batch["row"]), int(batch["consumed"])
