"""Scoring digests that already exist: any JSONL ``khabar summarize`` wrote, without a model.

Each line of such a file is a record ``{"id", "source", "status", "digest" |
"error"}``; the latest record of an id wins (a resumed run appends), and a torn
last line from a killed run is skipped. A record belongs to the gold whose stem
is its id's file stem (``articles/000_x.txt`` -> ``000_x``) or, failing that,
its digest's ``article_id``. A gold article with no record, or whose record is
an error, is a failed article (scored 0); records without gold are listed in
the notes.

:func:`load_scored` reads either kind of input that ``khabar eval compare``
accepts: an eval report (JSON) or a digests file (JSONL).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import ValidationError

from khabar.core.digest import Digest
from khabar.errors import ConfigError
from khabar.evals.gold import describe_validation
from khabar.evals.metrics import ArticleScore, score_digest, score_failure
from khabar.evals.report import EvalReport, aggregate, load_report
from khabar.evals.sets import EvalItem

__all__ = ["is_report", "load_scored", "read_records", "score_records"]


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """The latest record of each id in a digests JSONL file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"digests file {path}: cannot be read: {exc}") from None
    latest: dict[str, dict[str, Any]] = {}
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines) or (number == len(lines) - 1 and not lines[-1]):
                continue  # the torn tail of a killed run
            raise ConfigError(f"digests file {path}, line {number}: not JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise ConfigError(f"digests file {path}, line {number}: not a khabar record (no id)")
        latest[record["id"]] = record
    return latest


def _stems(record: dict[str, Any]) -> list[str]:
    ident = record["id"]
    out = [ident, PurePosixPath(ident).stem, PureWindowsPath(ident).stem]
    digest = record.get("digest")
    if isinstance(digest, dict) and isinstance(digest.get("article_id"), str):
        out.append(PurePosixPath(digest["article_id"]).stem)
    return list(dict.fromkeys(out))


def _reason(record: dict[str, Any]) -> str:
    error = record.get("error")
    if isinstance(error, dict):
        return f"{error.get('reason', 'error')}: {error.get('message', '')}".strip()
    return f"status {record.get('status')!r} and no digest"


def score_records(
    path: Path, items: dict[str, EvalItem]
) -> tuple[dict[str, ArticleScore], list[str], str, str]:
    """Score every gold article against its record in ``path``: (scores, notes, model, provider)."""
    records = read_records(path)
    by_stem: dict[str, dict[str, Any]] = {}
    unmatched = []
    for rec in records.values():
        stem = next((s for s in _stems(rec) if s in items), None)
        if stem is None:
            unmatched.append(rec["id"])
        else:
            by_stem[stem] = rec
    scores: dict[str, ArticleScore] = {}
    models: Counter[tuple[str, str]] = Counter()
    for stem, item in items.items():
        record = by_stem.get(stem)
        if record is None:
            scores[stem] = score_failure(item.gold, f"no record in {path}")
            continue
        data = record.get("digest")
        if record.get("status") != "ok" or not isinstance(data, dict):
            scores[stem] = score_failure(item.gold, _reason(record))
            continue
        try:
            digest = Digest.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(
                f"digests file {path}: the digest of {record['id']} is not a khabar digest: "
                f"{describe_validation(exc)}"
            ) from None
        models[(digest.provenance.model, digest.provenance.provider)] += 1
        scores[stem] = score_digest(digest, item.gold)
    notes = []
    if unmatched:
        notes.append(
            f"{len(unmatched)} records of {path} have no gold: {', '.join(sorted(unmatched))}"
        )
    (model, provider), _ = models.most_common(1)[0] if models else (("unknown", "unknown"), 0)
    if len(models) > 1:
        notes.append(f"{path} mixes digests of {len(models)} models: {dict(models)}")
    return scores, notes, model, provider


def is_report(path: Path) -> bool:
    """True when ``path`` holds an eval report (one JSON object with ``overall``), not digests."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        data = json.loads(raw)
    except ValueError:
        return False  # JSONL: one record per line is not one JSON document
    return isinstance(data, dict) and "overall" in data and "articles" in data


def load_scored(path: Path, items: dict[str, EvalItem] | None) -> tuple[EvalReport, list[str]]:
    """An eval report read from ``path``, or made by scoring the digests ``path`` holds."""
    if is_report(path):
        return load_report(path), []
    if items is None:
        raise ConfigError(f"{path} is a digests file: scoring it needs the gold")
    scores, notes, model, provider = score_records(path, items)
    return aggregate(scores, model=model, provider=provider, replay=False), notes
