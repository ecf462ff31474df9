"""An unusable cache is reported once and the run goes on uncached, or stops before any model
call when the cache is required; it never fails an article (issue #12, item B5)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from khabar.cache import DigestCache, cache_key, check_cache
from khabar.config import Settings
from khabar.errors import CacheError


def garbage_header(root: Path) -> Path:
    (root / "cache").mkdir()
    (root / "cache" / "cache.db").write_bytes(b"this is not sqlite" * 500)
    return root / "cache"


def truncated_database(root: Path) -> Path:
    import diskcache

    directory = root / "cache"
    with diskcache.Cache(str(directory)) as raw:
        for i in range(200):
            raw.set(f"k{i}", "x" * 5000)
    db = directory / "cache.db"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    return directory


def file_in_place_of_directory(root: Path) -> Path:
    (root / "cache").write_text("I am a file")
    return root / "cache"


BROKEN: dict[str, Callable[[Path], Path]] = {
    "garbage-header": garbage_header,
    "truncated": truncated_database,
    "file-for-directory": file_in_place_of_directory,
}


@pytest.fixture(autouse=True)
def _fresh_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test sees the first report of its own broken cache.
    monkeypatch.setattr("khabar.cache._reported", set())


@pytest.mark.parametrize("make", BROKEN.values(), ids=BROKEN.keys())
def test_an_unusable_cache_is_switched_off_and_reported_once(
    make: Callable[[Path], Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from khabar.core.digest import Digest

    directory = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="khabar"):
        caches = [DigestCache(directory) for _ in range(2)]  # the CLI's check, then the run
        for cache in caches:
            key = cache_key(article="a")
            assert cache.get(key) is None
            cache.set(key, Digest.model_construct())
            assert cache.get(key) is None
    assert all(cache.unavailable for cache in caches)
    assert not any(cache.enabled for cache in caches)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    (warning,) = warnings
    assert str(directory) in warning and "KHABAR_CACHE_DIR" in warning and "--no-cache" in warning


@pytest.mark.parametrize("make", BROKEN.values(), ids=BROKEN.keys())
def test_a_required_cache_that_cannot_be_used_is_an_error(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    directory = make(tmp_path)
    with pytest.raises(CacheError) as caught:
        DigestCache(directory, required=True)
    assert str(directory) in str(caught.value)
    assert "required" in str(caught.value) and "KHABAR_CACHE_DIR" in str(caught.value)


def test_a_store_that_refuses_writes_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a read-only directory looks like to sqlite. Tests and CI run as root, who
    writes to a read-only directory anyway, so the refusal is made at the store."""
    import diskcache

    def readonly(self: object, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(diskcache.Cache, "set", readonly)
    cache = DigestCache(tmp_path / "cache")
    assert cache.unavailable is not None and "readonly" in cache.unavailable


def test_a_store_that_breaks_mid_run_is_switched_off_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = DigestCache(tmp_path / "cache")
    assert cache.enabled

    class Broken:
        def get(self, key: str) -> None:
            raise sqlite3.DatabaseError("database disk image is malformed")

        def close(self) -> None:
            pass

    cache._cache = Broken()
    with caplog.at_level(logging.WARNING, logger="khabar"):
        for _ in range(3):
            assert cache.get(cache_key(article="x")) is None
    assert cache.unavailable and "malformed" in cache.unavailable
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_a_working_cache_is_not_reported_and_counts_only_digests(tmp_path: Path) -> None:
    cache = DigestCache(tmp_path / "cache", required=True)
    assert cache.enabled and cache.unavailable is None
    assert len(cache) == 0  # the open-time check entry is not a digest
    assert check_cache(Settings(cache_dir=tmp_path / "cache")) is None


def test_check_cache_follows_the_setting(tmp_path: Path) -> None:
    directory = garbage_header(tmp_path)
    assert check_cache(Settings(cache=False, cache_dir=directory)) is None
    assert "DatabaseError" in (check_cache(Settings(cache_dir=directory)) or "")
    with pytest.raises(CacheError):
        check_cache(Settings(cache="required", cache_dir=directory))
    # Described, not raised, when the caller only wants to know (khabar info).
    assert check_cache(Settings(cache="required", cache_dir=directory), required=False)


async def test_every_article_runs_when_the_cache_is_broken(
    tmp_path: Path, mock: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the first article failed with reason ``cache``, the rest ran uncached silently."""
    from khabar.pipeline import Summarizer

    from .conftest import seed

    directory = garbage_header(tmp_path)
    settings = Settings(
        model="fake-model",
        base_url=mock.base_url,
        api_key="x",
        cache_dir=directory,  # type: ignore[attr-defined]
    )
    with caplog.at_level(logging.WARNING, logger="khabar"):
        async with Summarizer(settings, transport=mock) as summarizer:  # type: ignore[arg-type]
            for prefix in ("000", "001", "002"):
                digest = await summarizer.asummarize(seed(prefix), article_id=prefix)
                assert not digest.provenance.cache_hit
            assert summarizer.cache is not None and summarizer.cache.unavailable
    reports = [r for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(reports) == 1
