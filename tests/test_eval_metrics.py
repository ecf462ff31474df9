"""The metrics that catch what matters: units, partial dates, quotes, keywords, kinds, loose fields."""

from __future__ import annotations

import pytest

from khabar.core.digest import DateFact, DroppedSentence, Organization, Person, Quote, Source
from khabar.evals.facts import iso_compatible
from khabar.evals.gold import Gold, KeyFact
from khabar.evals.metrics import score_digest
from khabar.evals.summaries import fact_covered
from khabar.evals.units import unit_class
from khabar.evals.wording import keyword_pattern, keyword_problem, loose_match, sentences

from .evalfixtures import GOLD_AR_YAML, GOLD_FA_YAML, digest_from_gold, gold_from_yaml


@pytest.fixture()
def gold_ar() -> Gold:
    return gold_from_yaml(GOLD_AR_YAML)


@pytest.fixture()
def gold_fa() -> Gold:
    return gold_from_yaml(GOLD_FA_YAML)


# --- numbers: value and unit class --------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("USD", "US dollars"),
        ("USD", "$"),
        ("EUR", "euros"),
        ("EUR", "billion euros"),
        ("percent", "%"),
        ("percent", "per cent"),
        ("people", "soldiers"),
        ("people", "persons"),
        (None, "countries"),
        (None, "agreements"),
        ("km", "kilometres"),
    ],
)
def test_unit_spellings_share_a_class(a: str | None, b: str) -> None:
    assert unit_class(a) == unit_class(b)


@pytest.mark.parametrize(
    ("a", "b"), [("USD", "EUR"), ("USD", "people"), ("percent", None), ("people", None)]
)
def test_distinct_units_stay_distinct(a: str | None, b: str | None) -> None:
    assert unit_class(a) != unit_class(b)


def test_a_currency_written_out_still_matches(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.numbers[0].unit = "US dollars"
    metrics = score_digest(digest, gold_ar).metrics
    assert metrics["numbers_acc"] == metrics["numbers_value_acc"] == 1.0


def test_what_a_number_counts_is_scored_loosely(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.numbers[0].counts = "value of the aid package the US approved"
    close = score_digest(digest, gold_ar)
    digest.numbers[0].counts = "soldiers killed"
    far = score_digest(digest, gold_ar)
    assert close.metrics["numbers_counts"] == 1.0
    assert far.metrics["numbers_counts"] == 0.0
    assert far.metrics["numbers_acc"] == 1.0  # the number itself is still right
    assert far.details["numbers"].wrong == [
        "61,000,000,000: counts 'soldiers killed', expected 'value of the US aid package'"
    ]


# --- dates: full and compatible partial ISO, phrase recall --------------------------------------


@pytest.mark.parametrize(
    ("pred", "gold", "ok"),
    [
        ("2024-06-27", "2024-06-27", True),
        ("--06-27", "2024-06-27", True),
        ("2024-06", "2024-06-27", True),
        ("2024", "2024-06-27", True),
        ("--06", "2024-06-27", True),
        ("2023-06-27", "2024-06-27", False),
        ("--06-28", "2024-06-27", False),
        ("2024-06-27", "--06-27", False),  # a year the gold says the text does not give
        (None, "2024-06-27", False),
        ("2024-06-27", None, False),
        (None, None, True),
    ],
)
def test_iso_compatibility(pred: str | None, gold: str | None, ok: bool) -> None:
    assert iso_compatible(pred, gold) is ok


def test_a_compatible_partial_date_gets_partial_credit(gold_fa: Gold) -> None:
    gold = gold_fa.model_copy(deep=True)
    gold.dates[0].iso = "2024-06-27"
    digest = digest_from_gold(gold)
    digest.dates[0].iso = "--06-27"  # the text gives no year: what khabar computes
    score = score_digest(digest, gold)
    assert score.metrics["dates_iso_full"] == 0.0
    assert score.metrics["dates_iso_compatible"] == 1.0
    assert score.metrics["dates_text_recall"] == 1.0
    assert score.details["dates"].wrong == [
        "روز پنجشنبه هفتم تیر: iso --06-27, expected 2024-06-27 (compatible partial)"
    ]


def test_date_phrase_recall_is_separate_from_iso(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.dates = [
        DateFact(text="يوم الاثنين", refers_to="Zelensky's statement after the call", evidence="x")
    ]
    metrics = score_digest(digest, gold_ar).metrics
    assert metrics["dates_text_recall"] == 0.5
    assert metrics["dates_iso_full"] == 0.5  # one right, over max(gold 2, predicted 1)
    assert metrics["dates_refers_to"] == 1.0


# --- quotes: precision, minimum length ----------------------------------------------------------


def test_scare_quotes_are_separated_out(gold_ar: Gold) -> None:
    gold = gold_ar.model_copy(deep=True)
    gold.quotes.append(gold.quotes[0].model_copy(update={"text_src": "مهمة"}))
    digest = digest_from_gold(gold)
    # The gold's scare quote, reproduced: neither a quotation to recall nor held against it.
    assert score_digest(digest, gold).metrics["quotes_scare"] == 0.0
    digest.quotes.append(
        Quote(speaker_en="Joe Biden", text_src="العاجلة", text_en="urgent", evidence="x")
    )
    score = score_digest(digest, gold)
    assert score.metrics["quotes_scare"] == pytest.approx(1 / 4)
    assert score.metrics["quotes_p"] == score.metrics["quotes_r"] == 1.0
    assert "«العاجلة»: a scare-quoted phrase (under 3 words), not a quotation" in (
        score.details["quotes"].wrong
    )


def test_an_invented_quotation_costs_precision_only(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.quotes.append(
        Quote(
            speaker_en="Joe Biden",
            text_src="سنرسل كل ما تحتاجه أوكرانيا دون تأخير",
            text_en="x",
            evidence="x",
        )
    )
    metrics = score_digest(digest, gold_ar).metrics
    assert metrics["quotes_p"] == pytest.approx(2 / 3)
    assert metrics["quotes_r"] == 1.0


# --- key facts: word boundaries, stems, negation ------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("uk", "Ukraine signed", False),
        ("UK", "the UK signed", True),
        ("UK", "the UK's pact", True),
        ("war", "an award", False),
        ("agreement", "two agreements", True),
        ("negotiat*", "negotiations began", True),
        ("negotiat", "negotiations began", False),
        ("air defence", "air-defence systems", True),
        ("61", "$61 billion", True),
        ("61", "61.5 billion", False),
        ("EU", "the EU.", True),
    ],
)
def test_keywords_match_whole_words(keyword: str, text: str, hit: bool) -> None:
    assert bool(keyword_pattern(keyword).search(text)) is hit


def test_dangerous_keywords_are_named() -> None:
    assert keyword_problem("war*") is not None
    assert keyword_problem("EU ") is not None
    assert keyword_problem("ne*go") is not None
    assert keyword_problem("negotiat*") is None


def test_a_negated_sentence_does_not_cover_a_positive_fact() -> None:
    fact = KeyFact(text="Biden promised military aid", keywords=[["Biden"], ["promis*"]])
    assert fact_covered(fact, "Biden promised military aid.") == []
    assert fact_covered(fact, "Biden did not promise military aid.") == [["Biden"], ["promis*"]]
    assert fact_covered(fact, "Biden didn't promise any aid.") != []
    # "not only" is no negation; a negation in a joined clause stays in its clause.
    assert fact_covered(fact, "Biden not only promised aid but sent it.") == []
    assert fact_covered(fact, "Biden promised aid, while Putin did not comment.") == []


def test_a_negated_fact_needs_a_negated_sentence() -> None:
    fact = KeyFact(text="No sign Putin is ready to negotiate", keywords=[["Putin"], ["negotiat*"]])
    assert fact_covered(fact, "There is no sign Putin is ready to negotiate.") == []
    assert fact_covered(fact, "Putin is ready to negotiate.") != []


def test_sentences_split_clauses_not_abbreviations() -> None:
    assert sentences("Aid went to the U.S. House; no vote, while talks went on.") == [
        "Aid went to the U.S.",
        "House",
        "no vote",
        "talks went on.",
    ]


# --- entities across kinds ----------------------------------------------------------------------


def test_an_entity_filed_under_another_kind_counts_once(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.sources = []
    digest.organizations.append(Organization(name_en="AFP", name_src="فرانس برس", evidence="x"))
    score = score_digest(digest, gold_ar)
    m = score.metrics
    assert m["sources_r"] == 0.0  # a miss of its kind ...
    assert m["organizations_p"] == 1.0  # ... but not also an extra of the other one
    assert m["entities_r"] == m["entities_p"] == 1.0
    assert m["entity_kind_acc"] == pytest.approx(7 / 8)  # 8 entities found, 7 in their kind
    assert score.details["sources"].wrong == ["AFP: filed under organizations as AFP (فرانس برس)"]
    assert score.details["sources"].missed == [] and score.details["organizations"].extra == []


def test_a_wrong_entity_in_another_kind_is_still_an_extra(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.sources.append(Source(name_en="Reuters", name_src="رويترز", evidence="x"))
    m = score_digest(digest, gold_ar).metrics
    assert m["sources_p"] == 0.5 and m["entity_kind_acc"] == 1.0


def test_roles_are_scored_loosely(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.people[0].role = "Ukrainian president"
    assert score_digest(digest, gold_ar).metrics["people_role"] == 1.0
    digest.people[0].role = "Speaker of the House"
    score = score_digest(digest, gold_ar)
    assert score.metrics["people_role"] == 0.5
    assert score.metrics["people_f1"] == 1.0
    assert "role 'Speaker of the House'" in score.details["people"].wrong[0]
    digest.people.append(Person(name_en="Nobody", name_src="لا أحد", evidence="x"))
    assert score_digest(digest, gold_ar).metrics["people_role"] == 0.5  # unmatched: not scored


def test_loose_match() -> None:
    assert loose_match("President of Ukraine", "Ukrainian president") == 1.0
    assert loose_match("value of the US aid package", "US aid") == pytest.approx(2 / 4)
    assert loose_match("value of the aid package", "us and aid") == pytest.approx(1 / 3)
    assert loose_match(None, "anything") is None


# --- faithfulness from the cited summaries ------------------------------------------------------


def test_faithfulness_per_language(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.provenance.dropped_sentences = [
        DroppedSentence(field="summary_src", text="جملة", reason="no citation states it"),
        DroppedSentence(field="title_en", text="A title", reason="unsupported name"),
    ]
    m = score_digest(digest, gold_ar).metrics
    kept_src = len(digest.summary_src_sentences)
    assert m["summary_en_faithful"] == 1.0  # titles are not summary sentences
    assert m["summary_src_faithful"] == pytest.approx(kept_src / (kept_src + 1))


def test_faithfulness_needs_cited_summaries(gold_ar: Gold) -> None:
    digest = digest_from_gold(gold_ar)
    digest.summary_en_sentences = digest.summary_src_sentences = []
    digest.support = None  # a digest from before summaries were cited
    m = score_digest(digest, gold_ar).metrics
    assert m["summary_en_faithful"] is None and m["summary_src_faithful"] is None
