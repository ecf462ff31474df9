"""What a batch did (:class:`BatchStats`) and what it tells a progress bar (:class:`BatchEvent`).

Kept apart from the runner so that the single-process runner, the worker pool
and the reports count the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["BatchEvent", "BatchStats", "describe_reasks"]


@dataclass
class BatchStats:
    """What a batch did. ``succeeded + failed + skipped == total``.

    Tokens and re-asks count every model answer this run paid for: the digests
    written, and the drafts of digests rejected as unsupported (their record
    keeps the draft, whose provenance says what it cost). Cache hits and
    duplicates cost nothing and are not counted. A failure with no answer at
    all (transport, an answer that never parsed) reports no tokens.

    ``called`` is how many articles got an answer from the model in this run,
    ``reasked`` how many of them needed at least one re-ask (:attr:`reask_rate`);
    ``reask_gain_facts`` and ``reask_gain_sentences`` are the net change in kept
    facts and sentences from the first answer to the last, summed (negative
    when re-asks lost more than they won).

    Example::

        >>> stats = BatchStats(total=3, succeeded=2, failed=1, failures_by_reason={"empty": 1})
        >>> stats.failed, stats.failures_by_reason
        (1, {'empty': 1})
        >>> BatchStats(called=8, reasked=2).reask_rate
        0.25
    """

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    from_cache: int = 0
    duplicates: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    transport_retries: int = 0
    wall_s: float = 0.0
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    called: int = 0
    reasked: int = 0
    reasks: int = 0
    reask_prompt_tokens: int = 0
    reask_completion_tokens: int = 0
    reask_gain_facts: int = 0
    reask_gain_sentences: int = 0

    @property
    def reask_rate(self) -> float:
        """Share of the articles that called the model which were re-asked at least once."""
        return self.reasked / self.called if self.called else 0.0

    def reask_summary(self) -> str:
        """One sentence on re-asks for a person (the CLI's closing lines); see :func:`describe_reasks`."""
        return describe_reasks(
            called=self.called,
            reasked=self.reasked,
            reasks=self.reasks,
            gain_facts=self.reask_gain_facts,
            gain_sentences=self.reask_gain_sentences,
            prompt_tokens=self.reask_prompt_tokens,
            completion_tokens=self.reask_completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
        )

    def count_answer(self, provenance: Any) -> None:
        """Add what one article's model answer cost: a ``Provenance`` or its JSON dict.

        A cache hit adds only to ``from_cache``.
        """
        if isinstance(provenance, Mapping):
            get = provenance.get
        else:

            def get(name: str, default: Any = None) -> Any:
                return getattr(provenance, name, default)

        if get("cache_hit", False):
            self.from_cache += 1
            return
        self.called += 1
        reasks = int(get("reasks", 0) or 0)
        self.reasks += reasks
        self.reasked += int(reasks > 0)
        self.prompt_tokens += int(get("prompt_tokens", 0) or 0)
        self.completion_tokens += int(get("completion_tokens", 0) or 0)
        self.transport_retries += int(get("transport_retries", 0) or 0)
        self.reask_prompt_tokens += int(get("reask_prompt_tokens", 0) or 0)
        self.reask_completion_tokens += int(get("reask_completion_tokens", 0) or 0)
        self.reask_gain_facts += int(get("reask_gain_facts", 0) or 0)
        self.reask_gain_sentences += int(get("reask_gain_sentences", 0) or 0)


def describe_reasks(
    *,
    called: int,
    reasked: int,
    reasks: int,
    gain_facts: int,
    gain_sentences: int,
    prompt_tokens: int,
    completion_tokens: int,
    total_tokens: int,
) -> str:
    """What re-asks cost and won, in one sentence (the CLI and the Markdown report say the same).

    Example::

        >>> describe_reasks(called=40, reasked=3, reasks=4, gain_facts=5, gain_sentences=2,
        ...                 prompt_tokens=9000, completion_tokens=800, total_tokens=98000)
        'Re-asks: 3 of the 40 articles that called the model (8%) were re-asked, 4 re-asks in all; net gain +5 facts and +2 sentences, for 9,000 prompt + 800 completion tokens (10% of all tokens).'
    """
    if not called:
        return "Re-asks: no article called the model."
    if not reasked:
        return f"Re-asks: none of the {called} articles that called the model was re-asked."
    share = (
        f" ({(prompt_tokens + completion_tokens) / total_tokens:.0%} of all tokens)"
        if total_tokens
        else ""
    )
    return (
        f"Re-asks: {reasked} of the {called} articles that called the model "
        f"({reasked / called:.0%}) were re-asked, {reasks} re-ask{'s' * (reasks != 1)} in all; "
        f"net gain {gain_facts:+d} facts and {gain_sentences:+d} sentences, for "
        f"{prompt_tokens:,} prompt + {completion_tokens:,} completion tokens{share}."
    )


@dataclass(frozen=True)
class BatchEvent:
    """Progress of one article, for progress bars.

    ``kind`` is ``started`` (``process`` was called), ``finished`` (its record
    was written; ``status``, ``cache_hit``, ``reason`` and ``duplicate_of`` say
    how) or ``skipped`` (already done in the output).

    Example::

        >>> def on_event(event: BatchEvent) -> None:
        ...     if event.kind == "finished" and event.status == "error":
        ...         print(event.article_id, event.reason)
        >>> on_event(BatchEvent("finished", "a.txt", status="error", reason="empty"))
        a.txt empty
    """

    kind: Literal["started", "finished", "skipped"]
    article_id: str
    status: Literal["ok", "error"] | None = None
    cache_hit: bool = False
    reason: str | None = None
    duplicate_of: str | None = None
