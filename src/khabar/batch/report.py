"""A Markdown report of a batch's records, for a person to read.

Each digest becomes a section: the English title and summary, the
source-language summary in a right-to-left block, the fact sheet as tables,
what was dropped and how the digest was made. Failed articles are listed at the
end with their reasons. Everything that comes from the model or the article is
escaped, so a ``|`` cannot break a table and a ``<script>`` stays text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from khabar.batch.stats import describe_reasks
from khabar.core.markdown import escape_html, markdown_cell

__all__ = ["render_markdown"]

_RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug", "dv", "he", "yi"})
_LANGUAGE_NAMES = {"ar": "Arabic", "fa": "Persian", "en": "English", "ur": "Urdu", "ps": "Pashto"}


def render_markdown(
    records: Iterable[dict[str, Any]], *, title: str = "khabar digests", prices: Any = None
) -> str:
    """Render JSONL output records (see :mod:`khabar.batch.store`) as one Markdown document.

    Pass the latest record per id (``iter_records(path, latest_only=True)``).

    Example::

        >>> from khabar.batch.store import iter_records
        >>> md = render_markdown(iter_records("out.jsonl", latest_only=True))  # doctest: +SKIP
        >>> render_markdown([]).splitlines()[0]
        '# khabar digests'
    """
    items = list(records)
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for record in items:
        good = record.get("status") == "ok" and isinstance(record.get("digest"), dict)
        (ok if good else failed).append(record)
    out: list[str] = [f"# {_inline(title)}", ""]
    out.extend(_header(items, ok, failed, prices))
    for record in ok:
        out.extend(_article(record))
    if failed:
        out.extend(_failures(failed))
    return "\n".join(out).rstrip("\n") + "\n"


# --- header ---------------------------------------------------------------------------


def _header(
    items: list[dict[str, Any]],
    ok: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    prices: Any = None,
) -> list[str]:
    if not items:
        return ["No records.", ""]
    provs = [_prov(r) for r in ok]
    duplicates = sum(1 for r in items if r.get("duplicate_of"))
    # A duplicate repeats its first article's provenance: count each call once. A
    # draft rejected as unsupported was paid for too: its provenance counts.
    calls = [_prov(r) for r in items if not r.get("duplicate_of")]
    calls = [p for p in calls if p]
    cached = sum(1 for p in calls if p.get("cache_hit"))
    paid = [p for p in calls if not p.get("cache_hit")]
    tokens_in = sum(p.get("prompt_tokens") or 0 for p in paid)
    tokens_out = sum(p.get("completion_tokens") or 0 for p in paid)
    dropped = sum(p.get("unverified_dropped") or 0 for p in provs)
    lines: list[str] = []
    # The typed flag, not a warning's wording: digests of the bundled test model are
    # not summaries, and the reader must learn that before reading any of them.
    plumbing = [str(p.get("model", "?")) for p in provs if p.get("plumbing")]
    for model in _unique(plumbing):
        count = plumbing.count(model)
        lines += [
            f"> **⚠ Warning: plumbing model: {_inline(model)} made {count} of these digests.**",
            ">",
        ]
    if plumbing:
        lines += [
            "> These digests show that the pipeline runs; they are not meaningful summaries.",
            "",
        ]
    lines.append(
        f"**{len(items)} article{'s' * (len(items) != 1)}**: {len(ok)} summarized, "
        f"{len(failed)} failed"
        + (f", {duplicates} duplicate{'s' * (duplicates != 1)}" if duplicates else "")
        + f". From cache: {cached}. Tokens: {tokens_in:,} in / {tokens_out:,} out."
        + f" Unverified facts dropped: {dropped}."
    )
    if paid:
        lines += ["", _reask_line(paid, tokens_in + tokens_out)]
        lines += ["", _cost_line(items, prices)]
    models = _unique(f"{p.get('model', '?')} via {p.get('provider', '?')}" for p in provs)
    if models:
        lines += ["", "Model: " + ", ".join(_code(m) for m in models) + "."]
    lines.append("")
    return lines


def _cost_line(items: list[dict[str, Any]], prices: Any) -> str:
    """The estimated cost of the calls counted above, at list prices (the report cannot tell
    which records came through a batch API)."""
    from khabar.core.cost import EXAMPLE_PRICES, cost_of_records, format_cost

    table = prices or EXAMPLE_PRICES
    summary = cost_of_records(items, table)
    # The source may be a file name (KHABAR_PRICES): escaped like everything not ours.
    line = (
        f"Estimated cost: {format_cost(summary.total, table.currency)} at list prices "
        f"({_inline(table.source)})"
    )
    if summary.unpriced:
        line += "; no price for " + ", ".join(_code(m) for m in sorted(summary.unpriced))
    return line + "."


def _reask_line(paid: list[dict[str, Any]], tokens: int) -> str:
    """What re-asks cost and won, over the answers paid for (no cache hit, no duplicate)."""

    def total(name: str) -> int:
        return sum(int(p.get(name) or 0) for p in paid)

    return describe_reasks(
        called=len(paid),
        reasked=sum(1 for p in paid if int(p.get("reasks") or 0) > 0),
        reasks=total("reasks"),
        gain_facts=total("reask_gain_facts"),
        gain_sentences=total("reask_gain_sentences"),
        prompt_tokens=total("reask_prompt_tokens"),
        completion_tokens=total("reask_completion_tokens"),
        total_tokens=tokens,
    )


# --- one article ------------------------------------------------------------------------


def _article(record: dict[str, Any]) -> list[str]:
    d: dict[str, Any] = record["digest"]
    prov = _prov(record)
    lang = str(d.get("language") or "")
    heading = _inline(d.get("title_en") or "") or "(untitled)"
    lines = [f"## {heading} · {_code(record.get('id', '?'))}", ""]
    where = []
    if record.get("source") and record.get("source") != record.get("id"):
        where.append(f"source {_code(record['source'])}")
    if lang:
        where.append(_LANGUAGE_NAMES.get(lang, lang))
    if record.get("duplicate_of"):
        where.append(f"duplicate of {_code(record['duplicate_of'])}")
    if where:
        lines += [" · ".join(where), ""]
    lines += [_block(d.get("summary_en") or ""), ""]
    title_src, summary_src = d.get("title_src") or "", d.get("summary_src") or ""
    if title_src or summary_src:
        native = []
        if title_src:
            native += [f"**{_inline(title_src)}**", ""]
        native.append(_block(summary_src))
        if lang in _RTL_LANGUAGES:
            # Blank lines around the content: Markdown inside an HTML block needs them.
            lines += [f'<div dir="rtl" lang="{_attr(lang)}">', "", *native, "", "</div>", ""]
        else:
            lines += [*native, ""]
    lines.extend(_fact_tables(d))
    lines.append(f"Unverified facts dropped: {prov.get('unverified_dropped') or 0}")
    lines.append("")
    lines.append(_provenance_line(prov))
    lines.append("")
    warnings = _unique(
        [str(w) for w in record.get("warnings") or []]
        + [str(w) for w in prov.get("warnings") or []]
    )
    if warnings:
        lines += ["Warnings:", "", *(f"- {_inline(w)}" for w in warnings), ""]
    return lines


Row = Callable[[dict[str, Any]], Sequence[object]]

_TABLES: list[tuple[str, str, list[str], Row]] = [
    (
        "people",
        "People",
        ["English", "native", "role", "evidence"],
        lambda f: [f.get("name_en"), f.get("name_src"), f.get("role"), f.get("evidence")],
    ),
    (
        "organizations",
        "Organizations",
        ["English", "native", "evidence"],
        lambda f: [f.get("name_en"), f.get("name_src"), f.get("evidence")],
    ),
    (
        "locations",
        "Places",
        ["English", "native", "kind", "evidence"],
        lambda f: [f.get("name_en"), f.get("name_src"), f.get("kind"), f.get("evidence")],
    ),
    (
        "dates",
        "Dates",
        ["as written", "calendar", "ISO", "refers to"],
        lambda f: [f.get("text"), _calendar(f.get("calendar")), f.get("iso"), f.get("refers_to")],
    ),
    (
        "numbers",
        "Numbers",
        ["value", "unit", "counts", "evidence"],
        lambda f: [_number(f.get("value")), f.get("unit"), f.get("counts"), f.get("evidence")],
    ),
    (
        "quotes",
        "Quotes",
        ["speaker", "original", "English"],
        lambda f: [f.get("speaker_en"), f.get("text_src"), f.get("text_en")],
    ),
    (
        "sources",
        "Sources",
        ["English", "native", "evidence"],
        lambda f: [f.get("name_en"), f.get("name_src"), f.get("evidence")],
    ),
]


def _fact_tables(d: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, heading, columns, row in _TABLES:
        facts = [f for f in d.get(key) or [] if isinstance(f, dict)]
        if not facts:
            continue
        lines += [f"### {heading}", "", _row(columns), "|" + "---|" * len(columns)]
        lines += [_row(row(f)) for f in facts]
        lines.append("")
    return lines


def _provenance_line(prov: dict[str, Any]) -> str:
    parts = [
        f"model {_code(prov.get('model', '?'))}",
        f"provider {_code(prov.get('provider', '?'))}",
        f"prompt {_code(prov.get('prompt_version', '?'))}",
        f"cache hit: {'yes' if prov.get('cache_hit') else 'no'}",
        f"tokens {_count(prov.get('prompt_tokens'))} in / {_count(prov.get('completion_tokens'))} out",
        f"latency {float(prov.get('latency_s') or 0.0):.2f} s",
    ]
    if prov.get("attempts", 1) and int(prov.get("attempts", 1)) > 1:
        parts.append(f"attempts {prov['attempts']}")
    if prov.get("truncated"):
        parts.append("article truncated")
    return "<sub>" + " · ".join(parts) + "</sub>"


# --- failures --------------------------------------------------------------------------------


def _failures(failed: list[dict[str, Any]]) -> list[str]:
    lines = ["## Failed articles", "", _row(["id", "reason", "message"]), "|---|---|---|"]
    for record in failed:
        error = record.get("error") if isinstance(record.get("error"), dict) else {}
        assert isinstance(error, dict)
        reason = error.get("reason") or ("no digest" if record.get("status") == "ok" else "?")
        message = error.get("message") or ""
        if record.get("duplicate_of"):
            message = f"{message} (duplicate of {record['duplicate_of']})".strip()
        lines.append(_row([record.get("id", "?"), reason, message]))
    lines.append("")
    return lines


# --- escaping and formatting -------------------------------------------------------------------


def _prov(record: dict[str, Any]) -> dict[str, Any]:
    """The provenance of a record's digest, or of its rejected draft; ``{}`` when none."""
    digest = record.get("digest")
    if not isinstance(digest, dict):
        digest = record.get("draft")
    prov = digest.get("provenance") if isinstance(digest, dict) else None
    return prov if isinstance(prov, dict) else {}


def _inline(value: object) -> str:
    """Text on one line (headings, list items)."""
    return " ".join(escape_html(str(value)).split())


def _block(value: object) -> str:
    """A paragraph of text; its own line breaks are kept as Markdown line breaks."""
    paragraphs = [" ".join(p.split()) for p in escape_html(str(value)).split("\n")]
    return "  \n".join(p for p in paragraphs if p)


def _row(values: Sequence[object]) -> str:
    return "| " + " | ".join(markdown_cell(v) for v in values) + " |"


def _code(value: object) -> str:
    text = " ".join(str(value).split())
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _attr(value: str) -> str:
    return escape_html(value).replace('"', "&quot;")


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if float(value).is_integer() and abs(value) < 1e18:
        return f"{int(value):,}"
    return f"{value:,}"


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _calendar(value: object) -> str | None:
    names = {"gregorian": "Gregorian", "solar_hijri": "Solar Hijri", "lunar_hijri": "Lunar Hijri"}
    return names.get(str(value), str(value)) if value else None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
