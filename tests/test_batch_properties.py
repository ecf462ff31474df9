"""Issue #12, as properties: whatever a folder holds, the batch writes records and never aborts.

Any bytes under any file name (bytes, UTF-8 or not), any JSON shape (deep,
huge numbers, lone surrogates), any special file: each input becomes at least
one record (exactly one unless it is a JSON file of several records), every
error record has a reason and a message, every line is UTF-8 JSON, and a rerun
recognises every id and pays for nothing again.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khabar.batch import run_batch
from khabar.batch.store import JsonlStore, escape_surrogates, iter_records, make_record

from .test_batch import FakeProcess
from .test_batch_hostile_files import read_within
from .test_store import article

SUFFIXES = [b"", b".txt", b".md", b".html", b".json", b".jsonl", b".bin", b".TXT"]
JSON_SUFFIXES = [b".json", b".jsonl", b".JSON", b".ndjson"]
TEXT_SUFFIXES = [b"", b".txt", b".md", b".html", b".xyz"]

stems = st.binary(min_size=1, max_size=60).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)
names = st.tuples(stems, st.sampled_from(SUFFIXES)).map(b"".join)

# Any character, lone surrogates included (Hypothesis leaves them out unless asked).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
invisible_text = st.text(st.sampled_from("\u200c\u200d\u200b\ufeff\u200e\u200f\u2067 \n\t"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {"text": st.one_of(any_text, invisible_text, json_values)},
    optional={"id": json_values, "title": json_values},
)


def dumps(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def deep(n: int, opener: bytes) -> bytes:
    closer = {b"[": b"]", b'{"a":': b"}"}[opener]
    return opener * n + b"0" + closer * n


json_contents = st.one_of(
    st.builds(dumps, st.one_of(records, st.lists(records, max_size=3), json_values), st.booleans()),
    st.lists(st.builds(dumps, st.one_of(records, json_values), st.booleans()), max_size=4).map(
        b"\n".join
    ),
    # Past the parser's recursion limit (about 1000), up to the 100,000.
    st.builds(deep, st.integers(900, 120_000), st.sampled_from([b"[", b'{"a":'])),
    # Past Python's 4300-digit limit on int() (a ValueError, not a JSONDecodeError).
    st.builds(lambda n: b'{"text": "x", "n": ' + b"9" * n + b"}", st.integers(1, 6000)),
)
# (suffix, bytes): each kind of content under the suffixes that send it to its parser.
files = st.one_of(
    st.tuples(st.sampled_from(SUFFIXES), st.binary(max_size=3000)),
    st.tuples(st.sampled_from(JSON_SUFFIXES), json_contents),
    st.tuples(
        st.sampled_from(TEXT_SUFFIXES),
        st.builds(
            lambda t, enc: t.encode(enc), invisible_text, st.sampled_from(["utf-8", "utf-16"])
        ),
    ),
    st.tuples(
        st.sampled_from(SUFFIXES),
        st.builds(lambda t: t.encode("utf-8", "surrogateescape"), st.text(max_size=200)),
    ),
)

SPECIAL_KINDS = ["fifo", "socket", "device", "broken-link", "loop-link"]


def make_special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
        finally:
            sock.close()
    elif kind == "device":
        path.symlink_to("/dev/zero")  # would never end if it were read
    elif kind == "broken-link":
        path.symlink_to(path.parent / "nowhere")
    else:
        path.symlink_to(path)


def check_batch(folder: Path, arguments: list[str | Path], one_record_each: bool) -> None:
    """Run the batch twice over ``arguments``: records for all, no abort, a rerun redoes nothing."""
    out = folder.parent / "out.jsonl"
    first = read_within(arguments)
    assert first, "every argument yields at least one article"
    with JsonlStore(out) as store:
        asyncio.run(run_batch(first, FakeProcess(delay=0), store=store, concurrency=2))
    data = out.read_bytes()
    lines = data.decode("utf-8").splitlines()  # strict UTF-8
    written = [json.loads(line) for line in lines]
    assert len(written) == len(first)
    if one_record_each:
        assert len(written) == len(arguments)
    for record in written:
        assert record["status"] in ("ok", "error")
        if record["status"] == "error":
            assert record["error"]["reason"] and record["error"]["message"], record
        assert escape_surrogates(record["id"]) == record["id"]
    # The rerun recognises every id: nothing is asked of the model again.
    again = FakeProcess(delay=0)
    with JsonlStore(out) as store:
        stats = asyncio.run(run_batch(read_within(arguments), again, store=store))
    assert again.calls == []
    ok = {r["id"] for r in written if r["status"] == "ok"}
    assert stats.skipped >= len(ok)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stem=stems, file=files)
def test_any_file_under_any_name_becomes_records_never_an_abort(
    stem: bytes, file: tuple[bytes, bytes]
) -> None:
    suffix, data = file
    name = stem + suffix
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        raw_path = os.fsencode(folder) + b"/" + name
        with open(raw_path, "wb") as f:
            f.write(data)
        is_json = suffix.lower() in (b".json", b".jsonl", b".ndjson")
        # The folder (walked) and the file named explicitly, as a user would.
        check_batch(folder, [folder, os.fsdecode(raw_path)], one_record_each=not is_json)


@settings(max_examples=30, deadline=None)
@given(name=names, kind=st.sampled_from(SPECIAL_KINDS))
def test_any_special_file_becomes_one_record(name: bytes, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        path = Path(os.fsdecode(os.fsencode(folder) + b"/" + name))
        make_special(path, kind)
        check_batch(folder, [folder, path], one_record_each=True)
        records = list(iter_records(folder.parent / "out.jsonl"))
        assert all(r["error"]["reason"] == "bad_input" for r in records), records


@settings(max_examples=200, deadline=None)
@given(
    article_id=any_text.filter(lambda s: s.strip()),
    source=any_text,
    message=any_text,
    warning=any_text,
    draft=st.dictionaries(any_text, json_values, max_size=4),
)
def test_the_store_writes_any_text_as_one_utf8_line(
    article_id: str, source: str, message: str, warning: str, draft: dict[str, Any]
) -> None:
    from khabar.errors import KhabarError

    a = article(article_id, text=None, warnings=[warning])
    a.source = source
    record = make_record(a, error=KhabarError(message or "x", draft=draft))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "o.jsonl"
        with JsonlStore(out) as store:
            try:
                store.append(record)
            except ValueError:
                # NaN/inf in a draft is not JSON: refused whole (run_batch then writes
                # an internal-error record instead, see test_batch_outputs).
                assert "nan" in repr(draft).lower() or "inf" in repr(draft).lower()
                return
            assert store.done_ids(retry_errors=False) == {escape_surrogates(article_id)}
        (line,) = out.read_bytes().decode("utf-8").splitlines()
        written = json.loads(line)
    assert written["id"] == escape_surrogates(article_id)
    assert written["source"] == escape_surrogates(source)
    assert set(written["draft"]) == {escape_surrogates(k) for k in draft}
