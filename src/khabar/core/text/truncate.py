"""Truncation at a paragraph or sentence end."""

from __future__ import annotations


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_chars`` at a paragraph or sentence end; True when cut.

    >>> truncate("جملة أولى. جملة ثانية.", 12)
    ('جملة أولى.', True)
    """
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    for sep in ("\n\n", "\n", ". ", "。", "؟ ", "! ", ".", "؟", " "):
        cut = head.rfind(sep)
        if cut >= max_chars // 2:
            return head[: cut + len(sep.rstrip()) if sep.strip() else cut].rstrip(), True
    return head.rstrip(), True
