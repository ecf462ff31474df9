"""The text layer on real strings: folding, decoding, normalization, language, boilerplate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khabar.core.text import (
    clean_article,
    decode_bytes,
    detect_language,
    fold,
    normalize_text,
    to_ascii_digits,
    truncate,
)
from khabar.errors import BinaryInputError, DecodeError

from .conftest import SEEDS, corpus_sample, seed

# --- folding ---------------------------------------------------------------------------

SAME = [
    # ZWNJ stripped on the page (seed 000), present in a model's copy, or a space.
    ("تضمین میکند", "تضمین می‌کند"),
    ("تضمین میکند", "تضمین می کند"),
    ("رییسجمهوری اوکراین", "رئیس‌جمهوری اوکراین"),
    # Arabic vs Persian yeh and kaf.
    ("الأمين العام لحلف شمال الأطلسي", "الامین العام لحلف شمال الاطلسی"),
    ("كييف", "کییف"),
    # diacritics and tatweel
    ("وعبّر زيلينسكي", "وعبر زيلينسكي"),
    ("الرئيـــس الأوكراني", "الرئيس الأوكراني"),
    ("حدودًا", "حدودا"),
    # quotation marks and punctuation styles
    ("«صلح و رفاه»", '"صلح و رفاه"'),
    ("“مهما ومفيدا للغاية”", "«مهما ومفيدا للغاية»"),
    # digits in three scripts
    ("تاکنون ۱۷ توافقنامه", "تاکنون 17 توافقنامه"),
    ("الـ 27 في الاتحاد", "الـ ٢٧ في الاتحاد"),
    # hamza seats and teh marbuta
    ("إقرأ أيضاً", "اقرا ايضا"),
    ("مساعدة عسكرية", "مساعده عسکریه"),
]
DIFFERENT = [
    ("تضمین میکند", "تضمین نمیکند"),
    ("۱۷ توافقنامه", "۱۸ توافقنامه"),
    ("بايدن", "بوتين"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_fold_makes_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_fold_keeps_different(a: str, b: str) -> None:
    assert fold(a) != fold(b)


# Issue #10: hamza seats and Urdu heh. Arabic seats the hamza of مسؤول / شؤون on waw,
# Persian and Egyptian sites on yeh (مسئول / شئون); PDF extraction and Urdu-style
# keyboards type ه as ھ. Real sentences (BBC Arabic, Fars, a store page) and the
# same words as the other convention types them.
@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            "ونقلت وكالة رويترز عن مسؤول في حزب جبهة التحرير الوطني الحاكم قوله",
            "ونقلت وكالة رويترز عن مسئول في حزب جبهة التحرير الوطني الحاكم قوله",
            id="masool",
        ),
        pytest.param(
            "وبحسب وزير الشؤون الإسلامية في البلاد، عبد اللطيف آل الشيخ",
            "وبحسب وزير الشئون الإسلامية في البلاد، عبد اللطيف آل الشيخ",
            id="shuoon",
        ),
        pytest.param(
            "با طرح جديد بخش خصوصي بايد مجري خواسته‌هاي ريز و درشت مسئولان سينمايي باشند",
            "با طرح جديد بخش خصوصي بايد مجري خواسته‌هاي ريز و درشت مسؤولان سينمايي باشند",
            id="masoolan-fa",
        ),
        pytest.param("المسؤولية", "المسئولية", id="masooliya"),
        pytest.param("مسئُول", "مسؤول", id="harakat-between"),
        # The same word as PDF extraction gives it, in presentation forms (ﻣﺴﺌﻮل).
        pytest.param("\ufee3\ufeb4\ufe8c\ufeee\ufedd", "مسؤول", id="pdf-presentation-forms"),
        pytest.param(
            "تتطلب عملیة الإرجاع ھذه توافر شرطان أساسیان",
            "تتطلب عملية الإرجاع هذه توافر شرطان أساسيان",
            id="urdu-heh-ar",
        ),
        pytest.param("برنامه ھای فرھنگی", "برنامه های فرهنگی", id="urdu-heh-fa"),
        # Presentation forms of ھ from a PDF (ﮬ ﮭ) and heh goal with hamza (ۂ).
        pytest.param("ﮬﺬه", "هذه", id="heh-presentation-form"),
        pytest.param("خانۂ", "خانهٔ", id="heh-goal-hamza"),
    ],
)
def test_fold_hamza_seats_and_urdu_heh(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The yeh seat counts as waw only before waw: رؤوس (heads) is not روس (Russians),
        # and رئيس stays رییس, never رؤيس.
        pytest.param("رؤوس", "روس", id="heads-not-russians"),
        pytest.param("رئيس", "رؤوس", id="president-not-heads"),
    ],
)
def test_fold_hamza_seats_keep_words_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


def test_ascii_digits() -> None:
    assert to_ascii_digits("۱۰ هزار و ٢٠٢٤") == "10 هزار و 2024"


@given(st.text())
def test_fold_is_idempotent_and_total(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once and "\x00" not in once


# --- decoding --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1256"])
def test_decode_seed_in_each_encoding(encoding: str) -> None:
    text = seed("002")
    decoded = decode_bytes(text.encode(encoding), source="s.txt")
    assert decoded.text == text
    if encoding == "cp1256":
        assert decoded.encoding == "windows-1256" and decoded.warnings


def test_decode_persian_cp1256_survives_when_it_encodes() -> None:
    # Windows-1256 has پ چ ژ گ but not Persian yeh/keheh or digits: such files type
    # Arabic ي and ك and Latin digits.
    text = to_ascii_digits(seed("000").replace("ی", "ي").replace("ک", "ك"))
    assert decode_bytes(text.encode("cp1256"), source="fa.txt").text == text


def test_decode_utf16_without_bom() -> None:
    text = seed("004")[:400]
    decoded = decode_bytes(text.encode("utf-16-le"), source="x.txt")
    assert decoded.text == text and decoded.warnings


def test_mixed_encodings_keep_text_and_warn() -> None:
    data = seed("003").encode("utf-8") + "خبر".encode("cp1256")
    decoded = decode_bytes(data, source="mixed.txt")
    assert decoded.text.startswith(seed("003")[:200])
    assert any("mixed.txt" in w and "replaced" in w for w in decoded.warnings)


@pytest.mark.parametrize(
    "data",
    [b"\x00" * 100, b"\x89PNG\r\n\x1a\n" + bytes(50), b"PK\x03\x04rest", bytes(range(256)) * 4],
)
def test_binary_is_refused_naming_the_source(data: bytes) -> None:
    with pytest.raises((BinaryInputError, DecodeError)) as info:
        decode_bytes(data, source="dir/thing.txt")
    assert "dir/thing.txt" in str(info.value)


# --- language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "lang"), [("000", "fa"), ("001", "ar"), ("002", "ar"), ("003", "ar"), ("004", "ar")]
)
def test_language_of_seeds(prefix: str, lang: str) -> None:
    assert detect_language(seed(prefix)) == lang


def test_language_on_real_corpus_sample() -> None:
    """120 real articles (NTREX-128 Arabic and Persian, pn-summary, Persian news gold) with their labels."""
    rows = corpus_sample()
    assert len(rows) >= 100
    wrong = [(r["id"], r["language"]) for r in rows if detect_language(r["text"]) != r["language"]]
    assert not wrong


def test_language_of_persian_typed_with_arabic_letters() -> None:
    # Some Persian sites type Arabic yeh and kaf: function words still decide.
    text = "رييس جمهوري اوكراين گفت اين توافق براي كشور مهم است و آن را امضا مي كند"
    assert detect_language(text) == "fa"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The president said on Monday that the deal is done.", "en"),
        ("", "und"),
        ("12345 !!!", "und"),
    ],
)
def test_language_other(text: str, lang: str) -> None:
    assert detect_language(text) == lang


# --- boilerplate -----------------------------------------------------------------------


def kinds(prefix: str) -> list[str]:
    return [b.kind for b in clean_article(normalize_text(seed(prefix))).stripped]


def cleaned(prefix: str) -> str:
    return clean_article(normalize_text(seed(prefix))).text


def test_seed_000_has_no_boilerplate_and_is_intact() -> None:
    result = clean_article(normalize_text(seed("000")))
    assert result.stripped == ()
    assert result.text == normalize_text(seed("000"))


def test_seed_001_appended_story_is_gone() -> None:
    text = cleaned("001")
    # the main story, first and last paragraph, and its agency credit
    assert text.startswith("أكد الرئيس الأوكراني فولوديمير زيلينسكي يوم الاثنين")
    assert "وستعزز قدراتنا في مجالات الدفاع الجوي والصواريخ بعيدة المدى" in text
    assert text.rstrip().endswith("فرانس برس")
    # the appended story about France, Lemoine, Scalp missiles, Peskov: gone
    for leaked in ("لوموان", "سكالب", "بيسكوف", "LCI", "بريانسك", "مقالات مشابهة", "المصدر"):
        assert leaked not in text
    assert {"source_line", "read_also", "appended_story", "related"} <= set(kinds("001"))


def test_seed_002_has_nothing_to_strip() -> None:
    assert kinds("002") == []
    assert cleaned("002") == normalize_text(seed("002"))


def test_seed_003_appended_story_is_gone_and_main_story_intact() -> None:
    text = cleaned("003")
    page = normalize_text(seed("003"))
    # the main story continues after the first "read also" teaser
    for kept in (
        "أعلن الأمين العام لحلف شمال الأطلسي (ناتو) ينس ستولتنبرغ",
        "ونشر زيلينسكي مشاهد من لقائه مع وزير الدفاع البريطاني غرانت شابس",
        "ممثلين عن أكثر من 160 شركة دفاع و26 دولة",
        "عبرت الأربعاء، عن أملها في أن يبدأ الاتحاد الأوروبي بحلول نهاية العام",
    ):
        assert kept in text
    # teasers, source lines, keywords, the appended story of 21 injured, related lists
    for leaked in (
        "أمين عام الناتو يتوقع حربا طويلة الأمد",
        "لا نريد صداما مباشرا مع الناتو",
        "المصدر",
        "كلمات دلالية",
        "إصابة 21",
        "صفارات الإنذار",
        "شويجو",
    ):
        assert leaked not in text
    assert {"read_also", "source_line", "keywords", "appended_story", "related"} <= set(
        kinds("003")
    )
    # nothing lost: every line of the page is either kept or recorded
    recorded = "\n".join(b.text for b in clean_article(page).stripped)
    for line in page.splitlines():
        line = line.strip().lstrip("• ").strip()
        if line:
            assert line in text or line in recorded, line


def test_seed_004_teasers_and_donation_are_gone() -> None:
    text = cleaned("004")
    assert "تم عقد اجتماع عبر الإنترنت بتنسيق رامشتاين في 23 يناير" in text
    assert "وقال زيلينسكي: “لدينا فهم جيد لبعضنا البعض" in text
    for leaked in ("إقرأ أيضاً", "قمة قادة الصناعة", "ادعمنا بالتبرع", "اقرأ المقال الأصلي"):
        assert leaked not in text
    assert kinds("004").count("read_also") == 3
    assert "donation" in kinds("004")


def test_read_also_at_the_very_top_is_not_the_end() -> None:
    # A page that starts with a headline then the story: nothing to strip.
    page = "عنوان الخبر\n\nالمصدر: وكالة\n\nنص"
    assert clean_article(page).text.startswith("عنوان الخبر")


@pytest.mark.parametrize("prefix", sorted(p[:3] for p in SEEDS))
def test_clean_is_idempotent_on_seeds(prefix: str) -> None:
    once = cleaned(prefix)
    assert clean_article(once).text == once


# --- truncation ------------------------------------------------------------------------


def test_truncate_cuts_at_paragraph() -> None:
    text = normalize_text(seed("003"))
    cut, was_cut = truncate(text, 600)
    assert was_cut and len(cut) <= 600 and text.startswith(cut)
    assert cut.endswith(".") or cut.endswith('"') or cut.endswith("»")


def test_truncate_leaves_short_text() -> None:
    assert truncate("قصير", 100) == ("قصير", False)
