"""Grounding: every fact the model gives is checked against the article, in code.

* :func:`locate` finds an evidence excerpt in the article, insensitive to what
  differs between a scraped page and a model's copy of it (see
  :func:`khabar.text.fold`), and returns its span in the original text.
* :func:`parse_numbers` reads the numbers a text states, with Arabic and
  Persian scale words ("2.4 مليار" is 2.4e9, "۱۰ هزار" is 10,000) and small
  number words ("سه توافقنامه" is 3).
* :func:`parse_date` reads a date as written in Gregorian (Arabic, Levantine
  or Persian month names), Solar Hijri ("هفتم تیر ۱۴۰۳") or Lunar Hijri, and
  converts it to Gregorian with jdatetime / hijridate. Without a year, the
  date stays partial; a Solar or Lunar date without a year has no Gregorian
  form (the day shifts with the year), so its ``iso`` is None.
* :func:`check_draft` lists the problems of a draft (what instructor sends
  back to the model when re-asking); :func:`ground` keeps what is verified,
  fills the code-owned fields and returns what was dropped, with reasons.

All pure functions of their arguments.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from .models import FACT_FIELDS, DateFact, DigestDraft, DroppedFact, NumberFact, Quote
from .text import fold, fold_with_map, to_ascii_digits

__all__ = [
    "GROUNDING_VERSION",
    "DateParts",
    "GroundingResult",
    "ParsedNumber",
    "check_draft",
    "ground",
    "locate",
    "number_matches",
    "parse_date",
    "parse_numbers",
]

# Part of the cache key: bump when a rule here changes what is kept.
GROUNDING_VERSION = "1"

# An excerpt shorter than this (after folding) matches almost anywhere and proves nothing.
MIN_EVIDENCE_CHARS = 3

Span = tuple[int, int]


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


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedNumber:
    """A number stated in a text: its value (scale words applied) and where it was."""

    value: float
    text: str
    start: int
    end: int


_SCALES: dict[str, float] = {}
for _words, _factor in (
    ("ألف آلاف الف الاف ألفا ألفًا ألفاً هزار thousand k", 1e3),
    ("مليون ملايين ملیون میلیون million m mn", 1e6),
    ("مليار مليارات بليون بلايين میلیارد ميليار billion bn", 1e9),
    ("تريليون ترليون تریلیون trillion", 1e12),
):
    for _w in _words.split():
        _SCALES[_w] = _factor

_WORD_NUMBERS: dict[str, float] = {}
for _words, _value in (
    ("یک", 1), ("دو", 2), ("سه", 3), ("چهار", 4), ("پنج", 5), ("شش", 6), ("هفت", 7),
    ("هشت", 8), ("نه", 9), ("ده", 10), ("بیست", 20), ("سی", 30), ("چهل", 40), ("پنجاه", 50),
    ("صد", 100), ("یکصد", 100), ("دویست", 200), ("سیصد", 300), ("پانصد", 500),
    ("واحد واحدة", 1), ("اثنان اثنين اثنتان اثنتين", 2), ("ثلاث ثلاثة", 3),
    ("أربع أربعة اربع اربعة", 4), ("خمس خمسة", 5), ("ست ستة", 6), ("سبع سبعة", 7),
    ("ثماني ثمانية ثمان", 8), ("تسع تسعة", 9), ("عشر عشرة", 10), ("عشرين عشرون", 20),
    ("ثلاثين ثلاثون", 30), ("أربعين أربعون", 40), ("خمسين خمسون", 50), ("مئة مائة", 100),
    ("مئتين مئتان مائتين", 200),
    ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6), ("seven", 7),
    ("eight", 8), ("nine", 9), ("ten", 10), ("dozen", 12), ("hundred", 100),
):  # fmt: skip
    for _w in str(_words).split():
        _WORD_NUMBERS[fold(_w)] = float(_value)
_SCALE_KEYS = {fold(w): f for w, f in _SCALES.items()}

# Digits in any script, with thousands separators (, ٬) and a decimal mark (. ٫).
_NUM = re.compile(
    r"(?<![0-9٠-٩۰-۹.٫,٬])[-−]?[0-9٠-٩۰-۹]+(?:[,٬][0-9٠-٩۰-۹]{3})*(?:[.٫][0-9٠-٩۰-۹]+)?(?![0-9٠-٩۰-۹])"
)
_WORD = re.compile(r"[\w\u200c]+")
_WORD_AFTER_SPACES = re.compile(r"\s*([\w\u200c]+)")
# One-letter proclitics glued to a word: و (and), ب (with), ل (for), ف (so), ال (the).
_PROCLITICS = ("وب", "ول", "وال", "بال", "لل", "ال", "و", "ب", "ل", "ف")


def _scale_at(text: str, pos: int) -> tuple[float, int]:
    """The scale word right after ``pos`` (skipping spaces), and where it ends."""
    m = _WORD_AFTER_SPACES.match(text, pos)
    if not m:
        return 1.0, pos
    word = fold(m.group(1))
    for key, factor in _SCALE_KEYS.items():
        if word == key or (word.startswith(key) and len(word) - len(key) <= 2):
            return factor, m.end()
    return 1.0, pos


def _word_value(word: str) -> float | None:
    key = fold(word)
    if key in _WORD_NUMBERS:
        return _WORD_NUMBERS[key]
    for prefix in _PROCLITICS:
        if key.startswith(prefix) and key[len(prefix) :] in _WORD_NUMBERS:
            return _WORD_NUMBERS[key[len(prefix) :]]
    return None


def parse_numbers(text: str) -> list[ParsedNumber]:
    """Every number ``text`` states, in order, with scale words applied.

    >>> [n.value for n in parse_numbers("بقيمة 2.4 مليار يورو")]
    [2400000000.0]
    >>> [n.value for n in parse_numbers("حدود ۱۰ هزار خارجی")]
    [10000.0]
    >>> [n.value for n in parse_numbers("سه توافقنامه امنیتی")]
    [3.0]
    """
    found: list[ParsedNumber] = []
    taken: list[Span] = []
    for m in _NUM.finditer(text):
        raw = to_ascii_digits(m.group(0)).replace("−", "-").replace("٫", ".")
        raw = raw.replace(",", "").replace("٬", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        factor, end = _scale_at(text, m.end())
        found.append(ParsedNumber(value * factor, text[m.start() : end], m.start(), end))
        taken.append((m.start(), end))
    for m in _WORD.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        word_value = _word_value(m.group(0))
        scale_only = _SCALE_KEYS.get(fold(m.group(0)))
        if word_value is None:
            # A bare scale word is a number too: "هزار نفر", "ألف شخص", "million people".
            if scale_only is None:
                continue
            word_value, factor, end = scale_only, 1.0, m.end()
        else:
            factor, end = _scale_at(text, m.end())
        found.append(ParsedNumber(word_value * factor, text[m.start() : end], m.start(), end))
        taken.append((m.start(), end))
    found.sort(key=lambda n: n.start)
    return found


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def number_matches(value: float, evidence: str) -> bool:
    """True when ``evidence`` states ``value`` (a percentage may be given as 0.12 or 12).

    >>> number_matches(2_400_000_000, "عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو")
    True
    >>> number_matches(2.4, "بقيمة 2.4 مليار يورو")
    False
    """
    for number in parse_numbers(evidence):
        if _close(number.value, value) or _close(number.value, abs(value)):
            return True
    return False


_CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("دولار", "دلار", "dollar", "$"),
    "EUR": ("يورو", "یورو", "euro", "€"),
    "GBP": ("جنيه استرليني", "پوند", "pound", "£", "إسترليني"),
    "IRR": ("ریال", "ريال", "rial"),
    "IRT": ("تومان", "toman"),
    "SAR": ("ريال سعودي", "riyal"),
    "EGP": ("جنيه", "pound"),
    "AED": ("درهم", "dirham"),
    "RUB": ("روبل", "rouble", "ruble"),
    "JPY": ("ين", "ین", "yen"),
    "CNY": ("يوان", "یوان", "yuan"),
}


def _unit_problem(fact: NumberFact) -> str | None:
    unit = (fact.unit or "").strip().upper()
    words = _CURRENCIES.get(unit)
    if words is None:
        return None
    folded = fold(fact.evidence)
    if any(fold(w) and fold(w) in folded for w in words) or any(w in fact.evidence for w in words):
        return None
    return f"the unit {unit} is not what the evidence states"


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateParts:
    """A date as parsed from text: calendar, what the text gives, and the Gregorian ISO form."""

    calendar: str | None
    year: int | None
    month: int | None
    day: int | None
    iso: str | None


_GREGORIAN_MONTHS = [
    "يناير كانون الثاني ژانویه ژانويه january jan",
    "فبراير شباط فوریه فيفري february feb",
    "مارس آذار march mar",
    "أبريل ابريل نيسان آوریل اپریل april apr",
    "مايو أيار ماي مه می may",
    "يونيو حزيران جوان ژوئن june jun",
    "يوليو تموز جويلية ژوئیه جولای july jul",
    "أغسطس اغسطس آب أوت اوت اوت اگوست august aug",
    "سبتمبر أيلول سپتامبر september sep sept",
    "أكتوبر اكتوبر تشرين الأول اکتبر october oct",
    "نوفمبر تشرين الثاني نوامبر november nov",
    "ديسمبر كانون الأول دسامبر december dec",
]
_SOLAR_MONTHS = [
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد امرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
]  # fmt: skip
_LUNAR_MONTHS = [
    "محرم", "صفر", "ربيع الأول ربیع الاول", "ربيع الثاني ربيع الآخر ربیع الثانی",
    "جمادى الأولى جمادی الاولی", "جمادى الآخرة جمادى الثانية جمادی الثانیه", "رجب", "شعبان",
    "رمضان", "شوال", "ذو القعدة ذی القعده", "ذو الحجة ذی الحجه",
]  # fmt: skip

# Multi-word names first, so that "تشرين الثاني" wins over a bare word.
_MONTH_NAMES: list[tuple[str, str, int]] = []
for _cal, _names in (
    ("gregorian", _GREGORIAN_MONTHS),
    ("solar_hijri", _SOLAR_MONTHS),
    ("lunar_hijri", _LUNAR_MONTHS),
):
    for _i, _group in enumerate(_names, start=1):
        _tokens = _group.split()
        j = 0
        while j < len(_tokens):
            # Two-word names are written with their second word (الأول, الثاني...).
            if j + 1 < len(_tokens) and _tokens[j + 1] in (
                "الثاني",
                "الأول",
                "الآخر",
                "الأولى",
                "الآخرة",
                "الثانية",
                "الاول",
                "الثانی",
                "الاولی",
                "الثانیه",
                "القعدة",
                "الحجة",
                "القعده",
                "الحجه",
            ):
                _MONTH_NAMES.append((_cal, _tokens[j] + " " + _tokens[j + 1], _i))
                j += 2
            else:
                _MONTH_NAMES.append((_cal, _tokens[j], _i))
                j += 1
_MONTH_NAMES.sort(key=lambda t: -len(t[1]))
# Ambiguous short words only count as months next to a day or a year.
_AMBIGUOUS = {
    "مه",
    "می",
    "مهر",
    "دی",
    "آب",
    "مارس",
    "may",
    "mar",
    "jan",
    "feb",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "صفر",
    "ماي",
}

_PERSIAN_ORDINALS = {
    "یکم": 1, "اول": 1, "دوم": 2, "سوم": 3, "چهارم": 4, "پنجم": 5, "ششم": 6, "هفتم": 7,
    "هشتم": 8, "نهم": 9, "دهم": 10, "یازدهم": 11, "دوازدهم": 12, "سیزدهم": 13,
    "چهاردهم": 14, "پانزدهم": 15, "شانزدهم": 16, "هفدهم": 17, "هجدهم": 18, "هیجدهم": 18,
    "نوزدهم": 19, "بیستم": 20, "سیام": 30, "سی‌ام": 30,
}  # fmt: skip
_TENS_FA = {"بیست": 20, "سی": 30}
_ARABIC_ORDINALS = {
    "الأول": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5, "السادس": 6,
    "السابع": 7, "الثامن": 8, "التاسع": 9, "العاشر": 10,
}  # fmt: skip
_FOLDED_ORDINALS = {fold(k): v for k, v in (_PERSIAN_ORDINALS | _ARABIC_ORDINALS).items()}
_FOLDED_TENS = {fold(k): v for k, v in _TENS_FA.items()}
_SOLAR_MARK = re.compile(r"(?:ه\.?\s*ش|هجری\s+شمسی|شمسی|خورشیدی)")
_LUNAR_MARK = re.compile(r"(?:هـ|ه\.?\s*ق|هجری\s+قمری|قمری|للهجرة|هجرية)")


def _day_before(words: list[str], idx: int) -> int | None:
    """The day of the month written just before the month name at ``words[idx]``."""
    if idx == 0:
        return None
    prev = to_ascii_digits(words[idx - 1]).strip("،,.()")
    if prev.isdigit() and 1 <= int(prev) <= 31:
        return int(prev)
    key = fold(words[idx - 1])
    if key in _FOLDED_ORDINALS:
        # "بیست و هفتم" = 27: a ten, و, a unit ordinal.
        unit = _FOLDED_ORDINALS[key]
        if idx >= 3 and fold(words[idx - 2]) == "و":
            return _FOLDED_TENS.get(fold(words[idx - 3]), 0) + unit
        return unit
    return None


def _year_after(words: list[str], idx: int) -> int | None:
    for word in words[idx : idx + 3]:
        token = to_ascii_digits(word).strip("،,.()م")
        if token.isdigit() and len(token) == 4:
            return int(token)
    return None


_NUMERIC_DATE = re.compile(r"([0-9٠-٩۰-۹]{1,4})[/\-.]([0-9٠-٩۰-۹]{1,2})[/\-.]([0-9٠-٩۰-۹]{1,4})")


def _iso(calendar: str | None, year: int | None, month: int | None, day: int | None) -> str | None:
    if calendar is None or (month is None and year is None):
        return None
    try:
        if calendar == "gregorian":
            if year is not None and month is not None and day is not None:
                import datetime

                return datetime.date(year, month, day).isoformat()
            if year is not None and month is not None:
                return f"{year:04d}-{month:02d}"
            if year is not None:
                return f"{year:04d}"
            if month is not None and day is not None:
                return f"--{month:02d}-{day:02d}"
            return f"--{month:02d}" if month is not None else None
        if year is None or month is None:
            return None  # the Gregorian day of a Hijri date shifts with the year
        if calendar == "solar_hijri":
            import jdatetime

            if day is None:
                return None
            return str(jdatetime.date(year, month, day).togregorian().isoformat())
        if calendar == "lunar_hijri":
            from hijridate import Hijri

            if day is None:
                return None
            return str(Hijri(year, month, day).to_gregorian().isoformat())
    except (ValueError, OverflowError, ImportError):
        return None
    return None


def parse_date(text: str) -> DateParts:
    """Parse a date as written; convert Solar and Lunar Hijri to Gregorian.

    >>> parse_date("27 يناير").iso
    '--01-27'
    >>> parse_date("هفتم تیر ۱۴۰۳").iso
    '2024-06-27'
    >>> parse_date("هفتم تیر").month, parse_date("هفتم تیر").iso
    (4, None)
    >>> parse_date("شباط/فبراير 2022").iso
    '2022-02'
    """
    numeric = _NUMERIC_DATE.search(text)
    if numeric:
        a, b, c = (int(to_ascii_digits(g)) for g in numeric.groups())
        ny, nm, nd = (a, b, c) if a > 31 else (c, b, a)
        if 1 <= nm <= 12 and 1 <= nd <= 31 and ny > 31:
            ncal = "solar_hijri" if 1300 <= ny <= 1500 else "gregorian"
            if _LUNAR_MARK.search(text):
                ncal = "lunar_hijri"
            return DateParts(ncal, ny, nm, nd, _iso(ncal, ny, nm, nd))

    words = re.findall(r"[\w\u200c]+|/", text)
    folded_words = [fold(w) for w in words]
    calendar: str | None = None
    month: int | None = None
    day: int | None = None
    year: int | None = None
    for cal, name, number in _MONTH_NAMES:
        parts = [fold(p) for p in name.split()]
        width = len(parts)
        for idx in range(len(folded_words) - width + 1):
            window = folded_words[idx : idx + width]
            # A month name may carry a glued proclitic: "وتیر", "بيناير", "لشهر" is not one.
            glued = width == 1 and window[0][:1] in ("و", "ب", "ل") and window[0][1:] == parts[0]
            if window != parts and not glued:
                continue
            d = _day_before(words, idx)
            y = _year_after(words, idx + width)
            if name in _AMBIGUOUS and d is None and y is None:
                continue
            calendar, month, day, year = cal, number, d, y
            break
        if calendar is not None:
            break
    if calendar is None:
        years = [int(t) for t in (to_ascii_digits(w) for w in words) if t.isdigit() and len(t) == 4]
        if years and 1900 <= years[0] <= 2100:
            return DateParts("gregorian", years[0], None, None, f"{years[0]:04d}")
        if years and 1300 <= years[0] <= 1500 and _SOLAR_MARK.search(text):
            return DateParts("solar_hijri", years[0], None, None, None)
        return DateParts(None, None, None, None, None)
    if calendar == "gregorian" and year is not None and 1300 <= year <= 1500:
        # "تیر" would have caught a Solar date; a Gregorian name with a Hijri-range year is a typo.
        year = None
    if calendar == "solar_hijri" and _LUNAR_MARK.search(text) and not _SOLAR_MARK.search(text):
        calendar = "lunar_hijri"
    return DateParts(calendar, year, month, day, _iso(calendar, year, month, day))


# ---------------------------------------------------------------------------------------
# Checking a draft
# ---------------------------------------------------------------------------------------


def _name_of(fact: Any) -> str:
    for attr in ("name_src", "text", "text_src", "speaker_en", "name_en"):
        value = getattr(fact, attr, None)
        if value:
            return str(value)[:60]
    return str(fact.evidence)[:60]


def fact_problem(fact: Any, article: str) -> str | None:
    """Why ``fact`` is not supported by ``article``, or None when it is."""
    evidence = (fact.evidence or "").strip()
    if not evidence:
        return "its evidence is empty"
    if locate(evidence, article) is None:
        return f"its evidence is not in the article: {evidence[:80]!r}"
    name_src = getattr(fact, "name_src", None)
    if name_src is not None and not contains(article, name_src):
        return f"the name {name_src!r} is not written in the article"
    if isinstance(fact, Quote) and locate(fact.text_src, article) is None:
        return f"the quotation is not verbatim in the article: {fact.text_src[:80]!r}"
    if isinstance(fact, NumberFact):
        if not number_matches(fact.value, evidence):
            stated = ", ".join(f"{n.value:g}" for n in parse_numbers(evidence)) or "no number"
            return f"the value {fact.value:g} is not what the evidence states ({stated})"
        problem = _unit_problem(fact)
        if problem:
            return problem
    if isinstance(fact, DateFact) and not contains(article, fact.text):
        return f"the date {fact.text!r} is not written in the article"
    return None


def check_draft(draft: DigestDraft, article: str) -> list[str]:
    """Every problem of ``draft`` against ``article``, one line each (empty when all is verified).

    These lines are what instructor sends back to the model when it re-asks.
    """
    problems: list[str] = []
    for field in FACT_FIELDS:
        for i, fact in enumerate(getattr(draft, field)):
            problem = fact_problem(fact, article)
            if problem:
                problems.append(f"{field}[{i}] ({_name_of(fact)}): {problem}")
    return problems


@dataclass(frozen=True)
class GroundingResult:
    """A draft with only verified facts (spans and dates filled), what was dropped, and how many stayed."""

    draft: DigestDraft
    dropped: list[DroppedFact]
    verified: int


def ground(draft: DigestDraft, article: str) -> GroundingResult:
    """Keep the facts of ``draft`` that ``article`` supports; fill spans and parsed dates.

    Facts that fail are returned as :class:`~khabar.models.DroppedFact` with
    the reason, never silently lost. Dates get their calendar, parts and ISO
    form from :func:`parse_date`, whatever the model claimed.
    """
    updates: dict[str, list[Any]] = {}
    dropped: list[DroppedFact] = []
    verified = 0
    for field in FACT_FIELDS:
        kept: list[Any] = []
        for fact in getattr(draft, field):
            problem = fact_problem(fact, article)
            if problem:
                dropped.append(
                    DroppedFact(field=field, fact=fact.model_dump(exclude={"span"}), reason=problem)
                )
                continue
            changes: dict[str, Any] = {"span": locate(fact.evidence, article)}
            if isinstance(fact, DateFact):
                parts = parse_date(fact.text)
                changes.update(
                    calendar=parts.calendar,
                    year=parts.year,
                    month=parts.month,
                    day=parts.day,
                    iso=parts.iso,
                )
            kept.append(fact.model_copy(update=changes))
            verified += 1
        updates[field] = kept
    return GroundingResult(draft.model_copy(update=updates), dropped, verified)
