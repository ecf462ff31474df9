"""How settings reach the transport: the timeout as given, read timeouts against self-hosted
servers, Azure's own variables (issue #12, items 9, 15 and 17)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import pytest

from khabar.config import Settings
from khabar.core.digest import DigestDraft
from khabar.errors import TransportError
from khabar.llm import build_backend
from khabar.llm.factory import is_self_hosted
from khabar.testing import MockTransport, Reply

from .conftest import SENTINEL_KEY

MESSAGES = [{"role": "user", "content": "an article"}]


class Capturing(MockTransport):
    """The in-process fake endpoint, keeping each request as the transport received it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request)
        return await super().handle_async_request(request)


async def ask_once(settings: Settings, transport: httpx2.AsyncBaseTransport | None = None) -> None:
    backend = build_backend(settings, transport=transport)
    try:
        await backend.ask(MESSAGES, DigestDraft, max_tokens=64, temperature=0.0)
    finally:
        await backend.aclose()


# --- item 9: the timeout the user sets is the one used -----------------------------------


@pytest.mark.parametrize(
    ("env", "seconds"), [("5", 5.0), ("5.0", 5.0), ("0.5", 0.5)], ids=["5", "5.0", "0.5"]
)
async def test_the_timeout_reaches_the_request_as_given(
    monkeypatch: pytest.MonkeyPatch, env: str, seconds: float
) -> None:
    """Before: 5 (httpx's own default) made the openai client put its 600 s in its place."""
    monkeypatch.setenv("KHABAR_TIMEOUT", env)
    mock = Capturing()
    await ask_once(Settings(model="m", base_url=mock.base_url, api_key="x"), mock)
    (request,) = mock.seen
    timeout = request.extensions["timeout"]
    assert timeout["read"] == seconds and timeout["write"] == seconds
    assert timeout["connect"] == min(10.0, seconds)


async def test_a_stalled_server_fails_each_call_after_its_own_timeout(
    server: Any, settings_for: Any
) -> None:
    """The real socket: three calls at once, with 0.5 s, 5 s and 5.0 s, against 9 s stalls."""
    server.script(*[Reply.stall(9.0)] * 3)

    async def elapsed(timeout: float) -> float:
        settings = settings_for(server, timeout=timeout, max_transport_retries=0)
        started = time.perf_counter()
        with pytest.raises(TransportError):
            await ask_once(settings)
        return time.perf_counter() - started

    short, five, five_float = await asyncio.gather(elapsed(0.5), elapsed(5), elapsed(5.0))
    assert 0.4 <= short < 3.0
    assert 4.5 <= five < 8.0 and 4.5 <= five_float < 8.0


# --- item 15: a read timeout against a self-hosted server is final --------------------


async def test_a_stalled_local_server_is_asked_once_and_the_error_names_the_setting(
    server: Any, settings_for: Any
) -> None:
    """Before: each retry re-sent the request while the server was still computing."""
    server.script(*[Reply.stall(2.0)] * 4)
    settings = settings_for(server, timeout=0.5, provider="llamacpp", max_transport_retries=3)
    with pytest.raises(TransportError) as caught:
        await ask_once(settings)
    assert len(server.requests) == 1
    assert "KHABAR_TIMEOUT" in str(caught.value) and "0.5 s" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


@pytest.mark.parametrize(
    ("provider", "url", "expected"),
    [
        ("auto", "https://api.openai.com/v1", False),
        ("auto", "https://openrouter.ai/api/v1", False),
        ("auto", "https://NAME.openai.azure.com", False),
        ("auto", "http://127.0.0.1:8080/v1", True),
        ("auto", "http://localhost:11434/v1", True),
        ("auto", "http://[::1]:8000/v1", True),
        ("auto", "http://192.168.1.20:8000/v1", True),
        ("auto", "http://vllm:8000/v1", True),
        ("auto", "http://gpu-box.local:8000/v1", True),
        ("auto", "https://ollama.example.com/v1", True),
        ("llamacpp", "https://llm.example.com/v1", True),
        ("vllm", "https://llm.example.com/v1", True),
    ],
    ids=lambda v: str(v),
)
def test_which_endpoints_are_self_hosted(provider: str, url: str, expected: bool) -> None:
    from khabar.llm import guess_provider

    settings = Settings(model="m", base_url=url, provider=provider)  # type: ignore[arg-type]
    assert is_self_hosted(settings, guess_provider(settings)) is expected


# --- item 17: Azure's own variables --------------------------------------------------------


async def test_azure_variables_alone_talk_to_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: with only AZURE_OPENAI_* set, khabar talked to api.openai.com."""
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://contoso.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-06-01")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-for-api-openai-com-only-000")
    monkeypatch.setenv("KHABAR_MODEL", "my-deployment")
    mock = Capturing()
    await ask_once(Settings(), mock)
    (request,) = mock.seen
    assert request.url.host == "contoso.openai.azure.com"
    assert request.url.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.url.params["api-version"] == "2024-06-01"
    assert request.headers["api-key"] == SENTINEL_KEY


def test_the_azure_key_never_goes_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://contoso.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SENTINEL_KEY)
    # An explicit base URL wins over the Azure endpoint; the Azure key stays home.
    settings = Settings(model="m", base_url="http://localhost:8000/v1")
    assert settings.provider == "auto" and settings.api_key_value() is None


async def test_azure_without_a_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from khabar.errors import ConfigError

    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://contoso.openai.azure.com")
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
        build_backend(Settings(model="dep"))
