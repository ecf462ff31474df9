"""Money, not just tokens: a price table, cost estimates, and a token count before any call.

Pure: no khabar import but errors, no network. Three things live here:

* :class:`Price` and :class:`PriceTable`: per model, US dollars per million
  prompt and completion tokens, and the discount a provider's batch API gives.
  :data:`EXAMPLE_PRICES` are **examples** (OpenAI's public list prices as of
  2025, copied by hand), not a quote: prices change and Azure deployments have
  names of their own. Give your own table with ``KHABAR_PRICES`` (a TOML file,
  or inline JSON); :func:`load_prices` reads it.
* :func:`estimate_cost`: tokens -> dollars, or None when the model has no price
  (an unknown model is never guessed at).
* :func:`approx_tokens`: a rough token count when the model's tokenizer is not
  at hand (characters / 3 for Arabic script, / 4 for everything else). It is an
  approximation and callers say so (:data:`APPROX_METHOD`); the embedded model
  counts with its own tokenizer instead.

A TOML price file::

    currency = "USD"               # informational; every figure is in this currency

    [models."gpt-4o-mini"]
    prompt = 0.15                  # per million prompt tokens
    completion = 0.60              # per million completion tokens
    batch_discount = 0.5           # the batch API costs (1 - 0.5) of the list price

The same as JSON: ``{"models": {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}}``.
A model name matches its entry exactly, or as a dated snapshot of it
(``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``; the longest entry wins).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khabar.errors import ConfigError

__all__ = [
    "APPROX_METHOD",
    "EXAMPLE_PRICES",
    "CostSummary",
    "Price",
    "PriceTable",
    "approx_tokens",
    "cost_of_records",
    "estimate_cost",
    "format_cost",
    "load_prices",
    "parse_prices",
]


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens for one model, and its batch-API discount (0.5: half price)."""

    prompt: float
    completion: float
    batch_discount: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int, *, batch: bool = False) -> float:
        full = (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000
        return full * (1.0 - self.batch_discount) if batch else full


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name; ``source`` says where they came from (for the reader of a total)."""

    models: Mapping[str, Price]
    currency: str = "USD"
    source: str = "examples"

    def price(self, model: str | None) -> Price | None:
        """The price of ``model``: its own entry, else the longest entry it is a dated snapshot of."""
        if not model:
            return None
        if model in self.models:
            return self.models[model]
        # "gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"; never "gpt-4o" for "gpt-4o-mini".
        best: str | None = None
        for name in self.models:
            snapshot = model.startswith(name + "-") and _SNAPSHOT.fullmatch(model[len(name) + 1 :])
            if snapshot and (best is None or len(name) > len(best)):
                best = name
        return self.models[best] if best is not None else None


# A date-like or version-like suffix: 2024-07-18, 0125, 1106-preview.
_SNAPSHOT = re.compile(r"\d{4}(?:-\d{2}-\d{2})?(?:-preview)?")

# Examples, not claims: OpenAI's published list prices (USD per million tokens) as of 2025,
# with its 50 % batch discount. Check the provider's page and set KHABAR_PRICES for real budgets.
EXAMPLE_PRICES = PriceTable(
    models={
        "gpt-4o-mini": Price(prompt=0.15, completion=0.60, batch_discount=0.5),
        "gpt-4o": Price(prompt=2.50, completion=10.00, batch_discount=0.5),
        "gpt-4.1": Price(prompt=2.00, completion=8.00, batch_discount=0.5),
        "gpt-4.1-mini": Price(prompt=0.40, completion=1.60, batch_discount=0.5),
        "gpt-4.1-nano": Price(prompt=0.10, completion=0.40, batch_discount=0.5),
    },
    source="examples (OpenAI list prices as of 2025; set KHABAR_PRICES for your own)",
)


def estimate_cost(
    prompt_tokens: int | None,
    completion_tokens: int | None,
    model: str | None,
    prices: PriceTable | None = None,
    *,
    batch: bool = False,
) -> float | None:
    """The cost in ``prices.currency`` of these tokens on ``model``; None when it has no price.

    Example::

        >>> estimate_cost(1_000_000, 100_000, "gpt-4o-mini")
        0.21
        >>> estimate_cost(1_000_000, 100_000, "gpt-4o-mini", batch=True)
        0.105
        >>> estimate_cost(1000, 100, "my-azure-deployment") is None
        True
    """
    price = (prices or EXAMPLE_PRICES).price(model)
    if price is None:
        return None
    return round(price.cost(prompt_tokens or 0, completion_tokens or 0, batch=batch), 6)


def format_cost(value: float | None, currency: str = "USD") -> str:
    """``$0.0123`` (four significant places below a cent), or ``n/a`` when unpriced."""
    if value is None:
        return "n/a"
    sign = "$" if currency == "USD" else f"{currency} "
    if value == 0:
        return f"{sign}0"
    if value < 0.01:
        return f"{sign}{value:.4f}"
    return f"{sign}{value:,.2f}"


@dataclass
class CostSummary:
    """What a set of records cost: the priced total and the models that have no price."""

    total: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unpriced: dict[str, int] = field(default_factory=dict)  # model -> tokens not priced

    @property
    def complete(self) -> bool:
        return not self.unpriced


def cost_of_records(
    records: Iterable[Mapping[str, Any]],
    prices: PriceTable | None = None,
    *,
    batch: bool = False,
) -> CostSummary:
    """The estimated cost of khabar JSONL records (the latest per id), at list or batch prices.

    Counts the calls the Markdown report counts: every record's provenance
    (a digest's, or the rejected draft's of an ``unsupported`` error, which
    was paid for too), except cache hits and duplicates (which repeat their
    first article's provenance); the embedded model costs nothing. Other
    error records carry no token counts: the total is then a lower bound.
    """
    summary = CostSummary()
    for record in records:
        if record.get("duplicate_of"):
            continue
        holder = record.get("digest") if record.get("status") == "ok" else record.get("draft")
        prov = holder.get("provenance") if isinstance(holder, Mapping) else None
        if not isinstance(prov, Mapping) or prov.get("cache_hit"):
            continue
        p, c = int(prov.get("prompt_tokens") or 0), int(prov.get("completion_tokens") or 0)
        summary.prompt_tokens += p
        summary.completion_tokens += c
        if prov.get("provider") == "local":
            continue
        model = str(prov.get("model") or "?")
        cost = estimate_cost(p, c, model, prices, batch=batch)
        if cost is None:
            summary.unpriced[model] = summary.unpriced.get(model, 0) + p + c
        else:
            summary.total += cost
    summary.total = round(summary.total, 6)
    return summary


# --- the price table as a setting ----------------------------------------------------


def parse_prices(text: str, *, source: str = "KHABAR_PRICES") -> PriceTable:
    """A :class:`PriceTable` from TOML or JSON text (see the module docstring for the shape).

    Raises :class:`~khabar.errors.ConfigError` naming ``source`` and the entry at fault.
    """
    data: Any
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{source} is not valid JSON: {exc}") from exc
    else:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise ConfigError(
                f"{source}: reading a TOML price table needs Python 3.11; give it as JSON"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict) or not models:
        raise ConfigError(
            f"{source} has no [models.NAME] tables",
            hint='Give one per model: [models."gpt-4o-mini"] prompt = 0.15  completion = 0.60',
        )
    table: dict[str, Price] = {}
    for name, entry in models.items():
        table[str(name)] = _price(entry, f"{source}: models.{name}")
    return PriceTable(models=table, currency=str(data.get("currency") or "USD"), source=source)


def _price(entry: Any, where: str) -> Price:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table with prompt and completion prices")
    values: dict[str, float] = {}
    for key, default in (("prompt", None), ("completion", None), ("batch_discount", 0.0)):
        raw = entry.get(key, default)
        if raw is None:
            raise ConfigError(f"{where} has no {key} price (dollars per million tokens)")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise ConfigError(f"{where}.{key} must be a number, not {raw!r}")
        if raw < 0 or (key == "batch_discount" and raw >= 1):
            raise ConfigError(
                f"{where}.{key} is {raw}: prices are 0 or more, a discount below 1 (0.5: half)"
            )
        values[key] = float(raw)
    return Price(**values)


def load_prices(setting: str | Path | None) -> PriceTable:
    """The price table ``KHABAR_PRICES`` names: a TOML/JSON file, inline JSON, or None (examples)."""
    if setting is None or str(setting).strip() == "":
        return EXAMPLE_PRICES
    text = str(setting)
    if text.lstrip().startswith("{"):
        return parse_prices(text, source="KHABAR_PRICES")
    path = Path(text).expanduser()
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the price table {path} (KHABAR_PRICES): {exc.strerror or exc}",
            hint="Point KHABAR_PRICES at a TOML file, or unset it for the example prices.",
        ) from exc
    return parse_prices(content, source=str(path))


# --- tokens before any call ------------------------------------------------------------

_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")

APPROX_METHOD = (
    "approximate: characters / 3 for Arabic script, / 4 otherwise (not the model's tokenizer)"
)
"""How :func:`approx_tokens` counts, in the words a report prints next to its numbers."""


def approx_tokens(text: str) -> int:
    """A rough token count: Arabic-script characters / 3, other characters / 4, rounded up.

    Byte-pair tokenizers trained mostly on English split Arabic and Persian into
    shorter pieces than English, hence the two rates. It is an estimate for
    budgeting, never a measurement: say :data:`APPROX_METHOD` next to it.

    Example::

        >>> approx_tokens("abcd" * 3), approx_tokens("خبر" * 3)
        (3, 3)
    """
    arabic = len(_ARABIC_SCRIPT.findall(text))
    return math.ceil(arabic / 3 + (len(text) - arabic) / 4)
