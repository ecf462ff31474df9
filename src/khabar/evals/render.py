"""Showing an :class:`~khabar.evals.report.EvalReport`: rich tables for the terminal, Markdown for CI.

Coverage comes first everywhere (``3/5 answered``): a mean over the articles a
model answered says little until one knows how many it did not. Then the
compact selection of :data:`TABLE_METRICS` per article, then every metric's
mean with its 95 % bootstrap interval and the number of articles it is over.
The Markdown adds what each article missed, got wrong or added.

:func:`outcome_lines` orders what ``khabar eval`` says after the table: stale
recordings first (they void the run), then failures, then at most a screenful
of regressions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from khabar.core.markdown import markdown_cell
from khabar.evals.metrics import ENTITY_FIELDS, LOWER_IS_BETTER, METRICS
from khabar.evals.report import OVERALL, EvalReport, Regression, format_metric

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "TABLE_METRICS",
    "format_ci",
    "outcome_lines",
    "render_markdown",
    "render_means",
    "render_table",
]

TABLE_METRICS: tuple[tuple[str, str], ...] = (
    ("entities_f1", "entities"),
    ("people_f1", "people"),
    ("organizations_f1", "orgs"),
    ("locations_f1", "places"),
    ("sources_f1", "sources"),
    ("numbers_acc", "numbers"),
    ("dates_iso_compatible", "dates"),
    ("quotes_r", "quotes"),
    ("quotes_speaker", "speaker"),
    ("key_fact_coverage", "key facts"),
    ("summary_en_chrf", "chrF en"),
    ("summary_en_faithful", "faithful"),
    ("grounding_rate", "grounded"),
    ("leakage", "leak ↓"),
)
"""The compact selection shown per article: (metric, header). Every metric is in the means table."""

MAX_REGRESSIONS = 12
"""Regression lines shown before the rest is summed up in one line (the JSON report has all)."""


def _title(report: EvalReport) -> str:
    how = "replayed recordings" if report.replay else "live run or scored digests"
    return f"khabar eval: {report.model} ({report.provider}, {how}) — {report.coverage()}"


def _rows(report: EvalReport) -> list[tuple[str, str, list[str]]]:
    rows = [
        (
            name,
            "no digest" if score.failed is not None else "yes",
            [format_metric(score.metrics.get(m)) for m, _ in TABLE_METRICS],
        )
        for name, score in sorted(report.articles.items())
    ]
    rows.append(
        (
            OVERALL,
            report.coverage(),
            [format_metric(report.overall.get(m)) for m, _ in TABLE_METRICS],
        )
    )
    return rows


def format_ci(ci: tuple[float, float] | None) -> str:
    """A confidence interval as shown: "[0.412, 0.778]", "—" when there is none."""
    return "—" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def render_table(report: EvalReport) -> Table:
    """The report as a rich table: coverage, then one row per article plus ``overall``.

    Example::

        >>> rich.console.Console().print(render_table(report))   # doctest: +SKIP
    """
    from rich.table import Table

    table = Table(
        title=_title(report),
        caption="A failed article scores 0 on every metric it could not produce. leak ↓: lower is better.",
    )
    table.add_column("article", no_wrap=True)
    table.add_column("answered", no_wrap=True)
    for _, header in TABLE_METRICS:
        table.add_column(header, justify="right")
    rows = _rows(report)
    for i, (name, answered, cells) in enumerate(rows):
        table.add_row(
            name,
            answered,
            *cells,
            end_section=i == len(rows) - 2,
            style="bold" if name == OVERALL else None,
        )
    return table


def _mean_rows(report: EvalReport) -> list[tuple[str, str, str, str]]:
    known = [m for m in METRICS if m in report.overall]
    known += sorted(m for m in report.overall if m not in known)
    return [
        (
            m + (" ↓" if m in LOWER_IS_BETTER else ""),
            format_metric(report.overall.get(m)),
            format_ci(report.ci.get(m)),
            str(report.n.get(m, 0)),
        )
        for m in known
    ]


def render_means(report: EvalReport) -> Table:
    """Every metric's mean over articles, its 95 % bootstrap interval and its n."""
    from rich.table import Table

    table = Table(title=f"means over articles — {report.coverage()}")
    for header, justify in (
        ("metric", "left"),
        ("mean", "right"),
        ("95% CI", "right"),
        ("n", "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in _mean_rows(report):
        table.add_row(*row)
    return table


_DETAIL_ORDER = (*ENTITY_FIELDS, "numbers", "dates", "quotes", "key_facts", "summary", "leakage")


def render_markdown(report: EvalReport) -> str:
    """The report in Markdown: coverage, the per-article table, the means with intervals, the details.

    Example::

        >>> Path("eval.md").write_text(render_markdown(report))   # doctest: +SKIP
    """
    lines = [f"# {markdown_cell(_title(report))}", "", f"**Coverage: {report.coverage()}.**", ""]
    headers = ["article", "answered", *(h for _, h in TABLE_METRICS)]
    lines.append("| " + " | ".join(markdown_cell(h) for h in headers) + " |")
    lines.append("|---|---|" + "---:|" * len(TABLE_METRICS))
    for name, answered, cells in _rows(report):
        shown = f"**{name}**" if name == OVERALL else markdown_cell(name)
        lines.append("| " + " | ".join([shown, answered, *cells]) + " |")
    lines += [
        "",
        "Higher is better, except leak (the share of facts taken from outside the main story). "
        "A failed article scores 0 on every metric it could not produce.",
        "",
        "## Means over articles",
        "",
        "| metric | mean | 95% CI | n |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {m} | {mean} | {ci} | {n} |" for m, mean, ci, n in _mean_rows(report)]
    if report.failed:
        lines += ["", "## Articles without a digest", ""]
        lines += [
            f"- {markdown_cell(name)}: {markdown_cell(reason)}"
            for name, reason in report.failed.items()
        ]
    lines += ["", "## Details", ""]
    for name, score in sorted(report.articles.items()):
        if score.failed is not None:
            continue
        lines.append(f"### {markdown_cell(name)}")
        lines.append("")
        fields = [f for f in _DETAIL_ORDER if f in score.details]
        fields += sorted(f for f in score.details if f not in _DETAIL_ORDER)
        problems = [(f, score.details[f]) for f in fields if not score.details[f].empty()]
        if not problems:
            lines += ["Nothing missed, extra or wrong.", ""]
            continue
        lines.append("| field | missed | extra | wrong |")
        lines.append("|---|---|---|---|")
        for field, detail in problems:
            cells = [
                "; ".join(markdown_cell(x) for x in items) or ""
                for items in (detail.missed, detail.extra, detail.wrong)
            ]
            lines.append(f"| {field} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def outcome_lines(
    errors: dict[str, str],
    failures: dict[str, str],
    regressions: list[Regression],
    *,
    limit: int = MAX_REGRESSIONS,
) -> list[str]:
    """What ``khabar eval`` prints after the table, most important first.

    Stale or missing recordings void the run, so they come first, with the
    re-record command once at the end of them; then the articles without a
    digest; then the regressions. While recordings are missing the
    regressions mostly follow from them: the lines of the articles concerned
    are left out and the rest is capped at ``limit`` lines.
    """
    out: list[str] = []
    commands: dict[str, None] = {}
    if errors:
        out.append(f"ERROR: the run is void: {len(errors)} article(s) could not be replayed or run")
        for article, message in errors.items():
            body = []
            for line in message.splitlines():
                if line.startswith("Re-record") or line.startswith("Record it"):
                    commands[line] = None
                else:
                    body.append(line)
            out.append(f"error: {article}: " + "\n  ".join(body))
        out += list(commands)
    for article, message in failures.items():
        out.append(f"no digest: {article}: {message}")
    shown = [r for r in regressions if r.article not in errors]
    hidden = len(regressions) - len(shown)
    if shown or hidden:
        out.append(f"regressions against the baseline ({len(regressions)}):")
        out += [f"  {r}" for r in shown[:limit]]
        if len(shown) > limit:
            out.append(f"  ... and {len(shown) - limit} more (write them all with --json)")
        if hidden:
            out.append(
                f"  ({hidden} more come from the articles that could not be replayed: fix the "
                "recordings first)"
            )
    return out
