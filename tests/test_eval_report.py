"""Eval reports: fair means (a failure scores 0), intervals, the baseline gate, rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from khabar.core.digest import Digest, Person
from khabar.errors import ConfigError
from khabar.evals.gold import Gold
from khabar.evals.metrics import METRICS, ArticleScore, FieldDetail, score_digest, score_failure
from khabar.evals.render import outcome_lines, render_markdown, render_means, render_table
from khabar.evals.report import (
    DEFAULT_TOLERANCE,
    EvalReport,
    Regression,
    aggregate,
    compare,
    load_report,
    uncompared,
)

from .evalfixtures import GOLD_AR_YAML, GOLD_FA_YAML, digest_from_gold, gold_from_yaml

AR = "001_c7d2eb9492ec713f"
FA = "000_de612b54d8028aa2"


@pytest.fixture(scope="module")
def gold_ar() -> Gold:
    return gold_from_yaml(GOLD_AR_YAML)


@pytest.fixture(scope="module")
def gold_fa() -> Gold:
    return gold_from_yaml(GOLD_FA_YAML)


@pytest.fixture(scope="module")
def report(gold_ar: Gold, gold_fa: Gold) -> EvalReport:
    scores = {
        AR: score_digest(digest_from_gold(gold_ar), gold_ar),
        FA: score_digest(digest_from_gold(gold_fa), gold_fa),
    }
    scores[AR].metrics["people_f1"] = 0.8
    scores[FA].metrics["people_f1"] = 0.6
    return aggregate(scores, model="test-model", provider="test", replay=True)


def with_metric(report: EvalReport, article: str, metric: str, value: float | None) -> EvalReport:
    scores = {name: s.model_copy(deep=True) for name, s in report.articles.items()}
    scores[article].metrics[metric] = value
    return aggregate(scores, model=report.model, provider=report.provider, replay=report.replay)


def with_failure(report: EvalReport, article: str, gold: Gold, reason: str) -> EvalReport:
    scores = {name: s.model_copy(deep=True) for name, s in report.articles.items()}
    scores[article] = score_failure(gold, reason)
    return aggregate(scores, model=report.model, provider=report.provider, replay=report.replay)


# --- fair aggregation ---------------------------------------------------------------------------


def test_aggregate_means_skip_none(report: EvalReport) -> None:
    assert report.overall["people_f1"] == pytest.approx(0.7)
    assert report.overall["leakage"] == 0.0
    lonely = with_metric(report, FA, "quotes_speaker", None)
    assert lonely.overall["quotes_speaker"] == 1.0
    assert lonely.n["quotes_speaker"] == 1
    nobody = with_metric(lonely, AR, "quotes_speaker", None)
    assert nobody.overall["quotes_speaker"] is None
    assert nobody.ci["quotes_speaker"] is None


def test_a_failed_article_scores_zero_not_nothing(report: EvalReport, gold_fa: Gold) -> None:
    failed = with_failure(report, FA, gold_fa, "invalid_output: cut off mid-JSON")
    assert failed.coverage() == "1/2 answered"
    assert failed.overall["answered"] == 0.5
    assert failed.failed == {FA: "invalid_output: cut off mid-JSON"}
    # The failure pulls every applicable mean down instead of vanishing from it ...
    assert failed.overall["people_f1"] == pytest.approx(0.8 / 2)
    assert failed.overall["key_fact_coverage"] == pytest.approx(0.5)
    assert failed.n["key_fact_coverage"] == 2
    # ... a produced share is not flattered by a digest that produced nothing ...
    assert failed.articles[FA].metrics["leakage"] is None
    assert failed.n["leakage"] == 1
    # ... and what the gold makes inapplicable stays so (the fa gold has no roles).
    assert failed.articles[FA].metrics["people_role"] is None


def test_intervals_are_seeded_and_hold_the_mean(gold_ar: Gold) -> None:
    base = score_digest(digest_from_gold(gold_ar), gold_ar)
    scores = {}
    for i in range(12):
        s = base.model_copy(deep=True)
        s.metrics["people_f1"] = (i % 4) / 4
        scores[f"a{i:02d}"] = s
    one = aggregate(scores, model="m", provider="p", replay=False)
    again = aggregate(scores, model="m", provider="p", replay=False)
    assert one.ci == again.ci
    low, high = one.ci["people_f1"] or (0, 0)
    assert low < one.overall["people_f1"] < high  # type: ignore[operator]
    assert one.ci["answered"] == (1.0, 1.0)
    # Fewer resamples from another seed: a different, still sensible interval.
    other = aggregate(scores, model="m", provider="p", replay=False, resamples=500, seed=7)
    assert other.ci["people_f1"] != one.ci["people_f1"]


# --- the baseline gate --------------------------------------------------------------------------


def test_identical_reports_have_no_regressions(report: EvalReport) -> None:
    assert compare(report, report) == []


def test_a_drop_beyond_tolerance_is_a_regression(report: EvalReport) -> None:
    worse = with_metric(report, AR, "people_f1", 0.6)
    regressions = compare(worse, report)
    assert [(r.article, r.metric) for r in regressions] == [
        (AR, "people_f1"),
        ("overall", "people_f1"),
    ]
    assert str(regressions[0]) == f"{AR}: people_f1 fell from 0.800 to 0.600 (tolerance 0.02)"
    assert regressions[0].tolerance == DEFAULT_TOLERANCE


def test_a_drop_within_tolerance_is_not(report: EvalReport) -> None:
    assert compare(with_metric(report, AR, "people_f1", 0.79), report) == []
    # Exactly the tolerance, which floats make 0.0200000000000001.
    assert compare(with_metric(report, AR, "people_f1", 0.78), report) == []
    assert compare(with_metric(report, AR, "people_f1", 0.5), report, {"people_f1": 0.5}) == []


def test_improvements_are_not_regressions(report: EvalReport) -> None:
    assert compare(with_metric(report, AR, "people_f1", 1.0), report) == []
    assert compare(report, with_metric(report, AR, "leakage", 0.5)) == []


def test_a_leakage_rise_is_a_regression(report: EvalReport) -> None:
    leaky = with_metric(report, FA, "leakage", 0.1)
    regressions = compare(leaky, report)
    assert [(r.article, r.metric) for r in regressions] == [(FA, "leakage"), ("overall", "leakage")]
    assert str(regressions[0]) == f"{FA}: leakage rose from 0.000 to 0.100 (tolerance 0.02)"


def test_a_new_failure_is_one_regression_not_thirty(report: EvalReport, gold_fa: Gold) -> None:
    failed = with_failure(report, FA, gold_fa, "invalid_output: cut off")
    regressions = compare(failed, report)
    per_article = [r for r in regressions if r.article == FA]
    assert len(per_article) == 1
    assert str(per_article[0]) == (
        f"{FA}: no digest now, it had one in the baseline: invalid_output: cut off"
    )
    # The means fall with it: those are regressions of the run, listed under overall.
    assert ("overall", "answered") in [(r.article, r.metric) for r in regressions]
    # Failing in the baseline too: nothing was lost, whatever the means say.
    assert [r for r in compare(failed, failed) if r.article == FA] == []
    # Answering where the baseline failed is an improvement, never a regression.
    assert compare(report, failed) == []


def test_missing_metrics_are_regressions(report: EvalReport) -> None:
    regressions = compare(with_metric(report, AR, "numbers_acc", None), report)
    assert [(r.article, r.metric, r.current) for r in regressions] == [(AR, "numbers_acc", None)]
    assert "numbers_acc is missing" in str(regressions[0])
    # None in the baseline too: nothing was lost.
    both = with_metric(report, AR, "numbers_acc", None)
    assert compare(both, both) == []


def test_a_subset_run_is_gated_like_for_like(report: EvalReport) -> None:
    # The fa article alone against a baseline of both: its own means, not the pair's.
    fewer = aggregate({FA: report.articles[FA]}, model="m", provider="p", replay=True)
    assert fewer.overall["people_f1"] == 0.6 < report.overall["people_f1"]  # type: ignore[operator]
    assert compare(fewer, report) == []
    assert uncompared(fewer, report) == [AR]
    # A drop inside the subset is still a regression, per article and overall.
    worse = aggregate(
        {FA: with_metric(report, FA, "people_f1", 0.3).articles[FA]},
        model="m",
        provider="p",
        replay=True,
    )
    assert [(r.article, r.metric) for r in compare(worse, report)] == [
        (FA, "people_f1"),
        ("overall", "people_f1"),
    ]


def test_regression_is_a_dataclass() -> None:
    reg = Regression("a", "people_f1", 0.8, 0.6, 0.02)
    assert reg == Regression(
        article="a", metric="people_f1", baseline=0.8, current=0.6, tolerance=0.02
    )


# --- JSON -------------------------------------------------------------------------------------


def test_report_json_round_trips(tmp_path: Path, report: EvalReport, gold_fa: Gold) -> None:
    report = with_failure(report, FA, gold_fa, "no recording")
    text = report.to_json()
    assert text == report.to_json()
    data = json.loads(text)
    assert list(data["overall"]) == list(METRICS)
    assert data["coverage"] == {"answered": 1, "articles": 2}
    assert data["articles"][FA]["failed"] == "no recording"
    assert list(data["articles"]) == sorted(data["articles"])
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    loaded = load_report(path)
    assert loaded == report
    assert compare(loaded, report) == []


def test_report_json_keeps_arabic_readable(gold_ar: Gold) -> None:
    score = score_digest(digest_from_gold(gold_ar), gold_ar)
    score.details["people"].missed = ["جو بايدن"]
    text = aggregate({AR: score}, model="m", provider="p", replay=False).to_json()
    assert "جو بايدن" in text


def test_load_report_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"r\.json"):
        load_report(path)
    path.write_text('{"model": "m"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="provider"):
        load_report(path)
    with pytest.raises(ConfigError):
        load_report(tmp_path / "absent.json")


# --- rendering --------------------------------------------------------------------------------


def rendered(table: object, width: int = 250) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(table)
    return console.export_text()


def test_render_table_shows_coverage_first(report: EvalReport, gold_fa: Gold) -> None:
    report = with_metric(report, AR, "quotes_speaker", None)
    text = rendered(render_table(with_failure(report, FA, gold_fa, "cut off")))
    assert "test-model" in text and "replay" in text
    title = text.splitlines()[0]
    assert "1/2 answered" in title
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 5}
    assert set(rows) >= {AR, FA, "overall"}
    assert "no digest" in rows[FA] and "1/2 answered" in rows["overall"]
    assert "0.80" in rows[AR] and "0.000" in rows[FA]


def test_render_means_has_every_metric_with_its_interval(report: EvalReport) -> None:
    text = rendered(render_means(report))
    for metric in METRICS:
        assert metric in text
    line = next(row for row in text.splitlines() if "people_f1" in row)
    assert "0.700" in line and "[0.600, 0.800]" in line


def test_render_markdown_lists_mistakes_and_escapes_pipes(gold_ar: Gold) -> None:
    digest: Digest = digest_from_gold(gold_ar)
    digest.people = [p for p in digest.people if p.name_en != "Joe Biden"]
    digest.people.append(Person(name_en="A | B", name_src="A | B", evidence="x"))
    digest.quotes[0].speaker_en = "Joe Biden"
    score = score_digest(digest, gold_ar)
    md = render_markdown(aggregate({AR: score}, model="m|x", provider="p", replay=False))
    assert "m\\|x" in md and "live" in md and "**Coverage: 1/1 answered.**" in md
    table = [line for line in md.splitlines() if line.startswith(f"| {AR}")]
    assert len(table) == 1 and table[0].count("|") == 17
    people = next(line for line in md.splitlines() if line.startswith("| people |"))
    assert "Joe Biden" in people and "A \\| B" in people
    assert people.replace("\\|", "").count("|") == 5
    quotes = next(line for line in md.splitlines() if line.startswith("| quotes |"))
    assert "speaker Joe Biden, expected Volodymyr Zelensky" in quotes
    assert "| people_f1 | 0.500 |" in md  # the means table: one of two found, one of two right


def test_render_markdown_says_when_nothing_was_wrong(report: EvalReport) -> None:
    md = render_markdown(report)
    assert md.count("Nothing missed") == 2
    assert "| **overall** |" in md


def test_field_detail_defaults() -> None:
    assert FieldDetail().empty()
    assert not FieldDetail(wrong=["x"]).empty()


def test_outcome_puts_stale_recordings_first_and_caps_regressions() -> None:
    regressions = [Regression(f"a{i}", "people_f1", 0.9, 0.1, 0.02) for i in range(30)]
    regressions += [Regression("stale", "answered", 1.0, 0.0, 0.0, note="error: no recording")]
    lines = outcome_lines(
        {"stale": "no recording for this request (key abc)\n  model: 'a' -> 'b'\nRe-record: `cmd`"},
        {"a1": "invalid_output: cut off"},
        regressions,
        limit=5,
    )
    assert lines[0].startswith("ERROR: the run is void")
    assert lines[1].startswith("error: stale: no recording") and "model: 'a' -> 'b'" in lines[1]
    assert lines[2] == "Re-record: `cmd`"  # once, after the errors
    assert lines[3] == "no digest: a1: invalid_output: cut off"
    assert lines[4] == "regressions against the baseline (31):"
    assert len([line for line in lines if "people_f1 fell" in line]) == 5
    assert "... and 25 more" in lines[-2]
    assert "1 more come from the articles that could not be replayed" in lines[-1]
    assert not any(line.startswith("  stale:") for line in lines)


def test_outcome_without_errors_is_only_regressions() -> None:
    reg = Regression("a", "people_f1", 0.9, 0.1, 0.02)
    assert outcome_lines({}, {}, [reg]) == [
        "regressions against the baseline (1):",
        f"  {reg}",
    ]
    assert outcome_lines({}, {}, []) == []


def test_article_score_failed_defaults_to_none() -> None:
    assert ArticleScore(metrics={}).failed is None
