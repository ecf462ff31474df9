"""The transport retry policy: what is retried, how long it waits, and that it is bounded."""

from __future__ import annotations

import time

import httpx2
import pytest

from khabar.llm.retry import (
    CallStats,
    RateGate,
    RetryPolicy,
    RetryTransport,
    call_stats,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        # As the openai SDK reads it; a wait that is not positive is then not honoured.
        ({"retry-after": "-4"}, -4.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
    ],
    ids=["seconds", "fraction", "ms", "negative", "absent", "garbage"],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx2.Headers(headers)) == expected


def test_retry_after_http_date() -> None:
    from email.utils import formatdate

    value = retry_after_seconds(
        httpx2.Headers({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    )
    assert value is not None and 25 <= value <= 31


@pytest.mark.parametrize("attempt", [1, 2, 5, 30])
def test_backoff_is_capped_and_jittered(attempt: int) -> None:
    policy = RetryPolicy(base_wait=0.5, max_wait=4.0)
    waits = {policy.backoff(attempt) for _ in range(50)}
    ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
    assert all(ceiling / 2 <= w <= ceiling for w in waits)
    assert len(waits) > 1


def scripted(statuses: list[int | type[Exception]], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        item = statuses[min(len(calls), len(statuses) - 1)]
        calls.append(1)
        if isinstance(item, type):
            raise item("boom")
        body = b'{"ok": true}' if item == 200 else b'{"error": {"message": "x"}}'
        return httpx2.Response(
            item, content=body, headers={"content-type": "application/json", **(headers or {})}
        )

    return httpx2.MockTransport(handler), calls


@pytest.mark.parametrize(
    ("script", "expected_status", "expected_calls"),
    [
        ([200], 200, 1),
        ([500, 200], 200, 2),
        ([502, 503, 504, 200], 200, 4),
        ([429, 200], 200, 2),
        ([400], 400, 1),
        ([401], 401, 1),
        ([500, 500, 500, 500], 500, 4),
    ],
    ids=["ok", "500-ok", "5xx-chain", "429-ok", "400-final", "401-final", "exhausted"],
)
async def test_status_retries(script: list[int], expected_status: int, expected_calls: int) -> None:
    transport, calls = scripted(script)  # type: ignore[arg-type]
    retry = RetryTransport(transport, RetryPolicy(max_retries=3, base_wait=0.001, max_wait=0.01))
    stats = CallStats(article_id="a")
    token = call_stats.set(stats)
    try:
        async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
            response = await client.post("/v1/chat/completions", json={})
    finally:
        call_stats.reset(token)
    assert response.status_code == expected_status
    assert len(calls) == expected_calls
    assert stats.transport_retries == expected_calls - 1
    assert stats.http_attempts == expected_calls


async def test_connection_errors_are_retried_then_raised() -> None:
    transport, calls = scripted([httpx2.ConnectError])  # type: ignore[list-item]
    retry = RetryTransport(transport, RetryPolicy(max_retries=2, base_wait=0.001, max_wait=0.01))
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        with pytest.raises(httpx2.ConnectError):
            await client.post("/x", json={})
    assert len(calls) == 3


async def test_truncated_json_body_is_retried() -> None:
    bodies = [b'{"choices": [', b'{"ok": true}']

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, content=bodies.pop(0), headers={"content-type": "application/json"}
        )

    retry = RetryTransport(
        httpx2.MockTransport(handler), RetryPolicy(max_retries=2, base_wait=0.001)
    )
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        response = await client.post("/x", json={})
    assert response.json() == {"ok": True}


async def test_retry_after_closes_the_shared_gate() -> None:
    transport, calls = scripted([429, 200], headers={"retry-after": "0.3"})  # type: ignore[list-item]
    gate = RateGate()
    retry = RetryTransport(transport, RetryPolicy(max_retries=2, base_wait=0.001, max_wait=5), gate)
    started = time.perf_counter()
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        await client.post("/x", json={})
        # Another request of the same run right after also respects the pause.
    assert time.perf_counter() - started >= 0.29
    assert len(calls) == 2


async def test_retry_after_is_capped() -> None:
    transport, _ = scripted([429, 200], headers={"retry-after": "86400"})  # type: ignore[list-item]
    retry = RetryTransport(transport, RetryPolicy(max_retries=1, base_wait=0.001, max_wait=0.2))
    started = time.perf_counter()
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        await client.post("/x", json={})
    assert time.perf_counter() - started < 2


_SDK_CASES = [
    (429, {}),
    (429, {"retry-after": "3"}),
    (429, {"retry-after": "500"}),
    (429, {"retry-after-ms": "250"}),
    (503, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    (500, {}),
    (502, {}),
    (504, {}),
    (520, {}),
    (408, {}),
    (409, {}),
    (400, {}),
    (401, {}),
    (404, {}),
    (422, {}),
    (400, {"x-should-retry": "true"}),
    (500, {"x-should-retry": "false"}),
    (429, {"x-should-retry": "false"}),
    (200, {}),
]


@pytest.mark.parametrize(("status", "headers"), _SDK_CASES, ids=[f"{s}-{h}" for s, h in _SDK_CASES])
def test_retry_decision_agrees_with_the_openai_sdk(status: int, headers: dict[str, str]) -> None:
    """Which responses are retried, and the Retry-After read, are the SDK's rules, not a fork.

    The SDK's own (private) functions are called here, in a test only, so that an SDK
    release that changes its rules fails this test instead of drifting apart silently.
    """
    import openai

    from khabar.llm.retry import should_retry

    sdk = openai.AsyncOpenAI(api_key="x", base_url="http://127.0.0.1:9/v1", max_retries=0)
    response = httpx2.Response(status, headers=headers)
    assert should_retry(response) == sdk._should_retry(response)
    ours = retry_after_seconds(response.headers)
    theirs = sdk._parse_retry_after_header(response.headers)
    if ours is None or theirs is None:
        assert ours == theirs
    else:
        assert abs(ours - theirs) < 2.0


# --- what a retry cannot fix (issue #12, items 15 and 16) -------------------------------

LLAMA_CPP_PYTHON_LITERAL_ERROR = {
    # What llama-cpp-python's server answers to response_format json_schema: HTTP 500
    # with str() of the request's pydantic validation errors as the message.
    "error": {
        "message": str(
            [
                {
                    "type": "literal_error",
                    "loc": ("body", "response_format", "type"),
                    "msg": "Input should be 'text' or 'json_object'",
                    "input": "json_schema",
                    "ctx": {"expected": "'text' or 'json_object'"},
                }
            ]
        ),
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, LLAMA_CPP_PYTHON_LITERAL_ERROR),
        (
            422,
            {"detail": [{"type": "missing", "loc": ["body", "model"], "msg": "Field required"}]},
        ),
    ],
    ids=["llama-cpp-python-500", "fastapi-422"],
)
async def test_a_request_validation_error_is_not_retried(
    status: int, body: dict[str, object]
) -> None:
    import json

    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(
            status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    retry = RetryTransport(
        httpx2.MockTransport(handler), RetryPolicy(max_retries=3, base_wait=0.001)
    )
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        response = await client.post("/v1/chat/completions", json={})
    assert response.status_code == status
    assert len(calls) == 1


def test_request_validation_detail_reads_each_shape() -> None:
    import json

    from khabar.llm.retry import request_validation_detail

    assert request_validation_detail(json.dumps(LLAMA_CPP_PYTHON_LITERAL_ERROR)) == (
        "body.response_format.type: Input should be 'text' or 'json_object'"
    )
    assert request_validation_detail(b'{"error": {"message": "fake error 500"}}') is None
    assert request_validation_detail(b"<html>502 Bad Gateway</html>") is None


async def test_a_read_timeout_is_final_against_a_self_hosted_server() -> None:
    from khabar.errors import TransportError

    transport, calls = scripted([httpx2.ReadTimeout])  # type: ignore[list-item]
    policy = RetryPolicy(max_retries=3, base_wait=0.001, retry_read_timeouts=False)
    async with httpx2.AsyncClient(
        transport=RetryTransport(transport, policy),
        base_url="http://u:s3cretPW@127.0.0.1:8080",
        timeout=7,
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.post("/v1/chat/completions", json={})
    assert len(calls) == 1
    text = str(caught.value)
    assert "http://127.0.0.1:8080" in text and "7 s" in text and "KHABAR_TIMEOUT" in text
    assert "s3cretPW" not in text


async def test_a_read_timeout_is_still_retried_against_a_hosted_api() -> None:
    transport, calls = scripted([httpx2.ReadTimeout, 200])  # type: ignore[list-item]
    retry = RetryTransport(transport, RetryPolicy(max_retries=3, base_wait=0.001))
    async with httpx2.AsyncClient(transport=retry, base_url="http://t") as client:
        response = await client.post("/x", json={})
    assert response.status_code == 200 and len(calls) == 2
