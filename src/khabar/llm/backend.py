"""The backend protocol: what the pipeline may ask of a model, whatever runs it.

Think of simonw/llm's ``Model``: one ``ask`` that returns a parsed answer, the
model's context size and tokenizer when it has them, and its limits as typed
attributes. The pipeline reads :class:`Limits`; it never asks "is this the
local model?". Two implementations:

* :class:`~khabar.llm.openai_compat.OpenAICompatibleBackend` — instructor on the
  openai client, over HTTP (OpenAI, Azure, Ollama, vLLM, llama.cpp server),
  replayed recordings, or a test transport;
* :class:`~khabar.llm.local.EmbeddedBackend` — the same stack over an
  in-process llama.cpp model, which also knows its context and tokenizer.

Foreign exceptions (openai, instructor, httpx2) never leave a backend: they
are mapped to :class:`~khabar.errors.KhabarError` subclasses where they enter
(:mod:`khabar.llm.errors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from khabar.config import Settings

from .recording import RecordingTransport, ReplayTransport

__all__ = [
    "Answer",
    "Backend",
    "Limits",
    "guess_provider",
    "pick_mode",
    "public_endpoint",
]

T = TypeVar("T", bound=BaseModel)

Message = Mapping[str, str]

_MODES = {"tools": "TOOLS", "json_schema": "JSON_SCHEMA", "json": "JSON"}
_PROVIDER_MODES = {
    "openai": "TOOLS",
    "azure": "TOOLS",
    "vllm": "TOOLS",
    "llamacpp": "TOOLS",
    "ollama": "JSON_SCHEMA",
    "local": "TOOLS",
}


@dataclass(frozen=True)
class Limits:
    """What a backend allows, whatever the settings ask for.

    ``max_tokens`` and ``max_reasks`` are caps (None: no cap of the backend's
    own); ``plumbing`` marks a model that proves the pipeline runs but whose
    digests are not meaningful (the bundled SmolLM2-135M).
    """

    max_tokens: int | None = None
    max_reasks: int | None = None
    plumbing: bool = False

    def tokens(self, wanted: int) -> int:
        """``wanted`` answer tokens, capped by this backend."""
        return wanted if self.max_tokens is None else min(wanted, self.max_tokens)

    def reasks(self, wanted: int) -> int:
        """``wanted`` re-asks, capped by this backend."""
        return wanted if self.max_reasks is None else min(wanted, self.max_reasks)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """One parsed answer: the value, how many model calls it took, and what they cost."""

    value: T
    calls: int = 1
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # The first call's share: what the answer would have cost without re-asks.
    first_prompt_tokens: int | None = None
    first_completion_tokens: int | None = None


class Backend(Protocol):
    """A model the pipeline can ask for structured answers."""

    model: str
    provider: str
    mode: str
    endpoint: str | None
    limits: Limits
    warnings: tuple[str, ...]
    # Set when recording (``--record``) or replaying (``--replay``) exchanges.
    recorder: RecordingTransport | None
    replay: ReplayTransport | None

    def identity(self) -> dict[str, Any]:
        """Everything about this backend that changes an answer (enters the cache key)."""
        ...

    def describe(self) -> str:
        """Which model answers and where it runs, for people (reports, ``khabar info``)."""
        ...

    def context_size(self) -> int | None:
        """The model's context window in tokens, when known (None for remote endpoints)."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """``text``'s length in the model's tokens, when the tokenizer is at hand."""
        ...

    async def ask(
        self,
        messages: Sequence[Message],
        response_model: type[T],
        *,
        max_tokens: int,
        temperature: float,
        seed: int | None = None,
        max_retries: int = 0,
        article_id: str | None = None,
    ) -> Answer[T]:
        """Ask for one ``response_model``; ``max_retries`` re-asks an answer that does not parse.

        Raises :class:`~khabar.errors.ProviderError` (and subclasses) when the
        endpoint fails, :class:`~khabar.errors.ValidationFailedError` when no
        answer parsed.
        """
        ...

    async def aclose(self) -> None:
        """Release connections (and the local model)."""
        ...


def guess_provider(settings: Settings) -> str:
    """The provider named in settings, or a guess from the endpoint URL."""
    if settings.provider != "auto":
        return settings.provider
    if settings.uses_local_model:
        return "local"
    url = (settings.base_url or "").lower()
    if not url:
        return "openai"
    host = urlsplit(url).netloc
    if "azure" in host:
        return "azure"
    if ":11434" in host or "ollama" in url:
        return "ollama"
    if "api.openai.com" in host:
        return "openai"
    # Any other OpenAI-compatible server (vLLM, llama.cpp, LM Studio...): named tools
    # are the one structured-output feature they all understand.
    return "vllm"


def pick_mode(settings: Settings, provider: str) -> str:
    """The instructor mode name (``TOOLS``, ``JSON_SCHEMA``, ``JSON``) for this provider."""
    if settings.mode != "auto":
        return _MODES[settings.mode]
    return _PROVIDER_MODES.get(provider, "TOOLS")


def public_endpoint(url: str | None) -> str | None:
    """The endpoint URL without credentials or query string: safe for logs and provenance."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
