"""What a directory holds: the files a walk reads, the ones it skips, the ones it never opens.

Shared by :mod:`khabar.batch.inputs` (which reads what the walk yields) and
:mod:`khabar.batch.counting` (which counts it before a run), so the two never
disagree about which files become articles.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from khabar.errors import InputError

__all__ = ["not_text_kind", "os_reason", "special_file_error", "special_kind", "walk"]

# What a directory walk leaves out: formats that are never article text, which a folder of
# scraped pages collects (a page's images, a PDF beside it). Each would otherwise be an
# error record that makes the whole batch exit 1.
_NOT_TEXT_SUFFIXES = frozenset(
    " ".join(
        (
            ".png .jpg .jpeg .gif .webp .bmp .tif .tiff .ico .heic .heif .avif .psd",  # images
            ".pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .epub",  # documents
            ".zip .gz .tgz .bz2 .xz .zst .7z .rar .tar",  # archives
            ".mp3 .m4a .wav .ogg .oga .flac .aac .mp4 .m4v .mov .avi .mkv .webm .wmv",  # media
            ".ttf .otf .woff .woff2 .eot",  # fonts
            ".exe .dll .so .dylib .bin .o .a .class .jar .pyc .whl .dmg .iso .msi .apk",
            ".db .sqlite .sqlite3 .parquet .pkl .pickle .npy .npz .gguf .safetensors",  # data
        )
    ).split()
)
# Files operating systems leave in folders (hidden ones, .DS_Store, are skipped anyway).
_NOT_TEXT_NAMES = frozenset({"thumbs.db", "desktop.ini", "icon\r"})

_SPECIAL_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def not_text_kind(name: str) -> str | None:
    """Why a directory walk skips a file of this name (its suffix, ``.png``), or None to read it.

    Example::

        >>> not_text_kind("photo.JPG"), not_text_kind("Thumbs.db"), not_text_kind("a.txt")
        ('.jpg', 'Thumbs.db', None)
    """
    if name.lower() in _NOT_TEXT_NAMES:
        return name
    suffix = os.path.splitext(name)[1].lower()
    return suffix if suffix in _NOT_TEXT_SUFFIXES else None


def special_kind(mode: int) -> str | None:
    """What a file that is neither regular nor a directory is, in words; None otherwise."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _SPECIAL_KINDS.get(stat.S_IFMT(mode), "a special file")


def special_file_error(source: str, what: str) -> InputError:
    """The error of a FIFO, socket or device: named, never opened."""
    return InputError(
        f"{source}: this is {what}, not a regular file; khabar never opens special files, "
        "so it was not read",
        hint="To summarize what a program or device writes, pipe it into `khabar summarize -`.",
    )


_Problem = Callable[[str], InputError]


def walk(root: Path, seen: set[str]) -> Iterator[tuple[Path, _Problem | None]]:
    """Every non-directory entry under ``root``, sorted, hidden names skipped.

    Symbolic links to directories are followed once (``seen`` holds the real
    paths visited, so a link loop ends); what cannot be listed is reported, and
    special files come with their error (given the source to name), unopened.
    """
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        why = os_reason(exc)
        yield root, lambda source: InputError(f"{source}: cannot list the directory: {why}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            yield path, _special_problem(entry)
            continue
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        yield from walk(path, seen)


def _special_problem(entry: os.DirEntry[str]) -> _Problem | None:
    """The error of a FIFO, socket or device (through links too), found without opening it."""
    try:
        # is_file() costs no system call in the common case; a broken link raises,
        # and is then read like a file, which says what is wrong.
        what = None if entry.is_file() else special_kind(entry.stat().st_mode)
    except OSError:
        what = None
    return None if what is None else lambda source: special_file_error(source, what)


def os_reason(exc: OSError) -> str:
    """An OSError's reason in lower case, for a message (``permission denied``)."""
    return (exc.strerror or str(exc)).lower()
