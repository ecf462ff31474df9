"""The gold validator (``khabar eval check-gold``): can a digest reach what the gold asks for?

Gold is scored against digests made from the article *as the pipeline sees
it*: normalized, with the boilerplate and appended stories stripped
(:func:`khabar.core.text.clean_article`), with ISO dates computed from the text
in code (:func:`khabar.core.grounding.parse_date`) and numbers read in code
(:func:`khabar.core.grounding.number_matches`). A gold fact the pipeline can
never produce lowers every model's score for nothing, so each is checked:

* every verbatim field (native-script aliases, number and date texts, quotes)
  is located in the cleaned text (:func:`~khabar.core.grounding.locate`);
  one found only in a stripped block (an outlet named only in the
  ``المصدر:`` source line) is **unreachable**;
* each number's value is what its text states, each date's ISO form is what
  ``parse_date`` gives for its text (a relative "هذا الشهر" has none);
* leak entries are in the page but not in the main story;
* keywords are well formed, not stems too short to be safe, not names of
  leaked entities, and the gold's own ``summary_en`` covers every key fact.

Errors make a gold unfair. Disagreements with khabar's code (``code``: a
value ``parse_numbers`` does not read, an ISO form ``parse_date`` computes
otherwise) are either gold errors or pipeline limits that the gold keeps and
reports (evals/GOLD.md §12); ``--strict`` fails on them too. Warnings are worth
a look. Nothing is fixed automatically: gold is written by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from khabar.core.grounding import locate, number_matches, parse_date, parse_numbers
from khabar.core.text import clean_article, detect_language, fold, normalize_text
from khabar.errors import ConfigError
from khabar.evals.entities import ENTITY_FIELDS
from khabar.evals.gold import Gold, load_gold
from khabar.evals.sets import articles_dir_for
from khabar.evals.summaries import fact_covered
from khabar.evals.wording import keyword_pattern, keyword_problem

__all__ = [
    "CHECKED_BY_DEFAULT",
    "GoldProblem",
    "check_gold",
    "check_gold_dirs",
    "failing",
    "render_problems",
]

CHECKED_BY_DEFAULT = (Path("evals/gold"), Path("evals/gold_b"), Path("evals/corpus/gold"))
"""What ``khabar eval check-gold`` checks with no directory given (those that exist)."""

Severity = Literal["error", "code", "warning"]
"""``error``: the gold is wrong or unfair; ``code``: khabar's code reads the text otherwise
(a gold error, or a pipeline limit the gold keeps and reports: evals/GOLD.md §12);
``warning``: worth a look."""


@dataclass(frozen=True)
class GoldProblem:
    """One thing wrong with a gold file: where, what, and how bad."""

    path: Path
    where: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.where}: {self.message}"


def _native(text: str) -> bool:
    return any(ch.isalpha() and unicodedata.name(ch, "").startswith("ARABIC") for ch in text)


# Arabic clitics and the article that may be glued to a name in running text.
_PREFIXES = ("", "و", "ب", "ل", "ف", "ال", "وال", "بال", "لل", "فال", "وب", "ول", "وبال")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w for w in (fold(t) for t in _WORDS.findall(text)) if w]


def has_phrase(text: str, phrase: str) -> bool:
    """True when ``phrase`` occurs in ``text`` as whole folded words (a clitic may precede it).

    Folded text has no spaces, so a plain substring test would find "موند" in
    "ريموند": leaks are checked word by word.
    """
    want = _words(phrase)
    if not want:
        return False
    have = _words(text)
    firsts = {fold(p) + want[0] for p in _PREFIXES}
    for i in range(len(have) - len(want) + 1):
        if have[i] in firsts and have[i + 1 : i + len(want)] == want[1:]:
            return True
    return False


@dataclass(frozen=True)
class _Texts:
    page: str  # normalized, what the stripped blocks are in
    cleaned: str  # what the model sees
    main: str  # the cleaned text without the blocks the gold marks as not the main story
    stripped: tuple[tuple[str, str], ...]  # (kind, text) of the blocks the pipeline removed


# An agency credit line ("فرانس برس") attributes the main story: it is not another story.
_ATTRIBUTION = frozenset({"agency_line"})


def _texts(gold: Gold, raw: str) -> _Texts:
    page = normalize_text(raw)
    cleaned = clean_article(page)
    lines = cleaned.text.split("\n")
    keep = [True] * len(lines)
    for block in gold.not_main_story:
        key = fold(block.starts_with)
        if not key or block.kind in _ATTRIBUTION:
            continue
        for i, line in enumerate(lines):
            if fold(line).startswith(key):
                # An appended story or a list of related headlines runs to the end of the page.
                end = len(lines) if block.kind in ("appended_story", "related") else i + 1
                for j in range(i, end):
                    keep[j] = False
                break
    main = "\n".join(line for line, k in zip(lines, keep, strict=True) if k)
    return _Texts(page, cleaned.text, main, tuple((b.kind, b.text) for b in cleaned.stripped))


def _reach(text: str, texts: _Texts) -> str | None:
    """None when ``text`` is in the cleaned article; else why it is not."""
    if locate(text, texts.cleaned) is not None:
        return None
    kinds = sorted({kind for kind, block in texts.stripped if locate(text, block) is not None})
    if kinds:
        return f"only in what the pipeline strips ({', '.join(kinds)}): the model never sees it"
    if locate(text, texts.page) is not None:
        return "not in the cleaned text the model sees"
    return "not in the article"


def _entities(gold: Gold, texts: _Texts, add: _Collector) -> None:
    for field in ENTITY_FIELDS:
        for i, entity in enumerate(getattr(gold, field)):
            where = f"{field}[{i}] {entity.name_en}"
            natives = [a for a in entity.aliases if _native(a)]
            if not natives:
                add(where, "no native-script alias: only the English name can match", "warning")
                continue
            reach = {alias: _reach(alias, texts) for alias in natives}
            for alias, why in reach.items():
                if why == "not in the article":
                    add(where, f"alias {alias!r} is not in the article")
            if all(why is not None for why in reach.values()):
                add(
                    where,
                    "unreachable: no native alias is in the cleaned text ("
                    + "; ".join(f"{a!r} {w}" for a, w in reach.items())
                    + "). Drop it, or list it under leak if it belongs to another story",
                )
            elif not any(has_phrase(texts.main, a) for a in natives):
                add(
                    where,
                    "named only in a block the gold marks as not the main story "
                    "(the pipeline leaves it in): a leak?",
                    "warning",
                )


def _facts(gold: Gold, texts: _Texts, add: _Collector) -> None:
    for i, number in enumerate(gold.numbers):
        where = f"numbers[{i}] {number.text!r}"
        if not number.text.strip():
            add(where, "no text: a number needs the words that state it, verbatim")
            continue
        why = _reach(number.text, texts)
        if why is not None:
            add(where, why)
        if not number_matches(number.value, number.text, gold.language):
            read = [n.value for n in parse_numbers(number.text, gold.language)]
            add(
                where,
                f"value {number.value:g}, but khabar reads {read} in this text (a digest's "
                "number is checked against its evidence the same way)",
                "code",
            )
    for i, date in enumerate(gold.dates):
        where = f"dates[{i}] {date.text!r}"
        why = _reach(date.text, texts)
        if why is not None:
            add(where, why)
        parsed = parse_date(date.text).iso
        if parsed != date.iso:
            add(
                where,
                f"iso {date.iso!r}, but khabar computes {parsed!r} from this text (a digest's ISO "
                "form is parse_date of its text)",
                "code",
            )
    for i, quote in enumerate(gold.quotes):
        where = f"quotes[{i}] «{quote.text_src[:40]}»"
        why = _reach(quote.text_src, texts)
        if why is not None:
            add(where, why)
        for alias in quote.speaker_aliases:
            if _native(alias) and locate(alias, texts.page) is None:
                add(where, f"speaker alias {alias!r} is not in the article", "warning")


def _blocks(gold: Gold, texts: _Texts, add: _Collector) -> None:
    for i, block in enumerate(gold.not_main_story):
        where = f"not_main_story[{i}] {block.kind}"
        if locate(block.starts_with, texts.page) is None:
            add(where, f"starts_with {block.starts_with!r} is not in the article")
        elif (
            block.kind not in _ATTRIBUTION and locate(block.starts_with, texts.cleaned) is not None
        ):
            add(
                where,
                "the pipeline does not strip this block: the model sees it (fine, but its facts "
                "can leak)",
                "warning",
            )
    leak = gold.leak
    for field in ENTITY_FIELDS:
        for name in getattr(leak, field):
            if not _native(name):
                continue
            if locate(name, texts.page) is None:
                add(f"leak.{field}", f"{name!r} is not in the article")
            elif has_phrase(texts.main, name):
                add(
                    f"leak.{field}",
                    f"{name!r} is in the main story: a name the main story uses is a main-story "
                    "entity, not a leak",
                )
    main_values = {n.value for n in parse_numbers(texts.main, gold.language)}
    for value in leak.numbers:
        if value in main_values and not any(n.value == value for n in gold.numbers):
            add(
                "leak.numbers",
                f"{value:g} is also stated in the main story: a digest reporting it from there "
                "counts as leaking",
                "warning",
            )


def _leak_keys(gold: Gold) -> list[str]:
    leak = gold.leak
    return [
        n
        for n in (*leak.people, *leak.organizations, *leak.locations, *leak.sources)
        if not _native(n)
    ]


def _keywords(gold: Gold, add: _Collector) -> None:
    leaked = _leak_keys(gold)
    main_names = [n for f in ENTITY_FIELDS for e in getattr(gold, f) for n in e.names()]
    for i, fact in enumerate(gold.key_facts):
        where = f"key_facts[{i}] {fact.text!r}"
        for group in fact.keywords:
            for alt in group:
                problem = keyword_problem(alt)
                if problem is not None:
                    add(where, problem)
                    continue
                pattern = keyword_pattern(alt)
                hits = [n for n in leaked if pattern.search(n)]
                if hits and not any(pattern.search(n) for n in main_names):
                    add(
                        where,
                        f"keyword {alt!r} names a leaked entity ({hits[0]}): a digest of the "
                        "appended story would cover this fact",
                        "warning",
                    )
        for group in fact_covered(fact, gold.summary_en):
            hint = _stem_hint(group, gold.summary_en)
            add(
                where,
                f"the gold's own summary_en does not cover the group {group} (keywords match "
                f"whole words, and not negated unless the fact is){hint}",
            )


def _stem_hint(group: list[str], summary: str) -> str:
    for alt in group:
        core = alt.rstrip("*").strip()
        if core and not alt.endswith("*") and re.search(re.escape(core) + r"\w", summary, re.I):
            return f"; did you mean the stem {core + '*'!r}?"
    return ""


class _Collector:
    """Collects the problems of one gold file: ``add(where, message, severity)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[GoldProblem] = []

    def __call__(self, where: str, message: str, severity: Severity = "error") -> None:
        self.problems.append(GoldProblem(self.path, where, message, severity))


def check_gold(gold: Gold, article_text: str, path: Path) -> list[GoldProblem]:
    """Every problem of one gold annotation against its article's raw text."""
    add = _Collector(path)
    texts = _texts(gold, article_text)
    detected = detect_language(texts.cleaned)
    if detected != gold.language:
        add("language", f"{gold.language!r}, but khabar detects {detected!r}", "warning")
    if not _native(gold.summary_src):
        add("summary_src", "not in the article's script", "warning")
    _entities(gold, texts, add)
    _facts(gold, texts, add)
    _blocks(gold, texts, add)
    _keywords(gold, add)
    return add.problems


def _gold_files(directory: Path) -> Iterable[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".json")
    )


def check_gold_dirs(
    dirs: Sequence[Path], articles: Path | None = None
) -> tuple[list[GoldProblem], int]:
    """Check every gold file of ``dirs``: (problems, number of files checked).

    A file that does not load is one error; the others are still checked.

    Example::

        >>> problems, n = check_gold_dirs([Path("evals/gold")])   # doctest: +SKIP
        >>> [str(p) for p in problems if p.severity == "error"]  # doctest: +SKIP
        []
    """
    problems: list[GoldProblem] = []
    checked = 0
    for directory in dirs:
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError(f"gold directory {directory} does not exist")
        where = [d for d in (articles, articles_dir_for(directory)) if d is not None]
        for path in _gold_files(directory):
            checked += 1
            try:
                gold = load_gold(path)
            except ConfigError as exc:
                problems.append(GoldProblem(path, "(file)", str(exc)))
                continue
            article = next(
                (d / f"{path.stem}.txt" for d in where if (d / f"{path.stem}.txt").is_file()), None
            )
            if article is None:
                problems.append(
                    GoldProblem(
                        path, "article", f"no {path.stem}.txt in {' or '.join(map(str, where))}"
                    )
                )
                continue
            problems.extend(check_gold(gold, article.read_text(encoding="utf-8"), path))
    return problems, checked


_ORDER = {"error": 0, "code": 1, "warning": 2}


def render_problems(problems: Sequence[GoldProblem], checked: int) -> list[str]:
    """The problems as lines, errors first, and a closing count."""
    ordered = sorted(problems, key=lambda p: (_ORDER[p.severity], str(p.path)))
    count = {k: sum(1 for p in problems if p.severity == k) for k in _ORDER}
    lines = [str(p) for p in ordered]
    lines.append(
        f"{checked} gold files checked: {count['error']} errors, {count['code']} disagreements "
        f"with khabar's code (gold errors, or pipeline limits to report: evals/GOLD.md §12), "
        f"{count['warning']} warnings"
    )
    return lines


def failing(problems: Sequence[GoldProblem], *, strict: bool = False) -> bool:
    """Whether ``check-gold`` exits 1: any error, or (``strict``) any disagreement with the code."""
    return any(p.severity == "error" or (strict and p.severity == "code") for p in problems)
