"""Score digests against hand-written gold annotations (``evals/gold/*.yaml``).

Pure functions only: nothing here calls a model or touches the network.
:mod:`khabar.evals.harness` runs the pipeline and hands each :class:`~khabar.core.digest.Digest`
to :func:`score_digest`; :func:`aggregate` turns the per-article scores into an
:class:`EvalReport`, :func:`compare` gates it on a baseline report, and
:func:`render_table` / :func:`render_markdown` show it.

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

    >>> golds = load_gold_dir(Path("evals/gold"))                        # doctest: +SKIP
    >>> scores = {k: score_digest(digests[k], g) for k, g in golds.items()}  # doctest: +SKIP
    >>> report = aggregate(scores, model="gpt-4o-mini", provider="openai", replay=True)  # doctest: +SKIP
    >>> compare(report, load_report(Path("evals/baseline.json")))        # doctest: +SKIP
    []
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz

from khabar.batch.report import markdown_cell
from khabar.core.digest import Digest
from khabar.core.text import fold
from khabar.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "DEFAULT_TOLERANCE",
    "ENTITY_FIELDS",
    "FUZZY_THRESHOLD",
    "LOWER_IS_BETTER",
    "METRICS",
    "QUOTE_THRESHOLD",
    "TABLE_METRICS",
    "UNIT_SYNONYMS",
    "ArticleScore",
    "EvalReport",
    "FieldDetail",
    "Gold",
    "GoldDate",
    "GoldEntity",
    "GoldNumber",
    "GoldQuote",
    "KeyFact",
    "Leak",
    "NonMain",
    "Regression",
    "aggregate",
    "compare",
    "load_gold",
    "load_gold_dir",
    "load_report",
    "render_markdown",
    "render_table",
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

DEFAULT_TOLERANCE = 0.02
"""How far a metric may move the wrong way against the baseline before it is a regression."""

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

TABLE_METRICS: tuple[tuple[str, str], ...] = (
    ("people_f1", "people"),
    ("organizations_f1", "orgs"),
    ("locations_f1", "places"),
    ("sources_f1", "sources"),
    ("numbers_acc", "numbers"),
    ("dates_iso_acc", "dates"),
    ("quotes_verbatim", "quotes"),
    ("quotes_speaker", "speaker"),
    ("key_fact_coverage", "key facts"),
    ("summary_en_chrf", "chrF en"),
    ("grounding_rate", "grounded"),
    ("leakage", "leak ↓"),
)
"""The compact selection shown by :func:`render_table` / :func:`render_markdown`: (metric, header)."""

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

_TOLERANCE_EPSILON = 1e-9  # 0.80 - 0.78 is 0.0200000000000001 in floats: not a regression


# --------------------------------------------------------------------------- gold


class _GoldModel(BaseModel):
    # Gold is written by hand: a misspelt key must fail loudly, not vanish.
    model_config = ConfigDict(extra="forbid")


def _keyword(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class KeyFact(_GoldModel):
    """A statement a good English summary must cover, with the keywords that show it does."""

    text: str
    keywords: list[list[str]]

    @field_validator("keywords", mode="before")
    @classmethod
    def _bare_strings_are_groups(cls, value: Any) -> Any:
        # `[[Biden], [phone, call]]` and `[Biden, [phone, call]]` mean the same thing,
        # and YAML reads the keyword in `[[61], [billion]]` as an int.
        if not isinstance(value, list):
            return value
        groups = [item if isinstance(item, list) else [item] for item in value]
        return [[_keyword(alt) for alt in group] for group in groups]

    @field_validator("keywords")
    @classmethod
    def _no_empty_groups(cls, value: list[list[str]]) -> list[list[str]]:
        # An empty list would make the fact always (or never) covered: surely a typo.
        if not value:
            raise ValueError("a key fact needs at least one keyword group")
        for group in value:
            if not group or not all(alt.strip() for alt in group):
                raise ValueError("keyword groups and their alternatives must not be empty")
        return value


class GoldEntity(_GoldModel):
    """A person, organization, location or source of the main story."""

    name_en: str
    aliases: list[str] = Field(default_factory=list)
    role: str | None = None
    kind: str | None = None

    def names(self) -> list[str]:
        """Every accepted spelling: ``name_en`` then the aliases."""
        return [self.name_en, *self.aliases]


class GoldNumber(_GoldModel):
    """A quantity of the main story."""

    value: float
    unit: str | None = None
    counts: str = ""
    text: str = ""


_ISO = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|--\d{2}(-\d{2})?)$")


class GoldDate(_GoldModel):
    """A date of the main story, as written, with its Gregorian ISO form (or None)."""

    text: str
    iso: str | None = None
    refers_to: str = ""

    @field_validator("iso", mode="before")
    @classmethod
    def _yaml_dates_are_strings(cls, value: Any) -> Any:
        # YAML reads an unquoted 2024-06-27 as a date and 2024 as an int.
        if isinstance(value, _dt.date):
            return value.isoformat()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("iso")
    @classmethod
    def _iso_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ISO.match(value):
            raise ValueError(f"{value!r} is not YYYY, YYYY-MM, YYYY-MM-DD, --MM-DD or --MM")
        return value


class GoldQuote(_GoldModel):
    """A direct quotation of the main story."""

    speaker_en: str
    speaker_aliases: list[str] = Field(default_factory=list)
    text_src: str


class NonMain(_GoldModel):
    """A block of the page that is not the main story."""

    kind: str
    starts_with: str


class Leak(_GoldModel):
    """Facts found only outside the main story: a digest that reports them leaked."""

    people: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    numbers: list[float] = Field(default_factory=list)


class Gold(_GoldModel):
    """The gold annotation of one article (the format is described in ``evals/README.md``)."""

    article: str
    language: str = Field(pattern=r"^[a-z]{2}$")
    summary_en: str
    summary_src: str
    key_facts: list[KeyFact] = Field(default_factory=list)
    people: list[GoldEntity] = Field(default_factory=list)
    organizations: list[GoldEntity] = Field(default_factory=list)
    locations: list[GoldEntity] = Field(default_factory=list)
    sources: list[GoldEntity] = Field(default_factory=list)
    numbers: list[GoldNumber] = Field(default_factory=list)
    dates: list[GoldDate] = Field(default_factory=list)
    quotes: list[GoldQuote] = Field(default_factory=list)
    not_main_story: list[NonMain] = Field(default_factory=list)
    leak: Leak = Field(default_factory=Leak)


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_gold(path: Path) -> Gold:
    """Read one gold file (YAML or JSON).

    Raises :class:`~khabar.errors.ConfigError` naming the file and what is wrong
    with it (unreadable, not YAML, an unknown or missing key, a bad value).

    Example::

        >>> gold = load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml"))  # doctest: +SKIP
        >>> gold.people[0].name_en                                          # doctest: +SKIP
        'Volodymyr Zelensky'
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"gold file {path}: cannot be read: {exc}") from None
    try:
        # JSON is YAML, but json gives better messages for JSON files.
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"gold file {path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"gold file {path}: expected a mapping of fields, got {type(data).__name__}"
        )
    try:
        gold = Gold.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"gold file {path}: {_describe_validation(exc)}") from None
    # A gold file copied from another article and not fully edited is easy to miss.
    if Path(gold.article).stem != path.stem:
        raise ConfigError(
            f"gold file {path}: says it annotates {gold.article!r}, but gold files are "
            f"named after their article ({path.stem}.txt)"
        )
    return gold


def load_gold_dir(directory: Path) -> dict[str, Gold]:
    """Read every ``*.yaml``, ``*.yml`` and ``*.json`` gold file of ``directory``, by file stem.

    Example::

        >>> golds = load_gold_dir(Path("evals/gold"))   # doctest: +SKIP
        >>> sorted(golds)[:1]                           # doctest: +SKIP
        ['000_de612b54d8028aa2']
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"gold directory {directory} does not exist")
    golds: dict[str, Gold] = {}
    where: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        if path.stem in golds:
            raise ConfigError(f"two gold files for {path.stem}: {where[path.stem]} and {path}")
        golds[path.stem] = load_gold(path)
        where[path.stem] = path
    return golds


# --------------------------------------------------------------------------- scores


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


# --------------------------------------------------------------------------- report


def _ordered_metrics(metrics: dict[str, float | None]) -> dict[str, float | None]:
    known = {m: metrics[m] for m in METRICS if m in metrics}
    others = {m: metrics[m] for m in sorted(metrics) if m not in known}
    return {**known, **others}


class EvalReport(BaseModel):
    """Scores of one eval run: per article, and their means in :attr:`overall`."""

    model_config = ConfigDict(extra="ignore")

    model: str
    provider: str
    replay: bool
    articles: dict[str, ArticleScore] = Field(default_factory=dict)
    overall: dict[str, float | None] = Field(default_factory=dict)
    failed: dict[str, str] = Field(
        default_factory=dict, description="Articles that produced no digest, with the reason."
    )

    def to_json(self) -> str:
        """The report as stable, diff-friendly JSON (what ``--baseline`` reads back).

        Example::

            >>> Path("evals/baseline.json").write_text(report.to_json())  # doctest: +SKIP
        """
        data = {
            "model": self.model,
            "provider": self.provider,
            "replay": self.replay,
            "overall": _ordered_metrics(self.overall),
            "articles": {
                name: {
                    "metrics": _ordered_metrics(score.metrics),
                    "details": {
                        field: detail.model_dump()
                        for field, detail in sorted(score.details.items())
                    },
                }
                for name, score in sorted(self.articles.items())
            },
            "failed": dict(sorted(self.failed.items())),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def aggregate(
    scores: dict[str, ArticleScore],
    *,
    model: str,
    provider: str,
    replay: bool,
    failed: dict[str, str] | None = None,
) -> EvalReport:
    """Gather per-article scores into a report; ``overall`` is the mean of each metric's non-None values.

    Example::

        >>> report = aggregate({"001": score}, model="gpt-4o-mini", provider="openai", replay=False)  # doctest: +SKIP
        >>> report.overall["people_f1"]    # doctest: +SKIP
        0.8
    """
    names: dict[str, None] = dict.fromkeys(METRICS)
    for score in scores.values():
        names.update(dict.fromkeys(score.metrics))
    overall: dict[str, float | None] = {}
    for metric in names:
        values = [v for s in scores.values() if (v := s.metrics.get(metric)) is not None]
        overall[metric] = sum(values) / len(values) if values else None
    return EvalReport(
        model=model,
        provider=provider,
        replay=replay,
        articles=dict(sorted(scores.items())),
        overall=_ordered_metrics(overall),
        failed=dict(sorted((failed or {}).items())),
    )


def load_report(path: Path) -> EvalReport:
    """Read a report written by :meth:`EvalReport.to_json` (e.g. the CI baseline).

    Example::

        >>> baseline = load_report(Path("evals/baseline.json"))   # doctest: +SKIP
    """
    path = Path(path)
    try:
        return EvalReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"eval report {path}: cannot be read: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(
            f"eval report {path}: not a khabar eval report: {_describe_validation(exc)}"
        ) from None


OVERALL = "overall"


@dataclass(frozen=True)
class Regression:
    """A metric that moved the wrong way against the baseline by more than its tolerance.

    ``metric`` is ``"*"`` and both values ``None`` when a whole article is
    missing; ``current`` is ``None`` when the metric is.
    """

    article: str
    metric: str
    baseline: float | None
    current: float | None
    tolerance: float

    def __str__(self) -> str:
        if self.metric == "*":
            return f"{self.article}: missing from this run (it was scored in the baseline)"
        if self.current is None:
            return f"{self.article}: {self.metric} is missing (baseline {_fmt(self.baseline)})"
        verb = "rose" if self.metric in LOWER_IS_BETTER else "fell"
        return (
            f"{self.article}: {self.metric} {verb} from {_fmt(self.baseline)} to "
            f"{_fmt(self.current)} (tolerance {self.tolerance:g})"
        )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _compare_metrics(
    article: str,
    current: dict[str, float | None],
    baseline: dict[str, float | None],
    tolerances: dict[str, float],
) -> list[Regression]:
    out = []
    for metric, base in baseline.items():
        if base is None:
            continue
        tol = tolerances.get(metric, DEFAULT_TOLERANCE)
        now = current.get(metric)
        if now is None:
            out.append(Regression(article, metric, base, None, tol))
            continue
        worse = now - base if metric in LOWER_IS_BETTER else base - now
        if worse > tol + _TOLERANCE_EPSILON:
            out.append(Regression(article, metric, base, now, tol))
    return out


def compare(
    current: EvalReport, baseline: EvalReport, tolerances: dict[str, float] | None = None
) -> list[Regression]:
    """Every metric, per article and overall, that got worse than ``baseline`` by more than its tolerance.

    ``tolerances`` maps metric names to their tolerance; others use
    :data:`DEFAULT_TOLERANCE`. ``leakage`` regresses when it rises. A metric or
    article that the baseline scored and this run does not is a regression too.

    Example::

        >>> for r in compare(report, load_report(Path("evals/baseline.json"))):  # doctest: +SKIP
        ...     print(r)
        001_c7d2eb9492ec713f: people_f1 fell from 0.800 to 0.600 (tolerance 0.02)
    """
    tolerances = tolerances or {}
    out: list[Regression] = []
    for article, base_score in sorted(baseline.articles.items()):
        now = current.articles.get(article)
        if now is None:
            # It had a digest in the baseline and has none now (failed or missing).
            out.append(Regression(article, "*", None, None, 0.0))
            continue
        out.extend(_compare_metrics(article, now.metrics, base_score.metrics, tolerances))
    out.extend(_compare_metrics(OVERALL, current.overall, baseline.overall, tolerances))
    return out


# --------------------------------------------------------------------------- rendering


def _title(report: EvalReport) -> str:
    how = "replayed recordings" if report.replay else "live run"
    return f"khabar eval: {report.model} ({report.provider}, {how})"


def _rows(report: EvalReport) -> list[tuple[str, list[str]]]:
    rows = [
        (name, [_fmt(score.metrics.get(m)) for m, _ in TABLE_METRICS])
        for name, score in sorted(report.articles.items())
    ]
    rows.append((OVERALL, [_fmt(report.overall.get(m)) for m, _ in TABLE_METRICS]))
    return rows


def render_table(report: EvalReport) -> Table:
    """The report as a rich table: one row per article plus ``overall``; "—" where a metric does not apply.

    Example::

        >>> rich.console.Console().print(render_table(report))   # doctest: +SKIP
    """
    from rich.table import Table

    table = Table(title=_title(report), caption="leak ↓: lower is better")
    table.add_column("article", no_wrap=True)
    for _, header in TABLE_METRICS:
        table.add_column(header, justify="right")
    rows = _rows(report)
    for i, (name, cells) in enumerate(rows):
        table.add_row(
            name, *cells, end_section=i == len(rows) - 2, style="bold" if name == OVERALL else None
        )
    return table


_DETAIL_ORDER = (*ENTITY_FIELDS, "numbers", "dates", "quotes", "key_facts", "leakage")


def render_markdown(report: EvalReport) -> str:
    """The report in Markdown: the table of :func:`render_table`, then what each article missed.

    Example::

        >>> Path("eval.md").write_text(render_markdown(report))   # doctest: +SKIP
    """
    lines = [f"# {markdown_cell(_title(report))}", ""]
    headers = ["article", *(h for _, h in TABLE_METRICS)]
    lines.append("| " + " | ".join(markdown_cell(h) for h in headers) + " |")
    lines.append("|" + "---|" + "---:|" * len(TABLE_METRICS))
    for name, cells in _rows(report):
        shown = f"**{name}**" if name == OVERALL else markdown_cell(name)
        lines.append("| " + " | ".join([shown, *cells]) + " |")
    lines += [
        "",
        "Higher is better, except leak (the share of facts taken from outside the main story).",
    ]
    if report.failed:
        lines += ["", "## Articles without a digest", ""]
        lines += [
            f"- {markdown_cell(name)}: {markdown_cell(reason)}"
            for name, reason in report.failed.items()
        ]
    lines += ["", "## Details", ""]
    for name, score in sorted(report.articles.items()):
        lines.append(f"### {markdown_cell(name)}")
        lines.append("")
        fields = [f for f in _DETAIL_ORDER if f in score.details]
        fields += sorted(f for f in score.details if f not in _DETAIL_ORDER)
        problems = [(f, score.details[f]) for f in fields if not score.details[f].empty()]
        if not problems:
            lines += ["Nothing missed, extra or wrong.", ""]
            continue
        lines.append("| field | missed | extra | wrong |")
        lines.append("|---|---|---|---|")
        for field, detail in problems:
            cells = [
                "; ".join(markdown_cell(x) for x in items) or ""
                for items in (detail.missed, detail.extra, detail.wrong)
            ]
            lines.append(f"| {field} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
