"""The eval set: which articles have gold, and where each article's text is.

Gold directories sit beside their articles: ``evals/gold/`` annotates
``evals/articles/``, ``evals/corpus/gold/`` annotates ``evals/corpus/articles/``,
and a second annotation (``evals/gold_b/``) the same ``evals/articles/``. So an
article is looked up in the ``articles`` directory given, else in
``<gold dir>/../articles``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from khabar.errors import ConfigError
from khabar.evals.gold import Gold, load_gold_dir

__all__ = [
    "DEFAULT_GOLD_DIRS",
    "EvalItem",
    "articles_dir_for",
    "default_gold_dirs",
    "load_eval_set",
]

DEFAULT_GOLD_DIRS = (Path("evals/gold"), Path("evals/corpus/gold"))
"""What ``khabar eval`` scores by default: the seeds and the corpus, where they exist."""


@dataclass(frozen=True)
class EvalItem:
    """One article with gold: its name (the file stem), text file and annotation."""

    stem: str
    article: Path
    gold: Gold


def articles_dir_for(gold_dir: Path) -> Path:
    """The articles a gold directory annotates: ``<gold dir>/../articles``."""
    return Path(gold_dir).parent / "articles"


def default_gold_dirs(root: Path = Path(".")) -> list[Path]:
    """:data:`DEFAULT_GOLD_DIRS` under ``root`` that exist (the corpus may not, yet)."""
    return [root / d for d in DEFAULT_GOLD_DIRS if (root / d).is_dir()]


def load_eval_set(
    gold_dirs: Path | Sequence[Path], articles: Path | None = None
) -> tuple[dict[str, EvalItem], list[str]]:
    """Every gold file of ``gold_dirs`` with its article, by stem; and notes for the user.

    Raises :class:`~khabar.errors.ConfigError` for gold without an article and
    for a stem annotated twice.

    Example::

        >>> items, notes = load_eval_set([Path("evals/gold"), Path("evals/corpus/gold")])  # doctest: +SKIP
    """
    dirs = [Path(gold_dirs)] if isinstance(gold_dirs, (str, Path)) else [Path(d) for d in gold_dirs]
    items: dict[str, EvalItem] = {}
    notes: list[str] = []
    seen: dict[Path, None] = {}
    for gold_dir in dirs:
        where = [articles] if articles is not None else []
        where.append(articles_dir_for(gold_dir))
        texts: dict[str, Path] = {}
        for directory in reversed(where):  # the articles given win
            if directory.is_dir():
                seen[directory] = None
                texts.update({p.stem: p for p in sorted(directory.glob("*.txt"))})
        golds = load_gold_dir(gold_dir)
        missing = sorted(set(golds) - set(texts))
        if missing:
            raise ConfigError(
                f"gold without an article in {' or '.join(str(d) for d in where)}: "
                f"{', '.join(missing)}"
            )
        for stem, gold in golds.items():
            if stem in items:
                raise ConfigError(f"{stem} has gold in two directories: {items[stem].gold.article}")
            items[stem] = EvalItem(stem, texts[stem], gold)
    for directory in seen:
        unannotated = sorted(p.stem for p in directory.glob("*.txt") if p.stem not in items)
        if unannotated:
            notes.append(
                f"no gold for {len(unannotated)} articles in {directory}, not scored: "
                f"{', '.join(unannotated)}"
            )
    return dict(sorted(items.items())), notes
