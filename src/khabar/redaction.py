"""Secrets never reach logs, caches, recordings, reports or error messages.

:func:`register_secret` remembers a key (or a URL's password) the moment
settings are made; :func:`redact` removes every registered secret, and anything shaped
like a key, a bearer token or a password in a URL, from a text.

Log records are redacted when they are created, by a log-record factory
installed the first time a secret is registered. It is process-wide on
purpose: a filter on the ``khabar`` logger would not see the records of
``openai._base_client`` or ``instructor`` (a filter applies to records logged
on its own logger only), and the handlers belong to the application, not to
khabar. The factory wraps whatever factory was installed before it.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

__all__ = ["redact", "register_secret"]

# Anything shaped like an API key or a bearer token. Over-redacting an error
# message costs nothing; leaking a key costs a user their account.
_SECRET_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(?i)(api[_-]?key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]{6,}"),
    # The password of a URL (``http://user:PASSWORD@host``): the user name stays, so a
    # reader can still tell which account was used.
    re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@]*:)[^\s/@]+(?=@)"),
]
_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it verbatim, whatever its shape.

    From the first secret on, every log record of the process (khabar's, and
    openai's, instructor's and httpx2's, which may quote a server's error body)
    is redacted when it is created, whatever handler or level is configured.
    """
    if value and len(value) >= 4:
        _extra_secrets.add(value)
        _redact_log_records()


_redacting = False


def _redact_log_records() -> None:
    global _redacting
    if _redacting:
        return
    _redacting = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not a leak
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print exc_text when set: a traceback quotes exception messages.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return record

    logging.setLogRecordFactory(factory)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and key-shaped token replaced by ``***``."""
    for secret in _extra_secrets:
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text
