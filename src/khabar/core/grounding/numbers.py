"""Numbers as a text states them: digits in any script, scale words, number words."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..digest import NumberFact, Span
from ..text.fold import fold, to_ascii_digits

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
