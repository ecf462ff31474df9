"""People, organizations, locations and sources of a digest against the gold's.

Names are compared after :func:`~khabar.core.text.fold` with
:func:`rapidfuzz.fuzz.ratio` (:data:`FUZZY_THRESHOLD`), gold and predicted
entities paired one-to-one, greedily by similarity (:func:`greedy`).

Kinds: pairing happens within each kind first. A gold entity left unmatched in
its kind that a leftover prediction of *another* kind names (AFP filed under
organizations instead of sources) is a **kind error**: it stays a miss of its
own kind's recall, but the prediction is not also counted as an extra against
the other kind's precision, so one mistake costs once. The pooled
``entities_*`` metrics match across kinds; ``entity_kind_acc`` is the share of
pooled matches filed under the right kind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz import fuzz

from khabar.core.digest import Digest
from khabar.core.text import fold
from khabar.evals.gold import Gold
from khabar.evals.wording import loose_match

__all__ = [
    "ENTITY_FIELDS",
    "FUZZY_THRESHOLD",
    "EntityResult",
    "entity_name",
    "f1",
    "folded_names",
    "greedy",
    "leakage",
    "ratio",
    "same_value",
    "score_entities",
    "similarity",
]

FUZZY_THRESHOLD = 88
"""Minimum :func:`rapidfuzz.fuzz.ratio` (0-100, on folded names) for two names to match.

Folding already absorbs script variants, spacing and case, so what is left is
transliteration: "Volodimir Zelenskyy" vs "Volodymyr Zelenskyy" scores 88.9 and
"Zelenskiy" vs "Zelenskyy" 88.9, while distinct people who share a name
stay well below ("Jill Biden" / "Joe Biden" 70.6, "Joe Biden" / "Hunter Biden"
63.2). 88 accepts one or two letter swaps in a name of normal length and little
else; shorter forms ("Biden" for "Joe Biden", 76.9) must be listed as aliases.
"""

ENTITY_FIELDS = ("people", "organizations", "locations", "sources")


def folded_names(names: Iterable[str | None]) -> list[str]:
    """The distinct non-empty folded forms of ``names``."""
    keys = (fold(n) for n in names if n)
    return list(dict.fromkeys(k for k in keys if k))


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """The best :func:`fuzz.ratio` between any folded name of ``a`` and any of ``b``."""
    best = 0.0
    for x in a:
        for y in b:
            best = max(best, fuzz.ratio(x, y))
            if best >= 100:
                return best
    return best


def greedy(pairs: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """One-to-one pairing of (score, gold index, pred index), best score first."""
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, g, p in pairs:
        if g not in used_g and p not in used_p:
            used_g.add(g)
            used_p.add(p)
            out.append((g, p))
    return out


def ratio(num: float, den: int) -> float | None:
    """``num / den``, None over nothing."""
    return num / den if den else None


def f1(p: float | None, r: float | None) -> float | None:
    """F1 of a precision and a recall; 0 when only one side had anything."""
    if p is None and r is None:
        return None
    if p is None or r is None or p + r == 0:
        return 0.0
    return 2 * p * r / (p + r)


def entity_name(entity: Any) -> str:
    """A predicted entity as shown in details: "Joe Biden (جو بايدن)"."""
    en, src = entity.name_en, entity.name_src
    return en if not src or src == en else f"{en} ({src})"


def _pairs(
    gold_keys: Sequence[tuple[int, list[str]]], pred_keys: Sequence[tuple[int, list[str]]]
) -> list[tuple[float, int, int]]:
    return [
        (sim, gi, pi)
        for gi, gk in gold_keys
        for pi, pk in pred_keys
        if (sim := similarity(gk, pk)) >= FUZZY_THRESHOLD
    ]


class EntityResult:
    """Every entity metric, and what was missed, extra or filed under the wrong kind."""

    def __init__(self) -> None:
        self.metrics: dict[str, float | None] = {}
        self.missed: dict[str, list[str]] = {f: [] for f in ENTITY_FIELDS}
        self.extra: dict[str, list[str]] = {f: [] for f in ENTITY_FIELDS}
        self.wrong: dict[str, list[str]] = {f: [] for f in ENTITY_FIELDS}


def score_entities(gold: Gold, digest: Digest) -> EntityResult:
    """Per-kind P/R/F1, pooled ``entities_*``, ``entity_kind_acc`` and ``people_role``."""
    out = EntityResult()
    golds = {f: list(getattr(gold, f)) for f in ENTITY_FIELDS}
    preds = {f: list(getattr(digest, f)) for f in ENTITY_FIELDS}
    gkeys = {f: [folded_names(g.names()) for g in golds[f]] for f in ENTITY_FIELDS}
    pkeys = {f: [folded_names((p.name_en, p.name_src)) for p in preds[f]] for f in ENTITY_FIELDS}

    within: dict[str, list[tuple[int, int]]] = {}
    for f in ENTITY_FIELDS:
        within[f] = greedy(_pairs(list(enumerate(gkeys[f])), list(enumerate(pkeys[f]))))

    # Leftovers of every kind, as (kind, index): cross-kind pairs among them are kind errors.
    left_g = [(f, i) for f in ENTITY_FIELDS for i in range(len(golds[f])) if i not in _g(within[f])]
    left_p = [(f, i) for f in ENTITY_FIELDS for i in range(len(preds[f])) if i not in _p(within[f])]
    cross_candidates = [
        (sim, gi, pi)
        for gi, (gf, g) in enumerate(left_g)
        for pi, (pf, p) in enumerate(left_p)
        if gf != pf and (sim := similarity(gkeys[gf][g], pkeys[pf][p])) >= FUZZY_THRESHOLD
    ]
    cross = [(left_g[g], left_p[p]) for g, p in greedy(cross_candidates)]
    misfiled = {p for _, p in cross}

    n_within = 0
    for f in ENTITY_FIELDS:
        hit_g, hit_p = _g(within[f]), _p(within[f])
        n = len(within[f])
        n_within += n
        # A prediction filed under the wrong kind is a kind error of the gold's kind, not an extra.
        n_pred = len(preds[f]) - sum(1 for pf, _ in misfiled if pf == f)
        p_, r_ = ratio(n, n_pred), ratio(n, len(golds[f]))
        out.metrics.update({f"{f}_p": p_, f"{f}_r": r_, f"{f}_f1": f1(p_, r_)})
        out.missed[f] = [g.name_en for i, g in enumerate(golds[f]) if i not in hit_g]
        out.extra[f] = [
            entity_name(p)
            for i, p in enumerate(preds[f])
            if i not in hit_p and (f, i) not in misfiled
        ]
    for (gf, g), (pf, p) in cross:
        out.wrong[gf].append(
            f"{golds[gf][g].name_en}: filed under {pf} as {entity_name(preds[pf][p])}"
        )
        out.missed[gf].remove(golds[gf][g].name_en)  # said once, as a kind error

    n_gold = sum(len(v) for v in golds.values())
    n_pred = sum(len(v) for v in preds.values())
    pooled = n_within + len(cross)
    p_, r_ = ratio(pooled, n_pred), ratio(pooled, n_gold)
    out.metrics.update({"entities_p": p_, "entities_r": r_, "entities_f1": f1(p_, r_)})
    out.metrics["entity_kind_acc"] = ratio(n_within, pooled)

    # Roles, loosely, for the people matched in their kind whose gold role is given.
    roles = [
        score
        for g, p in within["people"]
        if (score := loose_match(golds["people"][g].role, preds["people"][p].role)) is not None
    ]
    out.metrics["people_role"] = ratio(sum(roles), len(roles))
    for g, p in within["people"]:
        want, got = golds["people"][g].role, preds["people"][p].role
        score = loose_match(want, got)
        if score is not None and score < 0.5:
            out.wrong["people"].append(
                f"{golds['people'][g].name_en}: role {got!r}, expected {want!r}"
            )
    return out


def _g(pairs: list[tuple[int, int]]) -> set[int]:
    return {g for g, _ in pairs}


def _p(pairs: list[tuple[int, int]]) -> set[int]:
    return {p for _, p in pairs}


def same_value(a: float, b: float) -> bool:
    """Numbers equal to a relative 1e-6 (2.4e9 written as 2400000000.0001 is the same)."""
    return math.isclose(a, b, rel_tol=1e-6)


def leakage(gold: Gold, digest: Digest) -> tuple[float | None, list[str]]:
    """The share of predicted entities and numbers that come only from outside the main story.

    Names are compared across kinds on purpose: a model that files LCI under
    sources instead of organizations has still leaked it. None when the digest
    has no entity and no number (nothing could leak).
    """
    leak_names = folded_names(
        [*gold.leak.people, *gold.leak.organizations, *gold.leak.locations, *gold.leak.sources]
    )
    main = [folded_names(e.names()) for f in ENTITY_FIELDS for e in getattr(gold, f)]
    leaked: list[str] = []
    total = 0
    for f in ENTITY_FIELDS:
        for entity in getattr(digest, f):
            total += 1
            keys = folded_names((entity.name_en, entity.name_src))
            if not leak_names or similarity(keys, leak_names) < FUZZY_THRESHOLD:
                continue
            if any(similarity(keys, m) >= FUZZY_THRESHOLD for m in main):
                continue  # named in the main story too: a main-story entity
            leaked.append(f"{f}: {entity_name(entity)}")
    for number in digest.numbers:
        total += 1
        if any(same_value(number.value, v) for v in gold.leak.numbers) and not any(
            same_value(number.value, g.value) for g in gold.numbers
        ):
            leaked.append(f"numbers: {number.value:g}")
    return ratio(len(leaked), total), leaked
