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
from khabar.evals.stats import RESAMPLES, SEED, bootstrap_ci, mean

__all__ = [
    "DEFAULT_TOLERANCE",
    "OVERALL",
    "EvalReport",
    "Regression",
    "aggregate",
    "compare",
    "format_metric",
    "load_report",
    "metric_values",
    "uncompared",
]

DEFAULT_TOLERANCE = 0.02
"""How far a metric may move the wrong way against the baseline before it is a regression."""

_TOLERANCE_EPSILON = 1e-9  # 0.80 - 0.78 is 0.0200000000000001 in floats: not a regression


def _ordered_metrics(metrics: dict[str, float | None]) -> dict[str, float | None]:
    known = {m: metrics[m] for m in METRICS if m in metrics}
    others = {m: metrics[m] for m in sorted(metrics) if m not in known}
    return {**known, **others}


class EvalReport(BaseModel):
    """Scores of one eval run: per article (failed ones included), their means and intervals.

    ``overall`` holds each metric's mean over the articles where it applies,
    a failed article counting 0 (:func:`~khabar.evals.metrics.score_failure`);
    ``ci`` the 95 % bootstrap interval of that mean; ``n`` how many articles
    the mean is over. ``overall["answered"]`` is the coverage.
    """

    model_config = ConfigDict(extra="ignore")

    model: str
    provider: str
    replay: bool
    articles: dict[str, ArticleScore] = Field(default_factory=dict)
    overall: dict[str, float | None] = Field(default_factory=dict)
    ci: dict[str, tuple[float, float] | None] = Field(default_factory=dict)
    n: dict[str, int] = Field(default_factory=dict)
    failed: dict[str, str] = Field(
        default_factory=dict, description="Articles that produced no digest, with the reason."
    )

    @property
    def answered(self) -> int:
        """How many articles have a digest."""
        return sum(1 for s in self.articles.values() if s.failed is None)

    @property
    def total(self) -> int:
        """How many articles were scored (answered or failed)."""
        return len(set(self.articles) | set(self.failed))

    def coverage(self) -> str:
        """ "n/N answered", what every rendering of a report shows first."""
        return f"{self.answered}/{self.total} answered"

    def to_json(self) -> str:
        """The report as stable, diff-friendly JSON (what ``--baseline`` reads back).

        Example::

            >>> Path("evals/baseline.json").write_text(report.to_json())  # doctest: +SKIP
        """
        data = {
            "model": self.model,
            "provider": self.provider,
            "replay": self.replay,
            "coverage": {"answered": self.answered, "articles": self.total},
            "overall": _ordered_metrics(self.overall),
            "ci": {m: self.ci.get(m) for m in _ordered_metrics(self.overall)},
            "n": {m: self.n.get(m, 0) for m in _ordered_metrics(self.overall)},
            "articles": {
                name: {
                    **({"failed": score.failed} if score.failed is not None else {}),
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


def metric_values(report: EvalReport, metric: str, articles: list[str]) -> list[float | None]:
    """The per-article values of ``metric`` in the order of ``articles`` (None where absent)."""
    return [
        s.metrics.get(metric) if (s := report.articles.get(a)) is not None else None
        for a in articles
    ]


def aggregate(
    scores: dict[str, ArticleScore],
    *,
    model: str,
    provider: str,
    replay: bool,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> EvalReport:
    """Gather per-article scores (failed articles included) into a report with means and intervals.

    ``overall`` is the mean of each metric's non-None values; a failed article
    carries 0 on the metrics it could not produce, so it pulls the mean down
    instead of vanishing from it. ``ci`` is the percentile-bootstrap interval
    over articles (``resamples`` resamples from ``seed``).

    Example::

        >>> report = aggregate({"001": score}, model="gpt-4o-mini", provider="openai", replay=False)  # doctest: +SKIP
        >>> report.overall["people_f1"], report.coverage()    # doctest: +SKIP
        (0.8, '1/1 answered')
    """
    names: dict[str, None] = dict.fromkeys(METRICS)
    for score in scores.values():
        names.update(dict.fromkeys(score.metrics))
    overall: dict[str, float | None] = {}
    ci: dict[str, tuple[float, float] | None] = {}
    counts: dict[str, int] = {}
    for metric in names:
        values = [v for s in scores.values() if (v := s.metrics.get(metric)) is not None]
        overall[metric] = mean(values)
        ci[metric] = bootstrap_ci(values, resamples=resamples, seed=seed)
        counts[metric] = len(values)
    return EvalReport(
        model=model,
        provider=provider,
        replay=replay,
        articles=dict(sorted(scores.items())),
        overall=_ordered_metrics(overall),
        ci=ci,
        n=counts,
        failed={name: s.failed for name, s in sorted(scores.items()) if s.failed is not None},
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

    ``current`` is ``None`` when the metric is missing. An article that had a
    digest in the baseline and has none now is one regression of ``answered``
    (its other metrics follow from it and are not listed), ``note`` saying why.
    """

    article: str
    metric: str
    baseline: float | None
    current: float | None
    tolerance: float
    note: str = ""

    def __str__(self) -> str:
        if self.metric == "answered" and self.article != OVERALL:
            why = f": {self.note}" if self.note else ""
            return f"{self.article}: no digest now, it had one in the baseline{why}"
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


def _means_over(report: EvalReport, articles: set[str]) -> dict[str, float | None]:
    """Each metric's mean over ``articles`` only (the report's own ``overall`` when they are all)."""
    if articles == set(report.articles):
        return report.overall
    names = dict.fromkeys(report.overall)
    chosen = [report.articles[a] for a in sorted(articles)]
    return {m: mean([v for s in chosen if (v := s.metrics.get(m)) is not None]) for m in names}


def uncompared(current: EvalReport, baseline: EvalReport) -> list[str]:
    """Articles of the baseline that this run does not score (a run of a subset of the set)."""
    return sorted(set(baseline.articles) - set(current.articles))


def compare(
    current: EvalReport, baseline: EvalReport, tolerances: dict[str, float] | None = None
) -> list[Regression]:
    """Every metric, per article and overall, that got worse than ``baseline`` by more than its tolerance.

    ``tolerances`` maps metric names to their tolerance; others use
    :data:`DEFAULT_TOLERANCE`. ``leakage`` regresses when it rises. A metric the
    baseline scored and this run does not is a regression too; an article that
    failed now and had a digest in the baseline is one regression (``answered``),
    not one per metric. An article that failed in the baseline cannot regress.

    Only the articles both runs score are compared, and ``overall`` is recomputed
    over them on both sides: a run of a subset (``--gold evals/gold``) is gated
    like for like. A failed or unreplayable article is in the report, so an
    article is absent only when it is not in the run's eval set at all
    (:func:`uncompared` names them).

    Example::

        >>> for r in compare(report, load_report(Path("evals/baseline.json"))):  # doctest: +SKIP
        ...     print(r)
        001_c7d2eb9492ec713f: people_f1 fell from 0.800 to 0.600 (tolerance 0.02)
    """
    tolerances = tolerances or {}
    out: list[Regression] = []
    common = set(current.articles) & set(baseline.articles)
    for article in sorted(common):
        base_score, now = baseline.articles[article], current.articles[article]
        if base_score.failed is not None:
            continue  # nothing to lose: any digest now is an improvement
        if now.failed is not None:
            out.append(Regression(article, "answered", 1.0, 0.0, 0.0, note=now.failed))
            continue
        out.extend(_compare_metrics(article, now.metrics, base_score.metrics, tolerances))
    out.extend(
        _compare_metrics(
            OVERALL, _means_over(current, common), _means_over(baseline, common), tolerances
        )
    )
    return out
