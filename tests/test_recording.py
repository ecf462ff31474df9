"""Recorded exchanges: record once, replay offline, catch stale recordings, never store secrets."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from khabar import Summarizer
from khabar.errors import RecordingMissingError
from khabar.testing import Reply

from .conftest import SENTINEL_KEY, seed
from .test_pipeline import good_answer

ARTICLE = seed("003")


async def test_record_then_replay_without_any_server(server, settings_for, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes" / "fake-model"
    server.script(Reply.digest(good_answer()))
    settings = settings_for(server, cache=False)
    async with Summarizer(settings, record_dir=cassettes, model_label="fake-model (scripted)") as s:
        recorded = await s.asummarize(ARTICLE, article_id="003")
    files = list(cassettes.glob("*.json"))
    assert len(files) == 1
    cassette = json.loads(files[0].read_text(encoding="utf-8"))
    assert cassette["model"] == "fake-model (scripted)"
    assert cassette["article_id"] == "003"
    assert cassette["request"]["body"]["model"] == "fake-model"
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cassettes.stat().st_mode) == 0o700

    # Replay: no server needed at all (point at a closed port to prove it).
    replay_settings = settings.model_copy(update={"base_url": "http://127.0.0.1:9/v1"})
    async with Summarizer(replay_settings, replay_dir=cassettes) as s:
        replayed = await s.asummarize(ARTICLE, article_id="003")
        assert s.backend.replay is not None and s.backend.replay.unplayed() == set()
    assert replayed.model_dump(exclude={"provenance"}) == recorded.model_dump(
        exclude={"provenance"}
    )
    assert replayed.provenance.provider == "replay"
    assert len(server.requests) == 1


async def test_no_secret_reaches_a_recording(server, settings_for, tmp_path: Path) -> None:
    cassettes = tmp_path / "c"
    server.script(Reply.digest(good_answer()))
    async with Summarizer(settings_for(server, cache=False), record_dir=cassettes) as s:
        await s.asummarize(ARTICLE, article_id="003")
    # The server did get the key (so it was really sent) ...
    assert server.requests[0].headers.get("authorization", "").endswith(SENTINEL_KEY)
    # ... and no file under the cassette directory holds it.
    for path in cassettes.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert SENTINEL_KEY not in text
            assert "authorization" not in text.lower()


async def test_a_changed_prompt_is_a_stale_recording(server, settings_for, tmp_path: Path) -> None:
    cassettes = tmp_path / "c"
    server.script(Reply.digest(good_answer()))
    settings = settings_for(server, cache=False)
    async with Summarizer(settings, record_dir=cassettes) as s:
        await s.asummarize(ARTICLE, article_id="003")
    # Same article, different decoding parameter: the request differs, so no recording.
    changed = settings.model_copy(update={"max_tokens": 999})
    async with Summarizer(changed, replay_dir=cassettes) as s:
        with pytest.raises(RecordingMissingError) as info:
            await s.asummarize(ARTICLE, article_id="003")
        assert s.backend.replay is not None and len(s.backend.replay.unplayed()) == 1
    message = str(info.value)
    assert "003" in message and "--record" in message


async def test_a_changed_article_is_a_stale_recording(server, settings_for, tmp_path: Path) -> None:
    cassettes = tmp_path / "c"
    server.script(Reply.digest(good_answer()))
    settings = settings_for(server, cache=False)
    async with Summarizer(settings, record_dir=cassettes) as s:
        await s.asummarize(ARTICLE, article_id="003")
    async with Summarizer(settings, replay_dir=cassettes) as s:
        with pytest.raises(RecordingMissingError):
            await s.asummarize(ARTICLE.replace("2.4", "2.5"), article_id="003")
