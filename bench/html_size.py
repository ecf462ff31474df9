"""Size and render time of the HTML report (issue #14: small enough to mail for 100 articles).

    python bench/html_size.py [--articles 100] [--out /tmp/khabar-html]

Two batches, both rendered with ``render_html`` and ``write_html``:

* **real text, synthetic digests**: the first N real articles of
  ``tests/data/corpus_sample.jsonl`` through ``khabar summarize`` against the
  fake server (its SYNTHETIC responder: one number, two cited sentences per
  article, not a model);
* **rich digests**: the HAND-WRITTEN Arabic and Persian digests of the tests
  (every fact kind, overlaps, drops, stripped blocks) cycled to N: closer to
  what a capable model returns, per article.

Prints a Markdown table: bytes, bytes per article, gzip size, render time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def real_records(n: int, tmp: Path) -> list[dict[str, Any]]:
    from click.testing import CliRunner

    from khabar.cli import cli
    from khabar.testing import FakeOpenAI

    lines = (
        (REPO / "tests" / "data" / "corpus_sample.jsonl").read_text(encoding="utf-8").splitlines()
    )
    source = tmp / "articles.jsonl"
    source.write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
    out = tmp / "out.jsonl"
    with FakeOpenAI() as server:
        env = {
            "KHABAR_MODEL": "synthetic-echo",
            "KHABAR_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-bench",
            "KHABAR_CACHE_DIR": str(tmp / "cache"),
            "KHABAR_HOME": str(tmp / "home"),
        }
        args = ["summarize", str(source), "-o", str(out), "--no-progress", "-c", "8"]
        CliRunner().invoke(cli, args, env=env)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def rich_records(n: int, tmp: Path) -> list[dict[str, Any]]:
    os.environ["KHABAR_HOME"] = str(tmp / "home")
    from tests.test_html import by_id, seed_records, with_id

    seeds = seed_records(tmp)
    rich = [by_id(seeds, "003-hand"), by_id(seeds, "000-hand")]
    return [with_id(rich[i % 2], f"article-{i:04d}") for i in range(n)]


def measure(name: str, records: list[dict[str, Any]], out: Path) -> str:
    from khabar.batch.html import render_html, write_html

    start = time.perf_counter()
    page = render_html(records, title=name).encode("utf-8")
    seconds = time.perf_counter() - start
    one = out / f"{name.split()[0]}.html"
    one.write_bytes(page)
    start = time.perf_counter()
    written = write_html(records, out / f"{name.split()[0]}-split.html", per_article_threshold=0)
    split_seconds = time.perf_counter() - start
    per_page = sum(p.stat().st_size for p in written[1:]) / max(1, len(written) - 1)
    return (
        f"| {name} | {len(records)} | {len(page):,} | {len(page) // len(records):,} | "
        f"{len(gzip.compress(page)):,} | {seconds:.2f} s | {per_page:,.0f} | {split_seconds:.2f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = args.out or tmp / "html"
        out.mkdir(parents=True, exist_ok=True)
        rows = [
            measure("real text, synthetic digests", real_records(args.articles, tmp), out),
            measure("rich hand-written digests", rich_records(args.articles, tmp / "rich"), out),
        ]
    print(
        "| batch | articles | one page, bytes | bytes / article | gzip | render | "
        "split: bytes / article page | split: write |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
