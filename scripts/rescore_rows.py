"""Re-score some methods of a quality run's rows with the current code, in place.

For a fix that changes some methods' scores (e.g. the leading space of base-model answers,
`prompts.answer_prefix`), the other methods' scores and the labels stay as they are: each row
gets the new scores of `--methods` (same greedy answer: the row's `answer` is given), and the
replaced values are kept under `replaced` with `--tag` so the report can show both; the
row's kept `details` of a re-scored method are replaced too. The rows
file is rewritten atomically after every batch: an interruption keeps what is done, and a
rerun skips rows already tagged.

    python scripts/rescore_rows.py --model gemma3-270m --rows bench_results/quality_hallucination_rows_v2_gemma3-270m.jsonl \
        --methods msp perplexity mean_entropy edfl_answer --tag answer_prefix
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--methods", nargs="+", required=True)
    ap.add_argument("--tag", required=True, help="name of the change; rows holding it are skipped")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="redo rows already tagged (their first replaced values stay)")
    args = ap.parse_args()

    import torch

    from quality_hallucination import KEEP_DETAILS

    from llminfo.analyzers.scorer import HallucinationScorer
    from llminfo.fileio import atomic_write_text
    from llminfo.models import load_model

    path = Path(args.rows)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    todo = [i for i, r in enumerate(rows) if args.force or args.tag not in r.get("replaced", {})]
    if not todo:
        print("nothing to do")
        return
    torch.set_num_threads(int(os.environ.get("LLMINFO_THREADS", "1")))
    model = load_model(args.model)
    scorer = HallucinationScorer(args.methods, calibrator=None)
    t0 = time.process_time()
    for start in range(0, len(todo), args.batch):
        chunk = todo[start : start + args.batch]
        qa = [{"question": rows[i]["question"], "answer": rows[i]["answer"]} for i in chunk]
        _answers, scores, details = scorer.raw_scores(model, qa, seed=args.seed)
        for i, s, d in zip(chunk, scores, details):
            old = {n: rows[i]["scores"].get(n) for n in scorer.names}
            rows[i].setdefault("replaced", {}).setdefault(args.tag, old)
            rows[i]["scores"].update({n: (float(v) if np.isfinite(v) else None) for n, v in zip(scorer.names, s)})
            for m in scorer.names:  # the kept details of a re-scored method follow its new score
                if m in KEEP_DETAILS and m in d:
                    rows[i].setdefault("details", {})[m] = {k: d[m][k] for k in KEEP_DETAILS[m] if k in d[m]}
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
        n = start + len(chunk)
        print(f"{n}/{len(todo)} rows, {(time.process_time() - t0) / n:.2f} CPU-s/row, load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
