"""Parity of `score` on gemma3-270m with a direct forward of an independently loaded model.

The reference is loaded by transformers straight from the GGUF (`from_pretrained(dir,
gguf_file=...)`, dequantized in this process, not from llminfo's cached copy) with the GGUF's
own tokenizer, which does not add `<bos>`; the script prepends it by hand. `score` must equal
the reference with `<bos>` within 1e-5 (log-probs) and differ from it without `<bos>`.

    python scripts/verify_gemma_parity.py   → bench_results/gemma_parity.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QA = [
    ("What is the capital of France?", " Paris"),
    ("Who wrote the play Hamlet?", " William Shakespeare"),
    ("What is the chemical symbol for gold?", " Au"),
    ("How many continents are there?", " Seven"),
    ("Which planet is known as the Red Planet?", " Mars"),
    ("What is the largest ocean on Earth?", " The Pacific Ocean"),
]


def main() -> None:
    import importlib

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llminfo.analyzers.prompts import question_prompt
    from llminfo.models import load_model
    from llminfo.models.embedded import EMBEDDED_MODELS

    torch.set_num_threads(1)
    t0 = time.time()
    entry = EMBEDDED_MODELS["gemma3-270m"]
    model = load_model("gemma3-270m")
    prompts = [question_prompt(model, q) for q, _ in QA]
    conts = [a for _, a in QA]
    scored = model.score(prompts, conts)
    with tempfile.TemporaryDirectory() as tmp:
        gguf = importlib.import_module(entry.module).assemble(output_path=Path(tmp) / entry.gguf_file)
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        ref = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name).eval()  # dequantized to fp32
    bos = tok.bos_token_id
    out = {"pairs": len(QA), "gguf_tokenizer_adds_bos": tok("x")["input_ids"][0] == bos}
    diffs_bos, diffs_nobos, ent_diffs = [], [], []
    for p, c, s in zip(prompts, conts, scored):
        p_ids = tok(p, add_special_tokens=False)["input_ids"]
        c_ids = tok(c, add_special_tokens=False)["input_ids"]
        assert c_ids == s.token_ids, (c, c_ids, s.token_ids)
        for with_bos in (True, False):
            ids = ([bos] if with_bos else []) + p_ids + c_ids
            with torch.no_grad():
                logits = ref(torch.tensor([ids])).logits[0].float()
            logp = torch.log_softmax(logits[len(ids) - len(c_ids) - 1 : -1], dim=-1)
            lp = logp.gather(1, torch.tensor(c_ids)[:, None])[:, 0].numpy()
            d = np.abs(np.asarray(s.logprobs) - lp)
            if with_bos:
                diffs_bos.append(float(d.max()))
                ent = -(logp.exp() * logp).sum(-1).numpy()
                ent_diffs.append(float(np.abs(np.asarray(s.entropy) - ent).max()))
            else:
                diffs_nobos.append(float(d.max()))
    out.update({
        "max_abs_logprob_diff_with_bos": max(diffs_bos),
        "max_abs_entropy_diff_with_bos": max(ent_diffs),
        "min_over_pairs_of_max_abs_logprob_diff_without_bos": min(diffs_nobos),
        "parity_1e-5": max(diffs_bos) <= 1e-5,
        "seconds": round(time.time() - t0, 1),
        "loadavg": os.getloadavg(),
        "command": "python scripts/verify_gemma_parity.py",
    })
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "gemma_parity.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
