"""Dates as written: Gregorian, Solar Hijri and Lunar Hijri, converted to Gregorian in code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.fold import fold, to_ascii_digits
from . import date_words as dw

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


_SOLAR_MARK = re.compile(r"(?:ه\.?\s*ش|هجری\s+شمسی|شمسی|خورشیدی)")
_LUNAR_MARK = re.compile(r"(?:هـ|ه\.?\s*ق|هجری\s+قمری|قمری|للهجرة|هجرية)")
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670"
# Digits apart from letters: "1439هـ" is the year 1439 and the hijri mark.
_TOKEN = re.compile(rf"[0-9٠-٩۰-۹]+|[^\W\d_](?:[^\W\d_]|[{_MARKS}\u200c])*|[/،,]")
_NUMERIC_DATE = re.compile(r"([0-9٠-٩۰-۹]{1,4})[/\-.]([0-9٠-٩۰-۹]{1,2})[/\-.]([0-9٠-٩۰-۹]{1,4})")
_CLITICS = ("و", "ب", "ل", "ف")


def _month_at(words: list[str], idx: int) -> tuple[str, int, int, bool] | None:
    """The month named at ``words[idx]``: (calendar, number, words it takes, unambiguous)."""
    for calendar, names, number in dw.MONTHS:
        width = len(names)
        window = tuple(words[idx : idx + width])
        if window == names:
            return calendar, number, width, False
        if width != 1 or not window:
            continue
        word = window[0]
        # Glued to ماه: "شهریورماه", "آبان‌ماه", "دیماه" (folding drops the ZWNJ).
        if calendar == "solar_hijri" and word == names[0] + dw.MAH:
            return calendar, number, 1, True
        # A proclitic: "وتیر", "بيناير" (not لشهر: a name of three letters or more).
        if word[:1] in _CLITICS and word[1:] == names[0] and len(names[0]) >= 3:
            return calendar, number, 1, False
    return None


def _day_before(raw: list[str], words: list[str], idx: int) -> int | None:
    """The day of the month written before the month name at ``words[idx]``."""
    j = idx - 1
    while j >= 0 and words[j] in dw.BETWEEN_DAY_AND_MONTH and j >= idx - 2:
        j -= 1  # "24 من يونيو", "27 من شهر رمضان"
    if j < 0:
        return None
    token = to_ascii_digits(raw[j])
    if token.isdigit():
        return int(token) if 1 <= int(token) <= 31 else None
    if words[j] in dw.FOLDED_ORDINALS:
        # "بیست و هفتم" = 27: a ten, و, a unit ordinal.
        unit = dw.FOLDED_ORDINALS[words[j]]
        if j >= 2 and words[j - 1] == "و":
            return dw.FOLDED_TENS.get(words[j - 2], 0) + unit
        return unit
    return None


def _year_after(raw: list[str], words: list[str], idx: int, calendar: str) -> int | None:
    """The year written after the month name that ends before ``words[idx]``."""
    j = idx
    for _ in range(4):
        if j >= len(words):
            return None
        if words[j] == "/" and j + 1 < len(words) and _month_at(words, j + 1):
            j += 1 + _month_at(words, j + 1)[2]  # type: ignore[index]
            continue  # "2 أكتوبر/تشرين الأول 2018"
        if words[j] in dw.BETWEEN_MONTH_AND_YEAR:
            j += 1
            continue
        break
    if j >= len(words):
        return None
    token = to_ascii_digits(raw[j])
    if not token.isdigit():
        return None
    if len(token) == 4:
        return int(token)
    if len(token) == 2 and calendar == "solar_hijri" and _ends_phrase(words, j + 1):
        # "30 مهر ماه 94": Iranian papers drop the century; 00-30 are the 1400s.
        return (1400 if int(token) <= 30 else 1300) + int(token)
    return None


# After a two-digit year the phrase ends: "مهر ۹۴ در", not "مهر ۱۰ نفر" (ten people).
_AFTER_SHORT_YEAR = frozenset(fold(w) for w in ("و", "در", "به", "از", "که", "تا", "را", "با")) | {
    "،",
    ",",
    "/",
}


def _ends_phrase(words: list[str], j: int) -> bool:
    return j >= len(words) or words[j] in _AFTER_SHORT_YEAR


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

    raw = _TOKEN.findall(text)
    words = [fold(w) if w not in "/،," else w for w in raw]
    calendar: str | None = None
    month: int | None = None
    day: int | None = None
    year: int | None = None
    for idx in range(len(words)):
        found = _month_at(words, idx)
        if found is None:
            continue
        cal, number, width, explicit = found
        d = _day_before(raw, words, idx)
        if d is None and idx >= 2 and words[idx - 1] == "/" and _month_at(words, idx - 2):
            continue  # the second name of "تموز/يوليو": the first one carries the day
        y = _year_after(raw, words, idx + width, cal)
        name = words[idx] if width == 1 else ""
        if name in dw.AMBIGUOUS and not explicit and d is None and y is None:
            continue
        calendar, month, day, year = cal, number, d, y
        break
    if calendar is None:
        years = [int(t) for t in (to_ascii_digits(w) for w in words) if t.isdigit() and len(t) == 4]
        if years and 1900 <= years[0] <= 2100:
            return DateParts("gregorian", years[0], None, None, f"{years[0]:04d}")
        if years and 1300 <= years[0] <= 1500 and _SOLAR_MARK.search(text):
            return DateParts("solar_hijri", years[0], None, None, None)
        if years and 1300 <= years[0] <= 1500 and _LUNAR_MARK.search(text):
            return DateParts("lunar_hijri", years[0], None, None, None)
        return DateParts(None, None, None, None, None)
    if calendar == "gregorian" and year is not None and 1300 <= year <= 1500:
        # "تیر" would have caught a Solar date; a Gregorian name with a Hijri-range year is a typo.
        year = None
    if calendar == "solar_hijri" and _LUNAR_MARK.search(text) and not _SOLAR_MARK.search(text):
        calendar = "lunar_hijri"
    return DateParts(calendar, year, month, day, _iso(calendar, year, month, day))
