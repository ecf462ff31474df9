"""The optional LLM judge of ``khabar eval --judge``: is each summary faithful to its article?

The prompt is the packaged template ``prompts/judge.j2``, one Jinja block per
chat message, rendered like the digest prompts (:mod:`khabar.prompts`): in a
sandbox, with StrictUndefined, the article and the summaries passed as
variables so that a ``{{ }}`` inside them is text. The model call itself is
the caller's: :func:`judge_digest` takes an ``ask`` function, so this module does not
depend on the pipeline.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from importlib import resources

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, Field

from khabar.core.digest import Digest
from khabar.errors import ConfigError

__all__ = ["TEMPLATE_NAME", "Ask", "Judgement", "judge_digest", "judge_messages"]

TEMPLATE_NAME = "judge.j2"
"""The judge's template in the packaged ``prompts/`` directory."""

_MESSAGES = ("system", "user")  # the template's blocks, in chat order


class Judgement(BaseModel):
    """An LLM judge's view of one summary's faithfulness (``--judge``)."""

    faithful: bool = Field(
        description="True when every claim of the summary is supported by the article."
    )
    unsupported_claims: list[str] = Field(
        default_factory=list, description="Claims of the summary that the article does not support."
    )


Ask = Callable[[list[dict[str, str]]], Awaitable[Judgement]]
"""Sends chat messages to the judging model and returns its structured :class:`Judgement`."""


@functools.cache
def _template() -> Template:
    # The packaged template, not KHABAR_PROMPTS_DIR: a custom digest prompt directory
    # need not carry a judge, and the judge should not change with the digest prompt.
    path = resources.files("khabar") / "prompts" / TEMPLATE_NAME
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read prompt template {path}: {exc.strerror}") from exc
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise ConfigError(f"prompt template {path} does not compile: {exc}") from exc


def judge_messages(article: str, digest: Digest) -> list[dict[str, str]]:
    """The chat messages that ask whether ``digest``'s summaries are faithful to ``article``.

    Example::

        >>> judge_messages(article_text, digest)[0]["role"]   # doctest: +SKIP
        'system'
    """
    template = _template()
    variables = {
        "article": article,
        "summary_en": digest.summary_en,
        "summary_src": digest.summary_src,
    }
    try:
        # One block per message: the whole prompt stays in one file a reviewer reads at once.
        return [
            {
                "role": role,
                "content": "".join(template.blocks[role](template.new_context(variables))),
            }
            for role in _MESSAGES
        ]
    except (TemplateError, KeyError) as exc:
        raise ConfigError(f"prompt template {TEMPLATE_NAME} failed to render: {exc}") from exc


async def judge_digest(article: str, digest: Digest, ask: Ask) -> Judgement:
    """Ask the judging model (through ``ask``) whether the summaries are faithful to the article.

    Example::

        >>> judgement = await judge_digest(article_text, digest, ask)   # doctest: +SKIP
        >>> judgement.faithful, judgement.unsupported_claims     # doctest: +SKIP
        (False, ['The talks ended without agreement.'])
    """
    return await ask(judge_messages(article, digest))
