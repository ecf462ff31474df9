"""One article in, one grounded Digest out: :class:`Summarizer`, :func:`summarize`, :func:`asummarize`.

The stages, in order::

    clean (normalize, strip boilerplate) -> detect the language -> cache? -> fit to the model
      -> prompt -> ask <-> verify (re-ask with the problems while re-asks remain) -> Digest -> cache

The backend parses the answer (instructor re-asks JSON that does not parse);
verification is a stage of its own (:func:`khabar.core.grounding.verify`): one
pass that keeps the facts the article supports, with their spans, and lists
the problems of the others. While problems remain and re-asks are left, they
go back to the model as a plain follow-up message; what still fails is
dropped and counted in the provenance. Re-asks are counted here, by the loop
that makes them (instructor's structural re-asks come back as
:attr:`Answer.calls <khabar.llm.Answer.calls>`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from ._version import __version__
from .cache import (
    DigestCache,
    cache_key,
    remember_failure,
    remembered_failure,
    still_holds,
)
from .config import Settings
from .core.digest import SCHEMA_VERSION, Digest, Provenance, StrippedBlock, joined
from .core.grounding import GROUNDING_VERSION, Verification
from .core.text import (
    CleanedArticle,
    clean_article,
    detect_language,
    fold,
    normalize_text,
    truncate,
)
from .core.text.placement import place_blocks
from .errors import (
    EmptyArticleError,
    KhabarError,
    UnsupportedDigestError,
)
from .llm import Backend, BackendPlan, build_backend, plan_backend
from .llm.retry import CallStats, RateGate, call_stats
from .prompts import PromptSet, load_prompts
from .reask import ask_and_verify, tokens_beyond

__all__ = ["Summarizer", "asummarize", "summarize"]


logger = logging.getLogger("khabar")

# Room the prompt scaffolding and the answer need in a local model's context.
_PROMPT_OVERHEAD_TOKENS = 700


@dataclass(frozen=True)
class Begun:
    """An article cleaned, keyed and looked up (:meth:`Summarizer.begin`)."""

    page: str
    cleaned: CleanedArticle
    language: str
    key: str
    cache: DigestCache | None
    hit: Digest | None


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
        self.prompts: PromptSet = load_prompts(prompts_dir or self.settings.prompts_dir)
        self.gate = RateGate()
        self._transport = transport
        self._record_dir = record_dir
        self._replay_dir = replay_dir
        self._model_label = model_label
        self._backend: Backend | None = None
        self._plan: BackendPlan | None = None
        self._cache: DigestCache | None = None
        self._cache_opened = False

    @property
    def plan(self) -> BackendPlan:
        """Which backend the settings ask for, worked out without building a client.

        Enough for cache keys and limits: a rerun served from the cache never
        builds a client or imports openai.
        """
        if self._plan is None:
            self._plan = plan_backend(
                self.settings, transport=self._transport, replay_dir=self._replay_dir
            )
            for warning in self._plan.warnings:
                logger.warning("%s", warning)
        return self._plan

    @property
    def backend(self) -> Backend:
        """The model backend, built on the first model call (loading a local model is slow)."""
        if self._backend is None:
            self._backend = build_backend(
                self.settings,
                transport=self._transport,
                record_dir=self._record_dir,
                replay_dir=self._replay_dir,
                gate=self.gate,
                model_label=self._model_label,
                plan=self.plan,
            )
        return self._backend

    @property
    def cache(self) -> DigestCache | None:
        """The digest cache, opened on first use; None when caching is off.

        A cache that cannot be used is switched off with one warning (its
        ``unavailable`` says why), unless ``KHABAR_CACHE=required``: then opening
        raises :class:`~khabar.errors.CacheError`, before any model call, every time.
        """
        if not self._cache_opened and self.settings.cache:
            self._cache = DigestCache(
                self.settings.resolved_cache_dir(), required=self.settings.cache_required
            )
        self._cache_opened = True
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

    def effective_max_tokens(self) -> int:
        """``max_tokens`` as sent: the setting, capped by the backend's limits."""
        return self.plan.limits.tokens(self.settings.max_tokens)

    def effective_max_reasks(self) -> int:
        """Re-asks allowed per article: the setting, capped by the backend's limits."""
        return self.plan.limits.reasks(self.settings.max_reasks)

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
                    f"article truncated to {len(text)} characters to fit the model's "
                    f"{context}-token context"
                )
        return text, cut

    def _key(self, article: str, language: str, title: str | None) -> str:
        s = self.settings
        return cache_key(
            article=article,
            language=language,
            title=title,
            backend=self.plan.identity(s),
            prompt=self.prompts.version,
            schema=SCHEMA_VERSION,
            grounding=GROUNDING_VERSION,
            temperature=s.temperature,
            max_tokens=self.effective_max_tokens(),
            seed=s.seed,
            max_reasks=self.effective_max_reasks(),
            max_article_chars=s.max_article_chars,
        )

    def build_digest(
        self,
        result: Verification,
        *,
        article: str,
        language: str,
        article_id: str | None,
        blocks: list[StrippedBlock],
        truncated: bool,
        warnings: list[str],
        calls: int,
        prompt_tokens: int | None,
        completion_tokens: int | None,
        first_prompt_tokens: int | None,
        first_completion_tokens: int | None,
        gain_facts: int,
        gain_sentences: int,
        transport_retries: int,
        latency_s: float,
    ) -> Digest:
        """The Digest of a verified answer, with its provenance: one builder for every path.

        The online path (:meth:`asummarize`) and the batch API path call it with
        what their loops counted, so that their records are the same.
        """
        plan = self.plan
        provenance = Provenance(
            model=plan.model,
            provider=plan.provider,
            endpoint=plan.endpoint,
            mode=plan.mode,
            prompt_version=self.prompts.version,
            schema_version=SCHEMA_VERSION,
            khabar_version=__version__,
            cache_hit=False,
            attempts=calls,
            reasks=calls - 1,
            reask_prompt_tokens=tokens_beyond(prompt_tokens, first_prompt_tokens),
            reask_completion_tokens=tokens_beyond(completion_tokens, first_completion_tokens),
            reask_gain_facts=gain_facts,
            reask_gain_sentences=gain_sentences,
            transport_retries=transport_retries,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=round(latency_s, 3),
            facts_verified=result.verified,
            unverified_dropped=len(result.dropped),
            dropped=result.dropped,
            dropped_sentences=result.dropped_sentences,
            stripped=blocks,
            truncated=truncated,
            plumbing=plan.limits.plumbing,
            warnings=warnings,
        )
        g = result.draft
        return Digest(
            article_id=article_id,
            language=language,
            title_en=result.titles.get("title_en"),
            title_src=result.titles.get("title_src"),
            summary_en=joined(g.summary_en),
            summary_src=joined(g.summary_src),
            summary_en_sentences=g.summary_en,
            summary_src_sentences=g.summary_src,
            support=result.support,
            text=article,
            people=g.people,
            organizations=g.organizations,
            locations=g.locations,
            dates=g.dates,
            numbers=g.numbers,
            quotes=g.quotes,
            sources=g.sources,
            provenance=provenance,
        )

    def support_error(self, digest: Digest, article_id: str | None) -> KhabarError | None:
        """The error that keeps ``digest`` from being an ok record, or None.

        A digest where no summary sentence and no fact holds is ``unsupported``; so is
        one whose share of kept sentences is under ``KHABAR_MIN_SUPPORT``.
        """
        support = digest.support
        if support is None:
            return None
        if support.status != "unsupported" and support.sentence_share >= self.settings.min_support:
            return None
        why = (
            "no summary sentence and no fact of the model's answer is supported by the article"
            if support.status == "unsupported"
            else f"only {support.sentences_kept} of "
            f"{support.sentences_kept + support.sentences_dropped} summary sentences are "
            f"supported by the article (KHABAR_MIN_SUPPORT={self.settings.min_support:g})"
        )
        return UnsupportedDigestError(
            f"{why}; the reasons are in the record's draft",
            article_id=article_id,
            draft=digest.model_dump(mode="json"),
        )

    def begin(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        language: str | None = None,
        use_cache: bool = True,
        refresh: bool = False,
    ) -> Begun:
        """What every path does before asking a model: clean, detect, key, look in the cache.

        Returns the cleaned article and its cache key, with ``hit`` set when the
        cache holds a digest that still locates in the article. Raises
        :class:`~khabar.errors.EmptyArticleError` for a page with no text, and a
        failure this very request met before (deterministic decoding; see
        :func:`khabar.cache.remembered_failure`). Builds no client: a warm rerun
        never imports openai. The online path (:meth:`asummarize`) and the batch
        API path (:mod:`khabar.batch.api`) share it.
        """
        page = normalize_text(text)
        cleaned = clean_article(page)
        # fold() keeps letters and digits only: zero-width characters, marks and
        # punctuation alone are no article.
        if not fold(cleaned.text):
            raise EmptyArticleError(
                "the article has no text left after removing page boilerplate",
                article_id=article_id,
            )
        lang = language or detect_language(cleaned.text)
        # Keyed on the text before fitting (fitting is a function of the text and of
        # settings that are in the key), so a warm rerun never loads a local model.
        key = self._key(cleaned.text, lang, title)
        cache = self.cache if use_cache else None
        hit = None
        if cache is not None and not refresh:
            hit = cache.get(key)
            if hit is not None and not still_holds(hit, cleaned.text):
                logger.warning(
                    "%s: a cached digest no longer matches its article (edited or corrupt "
                    "entry); recomputing it",
                    article_id or "article",
                )
                hit = None
            if hit is None:
                remembered = remembered_failure(cache, key, article_id, self.settings)
                if remembered is not None:
                    raise remembered
            else:
                hit.article_id = article_id
                if not self.settings.record_text:
                    hit.text = None
                hit.provenance.cache_hit = True
                hit.provenance.latency_s = 0.0
                logger.info("%s: cache hit (%s)", article_id or "article", self.plan.model)
        return Begun(page, cleaned, lang, key, cache, hit)

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
        begun = self.begin(
            text,
            article_id=article_id,
            title=title,
            language=language,
            use_cache=use_cache,
            refresh=refresh,
        )
        if begun.hit is not None:
            return begun.hit
        page, cleaned, lang, key, cache = (
            begun.page,
            begun.cleaned,
            begun.language,
            begun.key,
            begun.cache,
        )
        plan = self.plan
        backend = self.backend
        article, truncated = self._fit(cleaned.text, warnings)
        warnings.extend(plan.warnings)

        messages = self.prompts.render(article=article, language=lang, title=title)
        stats = CallStats(article_id=article_id)
        token = call_stats.set(stats)
        started = time.perf_counter()
        try:
            stripped = [(b.kind, b.text) for b in cleaned.stripped]
            outcome = await ask_and_verify(
                backend,
                self.prompts,
                messages,
                article,
                language=lang,
                stripped=stripped,
                article_id=article_id,
                max_tokens=self.effective_max_tokens(),
                max_reasks=self.effective_max_reasks(),
                temperature=self.settings.temperature,
                seed=self.settings.seed,
            )
        except KhabarError as exc:
            remember_failure(cache, key, exc, self.settings)
            raise
        finally:
            call_stats.reset(token)
        # The model's time: waiting for a model busy with other articles is not latency.
        latency = time.perf_counter() - started - stats.queue_s
        warnings.extend(outcome.warnings)

        result = outcome.result
        blocks = [
            block.model_copy(update={"at": at})
            for block, at in zip(
                cleaned.stripped,
                place_blocks(page, article, [b.text for b in cleaned.stripped]),
                strict=True,
            )
        ]
        digest = self.build_digest(
            result,
            article=article,
            language=lang,
            article_id=article_id,
            blocks=blocks,
            truncated=truncated,
            warnings=warnings,
            calls=outcome.calls,
            prompt_tokens=outcome.prompt_tokens,
            completion_tokens=outcome.completion_tokens,
            first_prompt_tokens=outcome.first_prompt_tokens,
            first_completion_tokens=outcome.first_completion_tokens,
            gain_facts=outcome.gain_facts,
            gain_sentences=outcome.gain_sentences,
            transport_retries=stats.transport_retries,
            latency_s=latency,
        )
        provenance = digest.provenance
        logger.info(
            "%s: %s via %s in %.2fs, %s+%s tokens, %d calls, %d re-asks, %d retries, "
            "%d verified, %d dropped",
            article_id or "article",
            backend.model,
            backend.provider,
            latency,
            provenance.prompt_tokens,
            provenance.completion_tokens,
            outcome.calls,
            outcome.reasks,
            stats.transport_retries,
            result.verified,
            len(result.dropped),
        )
        error = self.support_error(digest, article_id)
        if error is not None:
            remember_failure(cache, key, error, self.settings)
            raise error
        if self.cache is not None and use_cache:
            stored = digest.model_copy(update={"article_id": None})
            self.cache.set(key, stored)
        if not self.settings.record_text:
            digest.text = None
        return digest


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
