"""The Digest and its fact sheet.

Two layers share these classes:

* :class:`DigestDraft` is what the model is asked to fill (its JSON Schema is
  the tool / response schema). Code-owned fields (``span``, ``calendar``,
  ``iso``...) are hidden from that schema with ``SkipJsonSchema``: the model
  never gets to claim them.
* :class:`Digest` is what khabar returns: the draft's facts after grounding,
  plus the detected language and the :class:`Provenance` of the call.

The classes only describe shapes: checking a draft against its article is
the pipeline's verification stage (:func:`khabar.core.grounding.verify`), not a
validator hidden here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

__all__ = [
    "SCHEMA_VERSION",
    "CitedSentence",
    "DateFact",
    "Digest",
    "DigestDraft",
    "DroppedFact",
    "DroppedSentence",
    "NumberFact",
    "Organization",
    "Person",
    "Place",
    "Provenance",
    "Quote",
    "Source",
    "StrippedBlock",
    "Support",
    "schema_hash",
]

Span = tuple[int, int]

FACT_FIELDS = ("people", "organizations", "locations", "dates", "numbers", "quotes", "sources")
SUMMARY_FIELDS = ("summary_en", "summary_src")
TITLE_FIELDS = ("title_en", "title_src")


class CitedSentence(BaseModel):
    """One summary sentence and the verbatim excerpts of the article that support it."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(description="One sentence of the summary.")
    cites: list[str] = Field(
        default_factory=list,
        description="Verbatim excerpts of the article, in its language, that state what the sentence says.",
    )
    spans: SkipJsonSchema[list[Span]] = Field(
        default_factory=list,
        description="Offsets [start, end) of each citation in the cleaned article; set by code.",
    )


def _sentences(value: Any) -> Any:
    # A plain string (an older answer, a model that ignored the schema) is one sentence
    # with no citation: it stays parseable, and verification drops it with a reason.
    if isinstance(value, str):
        return [{"text": value, "cites": []}] if value.strip() else []
    return value


CitedSentences = Annotated[list[CitedSentence], BeforeValidator(_sentences)]


def joined(sentences: list[CitedSentence]) -> str:
    """The sentences as one paragraph (what ``Digest.summary_en`` / ``summary_src`` hold)."""
    return " ".join(s.text.strip() for s in sentences if s.text.strip())


class _Fact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    evidence: str = Field(
        description="A verbatim excerpt of the article (a clause or sentence, copied "
        "character for character, in the article's language) that states this fact."
    )
    span: SkipJsonSchema[Span | None] = Field(
        default=None,
        description="Character offsets [start, end) of the evidence in the cleaned article; set by code.",
    )


class Person(_Fact):
    """A person named in the article."""

    name_en: str = Field(description="The person's name in English (Latin script).")
    name_src: str = Field(description="The name exactly as written in the article.")
    role: str | None = Field(
        default=None, description="Their role or title as the article gives it, in English."
    )


class Organization(_Fact):
    """An organization, institution, party, company or government body."""

    name_en: str = Field(description="The organization's name in English.")
    name_src: str = Field(description="The name exactly as written in the article.")


class Place(_Fact):
    """A location: country, city, region..."""

    name_en: str = Field(description="The place's name in English.")
    name_src: str = Field(description="The name exactly as written in the article.")
    kind: Literal["country", "city", "region", "continent", "facility", "other"] = Field(
        default="other", description="What kind of place this is."
    )


class DateFact(_Fact):
    """A date or day mentioned in the article.

    The model copies the date as written; khabar parses it, works out the
    calendar and converts Solar/Lunar Hijri dates to Gregorian in code.
    """

    text: str = Field(
        description="The date expression exactly as written in the article, e.g. 'هفتم تیر' or '27 يناير'."
    )
    refers_to: str = Field(description="What happened on this date, in English.")
    calendar: SkipJsonSchema[Literal["gregorian", "solar_hijri", "lunar_hijri"] | None] = None
    year: SkipJsonSchema[int | None] = None
    month: SkipJsonSchema[int | None] = None
    day: SkipJsonSchema[int | None] = None
    iso: SkipJsonSchema[str | None] = Field(
        default=None,
        description="Gregorian ISO 8601, reduced precision allowed: '2024-06-27', '2024-06', "
        "'2024', or '--01-27' when the year is not in the text. None when not determinable.",
    )


class NumberFact(_Fact):
    """A quantity: money, casualties, counts, percentages."""

    value: float = Field(description="The number as a plain value: '2.4 مليار' is 2400000000.")
    unit: str | None = Field(
        default=None,
        description="ISO 4217 currency code (USD, EUR, IRR...) or a unit in English "
        "('percent', 'km', 'people'); null when it is a bare count.",
    )
    counts: str = Field(description="What the number counts, in English.")


class Quote(_Fact):
    """A direct quotation."""

    speaker_en: str = Field(
        description="Who the article says spoke, in English (as the article attributes it)."
    )
    text_src: str = Field(
        description="The quotation verbatim, in the article's language, without quotation marks."
    )
    text_en: str = Field(description="An English translation of the quotation.")


class Source(_Fact):
    """A news agency or outlet the article cites (AFP, Reuters, an X post...)."""

    name_en: str = Field(description="The outlet's name in English, e.g. 'AFP', 'Reuters'.")
    name_src: str = Field(description="The name exactly as written in the article.")


class DigestDraft(BaseModel):
    """What the model fills in: titles, summaries and the fact sheet."""

    model_config = ConfigDict(extra="ignore")

    title_en: str = Field(description="A headline for the main story, in English.")
    title_src: str = Field(description="The same headline in the article's language.")
    summary_en: CitedSentences = Field(
        description="3 to 5 sentences in English on the main story only, each citing the article."
    )
    summary_src: CitedSentences = Field(
        description="The same summary in the article's language, each sentence citing the article."
    )
    people: list[Person] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    locations: list[Place] = Field(default_factory=list)
    dates: list[DateFact] = Field(default_factory=list)
    numbers: list[NumberFact] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)

    def facts(self) -> dict[str, list[_Fact]]:
        """The fact lists by field name."""
        return {name: list(getattr(self, name)) for name in FACT_FIELDS}


class StrippedBlock(BaseModel):
    """A part of the page removed before summarizing (boilerplate or another story)."""

    kind: str = Field(
        description="read_also, related, source_line, donation, keywords, promo, more_link, "
        "disclaimer, hashtags, markup, end_marker, separator, appended_story..."
    )
    text: str
    at: int | None = Field(
        default=None,
        description="Offset in the cleaned article (Digest.text) where the block stood.",
    )


class DroppedFact(BaseModel):
    """A fact the model gave that failed verification and was left out of the digest."""

    field: str
    fact: dict[str, Any]
    reason: str


class DroppedSentence(BaseModel):
    """A summary sentence (or a title) that failed verification and was left out."""

    field: str = Field(description="summary_en, summary_src, title_en or title_src.")
    index: int = 0
    text: str
    cites: list[str] = Field(default_factory=list)
    reason: str


class Support(BaseModel):
    """How much of a digest the article supports, as verified in code.

    ``status`` is ``verified`` when nothing was dropped, ``unsupported`` when no
    summary sentence and no fact held, ``partial`` otherwise.
    """

    status: Literal["verified", "partial", "unsupported"]
    facts_kept: int = 0
    facts_dropped: int = 0
    sentences_kept: int = 0
    sentences_dropped: int = 0
    titles_dropped: int = 0

    @property
    def sentence_share(self) -> float:
        """Kept sentences over all sentences given (1.0 when none were given)."""
        total = self.sentences_kept + self.sentences_dropped
        return self.sentences_kept / total if total else 1.0


class Provenance(BaseModel):
    """How a digest was made: model, prompt and schema versions, cost and what was checked."""

    model: str
    provider: str
    endpoint: str | None = None
    mode: str
    prompt_version: str
    schema_version: str
    khabar_version: str
    cache_hit: bool = False
    attempts: int = 1
    reasks: int = 0
    # What re-asks cost and won: tokens beyond the first call, and the change in kept
    # facts and sentences from the first answer to the last (negative when they lost).
    reask_prompt_tokens: int = 0
    reask_completion_tokens: int = 0
    reask_gain_facts: int = 0
    reask_gain_sentences: int = 0
    transport_retries: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    facts_verified: int = 0
    unverified_dropped: int = 0
    dropped: list[DroppedFact] = Field(default_factory=list)
    dropped_sentences: list[DroppedSentence] = Field(default_factory=list)
    stripped: list[StrippedBlock] = Field(default_factory=list)
    truncated: bool = False
    plumbing: bool = False
    warnings: list[str] = Field(default_factory=list)


class Digest(BaseModel):
    """A grounded bilingual digest of one article.

    Every fact in it has evidence that khabar located in the article
    (``fact.span`` gives the offsets in the cleaned article), and every
    sentence of the summaries cites excerpts that khabar located and checked
    (``summary_en_sentences``; ``summary_en`` is the same sentences joined).
    A title that failed its checks is None. ``support`` says how much held.

    Example::

        >>> digest = khabar.summarize(article_text)          # doctest: +SKIP
        >>> digest.summary_en, digest.people[0].name_en      # doctest: +SKIP
    """

    model_config = ConfigDict(extra="ignore")

    article_id: str | None = None
    language: str = Field(description="ISO 639-1 code of the article, detected in code.")
    title_en: str | None
    title_src: str | None
    summary_en: str
    summary_src: str
    summary_en_sentences: list[CitedSentence] = Field(default_factory=list)
    summary_src_sentences: list[CitedSentence] = Field(default_factory=list)
    support: Support | None = None
    text: str | None = Field(
        default=None,
        description="The cleaned article every span indexes (None when KHABAR_RECORD_TEXT is off).",
    )
    people: list[Person] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    locations: list[Place] = Field(default_factory=list)
    dates: list[DateFact] = Field(default_factory=list)
    numbers: list[NumberFact] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    provenance: Provenance

    def facts(self) -> dict[str, list[_Fact]]:
        """The fact lists by field name."""
        return {name: list(getattr(self, name)) for name in FACT_FIELDS}


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def schema_hash() -> str:
    """Content hash of the model-facing schema; changes whenever the draft schema does."""
    return hashlib.sha256(_canonical(DigestDraft.model_json_schema()).encode()).hexdigest()[:12]


SCHEMA_VERSION = schema_hash()
