"""`typical-decoding`: repetition, diversity and typicality of text under decoding settings.

Each entry of `methods` is a decoding setting — a label and `LanguageModel.generate`
arguments (`temperature`, `top_p`, `top_k`, `typical_p`); the default is the comparison of
Meister et al. (TACL 2023): typical τ ∈ {0.2, 0.9, 0.95}, nucleus 0.95, top-k 50, pure
sampling, greedy. Per prompt and setting the row keeps the completion's text, token ids and
its measures from `llminfo.analyzers.decoding` (seq-rep-n, distinct-n, mean
|surprisal − entropy|). Metrics per setting: mean rep-n, corpus distinct-n, token-weighted
|surprisal − entropy|, mean length, share cut by the token limit; a bootstrap interval
(over prompts) for rep-4.

Example config (`methods` entries):

    methods:
      - {name: typical_0.9, typical_p: 0.9}
      - {name: nucleus_0.95, top_p: 0.95}
      - {name: greedy, temperature: 0}
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from llminfo.analyzers import decoding
from llminfo.eval import metrics as M
from llminfo.eval.config import ConfigError
from llminfo.eval.tables import summary_table
from llminfo.eval.tasks import Param, Task

NS = (1, 2, 3, 4)


class TypicalDecodingTask(Task):
    name = "typical-decoding"
    fields = {"prompt": True}
    params = {
        "max_new_tokens": Param(int, 96, "tokens per completion: an integer >= 1", lambda x: x >= 1),
        "samples": Param(int, 1, "samples per prompt and setting: an integer >= 1", lambda x: x >= 1),
        "chat": Param(bool, False, "wrap each prompt in the chat template: true or false"),
        "instruction": Param(str, "Continue the story.", "text put before the prompt when chat is true: a string"),
    }
    metric_names = ("rep", "distinct", "surprisal_deviation", "mean_tokens", "frac_length")

    @classmethod
    def settings_from(cls, methods: Sequence[Any]) -> list[Any]:
        dec = decoding
        if not methods:
            return dec.standard_settings()
        out = []
        for i, m in enumerate(methods):
            try:
                out.append(dec.DecodingSetting.from_dict({"name": m.name, **m.params}, where=f"methods[{i}]"))
            except (TypeError, ValueError) as e:
                raise ConfigError(f"config key `methods[{i}]` ({m.name}): {e}") from None
        return out

    @classmethod
    def validate_methods(cls, cfg) -> None:
        cls.settings_from(cfg.methods)

    def __init__(self, config):
        super().__init__(config)
        self.settings = self.settings_from(config.methods)

    def run_batch(self, model: Any, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        dec = decoding
        prompts = [
            model.chat(f"{self.p['instruction']}\n\n{it['prompt']}") if self.p["chat"] else it["prompt"] for it in items
        ]
        rows: list[dict[str, Any]] = [{"prompt": it["prompt"], "settings": {}} for it in items]
        for s in self.settings:
            k = 1 if s.temperature == 0 else self.p["samples"]
            outs = model.generate(prompts, n=k, max_new_tokens=self.p["max_new_tokens"], seed=self.config.seed, **s.generate_kwargs())
            for row, comps in zip(rows, outs):
                row["settings"][s.name] = [
                    {"text": c.text, "token_ids": list(c.token_ids), **dec.completion_stats(c, NS).to_dict()} for c in comps
                ]
        return rows

    def compute_metrics(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        from llminfo.measures import distinct_n

        rep = self.config.report
        out: dict[str, Any] = {"n_items": len(rows), "settings": {}}
        for s in self.settings:
            comps = [c for r in rows for c in r["settings"].get(s.name, [])]
            if not comps:
                continue
            tokens = np.array([c["num_tokens"] for c in comps], float)
            m: dict[str, Any] = {"num_completions": len(comps)}
            for n in NS:
                m[f"rep_{n}"] = float(np.mean([c["rep"][str(n)] for c in comps]))
                m[f"distinct_{n}"] = float(distinct_n([c["token_ids"] for c in comps], n))
            dev = np.array([c["surprisal_deviation"] for c in comps], float)
            ok = np.isfinite(dev) & (tokens > 0)
            m["surprisal_deviation"] = float(np.sum(dev[ok] * tokens[ok]) / tokens[ok].sum()) if ok.any() else None
            m["mean_tokens"] = float(tokens.mean())
            m["frac_length"] = float(np.mean([c["finish_reason"] == "length" for c in comps]))
            if rep.bootstrap and len(rows) > 1:
                per_prompt = [np.mean([c["rep"]["4"] for c in r["settings"][s.name]]) for r in rows if r["settings"].get(s.name)]
                m["rep_4_ci"] = list(M.bootstrap_ci(np.mean, per_prompt, n_resamples=rep.bootstrap, level=rep.confidence_level, seed=self.config.seed))
            out["settings"][s.name] = m
        return out

    def figures(self, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[tuple[str, bytes]]:
        from llminfo.eval import report

        st = metrics.get("settings", {})
        if not st:
            return []
        errors = {k: tuple(v["rep_4_ci"]) for k, v in st.items() if v.get("rep_4_ci") and None not in v["rep_4_ci"] and v["rep_4_ci"][0] == v["rep_4_ci"][0]}
        figs = [
            ("Repetition vs setting: seq-rep-4 (share of repeated 4-grams; bars: bootstrap CI)",
             report.plot_bars({k: v["rep_4"] for k, v in st.items()}, "seq-rep-4", errors if len(errors) == len(st) else None)),
            ("Diversity vs setting: corpus distinct-4", report.plot_bars({k: v["distinct_4"] for k, v in st.items()}, "distinct-4")),
        ]
        dev = {k: v["surprisal_deviation"] for k, v in st.items() if v.get("surprisal_deviation") is not None}
        if dev:
            figs.append(("Local typicality: mean |surprisal − entropy| (nats) per setting", report.plot_bars(dev, "|−log p − H| (nats)")))
        figs.append(("Repetition vs length per setting",
                     report.plot_xy({k: ([v["mean_tokens"]], [v["rep_4"]]) for k, v in st.items()}, "mean tokens", "seq-rep-4")))
        return figs

    def summary(self, metrics: dict[str, Any]) -> str:
        cols = ["rep_4", "distinct_4", "surprisal_deviation", "mean_tokens", "frac_length"]
        return summary_table(f"prompts: {metrics['n_items']}", "setting", metrics.get("settings", {}), cols, width=21)
