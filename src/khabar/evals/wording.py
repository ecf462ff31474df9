"""Words in English summaries and descriptions: keyword matching, negation, loose similarity.

Key facts are checked with keywords (``evals/README.md`` has the convention):

* a keyword matches **whole words**, case-insensitively, and may carry an English
  plural or possessive ending ("agreement" matches "agreements", "Biden's") —
  never the inside of a longer word: "uk" does not match "Ukraine", "war" does
  not match "award";
* a keyword ending in ``*`` is a stem: "negotiat*" matches "negotiate",
  "negotiations"; it still starts at a word boundary;
* a phrase ("air defence") matches with any spacing or hyphen between its words;
* a positive fact ("Biden promised aid") is not covered by a negated mention:
  an occurrence of a keyword is negated when a negation word stands shortly
  before it in the same statement ("did not promise", "no sign that Putin",
  :data:`BEFORE_WINDOW` words), or opens the statement ("It is not true that"),
  or a verbal negation follows it closely ("Biden did not ...",
  :data:`AFTER_WINDOW` words). A negated fact ("no sign Putin will negotiate") needs its keywords in
  a statement that negates. A statement is a sentence, or a clause of it that
  ";", ", and", ", but", ", while", ", whereas", ", although", ", as" or a
  participle (", saying") joins to another (:func:`sentences`): a negation does
  not reach across them. Negation words are a short list (:data:`NEGATION`);
  "not only" is none. This is a guard, not understanding: "failed to agree"
  passes.

Roles, what a number ``counts`` and what a date ``refers_to`` are free English:
:func:`loose_match` scores them by the share of the gold's content words (cut
to a five-letter stem) that the prediction uses.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "AFTER_WINDOW",
    "BEFORE_WINDOW",
    "MIN_STEM",
    "NEGATION",
    "OPENING",
    "VERBAL_NEGATION",
    "is_negated",
    "keyword_pattern",
    "keyword_problem",
    "loose_match",
    "negated_at",
    "sentences",
]

NEGATION = re.compile(
    r"\b(?:not(?!\s+only\b)|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n[’']t\b",
    re.IGNORECASE,
)
"""English negation cues (best effort)."""

VERBAL_NEGATION = re.compile(r"\b(?:not(?!\s+only\b)|never|cannot)\b|n[’']t\b", re.IGNORECASE)
"""Negations that, right after a name, negate what it did ("Biden did not promise")."""

AFTER_WINDOW = 3
"""How many words after a keyword a verbal negation still negates it ("Biden did not")."""

BEFORE_WINDOW = 8
"""How many words a negation reaches forward (the NegEx convention, a little wider)."""

OPENING = 3
"""A negation among a statement's first words negates all of it ("It is not true that ...")."""

MIN_STEM = 4
"""A stem keyword (``negotiat*``) needs at least this many letters: "war*" matches "warn"."""

# What may follow a plain keyword: an English plural or possessive ending, nothing else.
_ENDING = r"(?:s|es|'s|’s|s'|s’)?"
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
# Where a sentence joins two statements: a negation in one does not reach the other
# ("work continued on Macron's initiative, while Lammy saw no sign Putin would negotiate";
# "forces must withdraw without conditions, insisting that 360,000 have died").
_CLAUSE_JOIN = re.compile(
    r";|,\s+(?:and|but|while|whereas|although|though|as)\b|,\s+(?=\w+ing\b)"
    r"|\s+(?:while|whereas)\s+",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The regex for one keyword alternative (see the module docstring for the rules).

    >>> bool(keyword_pattern("uk").search("Ukraine"))
    False
    >>> bool(keyword_pattern("UK").search("the UK's pact"))
    True
    >>> bool(keyword_pattern("negotiat*").search("Negotiations began"))
    True
    """
    word = keyword.strip()
    stem = word.endswith("*")
    word = word.rstrip("*").strip()
    parts = [re.escape(p) for p in re.split(r"[\s\-‐‑–]+", word) if p]
    body = r"[\s\-‐‑–]+".join(parts)
    # \b would treat "U.S." or "$61" oddly: look at the neighbouring characters instead.
    start = r"(?<![\w])(?<!\d[.,])" if parts and re.match(r"\w", word) else ""
    # "61" is not in "61.5 billion", nor "2" in "2.4".
    end = r"\w*" if stem else _ENDING + (r"(?![\w])(?![.,]\d)" if re.search(r"\w$", word) else "")
    return re.compile(start + body + end, re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """``text`` cut into statements for polarity: sentences, and the clauses a sentence joins.

    >>> sentences("Work went on, while Lammy saw no sign. Talks end; no deal.")
    ['Work went on', 'Lammy saw no sign.', 'Talks end', 'no deal.']
    """
    parts = (p.strip() for s in _SENTENCE_END.split(text) for p in _CLAUSE_JOIN.split(s))
    return [p for p in parts if p]


def negated_at(statement: str, start: int, end: int) -> bool:
    """Whether the words at ``statement[start:end]`` are negated in their statement.

    Negated when a negation word stands at most :data:`BEFORE_WINDOW` words
    before them, or opens the statement ("It is not true that ...", "No ..."),
    or a verbal negation follows within :data:`AFTER_WINDOW` words ("Biden did
    not ..."). "was not held because of the election of the board" does not
    negate the board: the cause is stated, and eight words is the reach.

    >>> s = "Biden did not promise aid to Kyiv"
    >>> negated_at(s, 0, 5), negated_at(s, 14, 21), negated_at(s, 29, 33)
    (True, True, True)
    >>> s = "forces must withdraw without conditions"
    >>> negated_at(s, 12, 20)
    False
    """
    before = statement[:start].split()
    if NEGATION.search(" ".join(before[-BEFORE_WINDOW:])):
        return True
    if NEGATION.search(" ".join(statement.split()[:OPENING])) and NEGATION.search(
        statement, 0, start
    ):
        return True
    after = statement[end:].split()[:AFTER_WINDOW]
    return bool(VERBAL_NEGATION.search(" ".join(after)))


def is_negated(text: str) -> bool:
    """True when ``text`` holds an English negation cue.

    >>> is_negated("Biden did not promise aid"), is_negated("not only aid but arms")
    (True, False)
    """
    return NEGATION.search(text) is not None


def keyword_problem(keyword: str) -> str | None:
    """Why a keyword alternative is dangerous for matching, or None when it is fine.

    >>> keyword_problem("war*")
    "the stem 'war*' is shorter than 4 letters: it matches unrelated words"
    """
    if keyword != keyword.strip():
        return f"{keyword!r} has leading or trailing spaces (keywords match whole words already)"
    core = keyword.rstrip("*")
    if not re.search(r"\w", core):
        return f"{keyword!r} has no letter or digit"
    if keyword.endswith("*") and len(core) < MIN_STEM:
        return (
            f"the stem {keyword!r} is shorter than {MIN_STEM} letters: it matches unrelated words"
        )
    if "*" in core:
        return f"{keyword!r}: '*' may only end a keyword"
    return None


_STOP = """a an the of to in on at for from by with and or as is was were be been its it his her
    their they he she that this those these which who whom after before about into over
    than then also has have had will would said says say"""
_STOPWORDS = frozenset(_STOP.split())
_WORD = re.compile(r"[^\W_]+")


def _stems(text: str) -> set[str]:
    # Five letters: "agreement"/"agreements"/"agreed" and "Ukraine"/"Ukrainian" meet.
    # Two-letter words count when they are acronyms (US, UK, EU, UN), not "us" or "up".
    return {
        w.casefold()[:5]
        for w in _WORD.findall(text)
        if w.casefold() not in _STOPWORDS and (len(w) > 2 or w.isdigit() or w.isupper())
    }


def loose_match(gold: str | None, predicted: str | None) -> float | None:
    """The share of ``gold``'s content words that ``predicted`` uses; None without gold words.

    >>> loose_match("President of Ukraine", "Ukrainian president")
    1.0
    >>> loose_match("value of the aid package", "number of soldiers")
    0.0
    """
    want = _stems(gold or "")
    if not want:
        return None
    return len(want & _stems(predicted or "")) / len(want)
