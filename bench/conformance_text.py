"""Conformance of the text layer on every real article: language, strips, speed.

    python bench/conformance_text.py [--corpora DIR] [--dump FILE] [--repeat 3]

Runs ``normalize_text`` + ``clean_article`` + ``detect_language`` over every
article of every corpus in ``../shared/corpora`` (each ``*.jsonl`` record's
title and text, laid out as a ``.txt`` page is: title, blank line, text) and
prints, per corpus: articles, language accuracy against the corpus label (on
the page and on the title alone), lines stripped per kind, and the average
milliseconds per article for the three calls together (best of ``--repeat``
runs: the machine is shared, the minimum is the least disturbed figure).

``--dump FILE`` writes every stripped line as JSON Lines
(corpus, id, kind, text): the list to read by hand, since a stripped story
sentence is a bug (tests/test_text_boilerplate.py checks it against the
hand-checked list in tests/data/text/checked_strips.jsonl).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from khabar.core.text import clean_article, detect_language, normalize_text

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"


def page_of(record: dict[str, Any]) -> str:
    """The article as a ``.txt`` page holds it: the title, a blank line, the text."""
    title = (record.get("title") or "").strip()
    text = record.get("text") or ""
    if title and not text.lstrip().startswith(title):
        return f"{title}\n\n{text}"
    return text


def corpora(root: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(corpus name, records) for every ``*.jsonl`` under ``root``, in a stable order."""
    for path in sorted(root.rglob("*.jsonl")):
        name = path.parent.name if path.stem == "data" else f"{path.parent.name}/{path.stem}"
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        yield name, [r for r in records if r.get("text")]


def stripped_lines(record_id: str, corpus: str, page: str) -> list[dict[str, str]]:
    """Every stripped line of one page (a multi-line block gives one row per line)."""
    rows = []
    for block in clean_article(normalize_text(page)).stripped:
        for line in block.text.split("\n"):
            if line.strip():
                rows.append({"corpus": corpus, "id": record_id, "kind": block.kind, "text": line})
    return rows


def timed(pages: list[str], repeat: int) -> float:
    """Best-of-``repeat`` average milliseconds per page of the whole text layer."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        for page in pages:
            cleaned = clean_article(normalize_text(page))
            detect_language(cleaned.text)
        best = min(best, time.perf_counter() - t0)
    return 1000.0 * best / max(1, len(pages))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", type=Path, default=CORPORA, help=f"default: {CORPORA}")
    parser.add_argument("--dump", type=Path, help="write every stripped line here (JSON Lines)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (best is reported)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a goal is missed: language >= 0.98 per corpus (articles), every "
        "stripped line hand-checked (tests/data/text/checked_strips.jsonl), < 1 ms per article",
    )
    args = parser.parse_args(argv)
    if not args.corpora.is_dir():
        print(f"no corpora at {args.corpora}", file=sys.stderr)
        return 2

    header = f"| {'corpus':<38} | {'n':>4} | {'lang ok':>9} | {'title ok':>9} | {'ms/art':>6} | stripped |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    dump: list[dict[str, str]] = []
    missed: list[str] = []
    total_n = 0
    total_ms = 0.0
    all_kinds: Counter[str] = Counter()
    for name, records in corpora(args.corpora):
        pages = [page_of(r) for r in records]
        kinds: Counter[str] = Counter()
        ok = titled = title_ok = 0
        for record, page in zip(records, pages, strict=True):
            cleaned = clean_article(normalize_text(page))
            ok += detect_language(cleaned.text) == record.get("language")
            if record.get("title"):
                titled += 1
                title_ok += detect_language(record["title"]) == record.get("language")
            rows = stripped_lines(str(record["id"]), name, page)
            kinds.update(row["kind"] for row in rows)
            dump.extend(rows)
        ms = timed(pages, args.repeat)
        total_n += len(pages)
        total_ms += ms * len(pages)
        all_kinds.update(kinds)
        if ok < 0.98 * len(pages):
            missed.append(f"{name}: language right for {ok} of {len(pages)} articles (< 0.98)")
        strips = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-"
        title_cell = f"{title_ok}/{titled}" if titled else "-"
        print(
            f"| {name:<38} | {len(pages):>4} | {ok:>4}/{len(pages):<4} | {title_cell:>9} "
            f"| {ms:>6.3f} | {strips} |"
        )
    strips = ", ".join(f"{k} {v}" for k, v in sorted(all_kinds.items())) or "-"
    print(
        f"| {'all':<38} | {total_n:>4} | {'':>9} | {'':>9} | {total_ms / max(1, total_n):>6.3f} "
        f"| {strips} |"
    )
    average = total_ms / max(1, total_n)
    if average >= 1.0:
        missed.append(f"the text layer took {average:.3f} ms per article (goal < 1 ms)")
    checked_path = (
        Path(__file__).resolve().parents[1] / "tests" / "data" / "text" / "checked_strips.jsonl"
    )
    checked = {
        json.loads(line)["text"]
        for line in checked_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    unchecked = [row for row in dump if row["text"] not in checked]
    for row in unchecked[:10]:
        missed.append(
            f"stripped but never hand-checked ({row['corpus']} {row['id']}, {row['kind']}): {row['text'][:80]!r}"
        )
    if len(unchecked) > 10:
        missed.append(f"... and {len(unchecked) - 10} more stripped lines never hand-checked")
    print(
        f"\n{len(dump)} stripped lines, {len(dump) - len(unchecked)} of them in the hand-checked "
        f"list; {'every goal met' if not missed else 'goals missed:'}"
    )
    for line in missed:
        print(f"  - {line}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for row in dump:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{len(dump)} stripped lines written to {args.dump}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
