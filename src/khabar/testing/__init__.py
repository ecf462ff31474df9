"""Test doubles for code that calls khabar: no network, no key, the real openai + instructor stack.

from khabar.testing import FakeOpenAI, Reply, digest_dict
"""

from __future__ import annotations

from .server import (
    FakeOpenAI,
    FaultPlan,
    RecordedRequest,
    Reply,
    digest_dict,
    echo_digest_responder,
)

__all__ = [
    "FakeOpenAI",
    "FaultPlan",
    "RecordedRequest",
    "Reply",
    "digest_dict",
    "echo_digest_responder",
]
