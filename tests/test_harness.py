"""`khabar eval` on the committed recordings: offline replay, the baseline gate, stale recordings.

A missing recording must say why: the file is absent (git restores it), the
article was never recorded, or the request changed — and then what changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from khabar.cli import cli
from khabar.config import Settings
from khabar.evals.harness import run_eval
from khabar.evals.report import load_report
from khabar.evals.sets import default_gold_dirs, load_eval_set

from .conftest import ARTICLES, REPO

GOLD = REPO / "evals" / "gold"
CASSETTES = (
    REPO / "evals" / "cassettes" / (REPO / "evals" / "cassettes" / "CURRENT").read_text().strip()
)
BASELINE = REPO / "evals" / "baseline.json"
SEEDS = sorted(p.stem for p in ARTICLES.glob("*.txt"))


def seed_cassettes(tmp_path: Path) -> Path:
    """The committed recordings of the five seed articles only, in a scratch directory."""
    out = tmp_path / "cassettes"
    out.mkdir()
    shutil.copy(CASSETTES / "model.json", out / "model.json")
    for path in CASSETTES.glob("*.json"):
        if path.name != "model.json" and json.loads(path.read_text())["article_id"] in SEEDS:
            shutil.copy(path, out / path.name)
    return out


def test_replay_of_committed_recordings_matches_the_baseline() -> None:
    """What CI runs: the default eval set (seeds and corpus) replayed against the baseline."""
    gold = default_gold_dirs(REPO)
    run = run_eval(None, gold, replay_dir=CASSETTES, baseline=BASELINE)
    assert run.errors == {}
    assert run.regressions == []
    baseline = load_report(BASELINE)
    assert set(run.report.articles) == set(baseline.articles)

    # Which articles fail, and for which reason; the wording of the messages may change.
    def reasons(failed: dict[str, str]) -> dict[str, str]:
        return {article: message.split(":")[0] for article, message in failed.items()}

    assert reasons(run.report.failed) == reasons(baseline.failed)
    items, _ = load_eval_set(gold)
    assert set(run.report.articles) == set(items)
    # the recordings say which model made them, and replay says so too
    info = json.loads((CASSETTES / "model.json").read_text())
    assert "SmolLM2" in info["label"] and "plumbing" in info["label"]
    assert any("replaying recordings of" in n and "SmolLM2" in n for n in run.notes)


def test_an_article_never_recorded_says_so(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    victim = next(p for p in sorted(copy.glob("*.json")) if p.name != "model.json")
    article = json.loads(victim.read_text())["article_id"]
    for path in copy.glob("*.json"):  # every recording of that article
        if path.name != "model.json" and json.loads(path.read_text())["article_id"] == article:
            path.unlink()
    run = run_eval(ARTICLES, GOLD, replay_dir=copy)
    message = run.errors[article]
    assert "no recording for this request" in message
    assert "has no recording at all" in message
    # The full command, with the extra the in-process plumbing model needs.
    assert f"pip install -e '.[local]' && KHABAR_LOCAL_DOWNLOAD=0 khabar eval --record {copy}" in (
        message
    )
    # Counted as an unanswered article, not dropped from the report.
    assert run.report.articles[article].failed is not None


def test_changed_decoding_parameters_are_named(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    info = json.loads((copy / "model.json").read_text())
    info["settings"]["max_tokens"] = 700
    (copy / "model.json").write_text(json.dumps(info))
    run = run_eval(ARTICLES, GOLD, replay_dir=copy)
    assert set(run.errors) == set(SEEDS)
    for message in run.errors.values():
        assert "the request changed since it was recorded" in message
        assert "decoding parameter max_tokens: 768 -> 700" in message
        assert "prompt" not in message and "article changed" not in message


def test_a_changed_prompt_is_shown(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "src" / "khabar" / "prompts", prompts)
    system = prompts / "system.j2"
    system.write_text(system.read_text().replace("careful news analyst", "careless news analyst"))
    run = run_eval(ARTICLES, GOLD, replay_dir=copy, settings=Settings(prompts_dir=prompts))
    message = run.errors[SEEDS[0]]
    assert "prompt, message 0 (system) changed" in message
    assert "+You are a careless news analyst" in message
    assert "decoding parameter" not in message and "article changed" not in message


def test_a_changed_article_is_shown(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    articles, gold = tmp_path / "articles", tmp_path / "gold"
    shutil.copytree(ARTICLES, articles)
    shutil.copytree(GOLD, gold)
    page = articles / f"{SEEDS[0]}.txt"
    page.write_text(page.read_text().replace("بروکسل", "بروكسل", 1))  # one kaf swapped
    run = run_eval(articles, gold, replay_dir=copy)
    assert set(run.errors) == {SEEDS[0]}
    message = run.errors[SEEDS[0]]
    assert "article changed" in message and "+" in message and "بروكسل" in message
    assert "prompt, message" not in message


def test_an_unrequested_recording_is_stale(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    extra = json.loads(
        next(p for p in sorted(copy.glob("*.json")) if p.name != "model.json").read_text()
    )
    extra["key"] = "0" * 32
    (copy / ("0" * 32 + ".json")).write_text(json.dumps(extra))
    run = run_eval(ARTICLES, GOLD, replay_dir=copy)
    assert "stale" in run.errors["(recordings)"]
    assert "khabar eval --record" in run.errors["(recordings)"]


def test_a_subset_of_the_set_leaves_the_other_recordings_unused() -> None:
    """The seeds alone over the committed directory (which holds the corpus too): not stale."""
    run = run_eval(ARTICLES, GOLD, replay_dir=CASSETTES)
    assert run.errors == {}
    assert set(run.report.articles) == set(SEEDS)
    corpus = sum(
        1
        for p in CASSETTES.glob("*.json")
        if p.name != "model.json" and json.loads(p.read_text())["article_id"] not in SEEDS
    )
    if corpus:
        assert any(
            f"{corpus} recordings in" in n and "outside this eval set" in n for n in run.notes
        )


def test_the_gate_fails_on_a_lost_digest(tmp_path: Path) -> None:
    copy = seed_cassettes(tmp_path)
    replayed = run_eval(ARTICLES, GOLD, replay_dir=copy).report
    # A baseline in which the first seed had a digest: now it has none.
    first = SEEDS[0]
    better = json.loads(replayed.to_json())
    better["articles"][first].pop("failed", None)
    better["failed"].pop(first, None)
    better["articles"][first]["metrics"]["people_f1"] = 0.9
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(better))
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--replay",
            str(copy),
            "--articles",
            str(ARTICLES),
            "--gold",
            str(GOLD),
            "--baseline",
            str(path),
            "--json",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert f"{first}: no digest now, it had one in the baseline" in result.output
    assert load_report(tmp_path / "r.json").model == replayed.model


def test_live_eval_with_the_optional_judge(tmp_path: Path) -> None:
    """A live run (the fake server, not a model) with --judge: every digest is scored and judged."""
    from khabar.testing import FakeOpenAI, Reply, echo_digest_responder

    def responder(body: dict[str, object]) -> Reply:
        tools = body.get("tools") or []
        if tools and tools[0]["function"]["name"] == "Judgement":  # type: ignore[index]
            return Reply.digest({"faithful": False, "unsupported_claims": ["a synthetic claim"]})
        return echo_digest_responder(body)

    with FakeOpenAI(responder=responder) as server:
        settings = Settings(model="fake", base_url=server.base_url, api_key="k", cache=False)
        run = run_eval(ARTICLES, GOLD, settings=settings, judge=True)
    assert run.errors == {}
    assert set(run.judgements) == set(run.digests)
    assert set(run.digests) | set(run.failures) == set(SEEDS)
    assert all(not j.faithful and j.unsupported_claims for j in run.judgements.values())
    assert run.report.replay is False and run.report.provider == "vllm"
    assert run.report.total == len(SEEDS)


def test_the_judge_prompt_is_a_template_and_the_article_stays_data() -> None:
    """prompts/judge.j2 renders one message per block; `{{ }}` in the article is text."""
    from khabar.evals.judge import judge_messages

    from .test_store import digest

    made = digest("a")
    made.summary_en = "Kyiv and Washington {{ agreed }}."
    article = "{{ 7 * 7 }} {% if true %}x{% endif %}\nline two"
    system, user = judge_messages(article, made)
    assert system["role"] == "system" and "faithfulness" in system["content"]
    assert user == {
        "role": "user",
        "content": f"<article>\n{article}\n</article>\n\n"
        f"<summary>\nKyiv and Washington {{{{ agreed }}}}.\n\nملخص.\n</summary>",
    }


def test_gold_without_an_article_is_a_config_error(tmp_path: Path) -> None:
    from khabar.errors import ConfigError

    gold = tmp_path / "gold"
    shutil.copytree(GOLD, gold)
    (gold / f"{SEEDS[0]}.yaml").rename(gold / "999_nowhere.yaml")
    with pytest.raises(ConfigError):
        load_eval_set(gold, ARTICLES)
