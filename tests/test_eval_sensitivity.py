"""The sensitivity matrix: each corruption of a digest moves its metric clearly, and only it.

The perfect digests of the five seed golds (evals/gold/) are corrupted one way
at a time, the corrupted set is scored like an eval run, and the means over
articles are compared with the perfect run's:

* ``moves``: the metrics the corruption is about must get worse by at least
  CLEAR (0.15, on a 0-1 scale) — a corruption the metric barely notices would
  not tell two models apart;
* ``follows``: metrics that must get worse too, by any amount, or stop applying
  (precision when extras are added, the pooled entity metrics when one kind
  suffers);
* ``nudges``: metrics that may move by less than CLEAR either way (chrF notices
  the inserted "not" of a negated summary);
* every other metric must not move at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from khabar.core.digest import (
    DroppedSentence,
    NumberFact,
    Organization,
    Person,
    Place,
    Source,
)
from khabar.evals.gold import Gold
from khabar.evals.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    ArticleScore,
    applicable,
    score_digest,
    score_failure,
)
from khabar.evals.report import EvalReport, aggregate

from .evalfixtures import cited, digest_from_gold, seed_golds

CLEAR = 0.15
GOLDS = seed_golds()
STEMS = sorted(GOLDS)
Digests = dict[str, object]


def _perfect() -> dict[str, object]:
    return {stem: digest_from_gold(gold) for stem, gold in GOLDS.items()}


def _report(digests: dict[str, object]) -> EvalReport:
    scores: dict[str, ArticleScore] = {}
    for stem, digest in digests.items():
        if isinstance(digest, str):
            scores[stem] = score_failure(GOLDS[stem], digest)
        else:
            scores[stem] = score_digest(digest, GOLDS[stem])  # type: ignore[arg-type]
    return aggregate(scores, model="m", provider="p", replay=False, resamples=10)


# --- the corruptions --------------------------------------------------------------------------


def drop_half_the_people(d: dict[str, object]) -> None:
    for digest in d.values():
        digest.people = digest.people[::2]  # type: ignore[attr-defined]


def numbers_times_ten(d: dict[str, object]) -> None:
    for digest in d.values():
        for number in digest.numbers:  # type: ignore[attr-defined]
            number.value *= 10


def _wrong_year(iso: str | None) -> str | None:
    if iso is None:
        return None
    if iso.startswith("--"):
        return "1999" + iso[1:]  # a year the text does not give, and a wrong one
    return f"{int(iso[:4]) - 1:04d}{iso[4:]}"


def dates_to_a_wrong_year(d: dict[str, object]) -> None:
    for digest in d.values():
        for date in digest.dates:  # type: ignore[attr-defined]
            date.iso = _wrong_year(date.iso)


def facts_from_the_appended_stories(d: dict[str, object]) -> None:
    for stem, digest in d.items():
        leak = GOLDS[stem].leak
        add = digest  # type: ignore[assignment]
        for name in (n for n in leak.people if n.isascii()):
            add.people.append(Person(name_en=name, name_src=name, evidence="x"))  # type: ignore[attr-defined]
        for name in (n for n in leak.organizations if n.isascii()):
            add.organizations.append(Organization(name_en=name, name_src=name, evidence="x"))  # type: ignore[attr-defined]
        for name in (n for n in leak.locations if n.isascii()):
            add.locations.append(Place(name_en=name, name_src=name, evidence="x"))  # type: ignore[attr-defined]
        for name in (n for n in leak.sources if n.isascii()):
            add.sources.append(Source(name_en=name, name_src=name, evidence="x"))  # type: ignore[attr-defined]
        for value in leak.numbers:
            add.numbers.append(NumberFact(value=value, counts="x", evidence="x"))  # type: ignore[attr-defined]


def a_summary_of_another_article(d: dict[str, object]) -> None:
    for i, stem in enumerate(STEMS):
        other = GOLDS[STEMS[(i + 1) % len(STEMS)]]
        digest = d[stem]
        en, src = cited(other.summary_en), cited(other.summary_src)
        digest.summary_en_sentences, digest.summary_src_sentences = en, src  # type: ignore[attr-defined]
        digest.summary_en = " ".join(s.text for s in en)  # type: ignore[attr-defined]
        digest.summary_src = " ".join(s.text for s in src)  # type: ignore[attr-defined]


def a_summary_in_the_wrong_language(d: dict[str, object]) -> None:
    for digest in d.values():
        # The source-language summary written in English.
        digest.summary_src_sentences = list(digest.summary_en_sentences)  # type: ignore[attr-defined]
        digest.summary_src = digest.summary_en  # type: ignore[attr-defined]


def wrong_speakers(d: dict[str, object]) -> None:
    for digest in d.values():
        for quote in digest.quotes:  # type: ignore[attr-defined]
            quote.speaker_en = "an unnamed official"


def invented_summary_sentences(d: dict[str, object]) -> None:
    # The pipeline checks each sentence against its citations and drops what they do
    # not support, recording it: as many invented sentences as true ones, per language.
    for digest in d.values():
        for name in ("summary_en", "summary_src"):
            for i, _ in enumerate(getattr(digest, f"{name}_sentences")):
                digest.provenance.dropped_sentences.append(  # type: ignore[attr-defined]
                    DroppedSentence(
                        field=name,
                        index=i,
                        text="Both sides agreed to an immediate ceasefire.",
                        reason="no citation states it",
                    )
                )
        digest.support.sentences_dropped = len(digest.provenance.dropped_sentences)  # type: ignore[attr-defined]


def _negate(sentence: str) -> str:
    return "It is not true that " + sentence[0].lower() + sentence[1:]


def a_negated_summary(d: dict[str, object]) -> None:
    for digest in d.values():
        for s in digest.summary_en_sentences:  # type: ignore[attr-defined]
            s.text = _negate(s.text)
        digest.summary_en = " ".join(s.text for s in digest.summary_en_sentences)  # type: ignore[attr-defined]


def one_word_quotes(d: dict[str, object]) -> None:
    for digest in d.values():
        for quote in digest.quotes:  # type: ignore[attr-defined]
            quote.text_src = re.split(r"\s+", quote.text_src.strip())[0]


FAILED_STEM = STEMS[1]


def a_failed_article(d: dict[str, object]) -> None:
    d[FAILED_STEM] = "invalid_output: the answer was cut off mid-JSON"


@dataclass(frozen=True)
class Row:
    corrupt: Callable[[dict[str, object]], None]
    moves: frozenset[str]
    follows: frozenset[str] = field(default_factory=frozenset)
    nudges: frozenset[str] = field(default_factory=frozenset)


def _kinds(*metrics: str) -> frozenset[str]:
    return frozenset(metrics)


_ENTITY_P = _kinds(
    *(f"{k}_{m}" for k in ("people", "organizations", "locations", "sources") for m in ("p", "f1")),
    "entities_p",
    "entities_f1",
)

MATRIX: dict[str, Row] = {
    "drop half the people": Row(
        drop_half_the_people,
        _kinds("people_r", "people_f1"),
        follows=_kinds("entities_r", "entities_f1"),
    ),
    "numbers x10": Row(
        numbers_times_ten,
        _kinds("numbers_acc", "numbers_value_acc"),
        follows=_kinds("numbers_counts"),  # scored over value-matched numbers: none is left
    ),
    "dates to a wrong year": Row(
        dates_to_a_wrong_year, _kinds("dates_iso_full", "dates_iso_compatible")
    ),
    "facts from the appended stories": Row(
        facts_from_the_appended_stories,
        _kinds("leakage"),
        follows=_ENTITY_P | _kinds("numbers_acc", "numbers_value_acc"),
    ),
    "a summary of another article": Row(
        a_summary_of_another_article,
        _kinds(
            "key_fact_coverage",
            "summary_en_chrf",
            "summary_en_rougeL",
            "summary_src_chrf",
            "summary_src_rougeL",
        ),
    ),
    "a summary in the wrong language": Row(
        a_summary_in_the_wrong_language, _kinds("summary_src_chrf", "summary_src_rougeL")
    ),
    "wrong speakers": Row(wrong_speakers, _kinds("quotes_speaker")),
    "invented summary sentences": Row(
        invented_summary_sentences, _kinds("summary_en_faithful", "summary_src_faithful")
    ),
    "a negated summary": Row(
        a_negated_summary,
        _kinds("key_fact_coverage"),
        nudges=_kinds("summary_en_chrf", "summary_en_rougeL"),
    ),
    "one-word quotes": Row(
        one_word_quotes,
        _kinds("quotes_r", "quotes_scare"),
        follows=_kinds("quotes_p", "quotes_speaker"),  # no quotation is left to score
    ),
    "a failed article": Row(
        a_failed_article,
        _kinds("answered"),
        # Every other metric that article's gold makes applicable drops with it.
        follows=frozenset(applicable(GOLDS[FAILED_STEM]) - {"answered"}),
    ),
}


def _worse(metric: str, before: float, after: float) -> float:
    """How much worse ``after`` is than ``before`` (negative: better)."""
    return after - before if metric in LOWER_IS_BETTER else before - after


@pytest.fixture(scope="module")
def perfect() -> EvalReport:
    report = _report(_perfect())
    assert report.coverage() == f"{len(STEMS)}/{len(STEMS)} answered"
    return report


@pytest.mark.parametrize("name", list(MATRIX))
def test_corruption_moves_its_metric_and_leaves_the_others(name: str, perfect: EvalReport) -> None:
    row = MATRIX[name]
    digests = _perfect()
    row.corrupt(digests)
    corrupted = _report(digests)
    for metric in METRICS:
        before, after = perfect.overall[metric], corrupted.overall[metric]
        if metric in row.moves:
            assert before is not None and after is not None, (metric, before, after)
            assert _worse(metric, before, after) >= CLEAR, (metric, before, after)
        elif metric in row.follows:
            assert before is not None, metric
            assert after is None or _worse(metric, before, after) > 1e-9, (metric, before, after)
        elif metric in row.nudges:
            assert before is not None and after is not None, metric
            assert abs(after - before) < CLEAR, (metric, before, after)
        else:
            assert after == pytest.approx(before, abs=1e-9), (metric, before, after)


def test_the_failed_article_scores_zero_on_what_its_gold_asks() -> None:
    digests = _perfect()
    a_failed_article(digests)
    report = _report(digests)
    score = report.articles[FAILED_STEM]
    assert score.failed is not None
    can = applicable(GOLDS[FAILED_STEM])
    assert {m for m, v in score.metrics.items() if v is not None} == can
    assert all(score.metrics[m] == 0.0 for m in can)
    assert report.coverage() == f"{len(STEMS) - 1}/{len(STEMS)} answered"


def test_every_seed_gold_exercises_the_matrix() -> None:
    """The matrix means something only if the seeds have what it corrupts."""
    golds: list[Gold] = list(GOLDS.values())
    assert sum(len(g.people) for g in golds) >= 10
    assert any(d.iso and d.iso[0].isdigit() for g in golds for d in g.dates)  # a dated date
    assert any(g.leak.people or g.leak.organizations for g in golds)
    assert sum(len(g.quotes) for g in golds) >= 10
    assert all(g.key_facts for g in golds)
