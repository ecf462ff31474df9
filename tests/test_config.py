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
