"""Choosing between two models: ``khabar eval compare A B``.

Both runs are scored on the same gold. For each metric, :func:`compare_reports`
pairs the articles both runs have a value for, takes the per-article
differences (B - A), their mean, and the 95 % paired-bootstrap interval of
that mean (:mod:`khabar.evals.stats`). When the interval excludes 0 the
difference is unlikely to be luck of the article draw, and the table says
which run is better (for ``leakage`` and ``quotes_scare``, lower is better).
A failed article scores 0 in either run (:func:`~khabar.evals.metrics.score_failure`),
so a model that fails more loses there, and ``answered`` shows it first.

Per article, the metrics that moved by at least ``threshold`` are listed,
so a mean difference can be traced to the articles that make it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from khabar.core.markdown import markdown_cell
from khabar.evals.digests import is_report, load_scored
from khabar.evals.metrics import LOWER_IS_BETTER, METRICS
from khabar.evals.render import format_ci
from khabar.evals.report import EvalReport, format_metric, metric_values
from khabar.evals.sets import default_gold_dirs, load_eval_set
from khabar.evals.stats import RESAMPLES, SEED, bootstrap_ci, mean, paired

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "ArticleDiff",
    "Comparison",
    "MetricDiff",
    "compare_paths",
    "compare_reports",
    "render_comparison",
    "render_comparison_markdown",
]

THRESHOLD = 0.05
"""A per-article change smaller than this is not listed (the means table still counts it)."""


@dataclass(frozen=True)
class MetricDiff:
    """One metric of two runs over the articles both have it for."""

    metric: str
    a: float | None
    b: float | None
    diff: float | None
    ci: tuple[float, float] | None
    n: int

    @property
    def verdict(self) -> str:
        """ "A better", "B better", or "no clear difference" (the interval holds 0)."""
        if self.diff is None or self.ci is None:
            return "—"
        low, high = self.ci
        if low <= 0 <= high:
            return "no clear difference"
        b_higher = low > 0
        b_better = b_higher != (self.metric in LOWER_IS_BETTER)
        return "B better" if b_better else "A better"


@dataclass(frozen=True)
class ArticleDiff:
    """The metrics of one article that moved between the runs by at least the threshold."""

    article: str
    changes: list[tuple[str, float | None, float | None]]
    note: str = ""


@dataclass
class Comparison:
    """Two eval reports side by side."""

    a_name: str
    b_name: str
    a: EvalReport
    b: EvalReport
    metrics: list[MetricDiff] = field(default_factory=list)
    articles: list[ArticleDiff] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)


def _status(report: EvalReport, article: str) -> str:
    score = report.articles.get(article)
    return "no digest" if score is None or score.failed is not None else "answered"


def compare_reports(
    a: EvalReport,
    b: EvalReport,
    *,
    a_name: str = "A",
    b_name: str = "B",
    resamples: int = RESAMPLES,
    seed: int = SEED,
    threshold: float = THRESHOLD,
) -> Comparison:
    """Compare two runs metric by metric (paired over articles) and article by article.

    Example::

        >>> cmp = compare_reports(load_report(Path("a.json")), load_report(Path("b.json")))  # doctest: +SKIP
        >>> [(m.metric, m.diff, m.verdict) for m in cmp.metrics][:1]   # doctest: +SKIP
        [('answered', 0.2, 'no clear difference')]
    """
    common = sorted(set(a.articles) & set(b.articles))
    out = Comparison(
        a_name,
        b_name,
        a,
        b,
        only_a=sorted(set(a.articles) - set(b.articles)),
        only_b=sorted(set(b.articles) - set(a.articles)),
    )
    names = [m for m in METRICS if m in a.overall or m in b.overall]
    names += sorted((set(a.overall) | set(b.overall)) - set(names))
    for metric in names:
        xs, ys = paired(metric_values(a, metric, common), metric_values(b, metric, common))
        diffs = [y - x for x, y in zip(xs, ys, strict=True)]
        out.metrics.append(
            MetricDiff(
                metric,
                mean(xs),
                mean(ys),
                mean(diffs),
                bootstrap_ci(diffs, resamples=resamples, seed=seed),
                len(diffs),
            )
        )
    for article in common:
        sa, sb = a.articles[article], b.articles[article]
        changes = []
        for metric in names:
            x, y = sa.metrics.get(metric), sb.metrics.get(metric)
            if x is None and y is None:
                continue
            if x is None or y is None or abs(y - x) >= threshold:
                changes.append((metric, x, y))
        status_a, status_b = _status(a, article), _status(b, article)
        note = "" if status_a == status_b else f"{a_name}: {status_a}, {b_name}: {status_b}"
        if changes or note:
            out.articles.append(ArticleDiff(article, changes, note))
    return out


def compare_paths(
    a: Path,
    b: Path,
    *,
    gold: Sequence[Path] = (),
    articles: Path | None = None,
) -> tuple[Comparison, list[str]]:
    """``khabar eval compare A B``: each of A and B an eval report (JSON) or a digests JSONL.

    Digest files are scored against ``gold`` (default: the seeds and the corpus);
    two reports need no gold. Returns the comparison and notes for the user.

    Example::

        >>> cmp, notes = compare_paths(Path("qwen.jsonl"), Path("gpt.jsonl"))   # doctest: +SKIP
    """
    notes: list[str] = []
    items = None
    if not (is_report(a) and is_report(b)):
        items, notes = load_eval_set(list(gold) or default_gold_dirs(), articles)
    report_a, more_a = load_scored(a, items)
    report_b, more_b = load_scored(b, items)
    return compare_reports(report_a, report_b, a_name=str(a), b_name=str(b)), [
        *notes,
        *more_a,
        *more_b,
    ]


def _diff(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _rows(cmp: Comparison) -> list[list[str]]:
    return [
        [
            m.metric + (" ↓" if m.metric in LOWER_IS_BETTER else ""),
            format_metric(m.a),
            format_metric(m.b),
            _diff(m.diff),
            format_ci(m.ci),
            str(m.n),
            m.verdict,
        ]
        for m in cmp.metrics
    ]


def _headline(cmp: Comparison) -> list[str]:
    lines = [
        f"A = {cmp.a_name}: {cmp.a.model} ({cmp.a.provider}), {cmp.a.coverage()}",
        f"B = {cmp.b_name}: {cmp.b.model} ({cmp.b.provider}), {cmp.b.coverage()}",
    ]
    if cmp.only_a or cmp.only_b:
        lines.append(
            f"not compared: {len(cmp.only_a)} articles only in A, {len(cmp.only_b)} only in B"
        )
    return lines


_HEADERS = ("metric", "A", "B", "B - A", "95% CI (paired)", "n", "verdict")


def render_comparison(cmp: Comparison) -> tuple[list[str], Table, Table]:
    """The comparison for a terminal: headline lines, the metric table, the per-article table."""
    from rich.table import Table

    table = Table(
        title="paired over articles (a failed article scores 0)",
        caption="↓: lower is better. The interval is the paired bootstrap of the mean difference.",
    )
    for i, header in enumerate(_HEADERS):
        table.add_column(header, justify="left" if i in (0, 6) else "right")
    for row in _rows(cmp):
        table.add_row(*row)
    per_article = Table(title=f"per article: metrics that moved by {THRESHOLD:g} or more")
    for header in ("article", "metric", "A", "B", "B - A"):
        per_article.add_column(
            header, justify="left" if header in ("article", "metric") else "right"
        )
    for diff in cmp.articles:
        if diff.note:
            per_article.add_row(diff.article, diff.note, "", "", "")
        for metric, x, y in diff.changes:
            delta = None if x is None or y is None else y - x
            per_article.add_row(
                diff.article, metric, format_metric(x), format_metric(y), _diff(delta)
            )
    return _headline(cmp), table, per_article


def render_comparison_markdown(cmp: Comparison) -> str:
    """The comparison in Markdown (for a pull request or a decision record)."""
    lines = ["# khabar eval compare", "", *(f"- {markdown_cell(h)}" for h in _headline(cmp)), ""]
    lines.append("| " + " | ".join(_HEADERS) + " |")
    lines.append("|---|" + "---:|" * 5 + "---|")
    lines += ["| " + " | ".join(row) + " |" for row in _rows(cmp)]
    lines += ["", f"## Per article (changes of {THRESHOLD:g} or more)", ""]
    if not cmp.articles:
        lines.append("No article moved.")
    for diff in cmp.articles:
        moved = ", ".join(
            f"{m} {format_metric(x)} → {format_metric(y)}" for m, x, y in diff.changes
        )
        note = f" ({markdown_cell(diff.note)})" if diff.note else ""
        lines.append(f"- **{markdown_cell(diff.article)}**{note}: {moved or 'nothing else'}")
    return "\n".join(lines) + "\n"
