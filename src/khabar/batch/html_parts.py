"""Small pieces of the HTML report: escaping, tolerant readers of record fields, fact labels.

Everything here treats a record as untrusted JSON: a field may be missing, of
the wrong type or hostile. Readers return a usable value and say what was wrong
(:class:`Problems`) instead of raising, so that one bad record never stops a report.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "FACT_KINDS",
    "KIND_LABELS",
    "Problems",
    "as_dict",
    "as_list",
    "as_str",
    "attr",
    "bdi",
    "clean",
    "esc",
    "fact_label",
    "format_number",
    "lang_attr",
    "language_name",
    "text_dir",
]

FACT_KINDS = ("people", "organizations", "locations", "dates", "numbers", "quotes", "sources")
KIND_LABELS = {
    "people": "People",
    "organizations": "Organizations",
    "locations": "Places",
    "dates": "Dates",
    "numbers": "Numbers",
    "quotes": "Quotes",
    "sources": "Sources cited",
}
_RTL = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug", "dv", "he", "yi"})
_NAMES = {"ar": "Arabic", "fa": "Persian", "en": "English", "ur": "Urdu", "ps": "Pashto"}
_CALENDARS = {"gregorian": "Gregorian", "solar_hijri": "Solar Hijri", "lunar_hijri": "Lunar Hijri"}
_LANG_RE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")

# Code points an HTML document cannot carry as they are: lone surrogates (a JSON
# "\ud800" decodes to one; UTF-8 cannot write it) and C0/C1 controls other than tab,
# newline and CR. Each becomes U+FFFD, one code point for one, so span offsets hold.
_UNWRITABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Problems(list[str]):
    """What was wrong with one record, shown on its page instead of raising."""

    def add(self, message: str) -> None:
        if message not in self:
            self.append(message)


def clean(text: str) -> str:
    """``text`` with unwritable code points replaced one for one (offsets unchanged)."""
    return _UNWRITABLE.sub("\ufffd", text)


def esc(value: object) -> str:
    """Text content, escaped: ``<script>`` stays text; CR kept as a reference so that
    the parser does not fold it (it would shift every offset after it)."""
    return html.escape(clean(str(value)), quote=True).replace("\r", "&#13;")


def attr(value: object) -> str:
    """An attribute value, escaped for a double-quoted attribute."""
    return esc(value).replace("\n", "&#10;")


def bdi(value: object, lang: str | None = None) -> str:
    """Text isolated from its surroundings, so that an Arabic name in an English line
    (or the reverse) keeps its own order and does not reorder its neighbours."""
    if lang:
        return f'<bdi dir="{text_dir(lang)}" lang="{lang}">{esc(value)}</bdi>'
    return f"<bdi>{esc(value)}</bdi>"


def lang_attr(value: object) -> str | None:
    """A BCP 47-shaped language code, or None: a hostile 'language' never reaches markup."""
    if isinstance(value, str) and _LANG_RE.fullmatch(value):
        return value
    return None


def text_dir(lang: str | None) -> str:
    if lang is None:
        return "auto"
    return "rtl" if lang.split("-")[0].lower() in _RTL else "ltr"


def language_name(lang: str | None) -> str:
    if lang is None:
        return "unknown"
    return _NAMES.get(lang, lang)


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    """A text field: strings as they are, numbers as text, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def format_number(value: object) -> str:
    """A number as a reader checks it: '2,400,000,000 (2.4 billion)'; text for non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return str(value)
    plain = f"{int(number):,}" if number.is_integer() and abs(number) < 1e18 else f"{number:,}"
    for scale, word in _SCALES:
        if abs(number) >= scale:
            return f"{plain} ({number / scale:g} {word})"
    return plain


def _names(f: dict[str, Any], lang: str | None) -> list[str]:
    parts = []
    if as_str(f.get("name_en")):
        parts.append(f"<b>{bdi(f['name_en'])}</b>")
    if as_str(f.get("name_src")):
        parts.append(bdi(f["name_src"], lang))
    return parts


def _person(f: dict[str, Any], lang: str | None) -> list[str]:
    parts = _names(f, lang)
    if as_str(f.get("role")):
        parts.append(f"<i>{bdi(f['role'])}</i>")
    return parts


def _place(f: dict[str, Any], lang: str | None) -> list[str]:
    parts = _names(f, lang)
    if as_str(f.get("kind")):
        parts.append(f"<i>{esc(f['kind'])}</i>")
    return parts


def _date(f: dict[str, Any], lang: str | None) -> list[str]:
    parts = []
    if as_str(f.get("text")):
        parts.append(f'<span class="w">as written</span> <b>{bdi(f["text"], lang)}</b>')
    calendar = as_str(f.get("calendar"))
    ymd = [as_int(f.get(k)) for k in ("year", "month", "day")]
    while ymd and ymd[-1] is None:
        ymd.pop()
    # year/month/day as the calendar reads it; '?' where the article does not say.
    read = "/".join("?" if v is None else str(v) for v in ymd)
    if calendar:
        cal = esc(_CALENDARS.get(calendar, calendar))
        parts.append(f'<span class="w">calendar</span> {cal}' + (f" {esc(read)}" if read else ""))
    iso = as_str(f.get("iso"))
    parts.append(
        f'<span class="w">ISO</span> <code>{esc(iso)}</code>'
        if iso
        else '<span class="w">ISO</span> <i>not determinable</i>'
    )
    if as_str(f.get("refers_to")):
        parts.append(bdi(f["refers_to"]))
    return parts


def _number(f: dict[str, Any], lang: str | None) -> list[str]:
    value = f.get("value")
    unit = as_str(f.get("unit"))
    shown = f"<b>{esc(format_number(value))}</b>" if value is not None else "<i>no value</i>"
    parts = [f'<span class="w">value</span> {shown}' + (f" {bdi(unit)}" if unit else "")]
    if as_str(f.get("counts")):
        parts.append(bdi(f["counts"]))
    return parts


def _quote(f: dict[str, Any], lang: str | None) -> list[str]:
    parts = []
    if as_str(f.get("speaker_en")):
        parts.append(f"<b>{bdi(f['speaker_en'])}</b>")
    if as_str(f.get("text_src")):
        parts.append(f"«{bdi(f['text_src'], lang)}»")
    if as_str(f.get("text_en")):
        parts.append(f"“{bdi(f['text_en'])}”")
    return parts


_LABELS: dict[str, Callable[[dict[str, Any], str | None], list[str]]] = {
    "people": _person,
    "organizations": _names,
    "locations": _place,
    "dates": _date,
    "numbers": _number,
    "quotes": _quote,
    "sources": _names,
}


def fact_label(kind: str, fact: dict[str, Any], lang: str | None) -> str:
    """The fact as one line of HTML (its evidence is shown apart); '?' when nothing is readable."""
    build = _LABELS.get(kind, _names)
    parts = build(fact, lang)
    return " · ".join(parts) if parts else "<i>(no readable fields)</i>"
