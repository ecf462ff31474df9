"""`khabar eval` on the committed recordings: offline replay, the baseline gate, stale recordings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from khabar.cli import cli
from khabar.evals.harness import run_eval
from khabar.evals.report import load_report

from .conftest import ARTICLES, REPO

GOLD = REPO / "evals" / "gold"
CASSETTES = (
    REPO / "evals" / "cassettes" / (REPO / "evals" / "cassettes" / "CURRENT").read_text().strip()
)
BASELINE = REPO / "evals" / "baseline.json"


def test_replay_of_committed_recordings_matches_the_baseline() -> None:
    run = run_eval(ARTICLES, GOLD, replay_dir=CASSETTES, baseline=BASELINE)
    assert run.errors == {}
    assert run.regressions == []
    baseline = load_report(BASELINE)
    assert set(run.report.articles) == set(baseline.articles)
    assert run.report.failed == baseline.failed
    assert set(run.report.articles) | set(run.report.failed) == {
        p.stem for p in ARTICLES.glob("*.txt")
    }
    # the recordings say which model made them, and replay says so too
    info = json.loads((CASSETTES / "model.json").read_text())
    assert "SmolLM2" in info["label"] and "plumbing" in info["label"]
    assert any("replaying recordings of" in n and "SmolLM2" in n for n in run.notes)


def test_a_missing_recording_fails_loudly_naming_the_article(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES, copy)
    victim = next(p for p in sorted(copy.glob("*.json")) if p.name != "model.json")
    article = json.loads(victim.read_text())["article_id"]
    victim.unlink()
    run = run_eval(ARTICLES, GOLD, replay_dir=copy)
    assert article in run.errors
    assert "no recording" in run.errors[article]
    assert "khabar eval --record" in run.errors[article]


def test_an_unrequested_recording_is_stale(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES, copy)
    extra = json.loads(
        next(p for p in sorted(copy.glob("*.json")) if p.name != "model.json").read_text()
    )
    extra["key"] = "0" * 32
    (copy / ("0" * 32 + ".json")).write_text(json.dumps(extra))
    run = run_eval(ARTICLES, GOLD, replay_dir=copy)
    assert "stale" in run.errors["(recordings)"]


def test_the_gate_fails_on_a_regression(tmp_path: Path) -> None:
    better = json.loads(BASELINE.read_text())
    scored = next(iter(better["articles"]))
    better["articles"][scored]["metrics"]["grounding_rate"] = 1.5  # unreachable: a drop
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(better))
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--replay",
            str(CASSETTES),
            "--baseline",
            str(path),
            "--json",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 1
    assert f"{scored}: grounding_rate" in result.output
    assert load_report(tmp_path / "r.json").model == load_report(BASELINE).model


def test_live_eval_with_the_optional_judge(tmp_path: Path) -> None:
    """A live run (the fake server, not a model) with --judge: every digest is scored and judged."""
    from khabar.config import Settings
    from khabar.testing import FakeOpenAI, Reply, echo_digest_responder

    def responder(body: dict[str, object]) -> Reply:
        tools = body.get("tools") or []
        if tools and tools[0]["function"]["name"] == "Judgement":  # type: ignore[index]
            return Reply.digest({"faithful": False, "unsupported_claims": ["a synthetic claim"]})
        return echo_digest_responder(body)

    with FakeOpenAI(responder=responder) as server:
        settings = Settings(model="fake", base_url=server.base_url, api_key="k", cache=False)
        run = run_eval(ARTICLES, GOLD, settings=settings, judge=True)
    assert run.errors == {} and run.failures == {}
    assert set(run.judgements) == set(run.digests) == {p.stem for p in ARTICLES.glob("*.txt")}
    assert all(not j.faithful and j.unsupported_claims for j in run.judgements.values())
    assert run.report.replay is False and run.report.provider == "vllm"


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
