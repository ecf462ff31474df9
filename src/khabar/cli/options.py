"""Options shared by the commands, the settings they make, logging, and error mapping.

Kept light: importing this module imports click and nothing heavy, so that
``khabar --help`` stays fast.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "cache_dir_option",
    "endpoint_options",
    "handle_errors",
    "ignored_key",
    "key_from",
    "run_options",
    "settings_from",
    "setup_logging",
]

F = TypeVar("F", bound=Callable[..., Any])


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def endpoint_options(func: F) -> F:
    """Options that say which model to talk to, and how (every command that talks to one)."""
    return _apply(
        func,
        [
            click.option(
                "--model",
                "-m",
                help="Model name at the endpoint (KHABAR_MODEL). Unset: the embedded local model.",
            ),
            click.option(
                "--base-url",
                help="OpenAI-compatible endpoint (KHABAR_BASE_URL / OPENAI_BASE_URL).",
            ),
            click.option(
                "--provider",
                type=click.Choice(
                    ["auto", "openai", "azure", "vllm", "ollama", "llamacpp", "local"]
                ),
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
                "-v",
                "--verbose",
                count=True,
                help="Log model calls (-v) or everything (-vv) to stderr.",
            ),
        ],
    )


def cache_dir_option(func: F) -> F:
    return click.option(
        "--cache-dir", type=click.Path(path_type=Path), help="Cache directory (KHABAR_CACHE_DIR)."
    )(func)


def run_options(func: F) -> F:
    """Options of a batch run: requests in flight and the digest cache (``summarize`` only).

    ``eval`` never uses the cache and ``info`` runs nothing, so neither offers them.
    """
    return _apply(
        func,
        [
            click.option(
                "--concurrency", "-c", type=int, help="Requests in flight (KHABAR_CONCURRENCY)."
            ),
            click.option(
                "--no-cache", is_flag=True, help="Neither read nor write the digest cache."
            ),
            click.option(
                "--refresh",
                is_flag=True,
                help="Recompute every digest and overwrite its cache entry.",
            ),
            click.option(
                "--retry-failed",
                is_flag=True,
                default=None,
                help="Ask again for articles whose deterministic failure the cache remembers "
                "(KHABAR_RETRY_FAILED).",
            ),
            click.option(
                "--min-support",
                type=click.FloatRange(0.0, 1.0),
                help="Share of summary sentences that must hold for an ok digest "
                "(KHABAR_MIN_SUPPORT).",
            ),
            cache_dir_option,
        ],
    )


def key_from(key_env: str | None, key_file: Path | None) -> str | None:
    """The API key named by --key-env or --key-file (never echoed)."""
    if key_env and key_file:
        raise click.UsageError("--key-env and --key-file exclude each other: give one of them.")
    if key_env:
        key = os.environ.get(key_env, "").strip()
        if not key:
            raise click.UsageError(
                f"--key-env names the environment variable {key_env}, which is not set or "
                "is empty: export the key in it, or name another variable."
            )
        return key
    if key_file:
        try:
            lines = key_file.read_text(encoding="utf-8").strip().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(
                f"--key-file {key_file} cannot be read ({exc}): check the path and its permissions."
            ) from exc
        if not lines or not lines[0].strip():
            raise click.UsageError(
                f"--key-file {key_file} is empty: put the API key on its first line."
            )
        return lines[0].strip()
    return None


def settings_from(**opts: Any) -> Any:
    """Settings from the command's options, over the environment; a bad value is a usage error."""
    from pydantic import ValidationError

    from khabar.config import Settings

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
        "retry_failed",
        "min_support",
    ):
        if opts.get(name) is not None:
            overrides[name] = opts[name]
    if opts.get("no_cache"):
        overrides["cache"] = False
    key = key_from(opts.get("key_env"), opts.get("key_file"))
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
            f"invalid settings ({problems}): .env.example describes each KHABAR_* variable."
        ) from None


def setup_logging(verbose: int) -> None:
    """khabar's warnings once each on stderr; -v: one line per model call; -vv: everything."""
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
        from khabar.errors import KhabarError

        try:
            return func(*args, **kwargs)
        except KhabarError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def ignored_key(settings: Any) -> str | None:
    """Why an API key that is set will not be used, or None (it will be, or there is none).

    With no model and no endpoint named, khabar runs the embedded model, and an
    exported OPENAI_API_KEY goes unused: people expect it to mean OpenAI.
    """
    if not settings.uses_local_model or settings.provider == "local":
        return None
    if settings.api_key is None:
        return None
    where = next(
        (name for name in ("OPENAI_API_KEY", "KHABAR_API_KEY") if os.environ.get(name)),
        "the API key in .env or --key-env/--key-file",
    )
    return (
        f"{where} is set but not used: with no model named (KHABAR_MODEL or --model), khabar "
        "runs the embedded local model. To use OpenAI with it, also set KHABAR_MODEL "
        "(for example gpt-4o-mini)."
    )
