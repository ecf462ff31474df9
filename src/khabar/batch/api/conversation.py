"""One article's exchange with the model, one answer at a time: the online pipeline, unrolled.

Online, :meth:`khabar.pipeline.Summarizer.asummarize` prepares the prompt, then
loops ``ask <-> verify`` while re-asks are left, awaiting each answer. Through
a batch API each answer arrives hours later, possibly in another process, so
the loop is unrolled here into two steps:

* :func:`prepare` does what ``asummarize`` does before its first call (clean,
  detect the language, key the cache, serve a cache hit or a remembered
  failure, fit, render the messages);
* :func:`advance` takes one answer and does what the loop does with it
  (instructor's structural re-ask, verification, the verification re-ask, the
  budget shared by both), returning either the next request or the final
  Digest / error, built exactly as ``asummarize`` builds it.

Between answers, everything the loop keeps in local variables lives in a
:class:`Carry`, which is JSON so that it survives in the job directory.
``tests/test_batch_api.py`` runs the online path and this one on the same
scripted answers and compares the digests field by field, so the two cannot
drift apart silently. (The lead may fold :func:`prepare` / :func:`advance`
into ``Summarizer`` as public hooks; until then they read the Summarizer's
settings, plan, prompts and cache through its own methods.)
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from khabar.cache import remember_failure
from khabar.core.digest import (
    Digest,
    DigestDraft,
    StrippedBlock,
)
from khabar.core.grounding import Verification, verify
from khabar.core.text import truncate
from khabar.core.text.placement import place_blocks
from khabar.errors import (
    ConfigError,
    KhabarError,
    ValidationFailedError,
)
from khabar.llm.openai_compat import answer_cut_off, answer_off_schema

from .requests import AnswerError, answer_usage, parse_answer, reask_messages, request_body

if TYPE_CHECKING:
    from khabar.pipeline import Summarizer

__all__ = ["Carry", "Final", "Prepared", "advance", "prepare", "request_body_for", "resend"]

logger = logging.getLogger("khabar")

# As in the pipeline: failures the same request reproduces under deterministic decoding.


@dataclass
class Prepared:
    """An article as ``asummarize`` has it just before its first call."""

    key: str
    language: str
    article: str  # the fitted cleaned text: what verification and every span index
    truncated: bool
    warnings: list[str]  # fitting's, then the plan's (the pipeline's order)
    stripped: list[tuple[str, str]]
    blocks: list[StrippedBlock]  # provenance.stripped, placed in ``article``
    messages: list[dict[str, str]]


@dataclass
class Carry:
    """The ask <-> verify loop's local variables between two answers (JSON-serializable).

    ``conversation`` is the loop's (messages, then assistant/re-ask pairs);
    ``request`` the messages of the request in flight, which differ from it
    while instructor re-asks an answer that did not parse. ``ask_*`` count the
    current ``backend.ask`` (instructor's retries included); the other counters
    are the loop's. ``sends`` counts submissions of the request in flight that
    the provider did not answer (expired batch, 5xx line); ``resends`` all of them.
    """

    custom_id: str
    conversation: list[dict[str, Any]]
    request: list[dict[str, Any]]
    ask_retries: int
    converted: bool = False  # ``request`` is as instructor sends it (a structural re-ask)
    ask_calls: int = 0
    ask_prompt_tokens: int | None = None
    ask_completion_tokens: int | None = None
    ask_first: list[int | None] | None = None
    calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first: list[int | None] | None = None
    first_verified: int | None = None
    first_sentences: int | None = None
    previous: str | None = None  # the last parsed draft, JSON: kept when a re-ask fails to parse
    warnings: list[str] = field(default_factory=list)
    sends: int = 0
    resends: int = 0
    latency_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if data["request"] == data["conversation"]:
            data["request"] = None  # the common case: do not store the article twice
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Carry:
        values = dict(data)
        if values.get("request") is None:
            values["request"] = values["conversation"]
        return cls(**values)

    @classmethod
    def start(cls, custom_id: str, prepared: Prepared, budget: int) -> Carry:
        return cls(custom_id, list(prepared.messages), list(prepared.messages), budget)


@dataclass
class Final:
    """How an article ends: a Digest or an error (a KhabarError, as the online path raises)."""

    digest: Digest | None = None
    error: KhabarError | None = None


def _add(total: int | None, more: int | None) -> int | None:
    return more if total is None else total + (more or 0)


# --- before the first call ---------------------------------------------------------


def prepare(
    summarizer: Summarizer,
    text: str,
    *,
    article_id: str | None,
    title: str | None,
    refresh: bool = False,
    batch: bool = True,
) -> Prepared | Digest:
    """What ``asummarize`` does before its first call: a Prepared article, or a cache hit.

    Raises what ``asummarize`` raises there (:class:`EmptyArticleError`, a
    remembered failure). For a remote backend fitting reads no tokenizer: it
    knows no context size (``OpenAICompatibleBackend.context_size`` is None),
    so fitting is the character limit alone and no client is built (nor a key
    needed). For the embedded model (``batch=False``: an estimate of an online
    run) fitting is the pipeline's own, which loads the model and counts with
    its tokenizer.
    """
    plan = summarizer.plan
    if batch and plan.provider == "local":
        raise ConfigError(
            "the batch API needs an OpenAI-compatible endpoint; the embedded model runs with "
            "`khabar summarize`",
            hint="Set KHABAR_MODEL (and KHABAR_BASE_URL for Azure or a vLLM run_batch job).",
        )
    begun = summarizer.begin(text, article_id=article_id, title=title, refresh=refresh)
    if begun.hit is not None:
        return begun.hit
    page, cleaned, language, key = begun.page, begun.cleaned, begun.language, begun.key
    warnings: list[str] = []
    if plan.provider != "local":
        article, truncated = truncate(cleaned.text, summarizer.settings.max_article_chars)
        if truncated:
            warnings.append(
                f"article truncated to {len(article)} characters (KHABAR_MAX_ARTICLE_CHARS)"
            )
    else:
        article, truncated = summarizer._fit(cleaned.text, warnings)
    warnings.extend(plan.warnings)
    blocks = [
        block.model_copy(update={"at": at})
        for block, at in zip(
            cleaned.stripped,
            place_blocks(page, article, [b.text for b in cleaned.stripped]),
            strict=True,
        )
    ]
    return Prepared(
        key=key,
        language=language,
        article=article,
        truncated=truncated,
        warnings=warnings,
        stripped=[(b.kind, b.text) for b in cleaned.stripped],
        blocks=blocks,
        messages=summarizer.prompts.render(article=article, language=language, title=title),
    )


# --- one answer at a time ------------------------------------------------------------


def advance(
    summarizer: Summarizer,
    prepared: Prepared,
    carry: Carry,
    body: dict[str, Any],
    *,
    article_id: str | None,
) -> Final | list[dict[str, Any]]:
    """Take one answer (a chat-completion body): the next request's messages, or the end.

    ``carry`` is updated in place. The steps and their order are those of
    ``OpenAICompatibleBackend.ask`` (instructor's loop) inside
    ``Summarizer._ask_and_verify``.
    """
    mode = summarizer.plan.mode
    carry.ask_calls += 1
    carry.sends = 0
    p, c = answer_usage(body)
    for name, value in (("ask_prompt_tokens", p), ("ask_completion_tokens", c)):
        if value is not None:
            setattr(carry, name, (getattr(carry, name) or 0) + value)
    if carry.ask_calls == 1:
        carry.ask_first = [p, c]
    try:
        draft = parse_answer(body, mode)
    except AnswerError as exc:
        if exc.incomplete:
            return _ask_failed(
                summarizer,
                prepared,
                carry,
                answer_cut_off(
                    summarizer.effective_max_tokens(),
                    summarizer.plan.limits,
                    article_id=article_id,
                    attempts=carry.ask_calls,
                ),
                article_id,
            )
        if carry.ask_calls - 1 < carry.ask_retries:
            # instructor's structural re-ask, within the same ask: it extends the messages
            # as it sent them (converted once, at the ask's start).
            sent = (
                carry.request
                if carry.converted
                else request_body_for(summarizer, carry)["messages"]
            )
            carry.request = reask_messages(
                sent, mode=mode, completion=completion_of(body), error=exc.cause
            )
            carry.converted = True
            return carry.request
        return _ask_failed(
            summarizer,
            prepared,
            carry,
            answer_off_schema(
                exc.cause, carry.ask_calls, summarizer.plan.limits, article_id=article_id
            ),
            article_id,
        )
    # The ask returned: its calls and tokens join the loop's (Answer.calls, _add).
    carry.calls += max(carry.ask_calls, 1)
    carry.prompt_tokens = _add(carry.prompt_tokens, carry.ask_prompt_tokens)
    carry.completion_tokens = _add(carry.completion_tokens, carry.ask_completion_tokens)
    if carry.first is None:
        carry.first = list(carry.ask_first or [None, None])
    _new_ask(carry, 0)
    result = _verify(draft, prepared)
    if carry.first_verified is None:
        carry.first_verified = result.verified
        carry.first_sentences = result.support.sentences_kept
    budget = summarizer.effective_max_reasks()
    if result.problems and carry.calls - 1 < budget:
        carry.previous = draft.model_dump_json()
        carry.conversation += [
            {"role": "assistant", "content": draft.model_dump_json()},
            summarizer.prompts.render_reask(result.problems),
        ]
        _new_ask(carry, budget - carry.calls)
        carry.request = list(carry.conversation)
        carry.converted = False
        return carry.request
    return _finish(summarizer, prepared, carry, result, article_id)


def request_body_for(summarizer: Summarizer, carry: Carry) -> dict[str, Any]:
    """The body of ``carry``'s next request, as the online backend would send it."""
    s = summarizer.settings
    return request_body(
        carry.request,
        model=summarizer.plan.model,
        mode=summarizer.plan.mode,
        max_tokens=summarizer.effective_max_tokens(),
        temperature=s.temperature,
        seed=s.seed,
        converted=carry.converted,
    )


def completion_of(body: dict[str, Any]) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(body)


def resend(carry: Carry) -> list[dict[str, Any]]:
    """The same request again, after the provider did not answer it (counted, not re-asked)."""
    carry.sends += 1
    carry.resends += 1
    return carry.request


def _new_ask(carry: Carry, retries: int) -> None:
    carry.ask_retries = retries
    carry.ask_calls = 0
    carry.ask_prompt_tokens = carry.ask_completion_tokens = None
    carry.ask_first = None


def _verify(draft: DigestDraft, prepared: Prepared) -> Verification:
    return verify(draft, prepared.article, language=prepared.language, stripped=prepared.stripped)


def _ask_failed(
    summarizer: Summarizer,
    prepared: Prepared,
    carry: Carry,
    error: ValidationFailedError,
    article_id: str | None,
) -> Final:
    """An ask that ended without a parsed answer: fatal on the first ask, else keep the last."""
    if carry.previous is None:
        return fail(summarizer, prepared, error)
    # _ask_and_verify: "the verified part of the previous answer is worth more than nothing".
    carry.calls += int(error.context.get("attempts") or 1)
    carry.warnings.append(f"a re-ask's answer did not parse; kept the previous one ({error})")
    draft = tool_draft(carry.previous)
    return _finish(summarizer, prepared, carry, _verify(draft, prepared), article_id)


def tool_draft(raw: str) -> DigestDraft:
    from .requests import tool_model

    draft: DigestDraft = tool_model().model_validate_json(raw)
    return draft


def fail(summarizer: Summarizer, prepared: Prepared, error: KhabarError) -> Final:
    """An error outcome, remembered in the cache when the same request would reproduce it."""
    remember_failure(summarizer.cache, prepared.key, error, summarizer.settings)
    return Final(error=error)


def _finish(
    summarizer: Summarizer,
    prepared: Prepared,
    carry: Carry,
    result: Verification,
    article_id: str | None,
) -> Final:
    """The Digest (or the unsupported error), built by ``Summarizer.build_digest`` as online."""
    settings = summarizer.settings
    warnings = list(prepared.warnings) + list(carry.warnings)
    if result.problems:
        warnings.append(
            f"answer still failed grounding after {carry.calls} attempts; "
            f"{len(result.dropped)} unverified facts and "
            f"{len(result.dropped_sentences)} unsupported sentences or titles dropped"
        )
    first_prompt, first_completion = carry.first or [None, None]
    digest = summarizer.build_digest(
        result,
        article=prepared.article,
        language=prepared.language,
        article_id=article_id,
        blocks=[b.model_copy() for b in prepared.blocks],
        truncated=prepared.truncated,
        warnings=warnings,
        calls=carry.calls,
        prompt_tokens=carry.prompt_tokens,
        completion_tokens=carry.completion_tokens,
        first_prompt_tokens=first_prompt,
        first_completion_tokens=first_completion,
        gain_facts=result.verified - (carry.first_verified or 0),
        gain_sentences=result.support.sentences_kept - (carry.first_sentences or 0),
        transport_retries=carry.resends,
        latency_s=carry.latency_s,
    )
    error = summarizer.support_error(digest, article_id)
    if error is not None:
        return fail(summarizer, prepared, error)
    cache = summarizer.cache
    if cache is not None:
        cache.set(prepared.key, digest.model_copy(update={"article_id": None}))
    if not settings.record_text:
        digest.text = None
    return Final(digest=digest)
