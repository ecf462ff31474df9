"""Inter-annotator agreement: one gold directory scored against another.

Two people annotate the same articles independently; annotation B is turned
into a digest (:func:`gold_as_digest`) and scored against annotation A with
the same metrics a model gets. The result says how far the metrics can be
trusted: where two careful annotators agree at 0.6, a model at 0.55 is doing
about as well as a person, and a difference of 0.03 between two models means
nothing. Entity F1 and ``numbers_*`` are symmetric; recall-type metrics
(``dates_text_recall``, ``quotes_r``, ``key_fact_coverage``) read "how much of
A's annotation B's has".

Metrics that only a model run has (``answered``, ``grounding_rate``,
faithfulness) are left out of :data:`AGREEMENT_METRICS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

from khabar.core.digest import (
    DateFact,
    Digest,
    NumberFact,
    Organization,
    Person,
    Place,
    Provenance,
    Quote,
    Source,
)
from khabar.core.markdown import markdown_cell
from khabar.errors import ConfigError
from khabar.evals.gold import Gold, GoldEntity, load_gold_dir
from khabar.evals.metrics import ArticleScore, score_digest
from khabar.evals.render import format_ci
from khabar.evals.report import EvalReport, aggregate, format_metric

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "AGREEMENT_METRICS",
    "agreement",
    "agreement_headers",
    "agreement_markdown",
    "agreement_rows",
    "gold_as_digest",
    "render_agreement",
]

AGREEMENT_METRICS: tuple[str, ...] = (
    "entities_f1",
    "people_f1",
    "organizations_f1",
    "locations_f1",
    "sources_f1",
    "entity_kind_acc",
    "people_role",
    "numbers_acc",
    "numbers_value_acc",
    "numbers_counts",
    "dates_text_recall",
    "dates_iso_full",
    "dates_iso_compatible",
    "dates_refers_to",
    "quotes_p",
    "quotes_r",
    "quotes_speaker",
    "key_fact_coverage",
    "summary_en_chrf",
    "summary_src_chrf",
    "summary_en_rougeL",
    "summary_src_rougeL",
    "leakage",
)
"""The metrics that make sense between two annotations, in table order."""

_PLACE_KINDS = set(get_args(Place.model_fields["kind"].annotation))


def _native(entity: GoldEntity) -> str:
    # The first alias in the article's script is what a digest's name_src would hold.
    return next((a for a in entity.aliases if not a.isascii()), entity.name_en)


def gold_as_digest(gold: Gold, annotator: str = "annotator B") -> Digest:
    """An annotation read as a digest: its facts, summaries and names, nothing else.

    Example::

        >>> digest = gold_as_digest(load_gold(Path("evals/gold_b/000_de612b54d8028aa2.yaml")))  # doctest: +SKIP
    """
    places = [
        Place(
            name_en=p.name_en,
            name_src=_native(p),
            kind=cast(Any, p.kind if p.kind in _PLACE_KINDS else "other"),
            evidence=_native(p),
        )
        for p in gold.locations
    ]
    return Digest(
        article_id=Path(gold.article).stem,
        language=gold.language,
        title_en=None,
        title_src=None,
        summary_en=" ".join(gold.summary_en.split()),
        summary_src=" ".join(gold.summary_src.split()),
        people=[
            Person(name_en=p.name_en, name_src=_native(p), role=p.role, evidence=_native(p))
            for p in gold.people
        ],
        organizations=[
            Organization(name_en=o.name_en, name_src=_native(o), evidence=_native(o))
            for o in gold.organizations
        ],
        locations=places,
        sources=[
            Source(name_en=s.name_en, name_src=_native(s), evidence=_native(s))
            for s in gold.sources
        ],
        numbers=[
            NumberFact(value=n.value, unit=n.unit, counts=n.counts, evidence=n.text)
            for n in gold.numbers
        ],
        dates=[
            DateFact(text=d.text, refers_to=d.refers_to, iso=d.iso, evidence=d.text)
            for d in gold.dates
        ],
        quotes=[
            Quote(speaker_en=q.speaker_en, text_src=q.text_src, text_en="", evidence=q.text_src)
            for q in gold.quotes
        ],
        provenance=Provenance(
            model=annotator,
            provider="hand annotation",
            mode="gold",
            prompt_version="-",
            schema_version="-",
            khabar_version="-",
        ),
    )


def agreement(
    a_dir: Path, b_dir: Path, *, a_name: str | None = None, b_name: str | None = None
) -> EvalReport:
    """Annotation ``b_dir`` scored against annotation ``a_dir``, over the articles both annotate.

    Raises :class:`~khabar.errors.ConfigError` when they share no article.

    Example::

        >>> report = agreement(Path("evals/gold"), Path("evals/gold_b"))   # doctest: +SKIP
        >>> report.overall["people_f1"]                                     # doctest: +SKIP
    """
    golds_a, golds_b = load_gold_dir(a_dir), load_gold_dir(b_dir)
    common = sorted(set(golds_a) & set(golds_b))
    if not common:
        raise ConfigError(f"{a_dir} and {b_dir} annotate no article in common")
    b_label = b_name or str(b_dir)
    scores: dict[str, ArticleScore] = {}
    for stem in common:
        score = score_digest(gold_as_digest(golds_b[stem], b_label), golds_a[stem])
        score.metrics = {m: score.metrics.get(m) for m in AGREEMENT_METRICS}
        scores[stem] = score
    return aggregate(scores, model=b_label, provider=f"against {a_name or a_dir}", replay=False)


def agreement_rows(report: EvalReport) -> list[list[str]]:
    """(metric, per-article values..., mean, 95% CI) rows for the agreement table."""
    articles = sorted(report.articles)
    rows = []
    for metric in AGREEMENT_METRICS:
        values = [format_metric(report.articles[a].metrics.get(metric)) for a in articles]
        rows.append(
            [
                metric + (" ↓" if metric == "leakage" else ""),
                *values,
                format_metric(report.overall.get(metric)),
                format_ci(report.ci.get(metric)),
            ]
        )
    return rows


def agreement_headers(report: EvalReport, width: int = 3) -> list[str]:
    """The table's headers: each article by its first ``width`` characters (the seeds' numbers)."""
    return ["metric", *(a[:width] for a in sorted(report.articles)), "mean", "95% CI"]


def agreement_markdown(report: EvalReport, *, width: int = 3) -> str:
    """The agreement table in Markdown (what evals/README.md shows for the seeds)."""
    headers = agreement_headers(report, width)
    lines = [
        "| " + " | ".join(markdown_cell(h) for h in headers) + " |",
        "|---|" + "---:|" * (len(headers) - 1),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in agreement_rows(report)]
    return "\n".join(lines) + "\n"


def render_agreement(report: EvalReport, *, width: int = 3) -> Table:
    """The agreement table for a terminal: per article, the mean and its 95 % interval."""
    from rich.table import Table

    table = Table(
        title=f"agreement: {report.model} scored {report.provider}",
        caption="1.000 is full agreement. leakage ↓: annotation B's facts from outside the main story.",
    )
    for i, header in enumerate(agreement_headers(report, width)):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in agreement_rows(report):
        table.add_row(*row)
    return table
