"""Folding: the matching key shared by grounding and evaluation.

``fold`` removes every difference that separates a scraped page from a model's copy
of it: Arabic vs Persian yeh and kaf, hamza-carrying alefs, hamza seats (مسؤول /
مسئول), Urdu heh shapes typed for ه, ZWNJ and whitespace (present, absent or
swapped for each other), diacritics, tatweel, punctuation and quotation-mark
styles, Persian/Arabic-Indic digits, case.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

_LETTERS = {
    "ي": "ی",  # Arabic yeh -> Persian yeh
    "ى": "ی",  # alef maksura
    "ئ": "ی",
    "ك": "ک",  # Arabic kaf -> keheh
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ؤ": "و",
    "ة": "ه",
    "ۀ": "ه",
    "ہ": "ه",
    "ۂ": "ه",  # heh goal with hamza: Urdu's ۀ
    "ۃ": "ه",  # Urdu teh marbuta goal
    "ە": "ه",
    # Do-chashmi heh: Urdu keyboards (and some Persian ones) type it for every ه,
    # so Arabic and Persian typed on them write ھذا and فرھنگ.
    "ھ": "ه",
    # The yeh-hamza + waw ligatures are ئو, which the seat rule below makes وو.
    "\ufbee": "وو",
    "\ufbef": "وو",
}

# Where Arabic seats a hamza on waw before a long u (مسؤول، شؤون، رؤوس، رؤوف),
# Persian seats it on yeh (مسئول، شئون، رئوس، رئوف): ئ before و is the same letter
# as ؤ. Elsewhere ئ stays a yeh (رئيس = رییس). Harakat may stand between.
# Presentation forms (ﺋ ﺌ, ﻭ ﻮ from PDFs) count as the letters NFKC makes of them.
_YEH_SEAT_BEFORE_WAW = re.compile("[ئ\ufe89-\ufe8c](?=[\u064b-\u065f\u0670]*[و\ufeed\ufeee])")


def _seat(text: str) -> str:
    """``text`` with every yeh-seated hamza before waw written on waw (same length)."""
    # The membership tests are C speed; the regex runs only on the few texts with ئ.
    if "ئ" in text or "\ufe8b" in text or "\ufe8c" in text:
        return _YEH_SEAT_BEFORE_WAW.sub("ؤ", text)
    return text


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic (٠-٩) and Persian (۰-۹) digits with ASCII digits.

    >>> to_ascii_digits("۱۷ و ٢٧")
    '17 و 27'
    """
    return text.translate(_DIGITS)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str, depth: int = 0) -> str:
    """The folded form of one character ('' when it does not count for matching)."""
    if ch in _LETTERS:
        return _LETTERS[ch]
    code = ord(ch)
    if code in _DIGITS:
        return _DIGITS[code]
    cat = unicodedata.category(ch)
    # Mn: harakat, shadda, superscript alef, Quranic marks. Cf: ZWNJ, ZWJ, RLM, LRM.
    # Z*: any space. P*: punctuation and every quotation-mark style. Cc: controls.
    if cat in ("Mn", "Cf", "Zs", "Zl", "Zp", "Cc") or cat.startswith("P"):
        return ""
    if ch == "\u0640":  # tatweel (category Lm)
        return ""
    if ch.isspace():
        return ""
    # NFKC turns presentation forms (ﻻ, ﺑ...) and full-width Latin into base letters;
    # what it produces is folded again (¯ becomes a space and a combining macron).
    norm = unicodedata.normalize("NFKC", ch).casefold()
    if norm == ch or depth > 2:
        return norm
    return "".join(_fold_char(c, depth + 1) for c in norm)


def fold(text: str) -> str:
    """Fold ``text`` into its matching key.

    Two strings that a reader would call "the same words" fold to the same key.

    >>> fold("می‌کند") == fold("میکند") == fold("می کند")
    True
    >>> fold("رئيس الجمهورية") == fold("رییس الجمهوریه")
    True
    >>> fold("مسؤول") == fold("مسئول")
    True
    """
    return "".join(map(_fold_char, _seat(text)))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``.

    The map lets a match in folded space be reported as a span of the original.
    """
    # map() and a comprehension rather than an append loop: this runs on every article.
    # _seat keeps the length, so indices into its result are indices into ``text``.
    parts = list(map(_fold_char, _seat(text)))
    index = [i for i, part in enumerate(parts) for _ in part]
    return "".join(parts), index
