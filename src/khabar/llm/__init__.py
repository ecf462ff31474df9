"""Model access: the backend protocol, the OpenAI-compatible backend, and the transports beneath it."""

from __future__ import annotations

from .backend import Backend, build_backend, pick_mode, public_endpoint

__all__ = ["Backend", "build_backend", "pick_mode", "public_endpoint"]
