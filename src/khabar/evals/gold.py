"""Gold annotations: what a digest of each eval article should contain (``evals/gold/*.yaml``).

The format is described in ``evals/README.md``; :func:`load_gold` reads one
file, :func:`load_gold_dir` a directory of them. Gold is written by hand, so
the models reject unknown keys and malformed values with a message naming the
file and the field. :mod:`khabar.evals.metrics` scores a digest against a
:class:`Gold`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from khabar.errors import ConfigError

__all__ = [
    "Gold",
    "GoldDate",
    "GoldEntity",
    "GoldNumber",
    "GoldQuote",
    "KeyFact",
    "Leak",
    "NonMain",
    "describe_validation",
    "load_gold",
    "load_gold_dir",
]


class _GoldModel(BaseModel):
    # Gold is written by hand: a misspelt key must fail loudly, not vanish.
    model_config = ConfigDict(extra="forbid")


def _keyword(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class KeyFact(_GoldModel):
    """A statement a good English summary must cover, with the keywords that show it does."""

    text: str
    keywords: list[list[str]]

    @field_validator("keywords", mode="before")
    @classmethod
    def _bare_strings_are_groups(cls, value: Any) -> Any:
        # `[[Biden], [phone, call]]` and `[Biden, [phone, call]]` mean the same thing,
        # and YAML reads the keyword in `[[61], [billion]]` as an int.
        if not isinstance(value, list):
            return value
        groups = [item if isinstance(item, list) else [item] for item in value]
        return [[_keyword(alt) for alt in group] for group in groups]

    @field_validator("keywords")
    @classmethod
    def _no_empty_groups(cls, value: list[list[str]]) -> list[list[str]]:
        # An empty list would make the fact always (or never) covered: surely a typo.
        if not value:
            raise ValueError("a key fact needs at least one keyword group")
        for group in value:
            if not group or not all(alt.strip() for alt in group):
                raise ValueError("keyword groups and their alternatives must not be empty")
        return value


class GoldEntity(_GoldModel):
    """A person, organization, location or source of the main story."""

    name_en: str
    aliases: list[str] = Field(default_factory=list)
    role: str | None = None
    kind: str | None = None

    def names(self) -> list[str]:
        """Every accepted spelling: ``name_en`` then the aliases."""
        return [self.name_en, *self.aliases]


class GoldNumber(_GoldModel):
    """A quantity of the main story."""

    value: float
    unit: str | None = None
    counts: str = ""
    text: str = ""


_ISO = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|--\d{2}(-\d{2})?)$")


class GoldDate(_GoldModel):
    """A date of the main story, as written, with its Gregorian ISO form (or None)."""

    text: str
    iso: str | None = None
    refers_to: str = ""

    @field_validator("iso", mode="before")
    @classmethod
    def _yaml_dates_are_strings(cls, value: Any) -> Any:
        # YAML reads an unquoted 2024-06-27 as a date and 2024 as an int.
        if isinstance(value, _dt.date):
            return value.isoformat()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("iso")
    @classmethod
    def _iso_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ISO.match(value):
            raise ValueError(f"{value!r} is not YYYY, YYYY-MM, YYYY-MM-DD, --MM-DD or --MM")
        return value


class GoldQuote(_GoldModel):
    """A direct quotation of the main story."""

    speaker_en: str
    speaker_aliases: list[str] = Field(default_factory=list)
    text_src: str


class NonMain(_GoldModel):
    """A block of the page that is not the main story."""

    kind: str
    starts_with: str


class Leak(_GoldModel):
    """Facts found only outside the main story: a digest that reports them leaked."""

    people: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    numbers: list[float] = Field(default_factory=list)


class Gold(_GoldModel):
    """The gold annotation of one article (the format is described in ``evals/README.md``)."""

    article: str
    language: str = Field(pattern=r"^[a-z]{2}$")
    summary_en: str
    summary_src: str
    key_facts: list[KeyFact] = Field(default_factory=list)
    people: list[GoldEntity] = Field(default_factory=list)
    organizations: list[GoldEntity] = Field(default_factory=list)
    locations: list[GoldEntity] = Field(default_factory=list)
    sources: list[GoldEntity] = Field(default_factory=list)
    numbers: list[GoldNumber] = Field(default_factory=list)
    dates: list[GoldDate] = Field(default_factory=list)
    quotes: list[GoldQuote] = Field(default_factory=list)
    not_main_story: list[NonMain] = Field(default_factory=list)
    leak: Leak = Field(default_factory=Leak)


def describe_validation(exc: ValidationError) -> str:
    """A pydantic error as one line, ``field.path: message; ...``, for a ConfigError."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_gold(path: Path) -> Gold:
    """Read one gold file (YAML or JSON).

    Raises :class:`~khabar.errors.ConfigError` naming the file and what is wrong
    with it (unreadable, not YAML, an unknown or missing key, a bad value).

    Example::

        >>> gold = load_gold(Path("evals/gold/001_c7d2eb9492ec713f.yaml"))  # doctest: +SKIP
        >>> gold.people[0].name_en                                          # doctest: +SKIP
        'Volodymyr Zelensky'
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"gold file {path}: cannot be read: {exc}") from None
    try:
        # JSON is YAML, but json gives better messages for JSON files.
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"gold file {path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"gold file {path}: expected a mapping of fields, got {type(data).__name__}"
        )
    try:
        gold = Gold.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"gold file {path}: {describe_validation(exc)}") from None
    # A gold file copied from another article and not fully edited is easy to miss.
    if Path(gold.article).stem != path.stem:
        raise ConfigError(
            f"gold file {path}: says it annotates {gold.article!r}, but gold files are "
            f"named after their article ({path.stem}.txt)"
        )
    return gold


def load_gold_dir(directory: Path) -> dict[str, Gold]:
    """Read every ``*.yaml``, ``*.yml`` and ``*.json`` gold file of ``directory``, by file stem.

    Example::

        >>> golds = load_gold_dir(Path("evals/gold"))   # doctest: +SKIP
        >>> sorted(golds)[:1]                           # doctest: +SKIP
        ['000_de612b54d8028aa2']
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"gold directory {directory} does not exist")
    golds: dict[str, Gold] = {}
    where: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        if path.stem in golds:
            raise ConfigError(f"two gold files for {path.stem}: {where[path.stem]} and {path}")
        golds[path.stem] = load_gold(path)
        where[path.stem] = path
    return golds
