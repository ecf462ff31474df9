"""The text layer: fold, decode, normalize, detect the language, strip boilerplate, truncate."""

from __future__ import annotations

from .boilerplate import CleanedArticle, clean_article
from .decode import Decoded, decode_bytes
from .fold import fold, fold_with_map, to_ascii_digits
from .language import detect_language
from .normalize import normalize_text
from .truncate import truncate

__all__ = [
    "CleanedArticle",
    "Decoded",
    "clean_article",
    "decode_bytes",
    "detect_language",
    "fold",
    "fold_with_map",
    "normalize_text",
    "to_ascii_digits",
    "truncate",
]
