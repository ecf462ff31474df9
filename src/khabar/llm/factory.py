"""Build the backend that ``settings`` describe: which endpoint, which transport, which mode.

The timeout: the openai client ignores the timeout of an ``http_client`` that
equals httpx's own default (5 s) and puts its 600 s in its place, so that a
user's ``KHABAR_TIMEOUT=5`` silently became 600 s. The timeout is therefore
given to the openai client itself (:func:`request_timeout`), and the
``http_client`` carries the same one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from khabar.config import Settings
from khabar.errors import ConfigError
from khabar.redaction import register_secret

from .backend import Backend, Limits, guess_provider, pick_mode, public_endpoint
from .openai_compat import OpenAICompatibleBackend
from .recording import RecordingTransport, ReplayTransport
from .retry import RateGate, RetryPolicy, RetryTransport

__all__ = ["BackendPlan", "build_backend", "is_self_hosted", "plan_backend", "request_timeout"]

LOCAL_BASE_URL = "http://local.khabar/v1"

# Kinds of server that people run themselves, named explicitly in KHABAR_PROVIDER.
_SELF_HOSTED_PROVIDERS = frozenset({"llamacpp", "ollama", "vllm", "local"})


def request_timeout(settings: Settings) -> httpx2.Timeout:
    """KHABAR_TIMEOUT as httpx2 applies it: every phase, with connecting capped at 10 s."""
    return httpx2.Timeout(settings.timeout, connect=min(10.0, settings.timeout))


def _private_host(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        # localhost, a docker-compose service name ("vllm"), a LAN name ("gpu.local").
        return (
            host == "localhost"
            or "." not in host
            or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa"))
        )
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified


def is_self_hosted(settings: Settings, provider: str) -> bool:
    """Whether the endpoint is a server people run themselves (llama.cpp, Ollama, vLLM, localhost).

    Such a server keeps computing a request whose client timed out, so a read
    timeout there is not retried (see :mod:`khabar.llm.retry`). A guessed
    ``vllm`` (any unknown OpenAI-compatible URL) counts only on a private host:
    hosted services behind such URLs do drop requests, and a retry helps there.
    """
    if settings.provider in _SELF_HOSTED_PROVIDERS or provider in ("ollama", "local"):
        return True
    host = urlsplit(settings.base_url or "").hostname
    return bool(host) and _private_host(host.lower())  # type: ignore[union-attr]


def _http_client(
    settings: Settings,
    base: httpx2.AsyncBaseTransport,
    gate: RateGate | None,
    *,
    self_hosted: bool,
) -> httpx2.AsyncClient:
    policy = RetryPolicy(
        max_retries=settings.max_transport_retries,
        base_wait=settings.retry_base_wait,
        max_wait=settings.retry_max_wait,
        retry_read_timeouts=not self_hosted,
    )
    return httpx2.AsyncClient(
        transport=RetryTransport(base, policy, gate), timeout=request_timeout(settings)
    )


@dataclass(frozen=True)
class BackendPlan:
    """What ``settings`` ask for, worked out without building a client or importing openai.

    The pipeline keys its cache and caps its answers from the plan, so that a
    rerun served from the cache, or a resume with nothing left to do, never
    builds a client (importing openai alone costs more than a second of CPU).
    """

    provider: str
    mode: str
    model: str
    base_url: str
    limits: Limits = field(default_factory=Limits)
    warnings: tuple[str, ...] = ()
    local: Any = None  # LocalModelChoice, for the embedded model

    @property
    def endpoint(self) -> str | None:
        """The endpoint as provenance shows it (None for the embedded model)."""
        return public_endpoint(self.base_url) if self.provider != "local" else None

    def identity(self, settings: Settings) -> dict[str, Any]:
        """Everything about the backend that changes an answer (enters the cache key)."""
        parts: dict[str, Any] = {
            "model": self.model,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "mode": self.mode,
        }
        if self.provider == "local":
            parts["local_model"] = str(self.local.path) if self.local else None
            parts["local_n_ctx"] = settings.local_n_ctx
        return parts


def plan_backend(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    replay_dir: Path | None = None,
) -> BackendPlan:
    """Work out provider, mode, model, endpoint and limits from ``settings`` (cheap)."""
    provider = "replay" if replay_dir is not None else guess_provider(settings)
    mode = pick_mode(settings, provider)
    if provider == "local":
        limits, choice = Limits(), None
        warnings: tuple[str, ...] = ()
        if transport is None:
            from .local import PLUMBING_LIMITS, resolve_local_model

            choice = resolve_local_model(settings)
            if choice.plumbing:
                limits = PLUMBING_LIMITS
                warnings = (
                    f"plumbing model: {choice.name} is a tiny English-only model bundled "
                    "to prove the pipeline runs; its digests of Arabic and Persian are not "
                    f"meaningful (its answers are capped at {limits.max_tokens} tokens, with no "
                    "re-asks).",
                )
        model = settings.model or (choice.name if choice else "local")
        return BackendPlan(provider, mode, model, LOCAL_BASE_URL, limits, warnings, choice)
    if not settings.model:
        raise ConfigError(
            f"no model configured for the endpoint {public_endpoint(settings.base_url) or 'https://api.openai.com/v1'}",
            hint="Set KHABAR_MODEL or --model (e.g. gpt-4o-mini, qwen2.5:7b; for Azure, "
            "the deployment name).",
        )
    return BackendPlan(
        provider, mode, settings.model, settings.base_url or "https://api.openai.com/v1"
    )


def build_backend(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    record_dir: Path | None = None,
    replay_dir: Path | None = None,
    gate: RateGate | None = None,
    model_label: str | None = None,
    plan: BackendPlan | None = None,
) -> Backend:
    """Build the backend for ``settings`` (``plan``: one :func:`plan_backend` already made).

    ``transport`` replaces the network (tests: :class:`khabar.testing.MockTransport`);
    ``replay_dir`` serves recordings instead of any model; ``record_dir`` writes
    every exchange.
    """
    import instructor
    import openai

    plan = plan or plan_backend(settings, transport=transport, replay_dir=replay_dir)
    provider = plan.provider
    api_key = settings.api_key_value()
    register_secret(api_key)  # Settings registered it too; a subclass might not

    replay = ReplayTransport(replay_dir) if replay_dir is not None else None
    local_parts: dict[str, Any] = {}
    base: httpx2.AsyncBaseTransport
    if replay is not None:
        base = replay
    elif transport is not None:
        base = transport
    elif provider == "local":
        from .local import LocalLlamaTransport

        local_transport = LocalLlamaTransport(
            plan.local,
            n_ctx=settings.local_n_ctx,
            n_threads=settings.local_threads,
            repeat_penalty=settings.local_repeat_penalty,
            safe_mode=settings.local_safe_mode,
        )
        base = local_transport
        local_parts = {"local": plan.local, "transport": local_transport}
    else:
        # The pool is the transport's: `limits=` on a client that is given a transport is ignored.
        width = max(settings.concurrency, 1)
        base = httpx2.AsyncHTTPTransport(
            retries=0,
            limits=httpx2.Limits(max_connections=width, max_keepalive_connections=width),
        )

    recorder = None
    if record_dir is not None and replay is None:
        recorder = RecordingTransport(base, record_dir, model_label or plan.model)
        base = recorder

    # The key must be present for the openai client even when the endpoint
    # doesn't check one (local, Ollama, vLLM): a placeholder, never logged.
    needs_key = provider in ("openai", "azure") and not (replay or transport)
    key = api_key or (None if needs_key else "unused")
    if key is None and provider == "azure":
        raise ConfigError(
            f"no API key is set for the Azure endpoint {public_endpoint(settings.base_url)}",
            hint="Set AZURE_OPENAI_API_KEY (or KHABAR_API_KEY), or pass --key-env / --key-file.",
        )
    if key is None:
        raise ConfigError(
            "OPENAI_API_KEY is not set",
            hint="Set OPENAI_API_KEY, or KHABAR_BASE_URL for a local server, or unset KHABAR_MODEL for the embedded model.",
        )
    http_client = _http_client(settings, base, gate, self_hosted=is_self_hosted(settings, provider))
    oa: Any
    if provider == "azure":
        oa = openai.AsyncAzureOpenAI(
            api_key=key,
            azure_endpoint=settings.base_url or "",
            api_version=settings.azure_api_version,
            max_retries=0,
            timeout=request_timeout(settings),
            http_client=http_client,
        )
    else:
        oa = openai.AsyncOpenAI(
            api_key=key,
            base_url=plan.base_url,
            max_retries=0,
            timeout=request_timeout(settings),
            http_client=http_client,
        )
    client = instructor.from_openai(oa, mode=getattr(instructor.Mode, plan.mode))
    common: dict[str, Any] = {
        "client": client,
        "openai_client": oa,
        "http_client": http_client,
        "model": plan.model,
        "provider": provider,
        "mode": plan.mode,
        "endpoint": plan.endpoint,
        "limits": plan.limits,
        "warnings": plan.warnings,
        "replay": replay,
        "recorder": recorder,
        "identity_parts": plan.identity(settings),
    }
    if provider == "local":
        from .local import EmbeddedBackend

        return EmbeddedBackend(**common, **local_parts)
    return OpenAICompatibleBackend(**common)
