"""Many articles: inputs, the runner, the JSONL store, the console and the Markdown report."""

from __future__ import annotations

from .runner import BatchEvent, BatchStats, run_batch, summarize_paths

__all__ = ["BatchEvent", "BatchStats", "run_batch", "summarize_paths"]
