"""The side panels of an article in the HTML report: what was dropped, and how the digest was made."""

from __future__ import annotations

from typing import Any

from khabar.batch.html_parts import (
    FACT_KINDS,
    KIND_LABELS,
    as_dict,
    as_list,
    as_str,
    bdi,
    esc,
    fact_label,
    text_dir,
)

__all__ = ["dropped_panel", "provenance_panel"]

_SENTENCE_FIELDS = {
    "summary_en": "English summary",
    "summary_src": "source summary",
    "title_en": "English title",
    "title_src": "source title",
}


def _rtl(value: object, lang: str | None) -> str:
    if lang:
        return f'<q dir="{text_dir(lang)}" lang="{lang}">{esc(value)}</q>'
    return f'<q dir="auto">{esc(value)}</q>'


def dropped_panel(prov: dict[str, Any], lang: str | None) -> str:
    """Facts and sentences the model gave that failed verification, each with its reason."""
    rows: list[str] = []
    facts = as_list(prov.get("dropped"))
    sentences = as_list(prov.get("dropped_sentences"))
    for item in facts:
        d = as_dict(item)
        field = as_str(d.get("field")) or "?"
        fact = as_dict(d.get("fact"))
        kind = field if field in FACT_KINDS else None
        what = fact_label(kind, fact, lang) if kind else esc(fact or item)
        evidence = as_str(fact.get("evidence"))
        if evidence:
            what += f"<br>{_rtl(evidence, lang)}"
        label = KIND_LABELS.get(field, field)
        swatch = f'<span class="sw k-{kind}"></span>' if kind else ""
        rows.append(
            f"<tr><td>{swatch}{esc(label)}</td><td>{what}</td>"
            f'<td class="why">{bdi(as_str(d.get("reason")) or "?")}</td></tr>'
        )
    for item in sentences:
        d = as_dict(item)
        field = as_str(d.get("field")) or "?"
        index = d.get("index")
        where = _SENTENCE_FIELDS.get(field, field)
        if field.startswith("summary") and isinstance(index, int):
            where += f", sentence {index + 1}"
        src = field.endswith("_src")
        text = as_str(d.get("text")) or ""
        what = _rtl(text, lang) if src else bdi(text)
        cites = [as_str(c) for c in as_list(d.get("cites"))]
        if cites:
            what += '<br><span class="w">cites</span> ' + " ".join(
                _rtl(c or "?", lang) for c in cites
            )
        rows.append(
            f"<tr><td>{esc(where)}</td><td>{what}</td>"
            f'<td class="why">{bdi(as_str(d.get("reason")) or "?")}</td></tr>'
        )
    if not rows:
        return '<section class="dropped"><h3>Dropped</h3><p class="none">Nothing dropped.</p></section>'
    return (
        f'<section class="dropped"><h3>Dropped: {len(facts)} fact{"s" * (len(facts) != 1)}, '
        f"{len(sentences)} sentence{'s' * (len(sentences) != 1)}</h3>"
        "<table><thead><tr><th>what</th><th>as given</th><th>reason</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _yes(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "—" if value is None else esc(value)


def provenance_panel(prov: dict[str, Any], support: dict[str, Any]) -> str:
    """Model, tokens, attempts, re-asks, cache, support and versions, in one table."""
    model = as_str(prov.get("model")) or "?"
    rows = [("model", f"<b>{bdi(model)}</b> via {esc(as_str(prov.get('provider')) or '?')}")]
    if prov.get("plumbing") is True:
        rows.append(("plumbing model", '<b class="bad">yes: not a meaningful summary</b>'))
    for key, label in (("endpoint", "endpoint"), ("mode", "structured output")):
        if as_str(prov.get(key)):
            rows.append((label, f"<code>{bdi(prov[key])}</code>"))
    tokens_in, tokens_out = prov.get("prompt_tokens"), prov.get("completion_tokens")
    rows.append(("tokens", f"{_yes(tokens_in)} in / {_yes(tokens_out)} out"))
    rows.append(("attempts", _yes(prov.get("attempts"))))
    rows.append(("re-asks", _yes(prov.get("reasks"))))
    rows.append(("transport retries", _yes(prov.get("transport_retries"))))
    rows.append(("cache hit", _yes(prov.get("cache_hit"))))
    latency = prov.get("latency_s")
    if isinstance(latency, (int, float)) and not isinstance(latency, bool):
        rows.append(("latency", f"{latency:.2f} s"))
    status = as_str(support.get("status")) or "unknown"
    counts = ", ".join(
        f"{esc(k.replace('_', ' '))} {esc(v)}"
        for k, v in support.items()
        if k != "status" and isinstance(v, int)
    )
    rows.append(("support", f'<span class="sup s-{esc(status)}">{esc(status)}</span> {counts}'))
    if prov.get("truncated") is True:
        rows.append(("truncated", '<b class="bad">yes: the article was cut to fit</b>'))
    versions = [
        f"{label} <code>{esc(prov[key])}</code>"
        for key, label in (
            ("prompt_version", "prompt"),
            ("schema_version", "schema"),
            ("khabar_version", "khabar"),
        )
        if as_str(prov.get(key))
    ]
    if versions:
        rows.append(("versions", " · ".join(versions)))
    warnings = as_list(prov.get("warnings"))
    if warnings:
        rows.append(
            ("warnings", "<ul>" + "".join(f"<li>{bdi(w)}</li>" for w in warnings) + "</ul>")
        )
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<section class="prov"><h3>How this digest was made</h3><table>{body}</table></section>'
