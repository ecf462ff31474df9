"""Dates as written: Gregorian, Solar Hijri and Lunar Hijri, converted to Gregorian in code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

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


# Calendar marks are words of their own: "۱۴۰۳ ه.ش", "1439هـ"; the ه and ش of "کشته
# شدند" (were killed) or the ه and ق of "که قرار" (that is to) are not marks.
_SOLAR_MARK = re.compile(r"(?<![^\W\d_])(?:هـ?\.?\s*ش|هجری\s+شمسی|شمسی|خورشیدی)(?![^\W\d_])")
_LUNAR_MARK = re.compile(
    r"(?<![^\W\d_])(?:هـ(?!\.?\s*ش)|هـ?\.?\s*ق|هجری\s+قمری|قمری|للهجرة|هجرية)(?![^\W\d_])"
)
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
    day = _ordinal_day(words, j)
    return day if day is not None and 1 <= day <= 31 else None


def _ordinal_day(words: list[str], j: int) -> int | None:
    """The day written in ordinal words that end at ``words[j]``."""
    word = words[j]
    if word in dw.FOLDED_ORDINALS:
        # "بیست و هفتم" = 27: a ten, و, a unit ordinal.
        unit = dw.FOLDED_ORDINALS[word]
        if j >= 2 and words[j - 1] == "و":
            return dw.FOLDED_TENS.get(words[j - 2], 0) + unit
        return unit
    if word == dw.ARABIC_TEEN:
        # "الخامس عشر" = 15: Arabic puts the unit first.
        teen_unit = dw.ARABIC_UNIT_ORDINALS.get(words[j - 1]) if j >= 1 else None
        return 10 + teen_unit if teen_unit else None
    glued = word[:1] == "و" and word[1:] in dw.ARABIC_TENS
    if not glued and word not in dw.ARABIC_TENS:
        return None
    ten = dw.ARABIC_TENS[word[1:] if glued else word]
    # "الخامس والعشرين", "الخامس و العشرين" = 25; "العشرين" alone = 20.
    unit_at = j - 1 if glued else (j - 2 if j >= 1 and words[j - 1] == "و" else None)
    if unit_at is None:
        return ten if word.startswith("ال") else None
    tens_unit = dw.ARABIC_UNIT_ORDINALS.get(words[unit_at]) if unit_at >= 0 else None
    return ten + tens_unit if tens_unit else None


def _names_end(words: list[str], j: int) -> int:
    """Where the month name that ends before ``words[j]`` really ends: "تموز/يوليو"."""
    while j + 1 < len(words) and words[j] == "/" and (found := _month_at(words, j + 1)):
        j += 1 + found[2]  # "2 أكتوبر/تشرين الأول 2018"
    return j


def _year_after(
    raw: list[str], words: list[str], idx: int, calendar: str
) -> tuple[int | None, int]:
    """The year written after the month name that ends before ``words[idx]``, and its index."""
    j = _names_end(words, idx)
    for _ in range(4):
        if j >= len(words) or words[j] not in dw.BETWEEN_MONTH_AND_YEAR:
            break
        j += 1
    if j >= len(words):
        return None, -1
    token = to_ascii_digits(raw[j])
    if not token.isdigit():
        return None, -1
    if len(token) == 4:
        return int(token), j
    if len(token) == 2 and calendar == "solar_hijri" and _ends_phrase(words, j + 1):
        # "30 مهر ماه 94": Iranian papers drop the century; 00-30 are the 1400s.
        return (1400 if int(token) <= 30 else 1300) + int(token), j
    return None, -1


# After a two-digit year the phrase ends: "مهر ۹۴ در", not "مهر ۱۰ نفر" (ten people).
_AFTER_SHORT_YEAR = frozenset(fold(w) for w in ("و", "در", "به", "از", "که", "تا", "را", "با")) | {
    "،",
    ",",
    "/",
}


def _ends_phrase(words: list[str], j: int) -> bool:
    return j >= len(words) or words[j] in _AFTER_SHORT_YEAR


def _range_end_year(
    raw: list[str], words: list[str], j: int, calendar: str, month: int
) -> int | None:
    """The year of a range or list whose first month ends before ``words[j]``.

    "از آوریل تا ژوئیه ۲۰۲۵", "من أبريل إلى يوليو 2025", "بين أبريل ويوليو 2025": the
    year written once, after the last month, is the first month's year too, when that
    month comes first in the year (the start of "ديسمبر إلى فبراير 2025" is left without).
    """
    k = _names_end(words, j)
    if k < len(words) and words[k] in dw.RANGE_JOINERS:
        k += 1
    for _ in range(3):  # the end's own day: "من 10 أبريل إلى 5 يوليو 2025"
        if k >= len(words) or _month_at(words, k):
            break
        token = to_ascii_digits(raw[k])
        day_word = words[k] in dw.FOLDED_ORDINALS or words[k] in dw.BETWEEN_DAY_AND_MONTH
        if not ((token.isdigit() and len(token) <= 2) or day_word or words[k] == "و"):
            return None
        k += 1
    found = _month_at(words, k) if k < len(words) else None
    if found is None or found[0] != calendar or found[1] < month:
        return None
    return _year_after(raw, words, k + found[2], calendar)[0]


def _may_after_mah(words: list[str], idx: int) -> bool:
    """Whether می / مه at ``words[idx]`` is May, named after ماه ("ماه می سال گذشته")."""
    if words[idx] not in dw.MAY_NAMES or idx < 1 or words[idx - 1] != dw.MAH:
        return False
    after = words[idx + 1] if idx + 1 < len(words) else ""
    return not after or after in dw.AFTER_MAH_MAY or after.isdigit()


def _month_span(calendar: str, year: int, month: int) -> tuple[date, date] | None:
    """The Gregorian first and last days of a Solar or Lunar Hijri month."""
    try:
        if calendar == "solar_hijri":
            import jdatetime

            first = jdatetime.date(year, month, 1).togregorian()
            nxt = jdatetime.date(year + month // 12, month % 12 + 1, 1).togregorian()
            return first, nxt - timedelta(days=1)
        if calendar == "lunar_hijri":
            from hijridate import Hijri

            start = Hijri(year, month, 1)
            first_g = start.to_gregorian()
            last_g = Hijri(year, month, start.month_length()).to_gregorian()
            return (
                date(first_g.year, first_g.month, first_g.day),
                date(last_g.year, last_g.month, last_g.day),
            )
    except (ValueError, OverflowError, ImportError):
        return None
    return None


def _iso(calendar: str | None, year: int | None, month: int | None, day: int | None) -> str | None:
    if calendar is None or (month is None and year is None):
        return None
    try:
        if calendar == "gregorian":
            if year is not None and month is not None and day is not None:
                return date(year, month, day).isoformat()
            if year is not None and month is not None:
                return f"{year:04d}-{month:02d}"
            if year is not None:
                return f"{year:04d}"
            if month is not None and day is not None:
                return f"--{month:02d}-{day:02d}"
            return f"--{month:02d}" if month is not None else None
        if year is None or month is None:
            return None  # the Gregorian day of a Hijri date shifts with the year
        if day is None:
            # A Hijri month with its year: the Gregorian year (or month) it lies in,
            # when it lies in one; Dey (December-January) lies in two.
            span = _month_span(calendar, year, month)
            if span is None or span[0].year != span[1].year:
                return None
            if span[0].month == span[1].month:
                return f"{span[0].year:04d}-{span[0].month:02d}"
            return f"{span[0].year:04d}"
        if calendar == "solar_hijri":
            import jdatetime

            return str(jdatetime.date(year, month, day).togregorian().isoformat())
        if calendar == "lunar_hijri":
            from hijridate import Hijri

            return str(Hijri(year, month, day).to_gregorian().isoformat())
    except (ValueError, OverflowError, ImportError):
        return None
    return None


def _year_alone(raw: list[str], words: list[str], text: str) -> DateParts:
    """A year written without a month: the first four-digit number, when it is a year.

    Any 1900-2100 is a Gregorian year. Before 1900, a number is a year only in a year
    phrase: after عام / سنة / سال ("منذ عام 1506", "در سال ۱۸۲۲") or before میلادی,
    ميلادي. 1500-1899 is then Gregorian; 1000-1499 is also a Solar or Lunar Hijri year
    (مشروطه ۱۲۸۵, 1439هـ), Gregorian only when marked so, and a Hijri year when marked so.
    """
    at = next((k for k, w in enumerate(raw) if w.isdigit() and len(w) == 4), None)
    if at is None:
        return DateParts(None, None, None, None, None)
    year = int(to_ascii_digits(raw[at]))
    before = words[at - 1] if at > 0 else ""
    after = words[at + 1] if at + 1 < len(words) else ""
    framed = before in dw.ARABIC_YEAR_WORDS or before in dw.PERSIAN_YEAR_WORDS
    if (1900 <= year <= 2100) or (
        (framed and 1500 <= year < 1900) or (after in dw.GREGORIAN_MARKS and 1000 <= year <= 2100)
    ):
        return DateParts("gregorian", year, None, None, f"{year:04d}")
    if 1000 <= year <= 1500 and _SOLAR_MARK.search(text):
        return DateParts("solar_hijri", year, None, None, None)
    if 1000 <= year <= 1500 and _LUNAR_MARK.search(text):
        return DateParts("lunar_hijri", year, None, None, None)
    return DateParts(None, None, None, None, None)


# A date restated in the other calendar right after it: in parentheses, "۸ خرداد (۲۹
# مه)", or after a dash as day, month and year, "۲۸ تیر ۱۴۰۰ - ۱۹ ژوئیه ۲۰۲۱".
_DIGITS = "0-9٠-٩۰-۹"
_RESTATED = re.compile(
    rf"\s*(?:\(([^()\n]{{1,40}})\)|[-–—]\s*([{_DIGITS}]{{1,2}}\s+[^\W\d_]+(?:\s+[{_DIGITS}]{{2,4}})?))"
)


def _precision(parts: DateParts) -> int:
    """How many of year, month and day the ISO form determines."""
    if parts.iso is None:
        return 0
    return len([p for p in parts.iso.lstrip("-").split("-") if p])


def parse_date(text: str) -> DateParts:
    """Parse a date as written; convert Solar and Lunar Hijri to Gregorian.

    A Solar or Lunar Hijri month with its year and no day gives the Gregorian year
    it lies in (شهریور ۱۳۴۷ is 23 August - 22 September 1968: ``1968``), or the month
    when it lies in one Gregorian month, and nothing when it straddles two years (Dey:
    December-January): the Gregorian month of a Solar month is never certain. A range's
    year applies to its start ("از آوریل تا ژوئیه ۲۰۲۵": ``2025-04``), and a date
    restated in the other calendar in parentheses, or after a dash, gives the ISO form
    when it says more ("۸ خرداد (۲۹ مه)": ``--05-29``).

    >>> parse_date("27 يناير").iso
    '--01-27'
    >>> parse_date("هفتم تیر ۱۴۰۳").iso
    '2024-06-27'
    >>> parse_date("هفتم تیر").month, parse_date("هفتم تیر").iso
    (4, None)
    >>> parse_date("شباط/فبراير 2022").iso
    '2022-02'
    >>> parse_date("زلزله شهریور ۴۷").iso
    '1968'
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

    matches = list(_TOKEN.finditer(text))
    raw = [to_ascii_digits(m.group()) for m in matches]
    words = [fold(w) if w not in "/،," else w for w in raw]
    for idx in range(len(words)):
        found = _month_at(words, idx)
        if found is None:
            continue
        cal, number, width, explicit = found
        d = _day_before(raw, words, idx)
        if d is None and idx >= 2 and words[idx - 1] == "/" and _month_at(words, idx - 2):
            continue  # the second name of "تموز/يوليو": the first one carries the day
        y, at = _year_after(raw, words, idx + width, cal)
        name = words[idx] if width == 1 else ""
        alone = name in dw.AMBIGUOUS and not explicit and d is None and y is None
        if alone and not _may_after_mah(words, idx):
            continue  # مه "fog", می the verb prefix, مهر "seal": a month only in a date
        last = at if at >= 0 else _names_end(words, idx + width) - 1
        if y is None:
            y = _range_end_year(raw, words, idx + width, cal, number)
        parts = _finish(text, cal, y, number, d)
        restated = _RESTATED.match(text, matches[last].end())
        if restated:
            other = parse_date(restated.group(1) or restated.group(2))
            more = _precision(other) > _precision(parts)
            if more and other.month is not None and other.calendar not in (None, parts.calendar):
                return other
        return parts
    return _year_alone(raw, words, text)


def _finish(text: str, calendar: str, year: int | None, month: int, day: int | None) -> DateParts:
    if calendar == "gregorian" and year is not None and 1300 <= year <= 1500:
        # "تیر" would have caught a Solar date; a Gregorian name with a Hijri-range year is a typo.
        year = None
    if calendar != "gregorian" and year is not None and not 1000 <= year <= 1500:
        year = None  # "۸ خرداد (۲۰۲۴)": a Solar month with the Gregorian year beside it
    if calendar == "solar_hijri" and _LUNAR_MARK.search(text) and not _SOLAR_MARK.search(text):
        calendar = "lunar_hijri"
    return DateParts(calendar, year, month, day, _iso(calendar, year, month, day))
