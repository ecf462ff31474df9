"""Issue #12: the progress line shows file names as text, never as terminal control."""

from __future__ import annotations

import pytest

from khabar.batch import BatchEvent
from khabar.batch.console import BatchConsole, printable

HOSTILE = {
    "in/a\nb.txt": "in/a\\nb.txt",  # a newline would forge a second progress line
    "in/x\r\x1b[2Kok.txt": "in/x\\r\\x1b[2Kok.txt",  # carriage return and an ANSI erase
    "in/\u202etxt.exe": "in/\\u202etxt.exe",  # right-to-left override: shows "exe.txt"
    "in/\u2067a\u2069\u200f.txt": "in/\\u2067a\\u2069\\u200f.txt",  # isolates, RLM
    "in/\x85\u2028.txt": "in/\\x85\\u2028.txt",  # NEL and LINE SEPARATOR break lines too
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_progress_lines_escape_control_and_direction_characters(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    console = BatchConsole(enabled=False)
    console.on_event(BatchEvent("finished", name, status="error", reason="empty"))
    err = capsys.readouterr().err
    assert err == f"1\terror\t{HOSTILE[name]} (empty)\n"


def test_arabic_and_persian_names_are_shown_as_they_are() -> None:
    # ZWNJ is part of Persian spelling (می‌خواهم), not a trick: it stays.
    for name in ("in/خبر عاجل.txt", "in/می\u200cخواهم.md", "in/م\\xff.txt"):
        assert printable(name) == name


def test_a_stopped_run_gives_the_terminal_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C never reaches finish(): the bar is stopped at exit (cursor shown again)."""
    import atexit

    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", registered.remove)
    console = BatchConsole(enabled=True)
    console.on_start({"model": "/models/[/odd].gguf", "provider": "local", "mode": "json"})
    progress = console._progress
    assert progress is not None and progress.live.is_started
    assert registered == [console.close]
    console.close()  # what atexit runs
    assert not progress.live.is_started and registered == []
    console.close()  # twice is harmless
