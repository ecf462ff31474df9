"""The hand-made seed gold (evals/gold/) and its second annotation (evals/gold_b/) hold up.

Both directories must pass the gold validator without an error or a disagreement
with khabar's code (`khabar eval check-gold evals/gold evals/gold_b`): every
verbatim string reachable in the cleaned article, every ISO date what khabar
computes, every key fact covered by the gold's own summary. Then the shape the
seeds promise: all fields present, 4 to 7 key facts, a native-script summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from khabar.evals.checkgold import check_gold_dirs
from khabar.evals.gold import load_gold

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "evals" / "articles"
GOLD = REPO / "evals" / "gold"
GOLD_B = REPO / "evals" / "gold_b"

STEMS = sorted(p.stem for p in ARTICLES.glob("*.txt"))

REQUIRED_KEYS = {
    "article",
    "language",
    "summary_en",
    "summary_src",
    "key_facts",
    "people",
    "organizations",
    "locations",
    "sources",
    "numbers",
    "dates",
    "quotes",
    "not_main_story",
    "leak",
}


def test_five_seed_articles_with_two_annotations_each() -> None:
    assert len(STEMS) == 5
    assert sorted(p.stem for p in GOLD.glob("*.yaml")) == STEMS
    assert sorted(p.stem for p in GOLD_B.glob("*.yaml")) == STEMS


@pytest.mark.parametrize("directory", [GOLD, GOLD_B], ids=["gold", "gold_b"])
def test_the_validator_finds_nothing_to_fix(directory: Path) -> None:
    problems, checked = check_gold_dirs([directory])
    assert checked == 5
    assert [str(p) for p in problems if p.severity != "warning"] == []


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("directory", [GOLD, GOLD_B], ids=["gold", "gold_b"])
def test_seed_gold_shape(directory: Path, stem: str) -> None:
    raw: dict[str, Any] = yaml.safe_load((directory / f"{stem}.yaml").read_text(encoding="utf-8"))
    missing = REQUIRED_KEYS - set(raw)
    assert not missing, f"missing keys: {sorted(missing)}"
    gold = load_gold(directory / f"{stem}.yaml")
    assert gold.language == ("fa" if stem.startswith("000") else "ar")
    assert 4 <= len(gold.key_facts) <= 7
    assert all(
        e.name_en for f in ("people", "organizations", "locations") for e in getattr(gold, f)
    )


def test_the_second_annotation_says_what_it_is() -> None:
    for path in sorted(GOLD_B.glob("*.yaml")):
        head = path.read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("# Second hand annotation (annotator B)"), path
