"""Request lines in the OpenAI batch format, and the answers that come back.

A request line is the online request itself: the body is built by
instructor's own ``handle_response_model`` for the backend's mode, from the
same messages and the same tool (``openai_schema(DigestDraft)``) that
:class:`~khabar.llm.openai_compat.OpenAICompatibleBackend` sends, so that the
model sees exactly what it sees online (``tests/test_batch_api.py`` compares
the two bodies). An answer is parsed by instructor's ``process_response``,
and a structural re-ask is instructor's ``handle_reask_kwargs``: the batch
path never re-implements instructor's wire format.

Files are split at the provider's limits (:class:`BatchLimits`) and written
atomically (temporary file, then rename), so that a killed ``prepare`` or
``collect`` never leaves half a request file behind.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from khabar.core.digest import DigestDraft

__all__ = [
    "AnswerError",
    "BatchLimits",
    "PartWriter",
    "answer_usage",
    "atomic_write",
    "chat_url",
    "iter_jsonl",
    "json_line",
    "parse_answer",
    "reask_messages",
    "request_body",
    "request_line",
]


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may hold: requests per input file and bytes per file.

    OpenAI documents 50,000 requests and 200 MB per batch input file; Azure
    OpenAI 100,000 requests and 200 MB. The byte limit here is 200,000,000
    (under either reading of "MB"), so a file khabar writes is never refused
    for its size.
    """

    max_requests: int = 50_000
    max_bytes: int = 200_000_000

    @classmethod
    def for_provider(cls, provider: str) -> BatchLimits:
        return cls(max_requests=100_000) if provider == "azure" else cls()


def chat_url(provider: str) -> str:
    """The ``url`` of a request line: Azure's batch service takes ``/chat/completions``."""
    return "/chat/completions" if provider == "azure" else "/v1/chat/completions"


@functools.cache
def tool_model() -> Any:
    """DigestDraft wrapped as instructor's response schema, once (as the online backend does)."""
    from instructor import openai_schema

    return openai_schema(DigestDraft)


def _mode(name: str) -> Any:
    import instructor

    return getattr(instructor.Mode, name)


def request_body(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    mode: str,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    converted: bool = False,
) -> dict[str, Any]:
    """The chat-completions body the online path sends for ``messages``, built by instructor.

    ``converted``: the messages are already as instructor sends them (a
    structural re-ask extends the messages instructor converted for the
    first attempt, and instructor does not convert them again), so they are
    put in the body as they are.
    """
    from instructor.processing import handle_response_model

    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    if seed is not None:
        kwargs["seed"] = seed
    _, body = handle_response_model(tool_model(), mode=_mode(mode), **kwargs)
    body = dict(body)
    if converted:
        body["messages"] = [dict(m) for m in messages]
    return body


def request_line(custom_id: str, url: str, body: Mapping[str, Any]) -> bytes:
    """One line of a batch input file (UTF-8, newline-terminated)."""
    return json_line({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


def json_line(value: Mapping[str, Any]) -> bytes:
    """``value`` as one UTF-8 JSON line; a lone surrogate (not encodable) is written escaped."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value, separators=(",", ":")) + "\n").encode("ascii")


class AnswerError(Exception):
    """An answer instructor could not parse: ``incomplete`` when cut off at the token limit."""

    def __init__(self, cause: Exception, *, incomplete: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.incomplete = incomplete


def parse_answer(body: Mapping[str, Any], mode: str) -> DigestDraft:
    """The draft in a chat-completion ``body``, parsed by instructor.

    Raises :class:`AnswerError` for what instructor would re-ask (JSON that does
    not parse or fit the schema) or stop at (an answer cut off at the token
    limit), and ``ValueError`` when ``body`` is not a chat completion at all.
    """
    from instructor.core.exceptions import (
        AsyncValidationError,
        IncompleteOutputException,
        ResponseParsingError,
    )
    from instructor.processing import process_response
    from openai.types.chat import ChatCompletion
    from pydantic import ValidationError

    try:
        completion = ChatCompletion.model_validate(dict(body))
    except ValidationError as exc:
        raise ValueError(f"the answer is not a chat completion: {exc}") from exc
    try:
        value = process_response(
            completion, response_model=tool_model(), stream=False, mode=_mode(mode)
        )
    except IncompleteOutputException as exc:
        raise AnswerError(exc, incomplete=True) from exc
    # The errors instructor's retry loop re-asks (instructor.v2.core.retry).
    except (
        ValidationError,
        json.JSONDecodeError,
        AsyncValidationError,
        ResponseParsingError,
    ) as exc:
        raise AnswerError(exc, incomplete=False) from exc
    draft: DigestDraft = value
    return draft


def reask_messages(
    messages: Sequence[Mapping[str, Any]],
    *,
    mode: str,
    completion: Any,
    error: Exception,
) -> list[dict[str, Any]]:
    """The messages of instructor's structural re-ask of ``completion`` (its own handler)."""
    from instructor.processing import handle_reask_kwargs

    kwargs = handle_reask_kwargs(
        {"messages": [dict(m) for m in messages]}, _mode(mode), completion, error
    )
    return [dict(m) for m in kwargs["messages"]]


def answer_usage(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt, completion) tokens a chat-completion body reports (None when it does not)."""
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        return None, None
    p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (p if isinstance(p, int) else None), (c if isinstance(c, int) else None)


# --- files ------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file, fsync, rename."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        with contextlib.suppress(OSError):
            os.fsync(f.fileno())
    os.replace(tmp, path)


class PartWriter:
    """Request lines into numbered files, a new one whenever a limit would be passed.

    Lines go to ``<prefix>-NNN.jsonl.tmp``; :meth:`close` renames every file
    into place (so a killed run leaves only ``.tmp`` files, which the next run
    overwrites) and returns ``(name, requests, bytes)`` per file.
    """

    def __init__(self, directory: Path, prefix: str, limits: BatchLimits) -> None:
        self.directory = directory
        self.prefix = prefix
        self.limits = limits
        self.parts: list[tuple[str, int, int]] = []
        self._file: Any = None
        self._count = 0
        self._bytes = 0

    def fits(self, line: bytes) -> bool:
        """Whether ``line`` fits a batch file at all (alone)."""
        return len(line) <= self.limits.max_bytes

    def add(self, line: bytes) -> None:
        if not self.fits(line):
            raise ValueError("a request line larger than a whole batch file")
        if self._file is None or (
            self._count + 1 > self.limits.max_requests
            or self._bytes + len(line) > self.limits.max_bytes
        ):
            self._roll()
        self._file.write(line)
        self._count += 1
        self._bytes += len(line)

    def _roll(self) -> None:
        self._finish_current()
        name = f"{self.prefix}-{len(self.parts):03d}.jsonl"
        self._file = open(self.directory / (name + ".tmp"), "wb")  # noqa: SIM115 - closed in _finish_current
        self.parts.append((name, 0, 0))

    def _finish_current(self) -> None:
        if self._file is None:
            return
        self._file.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        name, _, _ = self.parts[-1]
        self.parts[-1] = (name, self._count, self._bytes)
        self._count = self._bytes = 0

    def close(self) -> list[tuple[str, int, int]]:
        self._finish_current()
        for name, _, _ in self.parts:
            os.replace(self.directory / (name + ".tmp"), self.directory / name)
        return self.parts

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file, skipping blank lines and a torn last line."""
    with open(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                if raw.endswith(b"\n"):
                    raise ValueError(f"{path}: a line that is not JSON") from None
                return  # torn by a killed writer: the writer rewrites it
            if isinstance(value, dict):
                yield value
