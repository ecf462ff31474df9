"""The shipped test doubles: the in-process MockTransport and the synthetic responder."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx2
import pytest

from khabar.core.digest import DigestDraft
from khabar.core.grounding import verify
from khabar.core.text import clean_article, normalize_text
from khabar.testing import MockTransport, Reply, digest_dict, echo_digest_responder

from .conftest import SEEDS, seed


def test_the_test_doubles_import_nothing_of_khabars_internals() -> None:
    code = (
        "import sys, khabar.testing; "
        "print(sorted(m for m in sys.modules if m.startswith('khabar.') and not m.startswith('khabar.testing')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The package root brings its version along, and nothing else.
    assert out.stdout.strip() == "['khabar._version']"


@pytest.mark.parametrize("stem", sorted(SEEDS), ids=sorted(SEEDS))
@pytest.mark.parametrize(
    "layout",
    [
        lambda a: f"<article>\n{a}\n</article>",
        lambda a: f"Summarize this page.\n\n{a}\n\nAnswer in JSON.",
    ],
    ids=["khabar-layout", "another-layout"],
)
def test_the_synthetic_responder_cites_the_article_whatever_the_prompt_layout(
    stem: str, layout: object
) -> None:
    article = clean_article(normalize_text(seed(stem[:3]))).text
    body = {
        "messages": [
            {"role": "system", "content": "x"},
            {"role": "user", "content": layout(article)},
        ]
    }  # type: ignore[operator]
    reply = echo_digest_responder(body)
    draft = DigestDraft.model_validate_json(reply.data)
    result = verify(draft, article)
    assert result.ok, result.problems
    assert draft.title_src and draft.title_src in article


async def test_mock_transport_serves_the_script_then_the_responder_in_process() -> None:
    mock = MockTransport()
    mock.script(Reply.status(429, retry_after=0.01), Reply.digest(digest_dict(title_en="scripted")))
    async with httpx2.AsyncClient(transport=mock, base_url=mock.base_url) as client:
        body = {"model": "m", "messages": [{"role": "user", "content": "جملة فيها 17 شخصا."}]}
        first = await client.post("/chat/completions", json=body)
        second = await client.post("/chat/completions", json=body)
        third = await client.post("/chat/completions", json=body)
    assert first.status_code == 429 and first.headers["retry-after"] == "0.01"
    assert json.loads(second.json()["choices"][0]["message"]["content"])["title_en"] == "scripted"
    synthetic = json.loads(third.json()["choices"][0]["message"]["content"])
    assert synthetic["numbers"][0]["value"] == 17
    assert [r.reply_kind for r in mock.requests] == ["429", "ok", "ok"]


async def test_mock_transport_refuses_faults_that_need_a_socket() -> None:
    mock = MockTransport()
    mock.script(Reply.drop())
    async with httpx2.AsyncClient(transport=mock, base_url=mock.base_url) as client:
        with pytest.raises(ValueError, match="real socket"):
            await client.post("/chat/completions", json={"messages": []})
