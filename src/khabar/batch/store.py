"""The JSONL output of a batch: one record per article, appended as each finishes, resumable.

Each line is one JSON object (UTF-8, not ASCII-escaped)::

    {
      "id": "articles/000_x.txt",       # the Article id (stable across runs)
      "source": "evals/articles/000_x.txt",  # where it came from
      "status": "ok" | "error",
      "digest": {...} | null,            # Digest.model_dump(mode="json") when ok
      "error": {"type": "EmptyArticleError", "reason": "empty", "message": "..."} | null,
      "warnings": ["..."],               # about reading the input (encoding, sniffing...)
      "duplicate_of": "articles/001_y.txt" | null   # same text as that article: one call for both
    }

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
change those.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from khabar.errors import KhabarError, redact

if TYPE_CHECKING:
    from khabar.batch.inputs import Article
    from khabar.core.digest import Digest

__all__ = ["FINAL_REASONS", "JsonlStore", "iter_records", "make_record"]

logger = logging.getLogger("khabar")

FINAL_REASONS = frozenset({"empty", "binary", "undecodable", "too_large"})
"""Error reasons a rerun does not retry: the input itself is unusable."""

_CHUNK = 1 << 16


def make_record(
    article: Article,
    digest: Digest | None = None,
    error: BaseException | None = None,
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    """The output record of one article (see the module docstring for its shape).

    ``error`` defaults to ``article.error``; an exception that is not a
    :class:`~khabar.errors.KhabarError` is recorded with reason ``internal``.

    Example::

        >>> from khabar.batch.inputs import Article
        >>> make_record(Article(id="a", source="a.txt", text=None), error=ValueError("boom"))["error"]
        {'type': 'ValueError', 'reason': 'internal', 'message': 'boom'}
    """
    if error is None and digest is None:
        error = article.error
    error_dict: dict[str, Any] | None = None
    digest_dict: dict[str, Any] | None = None
    if error is not None:
        if isinstance(error, KhabarError):
            error_dict = error.to_dict()
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
    return {
        "id": article.id,
        "source": article.source,
        "status": "ok" if error_dict is None else "error",
        "digest": digest_dict,
        "error": error_dict,
        "warnings": list(article.warnings),
        "duplicate_of": duplicate_of,
    }


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
        try:
            if self.path.parent != Path():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644
            )
        except OSError as exc:
            raise KhabarError(
                f"cannot open the output {self.path}: {exc.strerror or exc}",
                hint="Pass a writable file with -o.",
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
