"""Summary sentences checked in code: table tests on real Arabic and Persian strings from the seeds."""

from __future__ import annotations

import pytest

from khabar.core.grounding import english_numbers, script_problem, sentence_problem
from khabar.core.grounding.sentences import Entity
from khabar.core.text import clean_article, normalize_text

from .conftest import seed

C000 = clean_article(normalize_text(seed("000")))
C001 = clean_article(normalize_text(seed("001")))
C003 = clean_article(normalize_text(seed("003")))
C004 = clean_article(normalize_text(seed("004")))
A000, A001, A003, A004 = C000.text, C001.text, C003.text, C004.text
STRIPPED_001 = [(b.kind, b.text) for b in C001.stripped]

NUMBER_003 = "أبرم عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو"
ZELENSKY_004 = "حسبما قال الرئيس الأوكراني فولوديمير زيلينسكي خلال خطابه المسائي بالفيديو الذي نُشر على تيليجرام يوم 27 يناير"
ZELENSKY_001 = "أكد الرئيس الأوكراني فولوديمير زيلينسكي يوم الاثنين، بعد مكالمة هاتفية مع نظيره الأميركي جو بايدن"
TREATIES_000 = "برای امضای سه توافقنامه امنیتی از جمله قراردادی میان اوکراین و اتحادیه اروپا، به بروکسل سفر کرد"
DATE_000 = "او روز پنجشنبه هفتم تیر در شبکه اجتماعی ایکس نوشت"

ZELENSKY = Entity("Volodymyr Zelensky", "فولوديمير زيلينسكي", None)
BIDEN = Entity("Joe Biden", "جو بايدن", None)
ZELENSKY_FA = Entity("Volodymyr Zelensky", "ولودیمیر زلنسکی", None)
BRUSSELS = Entity("Brussels", "بروکسل", None)
EU = Entity("European Union", "اتحادیه اروپا", None)


def check(text, cites, article, *, english=True, language="ar", entities=(), stripped=()):  # type: ignore[no-untyped-def]
    return sentence_problem(
        text,
        cites,
        english=english,
        language=language,
        article=article,
        stripped=stripped,
        entities=entities,
    )[1]


SUPPORTED = [
    ("en-number", "Ammunition contracts worth 2.4 billion euros were signed.", [NUMBER_003], A003, True, "ar", ()),
    ("en-names", "Volodymyr Zelensky spoke after a call with Joe Biden.", [ZELENSKY_001], A001, True, "ar", (ZELENSKY, BIDEN)),
    ("en-adjective-of-a-known-place", "Zelensky travelled to Brussels to sign three security agreements with the European Union.", [TREATIES_000], A000, True, "fa", (ZELENSKY_FA, BRUSSELS, EU)),
    ("ar-src", "أكد زيلينسكي بعد مكالمة مع جو بايدن بدء العمل على اتفاق أمني.", [ZELENSKY_001], A001, False, "ar", (ZELENSKY, BIDEN)),
    ("fa-src", "زلنسکی برای امضای سه توافقنامه امنیتی به بروکسل سفر کرد.", [TREATIES_000], A000, False, "fa", (ZELENSKY_FA, BRUSSELS)),
    ("en-day-through-a-date", "Zelensky spoke in his video address on January 27.", [ZELENSKY_004], A004, True, "ar", (ZELENSKY,)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "cites", "article", "english", "language", "entities"),
    [row[1:] for row in SUPPORTED],
    ids=[row[0] for row in SUPPORTED],
)
def test_supported_sentences_are_kept(text, cites, article, english, language, entities) -> None:  # type: ignore[no-untyped-def]
    assert (
        check(text, cites, article, english=english, language=language, entities=entities) is None
    )


UNSUPPORTED = [
    # (id, text, cites, article, english, language, entities, stripped, reason fragment)
    ("wrong-number-en", "NATO pledged 25 billion euros in ammunition contracts.", [NUMBER_003], A003, True, "ar", (), (), "states 2.5e+10"),
    ("wrong-number-src", "أبرم الحلف عقودا بقيمة 24 مليار يورو.", [NUMBER_003], A003, False, "ar", (), (), "24 مليار"),
    ("invented-person", "David Cameron announced the independence of the United Kingdom.", [ZELENSKY_004], A004, True, "ar", (ZELENSKY,), (), "'David'"),
    ("name-from-the-appended-story", "Christophe Lemoine defended the strikes on Russia.", [ZELENSKY_001], A001, True, "ar", (ZELENSKY, BIDEN), STRIPPED_001, "'Christophe'"),
    ("known-name-not-cited", "Joe Biden spoke about the war.", [NUMBER_003], A003, True, "ar", (BIDEN,), (), "names 'Joe Biden'"),
    ("added-negation-en", "Zelensky did not speak after the call with Joe Biden.", [ZELENSKY_001], A001, True, "ar", (ZELENSKY, BIDEN), (), "negates"),
    ("added-negation-src", "لم يؤكد زيلينسكي بدء العمل على اتفاق أمني.", [ZELENSKY_001], A001, False, "ar", (ZELENSKY,), (), "negates"),
    ("arabic-summary-en", "أكد زيلينسكي بدء العمل على اتفاق أمني.", [ZELENSKY_001], A001, True, "ar", (), (), "not in English"),
    ("latin-summary-src", "Zelensky confirmed work on a security deal.", [ZELENSKY_001], A001, False, "ar", (), (), "not in the article's language"),
    ("url-summary-src", "https://www.aljazeera.net/news/2024/1/8", [ZELENSKY_001], A001, False, "ar", (), (), "URL"),
    ("template-syntax", "Kyiv and Washington {{ agreed }}.", [ZELENSKY_001], A001, True, "ar", (), (), "template syntax"),
    ("no-citation", "Zelensky spoke with Joe Biden.", [], A001, True, "ar", (), (), "cites nothing"),
    ("empty-citation", "Zelensky spoke with Joe Biden.", [""], A001, True, "ar", (), (), "empty"),
    ("citation-longer-than-the-article", "Zelensky spoke.", [A001 + " " + A001], A001, True, "ar", (), (), "longer than the article"),
    ("citation-of-a-stripped-block", "France's foreign ministry spoke.", ["صرح المتحدث باسم وزارة الخارجية الفرنسية كريستوف لوموان"], A001, True, "ar", (), STRIPPED_001, "stripped from the page (appended_story)"),
    ("citation-from-another-article", "Zelensky travelled to Brussels.", [TREATIES_000], A001, True, "ar", (), (), "not in the article"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "cites", "article", "english", "language", "entities", "stripped", "why"),
    [row[1:] for row in UNSUPPORTED],
    ids=[row[0] for row in UNSUPPORTED],
)
def test_unsupported_sentences_are_dropped_with_a_reason(  # type: ignore[no-untyped-def]
    text, cites, article, english, language, entities, stripped, why
) -> None:
    reason = check(
        text,
        cites,
        article,
        english=english,
        language=language,
        entities=entities,
        stripped=stripped,
    )
    assert reason is not None and why in reason, reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.4 billion euros", [2.4e9]),
        ("ten thousand soldiers and 17 agreements", [10_000, 17]),
        ("twenty-five people", [25]),
        ("$3.5bn in aid", [3.5e9]),
        ("1,200 troops in 2024", [1200, 2024]),
        ("one of the leaders", []),
    ],
    ids=[
        "scale",
        "words-and-digits",
        "hyphenated",
        "abbreviated-scale",
        "thousands-and-year",
        "one-is-not-counted",
    ],
)
def test_english_numbers(text: str, expected: list[float]) -> None:
    assert english_numbers(text) == expected


def test_a_year_agrees_through_the_solar_calendar() -> None:
    article = "قرارداد در سال ۱۴۰۳ امضا شد و اجرای آن آغاز شد."
    assert (
        check(
            "The contract was signed in 2024.",
            ["قرارداد در سال ۱۴۰۳ امضا شد"],
            article,
            language="fa",
        )
        is None
    )
    assert (
        check(
            "The contract was signed in 2019.",
            ["قرارداد در سال ۱۴۰۳ امضا شد"],
            article,
            language="fa",
        )
        is not None
    )


@pytest.mark.parametrize(
    ("text", "language", "ok"),
    [
        ("Kyiv and Washington agreed.", "en", True),
        ("اتفقت كييف وواشنطن.", "ar", True),
        ("زلنسکی به بروکسل سفر کرد.", "fa", True),
        ("اتفقت كييف وواشنطن.", "en", False),
        ("Kyiv agreed.", "fa", False),
        ("", "en", False),
    ],
)
def test_script(text: str, language: str, ok: bool) -> None:
    assert (script_problem(text, language) is None) is ok


def test_a_citation_cut_inside_a_number_supports_nothing() -> None:
    article = "وقالت الحكومة إن قيمة الصفقة بلغت 2.5 مليار دولار هذا العام."
    reason = check("The deal was worth 5 billion dollars.", ["5 مليار دولار هذا العام"], article)
    assert reason is not None and "cuts a number" in reason
