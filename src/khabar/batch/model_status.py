"""The embedded model's progress in words, with estimates from the calls of this run.

:class:`ModelStatus` keeps what the finished calls took (prompt tokens per
second, tokens generated per second, answer lengths, seconds per article) and
turns each :class:`~khabar.llm.progress.ModelProgress` snapshot into one line::

    evaluating the prompt: 1,024/2,870 tokens (1,210 reused) · 61 tok/s · article ~1m35s · batch ~14m
    generating: 312 tokens (at most 768) · 4.2 tok/s · article ≤1m50s

An estimate needs rates: the first article has none until its own prompt
batches and tokens go by, and an answer's length is unknown until one has
ended, so until then the estimate is bounded by the answer's token cap (``≤``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from khabar.llm.progress import ModelProgress

__all__ = ["ModelStatus", "duration", "plural"]

# Tokens generated in this call before its own rate is trusted over the run's.
_STEADY = 8


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 article``, ``2 articles``.

    Example::

        >>> plural(1, "article"), plural(3, "file"), plural(2, "entry", "entries")
        ('1 article', '3 files', '2 entries')
    """
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``.

    Example::

        >>> duration(42.4), duration(185), duration(3725)
        ('42s', '3m05s', '1h02m')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class ModelStatus:
    """What the model's calls of this run took, and the line that describes the current one."""

    def __init__(self) -> None:
        self.calls = 0
        self.prompt_tokens = 0  # evaluated, not counting the tokens reused from llama.cpp's cache
        self.prompt_reused = 0
        self.prompt_s = 0.0
        self.generated = 0
        self.generate_s = 0.0
        self.model_s = 0.0
        self.queue_s = 0.0
        self.load_s: float | None = None
        self.waiting = 0
        self.previous_phase: str | None = None
        self._phase: str | None = None
        self._per_article: dict[str | None, float] = {}

    def update(self, p: ModelProgress) -> None:
        """Take in a snapshot (every one, in order)."""
        self.waiting = p.waiting
        if p.phase == "queued":  # another article's news: the running call's phase goes on
            return
        self.previous_phase, self._phase = self._phase, p.phase
        if p.phase == "loaded":
            self.load_s = p.elapsed_s
        if p.phase != "done":
            return
        prompt_s = p.prompt_s if p.prompt_s is not None else p.elapsed_s
        self.calls += 1
        self.prompt_tokens += p.prompt_done
        self.prompt_reused += p.prompt_reused
        self.prompt_s += prompt_s
        self.generated += p.generated
        self.generate_s += max(p.elapsed_s - prompt_s, 0.0)
        self.model_s += p.elapsed_s
        self.queue_s += p.queue_s
        self._per_article[p.article_id] = self._per_article.get(p.article_id, 0.0) + p.elapsed_s

    # --- rates of the finished calls -----------------------------------------------------------
    def prompt_rate(self) -> float | None:
        return self.prompt_tokens / self.prompt_s if self.prompt_tokens and self.prompt_s else None

    def generation_rate(self) -> float | None:
        return self.generated / self.generate_s if self.generated and self.generate_s else None

    def mean_answer(self) -> float | None:
        return self.generated / self.calls if self.calls else None

    def mean_article_s(self) -> float | None:
        times = self._per_article.values()
        return sum(times) / len(times) if times else None

    # --- estimates ---------------------------------------------------------------------------
    def eta(self, p: ModelProgress) -> tuple[float, bool] | None:
        """Seconds left in this call, and whether the answer's token cap bounds the estimate."""
        own = p.generation_rate if p.generated >= _STEADY else None
        gen_rate = own or self.generation_rate()
        expected = self.mean_answer()
        bounded = expected is None
        cap = p.max_tokens
        if expected is None:
            expected = float(cap) if cap else None
        if p.phase == "prompt":
            rate = p.prompt_rate or self.prompt_rate()
            if p.prompt_total is None or rate is None or gen_rate is None or expected is None:
                return None
            todo = p.prompt_total - p.prompt_reused - p.prompt_done
            return todo / rate + expected / gen_rate, bounded
        if p.phase == "generating":
            if gen_rate is None or expected is None:
                return None
            if p.generated >= expected and cap:  # longer than usual: only the cap bounds it
                expected, bounded = float(cap), True
            return max(expected - p.generated, 0.0) / gen_rate, bounded
        return None

    def prompt_left(self, p: ModelProgress) -> float | None:
        """Seconds left evaluating this prompt (known once its first batch is done)."""
        rate = p.prompt_rate or self.prompt_rate()
        if p.phase != "prompt" or p.prompt_total is None or rate is None:
            return None
        return (p.prompt_total - p.prompt_reused - p.prompt_done) / rate

    # --- words -------------------------------------------------------------------------------
    def line(self, p: ModelProgress, remaining: int | None = None) -> str:
        """The snapshot in one line; ``remaining``: articles of the batch without a record yet."""
        parts = [self._what(p)]
        eta = self.eta(p)
        if eta is not None:
            left, bounded = eta
            parts.append(f"article {'≤' if bounded else '~'}{duration(left)}")
            per_article = self.mean_article_s()
            if remaining is not None and per_article is not None:
                later = max(remaining - 1, 0) * per_article
                parts.append(f"batch ~{duration(left + later)}")
        elif (prompt_left := self.prompt_left(p)) is not None:
            parts.append(f"prompt ~{duration(prompt_left)} left")
        if self.waiting and p.phase not in ("done", "loaded"):
            parts.append(f"{plural(self.waiting, 'article')} waiting for the model")
        return " · ".join(parts)

    def _what(self, p: ModelProgress) -> str:
        if p.phase == "loading":
            return f"loading the model {p.model}…"
        if p.phase == "loaded":
            return f"model {p.model} loaded in {duration(p.elapsed_s)}"
        if p.phase == "queued":
            return "waiting for the model"
        if p.phase == "prompt" and p.prompt_total is None:
            return "evaluating the prompt…"
        if p.phase == "prompt":
            todo = (p.prompt_total or 0) - p.prompt_reused
            reused = f" ({p.prompt_reused:,} reused)" if p.prompt_reused else ""
            speed = f" · {p.prompt_rate:,.0f} tok/s" if p.prompt_rate else ""
            return f"evaluating the prompt: {p.prompt_done:,}/{todo:,} tokens{reused}{speed}"
        if p.phase == "generating":
            cap = f" (at most {p.max_tokens:,})" if p.max_tokens else ""
            rate = p.generation_rate
            speed = f" · {rate:.1f} tok/s" if rate and p.generated >= 2 else ""
            return f"generating: {plural(p.generated, 'token')}{cap}{speed}"
        reused = f" ({p.prompt_reused:,} reused)" if p.prompt_reused else ""
        total = p.prompt_total if p.prompt_total is not None else p.prompt_done
        waited = f"; waited {duration(p.queue_s)} for the model" if p.queue_s >= 1 else ""
        return (
            f"done: {total:,} prompt tokens{reused}, {plural(p.generated, 'token')} generated "
            f"in {duration(p.elapsed_s)}{waited}"
        )

    def summary(self) -> str | None:
        """One closing paragraph on the embedded model's work, or None when it never ran."""
        if not self.calls:
            return None
        prompt_rate, gen_rate = self.prompt_rate(), self.generation_rate()
        text = (
            f"Embedded model: {plural(self.calls, 'call')}, "
            f"{plural(self.prompt_tokens, 'prompt token')} evaluated"
            + (f" at {prompt_rate:,.0f} tok/s" if prompt_rate else "")
            + (
                f" ({self.prompt_reused:,} more reused from llama.cpp's cache)"
                if self.prompt_reused
                else ""
            )
            + f", {plural(self.generated, 'token')} generated"
            + (f" at {gen_rate:.1f} tok/s" if gen_rate else "")
            + f", {duration(self.model_s)} of computing."
        )
        if self.queue_s >= 1:
            text += (
                f" Articles also waited {duration(self.queue_s)} in all for the model, which "
                "takes one at a time; that wait is not the model's latency."
            )
        return text
