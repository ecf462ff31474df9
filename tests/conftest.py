"""Shared fixtures: an isolated environment for every test, the seeds, and the fake server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTICLES = REPO / "evals" / "articles"
SEEDS = {p.stem: p for p in sorted(ARTICLES.glob("*.txt"))}
SENTINEL_KEY = "sk-khabar-SENTINEL-0123456789abcdef"


def corpus_sample() -> list[dict[str, Any]]:
    """120 real Arabic and Persian news articles with language labels (tests/data/README.md)."""
    path = REPO / "tests" / "data" / "corpus_sample.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def seed(prefix: str) -> str:
    """The text of the seed article whose stem starts with ``prefix`` (e.g. '003')."""
    for stem, path in SEEDS.items():
        if stem.startswith(prefix):
            return path.read_text(encoding="utf-8")
    raise KeyError(prefix)


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's keys, endpoints, caches or the network."""
    for name in list(os.environ):
        if name.startswith(("KHABAR_", "OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("khabar-home")
    monkeypatch.setenv("KHABAR_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    # pydantic-settings reads ./.env: make sure a developer's .env never leaks in.
    monkeypatch.setitem(
        __import__("khabar.config", fromlist=["Settings"]).Settings.model_config, "env_file", None
    )


@pytest.fixture(scope="session")
def _socket_server() -> Iterator[object]:
    """One real socket server for the whole session (faults that need a socket, the CLI)."""
    from khabar.testing import FakeOpenAI

    with FakeOpenAI() as srv:
        yield srv


@pytest.fixture
def server(_socket_server: Any) -> Iterator[object]:
    """The session's socket server, with no script, no requests and no faults left over."""
    _socket_server.reset()
    yield _socket_server
    _socket_server.reset()


@pytest.fixture
def mock() -> object:
    """An in-process fake endpoint (:class:`khabar.testing.MockTransport`)."""
    from khabar.testing import MockTransport

    return MockTransport()


@pytest.fixture
def settings_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings pointed at a fake server, with fast retries and a private cache."""
    from khabar.config import Settings

    def make(server: object, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "model": "fake-model",
            "base_url": server.base_url,  # type: ignore[attr-defined]
            "api_key": SENTINEL_KEY,
            "cache_dir": tmp_path / "cache",
            "retry_base_wait": 0.01,
            "retry_max_wait": 2.0,
            "timeout": 5.0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make
