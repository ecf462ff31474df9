"""Scoring one digest against its gold annotation: :func:`score_digest`.

Pure functions only: nothing here calls a model or touches the network.
:mod:`khabar.evals.report` averages the :class:`ArticleScore` of every article
into a report and compares reports.

Metrics (all in [0, 1]; ``None`` means "not applicable", e.g. neither the gold
nor the digest has quotes; higher is better except ``leakage``):

* ``<field>_p``, ``<field>_r``, ``<field>_f1`` for people, organizations,
  locations and sources. A predicted entity's names (``name_en``, ``name_src``)
  are compared with a gold entity's names (``name_en`` + ``aliases``) after
  :func:`~khabar.core.text.fold`, with :func:`rapidfuzz.fuzz.ratio`; the best pair
  decides. A match needs at least :data:`FUZZY_THRESHOLD`. Predicted and gold
  entities are paired one-to-one, greedily by descending similarity.
  Precision over nothing is ``None``: with no gold entities a non-empty field
  gets P=0, R=None, F1=0; an empty field against gold gets P=None, R=0, F1=0.
* ``numbers_acc``: gold numbers matched by a predicted number of equal value
  (relative tolerance 1e-6) and equal unit (see :data:`UNIT_SYNONYMS`), over
  ``max(len(gold), len(pred))`` so that extra numbers cost too.
* ``dates_iso_acc``: dates paired by folded text (equal, or one containing the
  other), correct when their ISO forms are equal; over ``max(len(gold), len(pred))``.
* ``quotes_verbatim``: share of gold quotes that a predicted quote reproduces
  (folded texts equal, one containing the other, or a ratio of at least
  :data:`QUOTE_THRESHOLD`); ``quotes_speaker``: among those, the share whose
  speaker matches the gold speaker by the entity rule.
* ``summary_en_chrf`` / ``summary_src_chrf``: sacrebleu sentence chrF / 100;
  ``summary_en_rougeL`` / ``summary_src_rougeL``: ROUGE-L F-measure.
* ``key_fact_coverage``: share of gold key facts whose every keyword group has
  one alternative in ``summary_en`` (case-insensitive substring).
* ``grounding_rate``: facts verified / (verified + dropped as unverifiable).
* ``leakage``: share of the predicted people, organizations, locations,
  sources and numbers that come from a part of the page that is not the main
  story (they match a gold ``leak`` entry and no gold main-story fact).


Example::

    >>> gold = load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml"))   # doctest: +SKIP
    >>> score_digest(digest, gold).metrics["people_f1"]                  # doctest: +SKIP
    0.8
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from khabar.core.digest import Digest
from khabar.core.text import fold
from khabar.evals.gold import Gold, GoldEntity

__all__ = [
    "ENTITY_FIELDS",
    "FUZZY_THRESHOLD",
    "LOWER_IS_BETTER",
    "METRICS",
    "QUOTE_THRESHOLD",
    "UNIT_SYNONYMS",
    "ArticleScore",
    "FieldDetail",
    "score_digest",
]

FUZZY_THRESHOLD = 88
"""Minimum :func:`rapidfuzz.fuzz.ratio` (0-100, on folded names) for two names to match.

Folding already absorbs script variants, spacing and case, so what is left is
transliteration: "Volodimir Zelenskyy" vs "Volodymyr Zelenskyy" scores 88.9 and
"Zelenskiy" vs "Zelenskyy" 88.9, while distinct people who share a name
stay well below ("Jill Biden" / "Joe Biden" 70.6, "Joe Biden" / "Hunter Biden"
63.2). 88 accepts one or two letter swaps in a name of normal length and little
else; shorter forms ("Biden" for "Joe Biden", 76.9) must be listed as aliases.
"""

QUOTE_THRESHOLD = 90
"""Minimum ratio on folded texts for a predicted quote to count as the gold quote.

Quotes are longer than names and must be verbatim, so the bar is higher: 90
tolerates a dropped or changed word or two in a sentence-long quote.
"""

ENTITY_FIELDS = ("people", "organizations", "locations", "sources")

METRICS: tuple[str, ...] = (
    *(f"{field}_{m}" for field in ENTITY_FIELDS for m in ("p", "r", "f1")),
    "numbers_acc",
    "dates_iso_acc",
    "quotes_verbatim",
    "quotes_speaker",
    "key_fact_coverage",
    "summary_en_chrf",
    "summary_src_chrf",
    "summary_en_rougeL",
    "summary_src_rougeL",
    "grounding_rate",
    "leakage",
)
"""Every metric :func:`score_digest` reports, in report order."""

LOWER_IS_BETTER = frozenset({"leakage"})
"""Metrics that regress when they rise; every other metric regresses when it falls."""

UNIT_SYNONYMS: dict[str, str] = {
    "%": "percent",
    "pct": "percent",
    "persons": "people",
    "person": "people",
}
"""Units that mean the same thing, mapped to one spelling (compared case-insensitively).

Deliberately small: the schema asks for ISO 4217 codes or plain English units,
so only the spellings models actually alternate between are folded together.
"""


class FieldDetail(BaseModel):
    """What one field got wrong, in words: for the Markdown report."""

    missed: list[str] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list)
    wrong: list[str] = Field(default_factory=list)

    def empty(self) -> bool:
        """True when nothing was missed, extra or wrong."""
        return not (self.missed or self.extra or self.wrong)


class ArticleScore(BaseModel):
    """The metrics of one digest against its gold, and the details behind them."""

    metrics: dict[str, float | None]
    details: dict[str, FieldDetail] = Field(default_factory=dict)


def _folded(names: Iterable[str | None]) -> list[str]:
    keys = (fold(n) for n in names if n)
    return list(dict.fromkeys(k for k in keys if k))


def _similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """The best :func:`fuzz.ratio` between any folded name of ``a`` and any of ``b``."""
    best = 0.0
    for x in a:
        for y in b:
            best = max(best, fuzz.ratio(x, y))
            if best >= 100:
                return best
    return best


def _greedy(pairs: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """One-to-one pairing of (score, gold index, pred index), best score first."""
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, g, p in pairs:
        if g not in used_g and p not in used_p:
            used_g.add(g)
            used_p.add(p)
            out.append((g, p))
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _entity_scores(
    field: str, gold: Sequence[GoldEntity], pred: Sequence[Any]
) -> tuple[dict[str, float | None], FieldDetail]:
    gold_keys = [_folded(g.names()) for g in gold]
    pred_keys = [_folded((p.name_en, p.name_src)) for p in pred]
    pairs = [
        (sim, gi, pi)
        for gi, gk in enumerate(gold_keys)
        for pi, pk in enumerate(pred_keys)
        if (sim := _similarity(gk, pk)) >= FUZZY_THRESHOLD
    ]
    matched = _greedy(pairs)
    hit_g = {g for g, _ in matched}
    hit_p = {p for _, p in matched}
    n = len(matched)
    p_ = _ratio(n, len(pred))
    r_ = _ratio(n, len(gold))
    if p_ is None and r_ is None:
        f1: float | None = None
    elif p_ is None or r_ is None or p_ + r_ == 0:
        # Only one side has entities: nothing can be right, so F1 is 0, not "n/a".
        f1 = 0.0
    else:
        f1 = 2 * p_ * r_ / (p_ + r_)
    detail = FieldDetail(
        missed=[g.name_en for i, g in enumerate(gold) if i not in hit_g],
        extra=[_name(p) for i, p in enumerate(pred) if i not in hit_p],
    )
    return {f"{field}_p": p_, f"{field}_r": r_, f"{field}_f1": f1}, detail


def _name(entity: Any) -> str:
    en, src = entity.name_en, entity.name_src
    return en if not src or src == en else f"{en} ({src})"


def _unit(unit: str | None) -> str | None:
    if unit is None or not unit.strip():
        return None
    key = unit.strip().casefold()
    return UNIT_SYNONYMS.get(key, key)


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)


def _fmt_number(value: float, unit: str | None) -> str:
    shown = f"{value:,.0f}" if value.is_integer() else f"{value:,g}"
    return f"{shown} {unit}" if unit else shown


def _number_scores(gold: Gold, digest: Digest) -> tuple[float | None, FieldDetail]:
    pred = digest.numbers
    pairs = [
        (1.0, gi, pi)
        for gi, g in enumerate(gold.numbers)
        for pi, p in enumerate(pred)
        if _same_value(g.value, p.value) and _unit(g.unit) == _unit(p.unit)
    ]
    matched = _greedy(pairs)
    hit_g = {g for g, _ in matched}
    hit_p = {p for _, p in matched}
    # Same value, another unit: say so rather than listing it as both missed and extra.
    near = _greedy(
        [
            (1.0, gi, pi)
            for gi, g in enumerate(gold.numbers)
            for pi, p in enumerate(pred)
            if gi not in hit_g and pi not in hit_p and _same_value(g.value, p.value)
        ]
    )
    near_g = {g for g, _ in near}
    near_p = {p for _, p in near}
    detail = FieldDetail(
        missed=[
            _fmt_number(g.value, g.unit) + (f" ({g.counts})" if g.counts else "")
            for i, g in enumerate(gold.numbers)
            if i not in hit_g and i not in near_g
        ],
        extra=[
            _fmt_number(p.value, p.unit) + (f" ({p.counts})" if p.counts else "")
            for i, p in enumerate(pred)
            if i not in hit_p and i not in near_p
        ],
        wrong=[
            f"{_fmt_number(gold.numbers[g].value, None)}: unit {pred[p].unit!r}, "
            f"expected {gold.numbers[g].unit!r}"
            for g, p in near
        ],
    )
    return _ratio(len(matched), max(len(gold.numbers), len(pred))), detail


def _date_scores(gold: Gold, digest: Digest) -> tuple[float | None, FieldDetail]:
    pred = digest.dates
    gold_keys = [fold(g.text) for g in gold.dates]
    pred_keys = [fold(p.text) for p in pred]
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
            # Between equally good text matches, prefer the one that also has the right ISO.
            if gold.dates[gi].iso == pred[pi].iso:
                score += 0.5
            pairs.append((score, gi, pi))
    matched = _greedy(pairs)
    hit_g = {g for g, _ in matched}
    hit_p = {p for _, p in matched}
    correct = [(g, p) for g, p in matched if gold.dates[g].iso == pred[p].iso]
    detail = FieldDetail(
        missed=[f"{g.text} ({g.iso})" for i, g in enumerate(gold.dates) if i not in hit_g],
        extra=[f"{p.text} ({p.iso})" for i, p in enumerate(pred) if i not in hit_p],
        wrong=[
            f"{pred[p].text}: iso {pred[p].iso}, expected {gold.dates[g].iso}"
            for g, p in matched
            if gold.dates[g].iso != pred[p].iso
        ],
    )
    return _ratio(len(correct), max(len(gold.dates), len(pred))), detail


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _quote_scores(gold: Gold, digest: Digest) -> tuple[float | None, float | None, FieldDetail]:
    pred = digest.quotes
    gold_keys = [fold(q.text_src) for q in gold.quotes]
    pred_keys = [fold(q.text_src) for q in pred]
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
    matched = _greedy(pairs)
    hit_g = {g for g, _ in matched}
    hit_p = {p for _, p in matched}
    wrong_speaker = []
    for g, p in matched:
        gq = gold.quotes[g]
        if (
            _similarity(
                _folded([gq.speaker_en, *gq.speaker_aliases]), _folded([pred[p].speaker_en])
            )
            < FUZZY_THRESHOLD
        ):
            wrong_speaker.append(
                f"«{_short(pred[p].text_src)}»: speaker {pred[p].speaker_en}, expected {gq.speaker_en}"
            )
    # No quote in the gold: any quote the digest has is invented, hence 0 rather than n/a.
    verbatim = _ratio(len(matched), len(gold.quotes)) if gold.quotes or not pred else 0.0
    speaker = _ratio(len(matched) - len(wrong_speaker), len(matched))
    detail = FieldDetail(
        missed=[
            f"«{_short(q.text_src)}» ({q.speaker_en})"
            for i, q in enumerate(gold.quotes)
            if i not in hit_g
        ],
        extra=[
            f"«{_short(q.text_src)}» ({q.speaker_en})" for i, q in enumerate(pred) if i not in hit_p
        ],
        wrong=wrong_speaker,
    )
    return verbatim, speaker, detail


def _key_fact_scores(gold: Gold, digest: Digest) -> tuple[float | None, FieldDetail]:
    summary = digest.summary_en.casefold()
    missed = []
    for fact in gold.key_facts:
        absent = [g for g in fact.keywords if not any(alt.casefold() in summary for alt in g)]
        if absent:
            missing = ", ".join("/".join(group) for group in absent)
            missed.append(f"{fact.text} (no {missing})")
    covered = len(gold.key_facts) - len(missed)
    return _ratio(covered, len(gold.key_facts)), FieldDetail(missed=missed)


class _FoldTokenizer:
    """Word tokenizer for ROUGE on Arabic/Persian: rouge-score's own drops non-Latin script."""

    def tokenize(self, text: str) -> list[str]:
        return _fold_words(text).split()


def _fold_words(text: str) -> str:
    # fold() removes spaces too; folding word by word keeps the word boundaries.
    return " ".join(w for w in (fold(t) for t in text.split()) if w)


@functools.cache
def _chrf() -> Any:
    from sacrebleu.metrics.chrf import CHRF

    return CHRF()


@functools.cache
def _rouge(source_language: bool) -> Any:
    from rouge_score.rouge_scorer import RougeScorer

    if source_language:
        return RougeScorer(["rougeL"], tokenizer=_FoldTokenizer())
    return RougeScorer(["rougeL"])


def _summary_scores(
    reference: str, hypothesis: str, *, source_language: bool
) -> tuple[float | None, float | None]:
    if not reference.strip():
        return None, None
    if not hypothesis.strip():
        return 0.0, 0.0
    if source_language:
        # Yeh/kaf variants, diacritics and ZWNJ are spelling, not content.
        reference, hypothesis = _fold_words(reference), _fold_words(hypothesis)
    chrf = float(_chrf().sentence_score(hypothesis, [reference]).score) / 100
    rouge = float(_rouge(source_language).score(reference, hypothesis)["rougeL"].fmeasure)
    return chrf, rouge


def _leakage(gold: Gold, digest: Digest) -> tuple[float, FieldDetail]:
    # Names are compared across fields on purpose: a model that files LCI under
    # sources instead of organizations has still leaked it.
    leak_names = _folded(
        [*gold.leak.people, *gold.leak.organizations, *gold.leak.locations, *gold.leak.sources]
    )
    main_entities = [_folded(e.names()) for field in ENTITY_FIELDS for e in getattr(gold, field)]
    leaked: list[str] = []
    total = 0
    for field in ENTITY_FIELDS:
        for entity in getattr(digest, field):
            total += 1
            keys = _folded((entity.name_en, entity.name_src))
            if not leak_names or _similarity(keys, leak_names) < FUZZY_THRESHOLD:
                continue
            if any(_similarity(keys, main) >= FUZZY_THRESHOLD for main in main_entities):
                continue
            leaked.append(f"{field}: {_name(entity)}")
    for number in digest.numbers:
        total += 1
        if any(_same_value(number.value, v) for v in gold.leak.numbers) and not any(
            _same_value(number.value, g.value) for g in gold.numbers
        ):
            leaked.append(f"numbers: {_fmt_number(number.value, number.unit)}")
    return (len(leaked) / total if total else 0.0), FieldDetail(extra=leaked)


def score_digest(digest: Digest, gold: Gold) -> ArticleScore:
    """Score one digest against its gold annotation.

    Every metric of :data:`METRICS` is present, ``None`` when it does not apply.

    Example::

        >>> score = score_digest(digest, load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml")))  # doctest: +SKIP
        >>> score.metrics["people_f1"], score.details["people"].missed   # doctest: +SKIP
        (0.8, ['Joe Biden'])
    """
    metrics: dict[str, float | None] = {}
    details: dict[str, FieldDetail] = {}
    for field in ENTITY_FIELDS:
        values, details[field] = _entity_scores(field, getattr(gold, field), getattr(digest, field))
        metrics.update(values)
    metrics["numbers_acc"], details["numbers"] = _number_scores(gold, digest)
    metrics["dates_iso_acc"], details["dates"] = _date_scores(gold, digest)
    metrics["quotes_verbatim"], metrics["quotes_speaker"], details["quotes"] = _quote_scores(
        gold, digest
    )
    metrics["key_fact_coverage"], details["key_facts"] = _key_fact_scores(gold, digest)
    metrics["summary_en_chrf"], metrics["summary_en_rougeL"] = _summary_scores(
        gold.summary_en, digest.summary_en, source_language=False
    )
    metrics["summary_src_chrf"], metrics["summary_src_rougeL"] = _summary_scores(
        gold.summary_src, digest.summary_src, source_language=True
    )
    prov = digest.provenance
    metrics["grounding_rate"] = _ratio(
        prov.facts_verified, prov.facts_verified + prov.unverified_dropped
    )
    metrics["leakage"], details["leakage"] = _leakage(gold, digest)
    return ArticleScore(metrics={m: metrics[m] for m in METRICS}, details=details)
