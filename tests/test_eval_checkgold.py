"""The gold validator catches each kind of unreachable or unfair gold, on a real seed page.

Each test breaks one thing in a copy of the Arabic seed's gold (001: Zelensky and
Biden's call, with an Al-Nilein source line and an appended story about LCI) and
checks that the validator names it, and only it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from khabar.errors import ConfigError
from khabar.evals.checkgold import (
    GoldProblem,
    check_gold_dirs,
    failing,
    has_phrase,
    render_problems,
)

REPO = Path(__file__).resolve().parents[1]
AR = "001_c7d2eb9492ec713f"
FA = "000_de612b54d8028aa2"


@pytest.fixture()
def evals(tmp_path: Path) -> Path:
    """A scratch evals/ with the seed articles and gold: gold/ beside articles/."""
    root = tmp_path / "evals"
    shutil.copytree(REPO / "evals" / "articles", root / "articles")
    shutil.copytree(REPO / "evals" / "gold", root / "gold")
    return root


def edit(evals: Path, stem: str, change: Callable[[dict[str, object]], None]) -> None:
    path = evals / "gold" / f"{stem}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems(evals: Path) -> list[GoldProblem]:
    found, checked = check_gold_dirs([evals / "gold"])
    assert checked == 5
    return [p for p in found if p.severity != "warning"]


def only(found: list[GoldProblem]) -> GoldProblem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_seed_gold_is_clean(evals: Path) -> None:
    assert problems(evals) == []


def test_an_outlet_named_only_in_the_stripped_source_line_is_unreachable(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["sources"].append({"name_en": "Al-Nilein", "aliases": ["موقع النيلين"]})

    edit(evals, AR, add)
    problem = only(problems(evals))
    assert problem.severity == "error" and problem.where == "sources[1] Al-Nilein"
    assert "unreachable" in problem.message and "source_line" in problem.message


def test_an_alias_not_in_the_article(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["people"][0]["aliases"].append("فلاديمير زيلينسكي")  # "Vladimir": not how it is written

    edit(evals, AR, add)
    assert "is not in the article" in only(problems(evals)).message


def test_a_relative_date_with_an_iso_form_disagrees_with_the_code(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["dates"].append({"text": "يوم السبت", "iso": "--04-20", "refers_to": "the House vote"})

    edit(evals, AR, add)
    problem = only(problems(evals))
    assert problem.severity == "code"
    assert "iso '--04-20', but khabar computes None" in problem.message
    assert not failing([problem]) and failing([problem], strict=True)


def test_a_number_whose_text_states_another_value(evals: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["numbers"][0]["value"] = 6.1e9

    edit(evals, AR, change)
    problem = only(problems(evals))
    assert problem.severity == "code" and "khabar reads [61000000000.0]" in problem.message


def test_a_leak_named_in_the_main_story(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["leak"]["people"].append("زيلينسكي")

    edit(evals, AR, add)
    assert "is in the main story" in only(problems(evals)).message


def test_a_block_start_not_in_the_page(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["not_main_story"].append({"kind": "related", "starts_with": "أخبار لم تنشر هنا"})

    edit(evals, AR, add)
    assert "starts_with" in only(problems(evals)).message


def test_a_quote_from_the_appended_story_is_unreachable(evals: Path) -> None:
    def add(d: dict) -> None:  # type: ignore[type-arg]
        d["quotes"].append({"speaker_en": "Christophe Lemoine", "text_src": "موقف فرنسا واضح"})

    edit(evals, AR, add)
    problem = only(problems(evals))
    assert "appended_story" in problem.message and "never sees it" in problem.message


@pytest.mark.parametrize(
    ("keywords", "expect"),
    [
        ([["Biden"], ["sec*"]], "shorter than 4 letters"),  # covers "security", and more
        ([["Biden "], ["phone"]], "leading or trailing spaces"),
        ([["Biden"], ["thank"]], "did you mean the stem 'thank*'"),  # "thanked" in the summary
        ([["Biden"], ["Ukrain"]], "does not cover the group ['Ukrain']"),
    ],
)
def test_unsafe_or_uncovered_keywords(evals: Path, keywords: list[list[str]], expect: str) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["key_facts"][0]["keywords"] = keywords

    edit(evals, AR, change)
    assert expect in only(problems(evals)).message


def test_a_keyword_naming_a_leaked_entity_is_a_warning(evals: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["summary_en"] += " LCI was mentioned."
        d["key_facts"][0]["keywords"] = [["Biden"], ["LCI"]]

    edit(evals, AR, change)
    found, _ = check_gold_dirs([evals / "gold"])
    warning = only([p for p in found if p.severity == "warning"])
    assert "names a leaked entity (LCI)" in warning.message


def test_a_broken_file_is_one_error_and_the_rest_is_checked(evals: Path) -> None:
    (evals / "gold" / f"{FA}.yaml").write_text("people: [unclosed\n", encoding="utf-8")
    found, checked = check_gold_dirs([evals / "gold"])
    assert checked == 5
    assert [p.where for p in found] == ["(file)"]
    assert "not valid YAML" in found[0].message


def test_gold_without_its_article(evals: Path) -> None:
    (evals / "articles" / f"{FA}.txt").unlink()
    found, _ = check_gold_dirs([evals / "gold"])
    assert [p.where for p in found] == ["article"]


def test_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        check_gold_dirs([tmp_path / "nope"])


def test_render_puts_errors_first_and_counts() -> None:
    path = Path("g.yaml")
    lines = render_problems(
        [
            GoldProblem(path, "x", "look", "warning"),
            GoldProblem(path, "y", "reads 2", "code"),
            GoldProblem(path, "z", "wrong", "error"),
        ],
        3,
    )
    assert [line.split(":")[0] for line in lines[:3]] == ["error", "code", "warning"]
    assert lines[-1].startswith("3 gold files checked: 1 errors, 1 disagreements")


def test_leak_names_match_whole_words() -> None:
    assert has_phrase("قالت صحيفة موند الفرنسية", "موند")
    assert has_phrase("وكورسك", "كورسك")  # a clitic
    assert not has_phrase("ريموند", "موند")  # inside another word


def test_the_corpus_is_checked_file_by_file() -> None:
    """The validator reads every corpus gold file (its findings are the annotators' to fix)."""
    corpus = REPO / "evals" / "corpus" / "gold"
    if not corpus.is_dir():
        pytest.skip("no corpus yet")
    found, checked = check_gold_dirs([corpus])
    assert checked == len([p for p in corpus.iterdir() if p.suffix in (".yaml", ".yml", ".json")])
    assert all(p.path.parent == corpus for p in found)
