"""Dates as written: Gregorian, Solar Hijri and Lunar Hijri, converted to Gregorian in code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.fold import fold, to_ascii_digits

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
