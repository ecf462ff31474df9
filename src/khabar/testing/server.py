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

What the server saw: :attr:`FakeOpenAI.max_in_flight` is the largest number of
chat requests it was answering at once (the concurrency a client really
reached, whatever it was configured to), and ``GET /_fake/stats`` reports it,
with the request count and the server's own CPU time, to a client in another
process (``?reset=1`` starts a new count). It listens with a backlog of 1024
connections, as a production server does: with the standard library's 5, a
burst of new connections is refused or retried by the kernel, and that, not
the client, would cap the concurrency measured.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .replies import (
    FaultPlan,
    RecordedRequest,
    Reply,
    ReplySource,
    completion,
    echo_digest_responder,
)

__all__ = ["FakeOpenAI", "flawed_first_answers", "main"]


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
        url = urlsplit(self.path)
        if url.path.rstrip("/") == "/_fake/stats":
            reset = parse_qs(url.query).get("reset") == ["1"]
            self._send(200, json.dumps(self.server.owner.stats(reset=reset)).encode())
        elif self.path.rstrip("/").endswith("/models"):
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
        arrived = owner.arrived()
        try:
            reply = owner.next_reply(body)
            owner.timeline.append((arrived, reply.kind))
            headers = {k.lower(): v for k, v in self.headers.items()}
            kept = body if owner.keep_bodies else {}
            owner.record(RecordedRequest(self.path, kept, headers, reply.kind))
            if owner.latency:
                time.sleep(owner.latency)
            self._answer(body, reply)
        finally:
            owner.answered()

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
    # listen()'s backlog. The standard library's 5 makes the kernel drop the SYNs of
    # a burst of new connections (retried a second later): a client opening 150
    # connections at once would look capped by the server's accept queue.
    request_queue_size = 1024
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
        keep_bodies: bool = True,
    ) -> None:
        super().__init__(responder, faults=faults)
        self.latency = latency
        self.seed = seed
        # False for long benchmark runs: each request's 20 kB body would be kept.
        self.keep_bodies = keep_bodies
        self.in_flight = 0
        self.max_in_flight = 0
        # (time.monotonic() on arrival, reply kind) of each chat request, as answered
        self.timeline: list[tuple[float, str]] = []
        self._flight = threading.Lock()
        self._count = 0
        self._first: float | None = None  # time.monotonic() of the first arrival since a reset
        self._last: float | None = None  # ... and of the last answer
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    def arrived(self) -> float:
        """A chat request is being answered (its body is read): its arrival time."""
        now = time.monotonic()
        with self._flight:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._count += 1
            if self._first is None:
                self._first = now
        return now

    def answered(self) -> None:
        """Its answer is sent, or failed to be."""
        with self._flight:
            self.in_flight -= 1
            self._last = time.monotonic()

    def stats(self, *, reset: bool = False) -> dict[str, Any]:
        """What the server saw since the last reset.

        ``requests``, ``in_flight`` now, ``max_in_flight``, ``first_s`` (the
        first arrival, on the ``time.monotonic()`` clock, which on Linux is the
        same in every process), ``span_s`` (first arrival to last answer) and
        ``cpu_s`` (this process's CPU time, since it started).
        """
        with self._flight:
            first, last = self._first, self._last
            result = {
                "requests": self._count,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "first_s": first,
                "span_s": None if first is None or last is None else round(last - first, 4),
                "cpu_s": round(time.process_time(), 3),
            }
            if reset:
                self._count = 0
                self._first = self._last = None
                self.timeline = []
                self.max_in_flight = self.in_flight
        return result

    def reset(self) -> None:
        """Forget requests, scripted replies and the in-flight maximum (faults stay)."""
        super().reset()
        self.stats(reset=True)

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


def flawed_first_answers(rate: float) -> Callable[[dict[str, Any]], Reply]:
    """A SYNTHETIC responder whose first answer to a share ``rate`` of articles needs a re-ask.

    For those articles (picked by a hash of the article, so the same ones in
    every run and every process) the first answer leaves out the number fact,
    adds a person the article does not name and cites, for its source-language
    sentence, an excerpt the article does not contain. A follow-up in the same
    conversation (a re-ask) gets :func:`echo_digest_responder`'s clean answer, so
    a client that re-asks wins the number and the sentence back. The others get
    the clean answer at once. Benchmarks use it to make re-asks cost what they cost.
    """

    def respond(body: dict[str, Any]) -> Reply:
        clean = echo_digest_responder(body)
        messages = body.get("messages") or []
        user = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if clean.kind != "ok" or len(user) != 1 or not isinstance(user[0].get("content"), str):
            return clean
        digest = hashlib.sha256(user[0]["content"].encode("utf-8")).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 >= rate:
            return clean
        data = json.loads(clean.data)
        invented = "هذه العبارة لا ترد في المقال على الإطلاق"
        data["numbers"] = []
        data["people"] = [
            {"name_en": "Nobody", "name_src": "لا أحد", "role": None, "evidence": invented}
        ]
        for sentence in data.get("summary_src") or []:
            sentence["cites"] = [invented]
        return Reply.digest(data)

    return respond


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve khabar's fake OpenAI-compatible endpoint.")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument(
        "--reask-rate",
        type=float,
        default=0.0,
        help="share of articles whose first answer needs a re-ask (flawed_first_answers)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faults = FaultPlan.uniform(args.fault_rate, seed=args.seed) if args.fault_rate else None
    responder = flawed_first_answers(args.reask_rate) if args.reask_rate else None
    with FakeOpenAI(
        responder, latency=args.latency, faults=faults, port=args.port, keep_bodies=False
    ) as server:
        print(f"serving {server.base_url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
