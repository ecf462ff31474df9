"""Decoding bytes into text: BOMs, UTF-8, Windows-1256, UTF-16, binary detection."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """Bytes read as text: the text, the encoding used, and what was worth a warning."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# File signatures of formats people scrape next to articles by mistake.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or .docx/.xlsx)"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x7fELF", "an executable"),
)


def _arabic_letter_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff") / len(letters)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    return bad / len(text)


def decode_bytes(data: bytes, *, source: str) -> Decoded:
    """Decode the bytes of an article, or raise an :class:`~khabar.errors.InputError` naming ``source``.

    Order: a byte-order mark; UTF-8; Windows-1256 when that yields Arabic script
    (old Arabic and Persian sites still serve it); UTF-16 without a mark; then
    charset-normalizer's best guess. Mixed encodings (a UTF-8 file with a few
    stray bytes) decode with the bad bytes replaced and a warning saying how many.
    Binary input (NUL bytes, images, archives) raises ``BinaryInputError``.

    >>> decode_bytes("سلام".encode("utf-8"), source="a.txt").encoding
    'utf-8'
    >>> decode_bytes("خبر عاجل".encode("cp1256"), source="b.txt").encoding
    'windows-1256'
    """
    from khabar.errors import BinaryInputError, DecodeError

    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise BinaryInputError(f"{source}: this is {what}, not text")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"{source}: starts with a {encoding} byte-order mark but is not {encoding}"
                ) from exc

    if b"\x00" in data:
        # UTF-16 without a BOM is the one text encoding full of NULs.
        for encoding in ("utf-16-le", "utf-16-be"):
            if len(data) % 2:
                break
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if (
                "\x00" not in text
                and _control_share(text) < 0.01
                and any(ch.isalpha() for ch in text)
            ):
                return Decoded(
                    text, encoding, (f"{source}: read as {encoding} (no byte-order mark)",)
                )
        raise BinaryInputError(f"{source}: holds NUL bytes; this is a binary file, not text")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _control_share(text) > 0.05:
            raise BinaryInputError(f"{source}: mostly control characters; this is not text")
        return Decoded(text, "utf-8")

    # Mostly UTF-8 with a few bad bytes: keep the text, say how much was lost.
    lossy = data.decode("utf-8", errors="replace")
    bad = lossy.count("\ufffd")
    if bad and bad <= max(3, len(lossy) // 200):
        return Decoded(
            lossy,
            "utf-8",
            (f"{source}: mixed encodings; {bad} invalid byte sequences replaced with U+FFFD",),
        )

    strict_cp1256: str | None
    try:
        strict_cp1256 = data.decode("cp1256")
    except UnicodeDecodeError:
        strict_cp1256 = None
    if strict_cp1256 is not None and _arabic_letter_share(strict_cp1256) > 0.5:
        return Decoded(
            strict_cp1256, "windows-1256", (f"{source}: not UTF-8; decoded as Windows-1256",)
        )

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        text = str(best)
        if _control_share(text) < 0.01:
            return Decoded(
                text, best.encoding, (f"{source}: not UTF-8; decoded as {best.encoding} (a guess)",)
            )
    raise DecodeError(f"{source}: the bytes are in no text encoding khabar recognizes")
