"""``khabar demo``: the whole pipeline on the bundled samples in seconds, with no model at all.

The five seed articles (package data, ``khabar/samples``) go through the real
pipeline (cleaning, language detection, the prompt, the openai + instructor
stack, verification of every excerpt, the JSONL store) against the in-process
:class:`~khabar.testing.MockTransport`, whose default responder is SYNTHETIC:
it is not a model, it copies the longest lines of each article into an answer
of the digest's shape. Nothing is downloaded or compiled, nothing is cached,
and every record says, in ``provenance.model`` and ``provenance.warnings``,
that no model wrote it. Where the HTML view exists (``khabar.batch.html``), the
records are rendered there too.

Example::

    >>> result = run_demo(Path("demo-out"))         # doctest: +SKIP
    >>> result.jsonl, result.stats.succeeded
    (PosixPath('demo-out/demo.jsonl'), 5)
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from khabar.batch.inputs import Article, iter_articles
from khabar.batch.runner import BatchStats, run_batch
from khabar.batch.store import JsonlStore, check_output_paths, iter_records
from khabar.core.digest import Digest
from khabar.errors import ConfigError

__all__ = ["SYNTHETIC_MODEL", "SYNTHETIC_NOTE", "DemoResult", "gold_dir", "run_demo", "samples_dir"]

# The model name every demo record carries: what wrote it, in the field people look at.
SYNTHETIC_MODEL = "SYNTHETIC-echo (not a model: khabar.testing copies excerpts)"
SYNTHETIC_NOTE = (
    "SYNTHETIC digest: no model wrote it. khabar demo answers with khabar.testing's echo "
    "responder, which copies excerpts of the article; khabar checked them like any answer. "
    "For real digests, point khabar at a model (see `khabar info`)."
)


@dataclass
class DemoResult:
    """What the demo wrote: ``jsonl`` always, ``html`` when the HTML view is installed."""

    jsonl: Path
    html: Path | None
    stats: BatchStats
    samples: Path


def samples_dir() -> Path:
    """The five bundled seed articles (``evals/articles`` in a checkout)."""
    return Path(str(resources.files("khabar").joinpath("samples")))


def gold_dir() -> Path | None:
    """The hand-written gold annotations of the samples, when this install has them.

    In a source checkout ``khabar/samples`` is a link to ``evals/articles``, and the
    gold sits beside it in ``evals/gold``; an installed wheel carries no gold.
    """
    candidate = samples_dir().resolve().parent / "gold"
    return candidate if candidate.is_dir() and any(candidate.glob("*.yaml")) else None


def run_demo(out_dir: Path, *, on_event: Any = None) -> DemoResult:
    """Summarize the samples with the synthetic responder into ``out_dir/demo.jsonl`` (and .html)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl, html = out_dir / "demo.jsonl", out_dir / "demo.html"
    check_output_paths(jsonl, [html])
    _replace_own(jsonl)
    samples = samples_dir()
    stats = asyncio.run(_run(samples, jsonl, on_event))
    writer = _html_writer()
    if writer is None:
        return DemoResult(jsonl, None, stats, samples)
    records = list(iter_records(jsonl, latest_only=True))
    options = {"title": "khabar demo: SYNTHETIC digests (no model)", "note": SYNTHETIC_NOTE}
    accepted = inspect.signature(writer).parameters
    writer(records, html, **{k: v for k, v in options.items() if k in accepted})
    return DemoResult(jsonl, html, stats, samples)


async def _run(samples: Path, jsonl: Path, on_event: Any) -> BatchStats:
    # Imported here: the pipeline and the openai stack load only when the demo runs.
    from pydantic import SecretStr

    from khabar.config import Settings
    from khabar.pipeline import Summarizer
    from khabar.testing import MockTransport, echo_digest_responder

    mock = MockTransport(echo_digest_responder)
    # Explicit, so that no KHABAR_* variable or .env changes what the demo shows; nothing
    # synthetic goes into the cache. The provider only picks the request shape (named tools).
    settings = Settings(
        model=SYNTHETIC_MODEL,
        base_url=mock.base_url,
        api_key=SecretStr("unused"),
        provider="vllm",
        mode="tools",
        cache=False,
        concurrency=5,
        min_support=0.0,
    )

    async with Summarizer(settings, transport=mock) as summarizer:

        async def process(article: Article) -> Digest:
            digest = await summarizer.asummarize(article.text or "", article_id=article.id)
            prov = digest.provenance
            prov.provider, prov.endpoint = "synthetic", "in-process khabar.testing.MockTransport"
            # Not meaningful, like a plumbing model's: every view that flags those flags these.
            prov.plumbing = True
            prov.warnings.append(SYNTHETIC_NOTE)
            return digest

        with JsonlStore(jsonl) as store:
            return await run_batch(
                iter_articles([samples]), process, store=store, resume=False, on_event=on_event
            )


def _replace_own(jsonl: Path) -> None:
    """Remove an earlier demo's output; refuse to touch a file the demo did not write."""
    if not jsonl.exists():
        return
    try:
        first = json.loads(jsonl.read_text(encoding="utf-8").splitlines()[0])
        ours = SYNTHETIC_NOTE in json.dumps(first, ensure_ascii=False)
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        ours = False
    if not ours:
        raise ConfigError(
            f"{jsonl} exists and is not the output of an earlier khabar demo, so the demo "
            "leaves it alone",
            hint="Pass -o with another directory, or move the file away.",
        )
    jsonl.unlink()


def _html_writer() -> Any:
    """``khabar.batch.html.write_html`` when this install has the HTML view, else None."""
    if importlib.util.find_spec("khabar.batch.html") is None:
        return None
    module = importlib.import_module("khabar.batch.html")
    writer = getattr(module, "write_html", None)
    return writer if callable(writer) else None
