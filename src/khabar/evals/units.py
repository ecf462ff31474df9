"""Units of numbers, reduced to a class that two spellings of the same unit share.

A digest's ``unit`` is free text: the schema asks for an ISO 4217 code or an
English unit, and models write "USD", "dollars", "US$", "%", "per cent",
"persons", "soldiers", "km"... :func:`unit_class` maps each to one class:

* a currency: its ISO 4217 code (``USD``, ``EUR``, ``IRR``...);
* ``percent``;
* ``people`` for words that count human beings (people, persons, soldiers,
  civilians, migrants...);
* ``count`` for a bare count (no unit) and for units that only name what is
  counted ("agreements", "countries", "companies"): what is counted is the
  ``counts`` field's business, scored loosely on its own;
* a measure's base name (``km``, ``kg``, ``tonne``, ``day``, ``year``,
  ``magnitude``, ``times``...); a singular unit not listed is its own class.

So "61 billion USD" and "61 billion dollars" agree, "27 countries" and a bare
27 agree, and 10,000 people against 10,000 USD do not.
"""

from __future__ import annotations

import re

__all__ = ["COUNT", "PEOPLE", "PERCENT", "unit_class"]

PERCENT = "percent"
PEOPLE = "people"
COUNT = "count"

_CURRENCY_WORDS: dict[str, str] = {
    "$": "USD",
    "us$": "USD",
    "dollar": "USD",
    "us dollar": "USD",
    "american dollar": "USD",
    "€": "EUR",
    "euro": "EUR",
    "£": "GBP",
    "pound sterling": "GBP",
    "sterling": "GBP",
    "british pound": "GBP",
    "rial": "IRR",
    "iranian rial": "IRR",
    "toman": "IRT",
    "riyal": "SAR",
    "saudi riyal": "SAR",
    "egyptian pound": "EGP",
    "dirham": "AED",
    "ruble": "RUB",
    "rouble": "RUB",
    "yen": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "lira": "TRY",
    "turkish lira": "TRY",
    "hryvnia": "UAH",
    "shekel": "ILS",
    "dinar": "IQD",
    "iraqi dinar": "IQD",
}
# Codes people write: a three-letter upper-case unit that is one of these is a currency.
_CURRENCY_CODES = frozenset(
    {*_CURRENCY_WORDS.values(), "CHF", "CAD", "AUD", "INR", "KWD", "QAR", "JOD", "LBP", "SYP"}
)
_PERCENT_WORDS = frozenset({"%", "percent", "per cent", "pct", "percentage", "percentage point"})
_PEOPLE = """people person persons individual individuals civilian civilians soldier soldiers
    troop troops fighter fighters migrant migrants refugee refugees worker workers
    casualty casualties death deaths victim victims prisoner prisoners detainee
    detainees hostage hostages child children man men woman women resident residents
    citizen citizens foreigner foreigners student students member members"""
_PEOPLE_WORDS = frozenset(_PEOPLE.split())
_MEASURES: dict[str, str] = {
    "kilometre": "km",
    "kilometer": "km",
    "km": "km",
    "metre": "m",
    "meter": "m",
    "m": "m",
    "mile": "mile",
    "kilogram": "kg",
    "kg": "kg",
    "ton": "tonne",
    "tonne": "tonne",
    "metric ton": "tonne",
    "barrel": "barrel",
    "bpd": "barrel per day",
    "barrels per day": "barrel per day",
    "hectare": "hectare",
    "square kilometre": "km2",
    "square kilometer": "km2",
    "km2": "km2",
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
    "megawatt": "MW",
    "mw": "MW",
    "km/h": "km/h",
    "kph": "km/h",
    "kilometre per hour": "km/h",
    "kilometer per hour": "km/h",
    "mph": "mph",
    "mile per hour": "mph",
    "milligram": "mg",
    "mg": "mg",
    "gram": "g",
    "g": "g",
    "litre": "litre",
    "liter": "litre",
    "magnitude": "magnitude",
    "degree": "degree",
    "degree celsius": "degree Celsius",
    "celsius": "degree Celsius",
    "°c": "degree Celsius",
    "time": "times",
}
_SCALE = re.compile(r"\b(?:thousand|million|billion|trillion|bn|mn|m)\b\.?", re.IGNORECASE)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def unit_class(unit: str | None) -> str:
    """The class of a unit as written (see the module docstring).

    >>> [unit_class(u) for u in ("USD", "US dollars", "$", "%", "per cent", None, "countries")]
    ['USD', 'USD', 'USD', 'percent', 'percent', 'count', 'count']
    >>> unit_class("soldiers"), unit_class("kilometres"), unit_class("billion euros")
    ('people', 'km', 'EUR')
    """
    if unit is None or not unit.strip():
        return COUNT
    raw = unit.strip()
    if raw.upper() in _CURRENCY_CODES and (raw.isupper() or len(raw) == 3):
        return raw.upper()
    # "billion USD", "million people": the scale belongs in the value, not the unit.
    text = " ".join(_SCALE.sub(" ", raw).split()).casefold().rstrip(".")
    if not text:
        return COUNT
    if text.upper() in _CURRENCY_CODES:
        return text.upper()
    words = [_singular(w) for w in text.replace("-", " ").split()]
    phrase = " ".join(words)
    for candidate in (text, phrase):
        if candidate in _PERCENT_WORDS:
            return PERCENT
        if candidate in _CURRENCY_WORDS:
            return _CURRENCY_WORDS[candidate]
        if candidate in _MEASURES:
            return _MEASURES[candidate]
    if words[-1] in _CURRENCY_WORDS:  # "Egyptian pounds" failing above, "new shekels"
        return _CURRENCY_WORDS[words[-1]]
    if any(w in _PEOPLE_WORDS or w + "s" in _PEOPLE_WORDS for w in words):
        return PEOPLE
    if words[-1] in _MEASURES:
        return _MEASURES[words[-1]]
    # A plural noun names what is counted ("countries", "agreements"): a count, as a bare
    # number is. A singular one is some unit we do not know: itself.
    return COUNT if text.endswith("s") else phrase
