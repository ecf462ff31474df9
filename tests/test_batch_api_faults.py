"""What the provider does wrong: failed lines, expired, failed and cancelled batches; vLLM's files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from khabar.batch.api import BatchLimits, cancel, collect, prepare_batch, status, submit
from khabar.batch.inputs import iter_articles
from khabar.core.cost import estimate_cost
from khabar.errors import ConfigError
from khabar.testing import FaultPlan, MockTransport, Reply
from khabar.testing.batch_api import FakeBatchAPI
from khabar.testing.replies import completion

from .conftest import ARTICLES, corpus_sample
from .test_batch_api import comparable, make_settings, one_article, online, records, run_job
from .test_pipeline import PERSON_INVENTED, good_answer


def ok(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records(path)}


def test_failed_lines_in_the_error_file_are_sent_again(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.script(Reply.status(500), Reply.status(429))  # the first two lines of round 0 fail
    final = run_job([ARTICLES], tmp_path / "job", make_settings(api, tmp_path), api)
    assert final.finished and final.done == 5 and final.round == 1
    out = ok(tmp_path / "job.jsonl")
    assert all(r["status"] == "ok" for r in out.values())
    retried = sorted(r["digest"]["provenance"]["transport_retries"] for r in out.values())
    assert retried == [0, 0, 0, 1, 1]
    # The resent requests are the very requests of round 0.
    job = tmp_path / "job"
    first = [json.loads(x) for x in (job / "requests-r0-000.jsonl").read_text("utf-8").splitlines()]
    again = [json.loads(x) for x in (job / "requests-r1-000.jsonl").read_text("utf-8").splitlines()]
    assert again == first[:2]


def test_a_4xx_line_is_final_and_not_sent_again(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.script(Reply.status(400, body={"error": {"message": "Invalid 'tools': bad schema"}}))
    final = run_job([ARTICLES], tmp_path / "job", make_settings(api, tmp_path), api)
    assert final.finished and final.round == 0
    reasons = Counter(r["error"]["reason"] for r in records(tmp_path / "job.jsonl") if r["error"])
    assert reasons == {"provider": 1}


def test_an_expired_batch_sends_what_it_did_not_answer_again(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.expire_next(1, answered=0.6)
    final = run_job([ARTICLES], tmp_path / "job", make_settings(api, tmp_path), api)
    assert final.finished and final.done == 5
    assert [p.status for p in final.parts] == ["expired", "completed"]
    assert (final.parts[0].completed, final.parts[0].failed) == (3, 2)
    assert final.parts[1].requests == 2
    assert all(r["status"] == "ok" for r in records(tmp_path / "job.jsonl"))
    assert len(api.requests) == 5  # nothing answered twice


def test_resends_are_bounded_then_a_transport_error(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.expire_next(3, answered=0.0)
    settings = make_settings(api, tmp_path)
    prepare_batch([one_article(tmp_path)], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    submit(tmp_path / "job", settings, transport=api)
    final = collect(
        tmp_path / "job", settings, wait=True, poll_interval=0, max_resends=2, transport=api
    )
    assert final.finished and [p.status for p in final.parts] == ["expired"] * 3
    (record,) = records(tmp_path / "o.jsonl")
    assert record["error"]["reason"] == "transport"
    assert "in 3 submissions" in record["error"]["message"]
    assert "batch_expired" in record["error"]["message"]


def test_a_batch_that_fails_validation_is_sent_again(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.fail_next(1)
    final = run_job([ARTICLES], tmp_path / "job", make_settings(api, tmp_path), api)
    assert [p.status for p in final.parts] == ["failed", "completed"]
    assert "token_limit_exceeded" in final.parts[0].errors[0]
    assert final.finished and final.done == 5
    assert any("token_limit_exceeded" in line for line in final.lines())


def test_a_line_that_is_not_a_chat_completion_is_sent_again(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    prepare_batch([one_article(tmp_path)], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    submit(tmp_path / "job", settings, transport=api)
    status(tmp_path / "job", settings, transport=api)  # validating -> in_progress
    (batch,) = api.batches.values()
    for _ in range(3):
        api._advance(batch)
    out = api.files[batch.data["output_file_id"]]
    line = json.loads(out.content)
    line["response"]["body"] = {"choices": "not a completion"}
    out.content = (json.dumps(line) + "\n").encode()
    final = collect(tmp_path / "job", settings, wait=True, poll_interval=0, transport=api)
    assert final.round == 1 and final.finished
    (record,) = records(tmp_path / "o.jsonl")
    assert record["status"] == "ok" and record["digest"]["provenance"]["transport_retries"] == 1


def test_cancel_collects_what_was_answered_and_holds_the_rest(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    api.hold()
    settings = make_settings(api, tmp_path)
    job = tmp_path / "job"
    prepare_batch([ARTICLES], job, settings, output=tmp_path / "o.jsonl")
    submit(job, settings, transport=api)
    api.hold(False)
    st = cancel(job, settings, transport=api)
    assert st.cancelled and st.parts[0].status == "cancelling"
    st = collect(job, settings, wait=True, poll_interval=0, transport=api)
    # The fake answers half a cancelled batch: those are recorded; the rest waits, unsent.
    assert st.parts[0].status == "cancelled" and st.done == 2 and not st.finished
    assert st.parts[1].status == "prepared" and "khabar batch submit" in st.next_step
    assert len(api.batches) == 1
    submit(job, settings, transport=api)
    final = collect(job, settings, wait=True, poll_interval=0, transport=api)
    assert final.finished and final.done == 5 and not final.cancelled
    # A user's cancel is not the provider failing: no transport retry counted.
    assert all(
        r["digest"]["provenance"]["transport_retries"] == 0 for r in records(tmp_path / "o.jsonl")
    )


def test_status_shows_the_cost_at_batch_prices(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path, model="gpt-4o-mini")
    prepare_batch([ARTICLES], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    before = status(tmp_path / "job", settings)
    assert before.cost == 0 and before.estimated_cost and before.estimated_cost > 0
    submit(tmp_path / "job", settings, transport=api)
    final = collect(tmp_path / "job", settings, wait=True, poll_interval=0, transport=api)
    tokens = sum(r["digest"]["provenance"]["prompt_tokens"] for r in records(tmp_path / "o.jsonl"))
    assert final.prompt_tokens == tokens > 0
    expected = estimate_cost(
        final.prompt_tokens, final.completion_tokens, "gpt-4o-mini", batch=True
    )
    assert final.cost == expected and expected is not None and expected > 0
    assert expected == pytest.approx(
        estimate_cost(final.prompt_tokens, final.completion_tokens, "gpt-4o-mini") / 2
    )
    assert any("$" in line and "batch prices" in line for line in final.lines())


def test_many_articles_with_faults_none_lost_none_twice(tmp_path: Path) -> None:
    """40 real articles in 4 files; 5xx/429 lines, ungrounded and broken answers, one expiry."""
    sample = corpus_sample()[:40]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a["id"], "text": a["text"]}, ensure_ascii=False) + "\n"
            for a in sample
        ),
        encoding="utf-8",
    )
    faults = FaultPlan(
        rate_500=0.1, rate_429=0.05, rate_ungrounded=0.1, rate_schema_break=0.05, seed=7
    )
    api = FakeBatchAPI(faults=faults, max_requests=10)
    api.expire_next(1, answered=0.5)
    settings = make_settings(api, tmp_path, max_reasks=1)
    final = run_job([src], tmp_path / "job", settings, api, limits=BatchLimits(max_requests=10))
    assert final.finished
    out = records(tmp_path / "job.jsonl")
    ids = Counter(r["id"] for r in out)
    assert set(ids) == {a.id for a in iter_articles([src])} and len(ids) == 40
    assert max(ids.values()) == 1
    kinds = api.calls_by_kind()
    assert kinds["500"] + kinds["429"] > 0 and kinds["ungrounded"] + kinds["schema_break"] > 0
    # Faulted lines were sent again, not lost: most articles end ok.
    assert sum(r["status"] == "ok" for r in out) >= 30


# --- vLLM's run_batch: the same files, answers read back from its output --------------------------


def run_batch_file(requests: Path, output: Path, source: MockTransport) -> Path:
    """What ``python -m vllm.entrypoints.openai.run_batch -i REQUESTS -o OUTPUT`` writes.

    One output line per request line, in vLLM's format (OpenAI's): the answer
    from ``source`` (a script, then the synthetic responder), or an error
    response for a failed request.
    """
    lines = []
    for n, raw in enumerate(requests.read_text("utf-8").splitlines()):
        request = json.loads(raw)
        reply = source.next_reply(request["body"])
        if reply.kind in ("ok", "text"):
            response = {
                "status_code": 200,
                "request_id": f"vllm-{n}",
                "body": completion(request["body"], reply.data),
            }
            error = None
        else:
            response = {"status_code": reply.code, "request_id": f"vllm-{n}", "body": None}
            error = {"message": "internal error", "code": reply.code}
        lines.append(
            {
                "id": f"vllm-{n}",
                "custom_id": request["custom_id"],
                "response": response,
                "error": error,
            }
        )
    output.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    return output


async def test_vllm_run_batch_files_round_trip(tmp_path: Path) -> None:
    from khabar.batch.api import acollect, aprepare_batch

    vllm = MockTransport()
    vllm.script(Reply.digest(good_answer(people=[PERSON_INVENTED])), Reply.status(500))
    settings = make_settings(vllm, tmp_path, provider="vllm", base_url="http://gpu:8000/v1")
    job = tmp_path / "job"
    src = tmp_path / "in"
    src.mkdir()
    for prefix in ("003", "001"):
        (src / f"{prefix}.txt").write_text(
            __import__("tests.conftest", fromlist=["seed"]).seed(prefix), "utf-8"
        )
    result = await aprepare_batch([src], job, settings, output=tmp_path / "o.jsonl")
    (requests,) = result.files
    st = await acollect(
        job, settings, from_file=run_batch_file(requests, tmp_path / "out0.jsonl", vllm)
    )
    # 001's answer was ungrounded (re-ask) and 003's failed (resend): a second round, to run by hand.
    assert st.round == 1 and not st.finished and "run_batch" in st.next_step
    assert [p.status for p in st.parts] == ["answered", "prepared"]
    follow = job / st.parts[1].file
    bodies = [json.loads(x)["body"] for x in follow.read_text("utf-8").splitlines()]
    assert any("not supported by the article" in json.dumps(b, ensure_ascii=False) for b in bodies)
    st = await acollect(
        job, settings, from_file=run_batch_file(follow, tmp_path / "out1.jsonl", vllm)
    )
    assert st.finished and st.done == 2
    # The same outcome as the online path given the same answers.
    mock = MockTransport()
    mock.script(Reply.digest(good_answer(people=[PERSON_INVENTED])))
    await online(
        [src],
        make_settings(
            mock,
            tmp_path,
            provider="vllm",
            base_url="http://gpu:8000/v1",
            cache_dir=tmp_path / "c-on",
        ),
        tmp_path / "on.jsonl",
        mock,
    )
    on = {r["id"]: comparable(r) for r in records(tmp_path / "on.jsonl")}
    off = {r["id"]: comparable(r) for r in records(tmp_path / "o.jsonl")}
    off["in/003.txt"]["digest"]["provenance"]["transport_retries"] = 0  # the 500 was resent
    assert on == off


def test_from_file_that_answers_nothing_is_refused(tmp_path: Path) -> None:
    settings = make_settings(
        MockTransport(), tmp_path, provider="vllm", base_url="http://gpu:8000/v1"
    )
    prepare_batch([one_article(tmp_path)], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    stray = tmp_path / "stray.jsonl"
    stray.write_text(json.dumps({"custom_id": "nope", "response": None, "error": None}) + "\n")
    with pytest.raises(ConfigError, match="answer none of the 1 requests"):
        collect(tmp_path / "job", settings, from_file=stray)
    assert records(tmp_path / "o.jsonl") == []


async def test_the_fake_speaks_the_files_and_batches_protocol() -> None:
    """The fake through the openai SDK alone: what khabar relies on is what the SDK sees."""
    import httpx2
    import openai

    api = FakeBatchAPI(steps=2)
    api.expire_next(1, answered=0.5)
    client = openai.AsyncOpenAI(
        api_key="x", base_url=api.base_url, http_client=httpx2.AsyncClient(transport=api)
    )
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": f"line {i} text"}]},
        }
        for i in range(4)
    ]
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    uploaded = await client.files.create(file=("in.jsonl", data), purpose="batch")
    assert (await client.files.content(uploaded.id)).content == data
    expiring = await client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done = await client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"k": "v"},
    )
    seen = []
    while (b := await client.batches.retrieve(done.id)).status != "completed":
        seen.append(b.status)
    # Each state is seen by `steps` calls (validating: by the create call and one retrieve).
    assert [done.status, *seen] == ["validating", "validating"] + ["in_progress"] * 2 + [
        "finalizing"
    ] * 2
    assert (
        b.request_counts is not None and b.request_counts.completed == 4 and b.error_file_id is None
    )
    output = (await client.files.content(str(b.output_file_id))).text.splitlines()
    assert [json.loads(x)["custom_id"] for x in output] == ["r0", "r1", "r2", "r3"]
    assert json.loads(output[0])["response"]["body"]["object"] == "chat.completion"
    while (e := await client.batches.retrieve(expiring.id)).status != "expired":
        pass
    errors = [
        json.loads(x) for x in (await client.files.content(str(e.error_file_id))).text.splitlines()
    ]
    assert [x["error"]["code"] for x in errors] == ["batch_expired"] * 2
    listed = [b.id async for b in await client.batches.list(limit=1)]
    assert listed == [done.id, expiring.id]  # newest first, across pages
    with pytest.raises(openai.ConflictError):
        await client.batches.cancel(done.id)
    await client.close()
