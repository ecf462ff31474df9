"""Numbers, dates and quotes of a digest against the gold's.

* Numbers pair by value (relative tolerance 1e-6). ``numbers_acc`` also needs
  the same unit class (:func:`~khabar.evals.units.unit_class`: "USD" =
  "dollars", a bare count = "countries"); ``numbers_value_acc`` is the same
  count on value alone, shown beside it so that a unit slip and a wrong number
  read differently. Both are over ``max(gold, predicted)``: extra numbers cost.
  ``numbers_counts`` scores what each value-matched number ``counts``, loosely.
* Dates pair by folded text (equal, or one containing the other).
  ``dates_iso_full`` counts pairs with the gold's ISO form exactly,
  ``dates_iso_compatible`` also credits a partial ISO that agrees with the gold
  on every part it gives ("--06-27" or "2024-06" for a gold "2024-06-27"; never
  a part the gold does not have). Both over ``max(gold, predicted)``.
  ``dates_text_recall`` is the share of gold date phrases found at all, and
  ``dates_refers_to`` scores what paired dates refer to, loosely.
* Quotes of fewer than :data:`MIN_QUOTE_WORDS` words are scare quotes (a word
  or two the article puts in quotation marks), not quotations: they are left
  out of ``quotes_p`` / ``quotes_r`` on both sides. ``quotes_scare`` is the
  share of the digest's quotes that are such phrases and not in the gold.
  Quotes match when folded texts are equal, one contains the other, or their
  ratio reaches :data:`QUOTE_THRESHOLD`; ``quotes_speaker`` is the share of
  matched quotes whose speaker matches the gold's by the entity rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from khabar.core.digest import Digest
from khabar.core.text import fold
from khabar.evals.entities import (
    FUZZY_THRESHOLD,
    folded_names,
    greedy,
    ratio,
    same_value,
    similarity,
)
from khabar.evals.gold import Gold
from khabar.evals.units import unit_class
from khabar.evals.wording import loose_match

__all__ = [
    "MIN_QUOTE_WORDS",
    "QUOTE_THRESHOLD",
    "FactResult",
    "iso_compatible",
    "quote_words",
    "score_dates",
    "score_numbers",
    "score_quotes",
]

QUOTE_THRESHOLD = 90
"""Minimum ratio on folded texts for a predicted quote to count as the gold quote.

Quotes are longer than names and must be verbatim, so the bar is higher: 90
tolerates a dropped or changed word or two in a sentence-long quote.
"""

MIN_QUOTE_WORDS = 3
"""A quote of fewer words is a scare-quoted phrase ("significant", "a strong decision")."""

_LOOSE_WRONG = (
    0.5  # below this share of the gold's words a role/counts/refers_to is listed as wrong
)


@dataclass
class FactResult:
    """The metrics of one field and what was missed, extra or wrong, in words."""

    metrics: dict[str, float | None]
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def _fmt_number(value: float, unit: str | None) -> str:
    shown = f"{value:,.0f}" if value.is_integer() else f"{value:,g}"
    return f"{shown} {unit}" if unit else shown


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score_numbers(gold: Gold, digest: Digest) -> FactResult:
    """``numbers_acc``, ``numbers_value_acc``, ``numbers_counts``."""
    g_nums, p_nums = gold.numbers, digest.numbers
    same = [
        (gi, pi)
        for gi, g in enumerate(g_nums)
        for pi, p in enumerate(p_nums)
        if same_value(g.value, p.value)
    ]
    # Value pairs prefer a pair that also has the unit class right.
    by_value = greedy(
        [
            (2.0 if unit_class(g_nums[gi].unit) == unit_class(p_nums[pi].unit) else 1.0, gi, pi)
            for gi, pi in same
        ]
    )
    full = [(g, p) for g, p in by_value if unit_class(g_nums[g].unit) == unit_class(p_nums[p].unit)]
    den = max(len(g_nums), len(p_nums))
    counts = [
        s for g, p in by_value if (s := loose_match(g_nums[g].counts, p_nums[p].counts)) is not None
    ]
    hit_g, hit_p = {g for g, _ in by_value}, {p for _, p in by_value}
    out = FactResult(
        {
            "numbers_acc": ratio(len(full), den),
            "numbers_value_acc": ratio(len(by_value), den),
            "numbers_counts": _mean(counts),
        }
    )
    out.missed = [
        _fmt_number(g.value, g.unit) + (f" ({g.counts})" if g.counts else "")
        for i, g in enumerate(g_nums)
        if i not in hit_g
    ]
    out.extra = [
        _fmt_number(p.value, p.unit) + (f" ({p.counts})" if p.counts else "")
        for i, p in enumerate(p_nums)
        if i not in hit_p
    ]
    for g, p in by_value:
        want, got = g_nums[g], p_nums[p]
        if unit_class(want.unit) != unit_class(got.unit):
            out.wrong.append(
                f"{_fmt_number(want.value, None)}: unit {got.unit!r} ({unit_class(got.unit)}), "
                f"expected {want.unit!r} ({unit_class(want.unit)})"
            )
        score = loose_match(want.counts, got.counts)
        if score is not None and score < _LOOSE_WRONG:
            out.wrong.append(
                f"{_fmt_number(want.value, None)}: counts {got.counts!r}, expected {want.counts!r}"
            )
    return out


_ISO_PARTS = re.compile(r"^(?:(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?|--(\d{2})(?:-(\d{2}))?)$")


def _iso_parts(iso: str) -> tuple[str | None, str | None, str | None] | None:
    m = _ISO_PARTS.match(iso)
    if m is None:
        return None
    year, month, day, pmonth, pday = m.groups()
    return (year, month, day) if year else (None, pmonth, pday)


def iso_compatible(predicted: str | None, gold: str | None) -> bool:
    """True when ``predicted`` agrees with ``gold`` on every part it gives, and gives no other.

    >>> iso_compatible("--06-27", "2024-06-27"), iso_compatible("2024-06", "2024-06-27")
    (True, True)
    >>> iso_compatible("2023-06-27", "2024-06-27"), iso_compatible("2024-06-27", "--06-27")
    (False, False)
    """
    if predicted == gold:
        return True
    if predicted is None or gold is None:
        return False  # a missing ISO says nothing; an invented one is wrong
    p, g = _iso_parts(predicted), _iso_parts(gold)
    if p is None or g is None:
        return False
    return all(pp is None or pp == gp for pp, gp in zip(p, g, strict=True))


def score_dates(gold: Gold, digest: Digest) -> FactResult:
    """``dates_iso_full``, ``dates_iso_compatible``, ``dates_text_recall``, ``dates_refers_to``."""
    g_dates, p_dates = gold.dates, digest.dates
    gold_keys = [fold(g.text) for g in g_dates]
    pred_keys = [fold(p.text) for p in p_dates]
    pairs = []
    for gi, gk in enumerate(gold_keys):
        for pi, pk in enumerate(pred_keys):
            if not gk or not pk:
                continue
            if gk == pk:
                score = 2.0
            elif gk in pk or pk in gk:
                score = 1.0
            else:
                continue
            # Between equally good text matches, prefer the one whose ISO form agrees.
            if g_dates[gi].iso == p_dates[pi].iso:
                score += 0.5
            elif iso_compatible(p_dates[pi].iso, g_dates[gi].iso):
                score += 0.25
            pairs.append((score, gi, pi))
    matched = greedy(pairs)
    den = max(len(g_dates), len(p_dates))
    full = [(g, p) for g, p in matched if g_dates[g].iso == p_dates[p].iso]
    compatible = [(g, p) for g, p in matched if iso_compatible(p_dates[p].iso, g_dates[g].iso)]
    refers = [
        s
        for g, p in matched
        if (s := loose_match(g_dates[g].refers_to, p_dates[p].refers_to)) is not None
    ]
    hit_g, hit_p = {g for g, _ in matched}, {p for _, p in matched}
    out = FactResult(
        {
            "dates_iso_full": ratio(len(full), den),
            "dates_iso_compatible": ratio(len(compatible), den),
            "dates_text_recall": ratio(len(matched), len(g_dates)),
            "dates_refers_to": _mean(refers),
        }
    )
    out.missed = [f"{g.text} ({g.iso})" for i, g in enumerate(g_dates) if i not in hit_g]
    out.extra = [f"{p.text} ({p.iso})" for i, p in enumerate(p_dates) if i not in hit_p]
    for g, p in matched:
        want, got = g_dates[g], p_dates[p]
        if want.iso != got.iso:
            how = "compatible partial" if iso_compatible(got.iso, want.iso) else "wrong"
            out.wrong.append(f"{got.text}: iso {got.iso}, expected {want.iso} ({how})")
        similar = loose_match(want.refers_to, got.refers_to)
        if similar is not None and similar < _LOOSE_WRONG:
            out.wrong.append(
                f"{got.text}: refers to {got.refers_to!r}, expected {want.refers_to!r}"
            )
    return out


def quote_words(text: str) -> int:
    """How many words a quote has (folded word by word: punctuation alone is no word)."""
    return sum(1 for w in text.split() if fold(w))


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _quote_pairs(gold_texts: list[str], pred_texts: list[str]) -> list[tuple[int, int]]:
    gold_keys = [fold(t) for t in gold_texts]
    pred_keys = [fold(t) for t in pred_texts]
    pairs = []
    for gi, gk in enumerate(gold_keys):
        for pi, pk in enumerate(pred_keys):
            if not gk or not pk:
                continue
            # A faithful excerpt of a longer quote (or the reverse) is still verbatim.
            if gk == pk or gk in pk or pk in gk:
                pairs.append((101.0 if gk == pk else 100.0, gi, pi))
            elif (sim := fuzz.ratio(gk, pk, score_cutoff=QUOTE_THRESHOLD)) >= QUOTE_THRESHOLD:
                pairs.append((sim, gi, pi))
    return greedy(pairs)


def score_quotes(gold: Gold, digest: Digest) -> FactResult:
    """``quotes_p``, ``quotes_r``, ``quotes_speaker``, ``quotes_scare``."""
    g_long = [q for q in gold.quotes if quote_words(q.text_src) >= MIN_QUOTE_WORDS]
    g_short = [q for q in gold.quotes if quote_words(q.text_src) < MIN_QUOTE_WORDS]
    p_long = [q for q in digest.quotes if quote_words(q.text_src) >= MIN_QUOTE_WORDS]
    p_short = [q for q in digest.quotes if quote_words(q.text_src) < MIN_QUOTE_WORDS]
    matched = _quote_pairs([q.text_src for q in g_long], [q.text_src for q in p_long])
    # Short phrases the gold lists too are not held against the digest.
    short_known = {
        p for _, p in _quote_pairs([q.text_src for q in g_short], [q.text_src for q in p_short])
    }
    wrong_speaker = []
    for g, p in matched:
        gq, pq = g_long[g], p_long[p]
        names = folded_names([gq.speaker_en, *gq.speaker_aliases])
        if similarity(names, folded_names([pq.speaker_en])) < FUZZY_THRESHOLD:
            wrong_speaker.append(
                f"«{_short(pq.text_src)}»: speaker {pq.speaker_en}, expected {gq.speaker_en}"
            )
    scare = [q for i, q in enumerate(p_short) if i not in short_known]
    out = FactResult(
        {
            "quotes_p": ratio(len(matched), len(p_long)),
            "quotes_r": ratio(len(matched), len(g_long)),
            "quotes_speaker": ratio(len(matched) - len(wrong_speaker), len(matched)),
            "quotes_scare": ratio(len(scare), len(digest.quotes)),
        }
    )
    hit_g, hit_p = {g for g, _ in matched}, {p for _, p in matched}
    out.missed = [
        f"«{_short(q.text_src)}» ({q.speaker_en})" for i, q in enumerate(g_long) if i not in hit_g
    ]
    out.extra = [
        f"«{_short(q.text_src)}» ({q.speaker_en})" for i, q in enumerate(p_long) if i not in hit_p
    ]
    out.wrong = wrong_speaker + [
        f"«{_short(q.text_src)}»: a scare-quoted phrase (under {MIN_QUOTE_WORDS} words), "
        "not a quotation"
        for q in scare
    ]
    return out
