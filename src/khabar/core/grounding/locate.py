"""Locating an excerpt in the article, insensitive to what differs between a page and a model's copy."""

from __future__ import annotations

import functools
import re

from ..text.fold import fold, fold_with_map

# An excerpt shorter than this (after folding) matches almost anywhere and proves nothing.
MIN_EVIDENCE_CHARS = 3
from ..digest import Span

# ---------------------------------------------------------------------------------------
# Locating excerpts
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _folded(article: str) -> tuple[str, tuple[int, ...]]:
    folded, index = fold_with_map(article)
    return folded, tuple(index)


_ELLIPSIS = re.compile(r"\s*(?:\.{3,}|…)\s*")


def locate(excerpt: str, article: str) -> Span | None:
    """The span ``[start, end)`` of ``excerpt`` in ``article``, or None when it is not there.

    Matching ignores yeh/kaf variants, ZWNJ, spaces, diacritics, tatweel,
    punctuation and digit scripts. An excerpt the model shortened with an
    ellipsis ("A ... B") matches when each part is found, in order.

    >>> article = "او گفت: «این توافق تعهد تمامی ۲۷ کشور عضو را تضمین میکند.»"
    >>> locate("تضمین می‌کند", article) is not None
    True
    >>> locate("تضمین نمی‌کند", article) is None
    True
    """
    parts = [p for p in _ELLIPSIS.split(excerpt) if fold(p)]
    if not parts:
        return None
    folded, index = _folded(article)
    start_at = 0
    first: int | None = None
    last = 0
    for part in parts:
        key = fold(part)
        if len(key) < MIN_EVIDENCE_CHARS and len(parts) > 1:
            return None
        pos = folded.find(key, start_at)
        if pos < 0:
            return None
        if first is None:
            first = pos
        last = pos + len(key)
        start_at = last
    assert first is not None
    if last - first < MIN_EVIDENCE_CHARS:
        return None
    return index[first], index[last - 1] + 1


def contains(haystack: str, needle: str) -> bool:
    """True when ``needle`` folds to a non-empty substring of folded ``haystack``."""
    key = fold(needle)
    # The haystack is the article, checked fact after fact: its folded form is cached.
    return bool(key) and key in _folded(haystack)[0]
