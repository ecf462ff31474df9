"""1,000 articles through the batch API path, with faults, against the fake Files/Batches endpoints.

    python bench/bench_batch_api.py [--articles 1000] [--max-requests 300] [--seed 0]

What it does, in one process, with no network:

1. the online reference: every article through ``Summarizer`` over the
   in-process fake chat endpoint (``khabar.testing.MockTransport``), no faults;
2. the batch path: ``prepare_batch`` -> ``submit`` -> ``collect(wait=True)``
   over ``khabar.testing.batch_api.FakeBatchAPI``, split into files of
   ``--max-requests`` lines, with faults: 5xx and 429 lines in the error files,
   ungrounded and schema-breaking answers (re-asked in follow-up batches),
   one batch that fails validation (token limit) and one that expires half
   done; ``collect`` is killed (an exception) after ``--kill-after`` records
   and run again;
3. checks: every article has exactly one record, none is lost, none written
   twice; every record has the online record's shape; a record of an article
   that needed no re-ask equals the online one field for field (but for
   latency, the endpoint's host and the count of resends).

The answers come from the SYNTHETIC responder (it copies the article: it is not
a model), so the times measure khabar's own work, not a model's. Prints a
Markdown table and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import workload, write_jsonl

from khabar.batch import run_batch
from khabar.batch.api import BatchLimits, collect, prepare_batch, submit
from khabar.batch.inputs import iter_articles
from khabar.batch.store import JsonlStore, iter_records
from khabar.config import Settings
from khabar.pipeline import Summarizer
from khabar.testing import FaultPlan, MockTransport
from khabar.testing.batch_api import FakeBatchAPI


class Killed(Exception):
    pass


def settings_for(api: Any, cache: Path) -> Settings:
    return Settings(
        model="fake-model",
        provider="openai",
        base_url=api.base_url,
        api_key="sk-bench-not-a-key",
        cache_dir=cache,
        retry_base_wait=0.01,
        retry_max_wait=0.05,
    )


async def online(src: Path, out: Path, cache: Path) -> float:
    mock = MockTransport()
    settings = settings_for(mock, cache).model_copy(update={"concurrency": 16})
    started = time.perf_counter()
    with JsonlStore(out) as store:
        async with Summarizer(settings, transport=mock) as summarizer:

            async def process(article: Any) -> Any:
                return await summarizer.asummarize(article.text, article_id=article.id)

            await run_batch(iter_articles([src]), process, store=store, concurrency=16)
    return time.perf_counter() - started


def batch(src: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    faults = FaultPlan(
        rate_500=args.fault_rate / 2,
        rate_429=args.fault_rate / 4,
        rate_ungrounded=args.fault_rate / 4,
        rate_schema_break=args.fault_rate / 8,
        seed=args.seed,
    )
    api = FakeBatchAPI(faults=faults, max_requests=args.max_requests)
    api.fail_next(1)  # the first batch: enqueued token limit
    api.expire_next(1, answered=0.5)  # the second: the 24 h window runs out half done
    settings = settings_for(api, work / "cache-batch")
    job, out = work / "job", work / "batch.jsonl"
    t: dict[str, float] = {}
    started = time.perf_counter()
    prepared = prepare_batch(
        [src], job, settings, output=out, limits=BatchLimits(max_requests=args.max_requests)
    )
    t["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    submit(job, settings, transport=api)
    t["submit"] = time.perf_counter() - started

    real_append = JsonlStore.append
    written = 0

    def killing_append(self: JsonlStore, record: dict[str, Any]) -> None:
        nonlocal written
        if written >= args.kill_after:
            raise Killed
        real_append(self, record)
        written += 1

    started = time.perf_counter()
    JsonlStore.append = killing_append  # type: ignore[method-assign]
    try:
        collect(job, settings, wait=True, poll_interval=0, transport=api)
        killed = False
    except Killed:
        killed = True
    finally:
        JsonlStore.append = real_append  # type: ignore[method-assign]
    final = collect(job, settings, wait=True, poll_interval=0, transport=api)
    t["collect"] = time.perf_counter() - started
    return {
        "api": api,
        "prepared": prepared,
        "final": final,
        "times": t,
        "killed": killed,
        "out": out,
    }


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def normalized(record: dict[str, Any]) -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    digest = record.get("digest")
    if isinstance(digest, dict):
        for key in ("latency_s", "endpoint", "transport_retries"):
            digest["provenance"].pop(key, None)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--max-requests", type=int, default=300)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kill-after", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = write_jsonl(workload(args.articles), work / "articles.jsonl")
        ids = [a.id for a in iter_articles([src])]
        online_s = asyncio.run(online(src, work / "online.jsonl", work / "cache-online"))
        run = batch(src, work, args)
        on = {r["id"]: r for r in iter_records(work / "online.jsonl")}
        off = list(iter_records(run["out"]))
        counts = Counter(r["id"] for r in off)
        final = run["final"]
        api: FakeBatchAPI = run["api"]
        lost = [i for i in ids if i not in counts]
        twice = [i for i, n in counts.items() if n > 1]
        shapes_ok = all(
            shape(r) == shape(on[r["id"]]) for r in off if r["status"] == on[r["id"]]["status"]
        )
        plain = [
            r for r in off if r["status"] == "ok" and r["digest"]["provenance"]["attempts"] == 1
        ]
        equal = sum(normalized(r) == normalized(on[r["id"]]) for r in plain)
        resent = sum(
            1 for r in off if r["digest"] and r["digest"]["provenance"]["transport_retries"]
        )
        reasked = sum(1 for r in off if r["digest"] and r["digest"]["provenance"]["reasks"])
        reasons = Counter(r["error"]["reason"] for r in off if r["error"])
        kinds = api.calls_by_kind()
        statuses = Counter(p.status for p in final.parts)
        t = run["times"]
        n = len(ids)
        print(
            f"{n} real articles (workload.py), batch files of {args.max_requests} requests, "
            f"fault rate {args.fault_rate:g} per answered line, seed {args.seed}, 2 cores\n"
        )
        print("| measure | value |\n|---|---|")
        rows = [
            (
                "online reference (in-process fake, c=16)",
                f"{online_s:.1f} s, {n / online_s:.0f} articles/s",
            ),
            (
                "prepare (clean, prompt, request body, split)",
                f"{t['prepare']:.1f} s, {n / t['prepare']:.0f} articles/s",
            ),
            (
                "submit (upload + create)",
                f"{t['submit']:.2f} s for {len(run['prepared'].files)} files",
            ),
            (
                f"collect, killed after {args.kill_after} records, then resumed",
                f"{t['collect']:.1f} s (killed: {run['killed']})",
            ),
            (
                "rounds / batches",
                f"{final.round + 1} rounds, {len(final.parts)} batches: "
                + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
            ),
            (
                "lines answered by the fake",
                f"{sum(kinds.values())}: "
                + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
            ),
            (
                "records",
                f"{len(off)} for {n} articles: {sum(r['status'] == 'ok' for r in off)} ok, "
                + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "no errors"),
            ),
            ("lost / written twice", f"{len(lost)} / {len(twice)}"),
            ("resent after a provider fault / re-asked", f"{resent} / {reasked}"),
            ("same shape as the online record", "yes" if shapes_ok else "NO"),
            ("no re-ask: equal to the online record", f"{equal} of {len(plain)}"),
            (
                "tokens / est. cost at batch prices",
                f"{final.prompt_tokens:,} + {final.completion_tokens:,} (fake-model has no price)",
            ),
        ]
        for name, value in rows:
            print(f"| {name} | {value} |")
        ok = not lost and not twice and shapes_ok and equal == len(plain) and final.finished
        ok = ok and run["killed"] and len(off) == n
        print("\nresult:", "PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
