"""Grounding on real Arabic and Persian strings from the seeds: excerpts, numbers, dates, whole drafts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khabar.core.digest import DigestDraft
from khabar.core.grounding import (
    check_draft,
    ground,
    locate,
    number_matches,
    parse_date,
    parse_numbers,
    verify,
)
from khabar.core.text import clean_article, fold, normalize_text

from .conftest import corpus_sample, seed

A000 = seed("000")
A001 = clean_article(normalize_text(seed("001"))).text
A003 = clean_article(normalize_text(seed("003"))).text

# --- locating excerpts -----------------------------------------------------------------

FOUND = [
    # (article, excerpt as a model might copy it)
    (A000, "تضمین می‌کند"),  # ZWNJ restored by the model; the page has none
    (A000, "رئیس‌جمهوری اوکراین"),  # hamza-yeh and ZWNJ
    (A000, "اوکراین تاکنون 17 توافقنامه امنیتی"),  # Latin digits for ۱۷
    (A000, 'گامی به سوی "صلح و رفاه"'),  # other quotation marks
    (A001, "بدأا العمل على توقيع اتفاق أمني"),
    (A001, "بقيمة ٦١ مليار دولار"),  # Arabic-Indic digits
    (A001, "وعبر زيلينسكي عبر منصة تويتر"),  # shadda dropped
    (A003, "بقيمة 2.4 مليار يورو"),
    (A003, "أعلن الأمين العام لحلف شمال الأطلسي ... ينس ستولتنبرغ"),  # ellipsis
    (A003, 'كييف "أقرب من أي وقت مضى إلى حلف شمال الأطلسي"'),
]
NOT_FOUND = [
    (A000, "تضمین نمیکند"),
    (A000, "اوکراین تاکنون 18 توافقنامه امنیتی"),
    (A001, "موقف فرنسا واضح"),  # from the appended story, stripped
    (A003, "إصابة 21 شخصًا"),  # idem
    (A003, "ينس ستولتنبرغ ... بقيمة 3 مليار يورو"),
    (A003, "و"),  # too short to prove anything
    (A003, ""),
]


@pytest.mark.parametrize(("article", "excerpt"), FOUND)
def test_locate_finds(article: str, excerpt: str) -> None:
    span = locate(excerpt, article)
    assert span is not None
    start, end = span
    # the span covers the same words in the article's own spelling
    parts = excerpt.split("...")
    found = fold(article[start:end])
    assert found.startswith(fold(parts[0])) and found.endswith(fold(parts[-1]))
    if len(parts) == 1:
        assert found == fold(excerpt)


@pytest.mark.parametrize(("article", "excerpt"), NOT_FOUND)
def test_locate_refuses(article: str, excerpt: str) -> None:
    assert locate(excerpt, article) is None


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_locate_never_reports_what_is_not_there(article: str, excerpt: str) -> None:
    span = locate(excerpt, article)
    if span is not None:
        start, end = span
        assert 0 <= start < end <= len(article)
        key = fold(excerpt)
        if "..." not in excerpt and "…" not in excerpt:
            assert key in fold(article[start:end])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(A003) - 40), st.integers(min_value=5, max_value=40))
def test_every_real_slice_is_found(start: int, length: int) -> None:
    excerpt = A003[start : start + length]
    if len(fold(excerpt)) >= 3:
        span = locate(excerpt, A003)
        assert span is not None


# --- numbers ---------------------------------------------------------------------------

NUMBERS = [
    ("تاکنون ۱۷ توافقنامه امنیتی", [17]),
    ("بقيمة 2.4 مليار يورو", [2.4e9]),
    ("حدود ۱۰ هزار خارجی", [10_000]),
    ("بقيمة 61 مليار دولار", [61e9]),
    ("الدول الأعضاء الـ 27 في الاتحاد", [27]),
    ("أكثر من 160 شركة دفاع و26 دولة", [160, 26]),
    ("30 ألف طائرة دون طيار", [30_000]),
    ("4.65 مليار دولار", [4.65e9]),
    ("۱٬۲۵۰ نفر", [1250]),
    ("۳٫۵ درصد", [3.5]),
    ("1,500,000 شخص", [1_500_000]),
    ("سه توافقنامه امنیتی", [3]),
    ("بستة صواريخ باليستية", [6]),
    ("دو کشور دیگر", [2]),
    ("ودخول عام 2025", [2025]),
]


@pytest.mark.parametrize(("text", "values"), NUMBERS)
def test_parse_numbers(text: str, values: list[float]) -> None:
    assert [n.value for n in parse_numbers(text)] == [float(v) for v in values]


def test_number_matches_only_the_stated_value() -> None:
    evidence = (
        "وأعلن الأمين العام للناتو أن الحلف أبرم عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو"
    )
    assert number_matches(2.4e9, evidence)
    assert not number_matches(2.4, evidence)  # the scale word counts
    assert not number_matches(2.4e6, evidence)
    assert number_matches(17, "اوکراین تاکنون ۱۷ توافقنامه امنیتی")
    assert not number_matches(71, "اوکراین تاکنون ۱۷ توافقنامه امنیتی")


@given(st.text())
def test_parse_numbers_never_raises(text: str) -> None:
    for n in parse_numbers(text):
        assert 0 <= n.start < n.end <= len(text)


# --- dates -----------------------------------------------------------------------------

DATES = [
    # (as written, calendar, (year, month, day), iso)
    ("هفتم تیر", "solar_hijri", (None, 4, 7), None),  # no year: stays partial
    ("پنجشنبه هفتم تیر ۱۴۰۳", "solar_hijri", (1403, 4, 7), "2024-06-27"),
    ("۷ تیر ۱۴۰۳", "solar_hijri", (1403, 4, 7), "2024-06-27"),
    ("بیست و هفتم دی ۱۴۰۲", "solar_hijri", (1402, 10, 27), "2024-01-17"),
    ("1403/04/07", "solar_hijri", (1403, 4, 7), "2024-06-27"),
    ("27 يناير", "gregorian", (None, 1, 27), "--01-27"),
    ("23 يناير 2024", "gregorian", (2024, 1, 23), "2024-01-23"),
    ("شباط/فبراير 2022", "gregorian", (2022, 2, None), "2022-02"),
    ("في يناير", "gregorian", (None, 1, None), "--01"),
    ("15 رمضان 1445 هـ", "lunar_hijri", (1445, 9, 15), "2024-03-25"),  # Umm al-Qura
    ("عام 2025", "gregorian", (2025, None, None), "2025"),
    ("يوم الاثنين", None, (None, None, None), None),
    ("اليوم الخميس", None, (None, None, None), None),
    ("5 كانون الثاني 2024", "gregorian", (2024, 1, 5), "2024-01-05"),
]


@pytest.mark.parametrize(("text", "calendar", "parts", "iso"), DATES)
def test_parse_date(
    text: str, calendar: str | None, parts: tuple[int | None, ...], iso: str | None
) -> None:
    got = parse_date(text)
    assert (got.calendar, (got.year, got.month, got.day), got.iso) == (calendar, parts, iso)


@given(st.text())
def test_parse_date_never_raises(text: str) -> None:
    parse_date(text)


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
