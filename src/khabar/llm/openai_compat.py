"""The OpenAI-compatible backend: instructor on the openai client, over any httpx2 transport.

The stack, top to bottom::

    instructor (structural re-asks only: JSON that does not parse or fit the schema)
      └─ openai.AsyncOpenAI / AsyncAzureOpenAI (max_retries=0)
           └─ httpx2.AsyncClient (pool as wide as the concurrency)
                └─ RetryTransport        the SDK's retry rules, a shared rate gate, truncated bodies
                     └─ RecordingTransport  (only with --record)
                          └─ HTTP | LocalLlamaTransport (in-process) | ReplayTransport

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

``KHABAR_MODE`` overrides the choice. Each call gets its own instructor
``Hooks``: they count the model calls and tokens of that call and keep the
endpoint's error as it was raised, so that it is mapped to a khabar error
here, once, instead of being dug out of instructor's exception afterwards.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from pydantic import BaseModel

from khabar.errors import KhabarError, ValidationFailedError

from .backend import Answer, Limits, Message
from .errors import map_api_error, short
from .recording import RecordingTransport, ReplayTransport

__all__ = ["OpenAICompatibleBackend", "answer_cut_off", "answer_off_schema"]

logger = logging.getLogger("khabar")

T = TypeVar("T", bound=BaseModel)


@functools.cache
def _tool_model(response_model: type[T]) -> type[T]:
    """``response_model`` wrapped once as instructor's response schema.

    Given the plain model, instructor builds a new wrapper class on every call,
    which defeats its schema cache: 12 ms of JSON Schema generation per article
    (measured with cProfile in bench/). Same name, same schema, same tool.
    """
    from instructor import openai_schema

    wrapped: type[T] = openai_schema(response_model)
    return wrapped


def answer_cut_off(
    max_tokens: int, limits: Limits, *, article_id: str | None, attempts: int
) -> ValidationFailedError:
    """An answer cut at the token limit, with advice that fits the backend's limits.

    Shared with the batch API path, so that both say the same thing of the same answer.
    """
    capped = limits.max_tokens is not None and max_tokens >= limits.max_tokens
    hint = (
        f"This model's answers are capped at {max_tokens} tokens, and a digest of this "
        "article does not fit in them: point khabar at a capable model for real digests "
        "(see `khabar info`)."
        if capped
        else f"Raise KHABAR_MAX_TOKENS (now {max_tokens}), or try a model that answers "
        "more briefly."
    )
    return ValidationFailedError(
        f"the model's answer was cut off at the token limit ({max_tokens} tokens) before "
        "its JSON was complete",
        article_id=article_id,
        hint=hint,
        attempts=attempts,
    )


def answer_off_schema(
    cause: BaseException, attempts: int, limits: Limits, *, article_id: str | None
) -> ValidationFailedError:
    """An answer that never fit the digest schema: field by field, without pydantic's dump."""
    from pydantic import ValidationError

    if isinstance(cause, ValidationError):
        errors = cause.errors(include_url=False, include_input=False, include_context=False)
        why = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the answer'}: {e['msg']}" for e in errors[:3]
        ) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
    else:
        why = short(cause)
    # A backend that allows no re-asks (the bundled plumbing model): raising them changes nothing.
    hint = (
        "This model gets no re-asks (a second try would not improve its answer): point "
        "khabar at a capable model for real digests (see `khabar info`)."
        if limits.max_reasks == 0
        else None
    )
    return ValidationFailedError(
        f"the model's answer did not match the digest schema after {attempts} "
        f"attempt{'s' * (attempts != 1)}: {why}",
        article_id=article_id,
        hint=hint,
        attempts=attempts,
    )


@dataclass
class _CallLog:
    """What instructor's hooks report about one ``ask``."""

    calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_prompt_tokens: int | None = None
    first_completion_tokens: int | None = None
    api_error: BaseException | None = None
    finish_reason: str | None = None

    def response(self, response: Any) -> None:
        self.calls += 1
        choices = getattr(response, "choices", None) or []
        self.finish_reason = getattr(choices[0], "finish_reason", None) if choices else None
        usage = getattr(response, "usage", None)
        for name in ("prompt_tokens", "completion_tokens"):
            value = getattr(usage, name, None)
            if isinstance(value, int):
                setattr(self, name, (getattr(self, name) or 0) + value)
                if self.calls == 1:
                    setattr(self, f"first_{name}", value)

    def error(self, error: BaseException, *_args: Any, **_kwargs: Any) -> None:
        self.api_error = error

    def hooks(self) -> Any:
        from instructor.core.hooks import Hooks

        hooks = Hooks()
        hooks.on("completion:response", self.response)
        hooks.on("completion:error", self.error)
        return hooks


@dataclass
class OpenAICompatibleBackend:
    """A model behind the OpenAI chat-completions API (or anything that speaks it)."""

    client: Any  # instructor.AsyncInstructor
    openai_client: Any
    http_client: httpx2.AsyncClient
    model: str
    provider: str
    mode: str
    endpoint: str | None
    limits: Limits = field(default_factory=Limits)
    warnings: tuple[str, ...] = ()
    replay: ReplayTransport | None = None
    recorder: RecordingTransport | None = None
    # Worked out by the factory's plan, so that the cache key is the same whether
    # or not a client was ever built.
    identity_parts: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return dict(self.identity_parts) or {
            "model": self.model,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "mode": self.mode,
        }

    def describe(self) -> str:
        return f"{self.model} via {self.provider}"

    def context_size(self) -> int | None:
        return None

    def count_tokens(self, text: str) -> int | None:
        return None

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
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        log = _CallLog()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "response_model": _tool_model(response_model),
            "max_retries": max_retries,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "hooks": log.hooks(),
        }
        if seed is not None:
            kwargs["seed"] = seed
        try:
            value, _completion = await self.client.chat.completions.create_with_completion(**kwargs)
        except IncompleteOutputException as exc:
            raise answer_cut_off(
                max_tokens, self.limits, article_id=article_id, attempts=log.calls
            ) from exc
        except InstructorRetryException as exc:
            if log.api_error is not None:
                raise map_api_error(log.api_error, article_id) from exc
            if log.finish_reason == "length":  # the parse error would only echo the cut
                raise answer_cut_off(
                    max_tokens, self.limits, article_id=article_id, attempts=exc.n_attempts
                ) from exc
            failed = exc.failed_attempts or []
            raise answer_off_schema(
                failed[-1].exception if failed else exc,
                exc.n_attempts,
                self.limits,
                article_id=article_id,
            ) from exc
        except KhabarError:
            raise
        except Exception as exc:  # the openai client, outside instructor's loop
            raise map_api_error(log.api_error or exc, article_id) from exc
        return Answer(
            value=value,
            calls=max(log.calls, 1),
            prompt_tokens=log.prompt_tokens,
            completion_tokens=log.completion_tokens,
            first_prompt_tokens=log.first_prompt_tokens,
            first_completion_tokens=log.first_completion_tokens,
        )

    async def aclose(self) -> None:
        await self.openai_client.close()
        await self.http_client.aclose()
