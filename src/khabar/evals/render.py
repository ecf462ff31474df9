"""Showing an :class:`~khabar.evals.report.EvalReport`: a rich table for the terminal, Markdown for CI.

Both show the compact selection of :data:`TABLE_METRICS`, one row per article
plus the ``overall`` means; the Markdown adds what each article missed, got
wrong or added (the :class:`~khabar.evals.metrics.FieldDetail` of each field).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from khabar.core.markdown import markdown_cell
from khabar.evals.metrics import ENTITY_FIELDS
from khabar.evals.report import OVERALL, EvalReport, format_metric

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["TABLE_METRICS", "render_markdown", "render_table"]

TABLE_METRICS: tuple[tuple[str, str], ...] = (
    ("people_f1", "people"),
    ("organizations_f1", "orgs"),
    ("locations_f1", "places"),
    ("sources_f1", "sources"),
    ("numbers_acc", "numbers"),
    ("dates_iso_acc", "dates"),
    ("quotes_verbatim", "quotes"),
    ("quotes_speaker", "speaker"),
    ("key_fact_coverage", "key facts"),
    ("summary_en_chrf", "chrF en"),
    ("grounding_rate", "grounded"),
    ("leakage", "leak ↓"),
)
"""The compact selection shown by :func:`render_table` / :func:`render_markdown`: (metric, header)."""


def _title(report: EvalReport) -> str:
    how = "replayed recordings" if report.replay else "live run"
    return f"khabar eval: {report.model} ({report.provider}, {how})"


def _rows(report: EvalReport) -> list[tuple[str, list[str]]]:
    rows = [
        (name, [format_metric(score.metrics.get(m)) for m, _ in TABLE_METRICS])
        for name, score in sorted(report.articles.items())
    ]
    rows.append((OVERALL, [format_metric(report.overall.get(m)) for m, _ in TABLE_METRICS]))
    return rows


def render_table(report: EvalReport) -> Table:
    """The report as a rich table: one row per article plus ``overall``; "—" where a metric does not apply.

    Example::

        >>> rich.console.Console().print(render_table(report))   # doctest: +SKIP
    """
    from rich.table import Table

    table = Table(title=_title(report), caption="leak ↓: lower is better")
    table.add_column("article", no_wrap=True)
    for _, header in TABLE_METRICS:
        table.add_column(header, justify="right")
    rows = _rows(report)
    for i, (name, cells) in enumerate(rows):
        table.add_row(
            name, *cells, end_section=i == len(rows) - 2, style="bold" if name == OVERALL else None
        )
    return table


_DETAIL_ORDER = (*ENTITY_FIELDS, "numbers", "dates", "quotes", "key_facts", "leakage")


def render_markdown(report: EvalReport) -> str:
    """The report in Markdown: the table of :func:`render_table`, then what each article missed.

    Example::

        >>> Path("eval.md").write_text(render_markdown(report))   # doctest: +SKIP
    """
    lines = [f"# {markdown_cell(_title(report))}", ""]
    headers = ["article", *(h for _, h in TABLE_METRICS)]
    lines.append("| " + " | ".join(markdown_cell(h) for h in headers) + " |")
    lines.append("|" + "---|" + "---:|" * len(TABLE_METRICS))
    for name, cells in _rows(report):
        shown = f"**{name}**" if name == OVERALL else markdown_cell(name)
        lines.append("| " + " | ".join([shown, *cells]) + " |")
    lines += [
        "",
        "Higher is better, except leak (the share of facts taken from outside the main story).",
    ]
    if report.failed:
        lines += ["", "## Articles without a digest", ""]
        lines += [
            f"- {markdown_cell(name)}: {markdown_cell(reason)}"
            for name, reason in report.failed.items()
        ]
    lines += ["", "## Details", ""]
    for name, score in sorted(report.articles.items()):
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
