"""Conformance of the grounding layers (numbers, dates, locate) on the real corpora.

Usage::

    python bench/conformance_grounding.py [--corpora DIR] [--check] [--misses N]

Prints one table row per measure with its goal; ``--check`` exits 1 when a goal is
missed. The corpora are ``../shared/corpora`` next to the repository (see its
README.txt); nothing is fetched. Runs in well under a minute on one core.

What each row measures, and what it leaves out (printed with the row):

* numbers ar / fa: NTREX-128 translations are parallel to English originals, line by
  line. Every numeric value of an English line (digits with scale words and
  percents, number words, ordinals from "second" up) must be among the values
  :func:`parse_numbers` reads from the translated line. Left out, and counted: "first"
  and "one"/"a" as pronoun or article (not quantities: "one of", "first time"), vague
  plurals and fractions ("hundreds", "half"), and values the translator changed:
  imperial units the translation converts (miles, feet, pounds, Fahrenheit), and the
  lines listed in ``tests/data/grounding/ntrex_translator_changes.jsonl``, each
  checked by hand with the reason.
* spurious numbers: articles (all corpora) in which a number WORD that the
  hand-labelled sample ``tests/data/grounding/number_words_labelled.jsonl`` marks as
  not a number is read as one. Occurrences missing from the sample are counted too.
* dates: every Solar Hijri day-month-year in the Persian corpora converts to the same
  Gregorian date as jdatetime; every Arabic day + month keeps its day and month.
* locate: perturbations a model makes of real sentences are found; a changed digit,
  decimal point or negation, or a sentence of another article, is never found.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from khabar.core.grounding.dates import parse_date  # noqa: E402
from khabar.core.grounding.locate import locate  # noqa: E402
from khabar.core.grounding.numbers import parse_numbers  # noqa: E402
from khabar.core.text.fold import fold, to_ascii_digits  # noqa: E402

DEFAULT_CORPORA = REPO.parent / "shared" / "corpora"
FIXTURES = REPO / "tests" / "data" / "grounding"


@dataclass
class Row:
    name: str
    value: float
    goal: str
    passed: bool
    detail: str = ""
    misses: list[str] = field(default_factory=list)


def _ordered(words: str) -> list[str]:
    return words.split()


def records(corpora: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(corpora.glob("*/*.jsonl")):
        if "NOT_NEWS" in path.parent.name:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def article_text(record: dict[str, Any]) -> str:
    return "\n".join(x for x in (record.get("title"), record.get("text")) if x)


# ---------------------------------------------------------------------------------------
# Numbers: English values recovered from the NTREX translations
# ---------------------------------------------------------------------------------------

_EN_UNITS = dict(
    zip(_ordered("one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
                 " fifteen sixteen seventeen eighteen nineteen"), range(1, 20), strict=True)
) | dict(zip(_ordered("twenty thirty forty fifty sixty seventy eighty ninety"), range(20, 100, 10), strict=True)) | {"dozen": 12}  # fmt: skip
_EN_ORDINALS = dict(
    zip(_ordered("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
                 " thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"), range(1, 20), strict=True)
) | dict(zip(_ordered("twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth"), range(20, 100, 10), strict=True)) | {"hundredth": 100}  # fmt: skip
_EN_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_EN_GLUED = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_EN_GLUED.update({k: v for k, v in _EN_SCALES.items() if k != "hundred"})
# Nouns after which "one" is a count rather than a pronoun or an article ("one of",
# "one man said"): units of time, measure and money, the same closed class after which
# khabar reads Persian یک as a number.
_EN_COUNTED = frozenset(
    _ordered(
        "second seconds minute minutes hour hours day days week weeks month months year years"
        " decade decades century percent per cent million billion thousand hundred time times"
        " point points goal goals pound pounds dollar dollars euro euros metre metres meter"
        " meters kilometre kilometres kilometer kilometers"
    )
)
# Units a translator converts: the value in the translation is another number.
IMPERIAL = "imperial unit (the translation converts it)"
_IMPERIAL = (
    r"(?:square\s|sq\s|cubic\s)?(?:miles?|mph|feet|foot|ft|inch(?:es)?|yards?|yds?|acres?|gallons?"
    r"|ounces?|oz|lbs?|pound(?!s)|pounds(?=\s(?:of\s|in\sweight))|stone|fahrenheit|°\s?f"
    r"|degrees?(?!\s*(?:c\b|celsius|centigrade)))\b"
)
_IMPERIAL_AFTER = re.compile(
    rf"^(?:\s*(?:to|-|–|or|and)\s*[\d.,]+)?[\s-]*{_IMPERIAL}", re.IGNORECASE
)
_IMPERIAL_BEFORE = re.compile(r"(?:foot|feet|ft)[\s-]*$", re.IGNORECASE)
_EN_TOKEN = re.compile(
    r"(?P<num>(?<![A-Za-z\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|(?<![A-Za-z\d.,])\d+(?:\.\d+)?(?![\d.]))"
    r"(?P<suffix>st|nd|rd|th|s|am|pm|a\.m\.|p\.m\.)?(?P<glued>k|m|mn|bn|b|tn|thousand|million|billion|trillion)?(?![A-Za-z])"
    r"|(?P<ident>[A-Za-z]+\.?\d[\w-]*|\d+[A-Za-z]\w*)"
    r"|(?P<word>[A-Za-z]+(?:-[A-Za-z]+)*)"
)
_TIME = re.compile(r"(?<![\d.,])(\d{1,2})[:.](\d{2})(?:\s?(?:am|pm|a\.m\.|p\.m\.))")
_CLOCK = re.compile(r"(?<![\d.,])(\d{1,2}):(\d{2})(?![\d])")
_PHONE = re.compile(r"(?<![\d,.])(?:0\d{2,}[\s\d]*|\d{3,}(?:\s\d{3,})+)(?![\d,.])")
_FRACTION = re.compile(r"(?<![\d,.])\d+/\d+(?![\d/])")
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d\d)[-–](\d\d)\b")


@dataclass
class EnValue:
    value: float
    text: str
    excluded: str = ""  # why it is left out, or ""
    alts: tuple[float, ...] = ()  # other ways the same value is written ("1950-53": 53)


def english_values(line: str) -> list[EnValue]:
    """The numeric values an English line states (independent of khabar's parser)."""
    out: list[EnValue] = []
    # Spans handled before tokenizing: times, phone numbers, fractions, 1950-53.
    for m in [*_TIME.finditer(line), *_CLOCK.finditer(line)]:
        out.append(EnValue(float(m.group(1)), m.group(0)))  # hour, then minutes unless :00
        out.extend([EnValue(float(m.group(2)), m.group(0))] if m.group(2) != "00" else [])
    for m in _PHONE.finditer(line):
        out.append(EnValue(0, m.group(0).strip(), "phone number or code"))
    for m in _FRACTION.finditer(line):
        out.append(EnValue(0, m.group(0), "fraction"))
    for m in _YEAR_RANGE.finditer(line):
        out.append(EnValue(float(m.group(1)), m.group(1)))
        yy = m.group(2)
        out.append(EnValue(float(m.group(1)[:2] + yy), m.group(0), alts=(float(yy),)))
    masked = line
    for rx in (_TIME, _CLOCK, _PHONE, _FRACTION, _YEAR_RANGE):
        masked = rx.sub(lambda m: " " * len(m.group(0)), masked)
    toks = list(_EN_TOKEN.finditer(masked))
    i = 0
    while i < len(toks):
        m = toks[i]
        rest, before = masked[m.end() :], masked[: m.start()]
        nxt = toks[i + 1].group(0).lower() if i + 1 < len(toks) else ""
        prev = toks[i - 1].group(0).lower() if i > 0 else ""
        if m.group("ident"):
            unit = re.fullmatch(r"[\d.]+(?:in|ft|lbs?|mph|oz|f)", m.group(0), re.I)
            out.append(EnValue(0, m.group(0), IMPERIAL if unit else "identifier (WW1, G7, No.1)"))
            i += 1
            continue
        if m.group("num"):
            value = float(m.group("num").replace(",", ""))
            text = m.group(0)
            suffix = (m.group("suffix") or "").lower()
            if suffix == "s":
                out.append(EnValue(value, text, "decade (translated as a word, the eighties)"))
                i += 1
                continue
            if m.group("glued"):
                value *= _EN_GLUED[m.group("glued").lower()]
            elif nxt in _EN_SCALES and nxt != "hundred":
                value *= _EN_SCALES[nxt]
                i += 1
                rest = masked[toks[i].end() :]
            imperial = _IMPERIAL_AFTER.match(rest) or _IMPERIAL_BEFORE.search(before)
            out.append(EnValue(value, text, IMPERIAL if imperial else ""))
            i += 1
            continue
        word = m.group("word").lower()
        parts = word.split("-")
        if len(parts) >= 2 and parts[1].startswith(("third", "quarter", "fifth", "tenth", "half")):
            out.append(EnValue(0, word, "fraction"))
            i += 1
            continue
        if (
            len(parts) >= 2
            and parts[0] in _EN_UNITS
            and (parts[1] in _EN_UNITS or parts[1] in _EN_ORDINALS)
        ):
            value = _EN_UNITS[parts[0]] + _EN_UNITS.get(parts[1], _EN_ORDINALS.get(parts[1], 0))
            out.append(EnValue(value, word))
            i += 1
            continue
        head = parts[0]
        tail = "-".join(parts[1:])
        if head in _EN_UNITS or (head in _EN_SCALES and prev in ("a", "one")):
            value = float(_EN_UNITS.get(head, 1))
            if head in _EN_SCALES:
                value = _EN_SCALES[head]
            text = word
            j = i + 1
            # two hundred, three million
            while not tail and j < len(toks) and toks[j].group(0).lower() in _EN_SCALES:
                value *= _EN_SCALES[toks[j].group(0).lower()]
                text += " " + toks[j].group(0)
                j += 1
            after = tail or (toks[j].group(0).lower() if j < len(toks) else "")
            why = ""
            if head == "one" and j == i + 1 and after not in _EN_COUNTED:
                why = "'one' as a pronoun or article"
            elif after.startswith(("third", "quarter", "fifth", "tenth")):
                why = "fraction"
            elif head == "dozen" or (head in _EN_UNITS and after == "dozen"):
                why = "dozen (translated as 'tens of' or 12)"
            elif re.match(_IMPERIAL, tail, re.I) or _IMPERIAL_AFTER.match(
                masked[toks[j - 1].end() :]
            ):
                why = IMPERIAL
            out.append(EnValue(value, text, why))
            i = j
            continue
        if head in _EN_ORDINALS:
            why = ""
            if head == "first":
                why = "'first' (not a quantity)"
            elif head == "second" and (
                prev in ("a", "split", "per", "every") or (i > 0 and toks[i - 1].group("num"))
            ):
                why = "'second' as the unit of time"
            out.append(EnValue(_EN_ORDINALS[head], word, why))
        i += 1
    return out


def ntrex_numbers(corpora: Path, language: str) -> Row:
    path = corpora / "ntrex128" / f"{language}.jsonl"
    changes = _translator_changes(language)
    total = found = 0
    excluded: dict[str, int] = {}
    misses: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        pairs = [
            (rec["title_en"], rec["title"]),
            *zip(rec["text_en"].split("\n"), rec["text"].split("\n"), strict=True),
        ]
        for n, (en, tr) in enumerate(pairs):
            values = [abs(p.value) for p in parse_numbers(tr, language)]
            for v in english_values(en):
                why = v.excluded or changes.get((rec["id"], n, v.text), "")
                if why:
                    excluded[why.split(":")[0]] = excluded.get(why.split(":")[0], 0) + 1
                    continue
                total += 1
                wanted = (abs(v.value), *v.alts)
                if any(abs(x - w) <= 1e-6 * max(1.0, w) for x in values for w in wanted):
                    found += 1
                else:
                    where = f"{rec['id']} #{n} {v.text!r} ({v.value:g})"
                    misses.append(f"{where}\n    en: {en}\n    {language}: {tr}")
    share = found / total if total else 0.0
    detail = f"{found}/{total} values; excluded " + ", ".join(
        f"{k}: {c}" for k, c in sorted(excluded.items())
    )
    return Row(f"numbers {language} (NTREX)", share, ">= 0.98", share >= 0.98, detail, misses)


def _translator_changes(language: str) -> dict[tuple[str, int, str], str]:
    path = FIXTURES / "ntrex_translator_changes.jsonl"
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row["language"] != language:
                continue
            out[(row["id"], row["line"], row["en"])] = (
                "translator changed the value: " + row["reason"]
            )
    return out


# ---------------------------------------------------------------------------------------
# Spurious numbers: words read as numbers that are not numbers
# ---------------------------------------------------------------------------------------

_DIGIT = re.compile(r"[0-9٠-٩۰-۹]")


def spurious_numbers(corpora: Path) -> Row:
    labels: dict[tuple[str, str, int], dict[str, Any]] = {}
    for line in (FIXTURES / "number_words_labelled.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[(row["language"], row["id"], row["start"])] = row
    articles = spurious = unlabelled = words = 0
    misses: list[str] = []
    for rec in records(corpora):
        articles += 1
        text = article_text(rec)
        bad = False
        for n in parse_numbers(text, rec["language"]):
            if _DIGIT.search(n.text):
                continue
            words += 1
            label = labels.get((rec["language"], rec["id"], n.start))
            if label is None:
                unlabelled += 1
                around = text[max(0, n.start - 30) : n.end + 30]
                misses.append(f"unlabelled {rec['id']}: {n.text!r} in {around!r}")
            elif not label["is_number"]:
                bad = True
                misses.append(f"{rec['id']}: {n.text!r} in {label['context']!r}")
        spurious += bad
    share = spurious / articles if articles else 0.0
    negatives = sum(not r["is_number"] for r in labels.values())
    detail = (
        f"{spurious}/{articles} articles; {words} number words read, {unlabelled} of them not in the"
        f" labelled sample ({len(labels)} labelled, {negatives} not numbers)"
    )
    return Row("spurious numbers (articles)", share, "< 0.01", share < 0.01, detail, misses)


# ---------------------------------------------------------------------------------------
# Dates: Solar Hijri against jdatetime, Arabic day + month
# ---------------------------------------------------------------------------------------

# The bench's own tables (not khabar's), so that a wrong table in khabar shows.
_SOLAR = _ordered("فروردین اردیبهشت خرداد تیر مرداد شهریور مهر آبان آذر دی بهمن اسفند")
_AR_MONTHS = {
    "يناير": 1, "كانون الثاني": 1, "فبراير": 2, "شباط": 2, "مارس": 3, "آذار": 3, "أبريل": 4,
    "ابريل": 4, "نيسان": 4, "مايو": 5, "أيار": 5, "يونيو": 6, "حزيران": 6, "يوليو": 7,
    "تموز": 7, "أغسطس": 8, "اغسطس": 8, "آب": 8, "سبتمبر": 9, "أيلول": 9, "أكتوبر": 10,
    "اكتوبر": 10, "تشرين الأول": 10, "نوفمبر": 11, "تشرين الثاني": 11, "ديسمبر": 12,
    "كانون الأول": 12,
}  # fmt: skip
_FA_DIGITS = "0-9۰-۹٠-٩"
_SOLAR_DATE = re.compile(
    rf"(?<![{_FA_DIGITS}])(?P<day>[{_FA_DIGITS}]{{1,2}})\s*(?P<month>{'|'.join(_SOLAR)})"
    rf"(?P<mah>\u200c?\s*ماه)?\s*(?:سال\s*)?(?P<year>[{_FA_DIGITS}]{{4}}|[{_FA_DIGITS}]{{2}}(?=\s*[،,.)]|\s+(?:و|در|به|از|که)\s))"
    rf"(?![{_FA_DIGITS}])"
)
_AR_NAMES = "|".join(sorted(_AR_MONTHS, key=len, reverse=True))
_AR_DATE = re.compile(
    rf"(?<![{_FA_DIGITS}])(?P<day>[{_FA_DIGITS}]{{1,2}})\s+(?:من\s+)?(?:شهر\s+)?(?P<month>{_AR_NAMES})(?![\w])"
    rf"(?:\s*/\s*(?:{_AR_NAMES}))?(?:\s+(?:عام\s+)?[{_FA_DIGITS}]{{4}})?"
)


def dates(corpora: Path) -> Row:
    import jdatetime

    total = good = 0
    misses: list[str] = []
    for rec in records(corpora):
        text = article_text(rec)
        if rec["language"] == "fa":
            for m in _SOLAR_DATE.finditer(text):
                day, year = (int(to_ascii_digits(m[k])) for k in ("day", "year"))
                month = _SOLAR.index(m["month"]) + 1
                if year < 100:
                    year += 1400 if year <= 30 else 1300
                try:
                    want: str | None = jdatetime.date(year, month, day).togregorian().isoformat()
                except ValueError:
                    want = None  # "31 مهر": no such day; the parser must not invent one
                before = " ".join(text[: m.start()].split()[-2:])
                for expression in (m.group(0), f"{before} {m.group(0)}"):
                    total += 1
                    got = parse_date(expression).iso
                    if got == want:
                        good += 1
                    else:
                        misses.append(f"{rec['id']}: {expression!r} -> {got}, not {want}")
        else:
            for m in _AR_DATE.finditer(text):
                want_dm = (_AR_MONTHS[m["month"]], int(to_ascii_digits(m["day"])))
                if not 1 <= want_dm[1] <= 31:
                    continue
                total += 1
                parts = parse_date(m.group(0))
                if (parts.month, parts.day) == want_dm:
                    good += 1
                else:
                    got_dm = (parts.month, parts.day)
                    misses.append(f"{rec['id']}: {m.group(0)!r} -> {got_dm}, not {want_dm}")
    share = good / total if total else 0.0
    detail = f"{good}/{total} expressions (Solar Hijri day-month-year alone and after 2 words; Arabic day + month)"
    return Row("dates", share, ">= 0.98", share >= 0.98, detail, misses)


# ---------------------------------------------------------------------------------------
# Locate: what a model changes is found, what changes the meaning is not
# ---------------------------------------------------------------------------------------

# Whole sentences of 40 to 220 characters; a dot between digits (2.5) does not end one.
_SENTENCE = re.compile(
    r"(?:(?<=^)|(?<=[.!?؟\n]))[^\S\n]*((?:[^.!?؟\n]|(?<=[0-9۰-۹٠-٩])\.(?=[0-9۰-۹٠-٩])){40,220}(?:[.!?؟](?=\s|$)|(?=\n|$)))",
    re.MULTILINE,
)
_ZWNJ = "\u200c"
_HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b"


def _swap(text: str, table: dict[str, str]) -> str:
    return text.translate(str.maketrans(table))


def _digits_to(text: str, script: str) -> str:
    ascii_text = to_ascii_digits(text)
    return ascii_text.translate(str.maketrans("0123456789", script)) if script else ascii_text


FOUND_PERTURBATIONS: dict[str, Callable[[str], str]] = {
    "ZWNJ removed": lambda s: s.replace(_ZWNJ, ""),
    "ZWNJ as space": lambda s: s.replace(_ZWNJ, " "),
    "ZWNJ after می": lambda s: re.sub(r"\bمی ?(?=\w)", "می" + _ZWNJ, s),
    "Arabic yeh/kaf": lambda s: _swap(s, {"ی": "ي", "ک": "ك"}),
    "Persian yeh/kaf": lambda s: _swap(s, {"ي": "ی", "ك": "ک", "ى": "ی"}),
    "hamza on alef dropped": lambda s: _swap(s, {"أ": "ا", "إ": "ا", "آ": "ا"}),
    "teh marbuta as heh": lambda s: s.replace("ة", "ه"),
    # Arabic seats the hamza before و on waw (مسؤول، شؤون), Persian on yeh (مسئول، شئون).
    "hamza seat ؤو/ئو": lambda s: s.replace("ؤو", "ئو") if "ؤو" in s else s.replace("ئو", "ؤو"),
    "heh as ھ": lambda s: s.replace("ه", "ھ"),
    "diacritics added": lambda s: re.sub(
        r"([بتثجحخدذرزسشصضطظعغفقلمن])(?=\w)", "\\1\u064e", s, count=4
    ),
    "diacritics removed": lambda s: re.sub(f"[{_HARAKAT}]", "", s),
    "ASCII digits": lambda s: _digits_to(s, ""),
    "Persian digits": lambda s: _digits_to(s, "۰۱۲۳۴۵۶۷۸۹"),
    "Arabic-Indic digits": lambda s: _digits_to(s, "٠١٢٣٤٥٦٧٨٩"),
    "quote styles": lambda s: _swap(s, {"«": '"', "»": '"', "“": '"', "”": '"', '"': "«"}),
    "whitespace": lambda s: re.sub(r"\s+", "  ", s).replace("، ", "،").strip() + " ",
}


def _negated(s: str, language: str) -> str | None:
    """The sentence with its polarity changed, or None when no rule applies."""
    words = s.split(" ")
    if language == "fa":
        for i, w in enumerate(words):
            if w.startswith("می") and len(w) > 3:
                words[i] = "ن" + w
                return " ".join(words)
            if w.startswith("نمی") and len(w) > 4:
                words[i] = w[1:]
                return " ".join(words)
        return None
    for i, w in enumerate(words):
        if w in ("لا", "لم", "لن", "ليس") and 0 < i < len(words) - 1:
            return " ".join(words[:i] + words[i + 1 :])
    for i, w in enumerate(words):
        if i >= 2 and w[:1] in "يتن" and len(w) > 3:
            return " ".join([*words[:i], "لا", *words[i:]])
    return None


def _elide_negation(s: str) -> str | None:
    words = s.split(" ")
    for i, w in enumerate(words):
        if (
            fold(w) in {fold(x) for x in ("لا", "لم", "لن", "ليس", "نه", "نیست", "نبود")}
            and 2 <= i < len(words) - 2
        ):
            return " ".join(words[:i]) + " ... " + " ".join(words[i + 1 :])
        if fold(w).startswith("نمی") and 2 <= i < len(words) - 2:
            return " ".join(words[:i]) + " ... " + w[1:] + " " + " ".join(words[i + 1 :])
    return None


def _digit_changed(s: str) -> str | None:
    m = re.search(r"[0-9٠-٩۰-۹]", s)
    if not m:
        return None
    d = int(to_ascii_digits(m.group(0)))
    return s[: m.start()] + str((d + 1) % 10) + s[m.end() :]


def _decimal_changed(s: str) -> str | None:
    m = re.search(r"([0-9٠-٩۰-۹])([.٫,٬])([0-9٠-٩۰-۹])", s)
    if m:
        return s[: m.start()] + m.group(1) + m.group(3) + s[m.end() :]  # 2.5 -> 25
    m = re.search(r"([0-9٠-٩۰-۹])([0-9٠-٩۰-۹])", s)
    if m:
        return s[: m.start()] + m.group(1) + "." + m.group(2) + s[m.end() :]  # 25 -> 2.5
    return None


NOT_FOUND_PERTURBATIONS = _ordered("digit decimal negation elision other-article two-sentences")


def locate_conformance(corpora: Path) -> list[Row]:
    rng = random.Random(20240607)
    arts = [r for r in records(corpora) if r.get("text") and len(r["text"]) > 300]
    found: dict[str, list[int]] = {k: [0, 0] for k in FOUND_PERTURBATIONS}
    refused: dict[str, list[int]] = {k: [0, 0] for k in NOT_FOUND_PERTURBATIONS}
    misses: list[str] = []
    for n, rec in enumerate(arts):
        text = rec["text"]
        folded = fold(text)
        sentences = [m.group(1).strip() for m in _SENTENCE.finditer(text)]
        sentences = [s for s in sentences if len(fold(s)) >= 30]
        if not sentences:
            continue
        chosen = rng.sample(sentences, min(3, len(sentences)))
        for s in chosen:
            for name, make in FOUND_PERTURBATIONS.items():
                excerpt = make(s)
                if excerpt == s and name not in ("whitespace",):
                    continue  # nothing to perturb in this sentence
                found[name][1] += 1
                if locate(excerpt, text) is not None:
                    found[name][0] += 1
                else:
                    misses.append(f"[{name}] not found: {excerpt!r}")
            other = arts[(n + 1) % len(arts)]["text"]
            cases = {
                "digit": (_digit_changed(s), text),
                "decimal": (_decimal_changed(s), text),
                "negation": (_negated(s, rec["language"]), text),
                "elision": (_elide_negation(s), text),
                "other-article": (s, other),
            }
            k = sentences.index(s)
            after = sentences[k + 1] if k + 1 < len(sentences) else s
            between = text[text.find(s) + len(s) : text.find(after)]
            # Only real neighbours: a sentence end between them (long sentences come in chunks).
            if k + 1 < len(sentences) and re.search(r"[.!?؟\n]", s[-1:] + between):
                head, tail = " ".join(s.split(" ")[:4]), " ".join(sentences[k + 1].split(" ")[-4:])
                # Only when the tail is not also in the first sentence (then it is one sentence).
                if fold(tail) not in fold(s) and folded.count(fold(head)) == 1:
                    cases["two-sentences"] = (f"{head} ... {tail}", text)
            for name, (excerpt, where) in cases.items():
                if excerpt is None:
                    continue  # no rule applies to this sentence
                # Skip a change that is really in the text (digits compared as written).
                digits = name in ("digit", "decimal")
                key = to_ascii_digits if digits else fold
                if key(excerpt) in key(where):
                    continue
                refused[name][1] += 1
                if locate(excerpt, where) is None:
                    refused[name][0] += 1
                else:
                    misses.append(f"[{name}] found: {excerpt!r}")
    rows = []
    for title, table, mark in (("found", found, "] not"), ("never found", refused, "] found")):
        ok, total = sum(v[0] for v in table.values()), sum(v[1] for v in table.values())
        info = "; ".join(f"{k} {v[0]}/{v[1]}" for k, v in table.items())
        bad = [m for m in misses if mark in m]
        rows.append(Row(f"locate: {title}", ok / max(total, 1), "= 1.0", ok == total, info, bad))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--misses", type=int, default=0, help="print up to N misses per row")
    parser.add_argument("--only", default="", help="run only rows whose name contains this")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    started = time.perf_counter()
    for name, run in MEASURES:
        if args.only in name:
            got = run(args.corpora)
            rows.extend(got if isinstance(got, list) else [got])
    width = max(len(r.name) for r in rows)
    print(f"{'measure':<{width}}  {'value':>7}  {'goal':<8}  ok   detail")
    for r in rows:
        ok = "yes" if r.passed else "NO "
        print(f"{r.name:<{width}}  {r.value:>7.4f}  {r.goal:<8}  {ok}  {r.detail}")
    print(f"({time.perf_counter() - started:.1f} s)")
    for r in rows:
        for miss in r.misses[: args.misses]:
            print(f"[{r.name}] {miss}")
    return 1 if args.check and not all(r.passed for r in rows) else 0


MEASURES: list[tuple[str, Callable[[Path], Row | list[Row]]]] = [
    ("numbers ar", lambda c: ntrex_numbers(c, "ar")),
    ("numbers fa", lambda c: ntrex_numbers(c, "fa")),
    ("spurious", spurious_numbers),
    ("dates", dates),
    ("locate", locate_conformance),
]

if __name__ == "__main__":
    raise SystemExit(main())
