"""An eval run's report: per-article scores, their means, and the gate against a baseline.

:func:`aggregate` gathers the :class:`~khabar.evals.metrics.ArticleScore` of
every article into an :class:`EvalReport`, which :meth:`EvalReport.to_json`
writes and :func:`load_report` reads back; :func:`compare` lists every
:class:`Regression` against a baseline report (the CI gate).
:mod:`khabar.evals.render` shows a report as a table or Markdown.

Example::

    >>> golds = load_gold_dir(Path("evals/gold"))                        # doctest: +SKIP
    >>> scores = {k: score_digest(digests[k], g) for k, g in golds.items()}  # doctest: +SKIP
    >>> report = aggregate(scores, model="gpt-4o-mini", provider="openai", replay=True)  # doctest: +SKIP
    >>> compare(report, load_report(Path("evals/baseline.json")))        # doctest: +SKIP
    []
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from khabar.errors import ConfigError
from khabar.evals.gold import describe_validation
from khabar.evals.metrics import LOWER_IS_BETTER, METRICS, ArticleScore

__all__ = [
    "DEFAULT_TOLERANCE",
    "OVERALL",
    "EvalReport",
    "Regression",
    "aggregate",
    "compare",
    "format_metric",
    "load_report",
]

DEFAULT_TOLERANCE = 0.02
"""How far a metric may move the wrong way against the baseline before it is a regression."""

_TOLERANCE_EPSILON = 1e-9  # 0.80 - 0.78 is 0.0200000000000001 in floats: not a regression


def _ordered_metrics(metrics: dict[str, float | None]) -> dict[str, float | None]:
    known = {m: metrics[m] for m in METRICS if m in metrics}
    others = {m: metrics[m] for m in sorted(metrics) if m not in known}
    return {**known, **others}


class EvalReport(BaseModel):
    """Scores of one eval run: per article, and their means in :attr:`overall`."""

    model_config = ConfigDict(extra="ignore")

    model: str
    provider: str
    replay: bool
    articles: dict[str, ArticleScore] = Field(default_factory=dict)
    overall: dict[str, float | None] = Field(default_factory=dict)
    failed: dict[str, str] = Field(
        default_factory=dict, description="Articles that produced no digest, with the reason."
    )

    def to_json(self) -> str:
        """The report as stable, diff-friendly JSON (what ``--baseline`` reads back).

        Example::

            >>> Path("evals/baseline.json").write_text(report.to_json())  # doctest: +SKIP
        """
        data = {
            "model": self.model,
            "provider": self.provider,
            "replay": self.replay,
            "overall": _ordered_metrics(self.overall),
            "articles": {
                name: {
                    "metrics": _ordered_metrics(score.metrics),
                    "details": {
                        field: detail.model_dump()
                        for field, detail in sorted(score.details.items())
                    },
                }
                for name, score in sorted(self.articles.items())
            },
            "failed": dict(sorted(self.failed.items())),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def aggregate(
    scores: dict[str, ArticleScore],
    *,
    model: str,
    provider: str,
    replay: bool,
    failed: dict[str, str] | None = None,
) -> EvalReport:
    """Gather per-article scores into a report; ``overall`` is the mean of each metric's non-None values.

    Example::

        >>> report = aggregate({"001": score}, model="gpt-4o-mini", provider="openai", replay=False)  # doctest: +SKIP
        >>> report.overall["people_f1"]    # doctest: +SKIP
        0.8
    """
    names: dict[str, None] = dict.fromkeys(METRICS)
    for score in scores.values():
        names.update(dict.fromkeys(score.metrics))
    overall: dict[str, float | None] = {}
    for metric in names:
        values = [v for s in scores.values() if (v := s.metrics.get(metric)) is not None]
        overall[metric] = sum(values) / len(values) if values else None
    return EvalReport(
        model=model,
        provider=provider,
        replay=replay,
        articles=dict(sorted(scores.items())),
        overall=_ordered_metrics(overall),
        failed=dict(sorted((failed or {}).items())),
    )


def load_report(path: Path) -> EvalReport:
    """Read a report written by :meth:`EvalReport.to_json` (e.g. the CI baseline).

    Example::

        >>> baseline = load_report(Path("evals/baseline.json"))   # doctest: +SKIP
    """
    path = Path(path)
    try:
        return EvalReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"eval report {path}: cannot be read: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(
            f"eval report {path}: not a khabar eval report: {describe_validation(exc)}"
        ) from None


OVERALL = "overall"
"""The name :func:`compare` and the renderers give the row of means."""


@dataclass(frozen=True)
class Regression:
    """A metric that moved the wrong way against the baseline by more than its tolerance.

    ``metric`` is ``"*"`` and both values ``None`` when a whole article is
    missing; ``current`` is ``None`` when the metric is.
    """

    article: str
    metric: str
    baseline: float | None
    current: float | None
    tolerance: float

    def __str__(self) -> str:
        if self.metric == "*":
            return f"{self.article}: missing from this run (it was scored in the baseline)"
        if self.current is None:
            return f"{self.article}: {self.metric} is missing (baseline {format_metric(self.baseline)})"
        verb = "rose" if self.metric in LOWER_IS_BETTER else "fell"
        return (
            f"{self.article}: {self.metric} {verb} from {format_metric(self.baseline)} to "
            f"{format_metric(self.current)} (tolerance {self.tolerance:g})"
        )


def format_metric(value: float | None) -> str:
    """A metric as shown to people: three decimals, "—" when it does not apply."""
    return "—" if value is None else f"{value:.3f}"


def _compare_metrics(
    article: str,
    current: dict[str, float | None],
    baseline: dict[str, float | None],
    tolerances: dict[str, float],
) -> list[Regression]:
    out = []
    for metric, base in baseline.items():
        if base is None:
            continue
        tol = tolerances.get(metric, DEFAULT_TOLERANCE)
        now = current.get(metric)
        if now is None:
            out.append(Regression(article, metric, base, None, tol))
            continue
        worse = now - base if metric in LOWER_IS_BETTER else base - now
        if worse > tol + _TOLERANCE_EPSILON:
            out.append(Regression(article, metric, base, now, tol))
    return out


def compare(
    current: EvalReport, baseline: EvalReport, tolerances: dict[str, float] | None = None
) -> list[Regression]:
    """Every metric, per article and overall, that got worse than ``baseline`` by more than its tolerance.

    ``tolerances`` maps metric names to their tolerance; others use
    :data:`DEFAULT_TOLERANCE`. ``leakage`` regresses when it rises. A metric or
    article that the baseline scored and this run does not is a regression too.

    Example::

        >>> for r in compare(report, load_report(Path("evals/baseline.json"))):  # doctest: +SKIP
        ...     print(r)
        001_c7d2eb9492ec713f: people_f1 fell from 0.800 to 0.600 (tolerance 0.02)
    """
    tolerances = tolerances or {}
    out: list[Regression] = []
    for article, base_score in sorted(baseline.articles.items()):
        now = current.articles.get(article)
        if now is None:
            # It had a digest in the baseline and has none now (failed or missing).
            out.append(Regression(article, "*", None, None, 0.0))
            continue
        out.extend(_compare_metrics(article, now.metrics, base_score.metrics, tolerances))
    out.extend(_compare_metrics(OVERALL, current.overall, baseline.overall, tolerances))
    return out
