"""The embedded local model on this machine: seconds per article and tokens per second.

    python bench/bench_local.py [--articles 3] [--model PATH.gguf]

Runs the full pipeline (prompt, llama.cpp in-process with grammar-constrained
tool output, grounding) over seed articles with the cache off, so every
article costs a real generation. The first article includes loading the
model. With the bundled SmolLM2-135M plumbing model these numbers measure
plumbing speed only; its digests of Arabic/Persian are not meaningful.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from khabar import KhabarError, Summarizer
from khabar.config import Settings

REPO = Path(__file__).resolve().parent.parent


async def run(paths: list[Path], settings: Settings) -> list[tuple[str, float, int, int, str]]:
    rows = []
    async with Summarizer(settings) as s:
        started = time.perf_counter()
        backend = s.backend
        print(f"model: {backend.describe()}")
        for path in paths:
            t0 = time.perf_counter()
            try:
                digest = await s.asummarize(path.read_text(encoding="utf-8"), article_id=path.stem)
            except KhabarError as exc:
                # The plumbing model often runs out of tokens mid-answer: a row, not a crash.
                wall = time.perf_counter() - t0
                rows.append((path.stem, wall, 0, 0, f"no digest ({exc.reason})"))
                continue
            wall = time.perf_counter() - t0
            p = digest.provenance
            rows.append(
                (path.stem, wall, p.prompt_tokens or 0, p.completion_tokens or 0, str(p.attempts))
            )
        print(f"total {time.perf_counter() - started:.1f} s")
    return rows


def main() -> None:
    import asyncio
    import os

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=3)
    parser.add_argument("--model", type=Path, help="a .gguf (default: khabar's resolution order)")
    parser.add_argument("--max-reasks", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings(
        cache=False, local_model=args.model, max_reasks=args.max_reasks, max_tokens=1024
    )
    paths = sorted((REPO / "evals" / "articles").glob("*.txt"))[: args.articles]
    rows = asyncio.run(run(paths, settings))
    print(
        f"\n{os.cpu_count()} cores, max_reasks={args.max_reasks}, max_tokens=1024 "
        "(the bundled plumbing model is capped at 768); wall time includes prompt evaluation\n"
    )
    print(
        "| article | order | wall (s) | prompt tokens | completion tokens | completion tokens/s | calls |"
    )
    print("|---|---|---|---|---|---|---|")
    for i, (stem, wall, pt, ct, attempts) in enumerate(rows):
        order = "first (includes model load)" if i == 0 else "later"
        rate = f"{ct / wall:.1f}" if ct else "-"
        tokens = (str(pt), str(ct)) if ct else ("-", "-")
        print(
            f"| {stem} | {order} | {wall:.1f} | {tokens[0]} | {tokens[1]} | {rate} | {attempts} |"
        )


if __name__ == "__main__":
    main()
