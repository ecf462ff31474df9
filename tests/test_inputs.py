"""Reading articles: every input kind, every bad input, stable and unique ids."""

from __future__ import annotations

import builtins
import hashlib
import html
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from khabar.batch.inputs import Article, iter_articles
from khabar.errors import InputError

from .conftest import REPO, SEEDS, seed

# A real 1x1 PNG: binary, with NUL bytes in its header.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def read(paths: list[str | Path], **kwargs: object) -> list[Article]:
    return list(iter_articles(paths, **kwargs))  # type: ignore[arg-type]


def one(paths: list[str | Path], **kwargs: object) -> Article:
    articles = read(paths, **kwargs)
    assert len(articles) == 1, [a.id for a in articles]
    return articles[0]


def reason(article: Article) -> str:
    assert article.error is not None, f"{article.id} should have failed"
    assert article.text is None
    assert article.error.article_id == article.id
    return article.error.reason


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data" / "articles"
    target.mkdir(parents=True)
    for path in SEEDS.values():
        shutil.copy(path, target / path.name)
    return target


# --- good input ---------------------------------------------------------------------


def test_directory_yields_every_seed_in_sorted_order_with_stable_ids(
    articles_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = read([articles_dir])
    assert [a.id for a in first] == [f"articles/{name}.txt" for name in sorted(SEEDS)]
    for article in first:
        assert article.error is None and article.text is not None
        assert article.text.strip() == seed(article.id.split("/")[1][:3]).strip()
        assert article.source.endswith(article.id)
    # The id does not depend on how the directory was named or where we run from.
    monkeypatch.chdir(tmp_path / "data")
    assert [a.id for a in read(["articles/"])] == [a.id for a in first]
    assert [a.id for a in read(["./articles"])] == [a.id for a in first]


def test_directory_recurses_and_skips_hidden_files_and_directories(tmp_path: Path) -> None:
    root = tmp_path / "news"
    (root / "b" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.txt").write_text(seed("002"), encoding="utf-8")
    (root / "b" / "deep" / "c.md").write_text(seed("004"), encoding="utf-8")
    (root / "b" / "a.txt").write_text(seed("001"), encoding="utf-8")
    (root / ".hidden.txt").write_text("secret", encoding="utf-8")
    (root / ".git" / "config.txt").write_text("not an article", encoding="utf-8")
    assert [a.id for a in read([root])] == ["news/a.txt", "news/b/a.txt", "news/b/deep/c.md"]


def test_file_argument_id_is_its_normalized_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x").mkdir()
    Path("x/story.md").write_text(seed("004"), encoding="utf-8")
    article = one(["./x/../x/story.md"])
    assert article.id == "x/story.md"
    assert article.error is None and article.meta["format"] == "text"


def test_windows_1256_arabic_is_decoded_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cp1256.txt"
    text = seed("002")
    path.write_bytes(text.encode("cp1256"))
    article = one([path])
    assert article.error is None, article.error
    assert article.text is not None and article.text.strip() == text.strip()
    assert "1256" in str(article.meta["encoding"])


PAGE = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>زيلينسكي وبايدن | موقع الأخبار</title>
<script>var tracker = "TRACKER_SCRIPT";</script><style>.x {{ color: red }}</style></head>
<body><nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/world">NAV_LINK</a></li></ul></nav>
<article><h1>زيلينسكي: بدأنا العمل على اتفاق أمني مع واشنطن</h1>{paragraphs}</article>
<footer>FOOTER_TEXT جميع الحقوق محفوظة</footer><script>console.log("SECOND_SCRIPT")</script>
</body></html>"""


def _page(text: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>\n" for p in text.splitlines() if p.strip())
    return PAGE.format(paragraphs=paragraphs)


def test_html_keeps_the_article_and_drops_scripts_and_navigation(tmp_path: Path) -> None:
    text = seed("001")
    path = tmp_path / "page.html"
    path.write_text(_page(text), encoding="utf-8")
    article = one([path])
    assert article.error is None and article.text is not None
    for paragraph in [p for p in text.splitlines() if p.strip()][:3]:
        assert paragraph.strip() in article.text
    for junk in ("TRACKER_SCRIPT", "SECOND_SCRIPT", "NAV_LINK", "color: red"):
        assert junk not in article.text
    title = "زيلينسكي: بدأنا العمل على اتفاق أمني مع واشنطن"
    assert article.text.startswith(title)
    assert article.text.count(title) == 1
    assert article.meta["title"] == title and article.meta["format"] == "html"


def test_html_without_article_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "shell.htm"
    path.write_text(
        "<html><head><script>render()</script></head><body><div id=app></div></body></html>",
        encoding="utf-8",
    )
    article = one([path])
    assert reason(article) == "empty"
    assert "no article text" in str(article.error) and "shell.htm" in str(article.error)


def test_jsonl_bad_line_in_the_middle_is_named_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = [
        json.dumps(
            {"id": "n-1", "text": seed("002"), "title": "t1", "url": "https://x/1"},
            ensure_ascii=False,
        ),
        '{"id": "n-2", "text": "broken',
        "",
        json.dumps({"text": seed("004")}, ensure_ascii=False),
        json.dumps({"id": "n-5", "body": "wrong field"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 6, "text": "   "}),
        json.dumps({"id": "n-7", "text": 42}),
    ]
    Path("feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = {a.id: a for a in read(["feed.jsonl"])}
    assert list(got) == ["n-1", "feed.jsonl#2", "feed.jsonl#4", "n-5", "feed.jsonl#6", "6", "n-7"]
    assert got["n-1"].text == seed("002") and got["n-1"].meta == {
        "id": "n-1",
        "title": "t1",
        "url": "https://x/1",
        "format": "json",
    }
    assert got["n-1"].source == "feed.jsonl:1"
    assert reason(got["feed.jsonl#2"]) == "bad_input"
    assert "feed.jsonl:2" in str(got["feed.jsonl#2"].error)
    assert "not valid JSON" in str(got["feed.jsonl#2"].error)
    assert got["feed.jsonl#4"].text == seed("004")
    assert reason(got["n-5"]) == "bad_input" and "'body'" in str(got["n-5"].error)
    assert reason(got["feed.jsonl#6"]) == "bad_input"
    assert reason(got["6"]) == "empty"
    assert reason(got["n-7"]) == "bad_input" and "not a string" in str(got["n-7"].error)


def test_jsonl_text_and_id_fields_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"uid": "u1", "body": seed("002")}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    article = one([path], text_field="body", id_field="uid")
    assert article.id == "u1" and article.text == seed("002")


def test_jsonl_line_over_the_limit_is_too_large_and_the_rest_go_on(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    small = json.dumps({"id": "small", "text": "خبر قصير"}, ensure_ascii=False)
    big = json.dumps({"id": "big", "text": "x" * 5000})
    path.write_text(f"{small}\n{big}\n{small.replace('small', 'after')}\n", encoding="utf-8")
    got = read([path], max_input_bytes=1000)
    assert [a.id for a in got][0::2] == ["small", "after"]
    assert reason(got[1]) == "too_large" and ":2" in str(got[1].error)


def test_json_object_and_list(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(
        json.dumps({"id": "solo", "text": seed("002")}, ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "many.json").write_text(
        json.dumps(
            [{"text": seed("002")}, {"id": "k", "text": seed("004")}, "junk"], ensure_ascii=False
        ),
        encoding="utf-8",
    )
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    (tmp_path / "bad.json").write_text('{"text": ', encoding="utf-8")
    got = {
        a.id: a
        for a in read(
            [
                tmp_path / "one.json",
                tmp_path / "many.json",
                tmp_path / "empty.json",
                tmp_path / "bad.json",
            ]
        )
    }
    assert got["solo"].text == seed("002")
    prefix = (tmp_path / "many.json").as_posix()
    assert got[f"{prefix}#1"].text == seed("002")
    assert got["k"].text == seed("004")
    assert reason(got[f"{prefix}#3"]) == "bad_input"
    assert reason(got[(tmp_path / "empty.json").as_posix()]) == "empty"
    assert reason(got[(tmp_path / "bad.json").as_posix()]) == "bad_input"


def test_stdin_id_is_a_hash_of_the_text() -> None:
    text = seed("004")
    article = one(["-"], stdin=io.BytesIO(text.encode("utf-8")))
    assert article.error is None and article.text is not None
    assert article.id == "stdin:" + hashlib.sha256(article.text.encode("utf-8")).hexdigest()[:12]
    assert article.source == "stdin"


def test_unknown_extension_is_sniffed_not_skipped(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "notes.csv").write_text(seed("004"), encoding="utf-8")
    (root / "page").write_text(_page(seed("001")), encoding="utf-8")
    (root / "photo.png").write_bytes(PNG)
    skipped: list[str] = []
    got = {a.id: a for a in read([root], on_skip=skipped.append)}
    assert list(got) == ["mixed/notes.csv", "mixed/page"]
    assert got["mixed/notes.csv"].text is not None
    assert any("'.csv'" in w and "plain text" in w for w in got["mixed/notes.csv"].warnings)
    page = got["mixed/page"]
    assert page.meta["format"] == "html" and "TRACKER_SCRIPT" not in (page.text or "")
    # A known non-text format in a walked folder is left out, and said so (issue #13).
    assert skipped == [f"{root.as_posix()}/photo.png"]


def test_stray_non_text_files_in_a_folder_are_skipped_and_reported(tmp_path: Path) -> None:
    """Issue #13: a scraped folder's images, PDFs and OS litter no longer fail the batch."""
    root = tmp_path / "scraped"
    (root / "img").mkdir(parents=True)
    (root / "a.txt").write_text(seed("002"), encoding="utf-8")
    (root / "img" / "logo.PNG").write_bytes(PNG)
    (root / "img" / "chart.jpeg").write_bytes(PNG)
    (root / "report.pdf").write_bytes(b"%PDF-1.7\n" + bytes(64))
    (root / "Thumbs.db").write_bytes(bytes(64))
    (root / ".DS_Store").write_bytes(bytes(64))  # hidden: skipped without a word, as before
    skipped: list[str] = []
    got = read([root], on_skip=skipped.append)
    assert [a.id for a in got] == ["scraped/a.txt"] and got[0].error is None
    assert sorted(Path(s).name for s in skipped) == [
        "Thumbs.db",
        "chart.jpeg",
        "logo.PNG",
        "report.pdf",
    ]


def test_a_non_text_file_named_explicitly_is_still_read_and_refused(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    assert reason(one([photo])) == "binary"


def test_a_folder_of_only_non_text_files_says_what_it_skipped(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    root.mkdir()
    (root / "a.png").write_bytes(PNG)
    (root / "b.pdf").write_bytes(b"%PDF")
    article = one([root])
    assert reason(article) == "bad_input"
    assert "2 files that are not text (.pdf, .png) were left out" in str(article.error)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\r\n   \n", "empty"),
        ("image.txt", PNG, "binary"),
        ("nul.txt", b"\x00" * 4096, "binary"),
        ("empty.jsonl", b"\n\n", "empty"),
    ],
)
def test_bad_files_become_error_articles(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    article = one([path])
    assert reason(article) == expected
    assert isinstance(article.error, InputError)
    assert article.id == path.as_posix()


def test_a_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    root = tmp_path / "batch"
    root.mkdir()
    (root / "a.txt").write_text(seed("002"), encoding="utf-8")
    (root / "b.txt").write_bytes(b"")
    (root / "c.txt").write_bytes(PNG)
    (root / "d.txt").write_text(seed("004"), encoding="utf-8")
    got = read([root])
    assert [a.error is None for a in got] == [True, False, False, True]


def test_missing_path_is_an_error_article(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    got = read([missing, SEEDS[min(SEEDS)]])
    assert reason(got[0]) == "bad_input" and "no such file" in str(got[0].error)
    assert got[1].error is None


def test_empty_directory_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"\x00\x01")
    article = one([empty])
    assert reason(article) == "bad_input"
    assert "holds no articles" in str(article.error)
    assert article.id == empty.as_posix()


def test_unreadable_file_is_an_error_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(seed("002"), encoding="utf-8")
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            # root reads through chmod 000: simulate the refusal instead.
            real_open = builtins.open

            def refuse(file: object, *args: object, **kwargs: object) -> object:
                if str(file) == str(path):
                    raise PermissionError(13, "Permission denied", str(file))
                return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

            monkeypatch.setattr("khabar.batch.inputs.open", refuse, raising=False)
        article = one([path])
    finally:
        path.chmod(0o644)
    assert reason(article) == "bad_input"
    assert "permission denied" in str(article.error)


def test_file_over_the_limit_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("خبر " * 1000, encoding="utf-8")
    import khabar.batch.inputs

    reads: list[int] = []
    real_open = builtins.open

    class Spy:
        def __init__(self, handle: io.BufferedReader) -> None:
            self.handle = handle

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def fileno(self) -> int:
            return self.handle.fileno()

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return self.handle.read(n)

    def spying_open(file: object, *args: object, **kwargs: object) -> object:
        return Spy(real_open(file, *args, **kwargs))  # type: ignore[call-overload]

    monkeypatch.setattr(khabar.batch.inputs, "open", spying_open, raising=False)
    article = one([path], max_input_bytes=100)
    assert reason(article) == "too_large"
    assert "100-byte" in str(article.error)
    assert reads == []


# --- ids -----------------------------------------------------------------------------------


def test_colliding_ids_are_disambiguated_never_merged(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(seed("002"), encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps({"id": "x", "text": t}, ensure_ascii=False) for t in ("one", "two", "three")
        )
        + "\n",
        encoding="utf-8",
    )
    got = read([path, path, feed])
    ids = [a.id for a in got]
    assert ids == [path.as_posix(), path.as_posix() + "#2", "x", "x#2", "x#3"]
    assert [a.text for a in got[2:]] == ["one", "two", "three"]
    assert ids == [a.id for a in read([path, path, feed])]


def test_error_ids_are_disambiguated_too(tmp_path: Path) -> None:
    missing = tmp_path / "gone.txt"
    got = read([missing, missing])
    assert [a.id for a in got] == [missing.as_posix(), missing.as_posix() + "#2"]
    assert [a.error.article_id for a in got if a.error] == [a.id for a in got]


def test_symlink_loop_ends(tmp_path: Path) -> None:
    root = tmp_path / "loop"
    root.mkdir()
    (root / "a.txt").write_text(seed("002"), encoding="utf-8")
    (root / "again").symlink_to(root, target_is_directory=True)
    assert [a.id for a in read([root])] == ["loop/a.txt"]


# --- Persian joiners through HTML (issue #13) ---------------------------------------------

BBC_FIXTURES = REPO.parent / "shared" / "corpora" / "bbc_simorgh_fixtures" / "data.jsonl"


def _bbc_persian() -> list[dict[str, str]]:
    if not BBC_FIXTURES.is_file():
        pytest.skip(f"the BBC fixtures are not here ({BBC_FIXTURES}); see shared/corpora")
    rows = [json.loads(line) for line in BBC_FIXTURES.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["language"] == "fa"]


def _bbc_page(title: str, text: str, zwnj: str) -> str:
    """A page as BBC Persian serves one: chrome around an <article>; ZWNJ written as ``zwnj``."""
    esc = html.escape
    paragraphs = "".join(f"<p>{esc(p)}</p>" for p in text.splitlines() if p.strip())
    page = (
        f"<!DOCTYPE html><html lang='fa' dir='rtl'><head><title>{esc(title)}</title></head>"
        "<body><header><nav><a href='/persian'>صفحه اصلی</a></nav></header><main><article>"
        f"<h1>{esc(title)}</h1>{paragraphs}</article></main><footer>© BBC 2024</footer></body></html>"
    )
    return page.replace("\u200c", zwnj)


@pytest.mark.parametrize("zwnj", ["\u200c", "&zwnj;", "&#8204;", "&#x200C;"])
def test_html_keeps_every_zwnj_of_the_bbc_persian_fixtures(tmp_path: Path, zwnj: str) -> None:
    """trafilatura dropped every ZWNJ (مقام‌های -> مقامهای); .txt and .jsonl kept them.

    The fixtures' text also holds LRM/RLM typed where a ZWNJ belongs (دست\u200eدست):
    each paragraph must come out exactly as written, those included.
    """
    fixtures = _bbc_persian()
    assert len(fixtures) == 7
    kept = 0
    for row in fixtures:
        path = tmp_path / f"{row['id'].replace(':', '_')}.html"
        path.write_text(_bbc_page(row["title"], row["text"], zwnj), encoding="utf-8")
        article = one([path])
        assert article.text is not None and article.meta["title"] == row["title"]
        original = " ".join(row["text"].split())
        lines = [" ".join(line.split()) for line in article.text.splitlines() if line.strip()]
        assert lines[0] == " ".join(row["title"].split())
        for line in lines[1:]:
            # Each extracted paragraph is the fixture's, joiners and all.
            assert line in original, line
        kept += sum(line.count("\u200c") for line in lines[1:])
    # Every one of the 380 ZWNJ of the seven texts (before the fix: none).
    assert kept == sum(r["text"].count("\u200c") for r in fixtures) == 380


def test_a_page_that_already_holds_a_stand_in_letter_is_not_corrupted(tmp_path: Path) -> None:
    # The stand-ins are letters absent from the page: one in the page is never taken for one.
    gothic = "\U00010330"
    text = f"من {gothic} می\u200cروم و تو می\u200cآیی. " * 8
    path = tmp_path / "p.html"
    path.write_text(_bbc_page("عنوان", text, "\u200c"), encoding="utf-8")
    article = one([path])
    assert article.text is not None
    assert article.text.count(gothic) == 8 and article.text.count("\u200c") == 16


# --- counting before a run (issue #13: a known total for the progress bar) ------------------


def test_the_count_before_a_run_matches_what_the_reader_yields(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "empty-sub").mkdir()
    (root / "a.txt").write_text(seed("000"), encoding="utf-8")
    (root / "b.html").write_text(_page(seed("001")), encoding="utf-8")
    (root / "notes.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (root / "photo.png").write_bytes(PNG)
    (root / "sub" / "empty.txt").write_bytes(b"")
    lines = [json.dumps({"text": "نص"}), "", "   ", "{not json", json.dumps({"txt": 1})]
    (root / "sub" / "r.jsonl").write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n\n")
    (root / "sub" / "blank.jsonl").write_bytes(b"\n \n")
    (root / "sub" / "list.json").write_text(json.dumps([{"text": "a"}, {"text": "b"}, 3]))
    (root / "sub" / "nothing.json").write_text("[]")
    (root / "sub" / "broken.json").write_text("{")
    (root / "sub" / "big.jsonl").write_text(json.dumps({"text": "x" * 500}) + "\n{}\n")
    os.mkfifo(root / "sub" / "pipe.txt")
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    args: list[str | Path] = [root, tmp_path / "missing.txt", lonely, SEEDS[min(SEEDS)], "-"]
    from khabar.batch.counting import count_inputs

    count = count_inputs(args, max_input_bytes=300)
    got = read(args, max_input_bytes=300, stdin=io.BytesIO("خبر".encode()))
    assert count.articles == len(got) == 20, [a.id for a in got]
    assert dict(count.skipped) == {".png": 1}
