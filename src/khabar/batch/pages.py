"""HTML pages as article text: the main text and title (trafilatura), Persian joiners kept.

trafilatura drops every character that ``str.isprintable()`` refuses, and ZWNJ
(U+200C) and ZWJ (U+200D) are format characters: Persian lost every ZWNJ of an
HTML page (مقام‌های became مقامهای, می‌رود became میرود, 9 of 9 on a BBC Persian
page) while the same text as .txt or .jsonl kept them. Every format character
of the page (ZWNJ, ZWJ, and the LRM or RLM some writers type in their place,
as in دست\u200eدست) now crosses trafilatura as a printable stand-in and is put
back after, so a page yields the text its .txt would.
"""

from __future__ import annotations

import re
import sys
import unicodedata

from khabar.errors import EmptyArticleError

__all__ = ["html_main_text", "looks_like_html"]


def looks_like_html(text: str) -> bool:
    """Whether ``text`` is an HTML page (a doctype, an html tag, or a head or body near the top)."""
    head = text.lstrip("\ufeff \t\r\n")[:512].lower()
    return head.startswith(("<!doctype html", "<html")) or (
        head.startswith("<") and ("<body" in head or "<head" in head)
    )


# Invisible format characters (Unicode category Cf) as characters or as the entities pages
# write them with: &zwnj; &#8204; &#x200c; (and &zwj; &lrm; &rlm; &shy;).
_FORMAT_NAMES = {
    "zwnj": "\u200c",
    "zwj": "\u200d",
    "lrm": "\u200e",
    "rlm": "\u200f",
    "shy": "\u00ad",
}
_FORMAT_ENTITY = re.compile(r"&(?:(zwnj|zwj|lrm|rlm|shy)|#0*(\d{1,7})|#[xX]0*([0-9a-fA-F]{1,6}));")
# Their stand-ins: letters (trafilatura keeps letters inside a word, where a joiner sits,
# while it may turn punctuation into spaces) of the Gothic block, which no news page uses.
_STAND_INS = [chr(c) for c in range(0x10330, 0x1034B)]


def _entity_char(match: re.Match[str]) -> str | None:
    name, dec, hexa = match.groups()
    if name:
        return _FORMAT_NAMES[name]
    code = int(dec) if dec else int(hexa, 16)
    return chr(code) if code <= sys.maxunicode and unicodedata.category(chr(code)) == "Cf" else None


def _protect_format_chars(html: str) -> tuple[str, dict[str, str]]:
    """``html`` with its format characters replaced by printable stand-ins, and the way back.

    Stand-ins are letters absent from the page; should a page hold more distinct
    format characters than there are free stand-ins, the rest go unprotected.
    """
    found = {c for c in html if unicodedata.category(c) == "Cf"}
    found |= {c for m in _FORMAT_ENTITY.finditer(html) if (c := _entity_char(m))}
    free = iter([c for c in _STAND_INS if c not in html])
    stand_in = {char: letter for char, letter in zip(sorted(found), free, strict=False)}
    if not stand_in:
        return html, {}

    def entity(match: re.Match[str]) -> str:
        char = _entity_char(match)
        return stand_in.get(char, match.group()) if char else match.group()

    html = _FORMAT_ENTITY.sub(entity, html)
    html = html.translate({ord(char): letter for char, letter in stand_in.items()})
    return html, {letter: char for char, letter in stand_in.items()}


def _restore(text: str, back: dict[str, str]) -> str:
    return text.translate({ord(letter): char for letter, char in back.items()}) if back else text


def html_main_text(html: str, source: str) -> tuple[str, str | None]:
    """The page's main text (title first) and title, via trafilatura; ZWNJ and ZWJ kept."""
    # Imported here: trafilatura (lxml, justext...) is slow to import and only HTML needs it.
    import trafilatura

    html, back = _protect_format_chars(html)
    doc = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True)
    body = str(getattr(doc, "text", None) or "").strip() if doc is not None else ""
    title = str(getattr(doc, "title", None) or "").strip() if doc is not None else ""
    body, title = _restore(body, back), _restore(title, back)
    if not body:
        raise EmptyArticleError(
            f"{source}: no article text found in the HTML page (trafilatura extracted nothing)",
            hint="The page may be a JavaScript shell or an index page; save the article's text instead.",
        )
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}"
    return body, title or None
