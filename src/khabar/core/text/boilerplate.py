"""Boilerplate: the page is not the story. Strips what is certainly not the main story."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..digest import StrippedBlock
from .normalize import normalize_text

# ---------------------------------------------------------------------------------------
# Boilerplate: the page is not the story
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanedArticle:
    """The main story's text, and every block removed from the page with its kind."""

    text: str
    stripped: tuple[StrippedBlock, ...] = ()


_BULLETS = "•·●▪◦*-–—>»« \t"


# "Read also" in Arabic spellings (إقرأ / اقرأ / أقرأ, أيضا / أيضاً / ايضا) and Persian.
_READ_ALSO = re.compile(
    r"^(?:[إاأ]قر[أا]\s+(?:[أا]يض[اً]+|كذلك)|بیشتر\s+بخوانید|بخوانید|همچنین\s+بخوانید|پیشنهاد\s+ویژه)\s*[:：.]?\s*"
)
_RELATED = re.compile(
    r"^(?:مقالات\s+(?:مشابهة|ذات\s+صلة|متعلقة)|أخبار\s+(?:ذات\s+صلة|متعلقة|مشابهة)|اخبار\s+(?:مرتبط|مشابه)|"
    r"مطالب\s+(?:مرتبط|مشابه)|موضوعات\s+(?:ذات\s+صلة|متعلقة)|شاهد\s+أيضا|اقرأ\s+المزيد)\s*[:：]?\s*$"
)
_SOURCE_LINE = re.compile(r"^(?:المصدر|مصدر\s+الخبر|منبع)\s*[:|：]")
_KEYWORDS = re.compile(
    r"^(?:كلمات\s+دلالية|الكلمات\s+المفتاحية|وسوم|الوسوم|برچسب[‌ ]?ها|کلمات\s+کلیدی|کلیدواژه[‌ ]?ها)\s*[:|：]?"
)
_DONATION = re.compile(
    r"(?:ادعمنا\s+بالتبرع|تبرع\s+الآن|ساهم\s+في\s+دعم|حمایت\s+مالی|کمک\s+مالی\s+به)"
)
_PROMO = re.compile(
    r"^(?:تابع\s+(?:أحدث|آخر)\s+الأخبار|تابعونا\s+على|حمل\s+تطبيق|اشترك\s+في|انضم\s+إلى\s+قناتنا|"
    r"اقرأ\s+المقال\s+الأصلي|عضویت\s+در\s+کانال|ما\s+را\s+در\s+.+\s+دنبال\s+کنید)"
)
# How long a line may be and still read as a headline (a "read also" teaser).
_HEADLINE_MAX = 160


def _content(line: str) -> str:
    return line.strip().lstrip(_BULLETS).strip()


def _next_nonblank(lines: list[str], j: int) -> int:
    """The index of the first non-blank line from ``j`` on (``len(lines)`` when none)."""
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j


def _is_headline(line: str) -> bool:
    """Short and not a finished sentence: how a teaser headline looks."""
    text = _content(line)
    return 0 < len(text) <= _HEADLINE_MAX and not text.endswith((".", "!", "…"))


def clean_article(text: str) -> CleanedArticle:
    """Strip what is certainly not the main story from a scraped page.

    Two kinds of things go:

    * lines that are boilerplate wherever they stand: "read also" teasers
      (``اقرأ أيضاً: <headline>``, or the marker alone and the headline on the
      next line), app and channel promotions, donation appeals;
    * everything after the first end-of-article line (``المصدر:`` / ``منبع:``
      source lines, keyword lists, "related articles" headers, the link to the
      original): what follows such a line on a scraped page is other stories,
      never more of this one. It is recorded block by block: related headlines,
      read-also teasers, and ``appended_story`` for the paragraphs of another
      article pasted under this one.

    Agency credits such as ``فرانس برس`` before the end stay: they attribute the
    main story. Nothing is dropped unrecorded: the stripped blocks come back
    with the text.

    >>> page = "متن خبر اصلی.\\n\\nاقرأ أيضاً: عنوان آخر\\n\\nبقية الخبر."
    >>> clean_article(page).text
    'متن خبر اصلی.\\n\\nبقية الخبر.'
    """
    lines = text.split("\n")
    keep: list[str] = []
    stripped: list[StrippedBlock] = []
    seen_content = 0
    i = 0
    n = len(lines)

    def add(kind: str, body: str) -> None:
        body = body.strip()
        if not body:
            return
        if stripped and stripped[-1].kind == kind and kind in ("related", "appended_story"):
            stripped[-1] = StrippedBlock(kind=kind, text=stripped[-1].text + "\n" + body)
        else:
            stripped.append(StrippedBlock(kind=kind, text=body))

    while i < n:
        line = lines[i]
        content = _content(line)
        if not content:
            keep.append(line)
            i += 1
            continue
        end_of_article = seen_content > 0 and (
            _SOURCE_LINE.match(content)
            or _KEYWORDS.match(content)
            or _RELATED.match(content)
            or content.startswith(("اقرأ المقال الأصلي", "اقرا المقال الاصلي"))
        )
        read_also = _READ_ALSO.match(content)
        if read_also and seen_content > 0:
            rest = content[read_also.end() :].strip()
            if rest:
                add("read_also", content)
                i += 1
                continue
            j = _next_nonblank(lines, i + 1)
            # The marker alone: the teaser headline is on the next line. When an
            # app promotion or a whole article follows, this is another story.
            k = _next_nonblank(lines, j + 1) if j < n else n
            if k < n and _PROMO.match(_content(lines[k])):
                end_of_article = True
            elif j < n and _is_headline(lines[j]):
                add("read_also", content + "\n" + _content(lines[j]))
                i = j + 1
                continue
            else:
                add("read_also", content)
                i += 1
                continue
        if end_of_article:
            _strip_tail(lines[i:], add)
            break
        if _DONATION.search(content):
            add("donation", content)
        elif _PROMO.match(content):
            add("promo", content)
        else:
            keep.append(line)
            seen_content += 1
        i += 1

    body = normalize_text("\n".join(keep))
    return CleanedArticle(text=body, stripped=tuple(stripped))


def _strip_tail(lines: list[str], add: Callable[[str, str], None]) -> None:
    """Record, block by block, everything after the end of the main story."""
    i = 0
    n = len(lines)
    in_related = False
    while i < n:
        content = _content(lines[i])
        if not content:
            i += 1
            continue
        bullet = lines[i].strip()[:1] in "•·●▪◦*-–—"
        read_also = _READ_ALSO.match(content)
        if _SOURCE_LINE.match(content):
            add("source_line", content)
            in_related = False
        elif _KEYWORDS.match(content):
            add("keywords", content)
            in_related = False
        elif _RELATED.match(content):
            add("related", content)
            in_related = True
        elif _DONATION.search(content):
            add("donation", content)
        elif _PROMO.match(content):
            add("promo", content)
        elif read_also:
            rest = content[read_also.end() :].strip()
            if not rest:
                j = _next_nonblank(lines, i + 1)
                if j < n and _is_headline(lines[j]):
                    rest = _content(lines[j])
                    i = j
            add("read_also", (content + "\n" + rest) if rest and rest not in content else content)
            in_related = False
        elif bullet or (in_related and _is_headline(lines[i])):
            add("related", content)
        else:
            add("appended_story", content)
            in_related = False
        i += 1
