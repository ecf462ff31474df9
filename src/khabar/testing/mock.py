"""An in-process fake of the OpenAI chat-completions endpoint: an ``httpx2`` transport.

Like httpx's ``MockTransport``: no socket, no thread, the real openai +
instructor + httpx2 stack above it. Use it for scripted answers and HTTP
errors; faults that need a real socket (dropped connections, stalls) need
:class:`~khabar.testing.FakeOpenAI`.

    from khabar.testing import MockTransport, Reply, digest_dict

    mock = MockTransport()
    mock.script(Reply.status(429, retry_after=0.1), Reply.digest(digest_dict()))
    settings = khabar.Settings(model="fake-model", base_url=mock.base_url, api_key="x")
    digest = khabar.summarize(text, settings=settings, transport=mock)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

from .replies import FaultPlan, RecordedRequest, Reply, ReplySource, completion

__all__ = ["MockTransport"]

_SOCKET_ONLY = frozenset({"drop", "stall"})


class MockTransport(ReplySource, httpx2.AsyncBaseTransport):
    """Answer chat completions from a script, then from a responder, in-process."""

    base_url = "http://mock.khabar/v1"

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        *,
        faults: FaultPlan | None = None,
    ) -> None:
        ReplySource.__init__(self, responder, faults=faults)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not request.url.path.rstrip("/").endswith("/chat/completions"):
            return _json(404, {"error": {"message": "not found", "type": "not_found"}}, request)
        try:
            body = json.loads(await request.aread() or b"{}")
        except ValueError:
            return _json(400, {"error": {"message": "invalid JSON body"}}, request)
        reply = self.next_reply(body)
        if reply.kind in _SOCKET_ONLY:
            raise ValueError(
                f"a {reply.kind!r} reply needs a real socket: use khabar.testing.FakeOpenAI"
            )
        self.record(
            RecordedRequest(
                request.url.path,
                body,
                {k.lower(): v for k, v in request.headers.items()},
                reply.kind,
            )
        )
        if reply.kind in ("ok", "text"):
            return _json(200, completion(body, reply.data), request)
        if reply.kind == "truncated":
            payload = json.dumps(completion(body, "{}")).encode()
            return httpx2.Response(
                200,
                content=payload[: len(payload) // 2],
                headers={"content-type": "application/json"},
                request=request,
            )
        error = reply.data or {"error": {"message": f"fake error {reply.code}", "type": "fake"}}
        headers = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
        return _json(reply.code, error, request, headers)


def _json(
    status: int,
    payload: Any,
    request: httpx2.Request,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    return httpx2.Response(
        status,
        content=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        request=request,
    )
