"""Settings: every setting documented in .env.example, precedence, secrets."""

from __future__ import annotations

import re

import pytest

from khabar.config import Settings

from .conftest import REPO, SENTINEL_KEY


def test_every_setting_is_in_env_example() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*((?:KHABAR|OPENAI)_[A-Z_]+)=", example, flags=re.M))
    for name, field in Settings.model_fields.items():
        aliases = {f"KHABAR_{name.upper()}"}
        if field.validation_alias is not None:
            aliases = {
                a for a in field.validation_alias.choices if isinstance(a, str) and a.isupper()
            }  # type: ignore[union-attr]
        assert aliases & documented, f"{name} ({aliases}) is missing from .env.example"


def test_environment_and_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("KHABAR_MODEL", "qwen2.5:7b")
    s = Settings()
    assert s.api_key_value() == SENTINEL_KEY
    assert s.base_url == "http://localhost:11434/v1"
    assert s.model == "qwen2.5:7b"
    assert not s.uses_local_model
    # KHABAR_ wins over OPENAI_; an explicit argument wins over both.
    monkeypatch.setenv("KHABAR_BASE_URL", "http://vllm:8000/v1")
    assert Settings().base_url == "http://vllm:8000/v1"
    assert Settings(base_url="http://x/v1").base_url == "http://x/v1"


def test_key_is_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    s = Settings()
    assert SENTINEL_KEY not in repr(s)
    assert SENTINEL_KEY not in s.model_dump_json()


def test_no_model_no_url_means_local() -> None:
    assert Settings().uses_local_model
    assert not Settings(model="gpt-4o-mini").uses_local_model


def test_a_password_in_the_base_url_is_a_secret() -> None:
    """Issue #12 item 10: registered when settings are made, whatever prints them later."""
    from khabar.redaction import redact

    Settings(model="m", base_url="http://alice:Tr0ub4dor-horse@gpu.lan:8000/v1")
    line = "POST http://alice:Tr0ub4dor-horse@gpu.lan:8000/v1/chat/completions failed"
    assert redact(line) == "POST http://alice:***@gpu.lan:8000/v1/chat/completions failed"
    assert redact("the server said Tr0ub4dor-horse") == "the server said ***"
    # Any URL's password, registered or not.
    assert redact("postgres://bob:hunter2@db/x") == "postgres://bob:***@db/x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("false", False), ("0", False), ("required", "required")],
)
def test_cache_setting(monkeypatch: pytest.MonkeyPatch, value: str, expected: object) -> None:
    monkeypatch.setenv("KHABAR_CACHE", value)
    settings = Settings()
    assert settings.cache == expected
    assert settings.cache_required is (expected == "required")
    assert bool(settings.cache) is (expected is not False)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_timeout_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("KHABAR_TIMEOUT", value)
    with pytest.raises(ValueError, match="timeout"):
        Settings()


def test_prompts_dir_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue #12 item 13: the error hint names KHABAR_PROMPTS_DIR, so it must exist."""
    monkeypatch.setenv("KHABAR_PROMPTS_DIR", str(tmp_path))
    assert Settings().prompts_dir == tmp_path
    assert Settings(prompts_dir=None).prompts_dir is None


def test_azure_endpoint_makes_the_provider_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://contoso.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SENTINEL_KEY)
    settings = Settings(model="dep")
    assert (settings.provider, settings.base_url) == ("azure", "https://contoso.openai.azure.com")
    assert settings.api_key_value() == SENTINEL_KEY
    assert not settings.uses_local_model
    assert SENTINEL_KEY not in repr(settings)
