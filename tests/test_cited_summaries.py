"""Every sentence cited: the whole pipeline and the CLI against servers that invent, and that cite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from khabar.cli import cli
from khabar.core.grounding import locate
from khabar.core.text import clean_article, normalize_text
from khabar.errors import UnsupportedDigestError
from khabar.pipeline import Summarizer
from khabar.testing import FakeOpenAI, MockTransport, invented_digest_responder

from .conftest import ARTICLES, SENTINEL_KEY, seed


def _env(server: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    return {
        "KHABAR_MODEL": "fake-model",
        "KHABAR_BASE_URL": server.base_url,
        "OPENAI_API_KEY": SENTINEL_KEY,
        "KHABAR_CACHE_DIR": str(tmp_path / "cache"),
        "KHABAR_RETRY_BASE_WAIT": "0.01",
    }


def test_a_server_that_invents_everything_gets_no_ok_record(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(ARTICLES, folder)
    out, report = tmp_path / "out.jsonl", tmp_path / "report.md"
    with FakeOpenAI(invented_digest_responder) as server:
        result = CliRunner().invoke(
            cli,
            ["summarize", str(folder), "-o", str(out), "--report", str(report), "--no-progress"],
            env=_env(server, tmp_path),
        )
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5
    for record in records:
        assert record["status"] == "error"
        assert record["error"]["reason"] == "unsupported"
    assert "5 failed" in report.read_text(encoding="utf-8")


async def test_the_unsupported_error_keeps_the_draft_and_its_reasons() -> None:
    mock = MockTransport(invented_digest_responder)
    from khabar.config import Settings

    settings = Settings(model="fake-model", base_url=mock.base_url, api_key="x", cache=False)
    async with Summarizer(settings, transport=mock) as s:
        try:
            await s.asummarize(seed("003"), article_id="003")
        except UnsupportedDigestError as exc:
            draft = exc.context["draft"]
            assert exc.reason == "unsupported" and exc.article_id == "003"
        else:
            raise AssertionError("an invented digest must not be ok")
    assert len(mock.requests) == 2  # the default re-ask was spent, then the digest failed
    assert draft["support"]["status"] == "unsupported"
    assert draft["title_en"] is not None  # a well-formed English title passes its script check
    assert draft["summary_en"] == "" and draft["people"] == []
    reasons = [d["reason"] for d in draft["provenance"]["dropped_sentences"]]
    assert reasons and all("not in the article" in r for r in reasons)


async def test_a_server_that_cites_the_article_gets_located_citations() -> None:
    mock = MockTransport()  # the synthetic responder copies its citations from the article
    from khabar.config import Settings

    settings = Settings(model="fake-model", base_url=mock.base_url, api_key="x", cache=False)
    article = seed("001")
    cleaned = clean_article(normalize_text(article)).text
    async with Summarizer(settings, transport=mock) as s:
        digest = await s.asummarize(article, article_id="001")
    assert len(mock.requests) == 1
    assert digest.support is not None and digest.support.status == "verified"
    for sentence in (*digest.summary_en_sentences, *digest.summary_src_sentences):
        assert sentence.cites and len(sentence.spans) == len(sentence.cites)
        for cite, span in zip(sentence.cites, sentence.spans, strict=True):
            assert locate(cite, cleaned) == span
    assert digest.summary_en == digest.summary_en_sentences[0].text


async def test_min_support_makes_a_partial_digest_fail(tmp_path: Path) -> None:
    from khabar.config import Settings
    from khabar.testing import Reply, digest_dict

    article = seed("003")
    cleaned = clean_article(normalize_text(article)).text
    good = (
        "أعلن الأمين العام لحلف شمال الأطلسي (ناتو) ينس ستولتنبرغ، مساعدة عسكرية إضافية لأوكرانيا"
    )
    assert locate(good, cleaned) is not None
    answer = digest_dict(
        summary_en=[
            {"text": "NATO announced more military aid.", "cites": [good]},
            {"text": "The aid was worth 99 billion euros.", "cites": [good]},
        ],
        summary_src=[{"text": good, "cites": [good]}],
        organizations=[{"name_en": "NATO", "name_src": "حلف شمال الأطلسي", "evidence": good}],
    )
    for min_support, ok in ((0.0, True), (0.9, False)):
        mock = MockTransport()
        mock.script(Reply.digest(answer))
        settings = Settings(
            model="fake-model", base_url=mock.base_url, api_key="x", cache=False,
            max_reasks=0, min_support=min_support,
        )  # fmt: skip
        async with Summarizer(settings, transport=mock) as s:
            try:
                digest = await s.asummarize(article)
            except UnsupportedDigestError as exc:
                assert not ok and "2 of 3" in str(exc)
            else:
                assert ok and digest.support is not None and digest.support.status == "partial"
                assert [d.reason for d in digest.provenance.dropped_sentences] == [
                    "it states 9.9e+10, which its citations do not"
                ]
