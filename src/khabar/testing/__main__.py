"""``python -m khabar.testing``: serve the fake OpenAI-compatible endpoint (benchmarks)."""

from .server import main

main()
