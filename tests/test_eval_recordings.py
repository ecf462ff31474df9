"""Why a recording is missing: a committed file deleted, an article never recorded, or what changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from khabar.evals.recordings import explain_missing, missing_key, rerecord_command, what_changed

BODY: dict[str, Any] = {
    "model": "m",
    "temperature": 0.0,
    "max_tokens": 768,
    "seed": 0,
    "tool_choice": {"type": "function", "function": {"name": "DigestDraft"}},
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "DigestDraft",
                "parameters": {"properties": {"title_en": {"type": "string"}}},
            },
        }
    ],
    "messages": [
        {"role": "system", "content": "You are a careful news analyst.\nBe brief."},
        {
            "role": "user",
            "content": "Article language: Arabic (ar).\n\n<article>\nخبر.\n</article>",
        },
    ],
}


def changed(**updates: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(BODY))
    body.update(updates)
    return body


def cassette(directory: Path, key: str, article: str, body: dict[str, Any]) -> Path:
    path = directory / f"{key}.json"
    path.write_text(
        json.dumps({"key": key, "article_id": article, "request": {"body": body}}),
        encoding="utf-8",
    )
    return path


def test_the_same_body_has_nothing_to_show() -> None:
    assert what_changed(BODY, BODY) == [
        "  nothing differs in the body: the endpoint or the recording's name changed"
    ]


def test_model_and_decoding_changes_are_named() -> None:
    lines = what_changed(BODY, changed(model="m2", max_tokens=1024, top_p=0.9))
    assert "  model: 'm' -> 'm2'" in lines
    assert "  decoding parameter max_tokens: 768 -> 1024" in lines
    assert "  decoding parameter top_p: None -> 0.9" in lines


def test_a_schema_change_says_where() -> None:
    new = changed()
    new["tools"][0]["function"]["parameters"]["properties"]["title_src"] = {"type": "string"}
    lines = what_changed(BODY, new)
    assert lines[0] == "  schema (tools / response format): 1 difference(s)"
    assert "tools[0].function.parameters.properties.title_src added" in lines[1]


def test_prompt_and_article_changes_are_told_apart() -> None:
    new = changed()
    new["messages"][0]["content"] = "You are a careful news analyst.\nBe very brief."
    new["messages"][1]["content"] = new["messages"][1]["content"].replace("خبر.", "خبر آخر.")
    lines = what_changed(BODY, new)
    text = "\n".join(lines)
    assert "prompt, message 0 (system) changed" in text
    assert "-Be brief." in text and "+Be very brief." in text
    assert "prompt, message 1" not in text  # the user template around the article is the same
    assert "article changed" in text and "+خبر آخر." in text


def test_a_reask_shows_as_a_longer_conversation() -> None:
    new = changed(messages=[*BODY["messages"], {"role": "assistant", "content": "{}"}])
    assert any("a re-ask, or the conversation changed" in line for line in what_changed(BODY, new))


def test_the_nearest_recording_of_the_article_is_compared(tmp_path: Path) -> None:
    cassette(tmp_path, "a" * 32, "001", BODY)
    cassette(tmp_path, "b" * 32, "001", changed(messages=BODY["messages"][:1]))
    cassette(tmp_path, "c" * 32, "002", changed(model="other"))
    message = explain_missing(
        tmp_path,
        "001",
        "no recording for this request (key " + "d" * 32 + ")",
        changed(seed=7),
        "CMD",
    )
    assert (
        f"({'a' * 32}.json)" in message
    )  # the one that differs least, not a re-ask or another article
    assert "decoding parameter seed: 0 -> 7" in message
    assert message.splitlines()[-1] == "Re-record (and review the new baseline): `CMD`"


def test_an_article_without_recordings(tmp_path: Path) -> None:
    cassette(tmp_path, "a" * 32, "001", BODY)
    message = explain_missing(tmp_path, "009", "no recording (key " + "e" * 32 + ")", BODY, "CMD")
    assert "has no recording at all" in message
    assert message.splitlines()[-1] == "Record it: `CMD`"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_committed_recording_deleted_by_hand_is_restored_by_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    cassettes = repo / "evals" / "cassettes" / "m"
    cassettes.mkdir(parents=True)
    key = "f" * 32
    path = cassette(cassettes, key, "001", BODY)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "recordings")
    path.unlink()
    message = explain_missing(cassettes, "001", f"no recording (key {key})", BODY, "CMD")
    assert "committed but absent from the working tree" in message
    assert f"`git checkout -- {path}`" in message
    git("rm", "-q", "--cached", str(path.relative_to(repo)))  # deleted and staged
    message = explain_missing(cassettes, "001", f"no recording (key {key})", BODY, "CMD")
    assert f"`git checkout HEAD -- {path}`" in message


def test_missing_key_reads_the_error_message() -> None:
    assert missing_key("no recording for this request (key 0123abcd0123abcd) in d") == (
        "0123abcd0123abcd"
    )
    assert missing_key("something else") is None


def test_rerecord_commands() -> None:
    plumbing = {"provider": "local", "model": "x", "label": "x (bundled plumbing model)"}
    assert rerecord_command(Path("d"), plumbing) == (
        "pip install -e '.[local]' && KHABAR_LOCAL_DOWNLOAD=0 khabar eval --record d "
        "--json evals/baseline.json"
    )
    hosted = rerecord_command(Path("d"), {"provider": "openai", "model": "gpt-4o-mini"})
    assert hosted.startswith("pip install -e . && KHABAR_MODEL=gpt-4o-mini khabar eval --record d")


def test_replay_cuts_a_long_article_where_the_recording_did(tmp_path: Path) -> None:
    from khabar.core.text import truncate
    from khabar.evals.recordings import recorded_articles, replay_cap

    cleaned = "الفقرة الأولى.\n\nالفقرة الثانية.\n\nالفقرة الثالثة طويلة جدا."
    recorded, cut = truncate(cleaned, 40)  # what the local model's context allowed
    assert cut and recorded == "الفقرة الأولى.\n\nالفقرة الثانية."
    first = changed()
    first["messages"][1]["content"] = f"<article>\n{recorded}\n</article>"
    reask = changed(messages=[*first["messages"], {"role": "user", "content": "fix it"}])
    cassette(tmp_path, "a" * 32, "001", reask)
    cassette(tmp_path, "b" * 32, "001", first)
    assert recorded_articles(tmp_path) == {"001": recorded}
    cap = replay_cap(cleaned, recorded)
    assert cap is not None and truncate(cleaned, cap)[0] == recorded
    # Not a cut of this text (the page or its cleaning changed), or nothing was cut: no cap.
    assert replay_cap("نص آخر تماما. " * 5, recorded) is None
    assert replay_cap(recorded, recorded) is None
