"""The Markdown report: counts, RTL summaries, fact tables that survive any cell, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from khabar.batch.report import render_markdown
from khabar.batch.store import JsonlStore, iter_records, make_record
from khabar.core.digest import DateFact, NumberFact, Person, Quote
from khabar.errors import BinaryInputError, TransportError

from .test_store import article, digest

PLUMBING = "plumbing model: SmolLM2-135M is a tiny English-only model bundled for testing"


def records() -> list[dict[str, Any]]:
    ar = digest(
        "news/ar.txt", unverified_dropped=2, prompt_tokens=812, completion_tokens=240, latency_s=1.5
    )
    ar.title_en = "Zelensky | Biden agree"
    ar.summary_en = "Ukraine and the US began work on a security pact. <script>alert(1)</script>"
    ar.summary_src = "بدأت أوكرانيا والولايات المتحدة العمل على اتفاق أمني."
    ar.people = [
        Person(
            name_en="Volodymyr Zelensky",
            name_src="فولوديمير زيلينسكي",
            role="President | Ukraine",
            evidence="الرئيس الأوكراني\nفولوديمير زيلينسكي",
        ),
    ]
    ar.numbers = [NumberFact(value=2.4e9, unit="EUR", counts="aid", evidence="2.4 مليار يورو")]
    ar.quotes = [
        Quote(
            speaker_en="Zelensky",
            text_src="بدأنا العمل",
            text_en="We have begun",
            evidence="بدأنا العمل",
        )
    ]
    fa = digest(
        "news/fa.txt",
        model="SmolLM2-135M-Instruct.Q4_1",
        provider="local",
        plumbing=True,
        cache_hit=True,
        warnings=[PLUMBING, "article truncated to 24000 characters"],
    )
    fa.language = "fa"
    fa.summary_src = "زلنسکی به بروکسل سفر کرد."
    fa.dates = [
        DateFact(
            text="هفتم تیر",
            refers_to="the visit",
            calendar="solar_hijri",
            iso="--06-27",
            evidence="هفتم تیر",
        )
    ]
    return [
        make_record(article("news/ar.txt"), digest=ar),
        make_record(article("news/fa.txt", warnings=["decoded as windows-1256"]), digest=fa),
        make_record(
            article("news/bad.png"),
            error=BinaryInputError("news/bad.png: binary", article_id="news/bad.png"),
        ),
        make_record(
            article("news/down.txt"),
            error=TransportError("5xx | forever", article_id="news/down.txt"),
        ),
    ]


def test_header_counts_and_plumbing_warning_first() -> None:
    md = render_markdown(records(), title="Ukraine digests")
    head = md.split("\n## ", 1)[0]
    assert head.startswith("# Ukraine digests\n")
    assert "**4 articles**: 2 summarized, 2 failed" in head
    assert "From cache: 1" in head and "812 in / 240 out" in head
    assert "Warning: plumbing model: SmolLM2-135M" in head
    assert "`fake-model via openai`" in head


def test_rtl_summaries_sit_in_rtl_blocks() -> None:
    md = render_markdown(records())
    assert (
        '<div dir="rtl" lang="ar">\n\n**عنوان**\n\nبدأت أوكرانيا والولايات المتحدة العمل على اتفاق أمني.\n\n</div>'
        in md
    )
    assert '<div dir="rtl" lang="fa">' in md and "زلنسکی به بروکسل سفر کرد." in md


def test_articles_have_headings_facts_and_provenance() -> None:
    md = render_markdown(records())
    assert "## Zelensky | Biden agree · `news/ar.txt`\n" in md
    assert "### People" in md and "| English | native | role | evidence |" in md
    assert "| 2,400,000,000 | EUR | aid | 2.4 مليار يورو |" in md
    assert "| Zelensky | بدأنا العمل | We have begun |" in md
    assert "| هفتم تیر | Solar Hijri | --06-27 | the visit |" in md
    assert "Unverified facts dropped: 2" in md
    assert (
        "model `fake-model` · provider `openai` · prompt `p1` · cache hit: no · tokens 812 in / 240 out · latency 1.50 s"
        in md
    )
    assert "cache hit: yes" in md
    assert "- decoded as windows-1256" in md and "- article truncated to 24000 characters" in md


def test_cells_escape_pipes_and_newlines_and_html() -> None:
    md = render_markdown(records())
    assert (
        "| Volodymyr Zelensky | فولوديمير زيلينسكي | President \\| Ukraine | الرئيس الأوكراني<br>فولوديمير زيلينسكي |"
        in md
    )
    # Every row of a table has as many unescaped pipes as its header.
    for block in md.split("\n\n"):
        rows = [line.replace("\\|", "") for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, block
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_failed_articles_table() -> None:
    md = render_markdown(records())
    failed = md.split("## Failed articles", 1)[1]
    assert "| id | reason | message |" in failed
    assert "| news/bad.png | binary |" in failed
    assert "| news/down.txt | transport | [news/down.txt] 5xx \\| forever" in failed


def test_empty_input_and_round_trip_through_the_store(tmp_path: Path) -> None:
    assert render_markdown([]) == "# khabar digests\n\nNo records.\n"
    path = tmp_path / "o.jsonl"
    with JsonlStore(path) as store:
        for record in records():
            store.append(record)
    assert render_markdown(iter_records(path, latest_only=True)) == render_markdown(records())


def test_duplicates_are_marked_and_not_counted_twice() -> None:
    items = records()
    dup = dict(items[0], id="news/copy.txt", source="mirror/copy.txt", duplicate_of="news/ar.txt")
    md = render_markdown([*items, dup])
    assert "**5 articles**: 3 summarized, 2 failed, 1 duplicate." in md
    assert "812 in / 240 out" in md
    assert "source `mirror/copy.txt` · Arabic · duplicate of `news/ar.txt`" in md


def test_plumbing_banner_follows_the_provenance_flag_not_the_wording() -> None:
    """Provenance's typed ``plumbing`` flag raises the banner; a warning's text does not."""
    plain = make_record(article("news/a.txt"), digest=digest("news/a.txt"))
    flagged: dict[str, Any] = {
        **plain,
        "id": "news/b.txt",
        "digest": {
            **plain["digest"],
            "provenance": {**plain["digest"]["provenance"], "model": "tiny", "plumbing": True},
        },
    }
    md = render_markdown([plain, flagged])
    head = md.split("\n## ", 1)[0]
    assert "> **⚠ Warning: plumbing model: tiny made 1 of these digests.**" in head
    assert "they are not meaningful summaries" in head

    worded = make_record(
        article("news/c.txt"), digest=digest("news/c.txt", warnings=["plumbing model: look-alike"])
    )
    md = render_markdown([plain, worded])
    assert "⚠" not in md.split("\n## ", 1)[0]
    # Not the plumbing model: its warning is just a warning of that article.
    assert "- plumbing model: look-alike" in md
