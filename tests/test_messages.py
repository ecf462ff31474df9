"""Every error a user can meet, as the user reads it: what happened, to which input, what to do.

Each case below makes its error the way a run makes it (the real reader, the
real openai + instructor stack against the in-process fake endpoint, the real
local transport over a scripted llama), renders it as the CLI and the error
records do (``str(exc)``), and checks its shape: one line; the message and the
hint each a sentence, separated; the article named once; no validation dump, no
"1 attempts". ``test_the_table`` prints all of them together (``pytest -s``).

The messages built in ``llm/openai_compat.py`` (an answer cut off or off the
schema) and ``llm/errors.py`` (an endpoint that fails) are checked here too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from khabar.config import Settings
from khabar.core.digest import DigestDraft
from khabar.errors import KhabarError
from khabar.testing import MockTransport, Reply

from .conftest import seed
from .test_local import ScriptedLlama

# --- how each error is made ----------------------------------------------------------------------


def _read(tmp_path: Path, name: str, data: bytes, **kwargs: Any) -> KhabarError:
    from khabar.batch.inputs import iter_articles

    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if data == b"FIFO":
        os.mkfifo(path)
    else:
        path.write_bytes(data)
    (article,) = [a for a in iter_articles([folder], **kwargs) if a.error is not None]
    assert article.error is not None
    return article.error


def _ask(tmp_path: Path, *replies: Reply, **settings: Any) -> KhabarError:
    from khabar.llm import build_backend

    mock = MockTransport()
    mock.script(*replies)
    values: dict[str, Any] = {
        "model": "fake-model",
        "base_url": mock.base_url,
        "api_key": "x",
        "retry_base_wait": 0.001,
        "max_transport_retries": 0,
    }
    values.update(settings)
    backend = build_backend(Settings(**values), transport=mock)

    async def go() -> None:
        try:
            await backend.ask(
                [{"role": "user", "content": "an article"}],
                DigestDraft,
                max_tokens=64,
                temperature=0.0,
                max_retries=0,
                article_id="in/a.txt",
            )
        finally:
            await backend.aclose()

    return _caught(lambda: asyncio.run(go()))


def _caught(call: Callable[[], Any]) -> KhabarError:
    with pytest.raises(KhabarError) as caught:
        call()
    return caught.value


def _unreachable(tmp_path: Path) -> KhabarError:
    from khabar.llm import build_backend

    settings = Settings(
        model="m", base_url="http://127.0.0.1:9/v1", api_key="x", max_transport_retries=0
    )
    backend = build_backend(settings)

    async def go() -> None:
        try:
            await backend.ask(
                [{"role": "user", "content": "x"}],
                DigestDraft,
                max_tokens=8,
                temperature=0.0,
                article_id="in/a.txt",
            )
        finally:
            await backend.aclose()

    return _caught(lambda: asyncio.run(go()))


def _plumbing_cut_off(tmp_path: Path) -> KhabarError:
    """The bundled plumbing model's answer, cut at its 768-token cap (scripted)."""
    import khabar
    from khabar.llm.local import PLUMBING_LIMITS, LocalLlamaTransport, LocalModelChoice
    from khabar.llm.openai_compat import OpenAICompatibleBackend

    class CutLlama(ScriptedLlama):
        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            result = super().create_chat_completion(**kwargs)
            result["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"ti'
            result["usage"]["completion_tokens"] = kwargs["max_tokens"]
            return result

    choice = LocalModelChoice(path=tmp_path / "m.gguf", name="smol", origin="t", plumbing=True)
    transport = LocalLlamaTransport(choice, llama=CutLlama({}))
    settings = Settings(provider="local", model="smol", cache=False)

    async def go() -> None:
        async with khabar.Summarizer(settings, transport=transport) as summarizer:
            # The limits the bundled model gets: its plan sets them when it finds the
            # model on disk, which a scripted transport skips.
            summarizer._plan = dataclasses.replace(summarizer.plan, limits=PLUMBING_LIMITS)
            backend = summarizer.backend
            assert isinstance(backend, OpenAICompatibleBackend)
            backend.limits = PLUMBING_LIMITS
            await summarizer.asummarize(seed("003"), article_id="in/a.txt")

    return _caught(lambda: asyncio.run(go()))


def _unsupported(tmp_path: Path) -> KhabarError:
    import khabar
    from khabar.testing import invented_digest_responder

    mock = MockTransport(invented_digest_responder)
    settings = Settings(model="m", base_url=mock.base_url, api_key="x", cache=False, max_reasks=0)
    return _caught(
        lambda: khabar.summarize(
            seed("003"), settings=settings, transport=mock, article_id="in/a.txt"
        )
    )


def _replay_missing(tmp_path: Path) -> KhabarError:
    import khabar

    async def go() -> None:
        async with khabar.Summarizer(Settings(model="m", cache=False), replay_dir=tmp_path) as s:
            await s.asummarize(seed("003"), article_id="in/a.txt")

    return _caught(lambda: asyncio.run(go()))


def _no_key(tmp_path: Path) -> KhabarError:
    from khabar.llm import build_backend

    return _caught(lambda: build_backend(Settings(model="gpt-4o-mini")))


def _no_model(tmp_path: Path) -> KhabarError:
    from khabar.llm import plan_backend

    return _caught(lambda: plan_backend(Settings(base_url="http://localhost:8000/v1")))


def _missing_gguf(tmp_path: Path) -> KhabarError:
    from khabar.llm.local import resolve_local_model

    return _caught(lambda: resolve_local_model(Settings(local_model=tmp_path / "m.gguf")))


def _cache(tmp_path: Path) -> KhabarError:
    from khabar.cache import check_cache

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return _caught(lambda: check_cache(Settings(cache="required", cache_dir=blocker / "cache")))


CONTEXT_BODY = {"error": {"message": "Requested tokens (9000) exceed context window of 4096"}}
INVALID_BODY = {
    "detail": [{"type": "literal_error", "loc": ["body", "response_format", "type"], "msg": "x"}]
}

CASES: dict[str, Any] = {
    "missing file": lambda t: _missing(t),
    "empty file": lambda t: _read(t, "a.txt", b"  \n"),
    "binary file": lambda t: _read(t, "a.txt", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    "too large": lambda t: _read(t, "a.txt", b"x" * 100, max_input_bytes=10),
    "bad JSONL line": lambda t: _read(t, "a.jsonl", b'{"text": "ok"}\n{broken\n'),
    "JSONL line not UTF-8": lambda t: _read(t, "a.jsonl", b'{"text": "\xff"}\n'),
    "record without text": lambda t: _read(t, "a.jsonl", b'{"body": "x"}\n'),
    "a FIFO": lambda t: _read(t, "pipe.txt", b"FIFO"),
    "folder of images": lambda t: _images(t),
    "no API key": _no_key,
    "no model for the endpoint": _no_model,
    "KHABAR_LOCAL_MODEL missing": _missing_gguf,
    "cache unusable": _cache,
    "401": lambda t: _ask(t, Reply.status(401)),
    "429 after every retry": lambda t: _ask(t, Reply.status(429)),
    "503 after every retry": lambda t: _ask(t, Reply.status(503)),
    "context too small": lambda t: _ask(t, Reply.status(400, body=CONTEXT_BODY)),
    "request refused as invalid": lambda t: _ask(t, Reply.status(500, body=INVALID_BODY)),
    "model not found": lambda t: _ask(t, Reply.status(404)),
    "answer not in the schema": lambda t: _ask(
        t, Reply.digest({"title_en": "x", "people": "not a list"})
    ),
    "plumbing answer cut off": _plumbing_cut_off,
    "endpoint unreachable": _unreachable,
    "nothing supported": _unsupported,
    "no recording": _replay_missing,
}


def _missing(tmp_path: Path) -> KhabarError:
    from khabar.batch.inputs import iter_articles

    (article,) = iter_articles([tmp_path / "nope.txt"])
    assert article.error is not None
    return article.error


def _images(tmp_path: Path) -> KhabarError:
    from khabar.batch.inputs import iter_articles

    folder = tmp_path / "pics"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    (article,) = iter_articles([folder])
    assert article.error is not None
    return article.error


# --- what a message must look like --------------------------------------------------------------

_END = (".", "!", "?")
# Pydantic's dump of a validation error: input values and a documentation URL.
_DUMP = re.compile(r"input_value=|For further information visit|errors\.pydantic\.dev")
_ONE_PLURAL = re.compile(r"\b1 (attempts|articles|records|files|tokens|calls|retries)\b")


def check_shape(error: KhabarError) -> str:
    text = str(error)
    assert "\n" not in text, "one line: it goes into a log line and a JSONL record"
    assert text.endswith(_END), f"not a sentence: {text!r}"
    if error.article_id:
        tag = f"[{error.article_id}] "
        subject = text.removeprefix(tag).split(": ", 1)[0]
        if text.startswith(tag):  # the message's own subject must not name it again
            assert error.article_id not in subject, f"named twice: {text!r}"
        else:  # untagged: the message starts by naming the input
            assert error.article_id.replace("#", ":") in subject or error.article_id in subject
    hint = error.hint.strip()
    if hint:
        assert hint[0].isupper() or hint[0] == "`", f"the hint is not a sentence: {hint!r}"
        message = text[: text.rindex(hint.rstrip("."))].rstrip()
        assert message.endswith(_END), f"message and hint glued: {text!r}"
    assert not _DUMP.search(text), f"a validation dump: {text!r}"
    assert not _ONE_PLURAL.search(text), f"a plural after 1: {text!r}"
    return text


@pytest.mark.parametrize("make", list(CASES.values()), ids=list(CASES))
def test_every_message_is_sentences_naming_the_input_once(make: Any, tmp_path: Path) -> None:
    check_shape(make(tmp_path))


def test_the_connection_failure_names_the_endpoint(tmp_path: Path) -> None:
    assert "the connection to the endpoint at http://127.0.0.1:9 failed" in str(
        _unreachable(tmp_path)
    )


def test_the_plumbing_model_is_not_told_to_raise_what_it_cannot(tmp_path: Path) -> None:
    """Its re-asks are forced to 0 and its answers capped at 768: no advice to raise either."""
    text = str(_plumbing_cut_off(tmp_path))
    assert "cut off at the token limit (768 tokens)" in text  # not "control character found"
    assert "KHABAR_MAX_REASKS" not in text and "KHABAR_MAX_TOKENS" not in text
    assert "capped at 768 tokens" in text and "capable model" in text


def test_khabar_error_joins_message_and_hint_as_sentences() -> None:
    from khabar.errors import ConfigError, EmptyArticleError, TransportError

    assert str(ConfigError("OPENAI_API_KEY is not set", hint="Set it.")) == (
        "OPENAI_API_KEY is not set. Set it."
    )
    # The path is the message's own subject: no "[in/a.txt] in/a.txt: ..." any more.
    empty = EmptyArticleError("data/in/a.txt: the file is empty", article_id="in/a.txt")
    assert str(empty).startswith("data/in/a.txt: the file is empty. There is no text")
    tagged = TransportError("the endpoint kept failing (5xx)", article_id="in/a.txt")
    assert str(tagged).startswith("[in/a.txt] the endpoint kept failing (5xx). Check")
    assert str(KhabarError("done already!")) == "done already!"


def test_the_table(tmp_path: Path) -> None:
    """Every message at once, for a person to read (pytest -s tests/test_messages.py)."""
    rows = []
    for n, (name, make) in enumerate(CASES.items()):
        factory = make.values[0] if hasattr(make, "values") else make
        folder = tmp_path / str(n)
        folder.mkdir()
        error = factory(folder)
        rows.append(f"{name:28} {error.reason:17} {error}")
    print("\n" + "\n".join(rows))
    assert len(rows) == len(CASES)
    assert len({row.split("  ")[0] for row in rows}) == len(CASES)


USAGE_ERRORS = {
    "key variable unset": ["info", "-m", "m", "--key-env", "NO_SUCH_VARIABLE_KHABAR"],
    "key file and variable": ["info", "-m", "m", "--key-env", "X", "--key-file", "FILE"],
    "empty key file": ["info", "-m", "m", "--key-file", "FILE"],
    "md without a file": ["summarize", "a.txt", "--format", "md"],
    "html without a file": ["summarize", "a.txt", "--html", "r.html"],
    "replay and record": ["eval", "--replay", "r", "--record", "r"],
    "a bad setting": ["info", "--timeout", "-1"],
    "report of a file without records": ["report", "FILE"],
}


@pytest.mark.parametrize("args", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_usage_errors_are_sentences_too(args: list[str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from khabar.cli import cli

    empty = tmp_path / "empty"
    empty.write_text("\n")
    args = [str(empty) if a == "FILE" else a for a in args]
    result = CliRunner().invoke(cli, args, env={"X": "v", "KHABAR_MODEL": "m"})
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and last.endswith(_END), last
