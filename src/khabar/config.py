"""Settings: explicit argument, then environment (``KHABAR_*``, ``OPENAI_*``) and ``.env``, then default.

Every setting is listed, commented, in ``.env.example``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .redaction import register_secret

__all__ = ["Provider", "Settings", "secure_dir", "user_dir"]

Provider = Literal["auto", "openai", "azure", "vllm", "ollama", "llamacpp", "local"]
ModeName = Literal["auto", "tools", "json_schema", "json"]
SafeMode = Literal["auto", "on", "off"]


def _url_password(url: str | None) -> str | None:
    """The password in ``scheme://user:password@host`` (None when there is none)."""
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:  # a malformed port: no credentials we can read
        return None


def _looks_azure(url: str | None) -> bool:
    return "azure" in (urlsplit(url).netloc.lower() if url else "")


def user_dir() -> Path:
    """khabar's own directory (cache, downloaded models); ``KHABAR_HOME`` moves it."""
    home = os.environ.get("KHABAR_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "khabar"


def secure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A shared directory we don't own stays as it is; its files are still 0600.
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path


class Settings(BaseSettings):
    """All of khabar's settings.

    >>> Settings(model="gpt-4o-mini", temperature=0.0).model   # doctest: +SKIP
    'gpt-4o-mini'
    """

    model_config = SettingsConfigDict(
        env_prefix="KHABAR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- which model -------------------------------------------------------
    model: str | None = Field(
        default=None,
        description="Model name at the endpoint. Unset with no base URL: the embedded local model.",
    )
    provider: Provider = Field(
        default="auto",
        description="Kind of endpoint; picks the instructor mode. 'auto' guesses from the URL.",
    )
    mode: ModeName = Field(
        default="auto", description="Force an instructor mode: tools, json_schema or json."
    )
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KHABAR_BASE_URL", "OPENAI_BASE_URL", "base_url"),
        description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("KHABAR_API_KEY", "OPENAI_API_KEY", "api_key"),
        description="API key for the endpoint. Never logged, cached or recorded.",
    )
    # The Azure variables the openai SDK and Azure's own docs use, so that a shell
    # set up for Azure talks to Azure and not, silently, to api.openai.com.
    azure_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KHABAR_AZURE_ENDPOINT", "AZURE_OPENAI_ENDPOINT", "azure_endpoint"
        ),
        description="Azure OpenAI resource URL; when set (and no base URL), the provider is azure.",
    )
    azure_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KHABAR_AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "azure_api_key"
        ),
        description="Azure OpenAI key; used (first) only for an Azure endpoint.",
    )
    azure_api_version: str = Field(
        default="2024-10-21",
        validation_alias=AliasChoices(
            "KHABAR_AZURE_API_VERSION", "OPENAI_API_VERSION", "azure_api_version"
        ),
    )

    # --- decoding ------------------------------------------------------------
    temperature: float = 0.0
    max_tokens: int = Field(default=2048, description="Completion token limit per call.")
    seed: int | None = 0

    # --- reliability -----------------------------------------------------------
    timeout: float = Field(
        default=120.0,
        gt=0,
        description="Seconds one HTTP request may take (raise it for CPU servers; see .env.example).",
    )
    max_transport_retries: int = Field(
        default=5,
        description="Retries of one request on 429 / 5xx / timeouts / dropped connections.",
    )
    retry_max_wait: float = Field(default=60.0, description="Cap in seconds on one backoff wait.")
    retry_base_wait: float = Field(default=0.5, description="First backoff wait in seconds.")
    max_reasks: int = Field(
        default=1, description="Re-asks after an answer fails validation or grounding."
    )
    retry_failed: bool = Field(
        default=False,
        description="Ask again for articles whose deterministic failure is remembered in the cache.",
    )
    record_text: bool = Field(
        default=True,
        description="Carry the cleaned article (what every span indexes) in each digest.",
    )
    min_support: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of summary sentences that must hold for an ok digest (0: any; 1: all).",
    )

    # --- caching and limits -----------------------------------------------------
    # ``"required"`` is truthy, so code that asks ``if settings.cache`` still reads it as on.
    cache: bool | Literal["required"] = Field(
        default=True,
        description="Use the on-disk cache of validated digests: true, false, or required "
        "(stop before any model call when it cannot be opened).",
    )
    cache_dir: Path | None = Field(default=None, description="Default: $KHABAR_HOME/cache.")
    prompts_dir: Path | None = Field(
        default=None,
        description="A directory with system.j2, user.j2 and reask.j2 replacing the packaged prompts.",
    )
    concurrency: int = Field(default=8, description="Requests in flight in a batch.")
    max_article_chars: int = Field(
        default=24000,
        description="Longer articles are truncated (with a warning in provenance) before the prompt.",
    )
    max_input_bytes: int = Field(
        default=20_000_000, description="Files larger than this are refused as input."
    )

    # --- cost ------------------------------------------------------------------------
    prices: str | None = Field(
        default=None,
        description="Price table for cost estimates: a TOML (or JSON) file, or inline JSON; "
        "unset: khabar.core.cost.EXAMPLE_PRICES (examples, not a quote). See docs/scale.md.",
    )

    # --- embedded local model -------------------------------------------------------
    local_model: Path | None = Field(default=None, description="Path to a .gguf to run in-process.")
    local_repo: str = Field(
        default="Qwen/Qwen2.5-3B-Instruct-GGUF",
        description="Hugging Face repo downloaded on first use when no local_model is set.",
    )
    local_file: str = Field(default="qwen2.5-3b-instruct-q4_k_m.gguf")
    local_n_ctx: int = Field(default=8192, description="Context window for the local model.")
    local_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for llama.cpp; default: the cores free now, leaving one spare.",
    )
    local_safe_mode: SafeMode = Field(
        default="auto",
        description="auto: test-decode in a child process first and fall back to a safe "
        "llama.cpp configuration if it crashes; on: always the safe one; off: no test.",
    )
    local_repeat_penalty: float | None = Field(
        default=None,
        description="llama.cpp repeat penalty; default 1.3 for the bundled plumbing model, 1.1 otherwise.",
    )
    local_download: bool = Field(
        default=True,
        description="Allow downloading local_repo from the hub; false goes straight to the bundled model.",
    )

    @model_validator(mode="after")
    def _azure_endpoint_is_the_endpoint(self) -> Settings:
        # AZURE_OPENAI_ENDPOINT alone means Azure; an explicit base URL still wins.
        if self.azure_endpoint and self.base_url is None and self.provider in ("auto", "azure"):
            self.base_url = self.azure_endpoint
            self.provider = "azure"
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Registered as soon as settings exist, so that every message (``khabar info``,
        # -vv logs, errors) is scrubbed of them, not only those after a backend is built.
        for secret in (self.api_key, self.azure_api_key):
            if secret is not None:
                register_secret(secret.get_secret_value())
        for url in (self.base_url, self.azure_endpoint):
            password = _url_password(url)
            if password:
                register_secret(password)
                register_secret(unquote(password))

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else user_dir() / "cache"

    @property
    def cache_required(self) -> bool:
        """True when the run must stop (before any model call) if the cache cannot be opened."""
        return self.cache == "required"

    @property
    def is_azure(self) -> bool:
        """The endpoint is Azure OpenAI (named, or an ``*.azure.com`` URL)."""
        return self.provider == "azure" or (self.provider == "auto" and _looks_azure(self.base_url))

    def api_key_value(self) -> str | None:
        """The key to send: for Azure, AZURE_OPENAI_API_KEY first; never the Azure key elsewhere."""
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        if self.is_azure and self.azure_api_key is not None:
            return self.azure_api_key.get_secret_value()
        return key

    @property
    def uses_local_model(self) -> bool:
        """True when no endpoint is configured: run llama.cpp in-process."""
        return self.provider == "local" or (self.base_url is None and self.model is None)
