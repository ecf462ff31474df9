"""Refusals a retry cannot fix reach the user at once, as errors that say what to change
(issue #12, items 14 and 16), through the real openai + instructor + retry stack."""

from __future__ import annotations

from typing import Any

import pytest

from khabar.config import Settings
from khabar.core.digest import DigestDraft
from khabar.errors import ProviderError, TransportError
from khabar.llm import build_backend
from khabar.testing import MockTransport, Reply

from .test_retry import LLAMA_CPP_PYTHON_LITERAL_ERROR


async def ask(mock: MockTransport, **settings: Any) -> None:
    values: dict[str, Any] = {
        "model": "fake-model",
        "base_url": mock.base_url,
        "api_key": "x",
        "retry_base_wait": 0.001,
        "max_transport_retries": 3,
    }
    values.update(settings)
    backend = build_backend(Settings(**values), transport=mock)
    try:
        await backend.ask(
            [{"role": "user", "content": "an article"}],
            DigestDraft,
            max_tokens=64,
            temperature=0.0,
            max_retries=1,
            article_id="a1",
        )
    finally:
        await backend.aclose()


CONTEXT_ERRORS = {
    # llama-cpp-python's server, default n_ctx 2048.
    "llama-cpp-python-server": (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 2048 tokens. However, you "
                "requested 4143 tokens (2095 in the messages, 2048 in the completion). Please "
                "reduce the length of the messages or completion.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        ("4143", "2048"),
    ),
    # The embedded model's transport passes llama.cpp's own words on.
    "llama-cpp-python-in-process": (
        400,
        {
            "error": {
                "message": "llama.cpp refused the request: Requested tokens (4143) exceed "
                "context window of 2048",
                "type": "invalid_request_error",
            }
        },
        ("4143", "2048"),
    ),
    "openai": (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, "
                "your messages resulted in 130012 tokens. Please reduce the length of the "
                "messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        ("130012", "128000"),
    ),
    "vllm": (
        400,
        {
            "object": "error",
            "message": "This model's maximum context length is 8192 tokens. However, you "
            "requested 9000 tokens (7000 in the messages, 2000 in the completion). Please "
            "reduce the length of the messages or completion.",
            "type": "BadRequestError",
            "code": 400,
        },
        ("9000", "8192"),
    ),
    "llama-server": (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        },
        (),
    ),
}


@pytest.mark.parametrize(
    ("status", "body", "numbers"), CONTEXT_ERRORS.values(), ids=CONTEXT_ERRORS.keys()
)
async def test_a_context_length_error_says_so_and_what_to_change(
    status: int, body: dict[str, Any], numbers: tuple[str, ...]
) -> None:
    mock = MockTransport()
    mock.script(Reply.status(status, body=body))
    with pytest.raises(ProviderError) as caught:
        await ask(mock)
    error = caught.value
    text = str(error)
    assert "does not fit the model's context window" in text
    for setting in ("KHABAR_MAX_TOKENS", "KHABAR_MAX_ARTICLE_CHARS", "context"):
        assert setting in error.hint
    for number in numbers:
        assert number in text
    assert "mock.khabar" in text  # which endpoint
    assert error.article_id == "a1"
    assert len(mock.requests) == 1


async def test_a_validation_error_is_reported_at_once_with_the_mode_hint() -> None:
    """llama-cpp-python's server refusing json_schema with HTTP 500: not transient."""
    mock = MockTransport()
    mock.script(*[Reply.status(500, body=LLAMA_CPP_PYTHON_LITERAL_ERROR)] * 4)
    with pytest.raises(ProviderError) as caught:
        await ask(mock, provider="llamacpp", mode="json_schema")
    error = caught.value
    assert not isinstance(error, TransportError)  # not "the endpoint kept failing"
    assert "KHABAR_MODE" in error.hint
    assert "body.response_format.type" in str(error) and "HTTP 500" in str(error)
    assert len(mock.requests) == 1  # asked once, not max_transport_retries + 1 times


async def test_an_ordinary_500_is_still_transient() -> None:
    mock = MockTransport()
    mock.script(*[Reply.status(500)] * 4)
    with pytest.raises(TransportError):
        await ask(mock)
    assert len(mock.requests) == 4
