"""Every error khabar raises, rooted at :class:`KhabarError`.

The hierarchy::

    KhabarError
    ├── ConfigError            settings that cannot work (no model, bad path)
    ├── InputError             an article we cannot read
    │   ├── EmptyArticleError      empty or whitespace-only
    │   ├── BinaryInputError       NUL bytes / not text at all
    │   ├── DecodeError            bytes that decode as no known text encoding
    │   └── ArticleTooLargeError   over the hard size limit
    ├── ProviderError          the model endpoint failed us
    │   ├── AuthenticationError    401/403: the key is missing or wrong
    │   ├── RateLimitError         429 after every retry
    │   ├── TransportError         5xx, timeouts, dropped connections after every retry
    │   ├── ContextLengthError     the request does not fit the model's context window
    │   ├── InvalidRequestError    the endpoint's validation refused the request (mode, shape)
    │   └── ModelNotFoundError     the model (or local weights) does not exist
    ├── ValidationFailedError  the model's answer never parsed into a Digest
    ├── UnsupportedDigestError the article supports no summary sentence and no fact
    ├── RecordingMissingError  --replay met a request with no recording
    └── CacheError             the cache directory cannot be used

Every error carries the article id (when there is one) and says what to do next.
Secrets never enter a message: :func:`redact` scrubs anything that looks like a key.
"""

from __future__ import annotations

from typing import Any

from .redaction import redact

__all__ = [
    "ArticleTooLargeError",
    "AuthenticationError",
    "BinaryInputError",
    "CacheError",
    "ConfigError",
    "ContextLengthError",
    "DecodeError",
    "EmptyArticleError",
    "InputError",
    "InvalidRequestError",
    "KhabarError",
    "ModelNotFoundError",
    "ProviderError",
    "RateLimitError",
    "RecordingMissingError",
    "TransportError",
    "UnsupportedDigestError",
    "ValidationFailedError",
    "redact",
]


class KhabarError(Exception):
    """Base class of every khabar error.

    ``article_id`` names the article the error belongs to (``None`` when the
    error is not about one article); ``hint`` says what the user can do.
    """

    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        article_id: str | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        self.article_id = article_id
        if hint is not None:
            self.hint = hint
        self.context = context
        self.message = redact(message)
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        """A short machine-friendly reason, used in error records (``empty``, ``rate_limit``...)."""
        return _REASONS.get(type(self).__name__, type(self).__name__)

    def __str__(self) -> str:
        """What happened, to which article, then what to do: ``[id] message. Hint.``

        The ``[id]`` tag is left out when the message already starts by naming
        the article (``in/a.txt: the file is empty``), so a path is never printed
        twice; the message and the hint each end as a sentence.
        """
        text = self.message.strip()
        if self.article_id and not _names_article(text, self.article_id):
            text = f"[{self.article_id}] {text}"
        text = _sentence(text)
        hint = self.hint.strip()
        return f"{text} {_sentence(hint)}" if hint else text

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready record (type, reason, message, hint)."""
        return {
            "type": type(self).__name__,
            "reason": self.reason,
            "message": redact(str(self)),
        }


class ConfigError(KhabarError):
    """The settings cannot work (no model configured, a path that does not exist...)."""

    hint = "Check your KHABAR_* / OPENAI_* settings (see .env.example)."


class InputError(KhabarError):
    """An article that cannot be read as text."""


class EmptyArticleError(InputError):
    """The article is empty or only whitespace."""

    hint = "There is no text to summarize: check the scraper or export that produced it."


class BinaryInputError(InputError):
    """The input is binary (NUL bytes, an image, a zip...), not text."""

    hint = "Convert it to text, Markdown, HTML, JSON or JSONL (what khabar reads), or leave it out."


class DecodeError(InputError):
    """The bytes decode as no known text encoding."""

    hint = "Re-save the file as UTF-8 (Windows-1256 and UTF-16 are also detected)."


class ArticleTooLargeError(InputError):
    """The input is over the hard size limit (KHABAR_MAX_INPUT_BYTES)."""

    hint = "Split the file, or raise KHABAR_MAX_INPUT_BYTES if it really is one article."


class ProviderError(KhabarError):
    """The model endpoint failed (after retries, where retrying made sense)."""

    hint = "Check KHABAR_BASE_URL / OPENAI_BASE_URL and that the server is up."


class AuthenticationError(ProviderError):
    """The endpoint refused our credentials (401/403)."""

    hint = "Set OPENAI_API_KEY (or KHABAR_API_KEY) to a valid key for this endpoint."


class RateLimitError(ProviderError):
    """Still rate-limited (429) after every retry."""

    hint = (
        "Lower --concurrency (KHABAR_CONCURRENCY) or raise KHABAR_MAX_TRANSPORT_RETRIES, then "
        "rerun the same command: it resumes where this run stopped."
    )


class TransportError(ProviderError):
    """5xx, timeouts or dropped connections outlasted every retry."""

    hint = (
        "Check that the server at KHABAR_BASE_URL is up and reachable, then rerun the same "
        "command: it resumes where this run stopped."
    )


class ContextLengthError(ProviderError):
    """The prompt and the answer do not fit the model's context window; a retry cannot help."""

    hint = (
        "Raise the server's context size, or lower KHABAR_MAX_TOKENS or KHABAR_MAX_ARTICLE_CHARS."
    )


class InvalidRequestError(ProviderError):
    """The endpoint's request validation refused the request (often an unsupported mode)."""

    hint = "Set KHABAR_MODE (or --mode) to a structured-output mode the server supports."


class ModelNotFoundError(ProviderError):
    """The model name or the local weights do not exist."""

    hint = "Check KHABAR_MODEL, or KHABAR_LOCAL_MODEL for a .gguf path."


class ValidationFailedError(KhabarError):
    """The model's answer never parsed into a Digest, even after re-asking."""

    # The plumbing model's re-asks are forced to 0: whoever raises this for it passes
    # a hint of its own, since raising KHABAR_MAX_REASKS would change nothing there.
    hint = (
        "Try a more capable model (`khabar info` says which one runs), or raise "
        "KHABAR_MAX_REASKS so that the model may correct its answer."
    )


class UnsupportedDigestError(KhabarError):
    """Verification kept no summary sentence and no fact (or less than ``KHABAR_MIN_SUPPORT``).

    The rejected digest travels in ``context["draft"]`` (JSON-ready) so that an
    error record keeps it for inspection; the article is retried on the next run.
    """

    hint = "Try a more capable model; the rejected digest is kept in the record under `draft`."


class RecordingMissingError(KhabarError):
    """``--replay`` met a request that has no recording."""

    hint = (
        "The prompt, schema, model or article changed since the recordings were made: "
        "re-record with `khabar eval --record` against the model named in the cassette directory."
    )


class CacheError(KhabarError):
    """The cache directory cannot be created or opened."""

    hint = "Point KHABAR_CACHE_DIR at a writable directory, or pass --no-cache."


_SENTENCE_END = (".", "!", "?", "…")


def _sentence(text: str) -> str:
    """``text`` ending as a sentence: a full stop added unless it ends with one already."""
    text = text.rstrip()
    if not text or text.endswith(_SENTENCE_END):
        return text
    return text.rstrip(":;,") + "."


def _names_article(message: str, article_id: str) -> bool:
    """Whether ``message`` starts by naming the article (``dir/a.txt: ...``, ``a.jsonl:3: ...``).

    Messages about an input start with its source, which ends with the id (a file under a
    directory argument) or is the id with ``#N`` written ``:N`` (a JSONL line).
    """
    head = message.split(": ", 1)[0] if ": " in message else ""
    return article_id in head or article_id.replace("#", ":") in head


_REASONS = {
    "KhabarError": "error",
    "ConfigError": "config",
    "InputError": "bad_input",
    "EmptyArticleError": "empty",
    "BinaryInputError": "binary",
    "DecodeError": "undecodable",
    "ArticleTooLargeError": "too_large",
    "ProviderError": "provider",
    "AuthenticationError": "auth",
    "RateLimitError": "rate_limit",
    "TransportError": "transport",
    "ModelNotFoundError": "model_not_found",
    "ContextLengthError": "context_length",
    "InvalidRequestError": "invalid_request",
    "ValidationFailedError": "invalid_output",
    "UnsupportedDigestError": "unsupported",
    "RecordingMissingError": "recording_missing",
    "CacheError": "cache",
}
