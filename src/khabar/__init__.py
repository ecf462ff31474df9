"""khabar (خبر): grounded bilingual digests of Arabic and Persian news.

    >>> import khabar
    >>> digest = khabar.summarize(open("article.txt").read())   # doctest: +SKIP
    >>> print(digest.summary_en)                                 # doctest: +SKIP

Names are imported on first use, so that ``khabar --help`` does not pay for
openai, instructor and pydantic before it prints anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

_EXPORTS: dict[str, str] = {
    # the one-call API
    "summarize": "pipeline",
    "asummarize": "pipeline",
    "Summarizer": "pipeline",
    # bulk
    "summarize_paths": "batch",
    "run_batch": "batch",
    "BatchStats": "batch",
    "iter_articles": "batch.inputs",
    "Article": "batch.inputs",
    "render_markdown": "batch.report",
    # results
    "Digest": "core.digest",
    "DigestDraft": "core.digest",
    "Person": "core.digest",
    "Organization": "core.digest",
    "Place": "core.digest",
    "DateFact": "core.digest",
    "NumberFact": "core.digest",
    "Quote": "core.digest",
    "Source": "core.digest",
    "Provenance": "core.digest",
    # settings
    "Settings": "config",
    # evaluation
    "run_eval": "evals.harness",
    # errors
    "KhabarError": "errors",
    "ConfigError": "errors",
    "InputError": "errors",
    "EmptyArticleError": "errors",
    "BinaryInputError": "errors",
    "DecodeError": "errors",
    "ArticleTooLargeError": "errors",
    "ProviderError": "errors",
    "AuthenticationError": "errors",
    "RateLimitError": "errors",
    "TransportError": "errors",
    "ModelNotFoundError": "errors",
    "ValidationFailedError": "errors",
    "UnsupportedDigestError": "errors",
    "CitedSentence": "core.digest",
    "Support": "core.digest",
    "RecordingMissingError": "errors",
    "CacheError": "errors",
}

# Literal, so that linters and type checkers see the public API.
__all__ = [
    "Article",
    "ArticleTooLargeError",
    "AuthenticationError",
    "BatchStats",
    "BinaryInputError",
    "CacheError",
    "CitedSentence",
    "ConfigError",
    "DateFact",
    "DecodeError",
    "Digest",
    "DigestDraft",
    "EmptyArticleError",
    "InputError",
    "KhabarError",
    "ModelNotFoundError",
    "NumberFact",
    "Organization",
    "Person",
    "Place",
    "Provenance",
    "ProviderError",
    "Quote",
    "RateLimitError",
    "RecordingMissingError",
    "Settings",
    "Source",
    "Summarizer",
    "Support",
    "TransportError",
    "UnsupportedDigestError",
    "ValidationFailedError",
    "__version__",
    "asummarize",
    "iter_articles",
    "render_markdown",
    "run_batch",
    "run_eval",
    "summarize",
    "summarize_paths",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'khabar' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .batch import BatchStats, run_batch, summarize_paths
    from .batch.inputs import Article, iter_articles
    from .batch.report import render_markdown
    from .config import Settings
    from .core.digest import (
        CitedSentence,
        DateFact,
        Digest,
        DigestDraft,
        NumberFact,
        Organization,
        Person,
        Place,
        Provenance,
        Quote,
        Source,
        Support,
    )
    from .errors import (
        ArticleTooLargeError,
        AuthenticationError,
        BinaryInputError,
        CacheError,
        ConfigError,
        DecodeError,
        EmptyArticleError,
        InputError,
        KhabarError,
        ModelNotFoundError,
        ProviderError,
        RateLimitError,
        RecordingMissingError,
        TransportError,
        UnsupportedDigestError,
        ValidationFailedError,
    )
    from .evals.harness import run_eval
    from .pipeline import Summarizer, asummarize, summarize
