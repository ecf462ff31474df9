"""Scoring one digest against its gold annotation: :func:`score_digest`, :func:`score_failure`.

Pure functions only: nothing here calls a model or touches the network.
:mod:`khabar.evals.report` averages the :class:`ArticleScore` of every article
into a report. The matchers live by subject: :mod:`~khabar.evals.entities`
(people, organizations, locations, sources, kinds, roles, leakage),
:mod:`~khabar.evals.facts` (numbers, dates, quotes),
:mod:`~khabar.evals.summaries` (overlap, key facts, faithfulness).

Every metric is in [0, 1]; ``None`` means "not applicable" (neither the gold
nor the digest has quotes, say). Higher is better except :data:`LOWER_IS_BETTER`.

**A failed article** (no digest: the model's answer did not parse, was
unsupported, the request failed) is scored by :func:`score_failure`: 0 on
every metric the gold makes applicable, so that failing is never better than
answering badly. The exceptions are the shares of what a digest produced
(``leakage``, ``quotes_scare``): a failure produced nothing, so they are None
rather than a flattering 0. ``answered`` is 1 for a digest, 0 for a failure:
its mean is the coverage.

Example::

    >>> gold = load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml"))   # doctest: +SKIP
    >>> score_digest(digest, gold).metrics["people_f1"]                  # doctest: +SKIP
    0.8
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from khabar.core.digest import Digest
from khabar.evals.entities import ENTITY_FIELDS, FUZZY_THRESHOLD, leakage, ratio, score_entities
from khabar.evals.facts import (
    MIN_QUOTE_WORDS,
    QUOTE_THRESHOLD,
    quote_words,
    score_dates,
    score_numbers,
    score_quotes,
)
from khabar.evals.gold import Gold
from khabar.evals.summaries import faithfulness, key_fact_coverage, overlap_scores

__all__ = [
    "ENTITY_FIELDS",
    "FUZZY_THRESHOLD",
    "LOWER_IS_BETTER",
    "METRICS",
    "MIN_QUOTE_WORDS",
    "PRODUCED_SHARES",
    "QUOTE_THRESHOLD",
    "ArticleScore",
    "FieldDetail",
    "applicable",
    "score_digest",
    "score_failure",
]

METRICS: tuple[str, ...] = (
    "answered",
    *(f"{field}_{m}" for field in ENTITY_FIELDS for m in ("p", "r", "f1")),
    "entities_p",
    "entities_r",
    "entities_f1",
    "entity_kind_acc",
    "people_role",
    "numbers_acc",
    "numbers_value_acc",
    "numbers_counts",
    "dates_iso_full",
    "dates_iso_compatible",
    "dates_text_recall",
    "dates_refers_to",
    "quotes_p",
    "quotes_r",
    "quotes_speaker",
    "quotes_scare",
    "key_fact_coverage",
    "summary_en_chrf",
    "summary_src_chrf",
    "summary_en_rougeL",
    "summary_src_rougeL",
    "summary_en_faithful",
    "summary_src_faithful",
    "grounding_rate",
    "leakage",
)
"""Every metric :func:`score_digest` reports, in report order (coverage first)."""

LOWER_IS_BETTER = frozenset({"leakage", "quotes_scare"})
"""Metrics that regress when they rise; every other metric regresses when it falls."""

PRODUCED_SHARES = frozenset({"leakage", "quotes_scare"})
"""Shares of what a digest produced: None for a failed article, which produced nothing."""


class FieldDetail(BaseModel):
    """What one field got wrong, in words: for the Markdown report."""

    missed: list[str] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list)
    wrong: list[str] = Field(default_factory=list)

    def empty(self) -> bool:
        """True when nothing was missed, extra or wrong."""
        return not (self.missed or self.extra or self.wrong)


class ArticleScore(BaseModel):
    """The metrics of one article against its gold, the details behind them, and why it failed."""

    metrics: dict[str, float | None]
    details: dict[str, FieldDetail] = Field(default_factory=dict)
    failed: str | None = Field(
        default=None, description="Why the article has no digest; None when it has one."
    )


def score_digest(digest: Digest, gold: Gold) -> ArticleScore:
    """Score one digest against its gold annotation.

    Every metric of :data:`METRICS` is present, ``None`` when it does not apply.

    Example::

        >>> score = score_digest(digest, load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml")))  # doctest: +SKIP
        >>> score.metrics["people_f1"], score.details["people"].missed   # doctest: +SKIP
        (0.8, ['Joe Biden'])
    """
    metrics: dict[str, float | None] = {"answered": 1.0}
    details: dict[str, FieldDetail] = {}
    entities = score_entities(gold, digest)
    metrics.update(entities.metrics)
    for field in ENTITY_FIELDS:
        details[field] = FieldDetail(
            missed=entities.missed[field], extra=entities.extra[field], wrong=entities.wrong[field]
        )
    for name, result in (
        ("numbers", score_numbers(gold, digest)),
        ("dates", score_dates(gold, digest)),
        ("quotes", score_quotes(gold, digest)),
    ):
        metrics.update(result.metrics)
        details[name] = FieldDetail(missed=result.missed, extra=result.extra, wrong=result.wrong)
    metrics["key_fact_coverage"], missed = key_fact_coverage(gold, digest.summary_en)
    details["key_facts"] = FieldDetail(missed=missed)
    metrics["summary_en_chrf"], metrics["summary_en_rougeL"] = overlap_scores(
        gold.summary_en, digest.summary_en, source_language=False
    )
    metrics["summary_src_chrf"], metrics["summary_src_rougeL"] = overlap_scores(
        gold.summary_src, digest.summary_src, source_language=True
    )
    metrics["summary_en_faithful"] = faithfulness(digest, "summary_en")
    metrics["summary_src_faithful"] = faithfulness(digest, "summary_src")
    dropped = [f"{s.field}: {s.text} ({s.reason})" for s in digest.provenance.dropped_sentences]
    if dropped:
        details["summary"] = FieldDetail(wrong=dropped)
    prov = digest.provenance
    metrics["grounding_rate"] = ratio(
        prov.facts_verified, prov.facts_verified + prov.unverified_dropped
    )
    metrics["leakage"], leaked = leakage(gold, digest)
    details["leakage"] = FieldDetail(extra=leaked)
    return ArticleScore(metrics={m: metrics[m] for m in METRICS}, details=details)


def applicable(gold: Gold) -> frozenset[str]:
    """The metrics a digest of this gold can be scored on at all.

    Those the gold's own facts make applicable: what a perfect digest (the
    gold itself) scores as a number rather than None. Quotes, say, apply only
    when the gold has quotations of at least :data:`MIN_QUOTE_WORDS` words.
    """
    out = {"answered", "grounding_rate", "summary_en_faithful", "summary_src_faithful"}
    for field in ENTITY_FIELDS:
        if getattr(gold, field):
            out.update(f"{field}_{m}" for m in ("p", "r", "f1"))
    if any(getattr(gold, f) for f in ENTITY_FIELDS):
        out.update({"entities_p", "entities_r", "entities_f1", "entity_kind_acc"})
    if any(p.role for p in gold.people):
        out.add("people_role")
    if gold.numbers:
        out.update({"numbers_acc", "numbers_value_acc"})
        if any(n.counts.strip() for n in gold.numbers):
            out.add("numbers_counts")
    if gold.dates:
        out.update({"dates_iso_full", "dates_iso_compatible", "dates_text_recall"})
        if any(d.refers_to.strip() for d in gold.dates):
            out.add("dates_refers_to")
    if any(quote_words(q.text_src) >= MIN_QUOTE_WORDS for q in gold.quotes):
        out.update({"quotes_p", "quotes_r", "quotes_speaker"})
    if gold.key_facts:
        out.add("key_fact_coverage")
    if gold.summary_en.strip():
        out.update({"summary_en_chrf", "summary_en_rougeL"})
    if gold.summary_src.strip():
        out.update({"summary_src_chrf", "summary_src_rougeL"})
    return frozenset(out)


def score_failure(gold: Gold, reason: str) -> ArticleScore:
    """The score of an article with no digest: 0 on every applicable metric (see the module doc)."""
    can = applicable(gold)
    metrics: dict[str, float | None] = {
        m: (0.0 if m in can and m not in PRODUCED_SHARES else None) for m in METRICS
    }
    return ArticleScore(metrics=metrics, details={}, failed=reason)
