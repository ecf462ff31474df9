"""Transport retries: one tenacity policy, applied below the openai client.

Retrying at the HTTP transport keeps the three retry loops apart: the openai
client's own retries are switched off (``max_retries=0``), instructor only
re-asks answers that do not parse, the pipeline re-asks answers that fail
verification, and this layer alone retries what the endpoint failed to answer.
Attempts never multiply.

*Which* responses are retried, and how ``Retry-After`` is read, is the openai
SDK's decision, not ours: :func:`should_retry` and :func:`retry_after_seconds`
follow its rules (``x-should-retry`` first, then 408, 409, 429 and 5xx; no
retry when the server asks for more than two minutes; ``retry-after-ms``, then
``retry-after`` as seconds or an HTTP date), and ``tests/test_retry.py`` checks
them against the SDK's own functions on a table of responses, so an SDK that
changes its mind fails our tests. What khabar adds: a shared rate gate,
retries of bodies cut off mid-JSON, and counts for provenance; and two
exceptions to the SDK's rules, where a retry cannot help:

* a response whose body is a request-validation error (a pydantic
  ``literal_error`` that llama-cpp-python's server sends as HTTP 500) is final:
  the same request fails the same way;
* a read timeout against a self-hosted server (``retry_read_timeouts=False``)
  is final too: the server is still computing the abandoned request, so a
  retry only queues a second copy behind it.

A 429 with ``Retry-After`` also closes a :class:`RateGate` shared by every
request of a run, so a rate limit slows the whole batch down instead of each
worker hammering the endpoint on its own schedule.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json
import logging
import math
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlunsplit

import httpx2
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from khabar.errors import TransportError

__all__ = [
    "CallStats",
    "RateGate",
    "RetryPolicy",
    "RetryTransport",
    "call_stats",
    "request_validation_detail",
    "retry_after_seconds",
    "should_retry",
]

logger = logging.getLogger("khabar")

# The openai SDK's ceiling: a server asking for a longer wait is not retried.
MAX_RETRY_AFTER = 120.0


@dataclass
class CallStats:
    """Per-article counters, carried in a context variable so concurrent articles don't mix."""

    article_id: str | None = None
    http_attempts: int = 0
    transport_retries: int = 0
    reasks: int = 0
    statuses: list[int] = field(default_factory=list)
    # Seconds the article's calls waited for a model busy with other articles (the
    # embedded model takes one at a time): not the model's latency.
    queue_s: float = 0.0


call_stats: contextvars.ContextVar[CallStats | None] = contextvars.ContextVar(
    "khabar_call_stats", default=None
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failing request."""

    max_retries: int = 5
    base_wait: float = 0.5
    max_wait: float = 60.0
    # False for self-hosted servers: see the module docstring.
    retry_read_timeouts: bool = True

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped: attempt 1 waits up to base_wait."""
        ceiling = min(self.max_wait, self.base_wait * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def retry_after_seconds(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def should_retry(response: httpx2.Response) -> bool:
    """Whether the openai SDK would retry ``response``; see the module docstring."""
    retry_after = retry_after_seconds(response.headers)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > MAX_RETRY_AFTER:
        return False
    header = response.headers.get("x-should-retry")
    if header == "true":
        return True
    if header == "false":
        return False
    return response.status_code in (408, 409, 429) or response.status_code >= 500


# The shape of a pydantic / FastAPI validation error, in JSON or in Python's repr of it
# (llama-cpp-python's server puts ``str(exc)`` in the message): a "loc" and a "msg".
_LOC = re.compile(r"""['"]loc['"]\s*:\s*[\[(]([^\])]*)[\])]""")
_MSG = re.compile(r"""['"]msg['"]\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
# pydantic's own str(): "1 validation error for Model\nfield\n  Input should be ... [type=literal_error".
_PYDANTIC_STR = re.compile(r"validation errors? for \w+\s+(\S+)\s+(.+?)\s*\[type=", re.S)


def request_validation_detail(body: bytes | str) -> str | None:
    """Where and why, when ``body`` is a request-validation error (pydantic's); else None.

    >>> request_validation_detail(b'{"detail": [{"loc": ["body", "seed"], "msg": "bad"}]}')
    'body.seed: bad'
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if "loc" not in text and "validation error" not in text:
        return None  # the common case (any other error body), decided without parsing
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = text
    if isinstance(data, dict) and isinstance(data.get("detail"), list):  # FastAPI's 422
        for item in data["detail"]:
            if isinstance(item, dict) and "loc" in item and "msg" in item:
                where = ".".join(str(part) for part in item["loc"] or ())
                return f"{where}: {item['msg']}"[:200]
    for string in _strings(data):
        loc, msg = _LOC.search(string), _MSG.search(string)
        if loc is not None and msg is not None:
            where = ".".join(
                part.strip().strip("'\"") for part in loc.group(1).split(",") if part.strip()
            )
            why = msg.group(1) if msg.group(1) is not None else msg.group(2)
            return f"{where}: {why}"[:200]
        match = _PYDANTIC_STR.search(string)
        if match is not None:
            return f"{match.group(1)}: {match.group(2)}"[:200]
    return None


def _strings(data: Any) -> list[str]:
    """Every string in a parsed JSON body (error messages nest at any depth)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return []


def _server_wait(headers: httpx2.Headers) -> float | None:
    """The wait the server asked for, when the SDK would honour it (0 < wait <= 2 min)."""
    wait = retry_after_seconds(headers)
    if wait is not None and math.isfinite(wait) and 0 < wait <= MAX_RETRY_AFTER:
        return wait
    return None


class RateGate:
    """A shared "not before" time: a 429 with Retry-After holds back every request of the run."""

    def __init__(self) -> None:
        self._not_before = 0.0

    def close_for(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    async def wait(self) -> None:
        delay = self._not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class _RetryableStatus(Exception):
    def __init__(self, response: httpx2.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class _TruncatedBody(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        super().__init__("response body is not complete JSON")
        self.response = response


_TRANSIENT = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


def _read_timeout_error(request: httpx2.Request) -> TransportError:
    url = request.url
    # Scheme, host and port only: never the credentials or the query of the URL.
    endpoint = urlunsplit(
        (url.scheme, f"{url.host}:{url.port}" if url.port else url.host, "", "", "")
    )
    timeout = request.extensions.get("timeout") or {}
    read = timeout.get("read") if isinstance(timeout, dict) else None
    waited = f"{read:g} s" if isinstance(read, (int, float)) else "the timeout"
    return TransportError(
        f"the self-hosted endpoint {endpoint} sent no answer within {waited} (KHABAR_TIMEOUT); "
        "khabar did not retry, because the server is most likely still computing the "
        "abandoned request and a retry would only queue a second copy behind it",
        hint="Raise KHABAR_TIMEOUT (or --timeout) above the time one answer takes on this "
        "server: 600 to 1800 s for a model on a CPU (see .env.example).",
    )


class RetryTransport(httpx2.AsyncBaseTransport):
    """Retry transient failures of ``inner`` with backoff, honouring Retry-After."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        gate: RateGate | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.gate = gate or RateGate()

    def _wait(self, state: RetryCallState) -> float:
        backoff = self.policy.backoff(state.attempt_number)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            # The server knows better than our backoff; still cap it so a bogus
            # header ("Retry-After: 86400") can't park a batch for a day.
            return min(self.policy.max_wait, max(exc.retry_after, 0.0))
        return backoff

    def _before_sleep(self, state: RetryCallState) -> None:
        stats = call_stats.get()
        if stats is not None:
            stats.transport_retries += 1
        exc = state.outcome.exception() if state.outcome else None
        logger.info(
            "retrying request%s after %s (attempt %d)",
            f" for {stats.article_id}" if stats and stats.article_id else "",
            type(exc).__name__ if not isinstance(exc, _RetryableStatus) else exc,
            state.attempt_number,
        )

    async def _attempt(self, request: httpx2.Request) -> httpx2.Response:
        await self.gate.wait()
        stats = call_stats.get()
        if stats is not None:
            stats.http_attempts += 1
        try:
            response = await self.inner.handle_async_request(request)
        except httpx2.ReadTimeout as exc:
            if self.policy.retry_read_timeouts:
                raise
            raise _read_timeout_error(request) from exc
        try:
            # Read the whole body here, inside the retry loop: a connection that
            # drops mid-body must be retried, not surface later in the parser.
            await response.aread()
        finally:
            await response.aclose()
        if stats is not None:
            stats.statuses.append(response.status_code)
        if response.status_code >= 400 and request_validation_detail(response.content):
            # The server refused the request's shape: the same request fails the same way.
            return response
        if should_retry(response):
            retry_after = _server_wait(response.headers)
            if response.status_code == 429 and retry_after:
                self.gate.close_for(min(retry_after, self.policy.max_wait))
            raise _RetryableStatus(response, retry_after)
        if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
            try:
                json.loads(response.content)
            except ValueError as exc:
                raise _TruncatedBody(response) from exc
        return response

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type((_RetryableStatus, _TruncatedBody, *_TRANSIENT)),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(request)
        except (_RetryableStatus, _TruncatedBody) as exc:
            # Out of retries: hand the last real response up, so the openai client
            # raises its own typed error (RateLimitError, InternalServerError...).
            headers = [
                (k, v)
                for k, v in exc.response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx2.Response(
                exc.response.status_code,
                headers=headers,
                content=exc.response.content,
                request=request,
            )
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def aclose(self) -> None:
        await self.inner.aclose()
