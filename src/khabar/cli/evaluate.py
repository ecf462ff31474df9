"""``khabar eval``: score digests against gold, check the gold, compare runs, measure agreement.

The group runs an eval when called alone (``khabar eval --replay DIR``) and has
three subcommands: ``check-gold``, ``compare``, ``agreement``. Everything it
prints is made by :mod:`khabar.evals`; this module parses and prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .options import endpoint_options, handle_errors, settings_from, setup_logging

__all__ = ["eval_command"]

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _width() -> int | None:
    # Off a terminal (CI logs) rich would squeeze the tables into 80 columns: give them room.
    return None if sys.stdout.isatty() else 220


@click.group(name="eval", invoke_without_command=True)
@click.option(
    "--articles", type=_DIR, help="Where the articles are (default: beside each gold directory)."
)
@click.option(
    "--gold",
    "gold_dirs",
    multiple=True,
    type=_DIR,
    help="Gold directory, repeatable (default: evals/gold and evals/corpus/gold).",
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Serve recorded answers from this cassette directory; no model runs.",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Record every exchange to this cassette directory.",
)
@click.option(
    "--digests",
    type=_FILE,
    help="Score the digests of this JSONL (any `khabar summarize -o` output); no model runs.",
)
@click.option(
    "--baseline",
    type=_FILE,
    help="Fail when a metric drops below this report by more than its tolerance.",
)
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--markdown", "md_out", type=click.Path(path_type=Path), help="Write the Markdown report here."
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an HTML report here: each digest beside its gold, deltas, plots (no script, no network).",
)
@click.option(
    "--judge",
    is_flag=True,
    help="Also ask the model to judge summary faithfulness (needs a capable model; off in CI).",
)
@endpoint_options
@click.pass_context
@handle_errors
def eval_command(
    ctx: click.Context,
    /,
    articles: Path | None,
    gold_dirs: tuple[Path, ...],
    replay_dir: Path | None,
    record_dir: Path | None,
    digests: Path | None,
    baseline: Path | None,
    json_out: Path | None,
    md_out: Path | None,
    html_out: Path | None,
    judge: bool,
    **opts: Any,
) -> None:
    """Score digests against gold: a model run, recorded answers, or a digests file.

    In CI: ``khabar eval --replay evals/cassettes/<model> --baseline evals/baseline.json``.
    Subcommands: ``check-gold``, ``compare``, ``agreement``.
    """
    if ctx.invoked_subcommand is not None:
        return
    setup_logging(opts.pop("verbose"))
    if replay_dir and record_dir:
        raise click.UsageError("--replay and --record exclude each other: give one of them.")
    if digests and (replay_dir or record_dir or judge):
        raise click.UsageError(
            "--digests scores digests that exist: give no --replay, --record or --judge with it."
        )
    from rich.console import Console

    from khabar.evals.harness import run_eval, score_digests
    from khabar.evals.render import outcome_lines, render_markdown, render_means, render_table
    from khabar.evals.sets import default_gold_dirs

    gold = list(gold_dirs) or default_gold_dirs()
    if digests is not None:
        result = score_digests(digests, gold, articles=articles, baseline=baseline)
    else:
        result = run_eval(
            articles,
            gold,
            settings=settings_from(**opts),
            replay_dir=replay_dir,
            record_dir=record_dir,
            baseline=baseline,
            judge=judge,
        )
    outcome = outcome_lines(result.errors, result.failures, result.regressions)
    if result.errors:  # a void run (stale recordings): say so before any table
        for line in outcome:
            click.echo(line, err=True)
    console = Console(width=_width())
    console.print(render_table(result.report))
    console.print(render_means(result.report))
    if json_out:
        json_out.write_text(result.report.to_json(), encoding="utf-8")
    if md_out:
        md_out.write_text(render_markdown(result.report), encoding="utf-8")
    if html_out:
        from khabar.evals.html import render_eval_html
        from khabar.evals.report import load_report
        from khabar.evals.sets import load_eval_set

        items, _ = load_eval_set(gold, articles)
        html_out.write_text(
            render_eval_html(
                result.report,
                digests=result.digests,
                golds={stem: item.gold for stem, item in items.items()},
                baseline=load_report(baseline) if baseline is not None else None,
            ),
            encoding="utf-8",
        )
    for line in result.notes:
        click.echo(line, err=True)
    for article_id, judgement in result.judgements.items():
        verdict = "faithful" if judgement.faithful else "NOT faithful"
        claims = "; ".join(judgement.unsupported_claims)
        click.echo(
            f"judge: {article_id}: {verdict}" + (f" (unsupported: {claims})" if claims else "")
        )
    if not result.errors:
        for line in outcome:
            click.echo(line, err=True)
    if result.regressions or result.errors:
        sys.exit(1)


@eval_command.command(name="check-gold")
@click.argument("dirs", nargs=-1, type=_DIR)
@click.option(
    "--articles", type=_DIR, help="Where the articles are (default: beside each gold directory)."
)
@click.option("--strict", is_flag=True, help="Also fail on disagreements with khabar's code.")
@handle_errors
def check_gold_command(dirs: tuple[Path, ...], articles: Path | None, strict: bool) -> None:
    """Check gold files against their articles as the pipeline sees them.

    DIRS default to evals/gold, evals/gold_b and evals/corpus/gold (those that
    exist). The exit status is 1 on any error, and with --strict on any
    disagreement with khabar's code too.
    """
    from khabar.evals.checkgold import CHECKED_BY_DEFAULT, check_gold_dirs, failing, render_problems

    chosen = list(dirs) or [d for d in CHECKED_BY_DEFAULT if d.is_dir()]
    problems, checked = check_gold_dirs(chosen, articles)
    for line in render_problems(problems, checked):
        click.echo(line)
    if failing(problems, strict=strict):
        sys.exit(1)


@eval_command.command(name="compare")
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
@click.option(
    "--gold",
    "gold_dirs",
    multiple=True,
    type=_DIR,
    help="Gold to score digests files against, repeatable (default: evals/gold, evals/corpus/gold).",
)
@click.option(
    "--articles", type=_DIR, help="Where the articles are (default: beside each gold directory)."
)
@click.option(
    "--markdown", "md_out", type=click.Path(path_type=Path), help="Write the comparison here."
)
@handle_errors
def compare_command(
    a: Path, b: Path, gold_dirs: tuple[Path, ...], articles: Path | None, md_out: Path | None
) -> None:
    """Compare two runs A and B: eval reports (--json) or digests files (JSONL).

    Per metric: both means over the articles both runs have, the paired
    difference B - A with its 95 % bootstrap interval, a verdict; then the
    articles that moved.
    """
    from rich.console import Console

    from khabar.evals.versus import compare_paths, render_comparison, render_comparison_markdown

    comparison, notes = compare_paths(a, b, gold=gold_dirs, articles=articles)
    head, table, per_article = render_comparison(comparison)
    for line in head:
        click.echo(line)
    console = Console(width=_width())
    console.print(table)
    console.print(per_article)
    for line in notes:
        click.echo(line, err=True)
    if md_out:
        md_out.write_text(render_comparison_markdown(comparison), encoding="utf-8")


@eval_command.command(name="agreement")
@click.argument("gold_a", type=_DIR)
@click.argument("gold_b", type=_DIR)
@click.option(
    "--markdown", "md_out", type=click.Path(path_type=Path), help="Write the table here too."
)
@handle_errors
def agreement_command(gold_a: Path, gold_b: Path, md_out: Path | None) -> None:
    """Inter-annotator agreement: gold directory B scored against gold directory A.

    For the seeds: ``khabar eval agreement evals/gold evals/gold_b``.
    """
    from rich.console import Console

    from khabar.evals.agreement import agreement, agreement_markdown, render_agreement

    report = agreement(gold_a, gold_b)
    Console(width=_width()).print(render_agreement(report))
    if md_out:
        md_out.write_text(agreement_markdown(report), encoding="utf-8")
