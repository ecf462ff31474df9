"""Confidence intervals over articles: the percentile bootstrap, plain and paired.

An eval set is a few dozen articles; a mean over them moves a lot with which
articles happen to be in it. The bootstrap resamples the articles (with
replacement, :data:`RESAMPLES` times, from a fixed seed so that a report is
reproducible) and takes the middle 95 % of the resampled means. Comparing two
runs on the same articles, the *paired* bootstrap resamples per-article
differences: the articles' own difficulty cancels out, so a real difference
shows with far fewer articles than two separate intervals would need.

Pure Python: a few thousand resamples of a few dozen numbers take milliseconds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["LEVEL", "RESAMPLES", "SEED", "bootstrap_ci", "mean", "paired"]

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None of nothing."""
    return sum(values) / len(values) if values else None


def _quantile(ordered: list[float], q: float) -> float:
    # Linear interpolation between order statistics (numpy's default).
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def bootstrap_ci(
    values: Sequence[float],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> tuple[float, float] | None:
    """The percentile-bootstrap interval of the mean of ``values``; None with no values.

    >>> bootstrap_ci([0.5, 0.5, 0.5])
    (0.5, 0.5)
    >>> low, high = bootstrap_ci([0.0, 1.0] * 10)
    >>> 0.25 < low < 0.5 < high < 0.75
    True
    """
    n = len(values)
    if n == 0:
        return None
    rng = random.Random(seed)
    data = list(values)
    means = sorted(sum(rng.choices(data, k=n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    return _quantile(means, tail), _quantile(means, 1 - tail)


def paired(a: Sequence[float | None], b: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """The positions where both runs have a value: (a values, b values), aligned."""
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return [x for x, _ in both], [y for _, y in both]
