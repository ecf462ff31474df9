"""The batch console: file names shown as text (issue #12); totals, the model's progress, estimates (#13)."""

from __future__ import annotations

from collections import Counter

import pytest

from khabar.batch import BatchEvent
from khabar.batch.console import BatchConsole, printable, provider_label
from khabar.batch.counting import InputCount
from khabar.batch.model_status import ModelStatus, duration, plural
from khabar.llm.progress import ModelProgress

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


# --- issue #13: a total, the model's progress, estimates ----------------------------------------


def snap(phase: str, **kw: object) -> ModelProgress:
    values: dict[str, object] = {"model": "qwen", "max_tokens": 768}
    values.update(kw)
    article_id = values.pop("article_id", "a.txt")
    return ModelProgress(article_id, phase, **values)  # type: ignore[arg-type]


def test_the_prompt_line_says_tokens_of_total_reuse_and_rate() -> None:
    status = ModelStatus()
    p = snap("prompt", prompt_done=1024, prompt_total=4080, prompt_reused=1210, elapsed_s=16.0)
    line = status.line(p)
    assert line.startswith("evaluating the prompt: 1,024/2,870 tokens (1,210 reused) · 64 tok/s")
    # No answer has ended yet: the prompt's own estimate, nothing invented for the rest.
    assert "prompt ~29s left" in line and "article" not in line


def test_the_first_answer_is_bounded_by_its_cap_then_estimated_from_the_run() -> None:
    status = ModelStatus()
    first = snap(
        "generating",
        prompt_total=3000,
        prompt_done=3000,
        prompt_s=60.0,
        elapsed_s=80.0,
        generated=100,
    )
    # 5 tok/s, nothing finished yet: at most the cap's 668 more tokens, 2m14s.
    assert status.line(first) == "generating: 100 tokens (at most 768) · 5.0 tok/s · article ≤2m14s"
    status.update(
        snap(
            "done",
            prompt_total=3000,
            prompt_done=3000,
            prompt_s=60.0,
            elapsed_s=140.0,
            generated=400,
        )
    )
    later = snap(
        "generating",
        article_id="b.txt",
        prompt_total=3000,
        prompt_done=2000,
        prompt_s=40.0,
        elapsed_s=60.0,
        generated=100,
    )
    # Answers here run 400 tokens: 300 more at 5 tok/s; the batch: 9 more articles at 140 s.
    assert status.line(later, remaining=10).endswith("· article ~1m00s · batch ~22m00s")


def test_an_article_waiting_for_the_model_is_counted_and_the_wait_named() -> None:
    status = ModelStatus()
    status.update(snap("queued", article_id="b.txt", waiting=2))
    assert "2 articles waiting for the model" in status.line(snap("prompt"))
    done = snap(
        "done",
        prompt_total=900,
        prompt_done=900,
        generated=12,
        elapsed_s=20.0,
        queue_s=1100.0,
        waiting=0,
    )
    status.update(done)
    assert status.line(done) == (
        "done: 900 prompt tokens, 12 tokens generated in 20s; waited 18m20s for the model"
    )
    summary = status.summary() or ""
    assert (
        "1 call" in summary and "waited 18m20s" in summary and "not the model's latency" in summary
    )


def test_plain_output_has_a_line_per_phase_not_per_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = BatchConsole(enabled=False)
    console.on_model(snap("loading", article_id=None))
    console.on_model(snap("loaded", article_id=None, elapsed_s=2.4))
    for done in range(0, 2048, 512):
        console.on_model(snap("prompt", prompt_done=done, prompt_total=2048))
    console.on_model(
        snap("generating", prompt_done=2048, prompt_total=2048, prompt_s=30.0, elapsed_s=30.0)
    )
    for n in range(1, 50):
        console.on_model(
            snap(
                "generating",
                prompt_done=2048,
                prompt_total=2048,
                prompt_s=30.0,
                elapsed_s=30.0 + n,
                generated=n,
            )
        )
    console.on_model(
        snap(
            "done", prompt_done=2048, prompt_total=2048, prompt_s=30.0, elapsed_s=80.0, generated=50
        )
    )
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "model\tloading the model qwen…",
        "model\tmodel qwen loaded in 2s",
        "model\ta.txt: generating: 0 tokens (at most 768)",  # the prompt is done
        "model\ta.txt: done: 2,048 prompt tokens, 50 tokens generated in 1m20s",
    ]


def test_the_total_counts_this_runs_work(monkeypatch: pytest.MonkeyPatch) -> None:
    console = BatchConsole(enabled=False, limit=None)
    assert console.total() is None  # not counted yet: the bar shows no total rather than a guess
    console.set_count(InputCount(articles=10, skipped=Counter({".png": 2})))
    assert console.total() == 10
    console.on_event(BatchEvent("skipped", "done-before.txt"))  # resumed: not this run's work
    assert console.total() == 9
    limited = BatchConsole(enabled=False, limit=3)
    limited.set_count(InputCount(articles=10))
    assert limited.total() == 3


def test_a_slow_pace_is_time_per_article_not_zero_per_second() -> None:
    console = BatchConsole(enabled=False)
    console.done, console.started = 2, console.started - 600
    assert console._pace() == "5m00s/article"


def test_the_closing_table_counts_files_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    console = BatchConsole(enabled=False)
    console.set_count(InputCount(articles=5, skipped=Counter({".png": 2, ".pdf": 1})))
    from khabar.batch import BatchStats

    stats = BatchStats(total=5, succeeded=5, wall_s=1.0, called=5, reasked=1, reasks=1)
    console.finish(stats)
    err = capsys.readouterr().err
    assert "re-asked" in err and "1/5" in err
    assert "not text (left out)" in err
    assert "Left out 3 files that are not text (.pdf 1, .png 2); name a file" in err


def test_an_unknown_endpoint_is_not_called_vllm() -> None:
    assert provider_label("vllm", guessed=True).startswith("an OpenAI-compatible server")
    assert provider_label("vllm", guessed=False) == "vLLM"
    assert provider_label("local") == "llama.cpp in-process"


def test_words_for_counts_and_durations() -> None:
    assert (plural(1, "article"), plural(2, "article")) == ("1 article", "2 articles")
    assert (duration(59.6), duration(61), duration(7322)) == ("1m00s", "1m01s", "2h02m")
