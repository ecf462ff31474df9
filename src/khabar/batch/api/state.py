"""The job directory: the state file, the article manifest, and a lock.

A batch job lives in one directory next to its output (``out.batch/`` for
``out.jsonl``)::

    state.json               batch and file ids, statuses, counts: this file only, rewritten atomically
    articles.jsonl           one line per article sent: id, source, text, title, custom_id
    requests-r0-000.jsonl    request lines in the OpenAI batch format (round 0, part 000)
    carry-r1.jsonl           the loop's state of each article re-asked in round 1
    output-r0-000.jsonl      downloaded output file of a part; errors-r0-000.jsonl its error file
    next-r0-000.jsonl        the follow-ups a processed part produced (re-asks, resends)

``state.json`` holds ids, names and counts only: never a key, never a URL
with credentials (the endpoint is written as ``public_endpoint`` gives it),
never article text. Any machine with the directory and the same settings can
pick the job up; a killed process loses nothing, because every file is
written whole or not at all and the output JSONL itself records which
articles are finished (see :mod:`khabar.batch.api.collector`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from khabar.errors import ConfigError, KhabarError

from .requests import atomic_write

__all__ = ["STATE_NAME", "JobState", "Part", "job_lock", "load_state", "save_state"]

STATE_NAME = "state.json"
MANIFEST_NAME = "articles.jsonl"
_VERSION = 1

# Batch statuses after which nothing more will happen to a batch.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled", "answered"})


@dataclass
class Part:
    """One batch input file and what became of it.

    ``status`` is ``prepared`` (written, not sent), then the provider's batch
    status (``validating`` ... ``completed``, ``failed``, ``expired``,
    ``cancelled``), or ``answered`` when its answers were read from a file
    (``collect --from-file``, e.g. a vLLM ``run_batch`` output).
    """

    name: str  # "r0-000"
    round: int
    file: str  # "requests-r0-000.jsonl"
    requests: int
    bytes: int
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str = "prepared"
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int | None = None
    ended_at: int | None = None
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    processed: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass
class JobState:
    """Everything a new process needs to pick the job up (and nothing secret)."""

    job_id: str
    output: str  # the JSONL output, relative to the job directory (both move together)
    offset: int  # the output's size when the job was prepared: records after it are this job's
    model: str
    provider: str
    endpoint: str | None
    mode: str
    url: str
    max_requests: int
    max_bytes: int
    articles: int = 0  # articles in the manifest (sent, or sharing a request)
    round: int = 0
    parts: list[Part] = field(default_factory=list)
    cancelled: bool = False
    quota_failures: int = 0  # batches refused on the enqueued-token limit so far
    estimate: dict[str, Any] = field(default_factory=dict)
    version: int = _VERSION

    def output_path(self, job_dir: Path) -> Path:
        return Path(os.path.normpath(job_dir / self.output))

    def parts_of(self, round_: int) -> list[Part]:
        return [p for p in self.parts if p.round == round_]

    @property
    def current(self) -> list[Part]:
        return self.parts_of(self.round)

    def finished(self, job_dir: Path) -> bool:
        """Every part processed, and the last round left no follow-up to send."""
        if not all(p.processed for p in self.parts):
            return False
        for part in self.current:
            path = job_dir / f"next-{part.name}.jsonl"
            if path.exists() and path.stat().st_size > 0:
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobState:
        if data.get("version") != _VERSION:
            raise ConfigError(
                f"this batch job was written by another version of khabar (state version "
                f"{data.get('version')}, this one reads {_VERSION})"
            )
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        part_fields = {f.name for f in fields(Part)}
        values["parts"] = [
            Part(**{k: v for k, v in p.items() if k in part_fields}) for p in data.get("parts", [])
        ]
        return cls(**values)


def load_state(job_dir: Path) -> JobState:
    path = job_dir / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{job_dir} is not a khabar batch job (it has no {STATE_NAME})",
            hint="Create one with `khabar batch prepare PATHS -o OUT.jsonl`.",
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return JobState.from_json(data)


def save_state(job_dir: Path, state: JobState) -> None:
    text = json.dumps(state.to_json(), ensure_ascii=False, indent=1, sort_keys=True)
    atomic_write(job_dir / STATE_NAME, (text + "\n").encode("utf-8"))


@contextlib.contextmanager
def job_lock(job_dir: Path) -> Iterator[None]:
    """One command at a time per job directory (submit, collect, cancel, prepare)."""
    job_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(job_dir / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if sys.platform != "win32":
            import fcntl

            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise KhabarError(
                    f"another khabar batch command is working on {job_dir}",
                    hint="Wait for it to finish; every command can be run again safely.",
                ) from None
        yield
    finally:
        os.close(fd)


class JsonlIndex:
    """Lines of a JSONL file by one field, read on demand (memory: offsets, not lines)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.offsets: dict[str, list[int]] = {}
        if not path.exists():
            return
        with open(path, "rb") as f:
            offset = 0
            for raw in f:
                if raw.endswith(b"\n") and raw.strip():
                    value = json.loads(raw).get(key)
                    if isinstance(value, str):
                        self.offsets.setdefault(value, []).append(offset)
                offset += len(raw)

    def get(self, value: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if value not in self.offsets:
            return out
        with open(self.path, "rb") as f:
            for offset in self.offsets.get(value, ()):
                f.seek(offset)
                out.append(json.loads(f.readline()))
        return out

    def __contains__(self, value: object) -> bool:
        return value in self.offsets

    def __iter__(self) -> Iterator[str]:
        return iter(self.offsets)
