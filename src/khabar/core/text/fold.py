"""Folding: the matching key shared by grounding and evaluation.

``fold`` removes every difference that separates a scraped page from a model's copy
of it: Arabic vs Persian yeh and kaf, hamza-carrying alefs, ZWNJ and whitespace
(present, absent or swapped for each other), diacritics, tatweel, punctuation and
quotation-mark styles, Persian/Arabic-Indic digits, case.
"""

from __future__ import annotations

import functools
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
    "ە": "ه",
}


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
    """
    return "".join(map(_fold_char, text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``.

    The map lets a match in folded space be reported as a span of the original.
    """
    # map() and a comprehension rather than an append loop: this runs on every article.
    parts = list(map(_fold_char, text))
    index = [i for i, part in enumerate(parts) for _ in part]
    return "".join(parts), index
