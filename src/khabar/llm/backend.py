"""Model access: the openai client, instructor on top, and the transport stack beneath.

Every provider goes through the same stack::

    instructor (validation re-asks)
      └─ openai.AsyncOpenAI (max_retries=0)
           └─ httpx2.AsyncClient
                └─ RetryTransport        429/5xx/timeouts/drops, Retry-After, shared rate gate
                     └─ RecordingTransport  (only with --record)
                          └─ HTTP | LocalLlamaTransport (in-process llama.cpp) | ReplayTransport

Which instructor mode each kind of server gets:

============  ===============  ==========================================================
provider      mode             why
============  ===============  ==========================================================
openai/azure  TOOLS            function calling with a named tool; strict and reliable
vllm          TOOLS            a named ``tool_choice`` turns on guided decoding
llamacpp      TOOLS            llama-cpp-python builds a grammar from the named tool
ollama        JSON_SCHEMA      Ollama's /v1 passes a json_schema through to its grammar
local         TOOLS            the embedded model: grammar from the tool's parameters
============  ===============  ==========================================================

``KHABAR_MODE`` overrides the choice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

from khabar.config import Settings
from khabar.errors import ConfigError, register_secret
from khabar.llm.recording import RecordingTransport, ReplayTransport
from khabar.llm.retry import RateGate, RetryPolicy, RetryTransport, call_stats

__all__ = ["Backend", "build_backend", "pick_mode", "public_endpoint"]

logger = logging.getLogger("khabar")

LOCAL_BASE_URL = "http://local.khabar/v1"

_MODES = {"tools": "TOOLS", "json_schema": "JSON_SCHEMA", "json": "JSON"}
_PROVIDER_MODES = {
    "openai": "TOOLS",
    "azure": "TOOLS",
    "vllm": "TOOLS",
    "llamacpp": "TOOLS",
    "ollama": "JSON_SCHEMA",
    "local": "TOOLS",
}


def _count_reask(*_args: Any, **_kwargs: Any) -> None:
    # instructor's hook runs in the calling task, so the per-article context var is ours.
    stats = call_stats.get()
    if stats is not None:
        stats.reasks += 1


def _remember_async_validator_checks() -> None:
    """Let instructor check a response model for async validators once, not on every call.

    instructor 1.17 walks the whole response model graph 3 to 7 times per call
    (``reject_async_validators``): 6 ms of CPU per article for DigestDraft,
    measured with cProfile in bench/, a third of the client's CPU per article,
    which caps a batch's throughput on one core. The answer depends on the class
    only, so a class that passed once passes again. A different instructor
    (no such function) is left alone.
    """
    try:
        from instructor.v2.validation import async_validators as module
    except ImportError:
        return
    original = getattr(module, "reject_async_validators", None)
    if original is None or getattr(original, "_khabar_remembers", False):
        return
    accepted: set[type] = set()

    def remembering(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in accepted:
            return
        original(response_model)  # raises for a model it rejects: never remembered
        if isinstance(response_model, type):
            accepted.add(response_model)

    remembering._khabar_remembers = True  # type: ignore[attr-defined]
    module.reject_async_validators = remembering


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


@dataclass
class Backend:
    """A ready client and everything provenance needs to say about it."""

    client: Any  # instructor.AsyncInstructor
    openai_client: Any
    model: str
    provider: str
    mode: str
    endpoint: str | None
    http_client: httpx2.AsyncClient
    local: Any = None  # LocalModelChoice when running in-process
    local_transport: Any = None
    replay: ReplayTransport | None = None
    recorder: RecordingTransport | None = None
    warnings: list[str] = field(default_factory=list)

    def count_tokens(self, text: str) -> int | None:
        if self.local_transport is not None:
            return int(self.local_transport.count_tokens(text))
        return None

    def context_size(self) -> int | None:
        if self.local_transport is not None:
            return int(self.local_transport.context_size)
        return None

    async def aclose(self) -> None:
        await self.openai_client.close()
        await self.http_client.aclose()


def build_backend(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    record_dir: Path | None = None,
    replay_dir: Path | None = None,
    gate: RateGate | None = None,
    model_label: str | None = None,
) -> Backend:
    """Build the client stack for ``settings``.

    ``transport`` replaces the network (tests); ``replay_dir`` serves recordings
    instead of any model; ``record_dir`` writes every exchange.
    """
    import instructor
    import openai

    provider = "replay" if replay_dir is not None else guess_provider(settings)
    mode_name = pick_mode(settings, provider)
    api_key = settings.api_key_value()
    register_secret(api_key)
    warnings: list[str] = []
    local_choice = None
    local_transport = None

    replay = ReplayTransport(replay_dir) if replay_dir is not None else None
    base: httpx2.AsyncBaseTransport
    if replay is not None:
        base = replay
    else:
        if transport is not None:
            base = transport
        elif provider == "local":
            from khabar.llm.local import (
                PLUMBING_MAX_TOKENS,
                LocalLlamaTransport,
                resolve_local_model,
            )

            local_choice = resolve_local_model(settings)
            local_transport = LocalLlamaTransport(
                local_choice,
                n_ctx=settings.local_n_ctx,
                n_threads=settings.local_threads,
                repeat_penalty=settings.local_repeat_penalty,
            )
            base = local_transport
            if local_choice.plumbing:
                warnings.append(
                    f"plumbing model: {local_choice.name} is a tiny English-only model bundled "
                    "to prove the pipeline runs; its digests of Arabic and Persian are not meaningful "
                    f"(its answers are capped at {PLUMBING_MAX_TOKENS} tokens, with no re-asks)."
                )
        else:
            base = httpx2.AsyncHTTPTransport(retries=0)

    if provider == "local":
        model = settings.model or (local_choice.name if local_choice else "local")
        base_url = LOCAL_BASE_URL
    else:
        if not settings.model:
            raise ConfigError(
                "no model configured for the endpoint",
                hint="Set KHABAR_MODEL (e.g. gpt-4o-mini, qwen2.5:7b).",
            )
        model = settings.model
        base_url = settings.base_url or "https://api.openai.com/v1"

    recorder = None
    if record_dir is not None and replay is None:
        recorder = RecordingTransport(base, record_dir, model_label or model)
        base = recorder

    policy = RetryPolicy(
        max_retries=settings.max_transport_retries,
        base_wait=settings.retry_base_wait,
        max_wait=settings.retry_max_wait,
    )
    http_client = httpx2.AsyncClient(
        transport=RetryTransport(base, policy, gate),
        timeout=httpx2.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
        limits=httpx2.Limits(max_connections=max(settings.concurrency, 1) * 2),
    )
    # The key must be present for the openai client even when the endpoint
    # doesn't check one (local, Ollama, vLLM): a placeholder, never logged.
    key = api_key or ("unused" if provider != "openai" or replay or transport else None)
    if key is None:
        raise ConfigError(
            "OPENAI_API_KEY is not set",
            hint="Set OPENAI_API_KEY, or KHABAR_BASE_URL for a local server, or unset KHABAR_MODEL for the embedded model.",
        )
    oa: Any
    if provider == "azure":
        oa = openai.AsyncAzureOpenAI(
            api_key=key,
            azure_endpoint=settings.base_url or "",
            api_version=settings.azure_api_version,
            max_retries=0,
            http_client=http_client,
        )
    else:
        oa = openai.AsyncOpenAI(
            api_key=key, base_url=base_url, max_retries=0, http_client=http_client
        )
    _remember_async_validator_checks()
    client = instructor.from_openai(oa, mode=getattr(instructor.Mode, mode_name))
    client.on("parse:error", _count_reask)
    return Backend(
        client=client,
        openai_client=oa,
        model=model,
        provider=provider,
        mode=mode_name,
        endpoint=public_endpoint(base_url) if provider != "local" else None,
        http_client=http_client,
        local=local_choice,
        local_transport=local_transport,
        replay=replay,
        recorder=recorder,
        warnings=warnings,
    )
