"""Foreign exceptions mapped to khabar's, once, where they enter (as httpx maps httpcore's).

The openai client raises its own typed errors; instructor raises its own when
an answer never parses. :func:`map_api_error` turns the first kind into the
:class:`~khabar.errors.ProviderError` a user can act on. A khabar error that
one of our transports raised (a missing recording, a model that cannot load)
reaches the openai client as a transport failure, which wraps it in
``APIConnectionError``: that one wrapping is undone here, and nowhere else.

Two refusals get their own message, whatever their status code, because the
user can fix them and a retry cannot: a request that does not fit the model's
context window, and a request the server's validation refused (usually a
structured-output mode the server does not support).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from khabar.errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    KhabarError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    TransportError,
    redact,
)

from .retry import request_validation_detail

if TYPE_CHECKING:
    import openai

__all__ = ["map_api_error", "short"]

# llama-cpp-python ("Requested tokens (4143) exceed context window of 2048"), OpenAI and
# vLLM ("maximum context length is N tokens", code context_length_exceeded), llama.cpp's
# llama-server ("exceeds the available context size", exceed_context_size_error).
_CONTEXT = re.compile(
    r"context_length_exceeded|maximum context length|exceeds? (?:the )?context window"
    r"|exceed_context_size|exceeds? the available context size",
    re.I,
)
_CONTEXT_NUMBERS = (
    re.compile(r"Requested tokens \((?P<asked>\d+)\) exceed context window of (?P<ctx>\d+)"),
    re.compile(
        r"maximum context length is (?P<ctx>\d+) tokens.*?(?:requested|resulted in) (?P<asked>\d+)",
        re.S,
    ),
)
_CONTEXT_HINT = (
    "Give the model a larger context (the server's context size: llama.cpp -c / --n_ctx, "
    "vLLM --max-model-len, Ollama num_ctx; KHABAR_LOCAL_N_CTX for the embedded model), or "
    "send less: lower KHABAR_MAX_TOKENS (room kept for the answer) or KHABAR_MAX_ARTICLE_CHARS "
    "(longer articles are truncated to it)."
)
_MODE_HINT = (
    "The server refused the shape of khabar's request; when the field is response_format, "
    "tools or tool_choice, it does not support this structured-output mode: set "
    "KHABAR_MODE (or --mode) to tools, json_schema or json, whichever it supports "
    "(see the README's endpoint table)."
)


def _endpoint(exc: BaseException) -> str:
    """`` at scheme://host:port`` of the failed request, never its credentials or query."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    host = getattr(url, "host", None)
    if not host:
        return ""
    port = getattr(url, "port", None)
    return f" at {url.scheme}://{host}{f':{port}' if port else ''}"  # type: ignore[union-attr]


def _body_text(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text
    except Exception:  # a streamed or closed response: the message is all we have
        return str(exc)


def _context_error(text: str, status: int, where: str, article_id: str | None) -> KhabarError:
    detail = ""
    for pattern in _CONTEXT_NUMBERS:
        match = pattern.search(text)
        if match is not None:
            detail = (
                f": the request needs {match['asked']} tokens and the context holds {match['ctx']}"
            )
            break
    return ContextLengthError(
        f"the request does not fit the model's context window (HTTP {status}{where}){detail}",
        article_id=article_id,
        hint=_CONTEXT_HINT,
    )


def _status_error(exc: openai.APIStatusError, article_id: str | None) -> KhabarError | None:
    """The specific error for a refusal a retry cannot fix, or None."""
    text = _body_text(exc)
    where = _endpoint(exc)
    if _CONTEXT.search(text):
        return _context_error(text, exc.status_code, where, article_id)
    invalid = request_validation_detail(text)
    if invalid is not None:
        return InvalidRequestError(
            f"the endpoint{where} refused the request as invalid (HTTP {exc.status_code}, "
            f"request validation failed at {invalid})",
            article_id=article_id,
            hint=_MODE_HINT,
        )
    return None


def short(exc: BaseException) -> str:
    """The first lines of an exception's message, redacted and bounded."""
    lines = str(exc).splitlines()
    return redact(" ".join(lines[:3]))[:300]


def map_api_error(exc: BaseException, article_id: str | None) -> KhabarError:
    """The khabar error for a failure of the openai client (or of a transport beneath it)."""
    # Imported here: a warm rerun served from the cache never pays for importing openai.
    import openai

    if isinstance(exc, KhabarError):
        inner: KhabarError | None = exc
    elif isinstance(exc, openai.APIConnectionError) and isinstance(exc.__cause__, KhabarError):
        inner = exc.__cause__
    else:
        inner = None
    if inner is not None:
        if inner.article_id is None:
            inner.article_id = article_id
        return inner
    msg = short(exc)
    if isinstance(exc, openai.APIStatusError):
        specific = _status_error(exc, article_id)
        if specific is not None:
            return specific
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return AuthenticationError(
            f"the endpoint refused the credentials: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.RateLimitError):
        return RateLimitError(f"rate-limited (429) after every retry: {msg}", article_id=article_id)
    if isinstance(exc, openai.NotFoundError):
        return ModelNotFoundError(
            f"the endpoint does not know this model: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APITimeoutError):
        return TransportError(
            f"the request to the endpoint{_endpoint(exc)} timed out after every retry: {msg}",
            article_id=article_id,
        )
    if isinstance(exc, openai.APIConnectionError):
        return TransportError(
            f"the connection to the endpoint{_endpoint(exc)} failed after every retry: {msg}",
            article_id=article_id,
        )
    if isinstance(exc, openai.InternalServerError):
        return TransportError(
            f"the endpoint{_endpoint(exc)} kept failing (5xx): {msg}", article_id=article_id
        )
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError)):
        return TransportError(
            f"the endpoint's response was not valid JSON: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(
            f"the endpoint answered HTTP {exc.status_code}: {msg}", article_id=article_id
        )
    return ProviderError(
        f"the model call failed: {type(exc).__name__}: {msg}", article_id=article_id
    )
