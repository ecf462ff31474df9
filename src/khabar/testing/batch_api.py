"""An in-process fake of OpenAI's Files and Batches endpoints: an ``httpx2`` transport.

Like :class:`~khabar.testing.MockTransport`, it sits under the real openai
client (``client.files.create``, ``client.batches.create/retrieve/cancel/list``,
``client.files.content``), with no socket and no key, and speaks the wire
format of the real service, for OpenAI (``/v1/files``, ``/v1/batches``) and
Azure OpenAI (``/openai/files?api-version=...``)::

    from khabar.testing.batch_api import FakeBatchAPI

    api = FakeBatchAPI()
    settings = khabar.Settings(model="fake-model", base_url=api.base_url, api_key="x")
    # ... khabar.batch.api.submit(job_dir, settings, transport=api), then collect(...)

A batch moves ``validating -> in_progress -> finalizing -> completed`` as it is
retrieved: each state is reported by ``steps`` calls (``validating`` by the
create call and ``steps - 1`` retrieves), and :meth:`hold` freezes them, so
tests need no clock. Each request line is answered when its batch leaves
``in_progress``, from the shared reply machinery: a script, then a
:class:`~khabar.testing.FaultPlan`, then the responder (by default the
SYNTHETIC :func:`~khabar.testing.echo_digest_responder`, which copies the
article: it is not a model). An error reply (``Reply.status(500)``, a fault)
becomes a line of the batch's error file, as the real service writes it; a
socket-only fault (drop, stall, truncated) becomes a 500 there.

Faults of whole batches: :meth:`expire_next` (the window runs out after part
of the lines are answered: the rest are ``batch_expired`` lines in the error
file), :meth:`fail_next` (validation fails, e.g. ``token_limit_exceeded``),
``cancel`` (the client's; part of the lines answered, the rest
``batch_cancelled``). Provider limits: ``max_requests`` lines per batch file
(more fail validation) and ``max_bytes`` per uploaded file (a larger upload is
refused with HTTP 400).

It imports nothing of khabar outside :mod:`khabar.testing`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx2

from .replies import FaultPlan, RecordedRequest, Reply, ReplySource, completion

__all__ = ["FakeBatchAPI", "StoredFile"]

_ROUTE = re.compile(r"/(files|batches)(?:/([^/]+))?(?:/(content|cancel))?/?$")
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_WINDOW_S = 24 * 3600


@dataclass
class StoredFile:
    """One uploaded or generated file."""

    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class _Batch:
    data: dict[str, Any]
    ticks: int = 0
    fate: str = "complete"  # complete | expire | fail
    answered_share: float = 1.0
    failure: dict[str, Any] | None = None
    held: bool = False
    events: list[str] = field(default_factory=list)


class FakeBatchAPI(ReplySource, httpx2.AsyncBaseTransport):
    """Files and Batches endpoints in-process (see the module docstring)."""

    base_url = "http://batch.khabar/v1"
    azure_endpoint = "https://fake.openai.azure.com"

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        *,
        faults: FaultPlan | None = None,
        steps: int = 1,
        max_requests: int = 50_000,
        max_bytes: int = 200_000_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        ReplySource.__init__(self, responder, faults=faults)
        self.steps = max(1, steps)
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.clock = clock
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, _Batch] = {}
        #: Every HTTP call: (method, path), in order.
        self.calls: list[tuple[str, str]] = []
        #: Every header set received (to check that no test leaks a key somewhere else).
        self.headers: list[dict[str, str]] = []
        self._fates: list[tuple[str, float, dict[str, Any] | None]] = []
        self._ids = itertools.count(1)
        self._state_lock = threading.Lock()

    # --- scenario controls ---------------------------------------------------------
    def expire_next(self, n: int = 1, *, answered: float = 0.5) -> None:
        """The next ``n`` batches created expire with ``answered`` of their lines done."""
        self._fates.extend(("expire", answered, None) for _ in range(n))

    def fail_next(
        self,
        n: int = 1,
        *,
        code: str = "token_limit_exceeded",
        message: str = "Enqueued token limit reached for fake-model in organization org-fake.",
    ) -> None:
        """The next ``n`` batches created fail validation with this error."""
        error = {"code": code, "message": message, "param": None, "line": None}
        self._fates.extend(("fail", 0.0, error) for _ in range(n))

    def hold(self, held: bool = True) -> None:
        """Freeze (or release) every batch that is not finished yet, in its current state."""
        with self._state_lock:
            for batch in self.batches.values():
                if batch.data["status"] not in _TERMINAL:
                    batch.held = held
            self._hold_new = held

    _hold_new = False

    def batch(self, batch_id: str) -> dict[str, Any]:
        """The batch object as the API would return it now (without advancing it)."""
        return dict(self.batches[batch_id].data)

    def file_text(self, file_id: str) -> str:
        return self.files[file_id].content.decode("utf-8")

    # --- HTTP ----------------------------------------------------------------------
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.calls.append((request.method, path))
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        match = _ROUTE.search(path)
        if match is None:
            return _error(404, "not_found", f"no route {request.method} {path}", request)
        kind, ident, action = match.groups()
        body = await request.aread()
        with self._state_lock:
            if kind == "files":
                return self._files(request, ident, action, body)
            return self._batches(request, ident, action, body)

    def _files(
        self, request: httpx2.Request, ident: str | None, action: str | None, body: bytes
    ) -> httpx2.Response:
        if request.method == "POST" and ident is None:
            fields = _multipart(request.headers.get("content-type", ""), body)
            upload = fields.get("file")
            purpose = fields.get("purpose", (None, b""))[1].decode()
            if upload is None or purpose != "batch":
                return _error(400, "invalid_request", "expected a file and purpose=batch", request)
            filename, content = upload
            if len(content) > self.max_bytes:
                return _error(
                    400,
                    "file_too_large",
                    f"File is too large: {len(content)} bytes; the limit is {self.max_bytes}.",
                    request,
                )
            stored = self._store(filename or "upload.jsonl", "batch", content)
            return _json(200, stored.as_json(), request)
        stored_file = self.files.get(ident or "")
        if stored_file is None:
            return _error(404, "not_found", f"No such File object: {ident}", request)
        if request.method == "GET" and action == "content":
            return httpx2.Response(
                200,
                content=stored_file.content,
                headers={"content-type": "application/octet-stream"},
                request=request,
            )
        if request.method == "GET" and action is None:
            return _json(200, stored_file.as_json(), request)
        return _error(405, "method_not_allowed", f"{request.method} {request.url.path}", request)

    def _batches(
        self, request: httpx2.Request, ident: str | None, action: str | None, body: bytes
    ) -> httpx2.Response:
        if ident is None and request.method == "POST":
            return self._create(request, body)
        if ident is None and request.method == "GET":
            return self._list(request)
        batch = self.batches.get(ident or "")
        if batch is None:
            return _error(404, "not_found", f"No batch found with id '{ident}'.", request)
        if request.method == "POST" and action == "cancel":
            if batch.data["status"] in _TERMINAL:
                return _error(
                    409,
                    "invalid_state",
                    f"Cannot cancel a batch with status {batch.data['status']}.",
                    request,
                )
            batch.data["status"] = "cancelling"
            batch.data["cancelling_at"] = self._now()
            batch.events.append("cancelling")
            return _json(200, batch.data, request)
        if request.method == "GET" and action is None:
            self._advance(batch)
            return _json(200, batch.data, request)
        return _error(405, "method_not_allowed", f"{request.method} {request.url.path}", request)

    def _create(self, request: httpx2.Request, body: bytes) -> httpx2.Response:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "invalid_json", "invalid JSON body", request)
        source = self.files.get(str(params.get("input_file_id")))
        if source is None:
            return _error(400, "invalid_request", "input_file_id does not exist", request)
        if params.get("completion_window") != "24h":
            return _error(400, "invalid_request", "completion_window must be 24h", request)
        now = self._now()
        batch_id = f"batch_{next(self._ids):06d}"
        data: dict[str, Any] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": params.get("endpoint"),
            "errors": None,
            "input_file_id": source.id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + _WINDOW_S,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": params.get("metadata"),
        }
        fate, share, failure = self._fates.pop(0) if self._fates else ("complete", 1.0, None)
        self.batches[batch_id] = _Batch(data, 0, fate, share, failure, held=self._hold_new)
        return _json(200, data, request)

    def _list(self, request: httpx2.Request) -> httpx2.Response:
        query = parse_qs(
            request.url.query.decode()
            if isinstance(request.url.query, bytes)
            else request.url.query
        )
        limit = int(query.get("limit", ["20"])[0])
        after = query.get("after", [None])[0]
        items = sorted(self.batches.values(), key=lambda b: b.data["id"], reverse=True)
        ids = [b.data["id"] for b in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = [b.data for b in items[start : start + limit]]
        return _json(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": start + limit < len(items),
            },
            request,
        )

    # --- the batch's life ------------------------------------------------------------
    def _advance(self, batch: _Batch) -> None:
        data = batch.data
        if data["status"] in _TERMINAL or batch.held:
            return
        if data["status"] == "cancelling":
            self._finish(batch, "cancelled", "batch_cancelled", "The batch was cancelled.")
            return
        batch.ticks += 1
        if batch.ticks < self.steps:
            return
        batch.ticks = 0
        status = data["status"]
        if status == "validating":
            problem = batch.failure if batch.fate == "fail" else self._validate(data)
            if problem is not None:
                data.update(status="failed", failed_at=self._now())
                data["errors"] = {"object": "list", "data": [problem]}
                batch.events.append("failed")
                return
            lines = self._lines(data)
            data["request_counts"]["total"] = len(lines)
            data.update(status="in_progress", in_progress_at=self._now())
        elif status == "in_progress":
            if batch.fate == "expire":
                self._finish(
                    batch,
                    "expired",
                    "batch_expired",
                    "This request could not be executed before the completion window expired.",
                )
                return
            data.update(status="finalizing", finalizing_at=self._now())
        elif status == "finalizing":
            self._finish(batch, "completed", "", "")
        batch.events.append(data["status"])

    def _validate(self, data: dict[str, Any]) -> dict[str, Any] | None:
        def problem(code: str, message: str, line: int | None = None) -> dict[str, Any]:
            return {"code": code, "message": message, "param": None, "line": line}

        try:
            lines = self._lines(data)
        except ValueError as exc:
            return problem("invalid_json_line", str(exc))
        if len(lines) > self.max_requests:
            return problem(
                "too_many_requests",
                f"The batch input file has {len(lines)} requests; the limit is {self.max_requests}.",
            )
        seen: set[str] = set()
        models: set[str] = set()
        for number, line in enumerate(lines, start=1):
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in seen:
                return problem("duplicate_custom_id", "custom_id missing or repeated", number)
            seen.add(custom_id)
            if line.get("method") != "POST" or line.get("url") != data["endpoint"]:
                return problem(
                    "mismatched_endpoint", "the line's method/url differ from the batch's", number
                )
            body = line.get("body")
            if not isinstance(body, dict) or not body.get("model"):
                return problem("missing_model", "the line's body names no model", number)
            models.add(str(body["model"]))
        if len(models) > 1:
            return problem("mismatched_model", "a batch file must use one model")
        return None

    def _lines(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        text = self.files[data["input_file_id"]].content.decode("utf-8")
        out = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"line {number} is not JSON: {exc}") from None
            out.append(value)
        return out

    def _finish(self, batch: _Batch, status: str, code: str, message: str) -> None:
        """Answer the lines this batch gets to, write its output and error files, end it."""
        data = batch.data
        lines = self._lines(data) if data["status"] != "validating" else []
        share = 1.0 if status == "completed" else batch.answered_share
        if status == "cancelled":
            share = batch.answered_share if batch.fate == "expire" else 0.5
        answered = round(len(lines) * share)
        output: list[str] = []
        errors: list[str] = []
        for index, line in enumerate(lines):
            custom_id = line["custom_id"]
            if index >= answered:
                errors.append(
                    _line(custom_id, None, {"code": code, "message": message}, self._next_id())
                )
                continue
            body = line["body"]
            reply = self.next_reply(body)
            self.record(RecordedRequest(str(line["url"]), body, {}, reply.kind))
            request_id = self._next_id()
            if reply.kind in ("ok", "text", "schema_break", "ungrounded"):
                response = {
                    "status_code": 200,
                    "request_id": f"req_{request_id}",
                    "body": completion(body, reply.data),
                }
                output.append(_line(custom_id, response, None, request_id))
                continue
            status_code = reply.code if reply.code >= 400 else 500
            payload = reply.data or {
                "error": {"message": f"fake error {status_code}", "type": "server_error"}
            }
            response = {
                "status_code": status_code,
                "request_id": f"req_{request_id}",
                "body": payload,
            }
            errors.append(_line(custom_id, response, None, request_id))
        counts = data["request_counts"]
        counts.update(total=len(lines), completed=len(output), failed=len(errors))
        if output:
            data["output_file_id"] = self._store(
                f"{data['id']}_output.jsonl", "batch_output", "".join(output).encode()
            ).id
        if errors:
            data["error_file_id"] = self._store(
                f"{data['id']}_error.jsonl", "batch_output", "".join(errors).encode()
            ).id
        data["status"] = status
        data[f"{status}_at"] = self._now()
        batch.events.append(status)

    # --- helpers -----------------------------------------------------------------------
    def _store(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        stored = StoredFile(f"file-{next(self._ids):06d}", filename, purpose, content, self._now())
        self.files[stored.id] = stored
        return stored

    def _next_id(self) -> int:
        return next(self._ids)

    def _now(self) -> int:
        return int(self.clock())


def _line(
    custom_id: str, response: dict[str, Any] | None, error: dict[str, Any] | None, n: int
) -> str:
    record = {
        "id": f"batch_req_{n:06d}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, bytes)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return {}
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        if name is not None:
            fields[name.group(1)] = (filename.group(1) if filename else None, content)
    return fields


def _json(status: int, payload: Any, request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        status,
        content=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"content-type": "application/json"},
        request=request,
    )


def _error(status: int, code: str, message: str, request: httpx2.Request) -> httpx2.Response:
    return _json(
        status,
        {"error": {"message": message, "type": "invalid_request_error", "code": code}},
        request,
    )
