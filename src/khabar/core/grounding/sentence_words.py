"""Word lists for the sentence checks: common capitalized English words, source-language negation."""

from __future__ import annotations

__all__ = ["COMMON_CAPITALIZED", "SOURCE_NEGATIONS"]

# Capitalized words that are not names of anyone: sentence starters, calendar words,
# titles and roles, and the generic words of institutions' names. Lower case.
COMMON_CAPITALIZED = frozenset(
    """
    a about according affairs after against agency air all also among an and another any
    army as assembly at ayatollah bank before between both but by central chief col
    commander committee company corps council court crown defence defense deputy dr
    during each early east eastern economy emir federal finance first for force forces
    foreign former friday from gen general government great guard guards he head her
    here his however i if imam in interior international islamic it its justice king
    kingdom last late leader lt many meanwhile middle minister ministry monday more most
    mr mrs ms national navy new news next no north northern not office on or other our
    over parliament party police president prime prince princess public queen republic
    saturday second secretary several sgt she sheikh since so some south southern state
    states sultan sunday supreme that the their there these they third this those
    thursday tuesday under union united university until vice we wednesday west western
    what when where which while who with yet
    """.split()  # noqa: SIM905 (a word list reads better as text than as 150 quoted items)
)

# Negation particles and negated verbs (Arabic, Persian) as written; folded by the user.
SOURCE_NEGATIONS = tuple(
    """
    لا لم لن ليس ليست ليسوا لست ما غير بدون دون عدم ولا ولم ولن وليس نه نمی نمی\u200c
    نیست نیستند نبود نبودند نکرد نکردند نشد نشده ندارد ندارند نداشت نخواهد نخواهند هیچ
    بی\u200cآنکه
    """.split()  # noqa: SIM905
)
