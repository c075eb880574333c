"""Scale-out: `llminfo score` as a Ray Data pipeline (`score_on_ray`).

`ray` is an optional extra (`pip install 'llminfo[ray]'`); nothing here imports it until a
job runs. See `llminfo.scale.ray_job` and the README section "Scaling out".
"""

from __future__ import annotations

from llminfo.scale.ray_job import RayEngine, read_results, score_on_ray

__all__ = ["RayEngine", "read_results", "score_on_ray"]
