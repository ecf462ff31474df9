"""Recorded LLM exchanges ("cassettes"): record real answers once, replay them offline.

One reviewable JSON file per exchange under ``<dir>/<key>.json``, where the key
is a hash of the full request (model, messages, tools/schema, decoding
parameters). Any change to the prompt, schema, model or article changes the
key, so a stale recording is caught as a miss — never silently served.

Only the request *body* is stored: headers (``Authorization``, ``api-key``)
never reach a cassette, and every file is passed through :func:`redact`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2

from khabar.config import secure_dir
from khabar.errors import RecordingMissingError, redact
from khabar.llm.retry import call_stats, should_retry

__all__ = ["RecordingTransport", "ReplayTransport", "request_key", "secure_dir"]

CASSETTE_FORMAT = 1


def _endpoint(request: httpx2.Request) -> str:
    # Key on the API route, not the host: a recording made against one server
    # replays against any other (local, fake, remote) with the same request.
    return "/".join(request.url.path.rstrip("/").split("/")[-2:])


def request_key(method: str, endpoint: str, body: Any) -> str:
    """The hash that names a recording."""
    canonical = json.dumps(
        {"method": method.upper(), "endpoint": endpoint, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _body(request: httpx2.Request) -> Any:
    raw = request.content
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Pass requests to ``inner`` and write every successful exchange to ``directory``."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, directory: Path, model_label: str) -> None:
        self.inner = inner
        self.directory = secure_dir(directory)
        self.model_label = model_label
        self.written: list[Path] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        # What the retry layer above us retries is transient and never recorded; a
        # definite answer (200, or a 4xx such as "prompt exceeds the context") is.
        if should_retry(response):
            return response
        body = _body(request)
        endpoint = _endpoint(request)
        key = request_key(request.method, endpoint, body)
        stats = call_stats.get()
        try:
            answer: Any = json.loads(response.content)
        except ValueError:
            return response  # a truncated body is retried above us, never recorded
        cassette = {
            "khabar_cassette": CASSETTE_FORMAT,
            "model": self.model_label,
            "article_id": stats.article_id if stats else None,
            "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "key": key,
            "request": {"method": request.method, "endpoint": endpoint, "body": body},
            "response": {"status": response.status_code, "body": answer},
        }
        path = self.directory / f"{key}.json"
        _atomic_write(path, redact(json.dumps(cassette, ensure_ascii=False, indent=2)) + "\n")
        self.written.append(path)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReplayTransport(httpx2.AsyncBaseTransport):
    """Serve recorded answers; a request with no recording raises :class:`RecordingMissingError`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.played: set[str] = set()

    def recorded_keys(self) -> set[str]:
        """Keys of the exchanges in the directory (``model.json`` describes them; it is not one)."""
        if not self.directory.is_dir():
            return set()
        return {p.stem for p in self.directory.glob("*.json") if p.name != "model.json"}

    def unplayed(self) -> set[str]:
        """Recordings no request asked for: stale ones, after a full run."""
        return self.recorded_keys() - self.played

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        endpoint = _endpoint(request)
        key = request_key(request.method, endpoint, _body(request))
        path = self.directory / f"{key}.json"
        stats = call_stats.get()
        if stats is not None:
            stats.http_attempts += 1
        try:
            cassette = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RecordingMissingError(
                f"no recording for this request (key {key}) in {self.directory}",
                article_id=stats.article_id if stats else None,
            ) from None
        self.played.add(key)
        response = cassette["response"]
        return httpx2.Response(
            response["status"],
            json=response["body"],
            headers={"x-khabar-replayed": key},
            request=request,
        )
