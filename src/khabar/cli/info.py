"""``khabar info``: which model khabar would use with these settings, and where it comes from."""

from __future__ import annotations

import json
from typing import Any

import click

from .options import (
    cache_dir_option,
    endpoint_options,
    handle_errors,
    ignored_key,
    settings_from,
    setup_logging,
)

__all__ = ["info"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the same facts as one JSON object.")
@endpoint_options
@cache_dir_option
@handle_errors
def info(as_json: bool, **opts: Any) -> None:
    """Say which model khabar would use with these settings, and where it comes from."""
    setup_logging(opts.pop("verbose"))
    from khabar.batch.console import provider_label
    from khabar.cache import check_cache
    from khabar.llm import guess_provider, pick_mode
    from khabar.redaction import redact

    settings = settings_from(**opts)
    provider = guess_provider(settings)
    # "vllm" is what an unknown OpenAI-compatible URL is taken for: a guess, said as one.
    guessed = settings.provider == "auto" and provider == "vllm"
    facts: dict[str, Any] = {
        "provider": provider,
        "provider_guessed": guessed,
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
        "api_key": "set" if settings.api_key_value() else "not set",
        "notes": [],
        "warnings": [],
    }
    ignored = ignored_key(settings)
    if ignored:
        facts["api_key"] = "set, not used"
        facts["warnings"].append(ignored)
    if provider == "local":
        from khabar.llm.local import resolve_local_model
        from khabar.llm.native import default_threads

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
        if not settings.model:
            facts["warnings"].append(
                "no model is named for this endpoint, so nothing can run: set KHABAR_MODEL or "
                "--model to the model's name there (gpt-4o-mini, qwen2.5:7b; the deployment "
                "name on Azure)."
            )
        if provider in ("openai", "azure") and facts["api_key"] == "not set":
            facts["warnings"].append(
                "no API key is set, and this endpoint needs one: set OPENAI_API_KEY (Azure: "
                "AZURE_OPENAI_API_KEY), or pass --key-env or --key-file."
            )
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    label = provider_label(provider, guessed=guessed)
    if guessed:
        label = (
            "an OpenAI-compatible server (guessed from the URL; set KHABAR_PROVIDER to vllm, "
            "llamacpp or ollama to name it)"
        )
    click.echo(f"provider: {label}")
    click.echo(f"mode:     {facts['mode']}")
    if provider == "local":
        click.echo(f"model:    {facts['model']} ({facts['model_origin']}: {facts['model_path']})")
        local = facts["local"]
        click.echo(f"threads:  {local['threads']} (safe mode: {local['safe_mode']})")
    else:
        click.echo(f"model:    {facts['model'] or 'not set (KHABAR_MODEL or --model)'}")
        click.echo(f"endpoint: {facts['endpoint']}")
        click.echo(f"timeout:  {settings.timeout:g} s")
    click.echo(f"key:      {facts['api_key']}")
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
