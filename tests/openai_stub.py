"""A small OpenAI-compatible completions server on 127.0.0.1 backed by an in-process HFModel.

For `OpenAIModel` tests without vLLM: `/v1/models` and `/v1/completions` (token-id prompts;
`echo` + `logprobs` for scoring, greedy generation), with injectable failures: a queue of
HTTP statuses answered before the real response (429, 500, ...), each with `Retry-After: 0`.
Log-probabilities come from a direct forward pass of the wrapped transformers model
(independent of `HFModel.score`). vLLM-style `top_logprobs` keys `token_id:N`.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch


class StubServer:
    def __init__(self, hf_model, name: str = "stub", owned_by: str = "vllm"):
        self.hf = hf_model
        self.name = name
        self.owned_by = owned_by
        self.fail_with: list[int] = []  # statuses to answer first, one per request
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _fail(self) -> bool:
                with stub.lock:
                    status = stub.fail_with.pop(0) if stub.fail_with else None
                if status is None:
                    return False
                self._send(status, {"error": {"message": f"stub says {status}", "code": status}}, {"Retry-After": "0"})
                return True

            def do_GET(self):
                if self._fail():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [
                        {"id": stub.name, "object": "model", "owned_by": stub.owned_by, "max_model_len": 256}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append(body)
                if self._fail():
                    return
                if self.path.rstrip("/") != "/v1/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                if body.get("model") != stub.name:
                    return self._send(404, {"error": {"message": f"model {body.get('model')} does not exist"}})
                self._send(200, stub.complete(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "StubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the model ---------------------------------------------------------------------

    @torch.no_grad()
    def _logprobs(self, ids: list[int]) -> torch.Tensor:
        """(len(ids), vocab) log-softmax rows: row t predicts token t + 1."""
        out = self.hf.model(input_ids=torch.tensor([ids]))
        return torch.log_softmax(out.logits[0].float(), dim=-1)

    def _top(self, row: torch.Tensor, k: int) -> dict[str, float]:
        if k == 0:
            return {}
        vals, idx = row.topk(row.numel() if k < 0 else k)
        return {f"token_id:{int(i)}": float(v) for v, i in zip(vals, idx)}

    def complete(self, body: dict) -> dict:
        prompts = body["prompt"]
        if prompts and isinstance(prompts[0], int):
            prompts = [prompts]
        k = body.get("logprobs")
        choices = []
        for i, ids in enumerate(prompts):
            ids = list(ids)
            steps = max(1, int(body.get("max_tokens") or 1))
            toks, lps, tops = [], [], []
            seq = list(ids)
            for _ in range(steps):  # greedy
                row = self._logprobs(seq)[-1]
                t = int(row.argmax())
                toks.append(t)
                lps.append(float(row[t]))
                tops.append({**self._top(row, k or 0), f"token_id:{t}": float(row[t])})
                seq.append(t)
            if body.get("echo"):
                rows = self._logprobs(ids)
                p_lps = [None] + [float(rows[t - 1, ids[t]]) for t in range(1, len(ids))]
                p_tops = [None] + [{**self._top(rows[t - 1], k or 0), f"token_id:{ids[t]}": float(rows[t - 1, ids[t]])}
                                   for t in range(1, len(ids))]
                toks, lps, tops = ids + toks, p_lps + lps, p_tops + tops
            choices.append({
                "index": i, "text": self.hf.tokenizer.decode(toks[len(ids):] if body.get("echo") else toks),
                "finish_reason": "length",
                "logprobs": None if k is None else {
                    "tokens": [f"token_id:{t}" for t in toks], "token_logprobs": lps, "top_logprobs": tops,
                    "text_offset": [0] * len(toks)},
            })
        return {"id": "cmpl-stub", "object": "text_completion", "created": 0, "model": self.name, "choices": choices,
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
