"""Benchmark workloads: real Arabic and Persian news articles.

From ``../shared/corpora`` when present (about 800 real articles from BBC
Arabic, Fars, Tasnim, Hamshahri, pn-summary, NTREX-128), otherwise the five
seed articles in ``evals/articles``. Articles are made unique with an index
line so that the duplicate detector does not collapse them.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"


def real_articles() -> list[tuple[str, str]]:
    """(id, text) of every real article available, in a stable order."""
    out: list[tuple[str, str]] = []
    if CORPORA.is_dir():
        for path in sorted(CORPORA.rglob("*.jsonl")):
            if "NOT_NEWS" in str(path):
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                if record.get("text"):
                    out.append((f"{path.parent.name}/{record['id']}", record["text"]))
    if not out:
        for path in sorted((REPO / "evals" / "articles").glob("*.txt")):
            out.append((path.stem, path.read_text(encoding="utf-8")))
    return out


def workload(n: int) -> list[tuple[str, str]]:
    """``n`` distinct articles (the real ones, cycled, each made unique)."""
    base = real_articles()
    items = []
    for i in range(n):
        article_id, text = base[i % len(base)]
        items.append((f"{i:05d}-{article_id}", f"{text}\n\n[{i}]"))
    return items


def write_jsonl(items: list[tuple[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for article_id, text in items:
            f.write(json.dumps({"id": article_id, "text": text}, ensure_ascii=False) + "\n")
    return path
