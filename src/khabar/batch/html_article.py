"""One article of the HTML report: the text with its evidence highlighted, summaries, fact sheet.

The article text is cut into segments at every span boundary (facts and
citations) and at every stripped block's position; each segment is one
``<mark>`` listing, in ``data-f`` and ``data-c``, every fact and citation that
covers it. Overlapping and shared spans therefore need no nesting: a fact is
the run of segments that carry its token, and the text of those segments joined
is exactly ``text[start:end]``. ``data-s`` is the segment's start offset.

The text container is ``white-space: pre-wrap`` and holds nothing but the
segments and the stripped blocks (marked ``data-x``), so its text minus those
blocks is the record's ``text``, character for character.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from khabar.batch.html_parts import (
    FACT_KINDS,
    KIND_LABELS,
    Problems,
    as_dict,
    as_int,
    as_list,
    as_str,
    attr,
    bdi,
    esc,
    fact_label,
    lang_attr,
    language_name,
    text_dir,
)
from khabar.batch.html_side import dropped_panel, provenance_panel

__all__ = ["Digested", "render_article"]

_SUMMARIES = (("summary_en_sentences", "en"), ("summary_src_sentences", "src"))


@dataclass(frozen=True)
class _Ref:
    attr: str  # "f" (a fact) or "c" (a summary sentence's citation)
    token: str  # "people.0", "en.1.0" (sentence 1, citation 0)
    start: int
    end: int
    kind: str | None = None
    order: int = 0


@dataclass
class Digested:
    """What the index needs of one record, read while rendering it."""

    status: str
    language: str | None
    support: str
    title: str
    facts_kept: int = 0
    facts_dropped: int = 0
    sentences_kept: int = 0
    sentences_dropped: int = 0
    reason: str | None = None
    plumbing: bool = False
    rejected: bool = False
    model: str | None = None
    problems: int = 0


def render_article(record: object, n: int, *, nav: str = "") -> tuple[str, Digested]:
    """``<article id="a{n}">`` for one JSONL record, and its index facts. Never raises:
    a record that cannot be read is shown as such with its raw JSON."""
    try:
        return _article(record, n, nav)
    except Exception as exc:  # a malformed record must not stop the report
        return _broken(record, n, exc, nav), Digested("error", None, "?", "(unreadable record)")


def _broken(record: object, n: int, exc: Exception, nav: str) -> str:
    try:
        raw = json.dumps(record, ensure_ascii=False, indent=1, default=repr)
    except Exception:
        raw = repr(record)
    return (
        f'<article class="rec bad" id="a{n}" data-status="error" data-lang="?" data-support="?">'
        f"{nav}<h2>Record {n}: could not be rendered</h2>"
        f'<p class="problems">{esc(type(exc).__name__)}: {esc(exc)}</p>'
        f'<pre class="raw">{esc(raw[:20000])}</pre></article>'
    )


def _article(record: object, n: int, nav: str) -> tuple[str, Digested]:
    problems = Problems()
    rec = as_dict(record)
    if not isinstance(record, dict):
        problems.add(f"the record is a JSON {type(record).__name__}, not an object")
    rid = as_str(rec.get("id"))
    if rid is None:
        problems.add("the record has no id")
    status = as_str(rec.get("status")) or "?"
    if status not in ("ok", "error"):
        problems.add(f"unknown status {status!r}")
    digest = rec.get("digest")
    error = as_dict(rec.get("error"))
    draft = rec.get("draft")
    rejected = False
    if status == "ok" and isinstance(digest, dict):
        shown: dict[str, Any] | None = digest
    elif status == "ok":
        problems.add("the status is ok but the record has no digest")
        shown = None
    elif isinstance(draft, dict):
        shown, rejected = draft, True
    else:
        shown = None
    info = Digested(status=status, language=None, support="n/a", title="", rejected=rejected)
    if status != "ok":
        info.reason = as_str(error.get("reason")) or "?"
    body = _digest_body(shown, problems, rejected, info) if shown is not None else ""
    info.problems = len(problems)
    head = _header(rec, rid, n, status, error, shown, rejected, info)
    bad = (
        '<div class="problems"><b>This record is malformed; what could be read is shown.</b><ul>'
        + "".join(f"<li>{esc(p)}</li>" for p in problems)
        + "</ul></div>"
        if problems
        else ""
    )
    classes = "rec" + (" rejected" if rejected else "") + (" err" if status != "ok" else "")
    return (
        f'<article class="{classes}" id="a{n}" data-status="{attr(status)}"'
        f' data-lang="{attr(info.language or "?")}" data-support="{attr(info.support)}">'
        f"{nav}{head}{bad}{body}</article>",
        info,
    )


def _header(
    rec: dict[str, Any],
    rid: str | None,
    n: int,
    status: str,
    error: dict[str, Any],
    shown: dict[str, Any] | None,
    rejected: bool,
    info: Digested,
) -> str:
    d = shown or {}
    lang = info.language
    title_en, title_src = as_str(d.get("title_en")), as_str(d.get("title_src"))
    info.title = title_en or title_src or rid or f"record {n}"
    h2 = f"<h2>{bdi(title_en)}</h2>" if title_en else '<h2 class="none">(no English title)</h2>'
    src = (
        f'<p class="tsrc" dir="{text_dir(lang)}" lang="{lang}">{esc(title_src)}</p>'
        if title_src and lang
        else ""
    )
    if title_src and not lang:
        src = f'<p class="tsrc" dir="auto">{esc(title_src)}</p>'
    meta = [f"<code>{bdi(rid or '(no id)')}</code>"]
    source = as_str(rec.get("source"))
    if source and source != rid:
        meta.append(f"from <code>{bdi(source)}</code>")
    if shown is not None:
        meta.append(esc(language_name(lang)))
    if as_str(rec.get("duplicate_of")):
        meta.append(f"duplicate of <code>{bdi(rec['duplicate_of'])}</code>")
    meta.append(f'<span class="st st-{attr(status)}">{esc(status)}</span>')
    if shown is not None:
        meta.append(f'<span class="sup s-{attr(info.support)}">support: {esc(info.support)}</span>')
    parts = [f'<header>{h2}{src}<p class="meta">{" · ".join(meta)}</p>']
    if info.plumbing:
        parts.append(
            '<p class="plumb">⚠ Plumbing model: <b>'
            f"{esc(info.model or '?')}</b> made this digest. It proves the pipeline runs; "
            "it is not a meaningful summary.</p>"
        )
    if status != "ok":
        parts.append(
            f'<p class="error"><b>Failed: {esc(info.reason or "?")}</b>'
            f" ({esc(as_str(error.get('type')) or 'error')}) {bdi(as_str(error.get('message')) or '')}</p>"
        )
    if rejected:
        parts.append(
            '<p class="rejnote"><b>Rejected draft.</b> The model returned this digest and '
            "khabar refused it: nothing in it could be verified against the article. It is "
            "shown for inspection, struck through, not as a summary.</p>"
        )
    for warning in as_list(rec.get("warnings")):
        parts.append(f'<p class="warn">input: {bdi(warning)}</p>')
    parts.append("</header>")
    return "".join(parts)


# --- the digest ---------------------------------------------------------------------------


def _digest_body(d: dict[str, Any], problems: Problems, rejected: bool, info: Digested) -> str:
    lang = lang_attr(d.get("language"))
    if lang is None:
        problems.add(f"no usable language code ({d.get('language')!r})")
    info.language = lang
    prov = as_dict(d.get("provenance"))
    if not prov:
        problems.add("the digest has no provenance")
    info.plumbing = prov.get("plumbing") is True
    info.model = as_str(prov.get("model"))
    support = as_dict(d.get("support"))
    info.support = as_str(support.get("status")) or "unknown"
    raw_text = d.get("text")
    text = raw_text if isinstance(raw_text, str) else None
    if raw_text is not None and text is None:
        problems.add("the article text is not a string")
    size = len(text) if text is not None else None

    refs: list[_Ref] = []
    sheet = _fact_sheet(d, lang, size, problems, refs, info)
    sums = _summaries(d, lang, size, problems, refs, info)
    strips, unplaced = _stripped(prov, size, problems)
    info.facts_dropped = len(as_list(prov.get("dropped")))
    info.sentences_dropped = len(as_list(prov.get("dropped_sentences")))
    if text is not None:
        pane = (
            f'<div class="text" dir="{text_dir(lang)}"{_lang(lang)}>'
            f"{_segments(text, refs, strips)}</div>"
        )
    else:
        pane = (
            '<div class="notext"><b>The article text is not in this record</b> '
            "(it was written with KHABAR_RECORD_TEXT off, or by an older khabar), so evidence "
            "cannot be highlighted in place. Each fact shows its excerpt instead.</div>"
        )
    if unplaced:
        pane += (
            '<div class="unplaced"><h4>Stripped blocks (position unknown)</h4>'
            + "".join(unplaced)
            + "</div>"
        )
    side = sheet + dropped_panel(prov, lang) + provenance_panel(prov, support)
    return f'{sums}<div class="cols"><div class="side">{side}</div>{pane}</div>'


def _lang(lang: str | None) -> str:
    return f' lang="{lang}"' if lang else ""


def _span(value: object, size: int | None, what: str, problems: Problems) -> tuple[int, int] | None:
    if value is None:
        problems.add(f"{what} has no span")
        return None
    pair = as_list(value) if not isinstance(value, tuple) else list(value)
    start, end = (as_int(pair[0]), as_int(pair[1])) if len(pair) == 2 else (None, None)
    if start is None or end is None or not 0 <= start < end:
        problems.add(f"{what} has an unusable span {value!r}")
        return None
    if size is not None and end > size:
        problems.add(f"{what} has a span {value!r} beyond the text ({size} characters)")
        return None
    return start, end


def _fact_sheet(
    d: dict[str, Any],
    lang: str | None,
    size: int | None,
    problems: Problems,
    refs: list[_Ref],
    info: Digested,
) -> str:
    out: list[str] = []
    kept = 0
    for order, kind in enumerate(FACT_KINDS):
        raw = d.get(kind)
        if raw is not None and not isinstance(raw, list):
            problems.add(f"{kind} is not a list")
        items = []
        for i, fact in enumerate(as_list(raw)):
            token = f"{kind}.{i}"
            if not isinstance(fact, dict):
                problems.add(f"{token} is not an object")
                continue
            kept += 1
            span = _span(fact.get("span"), size, token, problems)
            if span is not None and size is not None:
                refs.append(_Ref("f", token, span[0], span[1], kind, order * 100_000 + i))
            lit = span is not None and size is not None
            where = f'<span class="at">{span[0]}–{span[1]}</span>' if span else ""
            evidence = as_str(fact.get("evidence"))
            ev = (
                f'<q class="ev" dir="{text_dir(lang)}"{_lang(lang)}>{esc(evidence)}</q>'
                if evidence
                else '<span class="ev none">no evidence</span>'
            )
            items.append(
                f'<li class="fact k-{kind}{"" if lit else " nohl"}" data-f="{token}"'
                f' tabindex="0">{where}<span class="lbl">{fact_label(kind, fact, lang)}</span>'
                f"{ev}</li>"
            )
        if items:
            out.append(
                f'<h4><span class="sw k-{kind}"></span>{KIND_LABELS[kind]} ({len(items)})</h4>'
                f"<ul>{''.join(items)}</ul>"
            )
    info.facts_kept = kept
    if not out:
        out.append('<p class="none">No fact kept.</p>')
    hint = (
        " Hover or click a fact to see its evidence; click a highlight to see its facts."
        if size is not None
        else ""
    )
    return f'<section class="facts"><h3>Fact sheet</h3><p class="hint">{hint}</p>{"".join(out)}</section>'


def _summaries(
    d: dict[str, Any],
    lang: str | None,
    size: int | None,
    problems: Problems,
    refs: list[_Ref],
    info: Digested,
) -> str:
    cols = []
    for (field, short), joined in zip(_SUMMARIES, ("summary_en", "summary_src"), strict=True):
        col_lang = "en" if short == "en" else lang
        sentences = []
        for si, sentence in enumerate(as_list(d.get(field))):
            token = f"{short}.{si}"
            if not isinstance(sentence, dict):
                problems.add(f"{field}[{si}] is not an object")
                continue
            cites = as_list(sentence.get("cites"))
            spans = as_list(sentence.get("spans"))
            if len(spans) != len(cites):
                problems.add(f"{field}[{si}] has {len(cites)} citations but {len(spans)} spans")
            buttons = []
            for ci, value in enumerate(spans):
                span = _span(value, size, f"{field}[{si}] citation {ci + 1}", problems)
                ctoken = f"{token}.{ci}"
                cite = as_str(cites[ci]) if ci < len(cites) else None
                title = f' title="{attr(cite)}"' if cite else ""
                if span is not None and size is not None:
                    refs.append(_Ref("c", ctoken, span[0], span[1], None, ci))
                    buttons.append(
                        f'<button type="button" class="cn" data-c="{ctoken}"{title}>{ci + 1}</button>'
                    )
                else:
                    buttons.append(f'<span class="cn off"{title}>{ci + 1}</span>')
            info.sentences_kept += 1
            sentences.append(
                f'<span class="sent" data-c="{token}" tabindex="0">'
                f"{esc(as_str(sentence.get('text')) or '')}</span>"
                f'<sup class="cns">{"".join(buttons)}</sup> '
            )
        body = "".join(sentences)
        note = ""
        if not body and as_str(d.get(joined)):
            body = esc(d[joined])
            note = '<p class="none">(no cited sentences in this record)</p>'
        para = f'<p dir="{text_dir(col_lang)}"{_lang(col_lang)}>{body}</p>' if body else ""
        if not body:
            note = '<p class="none">No sentence held.</p>'
        name = "English" if short == "en" else language_name(lang)
        cols.append(f'<section class="sum"><h3>{esc(name)} summary</h3>{para}{note}</section>')
    return f'<div class="sums">{"".join(cols)}</div>'


def _stripped(
    prov: dict[str, Any], size: int | None, problems: Problems
) -> tuple[dict[int, list[str]], list[str]]:
    placed: dict[int, list[str]] = {}
    unplaced: list[str] = []
    for i, block in enumerate(as_list(prov.get("stripped"))):
        b = as_dict(block)
        kind = as_str(b.get("kind")) or "block"
        html = (
            f'<details class="strip" data-x><summary>stripped: {esc(kind)}</summary>'
            f"{esc(as_str(b.get('text')) or '')}</details>"
        )
        at = as_int(b.get("at"))
        if b.get("at") is not None and (at is None or at < 0 or (size is not None and at > size)):
            problems.add(f"stripped block {i} has an unusable position {b.get('at')!r}")
            at = None
        if at is None or size is None:
            unplaced.append(html)
        else:
            placed.setdefault(at, []).append(html)
    return placed, unplaced


def _segments(text: str, refs: list[_Ref], inserts: dict[int, list[str]]) -> str:
    """The text cut at every boundary, each covered piece one ``<mark>`` (module docstring)."""
    points = sorted({0, len(text), *inserts, *(r.start for r in refs), *(r.end for r in refs)})
    starting: dict[int, list[_Ref]] = {}
    for ref in refs:
        starting.setdefault(ref.start, []).append(ref)
    active: list[_Ref] = []
    out: list[str] = []
    for here, after in zip(points, [*points[1:], None], strict=True):
        out.extend(inserts.get(here, ()))
        active = [r for r in active if r.end > here] + starting.get(here, [])
        if after is None:
            break
        piece = esc(text[here:after])
        if not active:
            out.append(piece)
            continue
        facts = sorted((r for r in active if r.attr == "f"), key=lambda r: r.order)
        cites = [r.token for r in active if r.attr == "c"]
        classes = []
        if facts:
            # The narrowest fact gives the colour: a name inside a quote shows as a name.
            classes.append(f"k-{min(facts, key=lambda r: r.end - r.start).kind}")
        if len(facts) > 1:
            classes.append("multi")
        if cites:
            classes.append("cite")
        data = f' data-f="{" ".join(r.token for r in facts)}"' if facts else ""
        data += f' data-c="{" ".join(sorted(cites))}"' if cites else ""
        out.append(f'<mark class="{" ".join(classes)}" data-s="{here}"{data}>{piece}</mark>')
    return "".join(out)
