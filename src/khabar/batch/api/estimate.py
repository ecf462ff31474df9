"""Tokens and money before any call: ``khabar summarize --dry-run`` and ``khabar batch prepare``.

Each article goes through the real preparation (clean, language, cache
lookup, fit, prompt, and instructor's request body with its tool schema), so
the prompt counted is the prompt that would be sent; then nothing is sent.
Prompt tokens are counted with the model's tokenizer when khabar has it (the
embedded model's ``count_tokens``) and approximated otherwise
(:data:`khabar.core.cost.APPROX_METHOD`); the result always says which.
Completion tokens cannot be counted before the model writes them: the
estimate assumes ``completion_tokens`` per request (an assumption, printed as
one) and gives a ceiling where every answer runs to ``max_tokens`` and every
re-ask is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from khabar.core.cost import APPROX_METHOD, PriceTable, approx_tokens, estimate_cost, format_cost
from khabar.core.digest import Digest
from khabar.errors import KhabarError

from .requests import request_body

if TYPE_CHECKING:
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

__all__ = ["ASSUMED_COMPLETION_TOKENS", "Estimate", "estimate_paths", "prompt_tokens"]

ASSUMED_COMPLETION_TOKENS = 1000
"""Completion tokens assumed per request when estimating: a digest with cited sentences and a
fact sheet. An assumption, not a measurement: the real figure is in each digest's provenance."""


@dataclass
class Estimate:
    """What a run would send, and what it would cost at ``prices`` (None: unpriced model)."""

    model: str
    provider: str
    method: str
    articles: int = 0
    skipped: int = 0  # done in the output already
    from_cache: int = 0
    input_errors: int = 0
    remembered: int = 0  # deterministic failures remembered in the cache: not sent again
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0  # requests x the assumption
    ceiling_prompt_tokens: int = 0
    ceiling_completion_tokens: int = 0
    completion_assumed: int = ASSUMED_COMPLETION_TOKENS
    batch: bool = False
    cost: float | None = None
    ceiling_cost: float | None = None
    currency: str = "USD"
    price_source: str = ""
    notes: list[str] = field(default_factory=list)

    def price(self, prices: PriceTable) -> None:
        free = self.provider == "local"
        self.currency = prices.currency
        self.price_source = "the embedded model costs nothing" if free else prices.source
        if free:
            self.cost = self.ceiling_cost = 0.0
            return
        self.cost = estimate_cost(
            self.prompt_tokens, self.completion_tokens, self.model, prices, batch=self.batch
        )
        self.ceiling_cost = estimate_cost(
            self.ceiling_prompt_tokens,
            self.ceiling_completion_tokens,
            self.model,
            prices,
            batch=self.batch,
        )

    def lines(self) -> list[str]:
        """The estimate for people, one fact per line (what ``--dry-run`` prints)."""
        price = "batch API prices" if self.batch else "list prices"
        out = [
            f"model: {self.model} via {self.provider}",
            f"articles: {self.articles} ({self.requests} requests to send, {self.from_cache} "
            f"from the cache, {self.skipped} already done, {self.input_errors} unreadable, "
            f"{self.remembered} remembered failures)",
            f"prompt tokens: {self.prompt_tokens:,} ({self.method})",
            f"completion tokens: {self.completion_tokens:,} (assumed {self.completion_assumed:,} "
            "per request; not knowable before the model answers)",
            f"estimated cost: {format_cost(self.cost, self.currency)} at {price}"
            f" ({self.price_source})",
            f"ceiling: {self.ceiling_prompt_tokens:,} + {self.ceiling_completion_tokens:,} tokens, "
            f"{format_cost(self.ceiling_cost, self.currency)} (every answer at max_tokens, every "
            "re-ask used)",
        ]
        if self.cost is None and self.provider != "local":
            out.append(
                f"no price for {self.model}: add it to the price table (KHABAR_PRICES) "
                "to see a cost"
            )
        return out + self.notes


def prompt_tokens(body: Mapping[str, Any], count: Callable[[str], int | None] | None) -> int:
    """Tokens of a request body's prompt: message contents plus the tool or schema definition."""
    texts = [str(m.get("content") or "") for m in body.get("messages", [])]
    schema = body.get("tools") or body.get("response_format")
    if schema:
        texts.append(json.dumps(schema, ensure_ascii=False))
    total = 0
    for text in texts:
        counted = count(text) if count is not None else None
        total += counted if counted is not None else approx_tokens(text)
    # Chat formatting adds a few tokens per message (role markers): counted as 4.
    return total + 4 * len(body.get("messages", []))


class Counter:
    """Adds up one run's requests for an :class:`Estimate`."""

    def __init__(
        self, summarizer: Summarizer, *, count: Callable[[str], int | None] | None
    ) -> None:
        self.summarizer = summarizer
        self.count = count
        s = summarizer.settings
        self.max_tokens = summarizer.effective_max_tokens()
        self.reasks = summarizer.effective_max_reasks()
        self.kwargs = {
            "model": summarizer.plan.model,
            "mode": summarizer.plan.mode,
            "max_tokens": self.max_tokens,
            "temperature": s.temperature,
            "seed": s.seed,
        }

    def body(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return request_body(messages, **self.kwargs)  # type: ignore[arg-type]

    def add(self, estimate: Estimate, body: Mapping[str, Any]) -> int:
        tokens = prompt_tokens(body, self.count)
        estimate.requests += 1
        estimate.prompt_tokens += tokens
        estimate.completion_tokens += min(estimate.completion_assumed, self.max_tokens)
        r = self.reasks
        # Each re-ask resends the conversation, which grows by one answer each time.
        estimate.ceiling_prompt_tokens += tokens * (1 + r) + self.max_tokens * r * (r + 1) // 2
        estimate.ceiling_completion_tokens += self.max_tokens * (1 + r)
        return tokens


def estimate_paths(
    paths: Sequence[str | Path],
    settings: Settings | None = None,
    *,
    output: str | Path | None = None,
    batch: bool = False,
    limit: int | None = None,
    text_field: str = "text",
    id_field: str = "id",
    completion_tokens: int = ASSUMED_COMPLETION_TOKENS,
    prices: PriceTable | None = None,
) -> Estimate:
    """Estimate tokens and cost of summarizing ``paths`` before any model call.

    ``output``: an existing JSONL output; articles done in it are not counted
    (what a resumed run would skip). ``batch``: price at the batch API's
    discount. For the embedded model the prompt is counted with its own
    tokenizer (the model is loaded; nothing is generated). ``prices``
    defaults to the table ``KHABAR_PRICES`` names.
    """
    import asyncio

    from khabar.config import Settings
    from khabar.core.cost import load_prices
    from khabar.pipeline import Summarizer

    resolved = settings or Settings()
    table = prices or load_prices(getattr(resolved, "prices", None))

    async def run() -> Estimate:
        # The Summarizer closes what it opened (cache, local model) on the way out.
        async with Summarizer(resolved) as summarizer:
            done = _done_ids(output)
            return _estimate(
                summarizer,
                paths,
                done,
                batch=batch,
                limit=limit,
                text_field=text_field,
                id_field=id_field,
                completion_tokens=completion_tokens,
                prices=table,
            )

    return asyncio.run(run())


def _done_ids(output: str | Path | None) -> set[str]:
    """What a resumed run would skip (JsonlStore.done_ids), read without locking or repairing."""
    from khabar.batch.store import FINAL_REASONS, iter_records

    if output is None or str(output) == "-" or not Path(output).is_file():
        return set()
    done: set[str] = set()
    for record in iter_records(output, latest_only=True):
        error = record.get("error")
        reason = error.get("reason") if isinstance(error, dict) else None
        if record.get("status") == "ok" or reason in FINAL_REASONS:
            done.add(record["id"])
    return done


def _estimate(
    summarizer: Summarizer,
    paths: Sequence[str | Path],
    done: set[str],
    *,
    batch: bool,
    limit: int | None,
    text_field: str,
    id_field: str,
    completion_tokens: int,
    prices: PriceTable,
) -> Estimate:
    from khabar.batch.inputs import iter_articles
    from khabar.batch.runner import _prompt_title
    from khabar.errors import InputError

    from .conversation import prepare

    plan = summarizer.plan
    settings = summarizer.settings
    count: Callable[[str], int | None] | None = None
    method = APPROX_METHOD
    if plan.provider == "local":
        count = summarizer.backend.count_tokens
        method = f"counted with {plan.model}'s own tokenizer"
    estimate = Estimate(
        model=plan.model,
        provider=plan.provider,
        method=method,
        batch=batch,
        completion_assumed=completion_tokens,
    )
    counter = Counter(summarizer, count=count)
    for article in iter_articles(
        paths, text_field=text_field, id_field=id_field, max_input_bytes=settings.max_input_bytes
    ):
        if article.id in done:
            estimate.skipped += 1
            continue
        if limit is not None and estimate.articles >= limit:
            break
        estimate.articles += 1
        if article.error is not None or article.text is None:
            estimate.input_errors += 1
            continue
        try:
            prepared = prepare(
                summarizer,
                article.text,
                article_id=article.id,
                title=_prompt_title(article),
                batch=False,
            )
        except InputError:
            estimate.input_errors += 1
            continue
        except KhabarError as exc:
            if not exc.context.get("remembered"):
                raise  # settings that cannot work: say so, not "0 requests"
            estimate.remembered += 1  # a deterministic failure the cache remembers: not asked
            continue
        if isinstance(prepared, Digest):
            estimate.from_cache += 1
            continue
        counter.add(estimate, counter.body(prepared.messages))
    estimate.price(prices)
    return estimate
