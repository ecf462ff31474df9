"""The ``khabar`` command: parses options, calls the library, prints. Nothing else.

Heavy modules (openai, instructor, llama.cpp) are imported inside the
commands, so ``khabar --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ._version import __version__

F = TypeVar("F", bound=Callable[..., Any])


def model_options(func: F) -> F:
    """Options shared by every command that talks to a model."""
    options = [
        click.option(
            "--model",
            "-m",
            help="Model name at the endpoint (KHABAR_MODEL). Unset: the embedded local model.",
        ),
        click.option(
            "--base-url", help="OpenAI-compatible endpoint (KHABAR_BASE_URL / OPENAI_BASE_URL)."
        ),
        click.option(
            "--provider",
            type=click.Choice(["auto", "openai", "azure", "vllm", "ollama", "llamacpp", "local"]),
            help="Kind of endpoint; picks the structured-output mode (KHABAR_PROVIDER).",
        ),
        click.option(
            "--mode",
            type=click.Choice(["auto", "tools", "json_schema", "json"]),
            help="Structured-output mode (KHABAR_MODE); auto picks one for the provider.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            help="Seconds one HTTP request may take (KHABAR_TIMEOUT).",
        ),
        click.option(
            "--max-tokens",
            type=click.IntRange(min=1),
            help="Answer token limit (KHABAR_MAX_TOKENS).",
        ),
        # The key itself never goes on the command line: shells keep history, ps shows argv.
        click.option(
            "--key-env",
            metavar="NAME",
            help="Read the API key from the environment variable NAME.",
        ),
        click.option(
            "--key-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Read the API key from this file (its first line).",
        ),
        click.option(
            "--concurrency", "-c", type=int, help="Requests in flight (KHABAR_CONCURRENCY)."
        ),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the digest cache."),
        click.option(
            "--refresh", is_flag=True, help="Recompute every digest and overwrite its cache entry."
        ),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path),
            help="Cache directory (KHABAR_CACHE_DIR).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            help="Log model calls (-v) or everything (-vv) to stderr.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _key_from(key_env: str | None, key_file: Path | None) -> str | None:
    """The API key named by --key-env or --key-file (never echoed)."""
    if key_env and key_file:
        raise click.UsageError("--key-env and --key-file exclude each other")
    if key_env:
        key = os.environ.get(key_env, "").strip()
        if not key:
            raise click.UsageError(
                f"--key-env names the environment variable {key_env}, which is not set or empty"
            )
        return key
    if key_file:
        try:
            lines = key_file.read_text(encoding="utf-8").strip().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"--key-file {key_file} cannot be read: {exc}") from exc
        if not lines or not lines[0].strip():
            raise click.UsageError(f"--key-file {key_file} is empty; put the API key in it")
        return lines[0].strip()
    return None


def _settings(**opts: Any) -> Any:
    from pydantic import ValidationError

    from .config import Settings

    overrides: dict[str, Any] = {}
    for name in (
        "model",
        "base_url",
        "provider",
        "mode",
        "timeout",
        "max_tokens",
        "concurrency",
        "cache_dir",
    ):
        if opts.get(name) is not None:
            overrides[name] = opts[name]
    if opts.get("no_cache"):
        overrides["cache"] = False
    key = _key_from(opts.get("key_env"), opts.get("key_file"))
    if key is not None:
        # The key given here is the key for this endpoint, whatever its kind (Azure too).
        overrides["api_key"] = overrides["azure_api_key"] = key
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        # The input values are left out: one of them may be a key.
        raise click.UsageError(
            f"invalid settings ({problems}); see .env.example for each KHABAR_* variable"
        ) from None


def _logging(verbose: int) -> None:
    if verbose < 2:
        # instructor logs every failed attempt at ERROR; khabar reports the outcome itself
        # (an error record, a retry count), so those lines are noise below -vv.
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
    if not verbose:
        # khabar's own warnings (plumbing model, downloads, a full cache disk), once each,
        # in the CLI's voice; without this Python's last-resort handler prints them bare.
        khabar_logger = logging.getLogger("khabar")
        ours = [h for h in khabar_logger.handlers if getattr(h, "_khabar_cli", False)]
        if ours and isinstance(ours[0], logging.StreamHandler):
            ours[0].setStream(sys.stderr)  # a second command in one process (tests) writes here
        else:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("warning: %(message)s"))
            handler.setLevel(logging.WARNING)
            handler._khabar_cli = True  # type: ignore[attr-defined]
            khabar_logger.addHandler(handler)
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
            stream=sys.stderr,
        )
        if verbose < 2:
            # Only our own lines at -v: one per model call.
            for noisy in ("httpx2", "httpcore2", "openai"):
                logging.getLogger(noisy).setLevel(logging.WARNING)


def handle_errors(func: F) -> F:
    """Map library errors to a clean message and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import KhabarError

        try:
            return func(*args, **kwargs)
        except KhabarError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


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
@model_options
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
    **opts: Any,
) -> None:
    """Summarize articles: files, directories (recursive), .jsonl/.json, or - for stdin.

    Writes one JSON record per article as it finishes. Exit status 1 when any
    article failed; their records say why.
    """
    _logging(opts.pop("verbose"))
    from .batch import summarize_paths
    from .batch.console import BatchConsole

    settings = _settings(**opts)
    from .cache import check_cache

    # Before any model loads: a required cache that cannot be used stops the run here,
    # and an unusable optional one is named once more under the closing table.
    cache_off = check_cache(settings)
    console = BatchConsole(enabled=progress)
    md_output: Path | None = None
    if fmt == "md":
        if output == "-":
            raise click.UsageError("--format md needs -o FILE.md")
        md_output, output = Path(output), str(Path(output).with_suffix(".jsonl"))
    if html_path is not None and output == "-":
        raise click.UsageError("--html needs -o FILE.jsonl: the report is made from its records")
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
    )
    console.finish(stats)
    if cache_off:
        click.echo(f"cache off: {cache_off} (at {settings.resolved_cache_dir()})", err=True)
    for path in (report_path, md_output):
        if path is not None:
            from .batch.report import render_markdown
            from .batch.store import iter_records

            path.write_text(
                render_markdown(iter_records(Path(output), latest_only=True)), encoding="utf-8"
            )
            click.echo(f"report written to {path}", err=True)
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
    from .batch.report import render_markdown
    from .batch.store import check_output_paths, iter_records

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
    text = render_markdown(records)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")


def _write_html_report(records: Path | list[Any], path: Path, pages_above: int | None) -> None:
    from .batch.html import DEFAULT_PER_ARTICLE_THRESHOLD, write_html
    from .batch.store import iter_records

    items = iter_records(records, latest_only=True) if isinstance(records, Path) else records
    threshold = DEFAULT_PER_ARTICLE_THRESHOLD if pages_above is None else pages_above
    written = write_html(items, path, per_article_threshold=threshold)
    pages = (
        f" and {len(written) - 1} article pages in {written[1].parent}" if len(written) > 1 else ""
    )
    click.echo(f"HTML report written to {path}{pages}", err=True)


@cli.command(name="eval")
@click.option(
    "--articles",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("evals/articles"),
    show_default=True,
    help="Articles to summarize.",
)
@click.option(
    "--gold",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("evals/gold"),
    show_default=True,
    help="Gold annotations.",
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
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fail when a metric drops below this report by more than its tolerance.",
)
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--markdown", "md_out", type=click.Path(path_type=Path), help="Write the Markdown report here."
)
@click.option(
    "--judge",
    is_flag=True,
    help="Also ask the model to judge summary faithfulness (needs a capable model; off in CI).",
)
@model_options
@handle_errors
def eval_command(
    articles: Path,
    gold: Path,
    replay_dir: Path | None,
    record_dir: Path | None,
    baseline: Path | None,
    json_out: Path | None,
    md_out: Path | None,
    judge: bool,
    **opts: Any,
) -> None:
    """Score digests of the seed articles against gold annotations.

    In CI: ``khabar eval --replay evals/cassettes/<model> --baseline evals/baseline.json``.
    """
    _logging(opts.pop("verbose"))
    if replay_dir and record_dir:
        raise click.UsageError("--replay and --record exclude each other")
    from rich.console import Console

    from .evals.harness import run_eval
    from .evals.render import render_markdown as eval_markdown
    from .evals.render import render_table

    settings = _settings(**opts)
    result = run_eval(
        articles,
        gold,
        settings=settings,
        replay_dir=replay_dir,
        record_dir=record_dir,
        baseline=baseline,
        judge=judge,
    )
    # Off a terminal (CI logs) rich would squeeze 13 columns into 80: give it room.
    console = Console(width=None if sys.stdout.isatty() else 220)
    console.print(render_table(result.report))
    if json_out:
        json_out.write_text(result.report.to_json(), encoding="utf-8")
    if md_out:
        md_out.write_text(eval_markdown(result.report), encoding="utf-8")
    for line in result.notes:
        click.echo(line, err=True)
    for article_id, message in result.failures.items():
        click.echo(f"no digest: {article_id}: {message}", err=True)
    for article_id, judgement in result.judgements.items():
        verdict = "faithful" if judgement.faithful else "NOT faithful"
        claims = "; ".join(judgement.unsupported_claims)
        click.echo(
            f"judge: {article_id}: {verdict}" + (f" (unsupported: {claims})" if claims else "")
        )
    if result.errors:
        for article_id, message in result.errors.items():
            click.echo(f"error: {article_id}: {message}", err=True)
    if result.regressions:
        click.echo("regressions against the baseline:", err=True)
        for reg in result.regressions:
            click.echo(f"  {reg}", err=True)
    if result.regressions or result.errors:
        sys.exit(1)


@cli.command()
@click.option(
    "--write",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the schemas into this directory.",
)
def schema(out_dir: Path | None) -> None:
    """Print (or write) the JSON Schema of the Digest and of the model-facing draft."""
    from .core.schemas import export_schemas

    files = export_schemas()
    if out_dir is None:
        for name, text in files.items():
            click.echo(f"# {name}\n{text}")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_dir / name}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the same facts as one JSON object.")
@model_options
@handle_errors
def info(as_json: bool, **opts: Any) -> None:
    """Say which model khabar would use with these settings, and where it comes from."""
    _logging(opts.pop("verbose"))
    from .cache import check_cache
    from .llm import guess_provider, pick_mode
    from .redaction import redact

    settings = _settings(**opts)
    provider = guess_provider(settings)
    facts: dict[str, Any] = {
        "provider": provider,
        "mode": pick_mode(settings, provider),
        "model": settings.model,
        "endpoint": None,
        "timeout_s": settings.timeout,
        "max_tokens": settings.max_tokens,
        "cache": {
            "dir": str(settings.resolved_cache_dir()) if settings.cache else None,
            "setting": str(settings.cache).lower(),
            # Described, not raised: info reports a broken required cache instead of failing;
            # and a cache not made yet is left unmade (info only looks).
            "unavailable": check_cache(settings, required=False)
            if settings.resolved_cache_dir().exists()
            else None,
        },
        "notes": [],
        "warnings": [],
    }
    if provider == "local":
        from .llm.local import resolve_local_model
        from .llm.native import default_threads

        choice = resolve_local_model(settings)
        facts.update(model=choice.name, model_origin=choice.origin, model_path=str(choice.path))
        facts["local"] = {
            "threads": settings.local_threads or default_threads(),
            "safe_mode": settings.local_safe_mode,
            "n_ctx": settings.local_n_ctx,
        }
        facts["notes"] = list(choice.notes)
        if choice.plumbing:
            facts["warnings"].append(
                "this is the bundled plumbing model: English-only, 135M parameters; "
                "its digests of Arabic and Persian are not meaningful."
            )
    else:
        # The URL as given, with any password in it replaced by ***.
        facts["endpoint"] = redact(settings.base_url or "https://api.openai.com/v1")
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    click.echo(f"provider: {facts['provider']}")
    click.echo(f"mode:     {facts['mode']}")
    if provider == "local":
        click.echo(f"model:    {facts['model']} ({facts['model_origin']}: {facts['model_path']})")
        local = facts["local"]
        click.echo(f"threads:  {local['threads']} (safe mode: {local['safe_mode']})")
    else:
        click.echo(f"model:    {facts['model']}")
        click.echo(f"endpoint: {facts['endpoint']}")
        click.echo(f"timeout:  {settings.timeout:g} s")
    for note in facts["notes"]:
        click.echo(f"note:     {note}")
    for warning in facts["warnings"]:
        click.echo(f"warning:  {warning}")
    cache = facts["cache"]
    if cache["dir"] is None:
        click.echo("cache:    off")
    elif cache["unavailable"]:
        click.echo(f"cache:    off: {cache['unavailable']} ({cache['dir']})")
    else:
        click.echo(f"cache:    {cache['dir']}")


def main() -> None:
    """Console-script entry point."""
    cli()
