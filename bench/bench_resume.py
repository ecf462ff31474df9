"""What a resume costs as the output grows (issue #16, point 5).

    python bench/bench_resume.py [--sizes 1000 10000 100000]

A resume reads the whole JSONL output to learn which ids are done
(``JsonlStore.done_ids``). This builds outputs of realistic records (digests the
fake server's synthetic answers produce for real articles, about 7.5 kB per
line), each id distinct, and times, per size: ``done_ids()`` alone, and a whole
``summarize_paths`` resume with nothing left to do (imports excluded; it also
reads the input). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import workload, write_jsonl

from khabar.batch import summarize_paths
from khabar.batch.store import JsonlStore
from khabar.config import Settings
from khabar.testing import FakeOpenAI


def sample_records(tmp: Path, n: int = 64) -> list[dict[str, object]]:
    """``n`` real records: real articles summarized through the fake server."""
    data = write_jsonl(workload(n), tmp / "sample.jsonl")
    out = tmp / "sample-out.jsonl"
    with FakeOpenAI() as server:
        settings = Settings(
            model="fake-model", base_url=server.base_url, api_key="bench", cache=False
        )
        summarize_paths([data], output=out, settings=settings)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def build(path: Path, inputs: Path, samples: list[dict[str, object]], n: int) -> None:
    """An output of ``n`` records and the input that matches it, every id done."""
    with path.open("w", encoding="utf-8") as out, inputs.open("w", encoding="utf-8") as feed:
        for i in range(n):
            record = dict(samples[i % len(samples)])
            record["id"] = f"r{i:07d}"
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            feed.write(json.dumps({"id": record["id"], "text": f"نص {i}"}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        samples = sample_records(tmp)
        for n in args.sizes:
            path, inputs = tmp / f"out-{n}.jsonl", tmp / f"in-{n}.jsonl"
            build(path, inputs, samples, n)
            size = path.stat().st_size
            with JsonlStore(path) as store:
                started = time.perf_counter()
                done = store.done_ids()
                scan = time.perf_counter() - started
            assert len(done) == n
            settings = Settings(model="fake-model", base_url="http://127.0.0.1:9/v1", api_key="x")
            started = time.perf_counter()
            stats = summarize_paths([inputs], output=path, settings=settings)
            resume = time.perf_counter() - started
            assert stats.skipped == n and stats.succeeded == 0
            rows.append(
                f"| {n:,} | {size / 1e6:,.0f} MB | {scan:.2f} s | {scan / n * 1e6:.0f} µs "
                f"| {resume:.2f} s |"
            )
            path.unlink()
            inputs.unlink()
    print("\n| records | output size | done_ids() | per record | whole resume, nothing to do |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
