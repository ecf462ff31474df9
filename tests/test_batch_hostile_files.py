"""Issue #12, "Nothing stops a batch": hostile file names and files, each one record, never an abort.

Undecodable file names, JSON nested past the parser's recursion limit, FIFOs,
sockets and device files, files of nothing but invisible characters.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from khabar.batch import run_batch
from khabar.batch.inputs import Article, iter_articles
from khabar.batch.store import JsonlStore, iter_records

from .conftest import seed
from .test_batch import FakeProcess

BAD_NAME = b"\xd9\x85\xff.txt"  # "م" then a byte that is not UTF-8, as unzip leaves them


def read_within(paths: list[str | Path], timeout: float = 10.0) -> list[Article]:
    """``iter_articles`` in a thread: a reader that hangs fails the test instead of the suite."""
    got: list[Article] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            got.extend(iter_articles(paths))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _unblock_fifos(paths)
        pytest.fail(f"reading {paths} hung for {timeout} s (a special file was opened)")
    if failure:
        raise failure[0]
    return got


def _unblock_fifos(paths: list[str | Path]) -> None:
    # A reader stuck in open() on a FIFO returns once a writer shows up.
    for root in paths:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                if stat.S_ISFIFO(os.lstat(path).st_mode):
                    with contextlib.suppress(OSError):
                        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def run(articles: list[Article] | Iterator[Article], out: Path) -> FakeProcess:
    process = FakeProcess(delay=0)
    with JsonlStore(out) as store:
        asyncio.run(run_batch(articles, process, store=store, concurrency=2))
    return process


# --- 1. file names that are not UTF-8 --------------------------------------------------------


def test_an_undecodable_file_name_gets_a_record_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    raw_path = os.fsencode(folder) + b"/" + BAD_NAME
    with open(raw_path, "wb") as f:
        f.write(seed("002").encode("utf-8"))
    (folder / "good.txt").write_text(seed("003"), encoding="utf-8")
    out = tmp_path / "out.jsonl"

    process = run(list(iter_articles([folder])), out)
    assert len(process.calls) == 2  # the model was paid for both: both must be written
    data = out.read_bytes()
    data.decode("utf-8")  # strict: the output is valid UTF-8
    by_id = {r["id"]: r for r in iter_records(out)}
    assert set(by_id) == {"in/م\\xff.txt", "in/good.txt"}
    bad = by_id["in/م\\xff.txt"]
    assert bad["status"] == "ok"
    assert bad["source"] == f"{folder.as_posix()}/م\\xff.txt"
    # The exact bytes of the name, reversibly: they open the file.
    assert base64.b64decode(bad["source_b64"]) == raw_path
    assert Path(os.fsdecode(base64.b64decode(bad["source_b64"]))).read_text("utf-8") == seed("002")
    assert "source_b64" not in by_id["in/good.txt"]  # only names that need it

    process = run(list(iter_articles([folder])), out)
    assert process.calls == []  # resume recognises the escaped name: nothing is paid twice
    assert len(list(iter_records(out))) == 2


def test_an_undecodable_name_in_an_error_message_is_escaped_too(tmp_path: Path) -> None:
    raw_path = os.fsencode(tmp_path) + b"/" + BAD_NAME
    with open(raw_path, "wb") as f:
        f.write(b"")  # empty: the error message names the file
    (article,) = read_within([os.fsdecode(raw_path)])
    assert article.error is not None and article.error.reason == "empty"
    assert "م\\xff.txt" in str(article.error)
    assert article.id.endswith("م\\xff.txt") and article.source_bytes == raw_path
    out = tmp_path / "out.jsonl"
    run([article], out)
    (record,) = iter_records(out)
    assert record["error"]["reason"] == "empty" and "م\\xff.txt" in record["error"]["message"]


def test_lone_surrogates_from_json_are_escaped_in_ids_and_replaced_in_text(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "x\\udcff", "text": "خبر \\ud800 عاجل"}\n', encoding="utf-8")
    (article,) = read_within([feed])
    assert article.id == "x\\xff"
    assert article.text == "خبر \ufffd عاجل"
    assert any("U+FFFD" in w for w in article.warnings)
    out = tmp_path / "out.jsonl"
    run([article], out)
    run(list(iter_articles([feed])), out)
    assert [r["id"] for r in iter_records(out)] == ["x\\xff"]  # resumed, not redone


# --- 2. JSON nested past the recursion limit ------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nested_100000_deep_is_an_error_record(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="ascii")
    nested_field = tmp_path / f"deep-field{suffix}"
    nested_field.write_text(
        '{"text": "خبر", "extra": ' + "{" * 1 + '"a": ' + "[" * 100_000 + "]" * 100_000 + "}}\n",
        encoding="utf-8",
    )
    got = read_within([path, nested_field])
    assert len(got) == 2
    for article in got:
        assert article.error is not None, article.id
        assert article.error.reason == "bad_input"
        assert "nested too deeply" in str(article.error)
    out = tmp_path / "out.jsonl"
    run(got, out)
    assert [r["error"]["reason"] for r in iter_records(out)] == ["bad_input", "bad_input"]


def test_a_number_too_long_for_python_is_an_error_record(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "خبر", "n": ' + "9" * 5000 + "}\n", encoding="utf-8")
    (article,) = read_within([path])
    assert article.error is not None and article.error.reason == "bad_input"
    assert "not valid JSON" in str(article.error)


# --- 3. FIFOs, sockets, devices --------------------------------------------------------------


def special_files(folder: Path) -> dict[str, str]:
    """Make one of each special file an unprivileged user can make; name -> what it is."""
    os.mkfifo(folder / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(folder / "sock.txt"))
    finally:
        sock.close()
    (folder / "null.txt").symlink_to("/dev/null")  # a character device, through a link
    return {"pipe.txt": "FIFO", "sock.txt": "socket", "null.txt": "character device"}


def test_special_files_in_a_walk_are_never_opened(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    kinds = special_files(folder)
    (folder / "good.txt").write_text(seed("002"), encoding="utf-8")
    got = {a.id.rsplit("/", 1)[-1]: a for a in read_within([folder])}
    assert set(got) == {*kinds, "good.txt"}
    assert got["good.txt"].error is None
    for name, kind in kinds.items():
        error = got[name].error
        assert error is not None and error.reason == "bad_input", name
        assert kind in str(error) and "not a regular file" in str(error)


def test_a_special_file_named_explicitly_says_what_it_is(tmp_path: Path) -> None:
    kinds = special_files(tmp_path)
    for name, kind in kinds.items():
        (article,) = read_within([tmp_path / name])
        assert article.error is not None and kind in str(article.error)
        assert "-" in article.error.hint  # how to feed a pipe: stdin


# --- 11. files of nothing but invisible characters ---------------------------------------------


INVISIBLE = {
    "zwnj.txt": "\u200c\u200c\u200c".encode(),
    "zwj-zwsp.txt": "\u200d \u200b\n\u200b".encode(),
    "boms.txt": "\ufeff\ufeff\ufeff".encode(),
    "marks.txt": "\u200f\u200e\u061c\u2067\u2069\n".encode(),
    "utf16-zwnj.txt": "\u200c\u200c".encode("utf-16"),
    "soft-hyphen.md": "\u00ad \u2060\r\n".encode(),
}


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_a_file_of_only_invisible_characters_is_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(INVISIBLE[name])
    (article,) = read_within([path])
    assert article.error is not None and article.error.reason == "empty", article.text
    assert "invisible" in str(article.error)


def test_invisible_only_json_text_and_stdin_are_empty(tmp_path: Path) -> None:
    import io

    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "z", "text": "\\u200c\\u200b\\ufeff"}\n', encoding="utf-8")
    (article,) = read_within([feed])
    assert article.error is not None and article.error.reason == "empty"
    (article,) = iter_articles(["-"], stdin=io.BytesIO("\u200c\u200f\n".encode()))
    assert article.error is not None and article.error.reason == "empty"
    (article,) = iter_articles(["-"], stdin=io.BytesIO(b""))
    assert article.error is not None and article.error.reason == "empty"


def test_persian_text_with_zwnj_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "fa.txt"
    path.write_text("می\u200cخواهم \u200c", encoding="utf-8")
    (article,) = read_within([path])
    assert article.error is None and article.text is not None


def test_every_hostile_record_is_valid_json_on_one_line(tmp_path: Path) -> None:
    """All of the above in one folder through run_batch: one parseable line each."""
    folder = tmp_path / "in"
    folder.mkdir()
    special_files(folder)
    with open(os.fsencode(folder) + b"/" + BAD_NAME, "wb") as f:
        f.write(seed("004").encode("utf-8"))
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="ascii")
    (folder / "zw.txt").write_bytes(INVISIBLE["zwnj.txt"])
    out = tmp_path / "out.jsonl"
    run(read_within([folder]), out)
    lines = out.read_bytes().decode("utf-8").splitlines()
    assert len(lines) == 6
    reasons = {
        json.loads(line)["id"].rsplit("/", 1)[-1]: (json.loads(line)["error"] or {}).get("reason")
        for line in lines
    }
    assert reasons == {
        "pipe.txt": "bad_input",
        "sock.txt": "bad_input",
        "null.txt": "bad_input",
        "م\\xff.txt": None,
        "deep.json": "bad_input",
        "zw.txt": "empty",
    }
