"""What a person sees during a batch: a rich progress bar on a terminal, plain lines otherwise.

Kept apart from the CLI so the CLI only wires options to it, and apart from the
batch runner, which knows nothing about terminals. File names come from
anywhere (zip archives, scrapers): what this module prints of them goes through
:func:`printable`.

The bar's total comes from :func:`khabar.batch.counting.count_inputs`, which the
CLI runs beside the batch (:meth:`BatchConsole.set_count`); until it arrives the
total is unknown. With the embedded model, a second line says what the model is
doing (:mod:`khabar.llm.progress`): loading, evaluating the prompt (tokens of the
total, per llama.cpp batch), generating (tokens, tokens/s), with an estimate for
the article and the batch; off a terminal the same news comes as a line per
phase, and every 30 s during a long one.
"""

from __future__ import annotations

import atexit
import logging
import re
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from khabar.batch.model_status import ModelStatus, duration, plural

if TYPE_CHECKING:
    from khabar.batch.counting import InputCount
    from khabar.llm.progress import ModelProgress

__all__ = ["BatchConsole", "plural", "printable", "provider_label"]

# What a terminal acts on instead of showing: C0/C1 controls (newline, carriage
# return, ESC sequences, tab, which separates the fields of a progress line),
# line and paragraph separators, and the bidi marks, embeddings, overrides and
# isolates that reorder the rest of the line (U+202E shows "txt.exe" as
# "exe.txt"). ZWNJ and ZWJ are spelling in Persian and Arabic, and stay.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` safe to print on one terminal line: controls and direction overrides escaped.

    Example::

        >>> printable("a\\nb\\u202etxt.exe")
        'a\\\\nb\\\\u202etxt.exe'
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_PROVIDERS = {
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "ollama": "Ollama",
    "vllm": "vLLM",
    "llamacpp": "a llama.cpp server",
    "local": "llama.cpp in-process",
    "replay": "recorded answers",
}


def provider_label(provider: str, *, guessed: bool = False) -> str:
    """The kind of endpoint in words; an unknown URL is an OpenAI-compatible server, not "vllm".

    Example::

        >>> provider_label("vllm", guessed=True)
        'an OpenAI-compatible server (kind guessed from the URL)'
    """
    if guessed and provider == "vllm":
        # guess_provider answers "vllm" for any URL it does not know: the mode it picks
        # (named tools) is the one such servers share, the name is only a guess.
        return "an OpenAI-compatible server (kind guessed from the URL)"
    return _PROVIDERS.get(provider, provider)


# Off a terminal, a line at least this often while the model works on one article.
_HEARTBEAT_S = 30.0


class BatchConsole:
    """Progress for ``khabar summarize``; writes to stderr so stdout can carry JSONL."""

    def __init__(
        self,
        enabled: bool | None = None,
        *,
        limit: int | None = None,
        provider_guessed: bool = False,
    ) -> None:
        self.tty = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.cached = 0
        self.resumed = 0
        self.limit = limit
        self.count: InputCount | None = None
        self.model = ModelStatus()
        self._provider_guessed = provider_guessed
        self._progress: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._unsubscribe: Any = None
        self._last_line = 0.0
        self._shown: ModelProgress | None = None
        self._counting: threading.Thread | None = None
        self._run_model: str | None = None  # for the closing table's cost
        self._run_provider: str | None = None

    # --- the total -----------------------------------------------------------------------
    def set_count(self, count: InputCount) -> None:
        """The inputs, counted (in a thread of the CLI's): the bar gets its total."""
        with self._lock:
            self.count = count
        self._refresh_total()

    def count_in_background(self, paths: list[str], *, max_input_bytes: int) -> None:
        """Count the inputs in a daemon thread (a dead mount must not hold the run) and set the total."""
        from khabar.batch.counting import count_inputs

        def count() -> None:
            try:
                self.set_count(count_inputs(paths, max_input_bytes=max_input_bytes))
            except Exception:  # the bar then shows no total; the run itself does not care
                logging.getLogger("khabar").debug("counting the inputs failed", exc_info=True)

        self._counting = threading.Thread(target=count, name="khabar-count", daemon=True)
        self._counting.start()

    def total(self) -> int | None:
        """Articles this run will write a record for, when known (resumed ones are not counted)."""
        if self.count is None:
            return None
        left = max(self.count.articles - self.resumed, self.done)
        return left if self.limit is None else min(left, self.limit)

    def _refresh_total(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=self.total())

    # --- the run ---------------------------------------------------------------------------
    def on_start(self, info: dict[str, Any]) -> None:
        """Called once the model is ready: says which model runs, and warns about plumbing models."""
        from rich.console import Console
        from rich.markup import escape

        from khabar.llm.progress import subscribe

        console = Console(stderr=True)
        self._run_model, self._run_provider = info.get("model"), info.get("provider")
        # Escaped: a model path may hold "[", which rich would read as markup.
        label = provider_label(str(info.get("provider")), guessed=self._provider_guessed)
        model, provider, mode = (
            escape(str(v)) for v in (info.get("model"), label, info.get("mode"))
        )
        workers = int(info.get("workers") or 1)
        tail = f", {workers} processes" if workers > 1 else ""
        console.print(f"[bold]khabar[/bold] model: {model} via {provider} ({mode}){tail}")
        # The model's warnings (a plumbing model...) were logged when it was loaded.
        if self._unsubscribe is None:
            self._unsubscribe = subscribe(self.on_model)
            # A run stopped by Ctrl-C or SIGTERM never reaches finish(): still give the
            # terminal its cursor back, and leave the bar on a line of its own.
            atexit.register(self.close)
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

            self._progress = _progress_with_status(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[pace]}"),
                TimeElapsedColumn(),
                TextColumn("cache {task.fields[cached]} · failed {task.fields[failed]}"),
                console=console,
                transient=False,
            )
            self._progress.start()
            if info.get("total") is not None and self.count is None:
                from khabar.batch.counting import InputCount

                self.count = InputCount(articles=int(info["total"]))
            self._task = self._progress.add_task(
                "summarizing", total=self.total(), pace="", cached=0, failed=0
            )

    def on_event(self, event: Any) -> None:
        kind = getattr(event, "kind", None)
        if kind == "skipped":  # done in an earlier run: not this run's work
            with self._lock:
                self.resumed += 1
            self._refresh_total()
            return
        if kind != "finished":
            return
        with self._lock:
            self.done += 1
            status = getattr(event, "status", "ok")
            if status != "ok":
                self.failed += 1
            if getattr(event, "cache_hit", False):
                self.cached += 1
        if self._progress is not None:
            self._progress.update(
                self._task, advance=1, pace=self._pace(), cached=self.cached, failed=self.failed
            )
            self._show_model()
        else:
            reason = getattr(event, "reason", None)
            tail = f" ({reason})" if reason else ""
            cache = " [cache]" if getattr(event, "cache_hit", False) else ""
            print(
                f"{self.done}\t{status}\t{printable(event.article_id)}{cache}{tail}",
                file=sys.stderr,
                flush=True,
            )

    def _pace(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.done / elapsed
        # A slow model makes "0.0/s" of every rate: say the time per article instead.
        return f"{rate:.1f}/s" if rate >= 1 else f"{duration(elapsed / self.done)}/article"

    # --- the embedded model -----------------------------------------------------------------
    def on_model(self, progress: ModelProgress) -> None:
        """A snapshot from the embedded model (called in its worker thread)."""
        with self._lock:
            self.model.update(progress)
            if progress.phase != "queued":
                self._shown = progress
        if self._progress is not None:
            self._show_model()
            return
        line = self._plain_line(progress)
        if line is not None:
            self._last_line = time.perf_counter()
            print(f"model\t{line}", file=sys.stderr, flush=True)

    def _remaining(self) -> int | None:
        total = self.total()
        return None if total is None else max(total - self.done, 0)

    def _show_model(self) -> None:
        shown = self._shown
        if self._progress is None or shown is None:
            return
        self._progress.status = self._model_line(shown)

    def _model_line(self, p: ModelProgress) -> str:
        line = self.model.line(p, self._remaining())
        return f"{printable(p.article_id)}: {line}" if p.article_id else line

    def _plain_line(self, p: ModelProgress) -> str | None:
        """Off a terminal: a line per phase change, and a heartbeat during a long one."""
        previous = self.model.previous_phase
        if p.phase in ("loading", "loaded", "done"):
            return self._model_line(p)
        if p.phase == "generating" and previous == "prompt":  # the prompt is evaluated
            return self._model_line(p)
        if time.perf_counter() - self._last_line >= _HEARTBEAT_S and p.phase != "queued":
            return self._model_line(p)
        return None

    def close(self) -> None:
        """Stop the progress bar and the model updates; safe to call more than once."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
            atexit.unregister(self.close)
        progress, self._progress = self._progress, None
        if progress is not None:
            progress.stop()

    def finish(self, stats: Any, prices: Any = None) -> None:
        """The closing table; ``prices`` (a :class:`~khabar.core.cost.PriceTable`) prices its tokens."""
        from rich.console import Console
        from rich.table import Table

        from khabar.core.cost import estimate_cost, format_cost

        self.close()
        if self._counting is not None:
            # Counting is a listing: done long before any batch; a hung one is not waited for.
            self._counting.join(timeout=2.0)
        skipped_files = self.count.skipped if self.count is not None else {}
        columns = [
            ("articles", str(stats.total)),
            ("succeeded", str(stats.succeeded)),
            ("failed", str(stats.failed)),
            ("skipped (done)", str(stats.skipped)),
            ("from cache", str(stats.from_cache)),
            ("duplicates", str(stats.duplicates)),
            ("tokens in/out", f"{stats.prompt_tokens}/{stats.completion_tokens}"),
            ("retries", str(stats.transport_retries)),
            ("re-asked", f"{stats.reasked}/{stats.called}"),
            # An estimate at the price table's list prices; n/a for a model it does not price.
            (
                "est. cost",
                format_cost(
                    0.0
                    if self._run_provider == "local"
                    else estimate_cost(
                        stats.prompt_tokens, stats.completion_tokens, self._run_model, prices
                    ),
                    getattr(prices, "currency", "USD"),
                ),
            ),
            ("wall time", f"{stats.wall_s:.1f}s"),
        ]
        if skipped_files:
            columns.insert(4, ("not text (left out)", str(sum(skipped_files.values()))))
        table = Table(title="khabar summarize")
        for name, _ in columns:
            table.add_column(name, justify="right")
        table.add_row(*(value for _, value in columns))
        # Off a terminal (logs, CI) rich would squeeze the table into 80 columns.
        console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
        console.print(table)
        if stats.called:
            console.print(stats.reask_summary(), markup=False, highlight=False)
        if skipped_files:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(skipped_files.items()))
            console.print(
                f"Left out {plural(sum(skipped_files.values()), 'file')} that "
                f"{'is' if sum(skipped_files.values()) == 1 else 'are'} not text ({kinds}); "
                "name a file on the command line to read it anyway.",
                markup=False,
                highlight=False,
            )
        summary = self.model.summary()
        if summary:
            console.print(summary, markup=False, highlight=False)
        if stats.failures_by_reason:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats.failures_by_reason.items()))
            console.print(f"[red]failures by reason[/red]: {reasons}")


def _progress_with_status(*columns: Any, **kwargs: Any) -> Any:
    """rich's Progress with one more line under the bar: what the model is doing."""
    from rich.progress import Progress
    from rich.text import Text

    class WithStatus(Progress):
        status = ""

        def get_renderables(self) -> Any:
            yield from super().get_renderables()
            if self.status:
                yield Text(self.status, no_wrap=True, overflow="ellipsis")

    return WithStatus(*columns, **kwargs)
