"""Reading articles: files, directories, HTML, JSONL/JSON and stdin, as a stream of :class:`Article`.

:func:`iter_articles` never raises for bad input and never skips silently what
the user pointed at: a file it cannot use becomes an :class:`Article` whose
``error`` is an :class:`~khabar.errors.InputError` naming it, and the stream
goes on; a file a directory walk leaves out as not text is reported to
``on_skip`` (and counted by :mod:`khabar.batch.counting`).

What each argument yields:

* a directory: every file under it, recursively, in sorted order; hidden files
  and directories are skipped, and so are files whose name says they are not
  text (images, PDFs, office documents, archives, audio, video, fonts,
  executables: :func:`not_text_kind`), each reported to ``on_skip``; a
  directory with nothing else yields one error Article. Named as an argument,
  such a file is read like any other (and refused when it is binary);
* ``.txt`` / ``.md``: the decoded text (UTF-8, UTF-16, Windows-1256...);
* ``.html`` / ``.htm``: the page's main text (trafilatura), its title first, ZWNJ and
  the other invisible characters of its spelling kept (:mod:`khabar.batch.pages`);
* ``.jsonl``: one article per line (text in ``text_field``); a bad line is an
  error Article named ``file.jsonl:LINE``; the size limit applies per line;
* ``.json``: one object, or a list of objects;
* any other file: sniffed; read as text (or as HTML when it is a page) with a
  warning, or an error Article when it is binary;
* ``-``: stdin, as one article;
* a FIFO, socket or device: an error Article saying what it is, never opened
  (a FIFO blocks forever, a device may act on being opened).

A text with nothing visible (whitespace, controls, zero-width characters,
direction marks, BOMs) is empty.

Ids are stable across runs, which is what lets a rerun resume: a file under a
directory argument is named by its path relative to that directory's parent
(``articles/000_x.txt``); a file argument by its normalized path; a JSON record
by its ``id_field``, else ``file.jsonl#LINE`` (``file.json#N`` for the Nth item
of a list); stdin by ``stdin:`` and the first 12 hex digits of the text's SHA-256.
An id met twice is never merged: the later article becomes ``id#2`` (``#3``...).
A file name that is not UTF-8 is escaped in ids, sources and messages, its
bytes kept in ``Article.source_bytes`` (see :mod:`khabar.batch.store`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from khabar.batch.pages import html_main_text, looks_like_html
from khabar.batch.store import escape_names
from khabar.batch.walk import not_text_kind, os_reason, special_file_error, special_kind, walk
from khabar.core.text import decode_bytes
from khabar.errors import (
    ArticleTooLargeError,
    BinaryInputError,
    DecodeError,
    EmptyArticleError,
    InputError,
    KhabarError,
)

__all__ = ["Article", "iter_articles", "not_text_kind"]

_TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
_JSON_SUFFIXES = frozenset({".json"})
_STDIN_ID = "stdin"

# What UTF-8 cannot encode: lone surrogates (an undecodable name byte is one).
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# A character that shows something: not whitespace, a control, or an invisible
# format character articles carry (soft hyphen, ALM, ZWSP/ZWNJ/ZWJ, LRM/RLM,
# embeddings, overrides, isolates, word joiner, BOM, annotation marks, tags).
_VISIBLE = re.compile(
    r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)

_INVISIBLE_ONLY = "holds only invisible characters (zero-width, direction marks, BOMs)"

_JSON_TYPES: dict[type, str] = {type(None): "null", bool: "a boolean", int: "a number"}
_JSON_TYPES |= {float: "a number", str: "a string", list: "a list", dict: "an object"}


@dataclass
class Article:
    """One article to summarize, or the reason it cannot be.

    Exactly one of ``text`` and ``error`` is set. ``source`` says where the
    article came from in a form a person can open (``data/a.jsonl:12``);
    ``meta`` holds what else the input said about it (a JSON record's other
    fields, the HTML title, the detected encoding). ``source_bytes``: the
    exact bytes of a source that is not UTF-8 (``source`` escapes them).

    Example::

        >>> a = Article(id="a1", source="a1.txt", text="خبر")
        >>> a.error is None, a.warnings, a.meta
        (True, [], {})
    """

    id: str
    source: str
    text: str | None
    error: KhabarError | None = None
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    source_bytes: bytes | None = None


def iter_articles(
    paths: Sequence[str | Path],
    *,
    text_field: str = "text",
    id_field: str = "id",
    max_input_bytes: int = 20_000_000,
    stdin: BinaryIO | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[Article]:
    """Yield the articles found under ``paths``, lazily and in a deterministic order.

    Bad input yields an Article with ``error`` set (an InputError whose
    ``article_id`` is the Article's id); nothing is raised and nothing the
    user pointed at is skipped silently: ``on_skip`` is called with the source of
    each file a directory walk leaves out as not text (see the module docstring).
    ``stdin`` replaces ``sys.stdin.buffer`` for the ``-`` argument.

    Example::

        >>> for article in iter_articles(["evals/articles"]):      # doctest: +SKIP
        ...     print(article.id, article.error or len(article.text))
        articles/000_de612b54d8028aa2.txt 4608
    """
    if isinstance(paths, (str, Path)):
        # One path passed bare: iterating a string would read its characters as paths.
        paths = [paths]
    reader = _Reader(
        text_field=text_field,
        id_field=id_field,
        max_bytes=max_input_bytes,
        stdin=stdin,
        on_skip=on_skip,
    )
    claimed: set[str] = set()
    for raw in paths:
        for article in reader.read_argument(str(raw)):
            escape_names(article)
            article.id = _claim(claimed, article.id)
            if article.error is not None:
                article.error.article_id = article.id
            yield article


def _claim(claimed: set[str], wanted: str) -> str:
    """``wanted``, or ``wanted#2``, ``#3``... when it is taken: two articles never share an id."""
    candidate, n = wanted, 1
    while candidate in claimed:
        n += 1
        candidate = f"{wanted}#{n}"
    claimed.add(candidate)
    return candidate


def _normalize(path: str) -> str:
    """A path as an id: normalized, POSIX separators."""
    return os.path.normpath(path).replace(os.sep, "/")


def _failed(article_id: str, source: str, error: KhabarError) -> Article:
    error.article_id = article_id
    return Article(id=article_id, source=source, text=None, error=error)


def _emptiness(text: str) -> str | None:
    """Why ``text`` holds nothing to summarize, or None when something in it is visible."""
    if _VISIBLE.search(text) is not None:
        return None
    return "is empty or only whitespace" if not text.strip() else _INVISIBLE_ONLY


@dataclass
class _Reader:
    text_field: str
    id_field: str
    max_bytes: int
    stdin: BinaryIO | None
    on_skip: Callable[[str], None] | None = None

    # --- arguments ----------------------------------------------------------------
    def read_argument(self, raw: str) -> Iterator[Article]:
        if raw == "-":
            yield self._read_stdin()
            return
        article_id = _normalize(raw)
        try:
            info = os.stat(raw)
        except FileNotFoundError:
            yield _failed(article_id, raw, InputError(f"{raw}: no such file or directory"))
            return
        except OSError as exc:
            yield _failed(article_id, raw, InputError(f"{raw}: cannot access: {os_reason(exc)}"))
            return
        what = special_kind(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            yield from self._read_directory(raw, article_id)
        elif what is not None:
            yield _failed(article_id, raw, special_file_error(raw, what))
        else:
            yield from self._read_file(Path(raw), article_id, article_id)

    def _read_directory(self, raw: str, dir_id: str) -> Iterator[Article]:
        root = Path(os.path.abspath(raw))
        # Ids are relative to the directory's parent so that they keep the
        # directory's own name ("articles/x.txt") whatever the working directory.
        base = root.parent
        found = False
        skipped: list[str] = []
        for path, problem in walk(root, {os.path.realpath(root)}):
            rel = path.relative_to(base).as_posix()
            source = _normalize(os.path.join(raw, path.relative_to(root)))
            kind = not_text_kind(path.name) if path != root else None
            if kind is not None:
                skipped.append(kind)
                if self.on_skip is not None:
                    self.on_skip(source)
                continue
            found = True
            if problem is not None:
                yield _failed(rel, source, problem(source))
            else:
                yield from self._read_file(path, rel, source)
        if not found:
            n, kinds = len(skipped), ", ".join(sorted(set(skipped)))
            also = (
                f"; {n} {'file that is' if n == 1 else 'files that are'} not text "
                f"({kinds}) {'was' if n == 1 else 'were'} left out"
                if skipped
                else ""
            )
            error = InputError(
                f"{raw}: the directory holds no articles (hidden files are skipped{also})",
                hint="Point khabar at the files or directories that hold the articles.",
            )
            yield _failed(dir_id, raw, error)

    # --- one file ---------------------------------------------------------------------
    def _read_file(self, path: Path, article_id: str, source: str) -> Iterator[Article]:
        suffix = path.suffix.lower()
        if suffix in _JSONL_SUFFIXES:
            yield from self._read_jsonl(path, article_id, source)
            return
        try:
            data = self._read_bytes(path, source)
            if suffix in _JSON_SUFFIXES:
                yield from self._read_json(data, article_id, source)
                return
            article = self._text_article(data, article_id, source, suffix)
        except InputError as exc:
            if isinstance(exc, ArticleTooLargeError) and suffix in _JSON_SUFFIXES:
                exc.hint = "Convert it to JSONL (one article per line): the limit then applies per article."
            yield _failed(article_id, source, exc)
            return
        yield article

    def _read_bytes(self, path: Path, source: str) -> bytes:
        """The file's bytes; refuses one over the limit before reading it."""
        try:
            with self._open(path, source) as f:
                info = os.fstat(f.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_size > self.max_bytes:
                    raise self._too_large(source, info.st_size)
                # Bounded even when stat says nothing (a pipe, a growing file).
                data = f.read(self.max_bytes + 1)
        except OSError as exc:
            raise _read_error(exc, source) from exc
        if len(data) > self.max_bytes:
            raise self._too_large(source, None)
        return data

    def _open(self, path: Path, source: str) -> BinaryIO:
        """``path`` open for reading; an InputError when it cannot be, or is a special file."""
        # Non-blocking: a file that became a FIFO since the walk looked must not hang the run.
        nonblocking = getattr(os, "O_NONBLOCK", 0)
        try:
            f = open(path, "rb", opener=lambda p, flags: os.open(p, flags | nonblocking))  # noqa: SIM115
        except OSError as exc:
            raise _read_error(exc, source) from exc
        what = special_kind(os.fstat(f.fileno()).st_mode)
        if what is not None:
            f.close()
            raise special_file_error(source, what)
        return f

    def _too_large(self, source: str, size: int | None) -> ArticleTooLargeError:
        what = f"{size:,} bytes" if size is not None else "larger than that"
        return ArticleTooLargeError(
            f"{source}: {what}, over the {self.max_bytes:,}-byte input limit (KHABAR_MAX_INPUT_BYTES)"
        )

    def _text_article(self, data: bytes, article_id: str, source: str, suffix: str) -> Article:
        decoded = decode_bytes(data, source=source)
        warnings = list(decoded.warnings)
        meta: dict[str, Any] = {"encoding": decoded.encoding}
        if suffix in _HTML_SUFFIXES:
            kind = "html"
        elif suffix in _TEXT_SUFFIXES:
            kind = "text"
        else:
            # An unknown extension is read, never skipped; the warning says how.
            kind = "html" if looks_like_html(decoded.text) else "text"
            what = f"extension {suffix!r}" if suffix else "no extension"
            warnings.append(
                f"{source}: {what}; read as {'an HTML page' if kind == 'html' else 'plain text'}"
            )
        text = decoded.text
        if kind == "html":
            text, title = html_main_text(text, source)
            if title:
                meta["title"] = title
        meta["format"] = kind
        empty = _emptiness(text)
        if empty is not None:
            raise EmptyArticleError(f"{source}: the file {empty}")
        return Article(id=article_id, source=source, text=text, warnings=warnings, meta=meta)

    # --- JSON ----------------------------------------------------------------------------
    def _read_jsonl(self, path: Path, file_id: str, source: str) -> Iterator[Article]:
        try:
            f = self._open(path, source)
        except InputError as exc:
            yield _failed(file_id, source, exc)
            return
        records = 0
        with f:
            lineno = 0
            while True:
                # The limit applies per record: a JSONL of 100k articles is fine,
                # one 1 GB line is not, and is never read into memory whole.
                line = f.readline(self.max_bytes + 2)
                if not line:
                    break
                lineno += 1
                default_id = f"{file_id}#{lineno}"
                where = f"{source}:{lineno}"
                if len(line) - line.endswith(b"\n") > self.max_bytes:
                    _skip_rest_of_line(f, line)
                    records += 1
                    yield _failed(default_id, where, self._too_large(where, None))
                    continue
                if lineno == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if not line.strip():
                    continue
                records += 1
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    error = DecodeError(f"{where}: the line is not valid UTF-8")
                    yield _failed(default_id, where, error)
                    continue
                try:
                    obj = json.loads(text)
                except (ValueError, RecursionError) as exc:
                    yield _failed(default_id, where, _json_error(exc, where, lines=False))
                    continue
                yield self._record_article(obj, default_id, where)
        if records == 0:
            yield _failed(
                file_id, source, EmptyArticleError(f"{source}: the file holds no records")
            )

    def _read_json(self, data: bytes, file_id: str, source: str) -> Iterator[Article]:
        try:
            obj = json.loads(data)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"{source}: not valid UTF-8/16/32 JSON text") from exc
        except (ValueError, RecursionError) as exc:
            if not data.strip():
                raise EmptyArticleError(f"{source}: the file is empty") from exc
            raise _json_error(exc, source, lines=True) from exc
        if isinstance(obj, dict):
            yield self._record_article(obj, file_id, source)
        elif isinstance(obj, list):
            if not obj:
                raise EmptyArticleError(f"{source}: the list holds no articles")
            for n, item in enumerate(obj, start=1):
                yield self._record_article(item, f"{file_id}#{n}", f"{source}#{n}")
        else:
            raise InputError(
                f"{source}: expected a JSON object or a list of objects, got {_json_type(obj)}"
            )

    def _record_article(self, obj: object, default_id: str, source: str) -> Article:
        """One JSON record as an Article (an error Article when it has no usable text)."""
        if not isinstance(obj, dict):
            what = f"expected a JSON object with a {self.text_field!r} field, got {_json_type(obj)}"
            return _failed(default_id, source, InputError(f"{source}: {what}"))
        warnings: list[str] = []
        article_id = default_id
        raw_id = obj.get(self.id_field)
        if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
            article_id = str(raw_id).strip()
        elif raw_id is not None:
            warnings.append(
                f"{source}: {self.id_field!r} is {_json_type(raw_id)}, not a usable id; "
                f"named {default_id}"
            )
        meta = {k: v for k, v in obj.items() if k != self.text_field}
        text = obj.get(self.text_field)
        error: InputError | None = None
        if self.text_field not in obj:
            fields = ", ".join(repr(k) for k in list(obj)[:12]) or "none"
            error = InputError(
                f"{source}: the record has no {self.text_field!r} field (its fields: {fields})",
                hint="Name the field that holds the article with --text-field.",
            )
        elif not isinstance(text, str):
            error = InputError(f"{source}: {self.text_field!r} is {_json_type(text)}, not a string")
        elif "\x00" in text:
            error = BinaryInputError(f"{source}: {self.text_field!r} holds NUL characters")
        elif (empty := _emptiness(text)) is not None:
            error = EmptyArticleError(f"{source}: {self.text_field!r} {empty}")
        if error is not None:
            article = _failed(article_id, source, error)
            article.warnings, article.meta = warnings, meta
            return article
        assert isinstance(text, str)
        if _SURROGATES.search(text) is not None:
            # JSON can escape code points no text holds (a lone "\ud800"); the
            # model and the output need valid Unicode, and the rest of the article is fine.
            text = _SURROGATES.sub("\ufffd", text)
            warnings.append(
                f"{source}: {self.text_field!r} holds lone UTF-16 surrogates, "
                "which are not text; replaced with U+FFFD"
            )
        meta["format"] = "json"
        if looks_like_html(text):
            try:
                text, title = html_main_text(text, source)
            except InputError as exc:
                article = _failed(article_id, source, exc)
                article.warnings, article.meta = warnings, meta
                return article
            warnings.append(
                f"{source}: {self.text_field!r} holds an HTML page; main text extracted"
            )
            if title:
                meta.setdefault("title", title)
        return Article(id=article_id, source=source, text=text, warnings=warnings, meta=meta)

    # --- stdin ---------------------------------------------------------------------------
    def _read_stdin(self) -> Article:
        data = self._stdin_bytes(self.max_bytes + 1)
        raw_id = f"{_STDIN_ID}:{hashlib.sha256(data).hexdigest()[:12]}"
        if len(data) > self.max_bytes:
            return _failed(raw_id, "stdin", self._too_large("stdin", None))
        try:
            decoded = decode_bytes(data, source="stdin")
        except InputError as exc:
            return _failed(raw_id, "stdin", exc)
        empty = _emptiness(decoded.text)
        if empty is not None:
            return _failed(raw_id, "stdin", EmptyArticleError(f"stdin {empty}"))
        digest = hashlib.sha256(decoded.text.encode("utf-8")).hexdigest()[:12]
        return Article(
            id=f"{_STDIN_ID}:{digest}",
            source="stdin",
            text=decoded.text,
            warnings=list(decoded.warnings),
            meta={"encoding": decoded.encoding, "format": "text"},
        )

    def _stdin_bytes(self, limit: int) -> bytes:
        if self.stdin is not None:
            return self.stdin.read(limit)
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # a replaced sys.stdin (tests, notebooks)
            return sys.stdin.buffer.read(limit)
        # os.read, not sys.stdin.buffer: a read still blocked when a stopped run
        # exits must not hold the buffer's lock, which interpreter shutdown takes.
        data = bytearray()
        while len(data) < limit and (chunk := os.read(fd, min(limit - len(data), 1 << 20))):
            data += chunk
        return bytes(data)


def _json_error(exc: ValueError | RecursionError, source: str, *, lines: bool) -> InputError:
    if isinstance(exc, RecursionError):
        return InputError(
            f"{source}: the JSON is nested too deeply to read (past Python's parser limit); "
            "no article record is shaped like that.",
            hint="Check the program that wrote the file: an article is an object with a text field.",
        )
    if not isinstance(exc, json.JSONDecodeError):  # Python's own limits: a 5000-digit number
        return InputError(f"{source}: not valid JSON ({exc})")
    where = f"line {exc.lineno} column {exc.colno}" if lines else f"column {exc.colno}"
    return InputError(f"{source}: not valid JSON ({exc.msg} at {where})")


def _read_error(exc: OSError, source: str) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{source}: no such file (a broken symbolic link?)")
    if isinstance(exc, PermissionError):
        return InputError(
            f"{source}: cannot read the file: permission denied",
            hint="Check the file's permissions.",
        )
    return InputError(f"{source}: cannot read the file: {os_reason(exc)}")


def _skip_rest_of_line(f: BinaryIO, start: bytes) -> None:
    if start.endswith(b"\n"):
        return
    while True:
        chunk = f.readline(1 << 20)
        if not chunk or chunk.endswith(b"\n"):
            return


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
