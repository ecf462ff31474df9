"""Test doubles for code that calls khabar: no network, no key, the real openai + instructor stack.

* :class:`MockTransport` — in-process, for scripted answers and HTTP errors;
* :class:`FakeOpenAI` — a real socket server on 127.0.0.1, for dropped
  connections, stalls and benchmarks.

    from khabar.testing import MockTransport, Reply, digest_dict
"""

from __future__ import annotations

from .mock import MockTransport
from .replies import (
    FaultPlan,
    RecordedRequest,
    Reply,
    ReplySource,
    digest_dict,
    echo_digest_responder,
    invented_digest_responder,
)
from .server import FakeOpenAI

__all__ = [
    "FakeOpenAI",
    "FaultPlan",
    "MockTransport",
    "RecordedRequest",
    "Reply",
    "ReplySource",
    "digest_dict",
    "echo_digest_responder",
    "invented_digest_responder",
]
