"""Scoring digests without a model (--digests) and choosing between two runs (compare A B)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from khabar.core.digest import Digest
from khabar.errors import ConfigError
from khabar.evals.digests import is_report, read_records
from khabar.evals.harness import score_digests
from khabar.evals.report import load_report
from khabar.evals.versus import (
    compare_paths,
    compare_reports,
    render_comparison,
    render_comparison_markdown,
)

from .evalfixtures import SEED_GOLD, digest_from_gold, seed_golds

GOLDS = seed_golds()
STEMS = sorted(GOLDS)


def record(stem: str, digest: Digest | None, error: str | None = None) -> dict[str, object]:
    """A record as `khabar summarize -o` writes it."""
    out: dict[str, object] = {"id": f"evals/articles/{stem}.txt", "source": f"{stem}.txt"}
    if digest is None:
        out.update(status="error", error={"reason": "invalid_output", "message": error or "cut"})
    else:
        out.update(status="ok", digest=digest.model_dump(mode="json"))
    return out


def write_jsonl(path: Path, records: list[dict[str, object]], tail: str = "") -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + tail,
        encoding="utf-8",
    )
    return path


def perfect(stem: str) -> Digest:
    return digest_from_gold(GOLDS[stem])


def worse(stem: str) -> Digest:
    """A digest that lost half its people and every quote's speaker."""
    d = perfect(stem)
    d.people = d.people[::2]
    for q in d.quotes:
        q.speaker_en = "someone"
    return d


def test_scoring_a_digests_file(tmp_path: Path) -> None:
    records = [record(s, perfect(s)) for s in STEMS[:3]]
    records.append(record(STEMS[3], None, "cut off mid-JSON"))
    records.append({"id": "elsewhere/x.txt", "source": "x", "status": "ok", "digest": None})
    path = write_jsonl(tmp_path / "out.jsonl", records, tail='{"id": "torn')
    run = score_digests(path, [SEED_GOLD])
    report = run.report
    assert report.coverage() == "3/5 answered"
    assert report.failed[STEMS[3]] == "invalid_output: cut off mid-JSON"
    assert report.failed[STEMS[4]] == f"no record in {path}"
    assert report.articles[STEMS[0]].metrics["people_f1"] == 1.0
    assert report.overall["answered"] == pytest.approx(0.6)
    assert any("have no gold: elsewhere/x.txt" in n for n in run.notes)
    assert report.model == "test-model"


def test_a_resumed_file_counts_the_latest_record(tmp_path: Path) -> None:
    stem = STEMS[0]
    path = write_jsonl(tmp_path / "out.jsonl", [record(stem, None), record(stem, perfect(stem))])
    assert read_records(path)[f"evals/articles/{stem}.txt"]["status"] == "ok"
    assert score_digests(path, [SEED_GOLD]).report.articles[stem].failed is None


def test_a_digests_file_is_checked_against_the_baseline(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "a.jsonl", [record(s, perfect(s)) for s in STEMS])
    bad = write_jsonl(tmp_path / "b.jsonl", [record(s, worse(s)) for s in STEMS])
    baseline = tmp_path / "baseline.json"
    baseline.write_text(score_digests(good, [SEED_GOLD]).report.to_json(), encoding="utf-8")
    run = score_digests(bad, [SEED_GOLD], baseline=baseline)
    assert ("overall", "people_r") in [(r.article, r.metric) for r in run.regressions]
    assert score_digests(good, [SEED_GOLD], baseline=baseline).regressions == []


def test_garbage_is_not_a_digests_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("not json\n{}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        read_records(path)


def test_compare_finds_the_better_run_and_the_articles_behind_it(tmp_path: Path) -> None:
    a = score_digests(
        write_jsonl(tmp_path / "a.jsonl", [record(s, perfect(s)) for s in STEMS]), [SEED_GOLD]
    ).report
    b_records = [record(s, worse(s)) for s in STEMS[:4]] + [record(STEMS[4], None)]
    b = score_digests(write_jsonl(tmp_path / "b.jsonl", b_records), [SEED_GOLD]).report
    cmp = compare_reports(a, b)
    by_metric = {m.metric: m for m in cmp.metrics}
    people = by_metric["people_r"]
    assert people.n == 5 and people.diff is not None and people.diff < -0.3
    assert people.ci is not None and people.ci[1] < 0
    assert people.verdict == "A better"
    assert by_metric["quotes_speaker"].verdict == "A better"
    # Numbers were never touched in the answered articles; the failure costs them all the same.
    assert by_metric["numbers_acc"].diff == pytest.approx(-1 / 5)
    # One failure in five: a real loss, but five articles cannot tell it from luck.
    assert by_metric["answered"].verdict == "no clear difference"
    failed = next(d for d in cmp.articles if d.article == STEMS[4])
    assert failed.note == "A: answered, B: no digest"
    # An identical run: every difference is 0 and nothing is "better".
    same = compare_reports(a, a)
    assert all(m.diff in (0.0, None) for m in same.metrics)
    assert {m.verdict for m in same.metrics} <= {"no clear difference", "—"}
    assert same.articles == []


def test_lower_is_better_flips_the_verdict(tmp_path: Path) -> None:
    leaky = []
    for s in STEMS:
        d = perfect(s)
        if GOLDS[s].leak.numbers:
            d.numbers += [
                d.numbers[0].model_copy(update={"value": v}) for v in GOLDS[s].leak.numbers
            ]
        leaky.append(record(s, d))
    a = score_digests(
        write_jsonl(tmp_path / "a.jsonl", [record(s, perfect(s)) for s in STEMS]), [SEED_GOLD]
    ).report
    b = score_digests(write_jsonl(tmp_path / "b.jsonl", leaky), [SEED_GOLD]).report
    leakage = next(m for m in compare_reports(a, b).metrics if m.metric == "leakage")
    assert leakage.diff is not None and leakage.diff > 0
    # Three of five articles leak: a resample of only the two clean ones has odds
    # 0.4**5 = 1 %, under the 2.5 % tail, so the interval excludes 0.
    assert leakage.ci is not None and leakage.ci[0] > 0
    assert leakage.verdict == "A better"  # B leaked more: lower is better
    assert compare_reports(b, a).metrics[-1].metric == "leakage"


def test_compare_paths_mixes_a_report_and_a_digests_file(tmp_path: Path) -> None:
    digests = write_jsonl(tmp_path / "b.jsonl", [record(s, worse(s)) for s in STEMS])
    report_path = tmp_path / "a.json"
    report_path.write_text(
        score_digests(
            write_jsonl(tmp_path / "a.jsonl", [record(s, perfect(s)) for s in STEMS]), [SEED_GOLD]
        ).report.to_json(),
        encoding="utf-8",
    )
    assert is_report(report_path) and not is_report(digests)
    cmp, _ = compare_paths(report_path, digests, gold=[SEED_GOLD])
    assert cmp.a == load_report(report_path)
    assert cmp.a_name == str(report_path)
    head, table, per_article = render_comparison(cmp)
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    console.print(per_article)
    text = console.export_text()
    assert "people_r" in text and "A better" in text
    assert head[0].startswith("A = ") and "5/5 answered" in head[0]
    md = render_comparison_markdown(cmp)
    assert "| people_r |" in md and "## Per article" in md
