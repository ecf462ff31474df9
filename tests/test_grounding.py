"""Grounding of whole drafts on real Arabic and Persian strings from the seeds."""

from __future__ import annotations

from khabar.core.digest import DigestDraft
from khabar.core.grounding import (
    check_draft,
    ground,
    locate,
    verify,
)
from khabar.core.text import clean_article, fold, normalize_text

from .conftest import corpus_sample, seed

A000 = seed("000")
A001 = clean_article(normalize_text(seed("001"))).text
A003 = clean_article(normalize_text(seed("003"))).text

# Locating excerpts, numbers and dates have their own modules: tests/test_locate.py,
# tests/test_numbers.py, tests/test_dates.py (every case that stood here stands there).

# --- whole drafts ----------------------------------------------------------------------


def draft(**facts: object) -> DigestDraft:
    return DigestDraft.model_validate(
        {"title_en": "t", "title_src": "t", "summary_en": "s", "summary_src": "s", **facts}
    )


def test_ground_keeps_verified_and_drops_the_rest_with_reasons() -> None:
    d = draft(
        people=[
            {
                "name_en": "Jens Stoltenberg",
                "name_src": "ينس ستولتنبرغ",
                "evidence": "الأمين العام لحلف شمال الأطلسي (ناتو) ينس ستولتنبرغ",
            },
            {
                "name_en": "Dmitry Peskov",
                "name_src": "دميتري بيسكوف",
                "evidence": "الناطق باسم الكرملين دميتري بيسكوف",
            },
        ],
        numbers=[
            {
                "value": 2.4e9,
                "unit": "EUR",
                "counts": "contracts",
                "evidence": "بقيمة 2.4 مليار يورو",
            },
            {
                "value": 2.4e9,
                "unit": "USD",
                "counts": "contracts",
                "evidence": "بقيمة 2.4 مليار يورو",
            },
            {"value": 21, "counts": "injured", "evidence": "أكثر من 160 شركة دفاع و26 دولة"},
        ],
        dates=[
            {
                "text": "شباط/فبراير 2022",
                "refers_to": "invasion",
                "evidence": "منذ شباط/فبراير 2022",
                "iso": "1999-01-01",
            }
        ],
        quotes=[
            {
                "speaker_en": "Jens Stoltenberg",
                "text_src": "أقرب من أي وقت مضى إلى حلف شمال الأطلسي",
                "text_en": "closer",
                "evidence": 'أن كييف "أقرب من أي وقت مضى إلى حلف شمال الأطلسي"',
            },
            {
                "speaker_en": "Jens Stoltenberg",
                "text_src": "سننتصر قريبا",
                "text_en": "invented",
                "evidence": 'أن كييف "أقرب من أي وقت مضى إلى حلف شمال الأطلسي"',
            },
        ],
    )
    result = ground(d, A003)
    g = result.draft
    assert [p.name_en for p in g.people] == ["Jens Stoltenberg"]
    assert [n.unit for n in g.numbers] == ["EUR"]
    assert len(g.quotes) == 1
    assert result.verified == 4
    reasons = {(x.field, x.reason.split(":")[0]) for x in result.dropped}
    assert (
        "people",
        "its evidence is not in the article",
    ) in reasons  # Peskov is in the appended story
    assert any(x.field == "numbers" and "USD" in x.reason for x in result.dropped)
    assert any(x.field == "numbers" and "21" in x.reason for x in result.dropped)
    assert any(x.field == "quotes" and "verbatim" in x.reason for x in result.dropped)
    # code owns the date fields, whatever the model sent
    date = g.dates[0]
    assert (date.calendar, date.iso) == ("gregorian", "2022-02")
    # spans point into the article
    person = g.people[0]
    assert person.span is not None and "ستولتنبرغ" in A003[person.span[0] : person.span[1]]


def test_check_draft_lists_problems_for_the_reask() -> None:
    d = draft(
        people=[
            {"name_en": "X", "name_src": "ينس ستولتنبرغ", "evidence": "ينس ستولتنبرغ يزور موسكو"}
        ]
    )
    problems = check_draft(d, A003)
    assert len(problems) == 1 and problems[0].startswith("people[0]")
    assert check_draft(draft(), A003) == []


def test_name_must_be_written_in_the_article() -> None:
    d = draft(
        people=[{"name_en": "Joe Biden", "name_src": "جو بايدن", "evidence": "ينس ستولتنبرغ"}]
    )
    assert "not written in the article" in check_draft(d, A003)[0]


def test_the_draft_type_checks_shape_only_and_verify_checks_the_article() -> None:
    bad = {"title_en": "t", "title_src": "t", "summary_en": "s", "summary_src": "s",
           "people": [{"name_en": "X", "name_src": "X", "evidence": "not in the article at all"}]}  # fmt: skip
    d = DigestDraft.model_validate(bad)  # structurally fine, and nothing else is checked here
    DigestDraft.model_validate(bad, context={"article": A003})  # a context changes nothing
    result = verify(d, A003)
    assert result.verified == 0 and not result.ok
    assert len(result.dropped) == 1 and "not in the article" in result.dropped[0].reason
    assert check_draft(d, A003) == [p for p in result.problems if p.startswith("people")]
    assert len(check_draft(d, A003)) == 1


def test_grounding_on_real_corpus_sentences() -> None:
    """Every sentence of 40 real articles is found in its own article, never in an unrelated one."""
    rows = corpus_sample()[:40]
    for i, row in enumerate(rows):
        text = normalize_text(row["text"])
        other = normalize_text(rows[(i + 1) % len(rows)]["text"])
        for sentence in [s for s in text.replace("؟", ".").split(".") if len(fold(s)) > 30][:5]:
            assert locate(sentence, text) is not None
            assert locate(sentence, other) is None


def test_evidence_cut_inside_a_number_does_not_verify_that_number() -> None:
    """'5 مليار' is verbatim in '2.5 مليار', but the article's number is 2.5e9, not 5e9."""
    article = "وقالت الحكومة إن قيمة الصفقة بلغت 2.5 مليار دولار هذا العام."
    cut = {"value": 5e9, "unit": "USD", "counts": "deal", "evidence": "5 مليار دولار هذا العام"}
    whole = {**cut, "value": 2.5e9, "evidence": "بلغت 2.5 مليار دولار هذا العام"}
    result = verify(draft(numbers=[cut, whole]), article)
    assert [n.value for n in result.draft.numbers] == [2.5e9]
    assert "cuts a number" in result.dropped[0].reason
