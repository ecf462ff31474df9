"""Foreign exceptions mapped to khabar's, once, where they enter (as httpx maps httpcore's).

The openai client raises its own typed errors; instructor raises its own when
an answer never parses. :func:`map_api_error` turns the first kind into the
:class:`~khabar.errors.ProviderError` a user can act on. A khabar error that
one of our transports raised (a missing recording, a model that cannot load)
reaches the openai client as a transport failure, which wraps it in
``APIConnectionError``: that one wrapping is undone here, and nowhere else.
"""

from __future__ import annotations

import json

import openai

from khabar.errors import (
    AuthenticationError,
    KhabarError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    TransportError,
    redact,
)

__all__ = ["map_api_error", "short"]


def short(exc: BaseException) -> str:
    """The first lines of an exception's message, redacted and bounded."""
    lines = str(exc).splitlines()
    return redact(" ".join(lines[:3]))[:300]


def map_api_error(exc: BaseException, article_id: str | None) -> KhabarError:
    """The khabar error for a failure of the openai client (or of a transport beneath it)."""
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
            f"the request timed out after every retry: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APIConnectionError):
        return TransportError(
            f"the connection failed after every retry: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.InternalServerError):
        return TransportError(f"the endpoint kept failing (5xx): {msg}", article_id=article_id)
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
