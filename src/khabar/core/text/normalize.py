"""Normalization: one canonical form of an article's text before anything reads it."""

from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------

# Control characters but tab and newline, and BOMs in the middle of concatenated files.
# A regex, not str.translate: translate with a dict is ten times slower on long text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufeff]")


def normalize_text(text: str) -> str:
    """Canonical form of an article's text before anything else reads it.

    NFC, Unix line ends, no control characters or stray BOMs, no trailing
    spaces, at most one blank line in a row. Letters are left alone (no
    yeh/kaf folding here): this text is what the model sees and what evidence
    spans point into. Idempotent.

    >>> normalize_text("سطر اول  \\r\\n\\r\\n\\r\\nسطر دوم\\x00")
    'سطر اول\\n\\nسطر دوم'
    """
    text = unicodedata.normalize("NFC", text)
    text = (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
        .replace("\u2029", "\n\n")
    )
    text = _CONTROLS.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] == "":
                continue
            out.append("")
        else:
            out.append(line)
    while out and out[0] == "":
        out.pop(0)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
