"""Escaping text from models and articles for Markdown documents.

Shared by the batch report (:mod:`khabar.batch.report`) and the eval report
(:mod:`khabar.evals.render`), which must not import each other. Pure functions:
model output and article text become inert text, so a ``|`` cannot break a
table and a ``<script>`` stays text.
"""

from __future__ import annotations

__all__ = ["escape_html", "markdown_cell"]


def escape_html(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities: Markdown renderers pass raw HTML through.

    >>> escape_html("<b>R&D</b>")
    '&lt;b&gt;R&amp;D&lt;/b&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_cell(value: object) -> str:
    """``value`` as one Markdown table cell: HTML, ``|`` and ``\\`` escaped, lines joined
    with ``<br>``, ``—`` when empty.

    >>> markdown_cell("a | b\\nc")
    'a \\\\| b<br>c'
    >>> markdown_cell(None)
    '—'
    """
    if value is None or value == "":
        return "—"
    text = escape_html(str(value)).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(" ".join(line.split()) for line in text.splitlines()) or "—"
