"""The provider's Files and Batches endpoints, through the openai SDK's public methods.

The client is the backend's own (``Summarizer.backend.openai_client``): the
same settings, key handling, Azure client (``AsyncAzureOpenAI`` with its API
version), timeout, and the retry transport with the SDK's retry rules, so a
429 or a dropped connection while uploading or polling is retried like any
model call. Errors are mapped once, by :func:`khabar.llm.errors.map_api_error`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from khabar.errors import ConfigError, KhabarError
from khabar.llm.errors import map_api_error

if TYPE_CHECKING:
    from khabar.pipeline import Summarizer

__all__ = ["BatchEndpoint", "make_status_error"]

# Uploads of up to 200 MB take longer than one chat completion.
_UPLOAD_TIMEOUT_S = 600.0
# Batches listed while looking for one whose creation was not recorded (a killed submit).
_LIST_LIMIT = 100


class BatchEndpoint:
    """``files.create``, ``batches.create/retrieve/cancel/list`` and ``files.content`` of one endpoint."""

    def __init__(self, summarizer: Summarizer) -> None:
        client = getattr(summarizer.backend, "openai_client", None)
        if client is None or not hasattr(client, "batches"):
            raise ConfigError(
                "this backend has no batch API (it is not an OpenAI-compatible endpoint)",
                hint="Use an OpenAI or Azure OpenAI endpoint, or `collect --from-file` with vLLM.",
            )
        self.client: Any = client
        self.timeout = max(summarizer.settings.timeout, _UPLOAD_TIMEOUT_S)

    async def upload(self, path: Path) -> str:
        """Upload a request file (purpose ``batch``); its file id."""
        try:
            obj = await self.client.files.create(
                file=(path.name, path.read_bytes()), purpose="batch", timeout=self.timeout
            )
        except KhabarError:
            raise
        except Exception as exc:
            raise map_api_error(exc, None) from exc
        return str(obj.id)

    async def create(self, input_file_id: str, url: str, metadata: dict[str, str]) -> Any:
        try:
            return await self.client.batches.create(
                input_file_id=input_file_id,
                endpoint=url,
                completion_window="24h",
                metadata=metadata,
            )
        except Exception as exc:
            raise map_api_error(exc, None) from exc

    async def retrieve(self, batch_id: str) -> Any:
        try:
            return await self.client.batches.retrieve(batch_id)
        except Exception as exc:
            raise map_api_error(exc, None) from exc

    async def cancel(self, batch_id: str) -> Any:
        try:
            return await self.client.batches.cancel(batch_id)
        except Exception as exc:
            raise map_api_error(exc, None) from exc

    async def find(self, input_file_id: str, metadata: dict[str, str]) -> Any | None:
        """A batch created from this file with this metadata, if one exists.

        A submit killed between ``batches.create`` and saving the state left a
        batch the state does not know: adopting it, instead of creating a
        second one, is what keeps an article from being paid for twice.
        """
        try:
            page = await self.client.batches.list(limit=_LIST_LIMIT)
            seen = 0
            async for batch in page:
                seen += 1
                if batch.input_file_id == input_file_id and dict(batch.metadata or {}) == metadata:
                    return batch
                if seen >= 10 * _LIST_LIMIT:
                    break
        except Exception as exc:
            raise map_api_error(exc, None) from exc
        return None

    async def download(self, file_id: str, dest: Path) -> None:
        """A file's content into ``dest``, whole or not at all (streamed: files reach 200 MB)."""
        tmp = dest.with_name(dest.name + ".tmp")
        try:
            async with self.client.files.with_streaming_response.content(
                file_id, timeout=self.timeout
            ) as response:
                with open(tmp, "wb") as f:
                    async for chunk in response.iter_bytes():
                        f.write(chunk)
                    f.flush()
                    with contextlib.suppress(OSError):
                        os.fsync(f.fileno())
        except Exception as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise map_api_error(exc, None) from exc
        os.replace(tmp, dest)


def make_status_error(status: int, body: Any, url: str) -> Exception:
    """The openai exception the SDK would raise for this status and body (for map_api_error).

    A failed line of a batch error file carries the HTTP status and error body
    the request would have had online; building the SDK's own exception lets
    the online error mapping (context length, invalid request, 5xx...) apply.
    """
    import json

    import httpx2
    import openai

    classes: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        403: openai.PermissionDeniedError,
        404: openai.NotFoundError,
        409: openai.ConflictError,
        422: openai.UnprocessableEntityError,
        429: openai.RateLimitError,
    }
    kind = classes.get(status) or (
        openai.InternalServerError if status >= 500 else openai.APIStatusError
    )
    response = httpx2.Response(
        status,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"content-type": "application/json"},
        request=httpx2.Request("POST", url),
    )
    error = body.get("error") if isinstance(body, dict) else None
    message = (error.get("message") if isinstance(error, dict) else None) or f"Error code: {status}"
    return kind(str(message), response=response, body=body)
