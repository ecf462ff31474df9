"""Verification: every fact of a draft checked against the article, in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..digest import FACT_FIELDS, DateFact, DigestDraft, DroppedFact, NumberFact, Quote
from .dates import parse_date
from .locate import contains, locate
from .numbers import _unit_problem, number_matches, parse_numbers

# ---------------------------------------------------------------------------------------
# Checking a draft
# ---------------------------------------------------------------------------------------


def _name_of(fact: Any) -> str:
    for attr in ("name_src", "text", "text_src", "speaker_en", "name_en"):
        value = getattr(fact, attr, None)
        if value:
            return str(value)[:60]
    return str(fact.evidence)[:60]


def fact_problem(fact: Any, article: str) -> str | None:
    """Why ``fact`` is not supported by ``article``, or None when it is."""
    evidence = (fact.evidence or "").strip()
    if not evidence:
        return "its evidence is empty"
    if locate(evidence, article) is None:
        return f"its evidence is not in the article: {evidence[:80]!r}"
    name_src = getattr(fact, "name_src", None)
    if name_src is not None and not contains(article, name_src):
        return f"the name {name_src!r} is not written in the article"
    if isinstance(fact, Quote) and locate(fact.text_src, article) is None:
        return f"the quotation is not verbatim in the article: {fact.text_src[:80]!r}"
    if isinstance(fact, NumberFact):
        if not number_matches(fact.value, evidence):
            stated = ", ".join(f"{n.value:g}" for n in parse_numbers(evidence)) or "no number"
            return f"the value {fact.value:g} is not what the evidence states ({stated})"
        problem = _unit_problem(fact)
        if problem:
            return problem
    if isinstance(fact, DateFact) and not contains(article, fact.text):
        return f"the date {fact.text!r} is not written in the article"
    return None


def check_draft(draft: DigestDraft, article: str) -> list[str]:
    """Every problem of ``draft`` against ``article``, one line each (empty when all is verified).

    These lines are what instructor sends back to the model when it re-asks.
    """
    problems: list[str] = []
    for field in FACT_FIELDS:
        for i, fact in enumerate(getattr(draft, field)):
            problem = fact_problem(fact, article)
            if problem:
                problems.append(f"{field}[{i}] ({_name_of(fact)}): {problem}")
    return problems


@dataclass(frozen=True)
class GroundingResult:
    """A draft with only verified facts (spans and dates filled), what was dropped, and how many stayed."""

    draft: DigestDraft
    dropped: list[DroppedFact]
    verified: int


def ground(draft: DigestDraft, article: str) -> GroundingResult:
    """Keep the facts of ``draft`` that ``article`` supports; fill spans and parsed dates.

    Facts that fail are returned as :class:`~khabar.core.digest.DroppedFact` with
    the reason, never silently lost. Dates get their calendar, parts and ISO
    form from :func:`parse_date`, whatever the model claimed.
    """
    updates: dict[str, list[Any]] = {}
    dropped: list[DroppedFact] = []
    verified = 0
    for field in FACT_FIELDS:
        kept: list[Any] = []
        for fact in getattr(draft, field):
            problem = fact_problem(fact, article)
            if problem:
                dropped.append(
                    DroppedFact(field=field, fact=fact.model_dump(exclude={"span"}), reason=problem)
                )
                continue
            changes: dict[str, Any] = {"span": locate(fact.evidence, article)}
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
    return GroundingResult(draft.model_copy(update=updates), dropped, verified)
