"""An eval report as one static HTML page: each digest beside its gold, the means as plots.

``khabar eval --html report.html`` writes it. Per article: the digest (by the
model the report names) beside the gold (written by hand), every gold fact
marked matched, missed or wrong and every digest fact marked as in the gold or
extra, the compact metrics of :data:`~khabar.evals.render.TABLE_METRICS` with
their deltas against a baseline. Above them, plots: one bar per metric with
its 95 % bootstrap interval (and the baseline's mean as a tick), and how
grounding and faithfulness spread over the articles.

The page is inert: no script at all, the plots are inline SVG, its one
stylesheet is admitted by hash and ``default-src 'none'`` leaves the network
nowhere to go. Model and article text is escaped everywhere; text in Arabic or
Persian carries its ``lang`` and ``dir="rtl"``, and names amid English are
isolated in ``<bdi>``.

Without ``digests`` and ``golds`` the page renders from the report alone: the
details of each article (missed, extra and wrong items per field), without the
matched ones, which only the gold can name.

Example::

    >>> run = run_eval(None, [Path("evals/gold")], replay_dir=cassettes)     # doctest: +SKIP
    >>> golds = {k: item.gold for k, item in load_eval_set([Path("evals/gold")])[0].items()}  # doctest: +SKIP
    >>> page = render_eval_html(run.report, digests=run.digests, golds=golds)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Mapping

from khabar.core.digest import Digest
from khabar.core.markdown import escape_html
from khabar.evals.entities import ENTITY_FIELDS, entity_name
from khabar.evals.facts import MIN_QUOTE_WORDS, quote_words
from khabar.evals.gold import Gold
from khabar.evals.metrics import LOWER_IS_BETTER, METRICS, ArticleScore, FieldDetail
from khabar.evals.render import TABLE_METRICS, format_ci
from khabar.evals.report import EvalReport, compare, format_metric

__all__ = ["DISTRIBUTION_METRICS", "render_eval_html"]

DISTRIBUTION_METRICS: tuple[tuple[str, str], ...] = (
    ("grounding_rate", "grounded facts"),
    ("summary_en_faithful", "faithful, English summary"),
    ("summary_src_faithful", "faithful, source summary"),
)
"""The per-article metrics whose spread over articles is plotted: (metric, label)."""

_DETAIL_ORDER = (*ENTITY_FIELDS, "numbers", "dates", "quotes", "key_facts", "summary", "leakage")
_FIELD_LABELS = {
    "key_facts": "key facts (English summary)",
    "summary": "summary sentences dropped",
    "leakage": "leaked from outside the main story",
}
_RTL = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug", "he", "yi", "dv"})
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
_UNWRITABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_CSS = """\
:root { --ink: #1d1d1f; --mute: #5f6368; --line: #dcdcd8; --bad: #b00020; --good: #1b7f3b;
  --arabic: "Noto Naskh Arabic", "Vazirmatn", "Tahoma", "Segoe UI", system-ui, sans-serif;
  --persian: "Vazirmatn", "Noto Naskh Arabic", "Tahoma", "Segoe UI", system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f4f1; color: var(--ink);
  font: 15px/1.5 system-ui, "Segoe UI", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 1rem 1.25rem 4rem; }
:lang(ar), :lang(ur), :lang(ps), :lang(ckb) { font-family: var(--arabic); }
:lang(fa) { font-family: var(--persian); }
h1 { font-size: 1.6rem; margin: .2rem 0 .4rem; } h2 { font-size: 1.25rem; margin: 0 0 .3rem; }
h3 { font-size: 1rem; margin: .8rem 0 .35rem; color: #333; }
.meta { color: var(--mute); margin: .2rem 0; font-size: .9rem; }
.note { background: #e8f0fe; border-left: 4px solid #4a74c9; padding: .4rem .7rem; }
.regs { background: #fde7e7; border-left: 4px solid var(--bad); padding: .4rem .7rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem;
  margin: 1.2rem 0; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
svg text { font: 11px system-ui, Arial, sans-serif; }
table { border-collapse: collapse; }
td, th { padding: .2rem .5rem; border-bottom: 1px solid var(--line); text-align: start;
  vertical-align: top; }
td.n { text-align: end; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.pair > div { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .7rem; }
.facts td { width: 40%; } .facts td:first-child { width: 20%; color: var(--mute); }
ul.items { list-style: none; margin: 0; padding: 0; }
.mk { display: inline-block; min-width: 4.2em; font-size: .75rem; font-weight: 600;
  border-radius: 3px; padding: 0 .3em; margin-inline-end: .4em; text-align: center; }
.matched, .hit { background: #cdebd3; } .missed { background: #f7c1c1; }
.extra { background: #ffe2a8; } .wrong { background: #e3d3fb; }
.up { color: var(--good); } .down { color: var(--bad); } .same { color: var(--mute); }
.failed { background: #fde7e7; border-left: 4px solid var(--bad); padding: .45rem .7rem; }
@media (max-width: 800px) { .pair { grid-template-columns: 1fr; } }
"""


def _esc(value: object) -> str:
    """Text or a double-quoted attribute value, escaped (quotes too); unwritable code points
    (lone surrogates, control characters) replaced, so the page always encodes."""
    text = _UNWRITABLE.sub("\ufffd", str(value))
    return escape_html(text).replace('"', "&quot;").replace("'", "&#39;")


def _lang(lang: str | None) -> str | None:
    return lang if lang is not None and _LANG.fullmatch(lang) else None


def _dir_attrs(lang: str | None) -> str:
    """`` lang="fa" dir="rtl"`` for a known language, nothing for a hostile or absent one."""
    code = _lang(lang)
    if code is None:
        return ""
    direction = "rtl" if code.split("-")[0].lower() in _RTL else "ltr"
    return f' lang="{code}" dir="{direction}"'


def _bdi(value: object, lang: str | None = None) -> str:
    attrs = _dir_attrs(lang)
    return f"<bdi{attrs}>{_esc(value)}</bdi>"


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _signed(delta: float) -> str:
    """A delta with its sign: "+0.050", "-0.120", "±0.000"."""
    if round(delta, 3) == 0:
        return "±0.000"
    return f"{delta:+.3f}"


def _delta(metric: str, now: float | None, base: float | None) -> str:
    """A delta against the baseline as a span classed by direction (leak ↓ rises badly)."""
    if now is None or base is None:
        return ""
    delta = now - base
    better = -delta if metric in LOWER_IS_BETTER else delta
    cls = "same" if round(delta, 3) == 0 else ("up" if better > 0 else "down")
    return f' <span class="delta {cls}">{_signed(delta)}</span>'


def _metric_order(metrics: Mapping[str, float | None]) -> list[str]:
    known = [m for m in METRICS if m in metrics]
    return known + sorted(m for m in metrics if m not in known)


def _label(metric: str) -> str:
    return metric + (" ↓" if metric in LOWER_IS_BETTER else "")


# ---- plots -----------------------------------------------------------------------------------


def _bars_svg(report: EvalReport, baseline: EvalReport | None) -> str:
    """One horizontal bar per metric with a mean, its 95 % interval as a whisker."""
    shown = [m for m in _metric_order(report.overall) if report.overall.get(m) is not None]
    if not shown:
        return '<p class="meta">No metric has a mean yet.</p>'
    left, width, row = 190, 320, 16
    height = row * len(shown) + 30
    parts = [
        f'<svg class="bars" width="{left + width + 70}" height="{height}" role="img" '
        f'viewBox="0 0 {left + width + 70} {height}"><title>means with 95% intervals</title>'
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * width
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#e2e2de"/>'
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{tick:g}</text>'
        )
    for i, metric in enumerate(shown):
        value = report.overall[metric] or 0.0
        y = i * row + 2
        fill = "#d98c5f" if metric in LOWER_IS_BETTER else "#4a74c9"
        parts.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{_esc(_label(metric))}</text>'
            f'<rect class="bar" x="{left}" y="{y + 2}" width="{max(value, 0.0) * width:.1f}" '
            f'height="{row - 5}" fill="{fill}"><title>{_esc(metric)}: '
            f"{format_metric(value)} {format_ci(report.ci.get(metric))} "
            f"n={report.n.get(metric, 0)}</title></rect>"
        )
        ci = report.ci.get(metric)
        if ci is not None:
            lo, hi = left + ci[0] * width, left + ci[1] * width
            mid = y + row / 2
            parts.append(
                f'<path class="ci" d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 4:.1f}'
                f'V{mid + 4:.1f}M{hi:.1f} {mid - 4:.1f}V{mid + 4:.1f}" stroke="#222" '
                'fill="none"/>'
            )
        base = baseline.overall.get(metric) if baseline is not None else None
        if base is not None:
            bx = left + base * width
            parts.append(
                f'<path class="base" d="M{bx:.1f} {y:.1f}V{y + row:.1f}" stroke="#b00020" '
                'stroke-width="2"/>'
            )
        parts.append(f'<text x="{left + width + 6}" y="{y + 11}">{format_metric(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram_svg(report: EvalReport, metric: str, label: str) -> str:
    """How ``metric`` spreads over the answered articles: ten bins over [0, 1]."""
    values = [
        v
        for s in report.articles.values()
        if s.failed is None and (v := s.metrics.get(metric)) is not None
    ]
    bins = [0] * 10
    for v in values:
        bins[min(int(max(v, 0.0) * 10), 9)] += 1
    top = max(bins) or 1
    w, h, bw = 240, 110, 22
    parts = [
        f'<svg class="hist" width="{w + 20}" height="{h + 50}" role="img" '
        f'viewBox="0 0 {w + 20} {h + 50}"><title>{_esc(label)} over articles</title>'
        f'<text x="10" y="12">{_esc(label)} (n={len(values)})</text>'
    ]
    for i, count in enumerate(bins):
        bh = count / top * h
        x = 10 + i * (bw + 2)
        parts.append(
            f'<rect class="bin" x="{x}" y="{20 + h - bh:.1f}" width="{bw}" height="{bh:.1f}" '
            f'fill="#4a74c9"><title>{i / 10:.1f}–{(i + 1) / 10:.1f}: {count} articles</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + bw / 2}" y="{16 + h - bh:.1f}" text-anchor="middle">{count}</text>'
            )
    parts.append(
        f'<line x1="10" y1="{20 + h}" x2="{10 + 10 * (bw + 2)}" y2="{20 + h}" stroke="#888"/>'
        f'<text x="10" y="{h + 36}">0</text><text x="{10 + 5 * (bw + 2)}" y="{h + 36}" '
        f'text-anchor="middle">0.5</text><text x="{10 + 10 * (bw + 2)}" y="{h + 36}" '
        'text-anchor="end">1</text></svg>'
    )
    return "".join(parts)


# ---- per article -----------------------------------------------------------------------------


def _number_key(value: float, unit: str | None, counts: str) -> str:
    # As khabar.evals.facts words numbers in details (the tests hold the two together).
    shown = f"{value:,.0f}" if value.is_integer() else f"{value:,g}"
    shown = f"{shown} {unit}" if unit else shown
    return shown + (f" ({counts})" if counts else "")


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _quote_key(text_src: str, speaker_en: str) -> str:
    return f"«{_short(text_src)}» ({speaker_en})"


Item = tuple[str, str]  # (the key details word it by, the markup shown)


def _gold_items(field: str, gold: Gold) -> list[Item]:
    lang = gold.language
    if field in ENTITY_FIELDS:
        out = []
        for e in getattr(gold, field):
            native = next((a for a in e.aliases if not a.isascii()), None)
            shown = f"<b>{_bdi(e.name_en, 'en')}</b>"
            shown += f" {_bdi(native, lang)}" if native else ""
            shown += f" <i>{_bdi(e.role, 'en')}</i>" if e.role else ""
            out.append((e.name_en, shown))
        return out
    if field == "numbers":
        return [
            (
                _number_key(n.value, n.unit, n.counts),
                _bdi(_number_key(n.value, n.unit, n.counts), "en")
                + (f" {_bdi(n.text, lang)}" if n.text else ""),
            )
            for n in gold.numbers
        ]
    if field == "dates":
        return [
            (
                f"{d.text} ({d.iso})",
                f"{_bdi(d.text, lang)} <code>{_esc(d.iso or '—')}</code>"
                + (f" {_bdi(d.refers_to, 'en')}" if d.refers_to else ""),
            )
            for d in gold.dates
        ]
    if field == "quotes":
        return [
            (
                _quote_key(q.text_src, q.speaker_en),
                f"«{_bdi(q.text_src, lang)}» — {_bdi(q.speaker_en, 'en')}",
            )
            for q in gold.quotes
            if quote_words(q.text_src) >= MIN_QUOTE_WORDS
        ]
    if field == "key_facts":
        return [(k.text, _bdi(k.text, "en")) for k in gold.key_facts]
    return []


def _digest_items(field: str, digest: Digest) -> list[Item]:
    lang = digest.language
    if field in ENTITY_FIELDS:
        return [
            (
                entity_name(e),
                f"<b>{_bdi(e.name_en, 'en')}</b>"
                + (f" {_bdi(e.name_src, lang)}" if e.name_src and e.name_src != e.name_en else ""),
            )
            for e in getattr(digest, field)
        ]
    if field == "numbers":
        return [
            (
                _number_key(n.value, n.unit, n.counts),
                _bdi(_number_key(n.value, n.unit, n.counts), "en"),
            )
            for n in digest.numbers
        ]
    if field == "dates":
        return [
            (f"{d.text} ({d.iso})", f"{_bdi(d.text, lang)} <code>{_esc(d.iso or '—')}</code>")
            for d in digest.dates
        ]
    if field == "quotes":
        return [
            (
                _quote_key(q.text_src, q.speaker_en),
                f"«{_bdi(q.text_src, lang)}» — {_bdi(q.speaker_en, 'en')}",
            )
            for q in digest.quotes
            if quote_words(q.text_src) >= MIN_QUOTE_WORDS
        ]
    return []


def _li(mark: str, label: str, shown: str) -> str:
    return f'<li data-mark="{mark}"><span class="mk {mark}">{label}</span>{shown}</li>'


def _gold_side(field: str, detail: FieldDetail, gold: Gold, counts: Counter[str]) -> list[str]:
    missed = Counter(detail.missed)
    out = []
    for key, shown in _gold_items(field, gold):
        if field == "key_facts":
            hit = next((m for m in missed if missed[m] and m.startswith(key + " (no ")), None)
        else:
            hit = key if missed[key] else None
        if hit is not None:
            missed[hit] -= 1
            counts["missed"] += 1
            out.append(_li("missed", "✗ missed", shown))
        elif field in ENTITY_FIELDS and any(
            w.startswith(f"{key}: filed under") for w in detail.wrong
        ):
            out.append(_li("wrong", "! kind", shown))  # counted with the wrong lines
        else:
            counts["matched"] += 1
            out.append(_li("matched", "✓ matched", shown))
    # Missed items the gold above did not name (should the wording drift): still shown.
    for item, left in missed.items():
        for _ in range(left):
            counts["missed"] += 1
            out.append(_li("missed", "✗ missed*", _bdi(item)))
    return out


def _digest_side(
    field: str, detail: FieldDetail, digest: Digest, counts: Counter[str]
) -> list[str]:
    extra = Counter(detail.extra)
    out = []
    for key, shown in _digest_items(field, digest):
        if extra[key]:
            extra[key] -= 1
            counts["extra"] += 1
            out.append(_li("extra", "+ extra", shown))
        else:
            out.append(_li("hit", "✓ in gold", shown))
    for item, left in extra.items():
        for _ in range(left):
            counts["extra"] += 1
            out.append(_li("extra", "+ extra", _bdi(item)))
    return out


def _fact_rows(
    score: ArticleScore, digest: Digest | None, gold: Gold | None
) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    fields = [f for f in _DETAIL_ORDER if f in score.details]
    fields += sorted(f for f in score.details if f not in _DETAIL_ORDER)
    rows = []
    for field in fields:
        detail = score.details[field]
        if gold is not None:
            left = _gold_side(field, detail, gold, counts)
        else:
            left = [_li("missed", "✗ missed", _bdi(m)) for m in detail.missed]
            counts["missed"] += len(detail.missed)
        if digest is not None:
            right = _digest_side(field, detail, digest, counts)
        else:
            right = [_li("extra", "+ extra", _bdi(x)) for x in detail.extra]
            counts["extra"] += len(detail.extra)
        right += [_li("wrong", "! wrong", _bdi(w)) for w in detail.wrong]
        counts["wrong"] += len(detail.wrong)
        if not left and not right:
            continue
        label = _FIELD_LABELS.get(field, field)
        rows.append(
            f"<tr><td>{_esc(label)}</td><td><ul class='items'>{''.join(left)}</ul></td>"
            f"<td><ul class='items'>{''.join(right)}</ul></td></tr>"
        )
    if not rows:
        return '<p class="meta">Nothing missed, extra or wrong.</p>', counts
    table = (
        '<table class="facts"><thead><tr><th>field</th><th>gold</th><th>digest</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return table, counts


def _text_block(
    heading: str, title: tuple[str | None, str | None], en: str, src: str, lang: str | None
) -> str:
    parts = [f"<h3>{heading}</h3>"]
    title_src, title_en = title
    if title_src:
        parts.append(f"<p><b{_dir_attrs(lang)}>{_esc(title_src)}</b></p>")
    if title_en:
        parts.append(f'<p><b lang="en" dir="ltr">{_esc(title_en)}</b></p>')
    parts.append(f'<p{_dir_attrs(lang)} class="src">{_esc(src)}</p>' if src.strip() else "")
    parts.append(f'<p lang="en" dir="ltr">{_esc(en)}</p>' if en.strip() else "")
    return "".join(parts)


def _metrics_table(score: ArticleScore, base: ArticleScore | None) -> str:
    heads = "".join(f"<th>{_esc(h)}</th>" for _, h in TABLE_METRICS)
    cells = "".join(
        f'<td class="n">{format_metric(score.metrics.get(m))}'
        + (_delta(m, score.metrics.get(m), base.metrics.get(m)) if base is not None else "")
        + "</td>"
        for m, _ in TABLE_METRICS
    )
    return f'<table class="metrics"><tr>{heads}</tr><tr>{cells}</tr></table>'


def _article(
    n: int,
    name: str,
    score: ArticleScore,
    digest: Digest | None,
    gold: Gold | None,
    base: ArticleScore | None,
    model: str,
) -> str:
    head = f'<section class="card article" id="a{n}"><h2>{_bdi(name)}</h2>'
    parts = [head]
    if score.failed is not None:
        parts.append(f'<p class="failed">No digest: {_bdi(score.failed)}</p>')
    parts.append(_metrics_table(score, base))
    left = (
        _text_block(
            "Gold (written by hand)", (None, None), gold.summary_en, gold.summary_src, gold.language
        )
        if gold is not None
        else "<h3>Gold (written by hand)</h3><p class='meta'>not given to this page</p>"
    )
    if digest is not None:
        right = _text_block(
            f"Digest ({_esc(model)})",
            (digest.title_src, digest.title_en),
            digest.summary_en,
            digest.summary_src,
            digest.language,
        )
    elif score.failed is not None:
        right = f"<h3>Digest ({_esc(model)})</h3><p class='meta'>none: the article failed</p>"
    else:
        right = f"<h3>Digest ({_esc(model)})</h3><p class='meta'>not given to this page</p>"
    parts.append(f'<div class="pair"><div>{left}</div><div>{right}</div></div>')
    if score.failed is None:
        table, counts = _fact_rows(score, digest, gold)
        parts.append(
            '<p class="tally">'
            + " · ".join(
                f'<span class="mk {k}" data-count="{k}">{counts[k]} {k}</span>'
                for k in ("matched", "missed", "extra", "wrong")
            )
            + ("" if gold is not None else " <span class='meta'>(matched: needs the gold)</span>")
            + "</p>"
            + table
        )
    parts.append("</section>")
    return "".join(parts)


# ---- the page --------------------------------------------------------------------------------


def _means_table(report: EvalReport, baseline: EvalReport | None) -> str:
    rows = []
    for m in _metric_order(report.overall):
        now = report.overall.get(m)
        base = baseline.overall.get(m) if baseline is not None else None
        rows.append(
            f"<tr><td>{_esc(_label(m))}</td><td class='n'>{format_metric(now)}</td>"
            f"<td class='n'>{format_ci(report.ci.get(m))}</td>"
            f"<td class='n'>{report.n.get(m, 0)}</td>"
            + (
                f"<td class='n'>{format_metric(base)}{_delta(m, now, base)}</td>"
                if baseline is not None
                else ""
            )
            + "</tr>"
        )
    head = "<th>metric</th><th>mean</th><th>95% CI</th><th>n</th>" + (
        "<th>baseline, Δ</th>" if baseline is not None else ""
    )
    return (
        f'<table class="means"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _page(title: str, body: str) -> str:
    # No script at all; default-src 'none' leaves fetch, images, fonts and frames nowhere to go.
    csp = (
        f"default-src 'none'; style-src {_hash(_CSS)}; img-src data:; base-uri 'none'; "
        "form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<link rel="icon" href="data:,"><title>{_esc(title)}</title><style>{_CSS}</style></head>'
        f"<body><main>{body}</main></body></html>\n"
    )


def render_eval_html(
    report: EvalReport,
    *,
    digests: Mapping[str, Digest] | None = None,
    golds: Mapping[str, Gold] | None = None,
    baseline: EvalReport | None = None,
    title: str = "khabar eval",
) -> str:
    """The report as one self-contained, script-free HTML page (see the module doc).

    ``digests`` (``EvalRun.digests``) and ``golds`` (by article, as
    :func:`~khabar.evals.sets.load_eval_set` gives them) add the texts side by
    side and the matched facts; ``baseline`` adds deltas, its means as ticks on
    the bars, and the regressions :func:`~khabar.evals.report.compare` finds.

    Example::

        >>> Path("report.html").write_text(render_eval_html(run.report), encoding="utf-8")  # doctest: +SKIP
    """
    digests = digests or {}
    golds = golds or {}
    how = "replayed recordings" if report.replay else "a live run or scored digests"
    model = f"{report.model} ({report.provider})"
    top = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">Digests by <b>{_bdi(report.model)}</b> ({_bdi(report.provider)}, '
        f"{how}). Gold: written by hand. <b>Coverage: {_esc(report.coverage())}.</b></p>",
        '<p class="note">Gold facts are marked <span class="mk matched">✓ matched</span> or '
        '<span class="mk missed">✗ missed</span>; digest facts <span class="mk hit">✓ in gold'
        '</span> or <span class="mk extra">+ extra</span>; <span class="mk wrong">! wrong</span> '
        "is a wrong kind, role, unit, date or speaker. Higher is better except ↓. A failed "
        "article scores 0 on every metric it could not produce.</p>",
    ]
    if baseline is not None:
        regressions = compare(report, baseline)
        top.append(
            f'<p class="meta">Deltas against a baseline by {_bdi(baseline.model)} '
            f"({_esc(baseline.coverage())}): + is a rise, - a fall; green is better.</p>"
        )
        if regressions:
            top.append(
                f'<div class="regs"><b>{len(regressions)} regressions against the baseline</b>'
                f"<ul>{''.join(f'<li>{_bdi(r)}</li>' for r in regressions)}</ul></div>"
            )
    plots = (
        '<section class="card"><h2>Means over articles</h2><div class="plots">'
        f"<div>{_bars_svg(report, baseline)}</div><div>"
        + "".join(_histogram_svg(report, m, label) for m, label in DISTRIBUTION_METRICS)
        + f"</div></div>{_means_table(report, baseline)}</section>"
    )
    index = "".join(
        f'<li><a href="#a{n}">{_bdi(name)}</a>'
        + (" — no digest" if score.failed is not None else "")
        + "</li>"
        for n, (name, score) in enumerate(sorted(report.articles.items()), start=1)
    )
    articles = "".join(
        _article(
            n,
            name,
            score,
            digests.get(name),
            golds.get(name),
            baseline.articles.get(name) if baseline is not None else None,
            model,
        )
        for n, (name, score) in enumerate(sorted(report.articles.items()), start=1)
    )
    body = (
        "".join(top)
        + plots
        + f'<nav class="card"><h2>Articles</h2><ol>{index}</ol></nav>'
        + articles
    )
    return _page(title, body)
