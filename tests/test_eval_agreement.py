"""Agreement between two gold directories, and the table evals/README.md shows for the seeds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from khabar.errors import ConfigError
from khabar.evals.agreement import (
    AGREEMENT_METRICS,
    agreement,
    agreement_markdown,
    gold_as_digest,
    render_agreement,
)
from khabar.evals.metrics import score_digest

from .evalfixtures import SEED_GOLD, seed_golds

REPO = Path(__file__).resolve().parents[1]
GOLD_B = REPO / "evals" / "gold_b"


def test_a_gold_read_as_a_digest_scores_perfectly_against_itself() -> None:
    for gold in seed_golds().values():
        metrics = score_digest(gold_as_digest(gold), gold).metrics
        for metric in AGREEMENT_METRICS:
            value = metrics[metric]
            assert value is None or value == pytest.approx(0.0 if metric == "leakage" else 1.0), (
                gold.article,
                metric,
            )


def test_agreement_of_a_directory_with_itself_is_full() -> None:
    report = agreement(SEED_GOLD, SEED_GOLD)
    assert report.coverage() == "5/5 answered"
    assert report.overall["people_f1"] == 1.0 and report.overall["summary_en_chrf"] == 1.0
    # Only the metrics that make sense between two annotations are scored.
    assert {m for m, v in report.overall.items() if v is not None} <= set(AGREEMENT_METRICS)
    assert report.overall["answered"] is None and report.overall["grounding_rate"] is None


def test_the_two_seed_annotations_agree_broadly_but_not_fully() -> None:
    report = agreement(SEED_GOLD, GOLD_B)
    assert sorted(report.articles) == sorted(seed_golds())
    for metric in AGREEMENT_METRICS:
        value = report.overall[metric]
        assert value is None or 0.0 <= value <= 1.0
    entities = report.overall["entities_f1"]
    chrf = report.overall["summary_en_chrf"]
    # Two people wrote these: the fact sheets largely agree, the summaries are two texts.
    assert entities is not None and 0.8 < entities < 1.0
    assert chrf is not None and 0.4 < chrf < 0.9


def test_the_readme_shows_the_measured_table() -> None:
    readme = (REPO / "evals" / "README.md").read_text(encoding="utf-8")
    shown = re.search(
        r"<!-- agreement table:.*?-->\n(.*?)<!-- end of agreement table -->", readme, re.S
    )
    assert shown is not None, "evals/README.md lost its agreement table markers"
    assert shown.group(1) == agreement_markdown(agreement(SEED_GOLD, GOLD_B)), (
        "regenerate the table: khabar eval agreement evals/gold evals/gold_b --markdown F"
    )


def test_the_terminal_table(tmp_path: Path) -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_agreement(agreement(SEED_GOLD, GOLD_B)))
    text = console.export_text()
    assert "entities_f1" in text and "95% CI" in text and "000" in text


def test_no_common_article_is_a_config_error(tmp_path: Path) -> None:
    other = tmp_path / "gold"
    other.mkdir()
    shutil.copy(next(SEED_GOLD.glob("*.yaml")), other / "x.yaml")
    (other / "x.yaml").write_text(
        (other / "x.yaml")
        .read_text(encoding="utf-8")
        .replace(next(SEED_GOLD.glob("*.yaml")).stem + ".txt", "x.txt"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="no article in common"):
        agreement(SEED_GOLD, other)
