"""Soak and crash runs of `khabar summarize` against a faulty endpoint (issue: prove it holds).

    python bench/soak.py [--articles 1000] [--concurrency 32] [--fault-rate 0.2] [--kills 4]

The input is a folder: a JSONL of N real articles, and the hostile files of
issue #12 mixed in (a name that is not UTF-8, JSON nested 100,000 deep, a FIFO,
a file of zero-width characters only, a binary file, an empty file).

1. A fault-free run of the CLI over the folder (the reference).
2. The same run with ``--fault-rate`` of requests faulted: 429 with and without
   Retry-After, 500/502/503, stalls past the timeout, connections dropped
   mid-body, truncated JSON, schema-breaking answers, ungrounded evidence.
   Checks: every article ends as a digest or an error record with a reason,
   none missing, none twice; per-article retries within their bound; wall time
   within 2x the fault-free run; each hostile file has the record it must have.
3. Crash: the faulted run is killed at a random moment ``--kills`` times in a
   row, alternately by SIGKILL and by SIGTERM (which must end the run by itself,
   cleanly, within 10 s), each rerun resuming the same output; then a final
   rerun. Checks: no torn line, the final set of ids equals the clean run's, no
   id done twice, the hostile files' records again, the cache still opens.

The endpoint is khabar's local fake server (a real HTTP server on 127.0.0.1);
its synthetic responder copies evidence from each article. Exit status 1 when
a check fails. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import workload, write_jsonl

from khabar.testing import FakeOpenAI, FaultPlan

MAX_RETRIES = 4
MAX_REASKS = 1

# A real 1x1 PNG: binary, with NUL bytes in its header.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
BAD_NAME = b"\xd9\x85\xff-bad-name.txt"  # "م" and a byte that is not UTF-8, as unzip leaves it


def hostile_files(folder: Path, article: str) -> dict[str, str]:
    """Write issue #12's hostile files into ``folder``; their ids -> the outcome each must get."""
    with open(os.fsencode(folder) + b"/" + BAD_NAME, "wb") as f:
        f.write(article.encode("utf-8"))  # a good article under a bad name: a digest
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="ascii")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero-width.txt").write_text("\u200c\u200b\ufeff\u200f\u200d\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(PNG)
    (folder / "empty.txt").write_bytes(b"")
    name = folder.name
    return {
        f"{name}/م\\xff-bad-name.txt": "ok",
        f"{name}/binary.txt": "binary",
        f"{name}/deep.json": "bad_input",
        f"{name}/empty.txt": "empty",
        f"{name}/pipe.txt": "bad_input",
        f"{name}/zero-width.txt": "empty",
    }


def outcome(record: dict | None) -> str:
    if record is None:
        return "missing"
    return "ok" if record["status"] == "ok" else record["error"]["reason"]


def cli_env(server: FakeOpenAI, cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    env.update(
        KHABAR_MODEL="fake-model",
        KHABAR_BASE_URL=server.base_url,
        OPENAI_API_KEY="soak-key",
        KHABAR_TIMEOUT="2",
        KHABAR_RETRY_BASE_WAIT="0.05",
        KHABAR_RETRY_MAX_WAIT="1",
        KHABAR_MAX_TRANSPORT_RETRIES=str(MAX_RETRIES),
        KHABAR_MAX_REASKS=str(MAX_REASKS),
        KHABAR_CACHE_DIR=str(cache_dir),
    )
    return env


def command(data: Path, out: Path, concurrency: int, cache: bool) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "khabar",
        "summarize",
        str(data),
        "-o",
        str(out),
        "-c",
        str(concurrency),
        "--no-progress",
    ]
    if not cache:
        cmd.append("--no-cache")
    return cmd


def run(
    server: FakeOpenAI,
    data: Path,
    out: Path,
    concurrency: int,
    cache_dir: Path,
    cache: bool = False,
) -> float:
    started = time.perf_counter()
    subprocess.run(
        command(data, out, concurrency, cache),
        env=cli_env(server, cache_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def read_lines(path: Path) -> tuple[list[dict], int]:
    """Records, and the number of lines that are not valid JSON (torn)."""
    records, torn = [], 0
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            torn += 1
    return records, torn


def latest(records: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in records:
        out[r["id"]] = r
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failures: list[str] = []
    items = workload(args.articles)

    with (
        tempfile.TemporaryDirectory() as tmpdir,
        FakeOpenAI(latency=args.latency, seed=args.seed) as server,
    ):
        tmp = Path(tmpdir)
        data = tmp / "input"
        data.mkdir()
        write_jsonl(items, data / "articles.jsonl")
        hostile = hostile_files(data, items[0][1] + "\n\n[hostile]")
        ids = {article_id for article_id, _ in items} | set(hostile)

        # 1. fault-free reference
        clean_out = tmp / "clean.jsonl"
        clean_wall = run(server, data, clean_out, args.concurrency, tmp / "cache-clean")
        clean_records, _ = read_lines(clean_out)
        clean_ok = {r["id"] for r in clean_records if r["status"] == "ok"}

        # 2. faulted soak
        server.reset()
        server.faults = FaultPlan.uniform(args.fault_rate, seed=args.seed)
        soak_out = tmp / "soak.jsonl"
        soak_wall = run(server, data, soak_out, args.concurrency, tmp / "cache-soak")
        records, torn = read_lines(soak_out)
        by_id = collections.Counter(r["id"] for r in records)
        missing = ids - set(by_id)
        twice = [i for i, n in by_id.items() if n > 1]
        digests = [r for r in records if r["status"] == "ok"]
        errors = collections.Counter(r["error"]["reason"] for r in records if r["status"] != "ok")
        unexplained = [
            r["id"] for r in records if r["status"] != "ok" and not r["error"].get("message")
        ]
        retries = [r["digest"]["provenance"]["transport_retries"] for r in digests]
        attempts = [r["digest"]["provenance"]["attempts"] for r in digests]
        kinds = server.calls_by_kind()
        faulted = sum(v for k, v in kinds.items() if k != "ok")
        requests = len(server.requests)
        bound = args.articles * (MAX_RETRIES + 1) * (MAX_REASKS + 1)
        if missing:
            failures.append(f"{len(missing)} articles missing from the soak output")
        if twice:
            failures.append(f"{len(twice)} articles written twice")
        if torn:
            failures.append(f"{torn} torn lines")
        if unexplained:
            failures.append(f"{len(unexplained)} error records without a reason")
        if retries and max(retries) > MAX_RETRIES:
            failures.append(f"an article retried {max(retries)} times (bound {MAX_RETRIES})")
        if attempts and max(attempts) > MAX_REASKS + 1:
            failures.append(f"an article was asked {max(attempts)} times (bound {MAX_REASKS + 1})")
        if requests > bound:
            failures.append(f"{requests} requests exceed the bound {bound}")
        if soak_wall > 2 * clean_wall:
            failures.append(
                f"soak wall {soak_wall:.1f}s exceeds 2x the fault-free {clean_wall:.1f}s"
            )
        clean_by_id, soak_by_id = latest(clean_records), latest(records)
        for article_id, expected in hostile.items():
            for run_name, got in (("fault-free", clean_by_id), ("faulted", soak_by_id)):
                # A faulted endpoint may fail the one hostile file that reaches the model.
                seen = outcome(got.get(article_id))
                if seen != expected and not (expected == "ok" and run_name == "faulted"):
                    failures.append(f"{run_name} run: {article_id} is {seen}, not {expected}")

        # 3. crash: SIGKILL mid-run, several times, then finish
        server.reset()
        server.faults = FaultPlan.uniform(args.fault_rate, seed=args.seed + 1)
        crash_out = tmp / "crash.jsonl"
        crash_cache = tmp / "cache-crash"
        kills_done, lines_at_kill, kill_signals = 0, [], []
        for k in range(args.kills):
            sig = signal.SIGKILL if k % 2 == 0 else signal.SIGTERM
            proc = subprocess.Popen(
                command(data, crash_out, args.concurrency, cache=True),
                env=cli_env(server, crash_cache),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            # Kill mid-run, after some progress: at a random record count between what is
            # on disk and halfway to the end (a kill during start-up proves little).
            done = len(read_lines(crash_out)[0]) if crash_out.exists() else 0
            target = rng.randint(done + 1, max(done + 1, done + (len(ids) - done) // 2))
            while proc.poll() is None and (
                not crash_out.exists() or crash_out.read_bytes().count(b"\n") < target
            ):
                time.sleep(0.01)
            if proc.poll() is None:
                proc.send_signal(sig)
                kills_done += 1
                kill_signals.append(sig.name)
                if sig == signal.SIGTERM:
                    try:
                        _, err = proc.communicate(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        _, err = proc.communicate()
                        failures.append("SIGTERM did not stop the run within 10 s")
                    text = err.decode("utf-8", "replace")
                    if (
                        proc.returncode != 1
                        or "Traceback" in text
                        or "stopped by SIGTERM" not in text
                    ):
                        failures.append(
                            f"SIGTERM: exit {proc.returncode}, not a clean stop: {text[-500:]!r}"
                        )
            proc.communicate()
            recs, _torn = read_lines(crash_out) if crash_out.exists() else ([], 0)
            lines_at_kill.append(len(recs))
        final_wall = run(server, data, crash_out, args.concurrency, crash_cache, cache=True)
        crash_records, crash_torn = read_lines(crash_out)
        crash_latest = latest(crash_records)
        ok_lines = collections.Counter(r["id"] for r in crash_records if r["status"] == "ok")
        done_twice = [i for i, n in ok_lines.items() if n > 1]
        crash_ok = {i for i, r in crash_latest.items() if r["status"] == "ok"}
        crash_err = {i for i, r in crash_latest.items() if r["status"] != "ok"}
        if set(crash_latest) != ids:
            failures.append(f"crash run ids differ from the input: {len(ids ^ set(crash_latest))}")
        if done_twice:
            failures.append(f"{len(done_twice)} ids done twice after resume")
        if crash_torn:
            failures.append(f"{crash_torn} torn lines after the kills")
        for article_id, expected in hostile.items():
            seen = outcome(crash_latest.get(article_id))
            # The faulted endpoint may leave the good article under a bad name an error.
            if seen != expected and not (expected == "ok" and seen != "missing"):
                failures.append(f"crash run: {article_id} is {seen}, not {expected}")
            if expected != "ok" and any(
                r["id"] == article_id and r["status"] == "ok" for r in crash_records
            ):
                failures.append(f"crash run: {article_id} got a digest")
        from khabar.cache import DigestCache

        cache = DigestCache(crash_cache)
        cached = len(cache)
        cache.close()

    print(
        f"\n## Soak: {args.articles} real articles, concurrency {args.concurrency}, {args.fault_rate:.0%} of requests faulted\n"
    )
    print("| run | wall time | digests | error records | requests | faults served |")
    print("|---|---|---|---|---|---|")
    print(
        f"| fault-free | {clean_wall:.1f} s | {len(clean_ok)} | {len(clean_records) - len(clean_ok)} | - | 0 |"
    )
    print(
        f"| faulted | {soak_wall:.1f} s ({soak_wall / clean_wall:.2f}x) | {len(digests)} | {sum(errors.values())} | {requests} | {faulted} |"
    )
    print("\nFaults served: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(
        "Error records by reason: "
        + (", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none")
    )
    print(
        f"Transport retries per digest: max {max(retries, default=0)} (bound {MAX_RETRIES}), total {sum(retries)}; "
        f"attempts per digest: max {max(attempts, default=0)} (bound {MAX_REASKS + 1})"
    )
    print(f"Missing: {len(missing)}; written twice: {len(twice)}; torn lines: {torn}")
    print("\n## Hostile files (issue #12), mixed into the input folder\n")
    print("| id | must be | fault-free | faulted | crash run (final) | records in crash output |")
    print("|---|---|---|---|---|---|")
    for article_id, expected in hostile.items():
        lines_for_id = sum(r["id"] == article_id for r in crash_records)
        print(
            f"| `{article_id}` | {expected} | {outcome(clean_by_id.get(article_id))} "
            f"| {outcome(soak_by_id.get(article_id))} | {outcome(crash_latest.get(article_id))} "
            f"| {lines_for_id} |"
        )
    print(
        f"\n## Crash: {kills_done} kills ({', '.join(kill_signals) or 'none'}) at random moments, "
        "then a final resume\n"
    )
    print(
        "| records on disk after each kill | final run | final ids | ok | error | ok twice | torn lines | cache entries |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {', '.join(map(str, lines_at_kill))} | {final_wall:.1f} s | {len(crash_latest)} / {len(ids)} | {len(crash_ok)} | {len(crash_err)} | {len(done_twice)} | {crash_torn} | {cached} |"
    )
    print(
        f"\nfault-free ids equal the final crash-run ids: {set(crash_latest) == {r['id'] for r in clean_records}}"
    )
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
