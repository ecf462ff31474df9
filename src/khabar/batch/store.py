"""The JSONL output of a batch: one record per article, appended as each finishes, resumable.

Each line is one JSON object (UTF-8, not ASCII-escaped, except U+0085, U+2028
and U+2029, which ``str.splitlines()`` would take for line ends)::

    {
      "id": "articles/000_x.txt",       # the Article id (stable across runs)
      "source": "evals/articles/000_x.txt",  # where it came from
      "source_b64": "ZXZhbHMv...",       # only for a name that is not UTF-8 (below)
      "status": "ok" | "error",
      "digest": {...} | null,            # Digest.model_dump(mode="json") when ok
      "error": {"type": "EmptyArticleError", "reason": "empty", "message": "..."} | null,
      "warnings": ["..."],               # about reading the input (encoding, sniffing...)
      "duplicate_of": "articles/001_y.txt" | null,  # same text as that article: one call for both
      "draft": {...}                     # only when the model's digest was rejected (below)
    }

File names that are not UTF-8 (bytes a zip archive or an old filesystem left
in a name, such as ``b"\\xd9\\x85\\xff.txt"``) cannot be written to UTF-8 as
they are. In ``id``, ``source`` and messages each byte that is not UTF-8 is
written as the four ASCII characters ``\\xNN`` (``م\\xff.txt``; any other code
point UTF-8 cannot encode as ``\\uNNNN``), see :func:`escape_surrogates`:
readable, and stable, so a rerun finds the same ids and resumes. The record
then also carries ``source_b64``, the exact bytes of ``source``, base64-encoded
(``open(base64.b64decode(r["source_b64"]), "rb")`` opens the file): the escaped
text alone is ambiguous when a name holds a real backslash.

An error that carries the model's rejected digest (``exc.context["draft"]``, a
JSON-ready dict; e.g. reason ``unsupported``: nothing in it could be verified)
puts it in ``draft``, so that the user can see what was refused and why.

``id`` is always the first key. A file may hold several records for one id:
a rerun appends a new record for each article it retries, and the last one
wins (``iter_records(path, latest_only=True)``).

Crash safety: a record is written with a single ``os.write`` on an
``O_APPEND`` descriptor, so a killed run leaves at worst one torn last line,
which the next :class:`JsonlStore` cuts away before appending. An exclusive
``flock`` on the file refuses a second run writing to the same output.

Resume: an id whose latest record is ``ok`` is done. An ``error`` record is
retried on the next run, unless its reason is a final input error (``empty``,
``binary``, ``undecodable``, ``too_large``): rereading the same bytes cannot
change those. Model failures (``invalid_output``, ``unsupported``, ``transport``...)
are always retried.

Output paths are checked before any work (:func:`check_output_paths`): a
directory or an unwritable place fails with a :class:`~khabar.errors.ConfigError`
that names it, not with a traceback once the model has been paid.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from khabar.errors import ConfigError, KhabarError, redact

if TYPE_CHECKING:
    from khabar.batch.inputs import Article
    from khabar.core.digest import Digest

__all__ = [
    "FINAL_REASONS",
    "JsonlStore",
    "check_output_paths",
    "escape_names",
    "escape_surrogates",
    "iter_records",
    "make_record",
]

logger = logging.getLogger("khabar")

FINAL_REASONS = frozenset({"empty", "binary", "undecodable", "too_large"})
"""Error reasons a rerun does not retry: the input itself is unusable."""

_CHUNK = 1 << 16

# Code points UTF-8 cannot encode: lone surrogates. Python decodes each byte of
# a file name that is not UTF-8 to one of U+DC80..U+DCFF ("surrogateescape").
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_UNSAFE_IN_LINE = re.compile(r"[\x85\u2028\u2029\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with each code point UTF-8 cannot encode spelled out in ASCII.

    A byte of a file name that is not UTF-8 becomes ``\\xNN``, the byte in hex;
    any other lone surrogate (a JSON ``"\\ud800"``) becomes ``\\uNNNN``. Other
    text is returned unchanged.

    Example::

        >>> escape_surrogates(b"\\xd9\\x85\\xff.txt".decode("utf-8", "surrogateescape"))
        'م\\\\xff.txt'
    """
    if _SURROGATES.search(text) is None:
        return text
    return _SURROGATES.sub(_escape_surrogate, text)


def escape_names(article: Article) -> None:
    """Make what ``article`` says about its origin writable as UTF-8, in place.

    ``id``, ``source``, warnings and the error message are escaped with
    :func:`escape_surrogates`; the exact bytes of a ``source`` that is a file
    name go to ``source_bytes`` (written as ``source_b64``).
    """
    if _SURROGATES.search(article.source):
        with contextlib.suppress(UnicodeEncodeError):  # not a file name: no bytes to keep
            article.source_bytes = os.fsencode(article.source)
        article.source = escape_surrogates(article.source)
    article.id = escape_surrogates(article.id)
    article.warnings = [escape_surrogates(w) for w in article.warnings]
    if article.error is not None:
        article.error.message = escape_surrogates(article.error.message)
        article.error.args = (article.error.message,)


def _escape_in_line(match: re.Match[str]) -> str:
    """The JSON text (inside a string: nothing else is non-ASCII) for one unsafe character.

    A lone surrogate is a name or message the reader did not escape (a caller's
    own Article): escaped the same way, so that the line is UTF-8 and the id is
    what the reader yields on a rerun; its backslash is JSON-escaped in turn.
    NEL, LINE and PARAGRAPH SEPARATOR are valid JSON but end a line for
    ``str.splitlines()`` and old JavaScript: written as ``\\uNNNN``, same value.
    """
    if match.group() in "\x85\u2028\u2029":
        return f"\\u{ord(match.group()):04x}"
    return _escape_surrogate(match).replace("\\", "\\\\")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def make_record(
    article: Article,
    digest: Digest | None = None,
    error: BaseException | None = None,
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    """The output record of one article (see the module docstring for its shape).

    ``error`` defaults to ``article.error``; an exception that is not a
    :class:`~khabar.errors.KhabarError` is recorded with reason ``internal``.
    A KhabarError whose ``context`` holds a ``draft`` dict adds it as ``draft``.

    Example::

        >>> from khabar.batch.inputs import Article
        >>> make_record(Article(id="a", source="a.txt", text=None), error=ValueError("boom"))["error"]
        {'type': 'ValueError', 'reason': 'internal', 'message': 'boom'}
    """
    if error is None and digest is None:
        error = article.error
    error_dict: dict[str, Any] | None = None
    digest_dict: dict[str, Any] | None = None
    draft: object = None
    if error is not None:
        if isinstance(error, KhabarError):
            error_dict = error.to_dict()
            draft = error.context.get("draft")
        else:
            error_dict = {
                "type": type(error).__name__,
                "reason": "internal",
                "message": redact(str(error) or type(error).__name__),
            }
    elif digest is not None:
        digest_dict = digest.model_dump(mode="json")
        # A duplicate shares the first article's digest but is its own record.
        digest_dict["article_id"] = article.id
    else:
        error_dict = {
            "type": "InputError",
            "reason": "bad_input",
            "message": f"[{article.id}] the article has neither text nor a digest",
        }
    record: dict[str, Any] = {"id": article.id, "source": article.source}
    if article.source_bytes is not None:
        record["source_b64"] = base64.b64encode(article.source_bytes).decode("ascii")
    record.update(
        status="ok" if error_dict is None else "error",
        digest=digest_dict,
        error=error_dict,
        warnings=list(article.warnings),
        duplicate_of=duplicate_of,
    )
    if isinstance(draft, dict):
        record["draft"] = draft
    return record


def check_output_paths(output: str | Path, reports: Iterable[str | Path] = ()) -> None:
    """Refuse, before any work, output paths that could only fail once the batch is done.

    ``output`` is the JSONL file (``-``: stdout); ``reports`` are files written
    after the batch (a Markdown report). A directory, a path under something
    that is not a directory, a place that cannot be written, or a report that
    would overwrite the JSONL output raises :class:`~khabar.errors.ConfigError`
    naming the path and the remedy. Missing parent directories are fine.

    Example::

        >>> check_output_paths("out.jsonl", reports=["/tmp"])           # doctest: +SKIP
        Traceback (most recent call last):
        khabar.errors.ConfigError: the Markdown report /tmp is a directory, not a file ...
    """
    if str(output) != "-":
        _check_writable("the JSONL output", Path(output), "digests.jsonl")
    for report in reports:
        _check_writable("the Markdown report", Path(report), "report.md")
        if str(output) != "-" and _real(report) == _real(output):
            raise ConfigError(
                f"the Markdown report {report} is the JSONL output itself; writing it "
                "would destroy every record.",
                hint="Give the report its own file name, such as report.md.",
            )


def _real(path: str | Path) -> str:
    return os.path.realpath(os.path.abspath(path))


def _check_writable(what: str, path: Path, example: str) -> None:
    if path.is_dir():
        raise ConfigError(
            f"{what} {path} is a directory, not a file.",
            hint=f"Pass a file name, such as {path / example}.",
        )
    # The nearest ancestor that exists decides: the writers create the missing ones.
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(
            f"{what} {path} cannot be created: {parent} is a file, not a directory.",
            hint=f"Pass a path in a directory, such as {example}.",
        )
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise ConfigError(
            f"{what} {path} cannot be written: permission denied on {target}.",
            hint=f"Pass a path in a directory you can write to, such as {Path.home() / example}.",
        )


class JsonlStore:
    """An append-only JSONL output that a killed run cannot corrupt and a rerun resumes.

    ``path`` ``"-"`` writes to stdout (no locking, nothing to resume). The file
    is opened (and locked) on first use or by :meth:`open`; use the store as a
    context manager to release it.

    Example::

        >>> with JsonlStore("out.jsonl") as store:                   # doctest: +SKIP
        ...     if article.id not in store.done_ids():
        ...         store.append(make_record(article, digest))
    """

    def __init__(self, path: str | Path, *, stream: TextIO | None = None) -> None:
        self.is_stdout = str(path) == "-"
        self.path = Path(path)
        self._stream = stream
        self._fd: int | None = None

    # --- lifecycle -------------------------------------------------------------------
    def open(self) -> JsonlStore:
        """Create, lock and repair the file; a no-op when already open or writing to stdout."""
        if self.is_stdout or self._fd is not None:
            return self
        _check_writable("the JSONL output", self.path, "digests.jsonl")
        try:
            if self.path.parent != Path():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot open the JSONL output {self.path}: {(exc.strerror or str(exc)).lower()}.",
                hint="Pass a file you can write to with -o.",
            ) from exc
        try:
            _lock(fd, self.path)
            _repair_tail(fd, self.path)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def close(self) -> None:
        """Flush to disk and release the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError:
            # Some filesystems (pipes, /dev/null) cannot fsync; the data is written anyway.
            pass
        finally:
            os.close(fd)  # releases the flock

    def __enter__(self) -> JsonlStore:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- reading and writing -------------------------------------------------------------
    def done_ids(self, *, retry_errors: bool = True) -> set[str]:
        """Ids that a resumed run skips.

        An id is done when its latest record is ``ok``; or ``error`` with a
        final input reason (:data:`FINAL_REASONS`); or any ``error`` when
        ``retry_errors`` is False.
        """
        if self.is_stdout:
            return set()
        self.open()
        latest: dict[str, tuple[str, str | None]] = {}
        for record in iter_records(self.path):
            error = record.get("error")
            reason = error.get("reason") if isinstance(error, dict) else None
            latest[record["id"]] = (str(record.get("status")), reason)
        return {
            article_id
            for article_id, (status, reason) in latest.items()
            if status == "ok"
            or (status == "error" and (not retry_errors or reason in FINAL_REASONS))
        }

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one complete line.

        The line is serialized first and written with one ``os.write`` on an
        ``O_APPEND`` descriptor, so a kill leaves either the whole record or a
        torn last line that the next open removes, never half a record in the
        middle of the file.
        """
        if "id" not in record or "status" not in record:
            raise ValueError("a record needs 'id' and 'status' (use make_record)")
        # allow_nan=False: NaN is not JSON, and one bad line would poison the file for readers.
        line = json.dumps(
            {"id": record["id"], **record},
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
        if "\n" in line:  # json.dumps escapes newlines in strings; this cannot happen
            raise ValueError("a record must serialize to one line")
        if _UNSAFE_IN_LINE.search(line) is not None:
            line = _UNSAFE_IN_LINE.sub(_escape_in_line, line)
        if self.is_stdout:
            stream = self._stream if self._stream is not None else sys.stdout
            stream.write(line + "\n")
            stream.flush()
            return
        self.open()
        assert self._fd is not None
        data = memoryview((line + "\n").encode("utf-8"))
        try:
            while data:
                # One call writes it all on a regular file; the loop covers the
                # rare short write (full disk) without ever reordering bytes.
                written = os.write(self._fd, data)
                data = data[written:]
        except OSError as exc:
            raise KhabarError(
                f"cannot write to the output {self.path}: {exc.strerror or exc}",
                hint="Free some space or pick another -o file; a rerun resumes.",
            ) from exc


def iter_records(path: str | Path, *, latest_only: bool = False) -> Iterator[dict[str, Any]]:
    """The records of a khabar JSONL output, skipping a torn last line.

    With ``latest_only`` each id appears once, with its last record, in the
    order ids first appeared. A line in the middle that is not a record is
    skipped with a logged warning.

    Example::

        >>> [r["status"] for r in iter_records("out.jsonl", latest_only=True)]  # doctest: +SKIP
        ['ok', 'error']
    """
    if not latest_only:
        yield from _read_records(Path(path))
        return
    latest: dict[str, dict[str, Any]] = {}
    for record in _read_records(Path(path)):
        # Re-assigning an existing key keeps its position: first-appearance order.
        latest[record["id"]] = record
    yield from latest.values()


def _read_records(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as f:
        pending: tuple[int, bytes] | None = None
        for lineno, line in enumerate(f, start=1):
            if pending is not None:
                record = _parse(pending[1])
                if record is None:
                    logger.warning(
                        "%s:%d: skipping a line that is not a khabar record", path, pending[0]
                    )
                else:
                    yield record
            pending = (lineno, line)
        if pending is not None:
            # The last line may be torn by a killed run: skip it quietly unless complete.
            record = _parse(pending[1]) if pending[1].endswith(b"\n") else None
            if record is not None:
                yield record
            else:
                logger.info("%s:%d: skipping an incomplete last line", path, pending[0])


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and "status" in value:
        return value
    return None


def _lock(fd: int, path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - no flock; concurrent runs are not refused
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise KhabarError(
            f"{path} is being written by another khabar run",
            hint="Wait for that run to finish (a rerun resumes), or pass another -o file.",
        ) from exc
    except OSError as exc:
        # A filesystem without locks (some network mounts): warn, do not refuse.
        logger.warning("cannot lock %s (%s); do not run two batches on it at once", path, exc)


def _repair_tail(fd: int, path: Path) -> None:
    """Cut a torn last line away; refuse a file that is not a khabar output."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    first = _line_at(fd, 0, size)
    if not (_parse(first) is not None or (len(first) == size and first.startswith(b'{"id":'))):
        raise KhabarError(
            f"{path} is not a khabar JSONL output (its first line is not a record); "
            "refusing to append to it",
            hint="Pass a new file, or a previous khabar output, with -o.",
        )
    ends_with_newline = os.pread(fd, 1, size - 1) == b"\n"
    content_end = size - 1 if ends_with_newline else size
    start = _line_start(fd, content_end)
    last = os.pread(fd, size - start, start)
    if ends_with_newline and _parse(last) is not None:
        return
    logger.warning(
        "%s: removing an incomplete last record (%d bytes) left by an interrupted run",
        path,
        size - start,
    )
    os.ftruncate(fd, start)


def _line_at(fd: int, start: int, size: int) -> bytes:
    """The line beginning at ``start`` (with its newline when it has one)."""
    parts: list[bytes] = []
    pos = start
    while pos < size:
        chunk = os.pread(fd, _CHUNK, pos)
        if not chunk:
            break
        cut = chunk.find(b"\n")
        if cut >= 0:
            parts.append(chunk[: cut + 1])
            break
        parts.append(chunk)
        pos += len(chunk)
    return b"".join(parts)


def _line_start(fd: int, end: int) -> int:
    """Offset where the line ending at ``end`` (exclusive, newline excluded) begins."""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        chunk = os.pread(fd, step, pos - step)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return pos - step + cut + 1
        pos -= step
    return 0
