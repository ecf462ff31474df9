"""What the embedded model is doing right now, for whoever shows it (the batch console).

On two shared cores one article can take the local model many minutes: loading
it, evaluating the prompt (thousands of tokens), then generating the answer
token by token. :class:`~khabar.llm.local.LocalLlamaTransport` publishes a
:class:`ModelProgress` snapshot at each step to every subscriber; the console
subscribes for the length of a batch. Snapshots name the article through
:data:`khabar.llm.retry.call_stats`, so concurrent articles never mix.

Subscribers are called in the model's worker thread, at most a few times a
second during generation: they must be quick and must not raise (what one
raises is logged and dropped, never passed on to the model call).

Example::

    >>> seen = []
    >>> unsubscribe = subscribe(seen.append)
    >>> publish(ModelProgress("a1", "prompt", model="m", prompt_done=512, prompt_total=2048))
    >>> unsubscribe()
    >>> seen[0].prompt_done, seen[0].prompt_total
    (512, 2048)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CallProgress", "ModelProgress", "Phase", "publish", "subscribe"]

logger = logging.getLogger("khabar")

Phase = Literal["loading", "loaded", "queued", "prompt", "generating", "done"]


@dataclass(frozen=True)
class ModelProgress:
    """One snapshot of one model call (or of loading the model).

    ``phase``: ``loading`` / ``loaded`` (the model, once per run; ``elapsed_s``
    is the load time), ``queued`` (the call waits for the model, busy with
    another article), ``prompt`` (llama.cpp evaluates the prompt, in batches:
    ``prompt_done`` of ``prompt_total`` tokens, ``prompt_reused`` more already
    in its cache from the previous article), ``generating`` (``generated``
    tokens of at most ``max_tokens``), ``done`` (with the exact token counts).
    Times are seconds: ``queue_s`` waiting for the model, ``elapsed_s`` since
    the call got it, ``prompt_s`` spent evaluating the prompt.
    """

    article_id: str | None
    phase: Phase
    model: str = ""
    prompt_done: int = 0
    prompt_total: int | None = None
    prompt_reused: int = 0
    generated: int = 0
    max_tokens: int | None = None
    queue_s: float = 0.0
    elapsed_s: float = 0.0
    prompt_s: float | None = None
    waiting: int = 0

    @property
    def generation_rate(self) -> float | None:
        """Tokens generated per second so far (None before the first one)."""
        if self.prompt_s is None or self.generated <= 0:
            return None
        spent = self.elapsed_s - self.prompt_s
        return self.generated / spent if spent > 0 else None

    @property
    def prompt_rate(self) -> float | None:
        """Prompt tokens evaluated per second so far (None before the first batch is done)."""
        spent = self.prompt_s if self.prompt_s is not None else self.elapsed_s
        return self.prompt_done / spent if self.prompt_done and spent > 0 else None


_subscribers: list[Callable[[ModelProgress], None]] = []
_lock = threading.Lock()


def subscribe(callback: Callable[[ModelProgress], None]) -> Callable[[], None]:
    """Call ``callback`` with every snapshot from now on; returns the function that stops it."""
    with _lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def publish(progress: ModelProgress) -> None:
    """Hand ``progress`` to every subscriber; a subscriber's failure never reaches the model call."""
    with _lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            callback(progress)
        except Exception:
            logger.exception("a model progress subscriber failed")


class CallProgress:
    """One model call's progress, published as :class:`ModelProgress` as it goes.

    The embedded model's transport feeds it: :meth:`begin_prompt`, :meth:`evaluated`
    per prompt batch, :meth:`end_prompt`, :meth:`generated_one` per token, :meth:`finish`.
    """

    # Generation publishes at most this often: a fast model makes dozens of tokens a second.
    EVERY_S = 0.25

    def __init__(
        self,
        article_id: str | None,
        model: str,
        max_tokens: int | None,
        *,
        queue_s: float,
        waiting: Callable[[], int],
    ) -> None:
        self.article_id, self.model, self.max_tokens = article_id, model, max_tokens
        self.queue_s = queue_s
        self._waiting = waiting
        self.started = time.perf_counter()
        self.prompt_total: int | None = None
        self.prompt_reused = 0
        self.prompt_done = 0
        self.prompt_s: float | None = None
        self.generated = 0
        self._published = 0.0

    def snapshot(self, phase: Phase) -> ModelProgress:
        return ModelProgress(
            self.article_id,
            phase,
            model=self.model,
            prompt_done=self.prompt_done,
            prompt_total=self.prompt_total,
            prompt_reused=self.prompt_reused,
            generated=self.generated,
            max_tokens=self.max_tokens,
            queue_s=self.queue_s,
            elapsed_s=time.perf_counter() - self.started,
            prompt_s=self.prompt_s,
            waiting=self._waiting(),
        )

    def publish(self, phase: Phase) -> None:
        self._published = time.perf_counter()
        publish(self.snapshot(phase))

    def begin_prompt(self, *, reused: int, todo: int) -> None:
        self.prompt_reused, self.prompt_total = reused, reused + todo
        self.publish("prompt")

    def evaluated(self, n: int) -> None:
        self.prompt_done += n
        self.publish("prompt")

    def end_prompt(self) -> None:
        self.prompt_s = time.perf_counter() - self.started
        self.publish("generating")

    def generated_one(self) -> None:
        self.generated += 1
        if time.perf_counter() - self._published >= self.EVERY_S:
            self.publish("generating")

    def finish(self, prompt_tokens: Any, completion_tokens: Any) -> None:
        # The exact counts, from llama.cpp's usage: the last token is sampled, never evaluated.
        if isinstance(prompt_tokens, int):
            self.prompt_total = prompt_tokens
            self.prompt_done = prompt_tokens - self.prompt_reused
        if isinstance(completion_tokens, int):
            self.generated = completion_tokens
        self.publish("done")
