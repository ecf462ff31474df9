"""The JSONL store: one line per record, torn tails repaired, resume rules, one writer at a time."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from khabar.batch.inputs import Article
from khabar.batch.store import JsonlStore, iter_records, make_record
from khabar.core.digest import Digest, Provenance
from khabar.errors import ConfigError, EmptyArticleError, KhabarError, TransportError


def digest(article_id: str = "a", **prov: Any) -> Digest:
    values: dict[str, Any] = {
        "model": "fake-model",
        "provider": "openai",
        "mode": "tools",
        "prompt_version": "p1",
        "schema_version": "s1",
        "khabar_version": "0.1.0",
    }
    values.update(prov)
    return Digest(
        article_id=article_id,
        language="ar",
        title_en="Title",
        title_src="عنوان",
        summary_en="Summary.",
        summary_src="ملخص.",
        provenance=Provenance(**values),
    )


def article(article_id: str, text: str | None = "نص", **kwargs: Any) -> Article:
    return Article(id=article_id, source=f"{article_id}.txt", text=text, **kwargs)


def ok(article_id: str) -> dict[str, Any]:
    return make_record(article(article_id), digest=digest(article_id))


def failed(article_id: str, error: BaseException) -> dict[str, Any]:
    return make_record(article(article_id), error=error)


def lines(path: Path) -> list[str]:
    data = path.read_bytes().decode("utf-8")
    assert data == "" or data.endswith("\n"), "the file must end with a complete line"
    return data.splitlines()


# --- records ---------------------------------------------------------------------------------


def test_record_shape() -> None:
    a = article("x", warnings=["decoded as windows-1256"])
    rec = make_record(a, digest=digest("other"), duplicate_of="first")
    assert list(rec) == ["id", "source", "status", "digest", "error", "warnings", "duplicate_of"]
    assert rec["status"] == "ok" and rec["error"] is None
    assert rec["digest"]["article_id"] == "x" and rec["digest"]["title_src"] == "عنوان"
    assert rec["warnings"] == ["decoded as windows-1256"] and rec["duplicate_of"] == "first"
    json.dumps(rec, allow_nan=False)

    rec = make_record(a, error=TransportError("endpoint down", article_id="x"))
    assert rec["status"] == "error" and rec["digest"] is None
    assert rec["error"]["type"] == "TransportError" and rec["error"]["reason"] == "transport"
    assert "endpoint down" in rec["error"]["message"]

    rec = make_record(a, error=ZeroDivisionError("division by zero"))
    assert rec["error"] == {
        "type": "ZeroDivisionError",
        "reason": "internal",
        "message": "division by zero",
    }


def test_record_of_an_error_article_uses_its_error() -> None:
    a = article("e", text=None, error=EmptyArticleError("e.txt: empty", article_id="e"))
    rec = make_record(a)
    assert rec["status"] == "error" and rec["error"]["reason"] == "empty"


# --- writing ---------------------------------------------------------------------------------


def test_append_writes_one_complete_line_with_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out" / "digests.jsonl"
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: Any) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    with JsonlStore(path) as store:
        monkeypatch.setattr(os, "write", spy)
        store.append(ok("a"))
        store.append(failed("b", TransportError("down")))
        monkeypatch.undo()
    assert len(writes) == 2
    assert all(w.endswith(b"\n") and w.count(b"\n") == 1 for w in writes)
    assert writes[0].startswith(b'{"id":"a",')
    assert [json.loads(line)["id"] for line in lines(path)] == ["a", "b"]
    assert "عنوان" in path.read_text(encoding="utf-8")  # not \u-escaped


def test_append_refuses_nan_and_shapeless_records(tmp_path: Path) -> None:
    with JsonlStore(tmp_path / "o.jsonl") as store:
        with pytest.raises(ValueError):
            store.append({"id": "a", "status": "ok", "x": float("nan")})
        with pytest.raises(ValueError):
            store.append({"status": "ok"})
    assert lines(tmp_path / "o.jsonl") == []


def test_stdout_store_writes_lines_and_has_nothing_to_resume() -> None:
    stream = io.StringIO()
    store = JsonlStore("-", stream=stream)
    store.append(ok("a"))
    store.append(ok("b"))
    assert [json.loads(line)["id"] for line in stream.getvalue().splitlines()] == ["a", "b"]
    assert store.done_ids() == set()
    store.close()


# --- torn lines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [b'{"id":"c","status":"o', b'{"id":"c","status":"ok"}', b'{"id":"c","sta\n'],
    ids=["cut-mid-record", "cut-before-newline", "invalid-with-newline"],
)
def test_torn_last_line_is_truncated_and_ignored(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "o.jsonl"
    good = b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode() for r in (ok("a"), ok("b")))
    path.write_bytes(good + tail)
    assert [r["id"] for r in iter_records(path)] == ["a", "b"]  # reading alone skips it
    with JsonlStore(path) as store:
        assert store.done_ids() == {"a", "b"}
        assert path.read_bytes() == good
        store.append(ok("c"))
    assert [json.loads(line)["id"] for line in lines(path)] == ["a", "b", "c"]


def test_a_lone_torn_record_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    path.write_bytes(b'{"id":"a","status":"o')
    with JsonlStore(path) as store:
        assert store.done_ids() == set()
    assert path.read_bytes() == b""


def test_refuses_to_append_to_a_file_that_is_not_khabar_output(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_text("خبر مهم\nسطر ثان", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(KhabarError, match="not a khabar JSONL output"):
        JsonlStore(path).open()
    assert path.read_bytes() == before


def test_a_bad_line_in_the_middle_is_skipped_not_truncated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "o.jsonl"
    path.write_text(
        json.dumps(ok("a")) + "\nnot json\n" + json.dumps(ok("b")) + "\n", encoding="utf-8"
    )
    with JsonlStore(path) as store:
        assert store.done_ids() == {"a", "b"}
    assert len(lines(path)) == 3
    assert "o.jsonl:2" in caplog.text


# --- resume ----------------------------------------------------------------------------------------


def test_done_ids_and_retry_rules(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    with JsonlStore(path) as store:
        store.append(ok("ok"))
        store.append(failed("transient", TransportError("down")))
        store.append(failed("internal", RuntimeError("bug")))
        store.append(failed("empty", EmptyArticleError("empty")))
        store.append(failed("fixed", TransportError("down")))
        store.append(ok("fixed"))
        store.append(ok("broke"))
        store.append(failed("broke", TransportError("down")))
        assert store.done_ids() == {"ok", "empty", "fixed"}
        assert store.done_ids(retry_errors=False) == {
            "ok",
            "empty",
            "fixed",
            "transient",
            "internal",
            "broke",
        }


def test_latest_only_keeps_the_last_record_per_id_in_first_seen_order(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    with JsonlStore(path) as store:
        store.append(failed("a", TransportError("down")))
        store.append(ok("b"))
        store.append(ok("a"))
    assert [(r["id"], r["status"]) for r in iter_records(path)] == [
        ("a", "error"),
        ("b", "ok"),
        ("a", "ok"),
    ]
    assert [(r["id"], r["status"]) for r in iter_records(path, latest_only=True)] == [
        ("a", "ok"),
        ("b", "ok"),
    ]


# --- one writer ------------------------------------------------------------------------------------


def test_a_second_store_on_the_same_file_is_refused_while_the_first_holds_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.jsonl"
    first = JsonlStore(path).open()
    first.append(ok("a"))
    with pytest.raises(KhabarError, match="another khabar run") as caught:
        JsonlStore(path).open()
    assert caught.value.hint
    first.close()
    with JsonlStore(path) as second:
        assert second.done_ids() == {"a"}


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a file") as caught:
        JsonlStore(tmp_path).open()
    assert str(tmp_path) in str(caught.value) and "digests.jsonl" in caught.value.hint
