"""The ask <-> verify loop: ask, verify in code, re-ask with the problems while re-asks remain.

The backend parses the answer (instructor re-asks JSON that does not parse);
:func:`~khabar.core.grounding.verify` checks it against the article; what
fails goes back to the model as a plain follow-up message
(``prompts/reask.j2``) while the one re-ask budget lasts. What re-asks cost
and won is counted for the provenance.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core.digest import DigestDraft
from .core.grounding import Verification, verify
from .errors import ValidationFailedError
from .llm import Backend
from .prompts import PromptSet

__all__ = ["Outcome", "ask_and_verify", "tokens_beyond"]


@dataclass
class Outcome:
    """What the ask <-> verify loop ends with."""

    result: Verification
    calls: int
    reasks: int
    prompt_tokens: int | None
    completion_tokens: int | None
    warnings: list[str]
    first_prompt_tokens: int | None = None
    first_completion_tokens: int | None = None
    gain_facts: int = 0
    gain_sentences: int = 0


def _add(total: int | None, more: int | None) -> int | None:
    return more if total is None else total + (more or 0)


def tokens_beyond(total: int | None, first: int | None) -> int:
    """Tokens spent after the first call (0 when the endpoint reports no usage)."""
    return max(0, (total or 0) - (first or 0)) if first is not None else 0


async def ask_and_verify(
    backend: Backend,
    prompts: PromptSet,
    messages: list[dict[str, str]],
    article: str,
    *,
    language: str,
    stripped: list[tuple[str, str]],
    article_id: str | None,
    max_tokens: int,
    max_reasks: int,
    temperature: float,
    seed: int | None,
) -> Outcome:
    """Ask, verify, and re-ask with the problems while re-asks remain.

    One budget of ``max_reasks`` re-asks covers both kinds: an answer that
    does not parse (instructor's, inside ``backend.ask``) and one that fails
    verification (this loop's). Re-asks are counted here, by the loop that
    makes them.
    """
    budget = max_reasks
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first: tuple[int | None, int | None] | None = None

    async def ask(conversation: list[dict[str, str]], retries: int) -> tuple[DigestDraft, int]:
        answer = await backend.ask(
            conversation,
            DigestDraft,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            max_retries=retries,
            article_id=article_id,
        )
        nonlocal prompt_tokens, completion_tokens, first
        prompt_tokens = _add(prompt_tokens, answer.prompt_tokens)
        completion_tokens = _add(completion_tokens, answer.completion_tokens)
        if first is None:
            first = (answer.first_prompt_tokens, answer.first_completion_tokens)
        return answer.value, answer.calls

    warnings: list[str] = []
    draft, calls = await ask(messages, budget)
    result = verify(draft, article, language=language, stripped=stripped)
    first_result = result
    conversation = list(messages)
    while result.problems and calls - 1 < budget:
        conversation += [
            {"role": "assistant", "content": draft.model_dump_json()},
            prompts.render_reask(result.problems),
        ]
        try:
            draft, more = await ask(conversation, budget - calls)
        except ValidationFailedError as exc:
            # The verified part of the previous answer is worth more than nothing.
            calls += int(exc.context.get("attempts") or 1)
            warnings.append(f"a re-ask's answer did not parse; kept the previous one ({exc})")
            break
        calls += more
        result = verify(draft, article, language=language, stripped=stripped)
    if result.problems:
        warnings.append(
            f"answer still failed grounding after {calls} attempts; "
            f"{len(result.dropped)} unverified facts and "
            f"{len(result.dropped_sentences)} unsupported sentences or titles dropped"
        )
    first_prompt, first_completion = first or (None, None)
    return Outcome(
        result,
        calls,
        calls - 1,
        prompt_tokens,
        completion_tokens,
        warnings,
        first_prompt,
        first_completion,
        result.verified - first_result.verified,
        result.support.sentences_kept - first_result.support.sentences_kept,
    )
