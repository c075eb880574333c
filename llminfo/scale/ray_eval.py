"""`llminfo eval` batches on Ray actors: the config key `engine: {kind: ray, ...}`.

The runner (`llminfo.eval.runner.run_eval`) stays the one place that loads items, resumes
and writes `results.jsonl`; with an engine it hands the items still to do to
`eval_batches_on_ray`, which runs `task.run_batch` on `RayEngine.workers` actors (each with
its own model and task) through Ray Data `map_batches`, and yields `(batch, rows)` back as
batches finish, in any order. The runner appends and fsyncs each batch, so an interrupted
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
from typing import Any, Iterator

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
        items = [json.loads(s) for s in batch["item"]]
        rows = self.task.run_batch(self.model, items)
        if len(rows) != len(items):
            raise RuntimeError(f"task {self.task.name} returned {len(rows)} rows for {len(items)} items")
        return {"item": list(batch["item"]), "row": [json.dumps(r, default=_json_default) for r in rows]}


def eval_batches_on_ray(config: Any, todo: list[dict[str, Any]]) -> Iterator[tuple[list[dict], list[dict]]]:
    """Yield `(items, rows)` per finished batch, running `config`'s task on Ray actors."""
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
    for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
        yield [json.loads(s) for s in batch["item"]], [json.loads(s) for s in batch["row"]]

