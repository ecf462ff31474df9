"""The eval report as HTML: digest beside gold, marks counted, deltas, SVG plots, all inert."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from khabar.core.digest import Person
from khabar.evals.facts import MIN_QUOTE_WORDS, quote_words
from khabar.evals.gold import Gold
from khabar.evals.harness import run_eval
from khabar.evals.html import render_eval_html
from khabar.evals.metrics import ENTITY_FIELDS, score_digest
from khabar.evals.report import EvalReport, aggregate
from khabar.evals.sets import load_eval_set

from .evalfixtures import GOLD_AR_YAML, GOLD_FA_YAML, digest_from_gold, gold_from_yaml
from .test_harness import CASSETTES, GOLD

HOSTILE_ID = "<script>alert('id')</script>"
HOSTILE_FACT = '<script>alert("fact")</script> & <img src=x onerror=alert(1)>'
FA = "000_de612b54d8028aa2"


def _scored_facts(gold: Gold) -> int:
    """How many gold facts the page marks matched or missed."""
    n = sum(len(getattr(gold, f)) for f in ENTITY_FIELDS)
    n += len(gold.numbers) + len(gold.dates) + len(gold.key_facts)
    return n + sum(1 for q in gold.quotes if quote_words(q.text_src) >= MIN_QUOTE_WORDS)


@pytest.fixture(scope="module")
def fixture_page() -> tuple[str, EvalReport, dict[str, Gold]]:
    """An Arabic digest built from gold minus Biden and a date, plus a hostile extra person
    (filed under a hostile article id), and a perfect Persian digest."""
    gold_ar, gold_fa = gold_from_yaml(GOLD_AR_YAML), gold_from_yaml(GOLD_FA_YAML)
    ar = digest_from_gold(gold_ar)
    ar = ar.model_copy(
        update={
            "people": [
                *(p for p in ar.people if p.name_en != "Joe Biden"),
                Person(name_en=HOSTILE_FACT, name_src=HOSTILE_FACT, role=None, evidence="x"),
            ],
            "dates": ar.dates[1:],
        }
    )
    fa = digest_from_gold(gold_fa)
    scores = {HOSTILE_ID: score_digest(ar, gold_ar), FA: score_digest(fa, gold_fa)}
    report = aggregate(scores, model="test-model", provider="test", replay=False)
    golds = {HOSTILE_ID: gold_ar, FA: gold_fa}
    page = render_eval_html(report, digests={HOSTILE_ID: ar, FA: fa}, golds=golds)
    return page, report, golds


def _sections(page: str) -> list[str]:
    return page.split('<section class="card article"')[1:]


def _tally(section: str) -> dict[str, int]:
    found = re.findall(r'data-count="(\w+)">(\d+) \w+<', section)
    return {k: int(v) for k, v in found}


def _assert_inert(page: str) -> None:
    assert "<script" not in page.lower()
    assert "onerror=" not in page.replace("onerror=alert", "")  # only as escaped text
    assert "<img" not in page
    assert not re.search(r"https?://", page)
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1) and "script-src" not in csp.group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp.group(1)


def test_one_section_per_article_with_marks_counted(
    fixture_page: tuple[str, EvalReport, dict[str, Gold]],
) -> None:
    page, report, golds = fixture_page
    sections = _sections(page)
    assert len(sections) == len(report.articles) == 2
    by_name = dict(zip(sorted(report.articles), sections, strict=True))

    perfect = by_name[FA]
    assert _tally(perfect) == {
        "matched": _scored_facts(golds[FA]),
        "missed": 0,
        "extra": 0,
        "wrong": 0,
    }
    assert perfect.count('data-mark="matched"') == _scored_facts(golds[FA])

    flawed = by_name[HOSTILE_ID]
    tally = _tally(flawed)
    assert tally["missed"] == 2  # Joe Biden and the first date
    assert tally["extra"] == 1  # the hostile person
    assert tally["matched"] == _scored_facts(golds[HOSTILE_ID]) - 2
    assert flawed.count('data-mark="missed"') == 2
    assert "missed*" not in page  # each missed item found on its gold fact
    assert flawed.count('data-mark="extra"') == 1
    assert flawed.count('data-mark="matched"') == tally["matched"]
    missed = re.findall(r'data-mark="missed">.*?</li>', flawed)
    assert any("Joe Biden" in m for m in missed)
    assert any("يوم الاثنين" in m for m in missed)


def test_everything_is_escaped_and_nothing_runs(
    fixture_page: tuple[str, EvalReport, dict[str, Gold]],
) -> None:
    page, _, _ = fixture_page
    _assert_inert(page)
    assert "&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&quot;fact&quot;)&lt;/script&gt; &amp; &lt;img" in page


def test_languages_directions_and_labels(
    fixture_page: tuple[str, EvalReport, dict[str, Gold]],
) -> None:
    page, _, _ = fixture_page
    assert 'lang="ar" dir="rtl"' in page and 'lang="fa" dir="rtl"' in page
    assert '<bdi lang="en" dir="ltr">Volodymyr Zelensky</bdi>' in page
    assert "Digests by <b><bdi>test-model</bdi></b>" in page
    assert "Gold (written by hand)" in page and "Gold: written by hand" in page


def test_one_bar_per_metric_and_distributions(
    fixture_page: tuple[str, EvalReport, dict[str, Gold]],
) -> None:
    page, report, _ = fixture_page
    with_mean = [m for m, v in report.overall.items() if v is not None]
    bars = re.search(r'<svg class="bars".*?</svg>', page, re.S)
    assert bars is not None
    assert bars.group(0).count('class="bar"') == len(with_mean)
    for metric in with_mean:
        assert f"<title>{metric}: " in bars.group(0)
    assert bars.group(0).count('class="ci"') == sum(1 for m in with_mean if report.ci.get(m))
    hists = re.findall(r'<svg class="hist".*?</svg>', page, re.S)
    assert len(hists) == 3
    assert all(h.count('class="bin"') == 10 for h in hists)
    assert "grounded facts (n=2)" in hists[0]


def test_deltas_against_a_baseline_carry_their_sign(
    fixture_page: tuple[str, EvalReport, dict[str, Gold]],
) -> None:
    _, report, golds = fixture_page
    baseline = report.model_copy(deep=True)
    people = report.overall["people_f1"]
    leakage = report.overall["leakage"]
    assert people is not None and leakage is not None
    baseline.overall["people_f1"] = people - 0.1  # we rose: +0.100, better
    baseline.overall["leakage"] = leakage + 0.05  # leak fell: -0.050, also better
    baseline.overall["key_fact_coverage"] = 1.5  # we fell: a regression
    page = render_eval_html(report, golds=golds, baseline=baseline)
    assert '<span class="delta up">+0.100</span>' in page
    assert '<span class="delta up">-0.050</span>' in page
    assert '<span class="delta down">-0.500</span>' in page
    assert '<span class="delta same">±0.000</span>' in page  # the per-article deltas
    assert "regressions against the baseline" in page and "key_fact_coverage fell" in page
    assert page.count('class="base"') == sum(
        1
        for m, v in report.overall.items()
        if v is not None and baseline.overall.get(m) is not None
    )
    _assert_inert(page)


def test_the_committed_recordings_render_with_and_without_digests() -> None:
    run = run_eval(None, [GOLD], replay_dir=CASSETTES)
    assert run.errors == {}
    items, _ = load_eval_set([GOLD])
    golds = {stem: item.gold for stem, item in items.items()}
    full = render_eval_html(run.report, digests=run.digests, golds=golds, title="seeds")
    bare = render_eval_html(run.report)
    for page in (full, bare):
        assert len(_sections(page)) == len(run.report.articles) == len(items)
        _assert_inert(page)
        assert f"<bdi>{run.report.model}</bdi>" in page
    # from the report alone, the details are still all there: missed and extra per article
    for name, section in zip(sorted(run.report.articles), _sections(bare), strict=True):
        score = run.report.articles[name]
        if score.failed is not None:
            assert "No digest" in section
            continue
        tally = _tally(section)
        assert tally["missed"] == sum(len(d.missed) for d in score.details.values())
        assert tally["extra"] == sum(len(d.extra) for d in score.details.values())
    # with the gold, every missed detail is pinned on a gold fact: nothing left over
    for name, section in zip(sorted(run.report.articles), _sections(full), strict=True):
        score = run.report.articles[name]
        if score.failed is None:
            assert _tally(section)["missed"] == sum(len(d.missed) for d in score.details.values())
            assert "missed*" not in section  # each on its gold fact, none by its words only
