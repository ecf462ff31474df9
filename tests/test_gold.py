"""The hand-made gold annotations in evals/gold/ are consistent with their articles.

Every native-script string a gold file claims is verbatim (aliases, numbers, dates,
quotes, boilerplate starts) must be found in its article after ``fold``, and every
key fact must be covered by the gold's own reference English summary.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from khabar.core.text import fold

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "evals" / "articles"
GOLD = REPO / "evals" / "gold"

STEMS = sorted(p.stem for p in ARTICLES.glob("*.txt"))

REQUIRED_KEYS = {
    "article",
    "language",
    "summary_en",
    "summary_src",
    "key_facts",
    "people",
    "organizations",
    "locations",
    "sources",
    "numbers",
    "dates",
    "quotes",
    "not_main_story",
    "leak",
}
ENTITY_KEYS = ("people", "organizations", "locations", "sources")
LEAK_KEYS = {"people", "organizations", "locations", "sources", "numbers"}
LOCATION_KINDS = {"country", "city", "region", "continent", "facility", "other"}
NOT_MAIN_KINDS = {
    "appended_story",
    "read_also",
    "related",
    "source_line",
    "donation",
    "keywords",
    "agency_line",
}
ISO_DATE = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|--\d{2}(-\d{2})?)$")


def has_arabic_letters(text: str) -> bool:
    """True when ``text`` holds at least one Arabic-script letter (Arabic or Persian)."""
    return any(ch.isalpha() and unicodedata.name(ch, "").startswith("ARABIC") for ch in text)


def load(stem: str) -> tuple[dict[str, Any], str]:
    gold_path = GOLD / f"{stem}.yaml"
    assert gold_path.is_file(), f"no gold file for {stem}"
    gold = yaml.safe_load(gold_path.read_text(encoding="utf-8"))
    article = (ARTICLES / f"{stem}.txt").read_text(encoding="utf-8")
    return gold, fold(article)


def assert_in_article(text: str, folded_article: str, what: str) -> None:
    key = fold(text)
    assert key, f"{what}: {text!r} folds to nothing"
    assert key in folded_article, f"{what}: {text!r} is not in the article"


def covered(keywords: list[list[str]], summary: str) -> bool:
    """The key-fact rule: every group has an alternative that is a substring of ``summary``."""
    low = summary.lower()
    return all(any(alt.lower() in low for alt in group) for group in keywords)


def test_five_seed_articles() -> None:
    assert len(STEMS) == 5
    assert sorted(p.stem for p in GOLD.glob("*.yaml")) == STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_required_keys(stem: str) -> None:
    gold, _ = load(stem)
    assert isinstance(gold, dict)
    missing = REQUIRED_KEYS - set(gold)
    assert not missing, f"missing keys: {sorted(missing)}"
    assert gold["article"] == f"{stem}.txt"
    assert gold["language"] == ("fa" if stem.startswith("000") else "ar")
    assert isinstance(gold["summary_en"], str) and gold["summary_en"].strip()
    assert isinstance(gold["summary_src"], str) and has_arabic_letters(gold["summary_src"])
    assert 4 <= len(gold["key_facts"]) <= 7
    assert set(gold["leak"]) == LEAK_KEYS


@pytest.mark.parametrize("stem", STEMS)
def test_native_aliases_are_in_article(stem: str) -> None:
    gold, folded = load(stem)
    for key in ENTITY_KEYS:
        for entity in gold[key]:
            assert entity["name_en"], f"{key}: entity without name_en"
            natives = [a for a in entity["aliases"] if has_arabic_letters(a)]
            assert natives, f"{key}: {entity['name_en']} has no native-script alias"
            for alias in natives:
                assert_in_article(alias, folded, f"{key} alias of {entity['name_en']}")
    for loc in gold["locations"]:
        assert loc["kind"] in LOCATION_KINDS, loc
    for quote in gold["quotes"]:
        for alias in quote.get("speaker_aliases") or []:
            if has_arabic_letters(alias):
                assert_in_article(alias, folded, f"speaker alias of {quote['speaker_en']}")
    for key in LEAK_KEYS - {"numbers"}:
        for name in gold["leak"][key]:
            if has_arabic_letters(name):
                assert_in_article(name, folded, f"leak.{key}")


@pytest.mark.parametrize("stem", STEMS)
def test_numbers_dates_quotes_are_verbatim(stem: str) -> None:
    gold, folded = load(stem)
    for number in gold["numbers"]:
        assert isinstance(number["value"], (int, float)) and not isinstance(number["value"], bool)
        assert number["unit"] is None or isinstance(number["unit"], str)
        assert_in_article(number["text"], folded, "numbers.text")
    for date in gold["dates"]:
        assert date["iso"] is None or ISO_DATE.match(str(date["iso"])), date
        assert date["refers_to"]
        assert_in_article(date["text"], folded, "dates.text")
    for quote in gold["quotes"]:
        assert quote["speaker_en"]
        assert_in_article(quote["text_src"], folded, "quotes.text_src")


@pytest.mark.parametrize("stem", STEMS)
def test_not_main_story_starts_are_in_article(stem: str) -> None:
    gold, folded = load(stem)
    for block in gold["not_main_story"]:
        assert block["kind"] in NOT_MAIN_KINDS, block
        assert_in_article(block["starts_with"], folded, "not_main_story.starts_with")


@pytest.mark.parametrize("stem", STEMS)
def test_key_facts_covered_by_reference_summary(stem: str) -> None:
    gold, _ = load(stem)
    for fact in gold["key_facts"]:
        assert fact["text"]
        groups = fact["keywords"]
        assert groups and all(isinstance(g, list) and g for g in groups), fact
        assert covered(groups, gold["summary_en"]), f"not covered: {fact['text']}"
