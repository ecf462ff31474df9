"""Locating excerpts in real articles: what a model changes is found, what changes the meaning is not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khabar.core.grounding import contains, locate
from khabar.core.grounding.locate import splits_number
from khabar.core.text import clean_article, fold, normalize_text

from .conftest import corpus_sample, seed

A000 = seed("000")
A001 = clean_article(normalize_text(seed("001"))).text
A003 = clean_article(normalize_text(seed("003"))).text

# --- the cases of the first round (they stood in test_grounding.py) ----------------

FOUND = [
    (A000, "تضمین می‌کند"),
    (A000, "رئیس‌جمهوری اوکراین"),
    (A000, "اوکراین تاکنون 17 توافقنامه امنیتی"),
    (A000, 'گامی به سوی "صلح و رفاه"'),
    (A001, "بدأا العمل على توقيع اتفاق أمني"),
    (A001, "بقيمة ٦١ مليار دولار"),
    (A001, "وعبر زيلينسكي عبر منصة تويتر"),
    (A003, "بقيمة 2.4 مليار يورو"),
    (A003, "أعلن الأمين العام لحلف شمال الأطلسي ... ينس ستولتنبرغ"),
    (A003, 'كييف "أقرب من أي وقت مضى إلى حلف شمال الأطلسي"'),
]
NOT_FOUND = [
    (A000, "تضمین نمیکند"),
    (A000, "اوکراین تاکنون 18 توافقنامه امنیتی"),
    (A001, "موقف فرنسا واضح"),
    (A003, "إصابة 21 شخصًا"),
    (A003, "ينس ستولتنبرغ ... بقيمة 3 مليار يورو"),
    (A003, "و"),
    (A003, ""),
]

# --- issue #10: numbers keep their separators ------------------------------------------

FOUND += [
    (A003, "بقيمة ٢٫٤ مليار يورو"),  # Arabic decimal mark and digits
    (A003, "بقيمة 2٫4 مليار يورو"),
    (A003, "أكثر من ١٦٠ شركة دفاع و٢٦ دولة"),
    ("بلغ عدد المشاركين 30،000 شخص", "30,000 شخص"),  # Arabic comma groups thousands
    ("بلغ عدد المشاركين 30,000 شخص", "30٬000 شخص"),
    ("فاز الفريق 2 - 1 على ضيفه", "فاز الفريق 2-1 على ضيفه"),
    ("تعهد تمامی ۲۷ کشور عضو", "تعهد تمامی 27 کشور عضو"),
]
NOT_FOUND += [
    ("ووصلت الصادرات إلى 25 مليار دولار", "إلى 2.5 مليار دولار"),
    ("ووصلت الصادرات إلى 2.5 مليار دولار", "إلى 25 مليار دولار"),
    ("بلغ سعر الطن 3.500 دولار", "بلغ سعر الطن 3500 دولار"),
    ("بلغ سعر الطن 3500 دولار", "بلغ سعر الطن 3.500 دولار"),
    ("فاز الفريق 2-1 على ضيفه", "فاز الفريق 21 على ضيفه"),
    ("فاز الفريق 21 على ضيفه", "فاز الفريق 2-1 على ضيفه"),
    ("بلغ عدد المشاركين 30,000 شخص", "بلغ عدد المشاركين 30.000 شخص"),
    (A003, "بقيمة 24 مليار يورو"),
    (A003, "بقيمة 2 4 مليار يورو"),
]

# --- issue #10: elision ----------------------------------------------------------------

NEGATED = "قالت الحكومة إنها لن توافق على الخطة. وأضاف الوزير أن المحادثات مستمرة."
FOUND += [
    (NEGATED, "قالت الحكومة إنها لن توافق على الخطة"),
    (NEGATED, "قالت الحكومة … لن توافق على الخطة"),
    (A003, "أعلن الأمين العام لحلف شمال الأطلسي [...] ينس ستولتنبرغ"),
]
NOT_FOUND += [
    (NEGATED, "الحكومة ... توافق على الخطة"),  # drops لن
    (NEGATED, "قالت الحكومة ... إن المحادثات مستمرة"),  # joins two sentences
    (NEGATED, "قالت الحكومة إنها ... المحادثات مستمرة"),
    (A003, "أعلن الأمين العام ... تعزيز الدفاعات الجوية لبلاده"),  # another paragraph
    (A003, "الحلف الأطلسي سيواصل ... وقال ستولتنبرغ"),  # parts out of order
    (A003, "قال شابس إن بلاده ستعمل ... كلل لجمع الشركاء"),  # skips بلا
    (A003, "غزو ... غير القانوني"),  # parts too short to mean anything
    (
        "او گفت ما این طرح را نمی‌پذیریم و به آن عمل نمی‌کنیم",
        "او گفت ما این طرح را ... پذیریم و به آن عمل",
    ),
    ("او گفت ما این طرح را نه تایید می‌کنیم و نه رد", "ما این طرح را ... تایید می‌کنیم"),
]

# --- issue #10: a Persian negation glued to its verb -----------------------------------

FOUND += [(A000, "تضمین میکند")]
NOT_FOUND += [
    ("دولت این طرح را اجرا نمی‌کند.", "می‌کند."),
    ("دولت این طرح را اجرا نمی‌کند و تغییر نخواهد داد.", "خواهد داد"),
    ("دولت این طرح را اجرا نمی‌کند", "کند"),
]


@pytest.mark.parametrize(
    ("article", "excerpt"), FOUND, ids=[f"{i:02d}-{e[:20]}" for i, (_, e) in enumerate(FOUND)]
)
def test_locate_finds(article: str, excerpt: str) -> None:
    span = locate(excerpt, article)
    assert span is not None
    start, end = span
    parts = re.split(r"\s*(?:\[\.\.\.\]|\.\.\.|…)\s*", excerpt)
    found = fold(article[start:end])
    assert found.startswith(fold(parts[0])) and found.endswith(fold(parts[-1]))
    if len(parts) == 1:
        assert found == fold(excerpt)


@pytest.mark.parametrize(
    ("article", "excerpt"),
    NOT_FOUND,
    ids=[f"{i:02d}-{e[:20]}" for i, (_, e) in enumerate(NOT_FOUND)],
)
def test_locate_refuses(article: str, excerpt: str) -> None:
    assert locate(excerpt, article) is None


# --- contains and splits_number --------------------------------------------------------


@pytest.mark.parametrize(
    ("haystack", "needle", "expected"),
    [
        ("في 15 شباط 2024", "5 شباط", False),
        ("في 15 شباط 2024", "15 شباط", True),
        ("في 15 شباط 2024", "15 شباط 202", False),
        ("بلغ 2.5 مليار", "5 مليار", False),
        ("بلغ 2.5 مليار", "2.5 مليار", True),
        ("بلغ 25 مليار", "2.5 مليار", False),
        (A003, "ينس ستولتنبرغ", True),
        (A003, "دميتري بيسكوف", False),
    ],
)
def test_contains(haystack: str, needle: str, expected: bool) -> None:
    assert contains(haystack, needle) is expected


def test_splits_number() -> None:
    article = "بلغت الصادرات 2.5 مليار دولار و120 ألف طن"
    assert splits_number((16, 29), article)  # "5 مليار دولار"
    assert not splits_number((14, 29), article)  # "2.5 مليار دولار"
    assert splits_number((14, 15), article)  # "2" of 2.5
    start = article.index("120")
    assert splits_number((start + 1, start + 10), article)
    assert not splits_number((start, start + 7), article)


# --- properties ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_locate_never_reports_what_is_not_there(article: str, excerpt: str) -> None:
    span = locate(excerpt, article)
    if span is not None:
        start, end = span
        assert 0 <= start < end <= len(article)
        if "..." not in excerpt and "…" not in excerpt:
            assert fold(excerpt) in fold(article[start:end])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(A003) - 40), st.integers(min_value=5, max_value=40))
def test_every_real_slice_is_found(start: int, length: int) -> None:
    excerpt = A003[start : start + length]
    if len(fold(excerpt)) >= 3:
        assert locate(excerpt, A003) is not None


_SEPS = st.sampled_from([".", "٫", ",", "٬", "،", "-", " ", "/", ""])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999), _SEPS, _SEPS
)
def test_a_changed_separator_between_digits_is_never_found(
    a: int, b: int, sep: str, other: str
) -> None:
    kinds = {".": ".", "٫": ".", ",": ",", "٬": ",", "،": ",", "-": "-", " ": " ", "/": "/", "": ""}
    article = f"وبلغت القيمة {a}{sep}{b:03d} دولار في العام الماضي"
    excerpt = f"وبلغت القيمة {a}{other}{b:03d} دولار"
    found = locate(excerpt, article) is not None
    assert found == (kinds[sep] == kinds[other])


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([s for s in NEGATED.split(".") if s.strip()]), st.data())
def test_no_ellipsis_skips_a_negation_or_a_sentence_end(sentence: str, data: st.DataObject) -> None:
    words = NEGATED.replace(".", " .").split()
    i = data.draw(st.integers(min_value=2, max_value=len(words) - 3))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(words) - 2))
    gap = words[i:j]
    excerpt = " ".join(words[:i]) + " ... " + " ".join(words[j:])
    if any(w in ("لن", ".") for w in gap):
        assert locate(excerpt, NEGATED) is None


def test_real_sentences_are_found_in_their_article_only() -> None:
    """Sentences of 40 real articles are found in their own article, not in the next one."""
    rows = corpus_sample()[:40]
    for i, row in enumerate(rows):
        text = normalize_text(row["text"])
        other = normalize_text(rows[(i + 1) % len(rows)]["text"])
        for sentence in [s for s in text.replace("؟", ".").split(".") if len(fold(s)) > 30][:5]:
            assert locate(sentence, text) is not None
            assert locate(sentence, other) is None
