"""Model access: the backend protocol, the OpenAI-compatible backend, and the transports beneath it."""

from __future__ import annotations

from .backend import Answer, Backend, Limits, guess_provider, pick_mode, public_endpoint
from .factory import BackendPlan, build_backend, plan_backend

__all__ = [
    "Answer",
    "Backend",
    "BackendPlan",
    "Limits",
    "build_backend",
    "guess_provider",
    "pick_mode",
    "plan_backend",
    "public_endpoint",
]
