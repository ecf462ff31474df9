"""The ``khabar`` command: parses options, calls the library, prints. Nothing else.

Heavy modules (openai, instructor, llama.cpp) are imported inside the
commands, so ``khabar --help`` stays fast. The shared options live in
:mod:`khabar.cli.options`; ``info`` and ``demo`` in modules of their own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from khabar._version import __version__

from .options import (
    endpoint_options,
    handle_errors,
    ignored_key,
    run_options,
    settings_from,
    setup_logging,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="khabar")
def cli() -> None:
    """khabar: grounded bilingual digests of Arabic and Persian news.

    Every fact in a digest carries a verbatim excerpt of the article that
    khabar has checked. With no model configured, an embedded local model
    runs in-process (no key, no network).
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="JSONL output file ('-' for stdout); reruns resume it.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Also write a Markdown report here.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    help="Also write an HTML report here (self-contained; above 200 articles, an index "
    "and a page per article in NAME_articles/).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "md"]),
    default="jsonl",
    show_default=True,
    help="Output format of -o.",
)
@click.option("--limit", type=int, help="Stop after this many articles.")
@click.option("--no-resume", is_flag=True, help="Reprocess articles already in the output.")
@click.option(
    "--text-field",
    default="text",
    show_default=True,
    help="Field holding the article in .json/.jsonl input.",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that summarize: one process's CPU caps a fast endpoint near 130 "
    "articles/s; -c stays the requests in flight in all.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Estimate tokens and cost of the run; call no model (KHABAR_PRICES prices it).",
)
@endpoint_options
@run_options
@handle_errors
def summarize(
    paths: tuple[str, ...],
    output: str,
    report_path: Path | None,
    html_path: Path | None,
    fmt: str,
    limit: int | None,
    no_resume: bool,
    text_field: str,
    progress: bool | None,
    workers: int,
    dry_run: bool,
    **opts: Any,
) -> None:
    """Summarize articles: files, directories (recursive), .jsonl/.json, or - for stdin.

    Writes one JSON record per article as it finishes. Exit status 1 when any
    article failed; their records say why.
    """
    setup_logging(opts.pop("verbose"))
    from khabar.batch import summarize_paths
    from khabar.batch.console import BatchConsole

    settings = settings_from(**opts)
    if dry_run:
        from khabar.batch.api import estimate_paths

        estimate = estimate_paths(
            list(paths),
            settings,
            output=None if output == "-" or no_resume else output,
            limit=limit,
            text_field=text_field,
        )
        for line in estimate.lines():
            click.echo(line)
        return
    from khabar.cache import check_cache
    from khabar.core.cost import load_prices

    prices = load_prices(settings.prices)  # a bad table fails here, before any model call

    # Before any model loads: a required cache that cannot be used stops the run here,
    # and an unusable optional one is named once more under the closing table.
    cache_off = check_cache(settings)
    console = BatchConsole(
        enabled=progress, limit=limit, provider_guessed=settings.provider == "auto"
    )
    # The total for the progress bar, counted beside the run (a listing and line counts).
    console.count_in_background(list(paths), max_input_bytes=settings.max_input_bytes)
    ignored = ignored_key(settings)
    if ignored:
        click.echo(f"warning: {ignored}", err=True)
    md_output: Path | None = None
    if fmt == "md":
        if output == "-":
            raise click.UsageError("--format md needs -o FILE.md: the Markdown is written there.")
        md_output, output = Path(output), str(Path(output).with_suffix(".jsonl"))
    if html_path is not None and output == "-":
        raise click.UsageError(
            "--html needs -o FILE.jsonl: the HTML report is made from the records written there."
        )
    stats = summarize_paths(
        list(paths),
        output=output,
        settings=settings,
        limit=limit,
        resume=not no_resume,
        refresh=bool(opts.get("refresh")),
        text_field=text_field,
        on_event=console.on_event,
        on_start=console.on_start,
        reports=[p for p in (report_path, md_output, html_path) if p is not None],
        workers=workers,
    )
    console.finish(stats, prices)
    if cache_off:
        click.echo(
            f"The digest cache was off for this run: {cache_off} "
            f"({settings.resolved_cache_dir()}).",
            err=True,
        )
    for path in (report_path, md_output):
        if path is not None:
            from khabar.batch.report import render_markdown
            from khabar.batch.store import iter_records

            path.write_text(
                render_markdown(iter_records(Path(output), latest_only=True), prices=prices),
                encoding="utf-8",
            )
            click.echo(f"Report written to {path}.", err=True)
    if html_path is not None:
        _write_html_report(Path(output), html_path, None)
    if stats.failed:
        sys.exit(1)


@cli.command()
@click.argument("jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Markdown file (default: stdout)."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    help="Write an HTML report here (self-contained); with no -o, no Markdown is printed.",
)
@click.option(
    "--pages-above",
    type=click.IntRange(min=0),
    default=None,
    help="With --html: above this many articles, an index and a page per article [200].",
)
@handle_errors
def report(
    jsonl: Path, output: Path | None, html_path: Path | None, pages_above: int | None
) -> None:
    """Render a JSONL output as a Markdown (or HTML) report a person can read."""
    from khabar.batch.report import render_markdown
    from khabar.batch.store import check_output_paths, iter_records

    check_output_paths("-", reports=[p for p in (output, html_path) if p is not None])
    records = list(iter_records(jsonl, latest_only=True))
    if not records:
        raise click.UsageError(
            f"{jsonl} holds no khabar records; give the JSONL file that "
            "`khabar summarize -o FILE` wrote."
        )
    if html_path is not None:
        _write_html_report(records, html_path, pages_above)
        if output is None:
            return
    from khabar.config import Settings
    from khabar.core.cost import load_prices

    text = render_markdown(records, prices=load_prices(Settings().prices))
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")


def _write_html_report(records: Path | list[Any], path: Path, pages_above: int | None) -> None:
    from khabar.batch.html import DEFAULT_PER_ARTICLE_THRESHOLD, write_html
    from khabar.batch.store import iter_records

    items = iter_records(records, latest_only=True) if isinstance(records, Path) else records
    threshold = DEFAULT_PER_ARTICLE_THRESHOLD if pages_above is None else pages_above
    written = write_html(items, path, per_article_threshold=threshold)
    pages = (
        f" and {len(written) - 1} article pages in {written[1].parent}" if len(written) > 1 else ""
    )
    click.echo(f"HTML report written to {path}{pages}.", err=True)


@cli.command()
@click.option(
    "--write",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the schemas into this directory.",
)
def schema(out_dir: Path | None) -> None:
    """Print (or write) the JSON Schema of the Digest and of the model-facing draft."""
    from khabar.core.schemas import export_schemas

    files = export_schemas()
    if out_dir is None:
        for name, text in files.items():
            click.echo(f"# {name}\n{text}")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out_dir / name}.", err=True)


# Registered here, after the group exists; their modules import only the options.
from .batch import batch  # noqa: E402
from .demo import demo  # noqa: E402
from .evaluate import eval_command  # noqa: E402
from .info import info  # noqa: E402

cli.add_command(info)
cli.add_command(demo)
cli.add_command(eval_command)
cli.add_command(batch)


def main() -> None:
    """Console-script entry point."""
    cli()
