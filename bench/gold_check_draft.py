"""Draft checker for the hand-written gold of ``evals/corpus`` (a helper for annotators).

Run from the repository root::

    .venv/bin/python bench/gold_check_draft.py [evals/corpus] [-v]

For every ``gold/<stem>.yaml`` it loads the gold with khabar's own loader, reads
``articles/<stem>.txt`` and cleans it the way the pipeline does
(``clean_article(normalize_text(text)).text``), then checks that every verbatim
field can be found where the pipeline will look for it:

* native-script aliases of main-story entities: ``contains(cleaned, alias)``, and at
  least one name of each entity in the cleaned text (a Latin-script name counts);
* number ``text``: ``locate(text, cleaned)``, and the text states ``value``;
* date ``text``: ``locate(text, cleaned)``; ``parse_date(text).iso`` is compared
  with the gold ISO (a disagreement is listed for a human to judge: the code or
  the annotation may be wrong);
* quote ``text_src``: ``locate(text_src, cleaned)`` and at least three words;
* ``not_main_story[].starts_with``: found in the normalized page; whether the
  cleaner removed it is reported (a block still in the cleaned text is a
  cleaner miss, not a gold error);
* ``leak`` names in native script: found in the page, and whether they survive
  cleaning (a leak name in the cleaned text means the cleaner kept other-story text);
* ``key_facts``: every keyword group is covered by the gold ``summary_en`` as the
  metrics match keywords (whole words, ``*`` stems, not negated: ``fact_covered``);
* the file says it was annotated by hand, and names its source and licence.

Errors (the gold is wrong) make the exit status 1; notes (the pipeline may be
wrong) are printed but do not fail. This is a draft helper; the project's
validator is ``khabar.evals.checkgold`` (``khabar eval check-gold``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from khabar.core.grounding import contains, locate, number_matches, parse_date
from khabar.core.text import clean_article, normalize_text
from khabar.errors import ConfigError
from khabar.evals.gold import load_gold
from khabar.evals.summaries import fact_covered

_ARABIC = re.compile("[\u0600-\u06ff]")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def _native(name: str) -> bool:
    return bool(_ARABIC.search(name))


def check(root: Path, verbose: bool = False) -> int:
    gold_dir, art_dir = root / "gold", root / "articles"
    n_err = n_note = 0
    files = sorted(gold_dir.glob("*.yaml"))
    for path in files:
        errors: list[str] = []
        notes: list[str] = []
        head = path.read_text(encoding="utf-8")
        try:
            gold = load_gold(path)
        except ConfigError as exc:
            print(f"{path.name}: ERROR {exc}")
            n_err += 1
            continue
        article = art_dir / gold.article
        if not article.is_file():
            print(f"{path.name}: ERROR article {article} missing")
            n_err += 1
            continue
        raw = normalize_text(article.read_text(encoding="utf-8"))
        cleaned = clean_article(raw).text
        lang = gold.language

        if "annotated by hand" not in head.lower():
            errors.append("header does not say the file was annotated by hand")
        for key in ("# source:", "# licence:"):
            if key not in head.lower():
                errors.append(f"header lacks '{key}'")

        for field in ("people", "organizations", "locations", "sources"):
            for ent in getattr(gold, field):
                natives = [a for a in ent.aliases if _native(a)]
                if not any(contains(cleaned, name) for name in ent.names()):
                    errors.append(f"{field} {ent.name_en}: no name or alias in the cleaned text")
                for alias in natives:
                    if not contains(cleaned, alias):
                        where = "only in the raw page" if contains(raw, alias) else "nowhere"
                        errors.append(
                            f"{field} {ent.name_en}: alias {alias!r} not in cleaned ({where})"
                        )
                if field == "locations" and ent.kind not in (
                    "country",
                    "city",
                    "region",
                    "continent",
                    "facility",
                    "other",
                ):
                    errors.append(f"location {ent.name_en}: kind {ent.kind!r}")

        for num in gold.numbers:
            if locate(num.text, cleaned) is None:
                errors.append(f"number {num.value}: text {num.text!r} not located")
            if not number_matches(num.value, num.text, lang):
                notes.append(f"number {num.value}: number_matches false for {num.text!r}")

        for date in gold.dates:
            if locate(date.text, cleaned) is None:
                errors.append(f"date {date.text!r} not located")
            parsed = parse_date(date.text).iso
            if parsed != date.iso:
                notes.append(f"date {date.text!r}: gold iso {date.iso!r}, parse_date {parsed!r}")

        for quote in gold.quotes:
            if locate(quote.text_src, cleaned) is None:
                errors.append(f"quote {quote.text_src[:40]!r} not located")
            if len(quote.text_src.split()) < 3:
                errors.append(f"quote {quote.text_src!r} shorter than three words")
            if not any(contains(cleaned, a) for a in quote.speaker_aliases if _native(a)):
                notes.append(f"quote speaker {quote.speaker_en}: no native alias in cleaned text")

        for block in gold.not_main_story:
            if locate(block.starts_with, raw) is None:
                errors.append(f"not_main_story {block.kind} {block.starts_with[:40]!r} not in page")
            elif locate(block.starts_with, cleaned) is not None:
                notes.append(f"cleaner kept {block.kind} block starting {block.starts_with[:50]!r}")

        leak = gold.leak
        for field in ("people", "organizations", "locations", "sources"):
            for name in getattr(leak, field):
                if not _native(name):
                    continue
                if not contains(raw, name):
                    errors.append(f"leak {field} {name!r} not in page")
                elif contains(cleaned, name):
                    notes.append(f"leak {field} {name!r} survives cleaning")
        for value in leak.numbers:
            if any(abs(value - g.value) <= 1e-6 * max(1, abs(value)) for g in gold.numbers):
                errors.append(f"leak number {value} is also a main-story number")

        for fact in gold.key_facts:
            for group in fact_covered(fact, gold.summary_en):
                errors.append(f"key fact {fact.text!r}: group {group} not covered by summary_en")
        n_sent = len(_SENT.split(gold.summary_en.strip()))
        if not 3 <= n_sent <= 5:
            notes.append(f"summary_en has {n_sent} sentences (3-5 wanted)")

        status = "ok" if not errors else "FAIL"
        print(f"{path.name}: {status} ({len(cleaned)} chars cleaned, {len(raw)} raw)")
        for e in errors:
            print(f"  ERROR {e}")
        for n in notes:
            print(f"  note  {n}")
        n_err += len(errors)
        n_note += len(notes)
    print(f"{len(files)} files, {n_err} errors, {n_note} notes")
    return 1 if n_err else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    sys.exit(check(Path(args[0] if args else "evals/corpus"), "-v" in sys.argv))
