"""Verification: the pipeline's stage that checks a draft against its article, in one pass.

:func:`verify` checks every fact once, then every summary sentence and title
(:mod:`khabar.core.grounding.sentences`). For a fact: its evidence is located in the article
(:func:`~khabar.core.grounding.locate`), a name must be written there, a quote
must be verbatim, a number must agree with its evidence and a date must be
written in the article. It returns the draft with only the verified facts
(spans and parsed dates filled by code, whatever the model claimed), the
dropped facts with their reasons, the summary sentences that hold (their
citations located), the dropped sentences and titles with their reasons, a
:class:`~khabar.core.digest.Support` summary, and one problem line per dropped
item: the text the pipeline sends back to the model when it re-asks.

Pure functions of their arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..digest import (
    FACT_FIELDS,
    SUMMARY_FIELDS,
    TITLE_FIELDS,
    CitedSentence,
    DateFact,
    DigestDraft,
    DroppedFact,
    DroppedSentence,
    NumberFact,
    Quote,
    Span,
    Support,
)
from ..text.language import detect_language
from .dates import parse_date
from .locate import contains, locate, splits_number
from .numbers import _unit_problem, number_matches, parse_numbers
from .sentences import Entity, sentence_problem, title_problem

__all__ = ["GroundingResult", "Verification", "check_draft", "fact_problem", "ground", "verify"]


def _name_of(fact: Any) -> str:
    for attr in ("name_src", "text", "text_src", "speaker_en", "name_en"):
        value = getattr(fact, attr, None)
        if value:
            return str(value)[:60]
    return str(fact.evidence)[:60]


def _check(fact: Any, article: str, language: str | None = None) -> tuple[Span | None, str | None]:
    """The evidence's span in ``article`` and why ``fact`` is not supported (None when it is).

    ``language`` is the article's: number words are read as that language writes them.
    """
    evidence = (fact.evidence or "").strip()
    if not evidence:
        return None, "its evidence is empty"
    span = locate(evidence, article)
    if span is None:
        return None, f"its evidence is not in the article: {evidence[:80]!r}"
    name_src = getattr(fact, "name_src", None)
    if name_src is not None and not contains(article, name_src):
        return span, f"the name {name_src!r} is not written in the article"
    if isinstance(fact, Quote) and locate(fact.text_src, article) is None:
        return span, f"the quotation is not verbatim in the article: {fact.text_src[:80]!r}"
    if isinstance(fact, (NumberFact, DateFact)) and splits_number(span, article):
        # "5 مليار" is verbatim in "2.5 مليار", but the number it shows is not the article's.
        return span, f"its evidence cuts a number of the article in two: {evidence[:80]!r}"
    if isinstance(fact, NumberFact):
        if not number_matches(fact.value, evidence, language):
            stated = (
                ", ".join(f"{n.value:g}" for n in parse_numbers(evidence, language)) or "no number"
            )
            return span, f"the value {fact.value:g} is not what the evidence states ({stated})"
        problem = _unit_problem(fact)
        if problem:
            return span, problem
    if isinstance(fact, DateFact) and not contains(article, fact.text):
        return span, f"the date {fact.text!r} is not written in the article"
    return span, None


def fact_problem(fact: Any, article: str, language: str | None = None) -> str | None:
    """Why ``fact`` is not supported by ``article``, or None when it is."""
    return _check(fact, article, language)[1]


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found.

    ``draft`` keeps only the verified facts (spans and parsed dates filled)
    and the supported summary sentences (spans filled); ``dropped`` holds every
    other fact with its reason, ``dropped_sentences`` every other sentence and
    title; ``titles`` the titles that held (None for one that did not);
    ``problems`` says the same as one line per dropped item, for a re-ask.
    """

    draft: DigestDraft
    dropped: list[DroppedFact]
    problems: list[str]
    verified: int
    dropped_sentences: list[DroppedSentence] = field(default_factory=list)
    titles: dict[str, str | None] = field(default_factory=dict)
    support: Support = field(default_factory=lambda: Support(status="verified"))

    @property
    def ok(self) -> bool:
        """True when nothing was dropped."""
        return not self.dropped and not self.dropped_sentences


# The name this result had before verification was a pipeline stage.
GroundingResult = Verification


def verify(
    draft: DigestDraft,
    article: str,
    *,
    language: str | None = None,
    stripped: Sequence[tuple[str, str]] = (),
) -> Verification:
    """Check every fact, summary sentence and title of ``draft`` against ``article`` once.

    Facts that fail are returned as :class:`~khabar.core.digest.DroppedFact`
    with the reason, sentences and titles as
    :class:`~khabar.core.digest.DroppedSentence`: never silently lost. Dates
    get their calendar, parts and ISO form from :func:`parse_date`, whatever the
    model claimed. ``language`` is the article's (detected when None);
    ``stripped`` the ``(kind, text)`` blocks removed from the page, so that a
    citation of one is named as such.

    >>> from khabar.core.digest import DigestDraft
    >>> d = DigestDraft(title_en="t", title_src="t", summary_en="s", summary_src="s",
    ...     people=[{"name_en": "X", "name_src": "لا أحد", "evidence": "جملة ليست في المقال"}])
    >>> result = verify(d, "قال الأمين العام إن الحلف مستعد.")
    >>> result.verified, len(result.dropped), result.problems[0].split(":")[0]
    (0, 1, 'people[0] (لا أحد)')
    >>> result.support.status
    'unsupported'
    """
    lang = language or detect_language(article)
    updates: dict[str, list[Any]] = {}
    dropped: list[DroppedFact] = []
    problems: list[str] = []
    verified = 0
    for name in FACT_FIELDS:
        kept: list[Any] = []
        for i, fact in enumerate(getattr(draft, name)):
            span, problem = _check(fact, article, lang)
            if problem:
                dropped.append(
                    DroppedFact(field=name, fact=fact.model_dump(exclude={"span"}), reason=problem)
                )
                problems.append(f"{name}[{i}] ({_name_of(fact)}): {problem}")
                continue
            changes: dict[str, Any] = {"span": span}
            if isinstance(fact, DateFact):
                parts = parse_date(fact.text)
                changes.update(
                    calendar=parts.calendar,
                    year=parts.year,
                    month=parts.month,
                    day=parts.day,
                    iso=parts.iso,
                )
            kept.append(fact.model_copy(update=changes))
            verified += 1
        updates[name] = kept

    entities = [
        Entity(f.name_en, f.name_src, f.span)
        for name in ("people", "organizations", "locations", "sources")
        for f in updates[name]
    ]
    dropped_sentences: list[DroppedSentence] = []
    kept_sentences = 0
    for name in SUMMARY_FIELDS:
        english = name == "summary_en"
        good: list[CitedSentence] = []
        for i, sentence in enumerate(getattr(draft, name)):
            spans, problem = sentence_problem(
                sentence.text,
                sentence.cites,
                english=english,
                language=lang,
                article=article,
                stripped=stripped,
                entities=entities,
            )
            if problem:
                dropped_sentences.append(
                    DroppedSentence(
                        field=name,
                        index=i,
                        text=sentence.text,
                        cites=sentence.cites,
                        reason=problem,
                    )
                )
                problems.append(f"{name}[{i}] ({sentence.text[:60]!r}): {problem}")
                continue
            good.append(sentence.model_copy(update={"spans": spans}))
        kept_sentences += len(good)
        updates[name] = good

    titles: dict[str, str | None] = {}
    titles_dropped = 0
    for name in TITLE_FIELDS:
        text = getattr(draft, name)
        problem = title_problem(text, "en" if name == "title_en" else lang)
        if problem:
            titles[name] = None
            titles_dropped += 1
            dropped_sentences.append(DroppedSentence(field=name, text=text, reason=problem))
            problems.append(f"{name} ({text[:60]!r}): {problem}")
        else:
            titles[name] = text

    sentences_dropped = sum(1 for d in dropped_sentences if d.field in SUMMARY_FIELDS)
    status: Literal["verified", "partial", "unsupported"]
    if not dropped and not dropped_sentences:
        status = "verified"
    elif kept_sentences == 0 and verified == 0:
        status = "unsupported"
    else:
        status = "partial"
    support = Support(
        status=status,
        facts_kept=verified,
        facts_dropped=len(dropped),
        sentences_kept=kept_sentences,
        sentences_dropped=sentences_dropped,
        titles_dropped=titles_dropped,
    )
    return Verification(
        draft.model_copy(update=updates),
        dropped,
        problems,
        verified,
        dropped_sentences,
        titles,
        support,
    )


def check_draft(draft: DigestDraft, article: str) -> list[str]:
    """Every problem of ``draft``'s facts against ``article``, one line each (empty when all hold)."""
    result = verify(draft, article)
    return [p for p in result.problems if not p.startswith(("summary_", "title_"))]


def ground(draft: DigestDraft, article: str) -> Verification:
    """Keep the facts of ``draft`` that ``article`` supports (same as :func:`verify`)."""
    return verify(draft, article)
