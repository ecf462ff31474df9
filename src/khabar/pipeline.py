"""One article in, one grounded Digest out: :class:`Summarizer`, :func:`summarize`, :func:`asummarize`.

The steps, in order: normalize the text and strip what is certainly not the
story; detect the language; fit the article to the model's context; look in
the cache; render the prompts; ask the model through instructor with the
article as validation context (ungrounded answers are re-asked); ground every
fact in code, dropping and counting what still fails; cache the Digest.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx2
from pydantic import ValidationError

from . import __version__
from .cache import DigestCache, cache_key
from .config import Settings
from .core.digest import SCHEMA_VERSION, Digest, DigestDraft, Provenance, grounding_article
from .core.grounding import GROUNDING_VERSION, ground
from .core.text import clean_article, detect_language, normalize_text, truncate
from .errors import (
    AuthenticationError,
    EmptyArticleError,
    KhabarError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    TransportError,
    ValidationFailedError,
    redact,
)
from .llm import Backend, build_backend
from .llm.local import PLUMBING_MAX_TOKENS
from .llm.retry import CallStats, RateGate, call_stats
from .prompts import PromptSet, load_prompts

__all__ = ["Summarizer", "asummarize", "summarize"]

logger = logging.getLogger("khabar")

# Room the prompt scaffolding and the answer need in a local model's context.
_PROMPT_OVERHEAD_TOKENS = 700


class Summarizer:
    """A reusable summarizer: one client, one cache, one rate gate for many articles.

    Use it for batches (the model, connections and cache stay open), as an async
    context manager::

        async with Summarizer(Settings(model="gpt-4o-mini")) as s:
            digest = await s.asummarize(text, article_id="a1")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        record_dir: Path | None = None,
        replay_dir: Path | None = None,
        prompts_dir: Path | None = None,
        model_label: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.prompts: PromptSet = load_prompts(prompts_dir)
        self.gate = RateGate()
        self._backend_args: dict[str, Any] = {
            "transport": transport,
            "record_dir": record_dir,
            "replay_dir": replay_dir,
            "gate": self.gate,
            "model_label": model_label,
        }
        self._backend: Backend | None = None
        self._cache: DigestCache | None = None
        self._cache_opened = False

    @property
    def backend(self) -> Backend:
        """The client stack, built on first use (loading a local model is slow)."""
        if self._backend is None:
            self._backend = build_backend(self.settings, **self._backend_args)
            for warning in self._backend.warnings:
                logger.warning("%s", warning)
        return self._backend

    @property
    def cache(self) -> DigestCache | None:
        if not self._cache_opened:
            self._cache_opened = True
            if self.settings.cache:
                self._cache = DigestCache(self.settings.resolved_cache_dir())
        return self._cache

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
            self._backend = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None
            self._cache_opened = False

    # ------------------------------------------------------------------------------
    def _fit(self, text: str, warnings: list[str]) -> tuple[str, bool]:
        text, cut = truncate(text, self.settings.max_article_chars)
        if cut:
            warnings.append(
                f"article truncated to {len(text)} characters (KHABAR_MAX_ARTICLE_CHARS)"
            )
        backend = self.backend
        context = backend.context_size()
        if context is not None:
            budget = context - self.effective_max_tokens() - _PROMPT_OVERHEAD_TOKENS
            tokens = backend.count_tokens(text) or 0
            if tokens > budget > 0:
                # Cut proportionally, then re-check: token density varies within a text.
                while tokens > budget and len(text) > 200:
                    text, _ = truncate(text, int(len(text) * budget / tokens * 0.95))
                    tokens = backend.count_tokens(text) or 0
                cut = True
                warnings.append(
                    f"article truncated to {len(text)} characters to fit the local model's "
                    f"{context}-token context"
                )
        return text, cut

    @property
    def _plumbing(self) -> bool:
        local = self.backend.local
        return local is not None and bool(local.plumbing)

    def effective_max_reasks(self) -> int:
        """Re-asks allowed: none for the bundled plumbing model, which cannot do better
        on a second try and takes a minute per try on 2 cores."""
        return 0 if self._plumbing else self.settings.max_reasks

    def effective_max_tokens(self) -> int:
        """``max_tokens`` as sent: capped for the bundled plumbing model."""
        if self._plumbing:
            return min(self.settings.max_tokens, PLUMBING_MAX_TOKENS)
        return self.settings.max_tokens

    def _key(self, article: str, language: str) -> str:
        s = self.settings
        b = self.backend
        return cache_key(
            article=article,
            language=language,
            model=b.model,
            provider=b.provider,
            endpoint=b.endpoint,
            local_model=str(b.local.path) if b.local else None,
            mode=b.mode,
            prompt=self.prompts.version,
            schema=SCHEMA_VERSION,
            grounding=GROUNDING_VERSION,
            temperature=s.temperature,
            max_tokens=self.effective_max_tokens(),
            seed=s.seed,
            max_reasks=self.effective_max_reasks(),
            max_article_chars=s.max_article_chars,
            local_n_ctx=s.local_n_ctx if b.local else None,
        )

    async def asummarize(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        language: str | None = None,
        use_cache: bool = True,
        refresh: bool = False,
    ) -> Digest:
        """Summarize one article; see :func:`asummarize`."""
        warnings: list[str] = []
        cleaned = clean_article(normalize_text(text))
        if not cleaned.text.strip():
            raise EmptyArticleError(
                "the article has no text left after removing page boilerplate",
                article_id=article_id,
            )
        lang = language or detect_language(cleaned.text)
        backend = self.backend
        # Keyed on the text before fitting (fitting is a function of the text and of
        # settings that are in the key), so a warm rerun never loads a local model.
        key = self._key(cleaned.text, lang)
        cache = self.cache if use_cache else None
        if cache is not None and not refresh:
            hit = cache.get(key)
            if hit is not None:
                hit.article_id = article_id
                hit.provenance.cache_hit = True
                hit.provenance.latency_s = 0.0
                logger.info("%s: cache hit (%s)", article_id or "article", backend.model)
                return hit

        article, truncated = self._fit(cleaned.text, warnings)
        warnings.extend(backend.warnings)

        messages = self.prompts.render(article=article, language=lang, title=title)
        stats = CallStats(article_id=article_id)
        token = call_stats.set(stats)
        started = time.perf_counter()
        attempts = 1
        try:
            draft, completion, attempts, lenient = await self._ask(messages, article, article_id)
        finally:
            call_stats.reset(token)
        latency = time.perf_counter() - started

        result = ground(draft, article)
        if lenient:
            warnings.append(
                f"answer still failed grounding after {attempts} attempts; "
                f"{len(result.dropped)} unverified facts dropped"
            )
        usage = getattr(completion, "usage", None)
        provenance = Provenance(
            model=backend.model,
            provider=backend.provider,
            endpoint=backend.endpoint,
            mode=backend.mode,
            prompt_version=self.prompts.version,
            schema_version=SCHEMA_VERSION,
            khabar_version=__version__,
            cache_hit=False,
            attempts=attempts,
            transport_retries=stats.transport_retries,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            latency_s=round(latency, 3),
            facts_verified=result.verified,
            unverified_dropped=len(result.dropped),
            dropped=result.dropped,
            stripped=list(cleaned.stripped),
            truncated=truncated,
            warnings=warnings,
        )
        g = result.draft
        digest = Digest(
            article_id=article_id,
            language=lang,
            title_en=g.title_en,
            title_src=g.title_src,
            summary_en=g.summary_en,
            summary_src=g.summary_src,
            people=g.people,
            organizations=g.organizations,
            locations=g.locations,
            dates=g.dates,
            numbers=g.numbers,
            quotes=g.quotes,
            sources=g.sources,
            provenance=provenance,
        )
        logger.info(
            "%s: %s via %s in %.2fs, %s+%s tokens, %d attempts, %d retries, %d verified, %d dropped",
            article_id or "article",
            backend.model,
            backend.provider,
            latency,
            provenance.prompt_tokens,
            provenance.completion_tokens,
            attempts,
            stats.transport_retries,
            result.verified,
            len(result.dropped),
        )
        if self.cache is not None and use_cache:
            stored = digest.model_copy(update={"article_id": None})
            self.cache.set(key, stored)
        return digest

    async def _ask(
        self, messages: list[dict[str, str]], article: str, article_id: str | None
    ) -> tuple[DigestDraft, Any, int, bool]:
        """Ask the model. Returns (draft, completion, attempts, lenient).

        ``lenient`` is True when every attempt failed grounding and the last
        answer was taken without it (its failing facts are dropped by ``ground``).
        """
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        backend = self.backend
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": backend.model,
            "messages": messages,
            "response_model": _response_model(),
            "max_retries": self.effective_max_reasks(),
            "temperature": s.temperature,
            "max_tokens": self.effective_max_tokens(),
        }
        if s.seed is not None:
            kwargs["seed"] = s.seed
        article_token = grounding_article.set(article)
        try:
            draft, completion = await backend.client.chat.completions.create_with_completion(
                **kwargs
            )
            stats = call_stats.get()
            attempts = 1 + (stats.reasks if stats else 0)
            return draft, completion, attempts, False
        except InstructorRetryException as exc:
            failed = list(getattr(exc, "failed_attempts", None) or [])
            cause = exc.__cause__
            if not failed or not _is_answer_problem(cause):
                # The last attempt failed in transport (or replay had no recording):
                # that is the error, even if an earlier answer was merely ungrounded.
                raise _provider_error(cause or exc, article_id) from exc
            last = failed[-1].completion
            raw = _answer_json(last)
            # Structure only: the facts that fail grounding are dropped by ``ground``.
            lenient_token = grounding_article.set(None)
            try:
                draft = DigestDraft.model_validate_json(raw)
            except (ValidationError, ValueError) as inner:
                raise ValidationFailedError(
                    f"the model's answer did not match the digest schema after "
                    f"{len(failed)} attempts: {_short(inner)}",
                    article_id=article_id,
                    attempts=len(failed),
                ) from exc
            finally:
                grounding_article.reset(lenient_token)
            return draft, last, len(failed), True
        except IncompleteOutputException as exc:
            raise ValidationFailedError(
                "the model's answer was cut off at the token limit",
                article_id=article_id,
                hint="Raise KHABAR_MAX_TOKENS.",
            ) from exc
        except KhabarError:
            raise
        except Exception as exc:
            raise _provider_error(exc, article_id) from exc
        finally:
            grounding_article.reset(article_token)


@functools.cache
def _response_model() -> type[DigestDraft]:
    """DigestDraft wrapped once as instructor's response schema.

    Given the plain model, instructor builds a new wrapper class on every call,
    which defeats its schema cache: 12 ms of JSON Schema generation per article
    (measured with cProfile in bench/). Same name, same schema, same tool.
    """
    from instructor import openai_schema

    model: type[DigestDraft] = openai_schema(DigestDraft)
    return model


def _is_answer_problem(exc: BaseException | None) -> bool:
    """True for what a re-ask is for: an answer that did not parse or validate."""
    if exc is None:
        return True
    if isinstance(exc, (ValidationError, ValueError)) and _find_khabar_error(exc) is None:
        return True
    from instructor.core.exceptions import IncompleteOutputException

    return isinstance(exc, IncompleteOutputException)


def _answer_json(completion: Any) -> str:
    """The JSON text of a chat completion, from a tool call or from the message content."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError):
        return ""
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return str(calls[0].function.arguments or "")
    content = str(getattr(message, "content", "") or "").strip()
    if content.startswith("```"):
        content = content.strip("`")
        content = content.split("\n", 1)[1] if "\n" in content else content
    return content


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()
    return redact(" ".join(text[:3]))[:300]


def _find_khabar_error(exc: BaseException | None) -> KhabarError | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KhabarError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _provider_error(exc: BaseException, article_id: str | None) -> KhabarError:
    """Map an openai / httpx2 failure to the khabar error a user can act on."""
    import openai

    inner = _find_khabar_error(exc)
    if inner is not None:
        if inner.article_id is None:
            inner.article_id = article_id
        return inner
    msg = _short(exc if isinstance(exc, Exception) else Exception(str(exc)))
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return AuthenticationError(
            f"the endpoint refused the credentials: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.RateLimitError):
        return RateLimitError(f"rate-limited (429) after every retry: {msg}", article_id=article_id)
    if isinstance(exc, openai.NotFoundError):
        return ModelNotFoundError(
            f"the endpoint does not know this model: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APITimeoutError):
        return TransportError(
            f"the request timed out after every retry: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APIConnectionError):
        return TransportError(
            f"the connection failed after every retry: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.InternalServerError):
        return TransportError(f"the endpoint kept failing (5xx): {msg}", article_id=article_id)
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError)):
        return TransportError(
            f"the endpoint's response was not valid JSON: {msg}", article_id=article_id
        )
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(
            f"the endpoint answered HTTP {exc.status_code}: {msg}", article_id=article_id
        )
    return ProviderError(
        f"the model call failed: {type(exc).__name__}: {msg}", article_id=article_id
    )


async def asummarize(
    text: str,
    *,
    settings: Settings | None = None,
    article_id: str | None = None,
    title: str | None = None,
    language: str | None = None,
    use_cache: bool = True,
    refresh: bool = False,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> Digest:
    """Summarize one article into a grounded bilingual :class:`Digest` (asyncio).

    ``settings`` defaults to the environment (``KHABAR_*``, ``OPENAI_*``, ``.env``);
    with none set, the embedded local model runs in-process. ``use_cache=False``
    bypasses the cache, ``refresh=True`` recomputes and overwrites the entry.

    Example::

        digest = await khabar.asummarize(text, settings=khabar.Settings(model="gpt-4o-mini"))
        print(digest.summary_en)
        for person in digest.people:
            print(person.name_en, person.evidence)
    """
    async with Summarizer(settings, transport=transport) as summarizer:
        return await summarizer.asummarize(
            text,
            article_id=article_id,
            title=title,
            language=language,
            use_cache=use_cache,
            refresh=refresh,
        )


def summarize(
    text: str,
    *,
    settings: Settings | None = None,
    article_id: str | None = None,
    title: str | None = None,
    language: str | None = None,
    use_cache: bool = True,
    refresh: bool = False,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> Digest:
    """Summarize one article into a grounded bilingual :class:`Digest`.

    Every fact in the result carries evidence that khabar located in the
    article; facts the model gave that could not be verified are dropped and
    counted in ``digest.provenance.unverified_dropped``.

    Example::

        >>> import khabar
        >>> digest = khabar.summarize(open("article.txt").read())   # doctest: +SKIP
        >>> digest.language                                          # doctest: +SKIP
        'fa'
        >>> print(digest.summary_en)                                 # doctest: +SKIP
        >>> for person in digest.people:                             # doctest: +SKIP
        ...     print(person.name_en, person.evidence, person.span)

    Raises a :class:`khabar.KhabarError` subclass naming the article on failure.
    Inside a running event loop, use :func:`asummarize`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "khabar.summarize() was called inside an event loop; await khabar.asummarize()"
        )
    return asyncio.run(
        asummarize(
            text,
            settings=settings,
            article_id=article_id,
            title=title,
            language=language,
            use_cache=use_cache,
            refresh=refresh,
            transport=transport,
        )
    )
