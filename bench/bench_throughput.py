"""Throughput, warm cache and start-up benchmarks (issue: bulk CLI).

    python bench/bench_throughput.py [--articles 200] [--latency 0.5] [--quick]

Runs the real pipeline (openai + instructor + httpx2 + grounding + JSONL
store) against khabar's local OpenAI-compatible fake server with injected
latency, started in its own process the way a remote endpoint would be (its
CPU is not the client's); the server's synthetic responder copies evidence
from each article (it is not a model). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import workload, write_jsonl

from khabar.batch import summarize_paths
from khabar.config import Settings


class Endpoint:
    """``python -m khabar.testing`` in a subprocess: the fake server, out of our process."""

    def __init__(self, latency: float) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "khabar.testing",
                "--port",
                str(self.port),
                "--latency",
                str(latency),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "serving ..." once it listens
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def settings(server: Endpoint, tmp: Path, concurrency: int, cache: bool) -> Settings:
    return Settings(
        model="fake-model",
        base_url=server.base_url,
        api_key="bench",
        concurrency=concurrency,
        cache=cache,
        cache_dir=tmp / "cache",
        timeout=30,
    )


def run_batch(
    server: Endpoint, tmp: Path, data: Path, concurrency: int, cache: bool, name: str
) -> tuple[float, int, int]:
    out = tmp / f"{name}.jsonl"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    stats = summarize_paths(
        [str(data)], output=str(out), settings=settings(server, tmp, concurrency, cache)
    )
    wall = time.perf_counter() - started
    assert stats.failed == 0, stats.failures_by_reason
    return wall, stats.succeeded, stats.from_cache


def naive_sequential(server: Endpoint, items: list[tuple[str, str]]) -> float:
    """The peer: a plain loop of instructor calls, one article after another."""
    import instructor
    import openai

    from khabar.core.digest import DigestDraft
    from khabar.prompts import load_prompts

    prompts = load_prompts()
    client = instructor.from_openai(
        openai.OpenAI(base_url=server.base_url, api_key="bench"), mode=instructor.Mode.TOOLS
    )
    started = time.perf_counter()
    for _, text in items:
        client.chat.completions.create(
            model="fake-model",
            response_model=DigestDraft,
            messages=prompts.render(article=text, language="ar"),  # type: ignore[arg-type]
        )
    return time.perf_counter() - started


def help_startup(repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "khabar", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--quick", action="store_true", help="skip concurrency 1 and the sequential peer"
    )
    args = parser.parse_args()
    n, latency = args.articles, args.latency
    items = workload(n)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmpdir, Endpoint(latency) as server:
        tmp = Path(tmpdir)
        data = write_jsonl(items, tmp / "articles.jsonl")
        levels = [c for c in args.concurrency if not (args.quick and c == 1)]
        for c in levels:
            wall, ok, _ = run_batch(server, tmp, data, c, cache=False, name=f"c{c}")
            ideal = n * latency / c
            rows.append(
                (
                    f"khabar summarize, concurrency {c}",
                    f"{wall:.1f} s",
                    f"{ideal:.1f} s",
                    f"{wall / ideal:.2f}× ideal, {ok / wall:.1f} articles/s",
                )
            )
        if not args.quick:
            wall = naive_sequential(server, items)
            ideal = n * latency / max(levels)
            rows.append(
                (
                    "naive sequential instructor loop (peer)",
                    f"{wall:.1f} s",
                    f"{ideal:.1f} s",
                    f"{wall / ideal:.1f}× the c={max(levels)} ideal",
                )
            )
        # Warm cache: fill it, then rerun into a fresh output so nothing is skipped by resume.
        run_batch(server, tmp, data, 32, cache=True, name="cold")
        wall, ok, hits = run_batch(server, tmp, data, 32, cache=True, name="warm")
        assert hits == ok == n, "a warm rerun must not call the model"
        rows.append(
            (
                "warm-cache rerun (no model calls)",
                f"{wall:.2f} s",
                "-",
                f"{ok / wall:.0f} articles/s",
            )
        )
    rows.append(
        ("`khabar --help` start-up (median of 7)", f"{help_startup():.3f} s", "< 0.5 s", "")
    )

    print(
        f"\n{n} real articles, fake server latency {latency} s per response, {sys.platform}, 2 cores\n"
    )
    print("| run | wall time | target / ideal | result |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
