"""Grounding: locate excerpts, read numbers and dates, verify a draft against its article."""

from __future__ import annotations

from .dates import DateParts, parse_date
from .locate import MIN_EVIDENCE_CHARS, contains, locate
from .numbers import ParsedNumber, number_matches, parse_numbers
from .verify import GroundingResult, check_draft, fact_problem, ground

__all__ = [
    "DateParts",
    "GroundingResult",
    "MIN_EVIDENCE_CHARS",
    "ParsedNumber",
    "check_draft",
    "contains",
    "fact_problem",
    "ground",
    "locate",
    "number_matches",
    "parse_date",
    "parse_numbers",
]
