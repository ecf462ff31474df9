"""Summary sentences and titles checked against the article, in code.

Every sentence of both summaries carries citations: verbatim excerpts of the
article. :func:`sentence_problem` says why a sentence is not supported (None
when it is), checking, in order:

1. **shape**: the sentence is not empty, holds no template syntax, and is in
   the right language and script (``summary_en`` in English, ``summary_src``
   in the article's script; a URL is not a sentence);
2. **citations**: there is at least one; each is located in the cleaned
   article with the same matching as a fact's evidence; one that is only in a
   block stripped from the page (an appended story, a "read also" teaser) is
   named as such;
3. **numbers**: every number the sentence states (digits, and for English
   number words and scale words: "2.4 billion", "ten thousand") agrees with a
   number its citations state. A year may agree through the calendar (an
   English "2024" citing "۱۴۰۳"), a day through a date the citations write;
4. **names**: every entity of the verified fact sheet that the sentence names
   (by ``name_en`` in English, ``name_src`` in the source language) is named
   in the citations or cited through its evidence; a capitalized word of an
   English sentence that no verified fact, citation or common-word list
   accounts for is an unsupported name ("David Cameron" in a story about
   Zelensky);
5. **negation** (best effort): a sentence that negates ("not", "no", "never";
   لا، لم، لن، ليس، نه، نمی‌، نیست ...) while none of its citations does is
   flagged.

What code cannot catch: a sentence whose numbers and names are all supported
can still misstate the relation between them ("A beat B" citing "B beat A"),
and a negation expressed other than by these words passes. Dropping is
preferred to keeping: a true sentence whose entity the model left out of the
fact sheet is dropped, with its reason.

Pure functions of their arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..digest import Span
from ..text.fold import fold
from .dates import DateParts, parse_date
from .locate import contains, locate, splits_number
from .numbers import number_matches, parse_numbers
from .sentence_words import COMMON_CAPITALIZED, SOURCE_NEGATIONS

__all__ = [
    "Entity",
    "english_numbers",
    "script_problem",
    "sentence_problem",
    "title_problem",
]

_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_URL = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.I)
_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}")
_ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug"})


@dataclass(frozen=True)
class Entity:
    """A verified fact-sheet entity: its names and where its evidence stands."""

    name_en: str
    name_src: str
    span: Span | None


# ---------------------------------------------------------------------------------------
# Shape: language and script
# ---------------------------------------------------------------------------------------


def script_problem(text: str, language: str) -> str | None:
    """Why ``text`` is not written in ``language``'s script, or None.

    English needs Latin letters (at least 70 % of its letters); Arabic,
    Persian and the other Arabic-script languages need at least 60 % Arabic
    script. Other languages are not checked.

    >>> script_problem("Kyiv and Washington agreed.", "en") is None
    True
    >>> script_problem("اتفقت كييف وواشنطن.", "en")
    'it is not in English (Latin script)'
    """
    if not text.strip():
        return "it is empty"
    if _URL.match(text):
        return "it is a URL, not a sentence"
    latin = len(_LATIN.findall(text))
    arabic = len(_ARABIC_SCRIPT.findall(text))
    letters = latin + arabic
    if language == "en":
        if letters == 0 or latin / letters < 0.7:
            return "it is not in English (Latin script)"
    elif language in _ARABIC_SCRIPT_LANGUAGES and (letters == 0 or arabic / letters < 0.6):
        return f"it is not in the article's language ({language}, Arabic script)"
    return None


def title_problem(text: str, language: str) -> str | None:
    """Why a title is not acceptable (wrong script, template syntax), or None."""
    if _TEMPLATE.search(text):
        return "it contains template syntax ({{ }} or {% %})"
    return script_problem(text, language)


# ---------------------------------------------------------------------------------------
# Numbers in English sentences
# ---------------------------------------------------------------------------------------

_EN_UNITS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
# "one" is left out on purpose: "one of the leaders" is not a count worth checking.
_EN_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_EN_SCALE_ABBR = {"bn": 1e9, "mn": 1e6, "m": 1e6, "k": 1e3}
_EN_TOKEN = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(bn|mn|m|k)\b)?|([A-Za-z]+(?:-[A-Za-z]+)?)"
)
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ABBR = {m[:3] for m in _MONTHS}


@dataclass(frozen=True)
class _EnNumber:
    value: float
    start: int
    end: int


def english_numbers(text: str) -> list[float]:
    """The numbers an English sentence states: digits, number words and scale words.

    >>> english_numbers("The EU pledged 2.4 billion euros and ten thousand shells in 2024.")
    [2400000000.0, 10000.0, 2024.0]
    """
    return [n.value for n in _english_numbers(text)]


def _english_numbers(text: str) -> list[_EnNumber]:
    found: list[_EnNumber] = []
    tokens = list(_EN_TOKEN.finditer(text))
    i = 0
    while i < len(tokens):
        m = tokens[i]
        value: float | None = None
        start, end = m.start(), m.end()
        if m.group(1):
            value = float(m.group(1).replace(",", ""))
            if m.group(2):
                value *= _EN_SCALE_ABBR[m.group(2).lower()]
        else:
            word = m.group(3).lower()
            parts = word.split("-")
            if all(p in _EN_UNITS for p in parts):
                value = float(sum(_EN_UNITS[p] for p in parts))
        if value is None:
            i += 1
            continue
        # Scale words that follow: "2.4 billion", "ten thousand", "three hundred thousand".
        j = i + 1
        while j < len(tokens) and tokens[j].group(3) and tokens[j].group(3).lower() in _EN_SCALES:
            value *= _EN_SCALES[tokens[j].group(3).lower()]
            end = tokens[j].end()
            j += 1
        found.append(_EnNumber(value, start, end))
        i = j
    return found


def _is_year(value: float) -> bool:
    return value.is_integer() and 1900 <= value <= 2100


def _next_to_month(text: str, number: _EnNumber) -> bool:
    before = text[max(0, number.start - 12) : number.start].lower().split()
    after = text[number.end : number.end + 12].lower().split()
    words = [w.strip(".,;:") for w in (before[-1:] + after[:1])]
    return any(w in _MONTHS or w in _MONTH_ABBR for w in words)


def _calendar_years(cites: str) -> set[int]:
    """Gregorian years a Solar or Lunar Hijri year written in ``cites`` may fall in."""
    years: set[int] = set()
    for n in parse_numbers(cites):
        if not n.value.is_integer():
            continue
        y = int(n.value)
        if 1300 <= y <= 1500:  # Solar Hijri: 1403 runs from March 2024 to March 2025
            years.update({y + 621, y + 622})
        if 1350 <= y <= 1500:  # Lunar Hijri: 33 lunar years make 32 solar ones
            g = round(y * 0.970229 + 621.57)
            years.update({g - 1, g, g + 1})
    return years


def _number_problem(text: str, cites: str, english: bool, language: str | None) -> str | None:
    if english:
        dates: list[DateParts] | None = None  # read only when a number needs a calendar
        for number in _english_numbers(text):
            if number_matches(number.value, cites, language):
                continue
            if dates is None:
                dates = [parse_date(c) for c in cites.split("\n")]
            if _is_year(number.value) and (
                int(number.value) in _calendar_years(cites)
                or any(d.iso and d.iso.startswith(f"{int(number.value)}") for d in dates)
            ):
                continue
            if _next_to_month(text, number) and any(
                d.day == number.value or (d.iso and d.iso.endswith(f"-{int(number.value):02d}"))
                for d in dates
            ):
                continue
            return f"it states {number.value:g}, which its citations do not"
        return None
    for parsed in parse_numbers(text, language):
        if not number_matches(parsed.value, cites, language):
            return f"it states {parsed.text!r} ({parsed.value:g}), which its citations do not"
    return None


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------

_COMMON = COMMON_CAPITALIZED | frozenset(_MONTHS)

_CAPITALIZED = re.compile(r"\b[A-Z][A-Za-z'’\-]*[A-Za-z]")


def _plain(word: str) -> str:
    """Lower case, without a possessive "'s"."""
    return re.sub(r"['’]s$", "", word.lower())


def _stem_matches(token: str, names: Iterable[str]) -> bool:
    t = _plain(token)
    for name in names:
        for part in re.findall(r"[A-Za-z][A-Za-z'’\-]*", name):
            p = part.lower()
            if len(p) >= 4 and t.startswith(p[: max(4, len(p) - 2)]):
                return True
            if t == p:
                return True
    return False


def _sentence_initial(text: str, start: int, end: int) -> bool:
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    opens = not before or before[-1] in ".!?:;\"'“(—-"
    return opens and bool(after) and after[0].islower()


def _name_in(name: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text, re.I) is not None


def _overlaps(a: Span | None, spans: Sequence[Span]) -> bool:
    return a is not None and any(a[0] < b[1] and b[0] < a[1] for b in spans)


def _names_problem(
    text: str,
    english: bool,
    cites: str,
    spans: Sequence[Span],
    entities: Sequence[Entity],
) -> str | None:
    for entity in entities:
        name = entity.name_en if english else entity.name_src
        if not name or not (_name_in(name, text) if english else contains(text, name)):
            continue
        if contains(cites, entity.name_src) or _overlaps(entity.span, spans):
            continue
        return f"it names {name!r}, but its citations do not"
    if not english:
        return None
    known = [e.name_en for e in entities]
    for m in _CAPITALIZED.finditer(text):
        word = m.group()
        if _plain(word) in _COMMON:
            continue
        if _sentence_initial(text, m.start(), m.end()) and not word.isupper():
            # "Ammunition contracts were signed": an ordinary word, capitalized because
            # it opens the sentence. A lone name there ("Cameron said") passes: a limit.
            continue
        if _stem_matches(word, known) or _name_in(word, cites):
            continue
        return f"it names {word!r}, which no verified fact and no citation supports"
    return None


# ---------------------------------------------------------------------------------------
# Negation
# ---------------------------------------------------------------------------------------

_EN_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot)\b|n't\b", re.I)
_SRC_NEGATION = frozenset(fold(w) for w in SOURCE_NEGATIONS)


def _src_negated(text: str) -> bool:
    for word in re.findall(r"[\w\u200c]+", text):
        key = fold(word)
        if key in _SRC_NEGATION or key.startswith("نمی"):
            return True
    return False


def _negation_problem(text: str, english: bool, cites: str) -> str | None:
    negated = _EN_NEGATION.search(text) is not None if english else _src_negated(text)
    if negated and not _src_negated(cites):
        return "it negates, but none of its citations does"
    return None


# ---------------------------------------------------------------------------------------
# One sentence
# ---------------------------------------------------------------------------------------


def sentence_problem(
    text: str,
    cites: Sequence[str],
    *,
    english: bool,
    language: str,
    article: str,
    stripped: Sequence[tuple[str, str]] = (),
    entities: Sequence[Entity] = (),
) -> tuple[list[Span], str | None]:
    """The citations' spans in ``article`` and why the sentence is not supported (None when it is).

    ``english`` is True for ``summary_en`` (its citations are still in the
    article's language); ``stripped`` holds ``(kind, text)`` of the blocks
    removed from the page; ``entities`` the verified people, organizations,
    places and sources.

    >>> article = "وقال ستولتنبرغ إن الحلف سيقدم 2.5 مليار دولار."
    >>> sentence_problem("NATO will give $25 billion.", ["سيقدم 2.5 مليار دولار"],
    ...                  english=True, language="ar", article=article)[1]
    'it states 2.5e+10, which its citations do not'
    """
    if _TEMPLATE.search(text):
        return [], "it contains template syntax ({{ }} or {% %})"
    problem = script_problem(text, "en" if english else language)
    if problem:
        return [], problem
    if not cites:
        return [], "it cites nothing"
    spans: list[Span] = []
    for cite in cites:
        if not cite.strip():
            return [], "one of its citations is empty"
        if len(cite) > len(article):
            return [], "one of its citations is longer than the article"
        span = locate(cite, article)
        if span is None:
            kind = next((k for k, block in stripped if locate(cite, block) is not None), None)
            if kind is not None:
                return [], f"it cites text stripped from the page ({kind}): {cite[:60]!r}"
            return [], f"a citation is not in the article: {cite[:80]!r}"
        if splits_number(span, article):
            return [], f"a citation cuts a number of the article in two: {cite[:60]!r}"
        spans.append(span)
    joined = "\n".join(cites)
    for check in (
        _number_problem(text, joined, english, language),
        _names_problem(text, english, joined, spans, entities),
        _negation_problem(text, english, joined),
    ):
        if check:
            return spans, check
    return spans, None
