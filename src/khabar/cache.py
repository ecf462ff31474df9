"""The on-disk cache of validated digests (diskcache).

The key covers everything that changes the answer: the cleaned article text,
model, provider, endpoint, mode, prompt and schema versions, decoding
parameters and the grounding rules' version. The value is the validated
Digest as JSON. A corrupt, half-written or unreadable entry is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from .config import secure_dir
from .core.digest import Digest
from .errors import CacheError

__all__ = ["DigestCache", "cache_key"]

logger = logging.getLogger("khabar")


def cache_key(**parts: Any) -> str:
    """A stable hash of the keyword arguments (order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DigestCache:
    """A directory of cached digests.

    >>> cache = DigestCache(Path("/tmp/khabar-cache"))   # doctest: +SKIP
    >>> cache.get(key) is None                            # doctest: +SKIP
    True
    """

    def __init__(self, directory: Path) -> None:
        import diskcache

        self.directory = directory
        try:
            secure_dir(directory)
            self._cache = diskcache.Cache(str(directory), size_limit=4 * 2**30)
        except Exception as exc:  # sqlite can fail in many ways on a broken directory
            raise CacheError(f"cannot open the cache at {directory}: {exc}") from exc

    def get(self, key: str) -> Digest | None:
        try:
            raw = self._cache.get(key)
        except Exception as exc:
            logger.warning("cache entry %s unreadable (%s); treating as a miss", key[:12], exc)
            return None
        if raw is None:
            return None
        try:
            return Digest.model_validate_json(raw)
        except Exception:
            logger.warning("cache entry %s is corrupt; treating as a miss", key[:12])
            self.delete(key)
            return None

    def set(self, key: str, digest: Digest) -> None:
        try:
            self._cache.set(key, digest.model_dump_json())
        except Exception as exc:
            # A full disk must not fail an article whose digest we already have.
            logger.warning("could not write cache entry %s: %s", key[:12], exc)

    def delete(self, key: str) -> None:
        with contextlib.suppress(Exception):  # a corrupt entry is a miss anyway
            self._cache.delete(key)

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self._cache.close()
