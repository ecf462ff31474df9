"""``khabar demo``: what khabar makes, in seconds, with no model and without pretending to have one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .options import handle_errors, setup_logging

__all__ = ["demo"]

_REAL_DIGESTS = """\
For real digests, point khabar at a model:
  an endpoint   KHABAR_MODEL=gpt-4o-mini OPENAI_API_KEY=... khabar summarize DIR -o out.jsonl
                (Ollama: OPENAI_BASE_URL=http://localhost:11434/v1 KHABAR_MODEL=qwen2.5:7b)
  no endpoint   pip install 'khabar[local]' builds llama.cpp (about 6 to 7 minutes on two
                cores); online, the first run then downloads Qwen2.5-3B-Instruct (about
                2 GB), which reads Arabic and Persian. Offline it falls back to a tiny
                English-only plumbing model whose digests are refused. `khabar info` says
                which model would run."""


@click.command()
@click.option(
    "-o",
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where demo.jsonl (and demo.html) are written; an earlier demo's are replaced.",
)
@handle_errors
def demo(out_dir: Path) -> None:
    """Run the five bundled sample articles through the whole pipeline in seconds.

    No model runs: khabar's SYNTHETIC test endpoint answers, copying excerpts of
    each article, and khabar checks them like any answer. The output says so
    in every record. Then the hand-written gold annotations of the samples are
    shown: what a capable model's digest should cover.
    """
    setup_logging(0)
    from rich.console import Console

    from khabar.batch.demo import gold_dir, run_demo

    console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 100)
    result = run_demo(out_dir)
    stats = result.stats
    out = click.echo
    out(
        f"khabar demo: the {stats.total} sample articles in {result.samples} went through the "
        f"whole pipeline in {stats.wall_s:.1f} s ({stats.succeeded} ok, {stats.failed} failed)."
    )
    out("")
    out(
        "SYNTHETIC: no model wrote these digests. khabar's test endpoint copied excerpts of "
        "each article into an answer of the digest's shape, and khabar located and checked "
        "every excerpt as it does a model's. The checks and the output formats are real; "
        "the text is not a summary, and every record says so."
    )
    out("")
    out(f"  {result.jsonl}  one JSON record per article (`khabar report {result.jsonl}`)")
    if result.html is not None:
        out(f"  {result.html}  the fact-check view: open it in a browser")
    out("")
    gold = gold_dir()
    if gold is None:
        out(
            "The gold annotations of these samples (written by hand) are in the repository's "
            "evals/gold/; this installation does not include them."
        )
    else:
        console.print(_gold_table(gold))
    out("")
    out(_REAL_DIGESTS)
    if stats.failed:
        sys.exit(1)


def _gold_table(directory: Path) -> Any:
    """The samples' gold as a short table, labelled as what it is: written by people."""
    from rich.table import Table

    from khabar.evals.gold import load_gold_dir

    table = Table(
        title=f"Gold annotations of the samples: human-written references ({directory})",
        caption="What a capable model's digest should say; khabar eval scores digests against it.",
    )
    table.add_column("article")
    table.add_column("lang")
    table.add_column("reference summary (written by hand), first sentence")
    table.add_column("key facts", justify="right")
    table.add_column("people", justify="right")
    for name, gold in sorted(load_gold_dir(directory).items()):
        first = gold.summary_en.strip().split(". ")[0].rstrip(".") + "."
        table.add_row(name, gold.language, first, str(len(gold.key_facts)), str(len(gold.people)))
    return table
