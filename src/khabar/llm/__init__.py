"""Model access: the backend protocol, the OpenAI-compatible backend, and the transports beneath it."""

from __future__ import annotations

from .backend import Answer, Backend, Limits, guess_provider, pick_mode, public_endpoint
from .factory import build_backend

__all__ = [
    "Answer",
    "Backend",
    "Limits",
    "build_backend",
    "guess_provider",
    "pick_mode",
    "public_endpoint",
]
