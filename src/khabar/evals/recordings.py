"""Why a recording is missing, in words: absent file, or a request that changed (and how).

Replay (:class:`khabar.llm.recording.ReplayTransport`) looks a request up by
the hash of its body and raises :class:`~khabar.errors.RecordingMissingError`
when no file has that name. The hash says nothing about *why*, so
:func:`explain_missing` works it out from the cassette directory:

* the file is committed but absent from the working tree (deleted by hand, a
  partial checkout): ``git checkout`` restores it;
* the article has no recording at all (a new or renamed article);
* otherwise the request changed: the stored request of the nearest recording
  of that article is compared with the new one, part by part — model,
  decoding parameters, schema (tools / response format), the prompt around
  the article, the article itself — and the differences are shown.

:class:`RequestCapture` keeps the body of the last request the pipeline
sent, through an httpx request hook on the backend's client, so the harness
can compare it without touching the transport.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from khabar.core.text import truncate
from khabar.llm.recording import request_key

__all__ = [
    "RequestCapture",
    "explain_missing",
    "missing_key",
    "recorded_articles",
    "recording_owners",
    "replay_cap",
    "rerecord_command",
]

_FENCE = re.compile(r"<(article[-\w]*)>\n(.*)\n</\1>", re.DOTALL)
_SCHEMA_KEYS = ("tools", "tool_choice", "response_format", "functions", "function_call")
_SHOWN_LINES = 8
_WIDTH = 150


class RequestCapture:
    """Remembers the last request body sent through an httpx2 client (a request hook)."""

    def __init__(self) -> None:
        self.body: Any = None
        self.key: str | None = None

    def attach(self, client: object) -> bool:
        """Hook into ``client`` (the backend's ``http_client``); False when it has none."""
        if not isinstance(client, httpx2.AsyncClient):
            return False
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [*hooks.get("request", []), self._remember]}
        return True

    async def _remember(self, request: httpx2.Request) -> None:
        try:
            raw = request.content
            self.body = json.loads(raw) if raw else None
        except (httpx2.RequestNotRead, ValueError):
            self.body = None
            self.key = None
            return
        # The same key the recorder gives it: the last two path segments are the endpoint.
        endpoint = "/".join(request.url.path.rstrip("/").split("/")[-2:])
        self.key = request_key(request.method, endpoint, self.body)


def missing_key(message: str) -> str | None:
    """The recording key a RecordingMissingError message names, if any."""
    m = re.search(r"key ([0-9a-f]{16,64})", message)
    return m.group(1) if m else None


def _git_knows(path: Path) -> str | None:
    """How git can restore ``path`` ("git checkout -- P" / "git checkout HEAD -- P"), or None."""
    git = shutil.which("git")
    if git is None or not path.parent.is_dir():
        return None

    def run(*args: str) -> bool:
        try:
            done = subprocess.run(
                [git, "-C", str(path.parent), *args],
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    if run("ls-files", "--error-unmatch", "--", path.name):
        return f"git checkout -- {path}"
    if run("cat-file", "-e", f"HEAD:./{path.name}"):
        return f"git checkout HEAD -- {path}"
    return None


def _cassettes(directory: Path, article_id: str | None) -> Iterator[tuple[Path, Any]]:
    for path in sorted(directory.glob("*.json")):
        if path.name == "model.json":
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("article_id") == article_id:
            yield path, (data.get("request") or {}).get("body")


def _split(messages: Any) -> tuple[list[tuple[str, str]], str | None]:
    """(role, prompt text with the article replaced by a marker) per message, and the article."""
    out: list[tuple[str, str]] = []
    article: str | None = None
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            content = json.dumps(content, ensure_ascii=False, sort_keys=True)
        m = _FENCE.search(content)
        if m and article is None:
            article = m.group(2)
            content = content[: m.start(2)] + "{article}" + content[m.end(2) :]
        out.append((str(message.get("role", "?")) if isinstance(message, dict) else "?", content))
    return out, article


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)


def _clip(line: str) -> str:
    return line if len(line) <= _WIDTH else line[: _WIDTH - 1] + "…"


def _text_diff(old: str, new: str, label: str) -> list[str]:
    lines = [
        _clip(line.rstrip("\n"))
        for line in difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"recorded {label}",
            f"new {label}",
            n=0,
            lineterm="",
        )
        if not line.startswith("@@")
    ]
    if len(lines) > _SHOWN_LINES + 2:
        lines = [*lines[: _SHOWN_LINES + 2], f"... ({len(lines) - _SHOWN_LINES - 2} more lines)"]
    return ["    " + line for line in lines]


def _json_paths(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """Paths where two JSON values differ (the schema can be long; say where, not all of it)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in old:
                yield f"{path}.{key} added"
            elif key not in new:
                yield f"{path}.{key} removed"
            else:
                yield from _json_paths(old[key], new[key], f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _json_paths(a, b, f"{path}[{i}]")
    elif old != new:
        yield f"{path or '(whole)'}: {_clip(_canonical(old))[:60]} -> {_clip(_canonical(new))[:60]}"


def _distance(old: Any, new: Any) -> float:
    """How far apart two request bodies are; 0 for equal ones."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return float("inf")
    score = 0.0
    for key in set(old) | set(new):
        if key == "messages":
            continue
        score += old.get(key) != new.get(key)
    om, nm = old.get("messages") or [], new.get("messages") or []
    score += abs(len(om) - len(nm)) * 2
    for a, b in zip(om, nm, strict=False):
        score += 1 - difflib.SequenceMatcher(None, _canonical(a), _canonical(b)).quick_ratio()
    return score


def what_changed(old: Any, new: Any) -> list[str]:
    """The differences between a recorded request body and a new one, part by part."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ["  the recorded request has no JSON body to compare"]
    out: list[str] = []
    if old.get("model") != new.get("model"):
        out.append(f"  model: {old.get('model')!r} -> {new.get('model')!r}")
    decoding = sorted(
        k for k in set(old) | set(new) if k not in (*_SCHEMA_KEYS, "messages", "model")
    )
    for key in decoding:
        if old.get(key) != new.get(key):
            out.append(f"  decoding parameter {key}: {old.get(key)!r} -> {new.get(key)!r}")
    schema_old = {k: old.get(k) for k in _SCHEMA_KEYS if k in old}
    schema_new = {k: new.get(k) for k in _SCHEMA_KEYS if k in new}
    if schema_old != schema_new:
        paths = list(_json_paths(schema_old, schema_new))
        out.append(f"  schema (tools / response format): {len(paths)} difference(s)")
        out += [f"    {p}" for p in paths[:_SHOWN_LINES]]
        if len(paths) > _SHOWN_LINES:
            out.append(f"    ... ({len(paths) - _SHOWN_LINES} more)")
    old_msgs, old_article = _split(old.get("messages"))
    new_msgs, new_article = _split(new.get("messages"))
    if [r for r, _ in old_msgs] != [r for r, _ in new_msgs]:
        out.append(
            f"  messages: {[r for r, _ in old_msgs]} -> {[r for r, _ in new_msgs]} "
            "(a re-ask, or the conversation changed)"
        )
    for i, ((role, a), (_, b)) in enumerate(zip(old_msgs, new_msgs, strict=False)):
        if a != b:
            out.append(f"  prompt, message {i} ({role}) changed:")
            out += _text_diff(a, b, f"{role} prompt")
    if old_article != new_article:
        if old_article is None or new_article is None:
            out.append("  article: not found in one of the requests")
        else:
            out.append("  article changed (the page, or how khabar cleans it):")
            out += _text_diff(old_article, new_article, "article")
    if not out:
        out.append("  nothing differs in the body: the endpoint or the recording's name changed")
    return out


def recorded_articles(directory: Path) -> dict[str, str]:
    """The article text each article's first recorded request carried, by article id.

    A local model's context is small, so the pipeline cuts a long article to fit
    it before asking (``provenance.truncated``); replay has no model and no
    tokenizer to cut by, so it reads the cut from the recording (:func:`replay_cap`).
    """
    out: dict[str, tuple[int, str]] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name == "model.json":
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        body = (data.get("request") or {}).get("body") if isinstance(data, dict) else None
        messages = body.get("messages") if isinstance(body, dict) else None
        article_id = data.get("article_id") if isinstance(data, dict) else None
        _, article = _split(messages)
        if not isinstance(article_id, str) or article is None or not isinstance(messages, list):
            continue
        # The first turn (fewest messages) is the one the article was fitted for.
        if article_id not in out or len(messages) < out[article_id][0]:
            out[article_id] = (len(messages), article)
    return {k: v for k, (_, v) in out.items()}


def recording_owners(directory: Path, keys: set[str]) -> dict[str, str | None]:
    """The article each recording of ``keys`` belongs to (None when it does not say)."""
    out: dict[str, str | None] = {}
    for key in keys:
        try:
            data = json.loads((directory / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out[key] = None
            continue
        owner = data.get("article_id") if isinstance(data, dict) else None
        out[key] = owner if isinstance(owner, str) else None
    return out


def replay_cap(cleaned: str, recorded: str | None) -> int | None:
    """The ``max_article_chars`` that cuts ``cleaned`` to exactly ``recorded``, if one does.

    None when the recording is not a cut of this very text (then the article or
    its cleaning changed, and replay says so) or when nothing was cut.
    """
    if recorded is None or len(recorded) >= len(cleaned) or not cleaned.startswith(recorded):
        return None
    # truncate() stops before the separator it cuts at: allow for the separator's length.
    for extra in range(4):
        cap = len(recorded) + extra
        if truncate(cleaned, cap)[0] == recorded:
            return cap
    return None


def rerecord_command(replay_dir: Path, info: dict[str, Any], extra_args: str = "") -> str:
    """The full shell command that re-records ``replay_dir`` with the model that made it.

    The bundled plumbing model runs in-process, which needs the ``local`` extra,
    and is what khabar falls back to when downloads are off; any other model
    needs its endpoint settings.
    """
    args = f"khabar eval --record {replay_dir}{extra_args} --json evals/baseline.json"
    if info.get("provider") == "local":
        label = str(info.get("label", ""))
        env = "KHABAR_LOCAL_DOWNLOAD=0 " if "plumbing" in label else ""
        return f"pip install -e '.[local]' && {env}{args}"
    return (
        f"pip install -e . && KHABAR_MODEL={info.get('model')} {args}  "
        "(with that model's endpoint settings: OPENAI_BASE_URL, OPENAI_API_KEY)"
    )


def explain_missing(
    replay_dir: Path,
    article_id: str | None,
    message: str,
    new_body: Any,
    command: str,
) -> str:
    """Why replay found no recording for ``article_id``'s request, and what to run.

    ``message`` is the RecordingMissingError's text (it names the key),
    ``new_body`` the body of the request that missed (None when unknown),
    ``command`` the re-record command (:func:`rerecord_command`).
    """
    key = missing_key(message)
    head = f"no recording for this request (key {key}) in {replay_dir}"
    if key is not None:
        restore = _git_knows(replay_dir / f"{key}.json")
        if restore is not None:
            return (
                f"{head}: the recording {key}.json is committed but absent from the working "
                f"tree. Restore it with `{restore}`."
            )
    recorded = list(_cassettes(replay_dir, article_id))
    if not recorded:
        return (
            f"{head}: this article has no recording at all (a new or renamed article, or "
            f"recordings of another article set).\nRecord it: `{command}`"
        )
    if new_body is None:
        return f"{head}: the request changed since it was recorded.\nRe-record: `{command}`"
    path, old = min(recorded, key=lambda item: _distance(item[1], new_body))
    lines = [
        f"{head}: the request changed since it was recorded. Compared with the nearest "
        f"recording of this article ({path.name}):",
        *what_changed(old, new_body),
        f"Re-record (and review the new baseline): `{command}`",
    ]
    return "\n".join(lines)
