"""The on-disk cache of validated digests (diskcache).

The key covers everything that changes the answer: the cleaned article text,
model, provider, endpoint, mode, prompt and schema versions, decoding
parameters and the grounding rules' version. The value is the validated
Digest as JSON. A corrupt, half-written or unreadable entry is a miss.

A cache that cannot be used at all (a garbage or truncated database, a file
where the directory should be, a directory we may not write) never costs an
article: :class:`DigestCache` turns itself off, says so once in a logged
warning that names the directory and the remedy, and keeps the reason in
:attr:`DigestCache.unavailable` for the caller's closing report. Only with
``required=True`` (``KHABAR_CACHE=required``) is it an error, raised when the
cache is opened, before any model call.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from .config import Settings, secure_dir
from .core.digest import Digest
from .core.grounding import locate
from .errors import (
    CacheError,
    ContextLengthError,
    KhabarError,
    UnsupportedDigestError,
    ValidationFailedError,
)

__all__ = ["DigestCache", "cache_key", "check_cache"]

logger = logging.getLogger("khabar")

_PROBE_KEY = "khabar:probe"
# (directory, reason) pairs already reported: one warning per broken cache per process,
# however many times it is opened (the CLI's pre-flight check, then the pipeline).
_reported: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()


def cache_key(**parts: Any) -> str:
    """A stable hash of the keyword arguments (order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


class DigestCache:
    """A directory of cached digests.

    ``required=False`` (the default): a cache that cannot be opened or stops
    working is switched off (:attr:`unavailable` says why) and every lookup is
    a miss. ``required=True``: opening it raises :class:`~khabar.errors.CacheError`.

    >>> cache = DigestCache(Path("/tmp/khabar-cache"))   # doctest: +SKIP
    >>> cache.get(key) is None                            # doctest: +SKIP
    True
    """

    def __init__(self, directory: Path, *, required: bool = False) -> None:
        import diskcache

        self.directory = directory
        self.required = required
        #: Why the cache is off (None while it works): for a closing "cache off: <why>".
        self.unavailable: str | None = None
        self._cache: Any = None
        try:
            secure_dir(directory)
            self._cache = diskcache.Cache(str(directory), size_limit=4 * 2**30)
            # Opening reads the header only: a truncated database, or a directory we may
            # not write to, shows only when an entry is written and read back.
            self._cache.set(_PROBE_KEY, b"1")
            if self._cache.get(_PROBE_KEY) != b"1":
                raise OSError("an entry written to it did not read back")
        except Exception as exc:  # sqlite and the filesystem fail in many ways
            if required:
                self.close()
                raise CacheError(
                    f"the cache at {directory} cannot be used ({_why(exc)}), and KHABAR_CACHE "
                    "is 'required', so the run stopped before any model call",
                    hint=_remedy(directory),
                ) from exc
            self._switch_off(_why(exc))

    def _switch_off(self, reason: str) -> None:
        self.unavailable = reason
        self.close()
        with _reported_lock:
            first = (str(self.directory), reason) not in _reported
            _reported.add((str(self.directory), reason))
        if first:
            logger.warning(
                "the digest cache at %s cannot be used (%s); this run goes on without it. %s",
                self.directory,
                reason,
                _remedy(self.directory),
            )

    @property
    def enabled(self) -> bool:
        """False once the cache has been switched off."""
        return self.unavailable is None

    def get(self, key: str) -> Digest | None:
        if self._cache is None:
            return None
        try:
            raw = self._cache.get(key)
        except Exception as exc:
            # The store itself failed (not one entry): asking again for every article
            # would fail the same way, so it is switched off, once.
            self._switch_off(_why(exc))
            return None
        if raw is None:
            return None
        try:
            return Digest.model_validate_json(raw)
        except Exception:
            logger.warning("cache entry %s is corrupt; treating as a miss", key[:12])
            self.delete(key)
            return None

    def set(self, key: str, digest: Digest) -> None:
        if self._cache is None:
            return
        try:
            self._cache.set(key, digest.model_dump_json())
        except Exception as exc:
            # A full disk must not fail an article whose digest we already have.
            self._switch_off(f"could not write an entry: {_why(exc)}")

    def get_failure(self, key: str) -> dict[str, Any] | None:
        """A remembered deterministic failure for ``key`` (see :meth:`set_failure`), or None."""
        if self._cache is None:
            return None
        try:
            raw = self._cache.get(_FAILURE + key)
        except Exception as exc:
            self._switch_off(_why(exc))
            return None
        try:
            failure = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        return failure if isinstance(failure, dict) else None

    def set_failure(self, key: str, failure: dict[str, Any]) -> None:
        """Remember that the request behind ``key`` failed in a way it will fail again.

        Only for deterministic decoding: the same request gives the same answer,
        so paying for it again on every rerun buys nothing.
        """
        if self._cache is None:
            return
        try:
            self._cache.set(_FAILURE + key, json.dumps(failure, ensure_ascii=False))
        except Exception as exc:
            self._switch_off(f"could not write an entry: {_why(exc)}")

    def forget_failure(self, key: str) -> None:
        if self._cache is None:
            return
        with contextlib.suppress(Exception):
            self._cache.delete(_FAILURE + key)

    def delete(self, key: str) -> None:
        if self._cache is None:
            return
        with contextlib.suppress(Exception):  # a corrupt entry is a miss anyway
            self._cache.delete(key)

    def __len__(self) -> int:
        if self._cache is None:
            return 0
        return max(len(self._cache) - int(_PROBE_KEY in self._cache), 0)

    def close(self) -> None:
        cache, self._cache = self._cache, None
        if cache is not None:
            with contextlib.suppress(Exception):
                cache.close()


# Failures live beside digests under their own prefix: a digest key is a bare sha256.
_FAILURE = "failure:"


def _remedy(directory: Path) -> str:
    return (
        f"Delete or repair {directory}, or point KHABAR_CACHE_DIR (--cache-dir) at a writable "
        "directory; --no-cache (KHABAR_CACHE=false) turns the cache off."
    )


def check_cache(settings: Settings, *, required: bool | None = None) -> str | None:
    """Why the cache ``settings`` describe cannot be used (None: it can, or it is off).

    Raises :class:`~khabar.errors.CacheError` when the cache is required
    (``required``, default: ``KHABAR_CACHE=required``). The CLI calls it before
    a run, so that a required cache stops the run before any model call and an
    unusable one is named in the closing report.
    """
    if not settings.cache:
        return None
    strict = settings.cache_required if required is None else required
    cache = DigestCache(settings.resolved_cache_dir(), required=strict)
    try:
        return cache.unavailable
    finally:
        cache.close()


# --- what a cache entry may be trusted with ------------------------------------------------


def still_holds(digest: Digest, article: str) -> bool:
    """Whether every kept fact and sentence of a cached digest still locates where it says.

    A cache entry is served verbatim otherwise: a hand-edited entry with a forged
    excerpt would come back as verified. Locating is cheap (about a millisecond).
    """
    for facts in digest.facts().values():
        for fact in facts:
            if fact.span is None or locate(fact.evidence, article) != fact.span:
                return False
    for sentence in (*digest.summary_en_sentences, *digest.summary_src_sentences):
        if len(sentence.spans) != len(sentence.cites):
            return False
        for cite, span in zip(sentence.cites, sentence.spans, strict=True):
            if locate(cite, article) != span:
                return False
    return True


# Failures that the same request reproduces under deterministic decoding: remembered so
# that a rerun does not pay for them again.
REPRODUCIBLE: tuple[type[KhabarError], ...] = (
    ValidationFailedError,
    UnsupportedDigestError,
    ContextLengthError,
)
_REPRODUCIBLE_BY_NAME = {kind.__name__: kind for kind in REPRODUCIBLE}


def deterministic(settings: Settings) -> bool:
    """Whether the same request gives the same answer: greedy decoding with a fixed seed.

    A remote endpoint does not promise it even then; ``retry_failed`` (the
    CLI's ``--retry-failed``) asks again anyway.
    """
    return settings.temperature == 0 and settings.seed is not None


def remember_failure(
    cache: DigestCache | None, key: str, error: KhabarError, settings: Settings
) -> None:
    """Keep ``error`` for ``key`` when the same request would reproduce it."""
    if cache is not None and isinstance(error, REPRODUCIBLE) and deterministic(settings):
        cache.set_failure(
            key,
            {"type": type(error).__name__, "message": error.message, "context": error.context},
        )


def remembered_failure(
    cache: DigestCache, key: str, article_id: str | None, settings: Settings
) -> KhabarError | None:
    """The failure this very request met before (to raise instead of asking again), or None."""
    if settings.retry_failed or not deterministic(settings):
        if settings.retry_failed:
            cache.forget_failure(key)
        return None
    failure = cache.get_failure(key)
    kind = _REPRODUCIBLE_BY_NAME.get(str((failure or {}).get("type")))
    if failure is None or kind is None:
        return None
    stored = failure.get("context")
    context: dict[str, Any] = stored if isinstance(stored, dict) else {}
    error = kind(
        f"{failure.get('message')} (remembered: this same request failed so on an earlier "
        "run, with deterministic decoding, and was not sent again)",
        article_id=article_id,
        **{**context, "remembered": True},
    )
    error.hint = "Rerun with --retry-failed (KHABAR_RETRY_FAILED=true) to ask the model again."
    logger.info("%s: remembered failure (%s), not asked again", article_id, kind.__name__)
    return error
