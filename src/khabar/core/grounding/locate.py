"""Locating an excerpt in the article, insensitive to what differs between a page and a model's copy.

Matching is done on folded text (:func:`~khabar.core.text.fold.fold`): yeh/kaf
variants, hamza seats, ZWNJ, spaces, diacritics, tatweel, punctuation, quotation
marks and digit scripts do not count. Three things folding would lose are checked
on the original text of both sides:

* Numbers. Between two digits, the separator must be of the same kind in the excerpt
  and in the article: none, a decimal mark (``.`` ``٫``), a group mark (``,`` ``٬``
  ``،``), a space, a dash, or any other sign. ``۲٫۵`` is ``2.5`` and ``30،000`` is
  ``30,000``, but ``2.5`` is not ``25``, ``3.500`` not ``3500``, ``2-1`` not ``21``.
* Elision. An excerpt shortened with an ellipsis (``A ... B``, ``A … B``, ``[...]``) is
  found only when each part is in the article, in order, every part at least
  :data:`MIN_ELIDED_PART_CHARS` long, all within one sentence (no ``. ! ? ؟ ؛`` or line
  break in a gap), and no gap holds a negation or exception word: Arabic لا لم لن ليس
  ما غير إلا سوى دون بدون بلا عدم, Persian نه نیست نبود هیچ بدون عدم جز مگر, or a Persian
  verb negated with ن (نمی‌کند، نخواهد، نکرد). "الحكومة ... توافق" is therefore not
  found in "الحكومة لن توافق", and two sentences cannot be joined.
* Persian negation glued to a verb. An excerpt may not begin after the ن of a negated
  verb: "می‌کند" is not found in "نمی‌کند".

An excerpt that begins or ends inside a number of the article ("5 مليار" in
"2.5 مليار") is still a verbatim excerpt; :func:`splits_number` tells such a cut, for
checks of the number a fact claims.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from ..digest import Span
from ..text.fold import fold, fold_with_map
from .number_words import folded_words

# An excerpt shorter than this (after folding) matches almost anywhere and proves nothing.
MIN_EVIDENCE_CHARS = 3
# Each part of an elided excerpt: shorter parts ("لا ... في") prove nothing about the gap.
MIN_ELIDED_PART_CHARS = 5
# Occurrences of one part tried before giving up (an article repeats short phrases).
_MAX_TRIES = 200

# ---------------------------------------------------------------------------------------
# Locating excerpts
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _folded(article: str) -> tuple[str, tuple[int, ...]]:
    folded, index = fold_with_map(article)
    return folded, tuple(index)


_ELLIPSIS = re.compile(r"\s*(?:[\[(]\s*(?:\.{2,}|…)\s*[\])]|\.{3,}|…)\s*")
_DIGITS = "0-9٠-٩۰-۹"
_IS_DIGIT = re.compile(rf"[{_DIGITS}]")
_DECIMAL = frozenset(".٫")
_GROUP = frozenset(",٬،")
_DASHES = frozenset("-‐‑‒–—−")


def _separator(between: str) -> str:
    """The kind of separator written between two digits ('' when they are adjacent)."""
    kinds: list[str] = []
    for ch in between:
        if unicodedata.category(ch) == "Cf":
            continue  # ZWNJ, direction marks: invisible
        if ch in _DECIMAL:
            kinds.append(".")
        elif ch in _GROUP:
            kinds.append(",")
        elif ch in _DASHES:
            kinds.append("-")
        elif ch.isspace():
            kinds.append(" ")
        else:
            kinds.append(ch)
    marks = [k for k in kinds if k != " "]
    # "2 - 1" is "2-1"; but "2 1" is not "21".
    return "".join(marks) if marks else (" " if kinds else "")


def _digit_separators(
    text: str, folded: str, index: tuple[int, ...] | list[int], lo: int, hi: int
) -> list[str]:
    """The separators between each pair of adjacent digits of ``folded[lo:hi]``."""
    return [
        _separator(text[index[k] + 1 : index[k + 1]])
        for k in range(lo, hi - 1)
        if folded[k].isdigit() and folded[k + 1].isdigit()
    ]


# Persian verbs negated with a glued ن: the excerpt must not begin after it.
_VERB_STEMS = tuple(
    sorted(
        folded_words(
            "می خواه خواست کرد کن شد شو دار داشت بود باش توان تواند گفت گوی داد ده رفت رو"
            " گرفت گیر دید بین زد زن ساخت ساز یافت یاب ماند مان رسید رس باید"
        )
    )
)
_NEGATIONS = folded_words(
    "لا لم لن ليس ليست ليسوا لست لسنا ما غير إلا الا سوى دون بدون بلا عدم كلا أبدا ولا ولم ولن"
    " وليس فلا فلم فلن وما نه نیست نیستند نبود نبودند هیچ هرگز بدون عدم جز بجز مگر"
)
_NEGATED_VERB = re.compile(rf"^(?:نمی|ن(?:{'|'.join(_VERB_STEMS)}))")
_SENTENCE_END = re.compile(rf"[!?؟؛\n\r]|(?<![{_DIGITS}])\.|\.(?![{_DIGITS}])")
_WORD = re.compile(
    r"[^\W\d_][^\W\d_\u064b-\u065f\u0670\u200c]*(?:[\u064b-\u065f\u0670\u200c]+[^\W\d_]+)*"
)


def _gap_problem(gap: str) -> bool:
    """Whether an elided stretch of the article holds what the ellipsis may not drop."""
    # An ellipsis the article writes itself is no sentence end.
    if _SENTENCE_END.search(_ELLIPSIS.sub(" ", gap)):
        return True
    for m in _WORD.finditer(gap):
        word = fold(m.group(0))
        if word in _NEGATIONS or (_NEGATED_VERB.match(word) and len(word) > 2):
            return True
    return False


def _negation_cut(article: str, start: int, key: str) -> bool:
    """Whether a match at ``start`` begins right after the ن of a negated Persian verb."""
    j = start
    prefix = ""
    while j > 0 and (article[j - 1].isalpha() or article[j - 1] == "\u200c"):
        j -= 1
        prefix = article[j] + prefix
        if len(prefix) > 4:
            return False
    prefix = fold(prefix)
    if prefix == "نمی":
        return True
    return prefix == "ن" and key.startswith(_VERB_STEMS)


def _occurrences(excerpt: str, article: str, start_at: int = 0) -> Iterator[tuple[int, int]]:
    """Every folded match of ``excerpt`` in ``article`` whose numbers and negation agree."""
    key, emap = fold_with_map(excerpt)
    if not key:
        return
    folded, index = _folded(article)
    want = _digit_separators(excerpt, key, emap, 0, len(key))
    pos = folded.find(key, start_at)
    tries = 0
    while pos >= 0 and tries < _MAX_TRIES:
        tries += 1
        end = pos + len(key)
        if (
            not want or _digit_separators(article, folded, index, pos, end) == want
        ) and not _negation_cut(article, index[pos], key):
            yield pos, end
        pos = folded.find(key, pos + 1)


def _span(first: int, last: int, article: str) -> Span:
    index = _folded(article)[1]
    return index[first], index[last - 1] + 1


def locate(excerpt: str, article: str) -> Span | None:
    """The span ``[start, end)`` of ``excerpt`` in ``article``, or None when it is not there.

    See the module docstring for what matching ignores and what it checks.

    >>> article = "او گفت: «این توافق تعهد تمامی ۲۷ کشور عضو را تضمین میکند.»"
    >>> locate("تضمین می‌کند", article) is not None
    True
    >>> locate("تضمین نمی‌کند", article) is None
    True
    >>> locate("2.5 مليار دولار", "بلغت 25 مليار دولار") is None
    True
    >>> locate("الحكومة ... توافق", "قالت الحكومة إنها لن توافق") is None
    True
    """
    if len(fold(excerpt)) < MIN_EVIDENCE_CHARS:
        return None
    parts = [p for p in _ELLIPSIS.split(excerpt) if fold(p)]
    if len(parts) == 1:
        # No ellipsis, or one at an end ("... A B"): the excerpt is read as written.
        for first, last in _occurrences(parts[0], article):
            return _span(first, last, article)
        return None
    if any(len(fold(p)) < MIN_ELIDED_PART_CHARS for p in parts):
        return None
    found = _elided(parts, article, 0, None)
    return None if found is None else _span(found[0], found[1], article)


def _elided(
    parts: list[str], article: str, start_at: int, prev_end: int | None
) -> tuple[int, int] | None:
    """The folded span of ``parts`` found in order with safe gaps between them."""
    index = _folded(article)[1]
    for first, last in _occurrences(parts[0], article, start_at):
        if prev_end is not None and _gap_problem(article[index[prev_end - 1] + 1 : index[first]]):
            # Later occurrences are further away: the gap only grows.
            return None
        if len(parts) == 1:
            return first, last
        rest = _elided(parts[1:], article, last, last)
        if rest is not None:
            return first, rest[1]
    return None


def contains(haystack: str, needle: str) -> bool:
    """True when ``needle`` folds to a non-empty substring of folded ``haystack``.

    Digits must keep their separators (see :func:`locate`), and a match never begins
    or ends inside a run of digits: "5 شباط" is not in "15 شباط".
    """
    folded, index = _folded(haystack)
    for first, last in _occurrences(needle, haystack):
        start, end = index[first], index[last - 1] + 1
        if (folded[first].isdigit() and _digit_before(haystack, start)) or (
            folded[last - 1].isdigit() and _digit_after(haystack, end)
        ):
            continue
        return True
    return False


def _digit_before(text: str, start: int) -> bool:
    """Whether the digits at ``start`` continue a number written before them."""
    before = text[max(0, start - 2) : start]
    return bool(before) and (
        bool(_IS_DIGIT.match(before[-1]))
        or (
            len(before) == 2
            and (before[-1] in _DECIMAL | _GROUP)
            and bool(_IS_DIGIT.match(before[0]))
        )
    )


def _digit_after(text: str, end: int) -> bool:
    """Whether the digits ending at ``end`` go on after it."""
    after = text[end : end + 2]
    return bool(after) and (
        bool(_IS_DIGIT.match(after[0]))
        or (len(after) == 2 and (after[0] in _DECIMAL | _GROUP) and bool(_IS_DIGIT.match(after[1])))
    )


def splits_number(span: Span, article: str) -> bool:
    """Whether ``span`` begins or ends inside a number written in digits in ``article``.

    "5 مليار دولار" is verbatim in "بلغت 2.5 مليار دولار", but the number it shows is
    not the article's. A check of the value a fact claims should refuse such a cut.

    >>> article = "بلغت 2.5 مليار دولار"
    >>> splits_number((7, 20), article), splits_number((5, 20), article)
    (True, False)
    """
    start, end = span
    return (
        start < len(article)
        and bool(_IS_DIGIT.match(article[start]))
        and _digit_before(article, start)
    ) or (end > 0 and bool(_IS_DIGIT.match(article[end - 1])) and _digit_after(article, end))
