"""Settings: explicit argument, then environment (``KHABAR_*``, ``OPENAI_*``) and ``.env``, then default.

Every setting is listed, commented, in ``.env.example``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Provider", "Settings", "secure_dir", "user_dir"]

Provider = Literal["auto", "openai", "azure", "vllm", "ollama", "llamacpp", "local"]
ModeName = Literal["auto", "tools", "json_schema", "json"]


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
    timeout: float = Field(default=120.0, description="Seconds per HTTP request.")
    max_transport_retries: int = Field(
        default=5,
        description="Retries of one request on 429 / 5xx / timeouts / dropped connections.",
    )
    retry_max_wait: float = Field(default=60.0, description="Cap in seconds on one backoff wait.")
    retry_base_wait: float = Field(default=0.5, description="First backoff wait in seconds.")
    max_reasks: int = Field(
        default=1, description="Re-asks after an answer fails validation or grounding."
    )

    # --- caching and limits -----------------------------------------------------
    cache: bool = Field(default=True, description="Use the on-disk cache of validated digests.")
    cache_dir: Path | None = Field(default=None, description="Default: $KHABAR_HOME/cache.")
    concurrency: int = Field(default=8, description="Requests in flight in a batch.")
    max_article_chars: int = Field(
        default=24000,
        description="Longer articles are truncated (with a warning in provenance) before the prompt.",
    )
    max_input_bytes: int = Field(
        default=20_000_000, description="Files larger than this are refused as input."
    )

    # --- embedded local model -------------------------------------------------------
    local_model: Path | None = Field(default=None, description="Path to a .gguf to run in-process.")
    local_repo: str = Field(
        default="Qwen/Qwen2.5-3B-Instruct-GGUF",
        description="Hugging Face repo downloaded on first use when no local_model is set.",
    )
    local_file: str = Field(default="qwen2.5-3b-instruct-q4_k_m.gguf")
    local_n_ctx: int = Field(default=8192, description="Context window for the local model.")
    local_threads: int | None = Field(default=None, description="CPU threads; default all cores.")
    local_repeat_penalty: float | None = Field(
        default=None,
        description="llama.cpp repeat penalty; default 1.3 for the bundled plumbing model, 1.1 otherwise.",
    )
    local_download: bool = Field(
        default=True,
        description="Allow downloading local_repo from the hub; false goes straight to the bundled model.",
    )

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else user_dir() / "cache"

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @property
    def uses_local_model(self) -> bool:
        """True when no endpoint is configured: run llama.cpp in-process."""
        return self.provider == "local" or (self.base_url is None and self.model is None)
