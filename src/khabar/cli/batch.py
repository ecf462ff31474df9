"""``khabar batch``: the provider batch APIs (OpenAI, Azure OpenAI) and vLLM ``run_batch`` files.

    khabar batch prepare articles/ -o out.jsonl      # -> out.batch/
    khabar batch submit out.batch
    khabar batch status out.batch
    khabar batch collect out.batch [--wait] [--from-file vllm-output.jsonl ...]
    khabar batch cancel out.batch

Every command can be run again safely; see docs/scale.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .options import endpoint_options, handle_errors, run_options, settings_from, setup_logging

JOB = click.argument("job", type=click.Path(exists=True, file_okay=False, path_type=Path))


@click.group()
def batch() -> None:
    """Batch APIs: half the price (OpenAI), answers within 24 hours; or vLLM's run_batch files."""


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)


@batch.command(name="prepare")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL output the records land in (as `khabar summarize -o`); reruns resume it.",
)
@click.option(
    "--job",
    "job_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Job directory [OUTPUT with the suffix .batch].",
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
    "--max-requests",
    type=click.IntRange(min=1),
    help="Requests per batch file [50,000; Azure 100,000].",
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Bytes per batch file [200,000,000].")
@endpoint_options
@run_options
@handle_errors
def batch_prepare(
    paths: tuple[str, ...],
    output: Path,
    job_dir: Path | None,
    limit: int | None,
    no_resume: bool,
    text_field: str,
    max_requests: int | None,
    max_bytes: int | None,
    **opts: Any,
) -> None:
    """Write the request files of a batch job (nothing is sent); records that need no model now."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.api import BatchLimits, prepare_batch
    from khabar.llm import guess_provider

    settings = settings_from(**opts)
    job = job_dir or output.with_suffix(".batch")
    base = BatchLimits.for_provider(guess_provider(settings))
    limits = BatchLimits(max_requests or base.max_requests, max_bytes or base.max_bytes)
    result = prepare_batch(
        list(paths),
        job,
        settings,
        output=output,
        limit=limit,
        resume=not no_resume,
        refresh=bool(opts.get("refresh")),
        text_field=text_field,
        limits=limits,
    )
    _echo(result.lines())
    if result.requests:
        click.echo(
            f"next: khabar batch submit {job}  (or vLLM: run_batch on {job}/requests-r0-*.jsonl, "
            f"then khabar batch collect {job} --from-file OUTPUT)",
            err=True,
        )


@batch.command(name="submit")
@JOB
@endpoint_options
@handle_errors
def batch_submit(job: Path, **opts: Any) -> None:
    """Upload the job's request files and create their batches (safe to run again)."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.api import submit

    _echo(submit(job, settings_from(**opts)).lines())


@batch.command(name="status")
@JOB
@endpoint_options
@handle_errors
def batch_status(job: Path, **opts: Any) -> None:
    """Where the job stands: each batch, articles done, tokens and estimated cost."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.api import status

    for line in status(job, settings_from(**opts)).lines():
        click.echo(line)


@batch.command(name="collect")
@JOB
@click.option(
    "--wait", is_flag=True, help="Follow the job to its end, submitting follow-up rounds."
)
@click.option(
    "--from-file",
    "from_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read this round's answers from output files (vLLM run_batch -o); repeatable.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds between status checks with --wait (growing to 10 minutes).",
)
@click.option(
    "--wait-timeout",
    "wait_timeout",
    type=click.FloatRange(min=0),
    help="Stop waiting after this many seconds (the job goes on).",
)
@endpoint_options
@run_options  # the cache the digests go to: the same --cache-dir / --no-cache as prepare
@handle_errors
def batch_collect(
    job: Path,
    wait: bool,
    from_files: tuple[Path, ...],
    poll: float,
    wait_timeout: float | None,
    **opts: Any,
) -> None:
    """Download answers, verify them, write records, send re-asks. Exit 1 when an article failed."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.api import collect

    if wait and from_files:
        raise click.UsageError("--wait and --from-file exclude each other: a file does not change")
    st = collect(
        job,
        settings_from(**opts),
        wait=wait,
        from_file=list(from_files),
        poll_interval=poll,
        timeout=wait_timeout,
    )
    _echo(st.lines())
    if st.failed:
        sys.exit(1)


@batch.command(name="cancel")
@JOB
@endpoint_options
@handle_errors
def batch_cancel(job: Path, **opts: Any) -> None:
    """Cancel the running batches; `collect` keeps what they answered, `submit` sends the rest."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.api import cancel

    _echo(cancel(job, settings_from(**opts)).lines())
