"""Scoring digests against gold: perfect is perfect, each mistake costs exactly its metric.

The full sensitivity matrix over the five seed golds is tests/test_eval_sensitivity.py;
these are the finer cases, on fixtures with real strings of two seed articles.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from khabar.core.digest import Digest, NumberFact, Person, Quote
from khabar.errors import ConfigError
from khabar.evals.gold import Gold, load_gold, load_gold_dir
from khabar.evals.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    PRODUCED_SHARES,
    ArticleScore,
    applicable,
    score_digest,
)

from .evalfixtures import GOLD_AR_YAML, GOLD_FA_YAML, digest_from_gold, gold_from_yaml, provenance

AR = "001_c7d2eb9492ec713f"
FA = "000_de612b54d8028aa2"


@pytest.fixture(scope="module")
def gold_ar() -> Gold:
    return gold_from_yaml(GOLD_AR_YAML)


@pytest.fixture(scope="module")
def gold_fa() -> Gold:
    return gold_from_yaml(GOLD_FA_YAML)


def changes(before: ArticleScore, after: ArticleScore) -> dict[str, str]:
    """Which metrics moved between two scores: "up", "down", or "n/a" (became None)."""
    assert set(before.metrics) == set(after.metrics) == set(METRICS)
    out = {}
    for metric in METRICS:
        a, b = before.metrics[metric], after.metrics[metric]
        if a != b:
            assert a is not None, f"{metric}: {a} -> {b}"
            out[metric] = "n/a" if b is None else "up" if b > a else "down"
    return out


def perturbed(gold: Gold, edit: Callable[[Digest], None]) -> tuple[ArticleScore, ArticleScore]:
    digest = digest_from_gold(gold)
    perfect = score_digest(digest, gold)
    changed = digest.model_copy(deep=True)
    edit(changed)
    return perfect, score_digest(changed, gold)


# --- the perfect digest ----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ar", "fa"])
def test_gold_against_itself_is_perfect(which: str, gold_ar: Gold, gold_fa: Gold) -> None:
    gold = gold_ar if which == "ar" else gold_fa
    score = score_digest(digest_from_gold(gold), gold)
    assert list(score.metrics) == list(METRICS)
    # What the gold makes applicable is a number; the rest does not apply (the fa
    # fixture has no roles, say). The shares of what was produced are numbers too.
    scored = {m for m, v in score.metrics.items() if v is not None}
    assert scored == applicable(gold) | PRODUCED_SHARES
    for metric in scored:
        expected = 0.0 if metric in LOWER_IS_BETTER else 1.0
        assert score.metrics[metric] == pytest.approx(expected), metric
    assert all(detail.empty() for detail in score.details.values()), score.details


# --- each perturbation moves exactly its metrics ----------------------------------------------


def test_dropping_a_person_costs_recall_not_precision(gold_ar: Gold) -> None:
    def drop_biden(d: Digest) -> None:
        d.people = [p for p in d.people if p.name_en != "Joe Biden"]

    perfect, score = perturbed(gold_ar, drop_biden)
    assert changes(perfect, score) == {
        "people_r": "down",
        "people_f1": "down",
        "entities_r": "down",
        "entities_f1": "down",
    }
    assert score.metrics["people_p"] == 1.0
    assert score.metrics["people_r"] == 0.5
    assert score.details["people"].missed == ["Joe Biden"]


def test_misspelling_within_tolerance_changes_nothing(gold_ar: Gold) -> None:
    def misspell(d: Digest) -> None:
        # name_src too: the Arabic spelling must not be what rescues the match.
        d.people[0].name_en = d.people[0].name_src = "Volodimir Zelenskyy"

    perfect, score = perturbed(gold_ar, misspell)
    assert changes(perfect, score) == {}


def test_misspelling_beyond_tolerance_is_a_miss(gold_ar: Gold) -> None:
    def mangle(d: Digest) -> None:
        d.people[0].name_en = d.people[0].name_src = "Vladimir Zelinski"

    perfect, score = perturbed(gold_ar, mangle)
    assert changes(perfect, score) == {
        f"{kind}_{m}": "down" for kind in ("people", "entities") for m in ("p", "r", "f1")
    }
    assert score.details["people"].missed == ["Volodymyr Zelensky"]
    assert score.details["people"].extra == ["Vladimir Zelinski"]


def test_distinct_people_sharing_a_surname_do_not_match(gold_ar: Gold) -> None:
    def hunter(d: Digest) -> None:
        d.people[1].name_en = d.people[1].name_src = "Hunter Biden"

    _, score = perturbed(gold_ar, hunter)
    assert score.metrics["people_r"] == 0.5


def test_folding_matches_script_variants(gold_fa: Gold) -> None:
    def arabic_letters(d: Digest) -> None:
        # Arabic kaf and yeh for the Persian ک and ی, and an English name nobody listed.
        d.people[0].name_en = "V. Z."
        d.people[0].name_src = "زلنسكي"

    perfect, score = perturbed(gold_fa, arabic_letters)
    assert changes(perfect, score) == {}


def test_changing_a_number_costs_numbers_only(gold_ar: Gold) -> None:
    def change(d: Digest) -> None:
        d.numbers[0].value = 60e9

    perfect, score = perturbed(gold_ar, change)
    moved = changes(perfect, score)
    # numbers_counts is scored over value-matched numbers: none is left, so it is n/a now.
    assert moved == {"numbers_acc": "down", "numbers_value_acc": "down", "numbers_counts": "n/a"}
    assert score.metrics["numbers_acc"] == 0.0


def test_number_units_compare_through_synonyms_only(gold_fa: Gold) -> None:
    gold = gold_fa.model_copy(deep=True)
    gold.numbers[0].unit = "percent"
    digest = digest_from_gold(gold)
    digest.numbers[0].unit = "%"
    assert score_digest(digest, gold).metrics["numbers_acc"] == 1.0
    digest.numbers[0].unit = "USD"
    score = score_digest(digest, gold)
    # The value is right, the unit class is not: value-only accuracy says so beside it.
    assert score.metrics["numbers_acc"] == 0.0
    assert score.metrics["numbers_value_acc"] == 1.0
    assert score.details["numbers"].wrong == ["27: unit 'USD' (USD), expected 'percent' (percent)"]


def test_extra_numbers_cost_accuracy(gold_ar: Gold) -> None:
    def add(d: Digest) -> None:
        d.numbers.append(NumberFact(value=7, unit=None, counts="x", evidence="x"))

    perfect, score = perturbed(gold_ar, add)
    assert changes(perfect, score) == {"numbers_acc": "down", "numbers_value_acc": "down"}
    assert score.metrics["numbers_acc"] == 0.5


def test_shifting_a_date_costs_dates_only(gold_fa: Gold) -> None:
    def shift(d: Digest) -> None:
        d.dates[0].iso = "--06-28"

    perfect, score = perturbed(gold_fa, shift)
    assert changes(perfect, score) == {"dates_iso_full": "down", "dates_iso_compatible": "down"}
    assert score.metrics["dates_text_recall"] == 1.0
    assert score.details["dates"].wrong == [
        "روز پنجشنبه هفتم تیر: iso --06-28, expected --06-27 (wrong)"
    ]


def test_dates_match_by_contained_text(gold_fa: Gold) -> None:
    def shorter(d: Digest) -> None:
        d.dates[0].text = "هفتم تير"  # Arabic yeh, and without the weekday

    perfect, score = perturbed(gold_fa, shorter)
    assert changes(perfect, score) == {}


def test_swapping_a_speaker_costs_speaker_only(gold_ar: Gold) -> None:
    def swap(d: Digest) -> None:
        d.quotes[0].speaker_en = "Joe Biden"

    perfect, score = perturbed(gold_ar, swap)
    assert changes(perfect, score) == {"quotes_speaker": "down"}
    assert score.metrics["quotes_speaker"] == 0.5
    assert score.metrics["quotes_r"] == score.metrics["quotes_p"] == 1.0


def test_quotes_match_across_digit_and_spacing_variants(gold_fa: Gold) -> None:
    def variants(d: Digest) -> None:
        # ASCII digits, a ZWNJ, no final full stop: the same words.
        d.quotes[0].text_src = (
            "برای اولین بار این توافق تعهد تمامی 27 کشور عضو را به منظور ارائه حمایت "
            "قابل توجه از اوکراین، بدون توجه به هر گونه تغییر داخلی، تضمین می\u200cکند"
        )

    perfect, score = perturbed(gold_fa, variants)
    assert changes(perfect, score) == {}


def test_an_excerpt_of_a_quote_is_verbatim(gold_ar: Gold) -> None:
    def excerpt(d: Digest) -> None:
        d.quotes[1].text_src = "الاحتياجات العاجلة لأوكرانيا"

    perfect, score = perturbed(gold_ar, excerpt)
    assert changes(perfect, score) == {}


def test_a_paraphrased_quote_is_not_verbatim(gold_ar: Gold) -> None:
    def paraphrase(d: Digest) -> None:
        d.quotes[1].text_src = "أوكرانيا تحتاج إلى المساعدة بشكل عاجل"

    perfect, score = perturbed(gold_ar, paraphrase)
    assert changes(perfect, score) == {"quotes_r": "down", "quotes_p": "down"}
    assert score.metrics["quotes_r"] == score.metrics["quotes_p"] == 0.5


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        (
            Person(name_en="Christophe Lemoine", name_src="كريستوف لوموان", evidence="x"),
            {
                "leakage": "up",
                "people_p": "down",
                "people_f1": "down",
                "entities_p": "down",
                "entities_f1": "down",
            },
        ),
        (
            NumberFact(value=40, unit=None, counts="x", evidence="x"),
            {"leakage": "up", "numbers_acc": "down", "numbers_value_acc": "down"},
        ),
    ],
)
def test_facts_from_the_appended_story_leak(
    gold_ar: Gold, fact: object, expected: dict[str, str]
) -> None:
    def add(d: Digest) -> None:
        if isinstance(fact, Person):
            d.people.append(fact)
        else:
            assert isinstance(fact, NumberFact)
            d.numbers.append(fact)

    perfect, score = perturbed(gold_ar, add)
    assert changes(perfect, score) == expected
    # 9 people, organizations, locations, sources and numbers, plus the leaked one.
    assert score.metrics["leakage"] == pytest.approx(1 / 10)


def test_a_main_story_name_never_leaks(gold_ar: Gold) -> None:
    # Biden is also named in the appended story: still a main-story entity.
    gold = gold_ar.model_copy(deep=True)
    gold.leak.people.append("Joe Biden")
    assert score_digest(digest_from_gold(gold), gold).metrics["leakage"] == 0.0


def test_unrelated_english_summary_costs_summary_metrics_only(gold_ar: Gold) -> None:
    def replace(d: Digest) -> None:
        d.summary_en = "Heavy rain is expected over Oslo this weekend, forecasters warned."

    perfect, score = perturbed(gold_ar, replace)
    assert changes(perfect, score) == {
        "key_fact_coverage": "down",
        "summary_en_chrf": "down",
        "summary_en_rougeL": "down",
    }
    assert score.metrics["key_fact_coverage"] == 0.0
    assert len(score.details["key_facts"].missed) == 3


def test_source_summary_rouge_sees_arabic_words(gold_ar: Gold) -> None:
    def half(d: Digest) -> None:
        d.summary_src = "أكد الرئيس الأوكراني فولوديمير زيلينسكي يوم الاثنين"

    perfect, score = perturbed(gold_ar, half)
    assert changes(perfect, score) == {"summary_src_chrf": "down", "summary_src_rougeL": "down"}
    rouge = score.metrics["summary_src_rougeL"]
    assert rouge is not None and 0.1 < rouge < 0.6  # the default tokenizer would give 0.0


def test_grounding_rate_counts_dropped_facts(gold_ar: Gold) -> None:
    def dropped(d: Digest) -> None:
        d.provenance.facts_verified = 6
        d.provenance.unverified_dropped = 2

    perfect, score = perturbed(gold_ar, dropped)
    assert changes(perfect, score) == {"grounding_rate": "down"}
    assert score.metrics["grounding_rate"] == 0.75


# --- not applicable ---------------------------------------------------------------------------


def test_empty_fields_are_not_applicable() -> None:
    gold = Gold(
        article="x.txt", language="ar", summary_en="Nothing happened.", summary_src="لا شيء"
    )
    digest = Digest(
        language="ar",
        title_en="t",
        title_src="t",
        summary_en="Nothing happened.",
        summary_src="لا شيء",
        provenance=provenance(),
    )
    metrics = score_digest(digest, gold).metrics
    scored = {m for m in METRICS if metrics[m] is not None}
    # No fact at all: nothing could leak, nothing was verified; the summaries still compare.
    assert scored == {"answered", "summary_en_chrf", "summary_en_rougeL"} | {
        "summary_src_chrf",
        "summary_src_rougeL",
    }
    assert metrics["summary_en_chrf"] == 1.0

    digest.people = [Person(name_en="Joe Biden", name_src="جو بايدن", evidence="x")]
    digest.quotes = [
        Quote(speaker_en="Biden", text_src="كلام لم يقله أحد", text_en="words", evidence="x")
    ]
    metrics = score_digest(digest, gold).metrics
    assert (metrics["people_p"], metrics["people_r"], metrics["people_f1"]) == (0.0, None, 0.0)
    # An invented quotation costs precision; there was nothing to recall.
    assert (metrics["quotes_p"], metrics["quotes_r"], metrics["quotes_speaker"]) == (
        0.0,
        None,
        None,
    )
    assert metrics["leakage"] == 0.0


def test_each_gold_entity_is_matched_once(gold_ar: Gold) -> None:
    def twice(d: Digest) -> None:
        d.people.append(d.people[0].model_copy())

    _, score = perturbed(gold_ar, twice)
    assert score.metrics["people_p"] == pytest.approx(2 / 3)
    assert score.metrics["people_r"] == 1.0


# --- gold files -------------------------------------------------------------------------------


def test_load_gold_dir_reads_yaml_and_json(tmp_path: Path, gold_ar: Gold) -> None:
    (tmp_path / f"{AR}.yaml").write_text(GOLD_AR_YAML, encoding="utf-8")
    (tmp_path / f"{FA}.json").write_text(
        json.dumps(gold_from_yaml(GOLD_FA_YAML).model_dump(), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "README.md").write_text("not gold", encoding="utf-8")
    golds = load_gold_dir(tmp_path)
    assert sorted(golds) == [FA, AR]
    assert golds[AR] == gold_ar
    assert golds[FA].dates[0].iso == "--06-27"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOLD_AR_YAML + "people: [unclosed\n", "not valid YAML"),
        (GOLD_AR_YAML.replace("leak:", "leek:"), "leek"),
        (
            GOLD_AR_YAML.replace("    role: President of Ukraine", "    rol: President of Ukraine"),
            "people.0.rol",
        ),
        (GOLD_AR_YAML.replace("keywords: [[Biden], [phone, call]]", "keywords: []"), "keywords"),
        (GOLD_AR_YAML.replace("iso: null", "iso: Monday", 1), "dates.0.iso"),
        (GOLD_AR_YAML.replace("value: 61000000000", "value: lots"), "numbers.0.value"),
        (
            GOLD_AR_YAML.replace(
                "article: 001_c7d2eb9492ec713f.txt", "article: 003_3050791f78128683.txt"
            ),
            "003_3050791f78128683",
        ),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_malformed_gold_names_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / f"{FA}.yaml").write_text(GOLD_FA_YAML, encoding="utf-8")
    (tmp_path / f"{AR}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_gold_dir(tmp_path)
    assert f"{AR}.yaml" in str(info.value)
    assert problem in str(info.value)


def test_unquoted_yaml_dates_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / f"{AR}.yml"
    path.write_text(GOLD_AR_YAML.replace("iso: null", "iso: 2024-04-22", 1), encoding="utf-8")
    assert load_gold(path).dates[0].iso == "2024-04-22"


def test_missing_gold_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_gold_dir(tmp_path / "nope")
