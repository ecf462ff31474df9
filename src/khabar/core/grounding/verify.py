"""Verification: the pipeline's stage that checks a draft against its article, in one pass.

:func:`verify` checks every fact once: its evidence is located in the article
(:func:`~khabar.core.grounding.locate`), a name must be written there, a quote
must be verbatim, a number must agree with its evidence and a date must be
written in the article. It returns the draft with only the verified facts
(spans and parsed dates filled by code, whatever the model claimed), the
dropped facts with their reasons, and one problem line per dropped fact: the
text the pipeline sends back to the model when it re-asks.

Pure functions of their arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..digest import FACT_FIELDS, DateFact, DigestDraft, DroppedFact, NumberFact, Quote, Span
from .dates import parse_date
from .locate import contains, locate
from .numbers import _unit_problem, number_matches, parse_numbers

__all__ = ["GroundingResult", "Verification", "check_draft", "fact_problem", "ground", "verify"]


def _name_of(fact: Any) -> str:
    for attr in ("name_src", "text", "text_src", "speaker_en", "name_en"):
        value = getattr(fact, attr, None)
        if value:
            return str(value)[:60]
    return str(fact.evidence)[:60]


def _check(fact: Any, article: str) -> tuple[Span | None, str | None]:
    """The evidence's span in ``article`` and why ``fact`` is not supported (None when it is)."""
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
    if isinstance(fact, NumberFact):
        if not number_matches(fact.value, evidence):
            stated = ", ".join(f"{n.value:g}" for n in parse_numbers(evidence)) or "no number"
            return span, f"the value {fact.value:g} is not what the evidence states ({stated})"
        problem = _unit_problem(fact)
        if problem:
            return span, problem
    if isinstance(fact, DateFact) and not contains(article, fact.text):
        return span, f"the date {fact.text!r} is not written in the article"
    return span, None


def fact_problem(fact: Any, article: str) -> str | None:
    """Why ``fact`` is not supported by ``article``, or None when it is."""
    return _check(fact, article)[1]


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found.

    ``draft`` keeps only the verified facts (spans and parsed dates filled);
    ``dropped`` holds every other fact with its reason; ``problems`` says the
    same as one line per dropped fact, for a re-ask.
    """

    draft: DigestDraft
    dropped: list[DroppedFact]
    problems: list[str]
    verified: int

    @property
    def ok(self) -> bool:
        """True when nothing was dropped."""
        return not self.dropped


# The name this result had before verification was a pipeline stage.
GroundingResult = Verification


def verify(draft: DigestDraft, article: str) -> Verification:
    """Check every fact of ``draft`` against ``article`` once; keep what holds.

    Facts that fail are returned as :class:`~khabar.core.digest.DroppedFact`
    with the reason, never silently lost. Dates get their calendar, parts and
    ISO form from :func:`parse_date`, whatever the model claimed.

    >>> from khabar.core.digest import DigestDraft
    >>> d = DigestDraft(title_en="t", title_src="t", summary_en="s", summary_src="s",
    ...     people=[{"name_en": "X", "name_src": "لا أحد", "evidence": "جملة ليست في المقال"}])
    >>> result = verify(d, "قال الأمين العام إن الحلف مستعد.")
    >>> result.verified, len(result.dropped), result.problems[0][:22]
    (0, 1, 'people[0] (لا أحد): its')
    """
    updates: dict[str, list[Any]] = {}
    dropped: list[DroppedFact] = []
    problems: list[str] = []
    verified = 0
    for field in FACT_FIELDS:
        kept: list[Any] = []
        for i, fact in enumerate(getattr(draft, field)):
            span, problem = _check(fact, article)
            if problem:
                dropped.append(
                    DroppedFact(field=field, fact=fact.model_dump(exclude={"span"}), reason=problem)
                )
                problems.append(f"{field}[{i}] ({_name_of(fact)}): {problem}")
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
        updates[field] = kept
    return Verification(draft.model_copy(update=updates), dropped, problems, verified)


def check_draft(draft: DigestDraft, article: str) -> list[str]:
    """Every problem of ``draft`` against ``article``, one line each (empty when all is verified)."""
    return verify(draft, article).problems


def ground(draft: DigestDraft, article: str) -> Verification:
    """Keep the facts of ``draft`` that ``article`` supports (same as :func:`verify`)."""
    return verify(draft, article)
