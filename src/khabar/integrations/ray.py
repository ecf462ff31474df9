"""Ray Data: khabar across machines, one Summarizer per actor, records in khabar's schema.

For a model you serve yourself (vLLM, llama.cpp, Ollama behind a load
balancer) and more articles than one machine's client can drive::

    import ray
    from khabar.integrations.ray import summarize_paths_ray

    ray.init()                      # or ray.init(address="auto") on a cluster
    stats = summarize_paths_ray(["articles/"], "out.jsonl",
                                {"model": "Qwen/Qwen2.5-7B-Instruct",
                                 "base_url": "http://vllm.internal:8000/v1"},
                                actors=8, concurrency=16)

or, with your own dataset (``ray.data.read_json`` on shared storage)::

    ds = ray.data.read_json("s3://bucket/articles/")          # columns: id, text (+ source, title)
    out = summarize_dataset(ds, settings, actors=8)           # columns: id, status, record
    write_records(out, "out.jsonl")                           # the JSONL `khabar report` reads

How it maps onto Ray Data: :class:`SummarizeBatch` is the callable class
given to ``Dataset.map_batches`` with an actor pool. Each actor builds one
:class:`~khabar.pipeline.Summarizer` (its own openai client, connection pool,
rate gate and event loop) and runs the rows of each batch through khabar's
own runner (:func:`khabar.batch.run_batch`: ``concurrency`` requests in
flight, duplicates within a batch asked once, every failure an error record).
Each output row carries the record exactly as ``khabar summarize`` writes it.

Fault tolerance is Ray Data's: an actor that dies (killed, out of memory, its
node lost) is restarted and the batch it held is run again, so no row is
lost and each row comes out once (the test kills an actor mid-batch).

Cache: ``cache="node"`` (default) uses ``KHABAR_CACHE_DIR`` as given on each
node, shared by that node's actors (diskcache is safe across processes on a
local disk; a digest computed twice on two nodes is only a little waste);
``"worker"``: a directory per actor under it, for a cache directory on a
network filesystem, where SQLite's locking is not to be trusted; ``"off"``.

Keys: settings travel to the actors through Ray's object store, so they may
not hold a key (or a URL with a password): each actor reads its key from its
own environment (``OPENAI_API_KEY``, ``KHABAR_API_KEY``, ``AZURE_OPENAI_API_KEY``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from khabar.errors import ConfigError, InputError

if TYPE_CHECKING:
    from khabar.batch.inputs import Article
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

__all__ = [
    "RayStats",
    "SummarizeBatch",
    "portable_settings",
    "summarize_dataset",
    "summarize_paths_ray",
    "write_records",
]

logger = logging.getLogger("khabar")

CacheMode = Literal["node", "worker", "off"]
_SECRETS = ("api_key", "azure_api_key")


def portable_settings(settings: Settings | Mapping[str, Any] | None) -> dict[str, Any]:
    """Settings as a plain dict that may travel to Ray actors: no key, no password.

    A :class:`~khabar.config.Settings` gives every field but the keys (so the
    actors run with the driver's settings); a mapping is taken as overrides.
    A key or a URL with a password is refused: Ray keeps task arguments in its
    object store and prints them in some errors.
    """
    if settings is None:
        return {}
    if isinstance(settings, Mapping):
        values = dict(settings)
    else:
        values = settings.model_dump(mode="json", exclude=set(_SECRETS))
    given = [name for name in _SECRETS if values.get(name)]
    if given:
        raise ConfigError(
            f"settings for Ray actors may not hold {given[0]}: they travel through Ray's "
            "object store",
            hint="Set OPENAI_API_KEY (or KHABAR_API_KEY) in the workers' environment instead.",
        )
    for name in _SECRETS:
        values.pop(name, None)
    for name in ("base_url", "azure_endpoint"):
        url = values.get(name)
        if isinstance(url, str) and urlsplit(url).password:
            raise ConfigError(
                f"the {name} for Ray actors holds a password: it would travel through Ray's "
                "object store",
                hint="Put the credential in the API key variable of the workers' environment.",
            )
    return values


class SummarizeBatch:
    """The callable class for ``Dataset.map_batches``: one Summarizer per actor.

    Input columns: ``id`` and ``text`` (names set by ``id_column`` /
    ``text_column``), optional ``source`` and ``title``. Output columns:
    ``id``, ``status`` (``ok`` / ``error``) and ``record``, the JSON line
    ``khabar summarize`` would write for the row. Batches may come as a dict
    of arrays or lists (``batch_format="default"`` / ``"numpy"``), a pandas
    DataFrame or a pyarrow Table.
    """

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        text_column: str = "text",
        id_column: str = "id",
        cache: CacheMode = "node",
        concurrency: int | None = None,
    ) -> None:
        from khabar.config import Settings
        from khabar.pipeline import Summarizer

        values = portable_settings(settings)
        if cache == "off":
            values["cache"] = False
        resolved = Settings(**values)
        if cache == "worker" and resolved.cache:
            resolved = resolved.model_copy(
                update={"cache_dir": resolved.resolved_cache_dir() / f"worker-{_actor_name()}"}
            )
        self.settings = resolved
        self.text_column = text_column
        self.id_column = id_column
        self.concurrency = concurrency or resolved.concurrency
        # One loop for the actor's life: the client's connections belong to it.
        self._loop = asyncio.new_event_loop()
        self._summarizer: Summarizer = Summarizer(resolved)

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        rows = _columns(batch)
        n = len(rows.get(self.id_column, rows.get(self.text_column, [])))
        articles = [self._article(rows, i) for i in range(n)]
        records = self._loop.run_until_complete(self._run(articles))
        # The runner writes in completion order; the output keeps the input's.
        by_id = {r["id"]: r for r in records}
        ordered = [by_id[a.id] for a in articles]
        return {
            "id": [r["id"] for r in ordered],
            "status": [r["status"] for r in ordered],
            "record": [_line(r) for r in ordered],
        }

    def _article(self, rows: Mapping[str, Sequence[Any]], i: int) -> Article:
        from khabar.batch.inputs import Article

        article_id = str(rows[self.id_column][i]) if self.id_column in rows else str(i)
        text = rows[self.text_column][i] if self.text_column in rows else None
        source = rows["source"][i] if "source" in rows else None
        title = rows["title"][i] if "title" in rows else None
        article = Article(id=article_id, source=str(source or article_id), text=None)
        if isinstance(title, str) and title.strip():
            article.meta["title"] = title
        if isinstance(text, str):
            article.text = text
        else:
            article.error = InputError(
                f"the row's {self.text_column!r} is {type(text).__name__}, not text",
                article_id=article_id,
            )
        return article

    async def _run(self, articles: list[Article]) -> list[dict[str, Any]]:
        from khabar.batch.runner import _prompt_title, run_batch

        sink = _Records()
        summarizer = self._summarizer

        async def process(article: Article) -> Any:
            return await summarizer.asummarize(
                article.text or "", article_id=article.id, title=_prompt_title(article)
            )

        # The runner's store is duck-typed here: it only calls done_ids() and append().
        store: Any = sink
        await run_batch(articles, process, store=store, concurrency=self.concurrency, resume=False)
        return sink.records

    def close(self) -> None:
        """Close the client and the cache (Ray ends actors without asking; this is for tests)."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._summarizer.aclose())
            self._loop.close()


class _Records:
    """A stand-in for the runner's JsonlStore that keeps the records (already JSON-checked)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def done_ids(self, *, retry_errors: bool = True) -> set[str]:
        return set()

    def append(self, record: dict[str, Any]) -> None:
        _line(record)  # raises as JsonlStore.append would (NaN, objects), so the runner reacts
        self.records.append(record)


def _line(record: Mapping[str, Any]) -> str:
    """The record as JsonlStore writes it: id first, compact, UTF-8, no NaN."""
    return json.dumps(
        {"id": record["id"], **record}, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def _columns(batch: Any) -> dict[str, list[Any]]:
    """A Ray Data batch (dict of arrays, pandas DataFrame, pyarrow Table) as lists of values."""
    if hasattr(batch, "to_pydict"):  # pyarrow.Table
        return {str(k): list(v) for k, v in batch.to_pydict().items()}
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # pandas.DataFrame
        return {str(k): list(v) for k, v in batch.to_dict("list").items()}
    if isinstance(batch, Mapping):
        return {str(k): [_plain(x) for x in v] for k, v in batch.items()}
    raise TypeError(f"a Ray Data batch, not {type(batch).__name__}")


def _plain(value: Any) -> Any:
    # numpy scalars and 0-d arrays (Ray's default batch format) as Python values.
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "ndim", 1) == 0 else value


def _actor_name() -> str:
    try:
        import ray

        actor = ray.get_runtime_context().get_actor_id()
    except Exception:  # not in Ray (a test of the contract, a local run)
        actor = None
    return str(actor or os.getpid())


# --- the driver's side ---------------------------------------------------------------------


@dataclass
class RayStats:
    """What a Ray run wrote. ``succeeded + failed + skipped == total``."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    failures_by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, record: Mapping[str, Any]) -> None:
        self.total += 1
        if record.get("status") == "ok":
            self.succeeded += 1
            prov = (record.get("digest") or {}).get("provenance") or {}
            if not prov.get("cache_hit") and not record.get("duplicate_of"):
                self.prompt_tokens += int(prov.get("prompt_tokens") or 0)
                self.completion_tokens += int(prov.get("completion_tokens") or 0)
        else:
            self.failed += 1
            reason = str((record.get("error") or {}).get("reason") or "error")
            self.failures_by_reason[reason] = self.failures_by_reason.get(reason, 0) + 1


def summarize_dataset(
    ds: Any,
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    actors: int = 2,
    batch_size: int = 16,
    concurrency: int | None = None,
    cache: CacheMode = "node",
    text_column: str = "text",
    id_column: str = "id",
    num_cpus: float = 1,
    udf: type[SummarizeBatch] | None = None,
    **map_batches_args: Any,
) -> Any:
    """``ds`` (columns ``id``, ``text``...) mapped to records by ``actors`` actors.

    ``concurrency`` is each actor's requests in flight (default
    ``KHABAR_CONCURRENCY``); the endpoint sees up to ``actors x concurrency``.
    Ray Data restarts a dead actor and runs its batch again (its defaults for
    actor pools: ``max_restarts=-1``, ``max_task_retries=-1``). ``udf``: a
    subclass of :class:`SummarizeBatch` to run instead (extra columns, logging).
    """
    import ray.data

    return ds.map_batches(
        udf or SummarizeBatch,
        fn_constructor_kwargs={
            "settings": portable_settings(settings),
            "text_column": text_column,
            "id_column": id_column,
            "cache": cache,
            "concurrency": concurrency,
        },
        compute=ray.data.ActorPoolStrategy(size=actors),
        batch_size=batch_size,
        num_cpus=num_cpus,
        **map_batches_args,
    )


def write_records(ds: Any, output: str | Path, *, stats: RayStats | None = None) -> RayStats:
    """Write the ``record`` column of ``ds`` to the JSONL ``output``, as it streams in.

    One writer, on the driver, through :class:`~khabar.batch.store.JsonlStore`
    (locked, torn-line safe, resumable): the file is exactly what
    ``khabar summarize -o`` writes, so ``khabar report`` and a rerun read it.
    """
    from khabar.batch.store import JsonlStore

    stats = stats or RayStats()
    started = time.perf_counter()
    with JsonlStore(output) as store:
        for row in ds.iter_rows():
            record = json.loads(row["record"])
            store.append(record)
            stats.count(record)
    stats.wall_s += round(time.perf_counter() - started, 3)
    return stats


def summarize_paths_ray(
    paths: Sequence[str | Path],
    output: str | Path,
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    actors: int = 2,
    batch_size: int = 16,
    concurrency: int | None = None,
    cache: CacheMode = "node",
    resume: bool = True,
    limit: int | None = None,
    text_field: str = "text",
    id_field: str = "id",
) -> RayStats:
    """``khabar summarize PATHS -o OUTPUT`` on a Ray cluster (``ray.init()`` first).

    The driver reads the inputs (files it can see), writes the records of
    unreadable ones itself, skips what ``output`` has done (``resume``), and
    sends the rest through :func:`summarize_dataset`. A rerun resumes. For
    inputs larger than the driver's memory, build the dataset with
    ``ray.data.read_json`` and use :func:`summarize_dataset` and
    :func:`write_records` directly.
    """
    import ray.data

    from khabar.batch.inputs import iter_articles
    from khabar.batch.store import JsonlStore, check_output_paths, make_record
    from khabar.config import Settings

    check_output_paths(output)
    started = time.perf_counter()
    stats = RayStats()
    max_bytes = Settings(**portable_settings(settings)).max_input_bytes
    rows: list[dict[str, Any]] = []
    with JsonlStore(output) as store:
        done = store.done_ids() if resume else set()
        for article in _take(
            iter_articles(
                paths, text_field=text_field, id_field=id_field, max_input_bytes=max_bytes
            ),
            limit,
            done,
            stats,
        ):
            if article.error is not None or article.text is None:
                record = make_record(article)
                store.append(record)
                stats.count(record)
                continue
            title = article.meta.get("title")
            rows.append(
                {
                    "id": article.id,
                    "source": article.source,
                    "text": article.text,
                    "title": title if isinstance(title, str) else "",
                }
            )
    if rows:
        # No more actors than batches: an idle actor still costs a process and a client.
        actors = max(1, min(actors, -(-len(rows) // batch_size)))
        ds = ray.data.from_items(rows, override_num_blocks=actors)
        out = summarize_dataset(
            ds, settings, actors=actors, batch_size=batch_size, concurrency=concurrency, cache=cache
        )
        write_records(out, output, stats=stats)
    stats.wall_s = round(time.perf_counter() - started, 3)
    return stats


def _take(
    articles: Iterable[Article], limit: int | None, done: set[str], stats: RayStats
) -> Iterable[Article]:
    taken = 0
    for article in articles:
        if article.id in done:
            stats.total += 1
            stats.skipped += 1
            continue
        if limit is not None and taken >= limit:
            return
        taken += 1
        yield article
