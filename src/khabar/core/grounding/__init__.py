"""Grounding: locate excerpts, read numbers and dates, verify a draft against its article.

``GROUNDING_VERSION`` enters the cache key. It is a hash of this package's code
and of the folding it matches with, so that any change to what is kept
invalidates cached digests without anyone remembering to bump a number.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .dates import DateParts, parse_date
from .locate import MIN_EVIDENCE_CHARS, contains, locate
from .numbers import ParsedNumber, number_matches, parse_numbers
from .sentences import english_numbers, script_problem, sentence_problem
from .verify import GroundingResult, Verification, check_draft, fact_problem, ground, verify

__all__ = [
    "GROUNDING_VERSION",
    "MIN_EVIDENCE_CHARS",
    "DateParts",
    "GroundingResult",
    "ParsedNumber",
    "Verification",
    "check_draft",
    "contains",
    "english_numbers",
    "fact_problem",
    "ground",
    "locate",
    "number_matches",
    "parse_date",
    "parse_numbers",
    "script_problem",
    "sentence_problem",
    "verify",
]


def _code_hash() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in [*sorted(here.glob("*.py")), here.parent / "text" / "fold.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


GROUNDING_VERSION = _code_hash()
