"""Helpers of `OpenAIModel` for talking to a server: URL checks, error messages, the tokenizer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def check_base_url(base_url: str) -> str:
    """`base_url` must be an http(s) URL with a host; errors name the argument."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError(f"`base_url` has to be the server's URL, e.g. http://127.0.0.1:8000/v1, got {base_url!r}")
    parsed = urlparse(base_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"`base_url` {base_url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8000/v1")
    try:
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"`base_url` {base_url!r} has an invalid port") from None
    return base_url.strip().rstrip("/")


def load_tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer

    from llminfo.models.loading import resolve_model_path

    try:
        return AutoTokenizer.from_pretrained(resolve_model_path(name_or_path))
    except Exception as e:
        raise ValueError(
            f"OpenAIModel needs the served model's tokenizer here (chat template, token ids) and could not load it "
            f"from {name_or_path!r}: pass `tokenizer=` a local folder or hub id ({' '.join(str(e).split())[:200]})"
        ) from None


def describe_failure(e: Exception, base_url: str, what: str) -> str:
    import openai

    if isinstance(e, openai.APITimeoutError):
        return f"OpenAI-compatible server at {base_url} timed out ({what}); raise `timeout` or lower the load"
    if isinstance(e, openai.APIConnectionError):
        return f"cannot reach an OpenAI-compatible server at {base_url} ({what}): is it running? ({e.__cause__ or e})"
    if isinstance(e, openai.APIStatusError):
        body = " ".join(str(getattr(e, "message", e)).split())[:300]
        retried = " after retries" if e.status_code == 429 or e.status_code >= 500 else ""
        return f"server at {base_url} answered HTTP {e.status_code}{retried} ({what}): {body}"
    return f"request to {base_url} failed ({what}): {type(e).__name__}: {e}"
