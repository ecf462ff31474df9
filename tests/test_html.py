"""The HTML report (khabar.batch.html): structure, escaping, highlights at their spans, size.

Records come from the real pipeline: the seeds through the CLI against the fake
server (its SYNTHETIC echo responder), and HAND-WRITTEN answers (tests/test_pipeline's
``good_answer`` for the Arabic seed 003, one written here for the Persian seed 000)
through the in-process fake endpoint, so that facts of every kind, overlaps,
dropped facts and sentences, stripped blocks and a rejected draft all occur.
Pages built from them say so in their note: none of it is a model's output.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from khabar.batch.html import render_html, write_html
from khabar.batch.inputs import Article
from khabar.batch.store import make_record
from khabar.cli import cli
from khabar.config import Settings
from khabar.errors import KhabarError
from khabar.pipeline import Summarizer
from khabar.testing import FakeOpenAI, MockTransport, Reply, digest_dict, invented_digest_responder

from .conftest import ARTICLES, SENTINEL_KEY, seed
from .test_pipeline import NUMBER_WRONG, PERSON_INVENTED, good_answer

Records = list[dict[str, Any]]
FACT_KINDS = ("people", "organizations", "locations", "dates", "numbers", "quotes", "sources")
NOTE = (
    "Test fixtures: hand-written answers and the fake server's synthetic answers, "
    "run through khabar's real pipeline. Not a model's output."
)
HOSTILE = (
    "أعلن المتحدث باسم الوزارة أن الاجتماع سيعقد الأسبوع المقبل في العاصمة.\n\n"
    '<script>window.pwned=1</script></article></main><img src=x onerror="window.pwned=2">\n\n'
    "وقال المتحدث إن 12 وفدا سيشاركون في الاجتماع المقبل لبحث الملفات العالقة بين البلدين."
)

MARKUP = '<script>window.pwned=1</script></article></main><img src=x onerror="window.pwned=2">'

# --- records -----------------------------------------------------------------------------


async def _digest_record(article_id: str, text: str, answer: Any, model: str) -> dict[str, Any]:
    """One record made by the real pipeline from a scripted answer (or a responder)."""
    mock = MockTransport(answer) if callable(answer) else MockTransport()
    if isinstance(answer, dict):
        mock.script(Reply.digest(answer))
    article = Article(id=article_id, source=f"evals/articles/{article_id}", text=text)
    settings = Settings(model=model, base_url=mock.base_url, api_key="x", cache=False, max_reasks=0)
    async with Summarizer(settings, transport=mock) as s:
        try:
            digest = await s.asummarize(text, article_id=article_id)
        except KhabarError as exc:
            return make_record(article, error=exc)
    return make_record(article, digest)


def arabic_answer() -> dict[str, Any]:
    """HAND-WRITTEN: tests/test_pipeline's answer for seed 003, with overlaps and failures added."""
    answer = good_answer()
    zelensky = {"name_en": "Volodymyr Zelensky", "name_src": "فولوديمير زيلينسكي",
                "role": "President of Ukraine",
                "evidence": "التقى برئيسها فولوديمير زيلينسكي"}  # inside Kyiv's evidence  # fmt: skip
    answer["people"] = [*answer["people"], zelensky, PERSON_INVENTED]
    answer["numbers"] = [*answer["numbers"], NUMBER_WRONG]
    answer["summary_en"] = [
        *answer["summary_en"],
        {"text": "Stoltenberg said Russia would lose the war this year.",
         "cites": ["قال ستولتنبرغ إن روسيا ستخسر الحرب قبل نهاية العام"]},
    ]  # fmt: skip
    return answer


FA_EV = {
    "zelensky": "ولودیمیر زلنسکی، رییسجمهوری اوکراین، برای امضای سه توافقنامه امنیتی",
    "brussels": "از جمله قراردادی میان اوکراین و اتحادیه اروپا، به بروکسل سفر کرد",
    "date": "او روز پنجشنبه هفتم تیر در شبکه اجتماعی ایکس نوشت",
    "quote": "این توافق تعهد تمامی ۲۷ کشور عضو را به منظور ارائه حمایت قابل توجه از اوکراین",
    "seventeen": "اوکراین تاکنون ۱۷ توافقنامه امنیتی دوجانبه مشابه",
    "stoltenberg": "با ینس استولتنبرگ، دبیرکل ناتو دیدار خواهد کرد",
    "nato": "ائتلاف نظامی ناتو اعلام کرد",
    "ministry": "وزارت دفاع روسیه روز پنجشنبه اعلام کرد حملاتی موشکی به فرودگاههای اوکراینی انجام داده است",
    "ten_k": "حدود ۱۰ هزار خارجی که تابعیت روسیه را گرفتهاند، به جبهه اوکراین اعزام شدهاند",
}


def persian_answer() -> dict[str, Any]:
    """HAND-WRITTEN for seed 000 (Persian): every excerpt copied from the article."""
    e = FA_EV

    def name(en: str, src: str, ev: str, **more: Any) -> dict[str, Any]:
        return {"name_en": en, "name_src": src, "evidence": e[ev], **more}

    def said(text: str, *cites: str) -> dict[str, Any]:
        return {"text": text, "cites": [e[c] for c in cites]}

    def number(value: float, unit: str | None, counts: str, ev: str) -> dict[str, Any]:
        return {"value": value, "unit": unit, "counts": counts, "evidence": e[ev]}

    return digest_dict(
        title_en="Zelensky travels to Brussels to sign security agreements",
        title_src="سفر زلنسکی به بروکسل برای امضای توافقنامه امنیتی",
        summary_en=[
            said("Volodymyr Zelensky travelled to Brussels to sign three security agreements.",
                 "zelensky", "brussels"),
            said("Ukraine has signed 17 similar bilateral security agreements.", "seventeen"),
            said("Russia said about 10,000 foreigners had been sent to the front.", "ten_k"),
        ],
        summary_src=[
            said("زلنسکی برای امضای سه توافقنامه امنیتی به بروکسل سفر کرد.", "zelensky", "brussels"),
            said("اوکراین تاکنون ۱۷ توافقنامه امنیتی دوجانبه امضا کرده است.", "seventeen"),
        ],
        people=[
            name("Volodymyr Zelensky", "ولودیمیر زلنسکی", "zelensky", role="President of Ukraine"),
            name("Jens Stoltenberg", "ینس استولتنبرگ", "stoltenberg", role="NATO Secretary General"),
        ],
        organizations=[
            name("European Union", "اتحادیه اروپا", "brussels"), name("NATO", "ناتو", "nato"),
            name("Russian Ministry of Defence", "وزارت دفاع روسیه", "ministry"),
        ],
        locations=[name("Brussels", "بروکسل", "brussels", kind="city")],
        dates=[{"text": "پنجشنبه هفتم تیر", "refers_to": "Zelensky's post on X", "evidence": e["date"]}],
        numbers=[
            number(27, None, "EU member states", "quote"),
            number(17, None, "bilateral security agreements", "seventeen"),
            number(10000, "people", "foreigners sent to the front", "ten_k"),
        ],
        quotes=[{"speaker_en": "Volodymyr Zelensky", "text_src": e["quote"], "evidence": e["quote"],
                 "text_en": "this agreement guarantees the commitment of all 27 member states"}],
        sources=[name("X", "ایکس", "date")],
    )  # fmt: skip


def cli_records(tmp_path: Path) -> list[dict[str, Any]]:
    """The five seeds through the CLI against the fake server (SYNTHETIC echo answers)."""
    out = tmp_path / "cli.jsonl"
    with FakeOpenAI() as server:
        env = {"KHABAR_MODEL": "synthetic-echo", "KHABAR_BASE_URL": server.base_url,
               "OPENAI_API_KEY": SENTINEL_KEY, "KHABAR_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
        args = ["summarize", str(ARTICLES), "-o", str(out), "--no-progress"]
        result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def seed_records(tmp_path: Path) -> list[dict[str, Any]]:
    """The seed report: hand-written Arabic and Persian digests first, then the CLI's records."""

    made = [("003-hand-written", "003", arabic_answer(), "hand-written"),
            ("000-hand-written", "000", persian_answer(), "hand-written"),
            ("001-invented", "001", invented_digest_responder, "synthetic-inventor")]  # fmt: skip
    records = [asyncio.run(_digest_record(i, seed(s), answer, m)) for i, s, answer, m in made]
    return records + cli_records(tmp_path)


def hostile_record() -> dict[str, Any]:
    """An article carrying markup, and a model answer carrying more (SYNTHETIC, then edited):
    the cleaner strips tags from the text it records, so markup is appended by hand."""
    record = asyncio.run(_digest_record("hostile</article>.txt", HOSTILE, None, "synthetic-echo"))
    assert record["status"] == "ok", record
    d = record["digest"]
    assert any("<script>" in b["text"] for b in d["provenance"]["stripped"])
    start = len(d["text"]) + 2
    d["text"] += "\n\n" + MARKUP
    d["quotes"].append(
        {"speaker_en": "</bdi><script>window.pwned=6</script>", "text_src": MARKUP,
         "text_en": MARKUP, "evidence": MARKUP, "span": [start, start + len(MARKUP)]}
    )  # fmt: skip
    d["title_en"] = "<script>window.pwned=3</script>"
    d["numbers"][0]["counts"] = '<img src=x onerror="window.pwned=4">'
    d["provenance"]["warnings"].append("</table></section><script>window.pwned=5</script>")
    return record


def with_id(record: dict[str, Any], new_id: str) -> dict[str, Any]:
    return {**copy.deepcopy(record), "id": new_id}  # "id" keeps its place: first


def _isolated_seeds(tmp: Path) -> list[dict[str, Any]]:
    # Module scope runs before conftest's per-test isolation: the same isolation here.
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("KHABAR_", "OPENAI_", "AZURE_OPENAI")):
                mp.delenv(name)
        mp.setenv("KHABAR_HOME", str(tmp / "home"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setitem(Settings.model_config, "env_file", None)
        records = [*seed_records(tmp), hostile_record()]
    # The cases the page must show occur, or the tests built on them prove little.
    arabic, persian = by_id(records, "003-hand")["digest"], by_id(records, "000-hand")["digest"]
    assert all(arabic[kind] and persian[kind] for kind in FACT_KINDS)
    assert arabic["provenance"]["dropped"] and arabic["provenance"]["dropped_sentences"]
    assert arabic["provenance"]["stripped"] and (arabic["language"], persian["language"]) == (
        "ar",
        "fa",
    )
    assert by_id(records, "001-invented")["error"]["reason"] == "unsupported"
    assert len(records) == 9 and sum(r["status"] == "ok" for r in records) == 8
    return records


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Hand-written Arabic (003) and Persian (000), the invented 001 (rejected), the CLI's
    five synthetic records, and the hostile record: nine in all."""
    return _isolated_seeds(tmp_path_factory.mktemp("html-seeds"))


@pytest.fixture(scope="module")
def page(seeds: Records) -> str:
    return render_html(seeds, title="khabar seed report", note=NOTE)


def by_id(records: Records, prefix: str) -> dict[str, Any]:
    return next(r for r in records if r["id"].startswith(prefix))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """The parts of a report the tests check, read with the standard library's parser.

    Per ``<article>``: the text of its ``.text`` pane without stripped blocks (which
    must equal the record's text), its marks (offset, tokens, text), the offset at
    which each stripped block stands, and its fact-sheet items.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.starts: list[tuple[str, dict[str, str]]] = []  # every start tag, in order
        self.ends: list[str] = []
        self.articles: dict[str, dict[str, Any]] = {}
        self.art: dict[str, Any] | None = None
        self.feed(source)
        self.close()

    def in_pane(self) -> bool:  # inside the text pane, outside any stripped block
        attrs = [a for _, a in self.stack]
        return any(a.get("class") == "text" for a in attrs) and all(
            "data-x" not in a for a in attrs
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.starts.append((tag, a))
        classes = a.get("class", "").split()
        if tag == "article":
            self.art = self.articles[a["id"]] = {"text": "", "marks": [], "strips": [], "facts": []}
        art = self.art if self.art is not None else {"marks": [], "strips": [], "facts": []}
        if tag == "mark" and self.in_pane():
            art["marks"].append({"s": int(a["data-s"]), "at": len(art["text"]), "text": "",
                                 "f": a.get("data-f", "").split(), "c": a.get("data-c", "").split(),
                                 "class": classes})  # fmt: skip
        if "data-x" in a and self.in_pane():
            art["strips"].append((len(art["text"]), a))
        if tag == "li" and "fact" in classes:
            art["facts"].append(a)
        if tag == "div" and classes == ["text"]:
            art["pane"] = a
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)
        opened = [t for t, _ in self.stack]
        if tag in opened:  # pops what the tag closes, as a browser does
            del self.stack[len(opened) - 1 - opened[::-1].index(tag) :]
        if tag == "article":
            self.art = None

    def handle_data(self, data: str) -> None:
        if self.art is not None and self.in_pane():
            self.art["text"] += data
            if self.stack[-1][0] == "mark":
                self.art["marks"][-1]["text"] += data

    def marks_of(self, article: str, attr: str, token: str) -> list[dict[str, Any]]:
        return [m for m in self.articles[article]["marks"] if token in m[attr]]


def boundaries(d: dict[str, Any]) -> set[int]:
    """Every offset where the page must cut the text, computed apart from the renderer."""
    spans = [f["span"] for kind in FACT_KINDS for f in d[kind]] + [
        span for field in ("summary_en_sentences", "summary_src_sentences")
        for sentence in d[field] for span in sentence["spans"]
    ]  # fmt: skip
    stripped = {b["at"] for b in d["provenance"]["stripped"] if b["at"] is not None}
    return {p for span in spans for p in span} | stripped


def article_key(records: Records, record: dict[str, Any]) -> str:
    return f"a{records.index(record) + 1}"


def section(page: str, records: Records, prefix: str) -> str:
    """The markup of the article whose record id starts with ``prefix``."""
    key = article_key(records, by_id(records, prefix))
    start = page.rindex("<article", 0, page.index(f'id="{key}"'))
    return page[start : page.index("</article>", start)]


def test_one_self_contained_page(seeds: Records, page: str) -> None:
    parsed = Page(page)
    tags = [tag for tag, _ in parsed.starts]
    assert page.startswith("<!DOCTYPE html>") and tags.count("html") == 1
    assert tags.count("script") == 1 and tags.count("style") == 1
    assert "img" not in tags and "iframe" not in tags and "object" not in tags
    for tag, a in parsed.starts:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = a.get(name, "")
            assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, name, value)
        if tag == "link":  # only the empty icon that keeps the browser from asking for one
            assert a == {"rel": "icon", "href": "data:,"}
    assert "@import" not in page and "url(" not in page
    # One section per record, and one index row per record.
    assert sorted(parsed.articles) == sorted(f"a{n}" for n in range(1, len(seeds) + 1))
    rows = [a for tag, a in parsed.starts if tag == "tr" and "data-status" in a]
    assert [r["data-status"] for r in rows] == [r["status"] for r in seeds]
    # The CSP admits exactly the inline script and style (else the page's own script
    # would not run), and shuts out the network and any other script.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = dict(p.strip().split(" ", 1) for p in csp.group(1).split(";"))
    assert policy["default-src"] == "'none'" and "connect-src" not in policy
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert policy[directive] == f"'sha256-{digest}'"


def test_every_kept_fact_is_one_mark_per_segment_at_its_span(seeds: Records, page: str) -> None:
    parsed = Page(page)
    checked = strips = 0
    for record in seeds:
        if record["status"] != "ok":
            continue
        d, key = record["digest"], article_key(seeds, record)
        art = parsed.articles[key]
        # The pane is the record's text, character for character (offsets hold).
        assert art["text"] == d["text"], record["id"]
        for mark in art["marks"]:
            assert mark["at"] == mark["s"] and d["text"][mark["s"] :].startswith(mark["text"])
        cuts = boundaries(d)
        for kind in FACT_KINDS:
            for i, fact in enumerate(d[kind]):
                start, end = fact["span"]
                marks = parsed.marks_of(key, "f", f"{kind}.{i}")
                inner = sorted(p for p in cuts if start < p < end)
                assert len(marks) == len(inner) + 1, (record["id"], kind, i)
                assert [m["s"] for m in marks] == [start, *inner]
                assert "".join(m["text"] for m in marks) == d["text"][start:end]
                checked += 1
        for short, field in (("en", "summary_en_sentences"), ("src", "summary_src_sentences")):
            for si, sentence in enumerate(d[field]):
                for ci, (start, end) in enumerate(sentence["spans"]):
                    marks = parsed.marks_of(key, "c", f"{short}.{si}.{ci}")
                    assert "".join(m["text"] for m in marks) == d["text"][start:end]
        # The fact sheet lists each kept fact once.
        tokens = [li["data-f"] for li in art["facts"]]
        assert tokens == [f"{k}.{i}" for k in FACT_KINDS for i in range(len(d[k]))]
        # Stripped blocks stand collapsed at their offset.
        placed = sorted(b["at"] for b in d["provenance"]["stripped"] if b["at"] is not None)
        assert [at for at, _ in art["strips"]] == placed
        assert all(a["class"] == "strip" and "open" not in a for _, a in art["strips"])
        strips += len(placed)
    assert checked >= 25 and strips >= 10


def test_overlapping_facts_share_segments_that_list_all_of_them(seeds: Records, page: str) -> None:
    arabic = by_id(seeds, "003-hand")
    d, key = arabic["digest"], article_key(seeds, arabic)
    zelensky = next(i for i, p in enumerate(d["people"]) if p["name_en"] == "Volodymyr Zelensky")
    (k0, k1), (z0, z1) = d["locations"][0]["span"], d["people"][zelensky]["span"]
    assert k0 < z0 < z1 < k1  # Zelensky's evidence lies inside Kyiv's
    shared = Page(page).marks_of(key, "f", f"people.{zelensky}")
    assert shared and all("locations.0" in m["f"] and "multi" in m["class"] for m in shared)
    # The narrower fact gives the colour.
    assert all("k-people" in m["class"] for m in shared)


def test_source_text_and_summary_are_right_to_left_with_their_language(
    seeds: Records, page: str
) -> None:
    parsed = Page(page)
    for prefix, lang in (("003-hand", "ar"), ("000-hand", "fa")):
        key = article_key(seeds, by_id(seeds, prefix))
        assert parsed.articles[key]["pane"] == {"class": "text", "dir": "rtl", "lang": lang}
    assert '<p dir="rtl" lang="fa"><span class="sent"' in page
    assert '<p dir="ltr" lang="en"><span class="sent"' in page
    # Names in the other script are isolated, so they cannot reorder their neighbours.
    assert '<bdi dir="rtl" lang="fa">ینس استولتنبرگ</bdi>' in page
    assert '<bdi dir="rtl" lang="ar">فولوديمير زيلينسكي</bdi>' in page


def test_hostile_article_and_model_text_render_as_text(seeds: Records, page: str) -> None:
    hostile, parsed = by_id(seeds, "hostile"), Page(page)
    tags = [tag for tag, _ in parsed.starts]
    assert tags.count("script") == 1 and "img" not in tags
    # </article> in the id and the text closes nothing: one end tag per section.
    assert tags.count("article") == len(seeds) and parsed.ends.count("article") == len(seeds)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script is not None and "window.pwned" not in script.group(1)
    art = parsed.articles[article_key(seeds, hostile)]
    assert art["text"] == hostile["digest"]["text"] and MARKUP in art["text"]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;/article&gt;" in page
    for payload in ("window.pwned=3", "window.pwned=4", "window.pwned=5", "window.pwned=6"):
        assert payload in page
        for chunk in page.split(payload)[:-1]:
            assert chunk.endswith(("&lt;script&gt;", "onerror=&quot;")), payload
    # The tags the cleaner stripped from the page are shown as stripped text too.
    assert "&lt;script&gt; &lt;/script&gt;" in page


def test_dates_and_numbers_as_written_and_converted(seeds: Records, page: str) -> None:
    persian = by_id(seeds, "000-hand")["digest"]["dates"][0]
    assert persian["calendar"] == "solar_hijri" and persian["iso"] is None  # no year in the text
    fa = section(page, seeds, "000-hand")
    assert 'as written</span> <b><bdi dir="rtl" lang="fa">پنجشنبه هفتم تیر</bdi></b>' in fa
    assert "calendar</span> Solar Hijri ?/4/7" in fa
    assert "ISO</span> <i>not determinable</i>" in fa
    assert "value</span> <b>10,000</b> <bdi>people</bdi>" in fa
    assert by_id(seeds, "003-hand")["digest"]["dates"][0]["iso"] == "2022-02"
    ar = section(page, seeds, "003-hand")
    assert 'as written</span> <b><bdi dir="rtl" lang="ar">شباط/فبراير 2022</bdi></b>' in ar
    assert "calendar</span> Gregorian 2022/2" in ar and "ISO</span> <code>2022-02</code>" in ar
    # Numbers: as written is the evidence, highlighted and quoted; the value with its unit.
    assert "<b>2,400,000,000 (2.4 billion)</b> <bdi>EUR</bdi>" in ar
    assert "أبرم عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو</q>" in ar


def test_dropped_facts_and_sentences_with_their_reasons(seeds: Records, page: str) -> None:
    prov = by_id(seeds, "003-hand")["digest"]["provenance"]
    html = section(page, seeds, "003-hand")
    assert "Dropped: 2 facts, 1 sentence" in html and "English summary, sentence 3" in html
    for item in [*prov["dropped"], *prov["dropped_sentences"]]:
        reason = item["reason"].replace("'", "&#x27;")
        assert f'<td class="why"><bdi>{reason}</bdi></td>' in html


def test_provenance_and_plumbing_warning(seeds: Records) -> None:
    record = with_id(by_id(seeds, "000-hand"), "plumbed")
    record["digest"]["provenance"].update(plumbing=True, model="SmolLM2-135M-Instruct.Q4_1", cache_hit=True,
                                          reasks=1, attempts=2, prompt_tokens=1234, completion_tokens=567)  # fmt: skip
    html = render_html([record, by_id(seeds, "003-hand")])
    assert html.count("Plumbing model: SmolLM2-135M-Instruct.Q4_1 made 1 of these digests") == 1
    assert "⚠ Plumbing model: <b>SmolLM2-135M-Instruct.Q4_1</b> made this digest" in html
    assert '<b class="bad">⚠ plumbing</b>' in html
    for row in ("<th>tokens</th><td>1234 in / 567 out</td>", "<th>attempts</th><td>2</td>",
                "<th>re-asks</th><td>1</td>", "<th>cache hit</th><td>yes</td>",
                '<span class="sup s-verified">verified</span>'):  # fmt: skip
        assert row in html
    assert "plumbing model" not in render_html([by_id(seeds, "000-hand")]).lower()


def test_index_rows_count_kept_and_dropped(seeds: Records, page: str) -> None:
    rows = re.findall(r"<tr data-status=.*?</tr>", page)
    assert len(rows) == len(seeds)
    arabic = rows[seeds.index(by_id(seeds, "003-hand"))]
    d = by_id(seeds, "003-hand")["digest"]
    kept = sum(len(d[k]) for k in FACT_KINDS)
    assert kept == 9 and f'<td class="n">{kept} / 2</td>' in arabic
    assert '<td class="n">3 / 1</td>' in arabic and 's-partial">partial' in arabic
    rejected = rows[seeds.index(by_id(seeds, "001-invented"))]
    assert "error: unsupported" in rejected and "(rejected)" in rejected
    filters = {"status": "error ok", "lang": "ar fa", "support": "partial unsupported verified"}
    for name, values in filters.items():
        select = re.search(rf'<select data-filter="{name}">(.*?)</select>', page)
        assert select and re.findall(r'<option value="([^"]+)">', select.group(1)) == values.split()


def test_an_unsupported_record_shows_its_draft_as_rejected(seeds: Records, page: str) -> None:
    record = by_id(seeds, "001-invented")
    html = section(page, seeds, "001-invented")
    assert html.startswith('<article class="rec rejected err"')
    assert "Failed: unsupported" in html and "Rejected draft." in html
    assert "<s><bdi>Historic agreement signed</bdi></s> (rejected)" in page
    for reason in {d["reason"] for d in record["draft"]["provenance"]["dropped_sentences"]}:
        assert reason.split(":")[0] in html


def test_without_text_the_fact_sheet_stands_alone_and_says_why(seeds: Records) -> None:
    record = with_id(by_id(seeds, "003-hand"), "no-text")
    record["digest"]["text"] = None
    html = render_html([record])
    art = Page(html).articles["a1"]
    assert "pane" not in art and not art["marks"]
    assert "The article text is not in this record" in html and "KHABAR_RECORD_TEXT" in html
    assert len(art["facts"]) == 9 and all("nohl" in li["class"] for li in art["facts"])
    assert record["digest"]["people"][0]["evidence"] in html
    assert "This record is malformed" not in html


MALFORMED: list[Any] = [
    None, 42, "a string", [], {}, {"id": 7, "status": "ok"},
    {"id": "no-digest", "status": "ok", "digest": "nope"},
    {"id": "weird-status", "status": "maybe", "digest": None},
    {"id": "error-no-detail", "status": "error", "error": "boom", "draft": [1, 2]},
]  # fmt: skip


BROKEN: list[dict[str, Any]] = [  # changes to a good digest
    {"text": 5}, {"language": '"><script>x()</script>', "people": "not a list"},
    {"numbers": [{"value": "lots", "span": [30, 10]}, "not a fact", {"span": "0-4"}]},
    {"dates": [{"text": None, "span": [0, 10**9]}]},
    {"summary_en_sentences": [{"text": "x", "cites": ["a"], "spans": [[1, 2], [3, 4]]}, 5]},
    {"provenance": [], "support": "yes"},
    {"text": "\ud800 a lone surrogate\x00 and a NUL", "people": [], "organizations": []},
]  # fmt: skip


def _broken_digest(good: dict[str, Any]) -> list[dict[str, Any]]:
    out = [with_id(good, f"broken-{i}") for i in range(len(BROKEN) + 1)]
    for record, change in zip(out, BROKEN, strict=False):
        record["digest"].update(copy.deepcopy(change))
    out[-1]["digest"]["provenance"]["stripped"] = [{"kind": "x", "text": "y", "at": -3}, "junk"]
    return out


def test_malformed_records_render_with_their_problems(seeds: Records) -> None:
    records = [*MALFORMED, *_broken_digest(by_id(seeds, "003-hand"))]
    html = render_html(records)
    html.encode("utf-8")  # no lone surrogate reaches the page
    parsed = Page(html)
    assert len(parsed.articles) == len(records)
    assert html.count("This record is malformed") >= len(records) - 1
    assert "<script>x()" not in html and "\x00" not in html
    for problem in ("the article text is not a string", "people is not a list",
                    "numbers.0 has an unusable span [30, 10]", "numbers.1 is not an object",
                    "beyond the text", "has 1 citations but 2 spans", "the digest has no provenance",
                    "stripped block 0 has an unusable position -3", "unknown status &#x27;maybe&#x27;"):  # fmt: skip
        assert problem in html, problem
    # What could be read is still shown: the good facts of a partly broken digest.
    assert html.count("Jens Stoltenberg") >= 5


def test_a_record_the_renderer_cannot_read_is_shown_raw(
    seeds: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    import khabar.batch.html_article as article

    def explode(*args: object, **kwargs: object) -> str:
        raise RuntimeError("renderer bug <b>")

    monkeypatch.setattr(article, "_fact_sheet", explode)
    html = render_html([by_id(seeds, "000-hand"), {"id": "x", "status": "error"}])
    assert "Record 1: could not be rendered" in html
    assert "RuntimeError: renderer bug &lt;b&gt;" in html
    assert "000-hand-written" in html  # the raw record, escaped
    assert len(Page(html).articles) == 2


def test_write_html_one_page_or_an_index_and_a_page_each(seeds: Records, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert write_html(seeds, out, per_article_threshold=len(seeds)) == [out]
    assert len(Page(out.read_text(encoding="utf-8")).articles) == len(seeds)

    records = [*seeds, with_id(seeds[0], "../../escape/../me")]
    written = write_html(records, out, per_article_threshold=3)
    assert written[0] == out and len(written) == len(records) + 1
    folder, index = tmp_path / "report_articles", out.read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written[1:])
    assert written[-1].name == "00010-escape-me.html" and not Page(index).articles
    links = re.findall(r'<td><a href="([^"]+)">', index)
    assert links == [f"report_articles/{p.name}" for p in written[1:]]
    for path in written[1:]:
        parsed = Page(path.read_text(encoding="utf-8"))
        assert len(parsed.articles) == 1
        assert [t for t, _ in parsed.starts].count("script") == 1
        hrefs = [a["href"] for t, a in parsed.starts if t == "a" and "href" in a]
        assert "../report.html" in hrefs
        assert all((path.parent / href).resolve().exists() for href in hrefs), hrefs
    # A smaller report removes the pages the larger one left.
    written = write_html(records[:5], out, per_article_threshold=3)
    assert len(list(folder.iterdir())) == 5


def test_a_hundred_articles_make_a_page_small_enough_to_mail(seeds: Records) -> None:
    ok = [r for r in seeds if r["status"] == "ok" and not r["id"].startswith("hostile")]
    records = [with_id(ok[i % len(ok)], f"article-{i:03d}") for i in range(100)]
    size = len(render_html(records).encode("utf-8"))
    # Mail services accept 20-25 MB; the page stays far under, at about 2.5x the text it shows.
    assert size < 3_000_000, size
