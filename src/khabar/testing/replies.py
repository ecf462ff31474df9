"""Scripted replies for the fake endpoints: :class:`Reply`, :class:`FaultPlan`, the synthetic responder.

Shared by the in-process :class:`~khabar.testing.MockTransport` and the socket
server :class:`~khabar.testing.FakeOpenAI`. The default responder,
:func:`echo_digest_responder`, is SYNTHETIC: it is not a model.
"""

from __future__ import annotations

import collections
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "FaultPlan",
    "RecordedRequest",
    "Reply",
    "ReplySource",
    "completion",
    "digest_dict",
    "echo_digest_responder",
    "invented_digest_responder",
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


# Digit runs with no separator on either side: their value is the digits, whatever the
# language's rules for "2.4" or "30،000", so the synthetic answer needs no number parser.
_PLAIN_NUMBER = re.compile(r"(?<![\w.,،٫٬/:\-\[])([0-9]+|[٠-٩]+|[۰-۹]+)(?![\w.,،٫٬/:\-])")


def _longest_lines(body: dict[str, Any], n: int = 12) -> list[str]:
    """The longest lines of the request's user messages: article text, whatever the prompt's layout."""
    lines: list[str] = []
    for message in body.get("messages", []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            lines.extend(line.strip() for line in message["content"].splitlines())
            break  # the first user message carries the article; later ones are re-asks
    return sorted((line for line in lines if line), key=len, reverse=True)[:n]


def echo_digest_responder(body: dict[str, Any]) -> Reply:
    """SYNTHETIC answers (not a model): a digest whose evidence is copied from the request.

    It knows nothing of khabar's prompt layout or its grounding rules: it copies
    the longest lines of the user message, and cites a plain digit run (no
    decimal or thousands mark near it) as a number, its excerpt ending at the
    digits so that no scale word follows.
    """
    lines = _longest_lines(body)
    if not lines:
        return Reply.status(400, body={"error": {"message": "no user message in the request"}})
    first_sentence = re.split(r"(?<=[.!؟?])\s", lines[0])[0]
    data = digest_dict(
        title_en="Synthetic digest",
        title_src=lines[0][:80],
        # Cited like a model's sentence; worded so that khabar's checks (numbers, names,
        # negation) find nothing to object to in a sentence that states nothing.
        summary_en=[
            {
                "text": "This synthetic summary comes from a fake server, which is a test double.",
                "cites": [first_sentence],
            }
        ],
        summary_src=[{"text": first_sentence, "cites": [first_sentence]}],
    )
    for line in lines:
        match = _PLAIN_NUMBER.search(line)
        if match is None:
            continue
        evidence = line[max(0, match.start() - 40) : match.end()].strip()
        data["numbers"] = [
            {
                "value": float(int(match.group())),
                "unit": None,
                "counts": "a number in the article",
                "evidence": evidence,
            }
        ]
        break
    return Reply.digest(data)


def invented_digest_responder(body: dict[str, Any]) -> Reply:
    """SYNTHETIC answers that invent every string: what a model that ignores the article returns.

    Well-formed and confident, cited and sourced, and none of it in any article.
    """
    invented = "وقالت مصادر مطلعة إن المحادثات انتهت باتفاق شامل بين الطرفين"
    return Reply.digest(
        digest_dict(
            title_en="Historic agreement signed",
            title_src="توقيع اتفاق تاريخي",
            summary_en=[
                {"text": "The two sides signed a comprehensive agreement.", "cites": [invented]}
            ],
            summary_src=[{"text": invented, "cites": [invented]}],
            people=[
                {"name_en": "Nobody", "name_src": "لا أحد", "role": None, "evidence": invented}
            ],
            numbers=[{"value": 42.0, "unit": None, "counts": "agreements", "evidence": invented}],
        )
    )


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


def completion(body: dict[str, Any], content: str) -> dict[str, Any]:
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


class ReplySource:
    """Where a fake endpoint's answers come from: a script (FIFO), then faults, then a responder.

    Keeps every request it answered in :attr:`requests`.
    """

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        *,
        faults: FaultPlan | None = None,
    ) -> None:
        self.responder = responder or echo_digest_responder
        self.faults = faults
        self.requests: list[RecordedRequest] = []
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()

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

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def next_reply(self, body: dict[str, Any]) -> Reply:
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
