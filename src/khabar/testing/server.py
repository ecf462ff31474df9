"""A real OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

khabar's own tests run against it so that the real openai + instructor +
httpx2 stack runs, with no network and no key; users can test their code
that calls khabar the same way::

    from khabar.testing import FakeOpenAI, Reply, digest_dict

    with FakeOpenAI() as server:
        server.script(Reply.status(429, retry_after=1), Reply.digest(digest_dict()))
        settings = khabar.Settings(model="fake-model", base_url=server.base_url, api_key="x")
        digest = khabar.summarize(text, settings=settings)

Answers come from a script (FIFO), then from a responder. The default
responder, :func:`echo_digest_responder`, is SYNTHETIC: it is not a model; it
copies evidence from the article so that throughput benchmarks have grounded
answers for any article. A :class:`FaultPlan` injects faults at given rates.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .replies import (
    FaultPlan,
    RecordedRequest,
    Reply,
    ReplySource,
    completion,
    echo_digest_responder,
)

__all__ = ["FakeOpenAI", "main"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read server.requests; stderr noise helps nobody

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            payload = {
                "object": "list",
                "data": [{"id": "fake-model", "object": "model", "owned_by": "khabar"}],
            }
            self._send(200, json.dumps(payload).encode())
        else:
            self._send(404, b'{"error": {"message": "not found", "type": "not_found"}}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, b'{"error": {"message": "not found", "type": "not_found"}}')
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, b'{"error": {"message": "invalid JSON body"}}')
            return
        owner = self.server.owner
        reply = owner.next_reply(body)
        owner.record(
            RecordedRequest(
                self.path, body, {k.lower(): v for k, v in self.headers.items()}, reply.kind
            )
        )
        if owner.latency:
            time.sleep(owner.latency)
        self._answer(body, reply)

    def _answer(self, body: dict[str, Any], reply: Reply) -> None:
        kind = reply.kind
        if kind == "stall":
            time.sleep(reply.seconds)
            reply = echo_digest_responder(body)
            kind = reply.kind
        if kind in ("ok", "text"):
            self._send(200, json.dumps(completion(body, reply.data), ensure_ascii=False).encode())
            return
        if kind == "drop":
            payload = json.dumps(
                completion(body, echo_digest_responder(body).data or "{}")
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "truncated":
            payload = json.dumps(
                completion(body, echo_digest_responder(body).data or "{}")
            ).encode()
            self._send(200, payload[: len(payload) // 2])
            return
        error = reply.data or {
            "error": {"message": f"fake error {reply.code}", "type": "fake", "code": None}
        }
        headers = {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
        self._send(reply.code, json.dumps(error, ensure_ascii=False).encode(), headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out, was killed or dropped the connection is what the
        # fault tests are about: not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeOpenAI(ReplySource):
    """A real OpenAI-compatible HTTP server on 127.0.0.1 (see the module docstring).

    For faults that need a real socket (a dropped connection, a stall that trips
    a client timeout) and for benchmarks; scripted answers alone are served
    in-process by :class:`~khabar.testing.MockTransport`.
    """

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        *,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        super().__init__(responder, faults=faults)
        self.latency = latency
        self.seed = seed
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve khabar's fake OpenAI-compatible endpoint.")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faults = FaultPlan.uniform(args.fault_rate, seed=args.seed) if args.fault_rate else None
    with FakeOpenAI(latency=args.latency, faults=faults, port=args.port) as server:
        print(f"serving {server.base_url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
