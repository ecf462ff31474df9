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
import collections
import contextlib
import json
import random
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FakeOpenAI",
    "FaultPlan",
    "RecordedRequest",
    "Reply",
    "digest_dict",
    "echo_digest_responder",
]

FACT_LISTS = ("people", "organizations", "locations", "dates", "numbers", "quotes", "sources")


def digest_dict(**overrides: Any) -> dict[str, Any]:
    """A minimal schema-valid digest answer; override any field."""
    data: dict[str, Any] = {
        "title_en": "Title",
        "title_src": "عنوان",
        "summary_en": "A summary.",
        "summary_src": "ملخص.",
    }
    for name in FACT_LISTS:
        data[name] = []
    data.update(overrides)
    return data


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods."""

    kind: str
    data: Any = None
    code: int = 200
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def digest(cls, data: dict[str, Any]) -> Reply:
        """A normal completion carrying ``data`` (as a tool call when tools were requested)."""
        return cls("ok", data=json.dumps(data, ensure_ascii=False))

    @classmethod
    def text(cls, content: str) -> Reply:
        """A completion carrying ``content`` as-is (e.g. malformed JSON)."""
        return cls("text", data=content)

    @classmethod
    def status(
        cls, code: int, *, retry_after: float | None = None, body: dict[str, Any] | None = None
    ) -> Reply:
        """An error response in OpenAI's error shape, with Retry-After when given."""
        return cls(str(code), data=body, code=code, retry_after=retry_after)

    @classmethod
    def stall(cls, seconds: float) -> Reply:
        """Wait ``seconds`` before answering (trips client timeouts)."""
        return cls("stall", seconds=seconds)

    @classmethod
    def drop(cls) -> Reply:
        """Send headers and half the body, then close the connection."""
        return cls("drop")

    @classmethod
    def truncated(cls) -> Reply:
        """A 200 whose JSON body is cut in half, with a matching Content-Length."""
        return cls("truncated")


@dataclass
class FaultPlan:
    """Per-request fault probabilities, drawn from a seeded generator (reproducible runs)."""

    rate_429: float = 0.0
    rate_429_no_retry_after: float = 0.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_503: float = 0.0
    rate_stall: float = 0.0
    rate_drop: float = 0.0
    rate_truncated: float = 0.0
    rate_schema_break: float = 0.0
    rate_ungrounded: float = 0.0
    retry_after: float = 0.2
    stall_seconds: float = 3.0
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def uniform(cls, total: float, *, seed: int = 0, **extra: Any) -> FaultPlan:
        """Split ``total`` evenly over every fault kind."""
        kinds = [f.name for f in fields(cls) if f.name.startswith("rate_")]
        rates: dict[str, Any] = {k: total / len(kinds) for k in kinds}
        return cls(**rates, seed=seed, **extra)

    def draw(self) -> str:
        """The kind of reply for the next request ("ok" or a fault name)."""
        with self._lock:
            x = self._rng.random()
        for f in fields(self):
            if f.name.startswith("rate_"):
                rate = getattr(self, f.name)
                if x < rate:
                    return f.name[5:]
                x -= rate
        return "ok"


@dataclass
class RecordedRequest:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    reply_kind: str = "ok"


_ARTICLE = re.compile(r"^<article>\n(.*?)\n</article>", re.S | re.M)
_NUMBER = re.compile(r"[0-9٠-٩۰-۹]+(?:[.,٫][0-9٠-٩۰-۹]+)?")


def _article_of(body: dict[str, Any]) -> str | None:
    for message in body.get("messages", []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            match = _ARTICLE.search(message["content"])
            if match:
                return match.group(1)
    return None


def _value_of(digits: str, evidence: str) -> float:
    # Read the number the way khabar's grounding does ("2.4 مليار" is 2.4e9), so that
    # synthetic answers are grounded and benchmarks measure throughput, not re-asks.
    from khabar.core.grounding import parse_numbers
    from khabar.core.text import to_ascii_digits

    plain = to_ascii_digits(digits).replace(",", "")
    for parsed in parse_numbers(evidence):
        if plain in to_ascii_digits(parsed.text).replace(",", ""):
            return parsed.value
    return float(plain.replace("٫", "."))


def echo_digest_responder(body: dict[str, Any]) -> Reply:
    """SYNTHETIC answers (not a model): a digest whose evidence is copied from the article."""
    article = _article_of(body)
    if article is None:
        return Reply.status(400, body={"error": {"message": "no <article> block in the request"}})
    lines = [line.strip() for line in article.splitlines() if line.strip()]
    first_sentence = re.split(r"(?<=[.!؟?])\s", lines[0])[0] if lines else article[:80]
    data = digest_dict(
        title_en="Synthetic digest",
        title_src=lines[0][:80] if lines else "",
        summary_en="A synthetic summary produced by khabar's fake server, not by a model.",
        summary_src=first_sentence,
    )
    for match in _NUMBER.finditer(article):
        if article[max(0, match.start() - 1) : match.start()] == "[":
            continue  # benchmark index lines ("[12]") are not article content
        line_start = article.rfind("\n", 0, match.start()) + 1
        line_end = article.find("\n", match.end())
        line_end = len(article) if line_end == -1 else line_end
        evidence = article[
            max(line_start, match.start() - 40) : min(line_end, match.end() + 40)
        ].strip()
        data["numbers"] = [
            {
                "value": _value_of(match.group(), evidence),
                "unit": None,
                "counts": "a number in the article",
                "evidence": evidence,
            }
        ]
        break
    return Reply.digest(data)


def _schema_break() -> Reply:
    return Reply.digest({"title_en": "broken", "people": "not a list"})


def _ungrounded() -> Reply:
    return Reply.digest(
        digest_dict(
            people=[
                {
                    "name_en": "Nobody",
                    "name_src": "لا أحد",
                    "role": None,
                    "evidence": "هذه الجملة ليست في المقال على الإطلاق",
                }
            ]
        )
    )


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    message: dict[str, Any]
    tools = body.get("tools")
    if tools:
        choice = body.get("tool_choice")
        name = (
            choice["function"]["name"]
            if isinstance(choice, dict) and "function" in choice
            else tools[0]["function"]["name"]
        )
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_fake",
                    "type": "function",
                    "function": {"name": name, "arguments": content},
                }
            ],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": content}
        finish = "stop"
    prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
    usage = {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": len(content) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }


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
        reply = owner._next_reply(body)
        owner._record(
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
            self._send(200, json.dumps(_completion(body, reply.data), ensure_ascii=False).encode())
            return
        if kind == "drop":
            payload = json.dumps(
                _completion(body, echo_digest_responder(body).data or "{}")
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
                _completion(body, echo_digest_responder(body).data or "{}")
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


class FakeOpenAI:
    """A real OpenAI-compatible HTTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        *,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        self.responder = responder or echo_digest_responder
        self.latency = latency
        self.faults = faults
        self.seed = seed
        self.requests: list[RecordedRequest] = []
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies, served one per request before the responder is used."""
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        """Forget requests and scripted replies (faults stay)."""
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def calls_by_kind(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(r.reply_kind for r in self.requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.faults is not None:
            kind = self.faults.draw()
            plan = self.faults
            if kind == "429":
                return Reply("429", code=429, retry_after=plan.retry_after)
            if kind == "429_no_retry_after":
                return Reply("429_no_retry_after", code=429)
            if kind in ("500", "502", "503"):
                return Reply(kind, code=int(kind))
            if kind == "stall":
                return Reply.stall(plan.stall_seconds)
            if kind == "drop":
                return Reply.drop()
            if kind == "truncated":
                return Reply.truncated()
            if kind == "schema_break":
                return Reply("schema_break", data=_schema_break().data)
            if kind == "ungrounded":
                return Reply("ungrounded", data=_ungrounded().data)
        return self.responder(body)

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
