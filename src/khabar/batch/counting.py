"""How many articles a run will meet, counted before it starts, so a progress bar has a total.

:func:`count_inputs` follows the rules of :func:`khabar.batch.inputs.iter_articles`
(the same walk, the same skipped files, one article per JSONL record or JSON
list item, one error article for each input that cannot be read) without
decoding, extracting or validating anything: a directory costs a listing, a
JSONL file a scan for line ends. It never raises; what it cannot count cheaply
(stdin is one article; JSON that does not parse is one error article) it counts
the way the reader will.

Example::

    >>> count = count_inputs(["evals/articles"])       # doctest: +SKIP
    >>> count.articles, count.skipped
    (5, {})
"""

from __future__ import annotations

import json
import os
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from khabar.batch.walk import not_text_kind, special_kind, walk

__all__ = ["InputCount", "count_inputs"]

_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
_JSON_SUFFIXES = frozenset({".json"})
_CHUNK = 1 << 20


@dataclass
class InputCount:
    """``articles``: records the run will write for these inputs (before resume and ``--limit``).

    ``skipped``: files a directory walk left out as not text, by kind (``.png``: 3).
    """

    articles: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def count_inputs(paths: Sequence[str | Path], *, max_input_bytes: int = 20_000_000) -> InputCount:
    """Count what :func:`~khabar.batch.inputs.iter_articles` would yield for ``paths``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    count = InputCount()
    for raw in paths:
        count.articles += _argument(str(raw), count, max_input_bytes)
    return count


def _argument(raw: str, count: InputCount, limit: int) -> int:
    if raw == "-":
        return 1
    try:
        info = os.stat(raw)
    except OSError:
        return 1  # an error article: no such file, or no access
    if not stat.S_ISDIR(info.st_mode):
        return 1 if special_kind(info.st_mode) is not None else _file(Path(raw), limit)
    root = Path(os.path.abspath(raw))
    found = 0
    for path, problem in walk(root, {os.path.realpath(root)}):
        kind = not_text_kind(path.name) if path != root else None
        if kind is not None:
            count.skipped[kind] += 1
            continue
        found += 1 if problem is not None else _file(path, limit)
    return max(found, 1)  # a directory with no article is one error article


def _file(path: Path, limit: int) -> int:
    suffix = path.suffix.lower()
    try:
        if suffix in _JSONL_SUFFIXES:
            return _jsonl_records(path)
        if suffix in _JSON_SUFFIXES:
            return _json_items(path, limit)
    except OSError:
        return 1
    return 1


def _jsonl_records(path: Path) -> int:
    """Lines with something on them (the reader skips blank ones); 1 when there are none."""
    records = 0
    blank = True  # the current line holds only whitespace so far
    with open(path, "rb") as f:
        first = True
        while chunk := f.read(_CHUNK):
            if first:
                chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False  # as the reader does
            lines = chunk.split(b"\n")
            for i, line in enumerate(lines):
                blank = blank and not line.strip()
                if i < len(lines) - 1:  # a line end follows
                    records += not blank
                    blank = True
    records += not blank
    return max(records, 1)


def _json_items(path: Path, limit: int) -> int:
    """Items of a JSON list (1 for an object, or for anything the reader refuses)."""
    if path.stat().st_size > limit:
        return 1
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        return 1
    return len(data) if isinstance(data, list) and data else 1
