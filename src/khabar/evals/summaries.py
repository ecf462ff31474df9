"""The summaries of a digest: overlap with the references, key facts, faithfulness in code.

* ``summary_en_chrf`` / ``summary_src_chrf``: sacrebleu sentence chrF / 100;
  ``summary_en_rougeL`` / ``summary_src_rougeL``: ROUGE-L F-measure. The
  source-language texts are compared word by word after ``fold`` (rouge-score's
  own tokenizer drops Arabic script, and yeh/kaf variants are spelling).
* ``key_fact_coverage``: the share of gold key facts whose every keyword group
  has an alternative in ``summary_en``, matched on word boundaries and not
  negated (or negated, for a negated fact) (:mod:`khabar.evals.wording`).
* ``summary_en_faithful`` / ``summary_src_faithful``: the share of the summary
  sentences the model wrote whose citations held when khabar checked them in
  code: kept sentences over kept + dropped (``provenance.dropped_sentences``
  of that field). Summed over both languages it is ``support.sentence_share``.
  No judge is needed: the pipeline already checked every sentence against what
  it cites. None for a digest made before summaries were cited.
"""

from __future__ import annotations

import functools
from typing import Any

from khabar.core.digest import Digest
from khabar.core.text import fold
from khabar.evals.entities import ratio
from khabar.evals.gold import Gold, KeyFact
from khabar.evals.wording import is_negated, keyword_pattern, negated_at, sentences

__all__ = ["fact_covered", "faithfulness", "key_fact_coverage", "overlap_scores"]


class _FoldTokenizer:
    """Word tokenizer for ROUGE on Arabic/Persian: rouge-score's own drops non-Latin script."""

    def tokenize(self, text: str) -> list[str]:
        return fold_words(text).split()


def fold_words(text: str) -> str:
    """``text`` folded word by word: fold() removes spaces, this keeps the word boundaries."""
    return " ".join(w for w in (fold(t) for t in text.split()) if w)


@functools.cache
def _chrf() -> Any:
    from sacrebleu.metrics.chrf import CHRF

    return CHRF()


@functools.cache
def _rouge(source_language: bool) -> Any:
    from rouge_score.rouge_scorer import RougeScorer

    if source_language:
        return RougeScorer(["rougeL"], tokenizer=_FoldTokenizer())
    return RougeScorer(["rougeL"])


def overlap_scores(
    reference: str, hypothesis: str, *, source_language: bool
) -> tuple[float | None, float | None]:
    """(chrF, ROUGE-L) of ``hypothesis`` against ``reference``, each in [0, 1]."""
    if not reference.strip():
        return None, None
    if not hypothesis.strip():
        return 0.0, 0.0
    if source_language:
        reference, hypothesis = fold_words(reference), fold_words(hypothesis)
    chrf = float(_chrf().sentence_score(hypothesis, [reference]).score) / 100
    rouge = float(_rouge(source_language).score(reference, hypothesis)["rougeL"].fmeasure)
    return chrf, rouge


def fact_covered(fact: KeyFact, summary: str) -> list[list[str]]:
    """The keyword groups of ``fact`` that ``summary`` does not cover (empty: covered).

    A positive fact needs each group at an occurrence that is not negated
    (:func:`~khabar.evals.wording.negated_at`). A negated fact needs each group
    somewhere and one of them in a statement that negates: "Putin is ready to
    negotiate, Lammy said" does not cover "no sign Putin is ready to negotiate".
    """
    statements = sentences(summary)
    if is_negated(fact.text):
        found = [
            [s for s in statements if any(keyword_pattern(a).search(s) for a in group)]
            for group in fact.keywords
        ]
        missing = [g for g, where in zip(fact.keywords, found, strict=True) if not where]
        if missing or any(is_negated(s) for where in found for s in where):
            return missing
        return list(fact.keywords)  # all there, none negated: the opposite of the fact

    def covers(alt: str) -> bool:
        return any(
            not negated_at(statement, m.start(), m.end())
            for statement in statements
            for m in keyword_pattern(alt).finditer(statement)
        )

    return [group for group in fact.keywords if not any(covers(alt) for alt in group)]


def key_fact_coverage(gold: Gold, summary_en: str) -> tuple[float | None, list[str]]:
    """The share of key facts covered by ``summary_en``, and the missed ones in words."""
    missed = []
    for fact in gold.key_facts:
        absent = fact_covered(fact, summary_en)
        if absent:
            missing = ", ".join("/".join(group) for group in absent)
            polarity = " in a negated statement" if is_negated(fact.text) else ""
            missed.append(f"{fact.text} (no {missing}{polarity})")
    return ratio(len(gold.key_facts) - len(missed), len(gold.key_facts)), missed


def faithfulness(digest: Digest, field: str) -> float | None:
    """Kept sentences of ``field`` ("summary_en" / "summary_src") over kept + dropped."""
    kept = len(getattr(digest, f"{field}_sentences"))
    dropped = sum(1 for s in digest.provenance.dropped_sentences if s.field == field)
    if digest.support is None and not kept and not dropped:
        return None  # a digest from before cited summaries: nothing to count
    return ratio(kept, kept + dropped)
