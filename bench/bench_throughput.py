"""Throughput against an endpoint with latency: khabar beside three peers, in one run (issue #16).

    python bench/bench_throughput.py [--quick] [--articles N] [--latency S]
                                     [--concurrency 1 8 32 128] [--reask-rate R]

The endpoint is khabar's fake OpenAI-compatible server (``python -m
khabar.testing``) in its own process, as a remote endpoint would be, listening
with a backlog of 1024. Its synthetic responder copies evidence from each
article (it is not a model); with ``--reask-rate R`` its first answer to a
share R of the articles needs a re-ask (an invented person, a citation not in
the article, the number left out), and the follow-up is clean.

Every row runs in a fresh process, imports done before the clock starts:

* khabar ``summarize_paths`` at each concurrency, re-asks off
  (``max_reasks=0``) and on (the default, 1), in 1 and 2 worker processes
  (the worker processes import openai inside the timed run: that is their cost);
* AsyncOpenAI + instructor + a semaphore of the same size (instructor parses,
  nothing is verified or re-asked, no output is written);
* raw AsyncOpenAI + ``json.loads`` of the tool call, same semaphore;
* at concurrency 1, a naive sequential loop of instructor calls.

Columns: "calls" and "max in flight" as the server counted them; "ideal" is
calls × latency / concurrency, the time if the client cost nothing; "span" is
the server's first arrival to its last answer (start-up excluded); "CPU/article"
is the client's CPU (every process of the run) per article. Then start-up rows
(cold first request, resume with nothing to do, warm rerun, ``--help``).

The library measured is whatever ``khabar`` imports: ``PYTHONPATH=/tmp/base/src
python bench/bench_throughput.py ...`` measures an older checkout with this
same script (rows it cannot run, such as workers on a version without them,
say so); the server comes from that checkout too, its backlog raised the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import workload, write_jsonl

# The server, started from whichever khabar is on the path. Older versions listen with
# the standard library's backlog of 5, which drops bursts of new connections (the
# kernel retries a SYN after 1 s): raised for every version alike. Older versions
# have neither --reask-rate nor the /_fake/stats counters: the counters are added
# around their handler here, the same way the current server keeps them.
SERVER = """
import json, socketserver, sys, threading, time
socketserver.TCPServer.request_queue_size = 1024
port, latency, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
try:
    from khabar.testing.server import flawed_first_answers, main
except ImportError:
    import khabar.testing as old
    from khabar.testing import main
    rate = 0.0
    lock, seen = threading.Lock(), {"n": 0, "now": 0, "max": 0, "first": None, "last": None}
    post, get = old._Handler.do_POST, old._Handler.do_GET
    def do_POST(self):
        with lock:
            seen["n"] += 1; seen["now"] += 1; seen["max"] = max(seen["max"], seen["now"])
            seen["first"] = seen["first"] or time.monotonic()
        try:
            post(self)
        finally:
            with lock:
                seen["now"] -= 1; seen["last"] = time.monotonic()
    def do_GET(self):
        if not self.path.startswith("/_fake/stats"):
            return get(self)
        with lock:
            first, last = seen["first"], seen["last"]
            out = {"requests": seen["n"], "max_in_flight": seen["max"], "first_s": first,
                   "span_s": None if first is None or last is None else last - first,
                   "cpu_s": time.process_time()}
            if "reset=1" in self.path:
                seen.update(n=0, max=seen["now"], first=None, last=None)
        self._send(200, json.dumps(out).encode())
    old._Handler.do_POST, old._Handler.do_GET = do_POST, do_GET
sys.argv = ["khabar.testing", "--port", port, "--latency", latency]
if rate:
    sys.argv += ["--reask-rate", str(rate)]
print(f"reask-rate {rate}", flush=True)
main()
"""


class Endpoint:
    """The fake server in its own process."""

    def __init__(self, latency: float, reask_rate: float) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port), str(latency), str(reask_rate)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.reask_rate = float(self.proc.stdout.readline().split()[1])
        self.proc.stdout.readline()  # "serving ..." once it listens
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def stats(self, reset: bool = False) -> dict[str, Any] | None:
        """The server's counters (None for a version without them)."""
        url = f"http://127.0.0.1:{self.port}/_fake/stats" + ("?reset=1" if reset else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError:
            return None

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


# --- one row, in its own process ------------------------------------------------------------


def _items(path: str) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return [(r["id"], r["text"]) for r in rows]


def _draft_class() -> Any:
    try:
        from khabar.core.digest import DigestDraft
    except ImportError:  # versions before the core/ package
        from khabar.models import DigestDraft  # type: ignore[import-not-found,no-redef]
    return DigestDraft


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one row; returns what it measured (printed as JSON by ``--run-one``)."""
    import instructor  # noqa: F401  (imported before the clock, for every row alike)
    import openai
    import openai.resources  # noqa: F401  (what `client.chat` imports: 0.65 s)

    import khabar.pipeline  # noqa: F401
    from khabar.prompts import load_prompts

    kind, c = spec["kind"], spec["concurrency"]
    prompts = load_prompts()
    draft = _draft_class()
    result: dict[str, Any] = {}
    descendants = _DescendantCPU()
    cpu = _own_cpu()
    started = time.perf_counter()
    if kind == "khabar":
        result = _khabar(spec)
    elif kind == "naive":
        result = _naive(spec, prompts, draft)
    else:
        result = asyncio.run(_peer(spec, prompts, draft, c))
    result["wall_s"] = time.perf_counter() - started
    own = _own_cpu() - cpu
    result["cpu_s"] = own - descendants.stop() + descendants.total()
    return result


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class _DescendantCPU(threading.Thread):
    """CPU seconds of every process below this one (worker processes, the fork server).

    Workers forked by multiprocessing's fork server are its children, not ours,
    and end before the run does: /proc is read every 0.2 s and each process's
    last reading kept (what a worker spends in its last 0.2 s is missed). The
    thread's own CPU is reported so that it can be taken off this process's.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._own = 0.0
        self._tick = os.sysconf("SC_CLK_TCK")
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self._sample()
        self._sample()
        self._own = time.thread_time()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick
        me = os.getpid()
        for pid in cpu:
            ancestor = parents.get(pid)
            while ancestor not in (None, 0, 1, me):
                ancestor = parents.get(ancestor)
            if ancestor == me:
                self._last[pid] = cpu[pid]

    def stop(self) -> float:
        """Stop sampling; the sampler's own CPU seconds."""
        self._done.set()
        self.join()
        return self._own

    def total(self) -> float:
        return sum(self._last.values())


def _khabar(spec: dict[str, Any]) -> dict[str, Any]:
    import inspect

    from khabar.batch import summarize_paths
    from khabar.config import Settings

    values: dict[str, Any] = dict(
        model="fake-model",
        base_url=spec["base_url"],
        api_key="bench",
        concurrency=spec["concurrency"],
        cache=spec.get("cache", False),
        cache_dir=spec["cache_dir"],
        max_reasks=1 if spec["reasks"] else 0,
        timeout=60,
    )
    settings = Settings(**values)
    extra: dict[str, Any] = {}
    if spec["workers"] > 1:
        if "workers" not in inspect.signature(summarize_paths).parameters:
            return {"skipped": "this version has no workers"}
        extra["workers"] = spec["workers"]
    stats = summarize_paths([spec["data"]], output=spec["output"], settings=settings, **extra)
    return {
        "ok": stats.succeeded,
        "failed": stats.failed,
        "from_cache": stats.from_cache,
        "skipped_done": stats.skipped,
        "reasked": getattr(stats, "reasked", None),
        "called": getattr(stats, "called", None),
        "gain_facts": getattr(stats, "reask_gain_facts", None),
        "gain_sentences": getattr(stats, "reask_gain_sentences", None),
        "reask_tokens": (getattr(stats, "reask_prompt_tokens", 0) or 0)
        + (getattr(stats, "reask_completion_tokens", 0) or 0),
        "tokens": stats.prompt_tokens + stats.completion_tokens,
    }


def _naive(spec: dict[str, Any], prompts: Any, draft: Any) -> dict[str, Any]:
    """What most scripts do: one instructor call after the other."""
    import instructor
    import openai

    client = instructor.from_openai(
        openai.OpenAI(base_url=spec["base_url"], api_key="bench"), mode=instructor.Mode.TOOLS
    )
    ok = failed = 0
    for _, text in _items(spec["data"]):
        try:
            client.chat.completions.create(
                model="fake-model",
                response_model=draft,
                messages=prompts.render(article=text, language="ar"),
                max_retries=0,
            )
            ok += 1
        except Exception:
            failed += 1
    return {"ok": ok, "failed": failed}


async def _peer(spec: dict[str, Any], prompts: Any, draft: Any, c: int) -> dict[str, Any]:
    """AsyncOpenAI (the SDK's own pool: 1,000 connections) and a semaphore of ``c``."""
    import instructor
    import openai

    client: Any = openai.AsyncOpenAI(base_url=spec["base_url"], api_key="bench", timeout=60)
    structured = instructor.from_openai(client, mode=instructor.Mode.TOOLS)
    schema = draft.model_json_schema()
    name = draft.__name__
    tools = [{"type": "function", "function": {"name": name, "parameters": schema}}]
    choice = {"type": "function", "function": {"name": name}}
    semaphore = asyncio.Semaphore(c)

    async def one(text: str) -> None:
        messages = prompts.render(article=text, language="ar")
        async with semaphore:
            if spec["kind"] == "instructor":
                await structured.chat.completions.create(
                    model="fake-model", response_model=draft, messages=messages, max_retries=0
                )
            else:
                response = await client.chat.completions.create(
                    model="fake-model", messages=messages, tools=tools, tool_choice=choice
                )
                json.loads(response.choices[0].message.tool_calls[0].function.arguments)

    outcomes = await asyncio.gather(
        *(one(text) for _, text in _items(spec["data"])), return_exceptions=True
    )
    failed = sum(1 for o in outcomes if isinstance(o, BaseException))
    return {"ok": len(outcomes) - failed, "failed": failed}


# --- the driver --------------------------------------------------------------------------------


def measure(server: Endpoint, spec: dict[str, Any]) -> dict[str, Any]:
    before = server.stats(reset=True) or {}
    done = subprocess.run(
        [sys.executable, __file__, "--run-one", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"row {spec} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server"] = server.stats()
    if result["server"] is not None and before.get("cpu_s") is not None:
        result["server"]["cpu_run_s"] = result["server"]["cpu_s"] - before["cpu_s"]
    return result


def row_cells(
    label: str, spec: dict[str, Any], r: dict[str, Any], n: int, latency: float
) -> list[str]:
    c = spec["concurrency"]
    if "skipped" in r:
        return [label, str(c), str(n), *["-"] * (len(HEADER) - 4), r["skipped"]]
    server = r.get("server") or {}
    calls = server.get("requests")
    ideal = (calls if calls is not None else n) * latency / c
    span = server.get("span_s")
    notes = [f"{r['ok'] / r['wall_s']:.1f} articles/s"]
    if r.get("failed"):
        notes.append(f"{r['failed']} failed")
    if r.get("reasked") is not None and spec.get("reasks"):
        notes.append(
            f"re-asked {r['reasked']}/{r['called']}, net {r['gain_facts']:+d} facts "
            f"{r['gain_sentences']:+d} sentences for "
            f"{r['reask_tokens'] / max(r['tokens'], 1):.0%} of tokens"
        )
    server_cpu = server.get("cpu_run_s")
    return [
        label,
        str(c),
        str(n),
        "-" if calls is None else str(calls),
        "-" if server.get("max_in_flight") is None else str(server["max_in_flight"]),
        f"{r['wall_s']:.2f} s",
        f"{ideal:.2f} s",
        f"{r['wall_s'] / ideal:.2f}×",
        "-" if span is None else f"{span:.2f} s ({span / ideal:.2f}×)",
        f"{r['cpu_s'] / n * 1000:.1f} ms",
        "-" if server_cpu is None else f"{server_cpu / max(calls or 1, 1) * 1000:.1f} ms",
        "; ".join(notes),
    ]


HEADER = [
    "run",
    "c",
    "articles",
    "calls",
    "max in flight",
    "wall",
    "ideal",
    "wall / ideal",
    "span at server",
    "client CPU/article",
    "server CPU/call",
    "notes",
]


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plan(levels: list[int], quick: bool) -> list[tuple[str, dict[str, Any]]]:
    """The rows: per concurrency, khabar in 1 and 2 processes with re-asks off and on, the peers.

    At c=1 a second process has nothing to do. A quick run keeps, per level above
    1, khabar in 1 process with re-asks off and on, in 2 processes with re-asks
    on, and the two async peers; at c=1, khabar and the naive loop.
    """
    rows: list[tuple[str, dict[str, Any]]] = []
    for c in levels:
        for workers in [1] if c == 1 else [1, 2]:
            for reasks in (False, True):
                if quick and (reasks if c == 1 else workers > 1 and not reasks):
                    continue
                label = f"khabar, {workers} process{'es' * (workers > 1)}, re-asks "
                label += "on" if reasks else "off"
                spec = {"kind": "khabar", "workers": workers, "reasks": reasks}
                rows.append((label, {**spec, "concurrency": c}))
        if not (quick and c == 1):
            rows.append(("AsyncOpenAI + instructor + semaphore", {"kind": "instructor"}))
            rows.append(("raw AsyncOpenAI + json.loads + semaphore", {"kind": "raw"}))
        if c == 1:
            rows.append(("naive sequential instructor loop", {"kind": "naive"}))
        for _, spec in rows:
            spec.setdefault("concurrency", c)
    return rows


def articles_for(c: int, args: argparse.Namespace, latency: float) -> int:
    """Enough articles for ``args.seconds`` of ideal time at concurrency ``c``, within bounds."""
    if args.articles:
        return int(args.articles)
    seconds: float = args.seconds
    return max(8, min(int(args.max_articles), round(seconds * c / latency)))


def startup_rows(server: Endpoint, tmp: Path, data: Path, n: int) -> list[list[str]]:
    """Cold first request, resume with nothing to do, warm rerun, --help: the CLI as a user runs it."""
    env = {**os.environ, "KHABAR_MODEL": "fake-model", "KHABAR_BASE_URL": server.base_url}
    env.update(OPENAI_API_KEY="bench", KHABAR_CACHE_DIR=str(tmp / "startup-cache"))
    cli = [sys.executable, "-m", "khabar", "summarize", str(data), "--no-progress", "-c", "32"]
    out: list[list[str]] = []

    def timed(args: list[str]) -> tuple[float, dict[str, Any] | None, float]:
        server.stats(reset=True)
        t0 = time.monotonic()
        subprocess.run(args, env=env, capture_output=True, check=True)
        wall = time.monotonic() - t0
        stats = server.stats()
        return wall, stats, t0

    wall, stats, t0 = timed([*cli, "-o", str(tmp / "s1.jsonl")])
    first = (stats or {}).get("first_s")
    out.append(
        [
            f"cold run of {n} articles (CLI, 1 process): first request after",
            "-" if first is None else f"{first - t0:.2f} s",
            f"whole run {wall:.2f} s",
        ]
    )
    wall, stats, _ = timed([*cli, "-o", str(tmp / "s1.jsonl")])
    calls = (stats or {}).get("requests")
    out.append(["resume with nothing to do (CLI)", f"{wall:.2f} s", f"model calls: {calls}"])
    wall, stats, _ = timed([*cli, "-o", str(tmp / "s2.jsonl")])
    calls = (stats or {}).get("requests")
    out.append(
        [f"warm rerun, {n} articles from the cache (CLI)", f"{wall:.2f} s", f"model calls: {calls}"]
    )
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "khabar", "--help"], capture_output=True, check=True)
        times.append(time.monotonic() - t0)
    out.append(["`khabar --help` (median of 5)", f"{statistics.median(times):.2f} s", ""])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, help="ideal seconds per row, which sizes it (4; quick 2)"
    )
    parser.add_argument("--max-articles", type=int, help="at most this many (1024; quick 384)")
    parser.add_argument("--articles", type=int, help="the same number of articles in every row")
    parser.add_argument("--latency", type=float, help="seconds per answer (0.5; quick 0.25)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--reask-rate", type=float, default=0.2)
    parser.add_argument(
        "--quick", action="store_true", help="smaller rows, fewer of them (< 2 min)"
    )
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up rows")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one))))
        return
    args.seconds = args.seconds or (2.0 if args.quick else 4.0)
    args.max_articles = args.max_articles or (384 if args.quick else 1024)
    latency = args.latency or (0.25 if args.quick else 0.5)
    import khabar

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmpdir, Endpoint(latency, args.reask_rate) as server:
        tmp = Path(tmpdir)
        for label, spec in plan(args.concurrency, args.quick):
            count = articles_for(spec["concurrency"], args, latency)
            data = tmp / f"articles-{count}.jsonl"
            if not data.exists():
                write_jsonl(workload(count), data)
            output = tmp / f"out-{len(rows)}.jsonl"
            spec.update(
                base_url=server.base_url,
                data=str(data),
                output=str(output),
                cache_dir=str(tmp / "cache"),
            )
            result = measure(server, spec)
            rows.append(row_cells(label, spec, result, count, latency))
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
        n = 128
        data = tmp / "startup.jsonl"
        write_jsonl(workload(n), data)
        start = [] if args.no_startup else startup_rows(server, tmp, data, n)
        reask_rate = server.reask_rate
    where = Path(khabar.__file__).resolve().parent.parent
    print(
        f"\nkhabar from {where}; {os.cpu_count()} cores (shared), {sys.platform}, Python "
        f"{sys.version.split()[0]}; fake server in its own process, latency {latency} s, "
        f"re-ask rate {reask_rate:g}; run took {time.monotonic() - started:.0f} s; "
        f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        "(other work on the machine counts)\n"
    )
    print(table(rows))
    if start:
        print("\n| start-up | time | |\n|---|---|---|")
        print("\n".join("| " + " | ".join(r) + " |" for r in start))


if __name__ == "__main__":
    main()
