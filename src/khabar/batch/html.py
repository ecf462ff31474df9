"""An HTML report of a batch's records: one self-contained page, or an index and a page per article.

Every page is self-contained: its CSS and JavaScript are inline
(``html_assets/``), it loads nothing (no font, image or script from anywhere),
and its Content-Security-Policy admits only those two inline blocks, by hash,
and no network at all. Text from the model and from the article is escaped
everywhere; the CSP is a second wall should an escape ever be missed.

What a page shows, per article (see :mod:`khabar.batch.html_article`): the
cleaned text right to left with every fact's evidence and every summary
citation highlighted (a colour per fact kind; overlapping spans are cut into
segments, each listing its facts), the two summaries side by side with each
sentence linked to its citations, the fact sheet (dates as written and
converted, numbers as written and as values), what was dropped and why, the
stripped blocks greyed at their place, and how the digest was made. The index
lists every record with client-side filters; error records appear with their
reason, and an ``unsupported`` digest's rejected draft is shown as rejected.

A record that is malformed is rendered as far as it can be, with its problems
listed; nothing here raises on a record.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from khabar._version import __version__
from khabar.batch.html_article import Digested, render_article
from khabar.batch.html_parts import FACT_KINDS, KIND_LABELS, as_str, attr, bdi, esc, language_name

__all__ = ["DEFAULT_PER_ARTICLE_THRESHOLD", "render_html", "write_html"]

DEFAULT_PER_ARTICLE_THRESHOLD = 200
"""Up to this many records ``write_html`` writes one page; above it, an index and a page each.

A page costs 8 to 17 kB per digest (bench/html_size.py: 0.8 to 1.7 MB for 100),
so 200 stay near 3.5 MB, which a browser opens at once and a mail can carry;
thousands would not."""

_PAGE_NAME = re.compile(r"\d{5}(-[A-Za-z0-9_-]*)?\.html")


def _asset(name: str) -> str:
    return (resources.files("khabar.batch") / "html_assets" / name).read_text(encoding="utf-8")


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _page(title: str, body: str) -> str:
    css, js = _asset("report.css"), _asset("report.js")
    # No network: default-src 'none' leaves fetch, images, fonts and frames nowhere to
    # go, and only the two blocks below may run or style (an injected <script> cannot).
    csp = (
        f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        # An empty icon: without one the browser would ask for /favicon.ico.
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{css}</style></head>'
        f'<body><main>{body}</main><div id="pop" class="pop" role="dialog" hidden></div>'
        f"<script>{js}</script></body></html>\n"
    )


def render_html(
    records: Iterable[Any], *, title: str = "khabar digests", note: str | None = None
) -> str:
    """The records (JSONL output, see :mod:`khabar.batch.store`) as one self-contained page.

    Pass the latest record per id (``iter_records(path, latest_only=True)``).
    ``note`` is shown under the title (say there that records are hand-written
    or synthetic when they are).

    Example::

        >>> from khabar.batch.store import iter_records
        >>> page = render_html(iter_records("out.jsonl", latest_only=True))  # doctest: +SKIP
        >>> render_html([]).startswith("<!DOCTYPE html>")
        True
    """
    items = list(records)
    articles: list[str] = []
    infos: list[tuple[Any, Digested, str]] = []
    for n, record in enumerate(items, start=1):
        html, info = render_article(record, n, nav='<nav><a href="#index">↑ index</a></nav>')
        articles.append(html)
        infos.append((record, info, f"#a{n}"))
    body = _top(title, note, infos) + _index(infos) + "".join(articles)
    return _page(title, body)


def write_html(
    records: Iterable[Any],
    path: str | Path,
    *,
    title: str = "khabar digests",
    note: str | None = None,
    per_article_threshold: int = DEFAULT_PER_ARTICLE_THRESHOLD,
) -> list[Path]:
    """Write the report to ``path``; return the files written, ``path`` first.

    Up to ``per_article_threshold`` records: one page (:func:`render_html`).
    Above it: ``path`` is the index, and each article gets its own
    self-contained page in the folder ``<stem>_articles/`` beside it
    (``00001-<id>.html``...), linked from the index and to its neighbours.
    Article pages left there by an earlier, larger report are removed, so the
    folder matches the index. Each file is written whole or not at all.
    """
    if per_article_threshold < 0:
        raise ValueError("per_article_threshold must be 0 or more")
    items = list(records)
    target = Path(path)
    if len(items) <= per_article_threshold:
        _write(target, render_html(items, title=title, note=note))
        return [target]
    folder = target.with_name(target.stem + "_articles")
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{n:05d}{_slug(r)}.html" for n, r in enumerate(items, start=1)]
    written: list[Path] = []
    infos: list[tuple[Any, Digested, str]] = []
    index_href = "../" + target.name
    for n, record in enumerate(items, start=1):
        links = [f'<a href="{attr(index_href)}">↑ index</a>']
        if n > 1:
            links.insert(0, f'<a href="{attr(names[n - 2])}">← previous</a>')
        if n < len(items):
            links.append(f'<a href="{attr(names[n])}">next →</a>')
        html, info = render_article(record, n, nav=f"<nav>{' · '.join(links)}</nav>")
        page_title = f"{info.title} · {title}"
        _write(folder / names[n - 1], _page(page_title, _legend() + html))
        written.append(folder / names[n - 1])
        infos.append((record, info, f"{folder.name}/{names[n - 1]}"))
    keep = set(names)
    for old in folder.iterdir():
        if _PAGE_NAME.fullmatch(old.name) and old.name not in keep:
            old.unlink()
    _write(target, _page(title, _top(title, note, infos) + _index(infos)))
    return [target, *written]


def _slug(record: Any) -> str:
    rid = as_str(record.get("id")) if isinstance(record, dict) else None
    # Only ASCII letters, digits, - and _: an id cannot climb out of the folder or
    # become a name the filesystem refuses.
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", rid or "").strip("-")[:48]
    return f"-{slug}" if slug else ""


def _write(path: Path, text: str) -> None:
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the top of the report and the index --------------------------------------------------


def _legend() -> str:
    kinds = "".join(
        f'<span><span class="sw k-{kind}"></span>{KIND_LABELS[kind]}</span>' for kind in FACT_KINDS
    )
    return (
        f'<p class="legend">{kinds}<span><mark class="cite">dotted underline</mark>: cited by a '
        'summary sentence</span><span><mark class="multi">dark underline</mark>: several facts '
        "overlap</span></p>"
    )


def _top(title: str, note: str | None, infos: list[tuple[Any, Digested, str]]) -> str:
    parts = [f"<header><h1>{esc(title)}</h1>"]
    if note:
        parts.append(f'<p class="note">{esc(note)}</p>')
    plumbing = Counter(info.model or "?" for _, info, _ in infos if info.plumbing)
    for model, count in plumbing.items():
        parts.append(
            f'<p class="banner">⚠ Plumbing model: {esc(model)} made {count} of these digests. '
            "They show that the pipeline runs; they are not meaningful summaries.</p>"
        )
    ok = sum(1 for _, info, _ in infos if info.status == "ok")
    reasons = Counter(info.reason or "?" for _, info, _ in infos if info.status != "ok")
    failed = ", ".join(f"{esc(r)} {c}" for r, c in reasons.most_common())
    kept = sum(info.facts_kept for _, info, _ in infos if info.status == "ok")
    dropped = sum(info.facts_dropped for _, info, _ in infos)
    parts.append(
        f"<p><b>{len(infos)} article{'s' * (len(infos) != 1)}</b>: {ok} summarized, "
        f"{len(infos) - ok} failed{f' ({failed})' if failed else ''}. Facts kept {kept}, "
        f"dropped {dropped}. Made by khabar {esc(__version__)}.</p>"
    )
    parts.append(_legend() + "</header>")
    return "".join(parts)


def _options(name: str, label: str, values: Iterable[str], names: dict[str, str]) -> str:
    options = "".join(
        f'<option value="{attr(v)}">{esc(names.get(v, v))}</option>' for v in sorted(set(values))
    )
    return (
        f'<label>{label} <select data-filter="{name}"><option value="">all</option>'
        f"{options}</select></label>"
    )


def _index(infos: list[tuple[Any, Digested, str]]) -> str:
    rows = []
    for n, (record, info, href) in enumerate(infos, start=1):
        rid = as_str(record.get("id")) if isinstance(record, dict) else None
        lang = info.language or "?"
        status = esc(info.status) + (f": {esc(info.reason)}" if info.reason else "")
        if info.problems:
            status += (
                f' <span class="warn">({info.problems} problem{"s" * (info.problems != 1)})</span>'
            )
        title = f"<s>{bdi(info.title)}</s> (rejected)" if info.rejected else bdi(info.title)
        model = esc(info.model or "—") + (' <b class="bad">⚠ plumbing</b>' if info.plumbing else "")
        rows.append(
            f'<tr data-status="{attr(info.status)}" data-lang="{attr(lang)}"'
            f' data-support="{attr(info.support)}"><td class="n">{n}</td>'
            f'<td><a href="{attr(href)}">{bdi(rid or "(no id)")}</a></td>'
            f'<td class="st-{attr(info.status)}">{status}</td><td>{esc(language_name(info.language))}</td>'
            f"<td>{title}</td>"
            f'<td class="n">{info.facts_kept} / {info.facts_dropped}</td>'
            f'<td class="n">{info.sentences_kept} / {info.sentences_dropped}</td>'
            f'<td><span class="sup s-{attr(info.support)}">{esc(info.support)}</span></td>'
            f"<td>{model}</td></tr>"
        )
    languages = {info.language or "?": language_name(info.language) for _, info, _ in infos}
    filters = (
        _options("status", "Status", (i.status for _, i, _ in infos), {})
        + _options("lang", "Language", languages, languages)
        + _options("support", "Support", (i.support for _, i, _ in infos), {})
        + f'<span id="shown">{len(infos)} of {len(infos)} shown</span>'
    )
    return (
        f'<section id="index"><h2>Index</h2><div class="filters">{filters}</div>'
        '<table class="idx"><thead><tr><th>#</th><th>article</th><th>status</th><th>language</th>'
        "<th>title</th><th>facts kept / dropped</th><th>sentences kept / dropped</th>"
        f"<th>support</th><th>model</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
