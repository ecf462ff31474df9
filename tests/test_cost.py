"""Money, not just tokens: the price table, cost estimates, and the dry run before any call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from khabar.batch.api import estimate_paths, prepare_batch
from khabar.batch.api.estimate import ASSUMED_COMPLETION_TOKENS, prompt_tokens
from khabar.config import Settings
from khabar.core.cost import (
    APPROX_METHOD,
    EXAMPLE_PRICES,
    Price,
    PriceTable,
    approx_tokens,
    cost_of_records,
    estimate_cost,
    format_cost,
    load_prices,
    parse_prices,
)
from khabar.errors import ConfigError

from .conftest import ARTICLES, SENTINEL_KEY, seed

TOML = """
currency = "USD"
[models."my-deployment"]
prompt = 1.0
completion = 4.0
batch_discount = 0.5
[models."gpt-4o"]
prompt = 2.5
completion = 10
"""


def test_cost_is_tokens_times_the_price_and_the_batch_discount() -> None:
    assert estimate_cost(1_000_000, 1_000_000, "gpt-4o-mini") == pytest.approx(0.75)
    assert estimate_cost(1_000_000, 1_000_000, "gpt-4o-mini", batch=True) == pytest.approx(0.375)
    assert estimate_cost(0, 0, "gpt-4o") == 0
    assert estimate_cost(None, None, "gpt-4o") == 0
    # An unknown model is never guessed at.
    assert estimate_cost(1000, 1000, "qwen2.5:7b") is None
    assert estimate_cost(1000, 1000, None) is None


def test_a_dated_snapshot_is_priced_as_its_model_and_only_so() -> None:
    assert EXAMPLE_PRICES.price("gpt-4o-mini-2024-07-18") == EXAMPLE_PRICES.price("gpt-4o-mini")
    assert EXAMPLE_PRICES.price("gpt-4o-2024-08-06") == EXAMPLE_PRICES.price("gpt-4o")
    assert EXAMPLE_PRICES.price("gpt-4o-mini") != EXAMPLE_PRICES.price("gpt-4o")
    assert EXAMPLE_PRICES.price("gpt-4o-minimal") is None
    assert EXAMPLE_PRICES.price("gpt-4o-finetuned-x") is None


def test_a_price_table_from_toml_json_a_file_or_inline(tmp_path: Path) -> None:
    table = parse_prices(TOML)
    assert table.price("my-deployment") == Price(1.0, 4.0, 0.5)
    assert table.price("gpt-4o") == Price(2.5, 10.0, 0.0)
    assert estimate_cost(2_000_000, 1_000_000, "my-deployment", table, batch=True) == 3.0
    assert table.price("gpt-4o-mini") is None  # a table of one's own replaces the examples
    path = tmp_path / "prices.toml"
    path.write_text(TOML, encoding="utf-8")
    assert load_prices(str(path)).models == table.models
    assert load_prices(str(path)).source == str(path)
    inline = load_prices('{"models": {"m": {"prompt": 0.1, "completion": 0.2}}}')
    assert inline.price("m") == Price(0.1, 0.2)
    assert load_prices(None) is EXAMPLE_PRICES and load_prices("") is EXAMPLE_PRICES


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[models.m]\nprompt = 1\n", "no completion price"),
        ("[models.m]\nprompt = -1\ncompletion = 1\n", "prices are 0 or more"),
        ("[models.m]\nprompt = 1\ncompletion = 1\nbatch_discount = 1\n", "a discount below 1"),
        ('[models.m]\nprompt = "cheap"\ncompletion = 1\n', "must be a number"),
        ("currency = 'USD'\n", "no \\[models.NAME\\] tables"),
        ("[models.m\n", "not valid TOML"),
        ('{"models": ', "not valid JSON"),
    ],
)
def test_a_bad_price_table_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_prices(text)


def test_a_missing_price_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the price table"):
        load_prices(str(tmp_path / "nope.toml"))


def test_format_cost() -> None:
    assert (format_cost(None), format_cost(0), format_cost(0.00123), format_cost(12.5)) == (
        "n/a",
        "$0",
        "$0.0012",
        "$12.50",
    )
    assert format_cost(3.0, "EUR") == "EUR 3.00"


def record(model: str, p: int, c: int, **extra: object) -> dict[str, object]:
    provenance = {
        "model": model,
        "provider": extra.pop("provider", "openai"),
        "prompt_tokens": p,
        "completion_tokens": c,
        "cache_hit": extra.pop("cache_hit", False),
    }
    return {"id": "x", "status": "ok", "digest": {"provenance": provenance}, **extra}


def test_the_cost_of_records_counts_what_was_paid_for() -> None:
    records = [
        record("gpt-4o-mini", 1_000_000, 0),
        record("gpt-4o-mini", 1_000_000, 0, cache_hit=True),  # served from the cache: free
        record("gpt-4o-mini", 1_000_000, 0, duplicate_of="a"),  # the first one's call
        record("SmolLM2", 500, 500, provider="local"),  # the embedded model: free
        record("my-deployment", 1000, 1000),  # no price: reported, not guessed
        {"id": "e", "status": "error", "digest": None},  # no call, or one we know nothing of
        # An unsupported digest was paid for: its rejected draft carries the provenance.
        {
            "id": "u",
            "status": "error",
            "digest": None,
            "draft": record("gpt-4o-mini", 0, 1_000_000)["digest"],
        },
    ]
    summary = cost_of_records(records)
    assert summary.total == pytest.approx(0.15 + 0.60)
    assert summary.unpriced == {"my-deployment": 2000} and not summary.complete
    assert (summary.prompt_tokens, summary.completion_tokens) == (1_001_500, 1_001_500)
    assert cost_of_records(records, batch=True).total == pytest.approx(0.375)


def test_approximate_tokens_by_script() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("a" * 40) == 10
    assert approx_tokens("ب" * 30) == 10
    assert approx_tokens("ب" * 30 + "a" * 40) == 20
    assert "not the model's tokenizer" in APPROX_METHOD


def test_prompt_tokens_count_messages_and_the_tool_schema() -> None:
    body = {"messages": [{"role": "user", "content": "a" * 40}], "tools": [{"x": "y" * 100}]}
    schema = json.dumps(body["tools"])
    assert prompt_tokens(body, None) == 10 + approx_tokens(schema) + 4
    # With a tokenizer at hand (the embedded model's count_tokens), it counts instead.
    assert prompt_tokens(body, lambda text: len(text)) == 40 + len(schema) + 4


def remote(tmp_path: Path, **extra: object) -> Settings:
    # An address nothing listens on: the dry run must not need (or call) the endpoint.
    values: dict[str, object] = {
        "model": "gpt-4o-mini",
        "provider": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": SENTINEL_KEY,
        "cache_dir": tmp_path / "cache",
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def test_dry_run_estimates_tokens_and_cost_before_any_call(tmp_path: Path) -> None:
    est = estimate_paths([ARTICLES], remote(tmp_path))
    assert (est.articles, est.requests, est.from_cache, est.skipped) == (5, 5, 0, 0)
    assert est.method == APPROX_METHOD
    # The prompts counted are the requests that would be sent: the batch path writes the same.
    job = prepare_batch([ARTICLES], tmp_path / "job", remote(tmp_path), output=tmp_path / "o.jsonl")
    bodies = [
        json.loads(line)["body"] for f in job.files for line in f.read_text("utf-8").splitlines()
    ]
    assert est.prompt_tokens == sum(prompt_tokens(b, None) for b in bodies)
    assert est.completion_tokens == 5 * ASSUMED_COMPLETION_TOKENS
    assert est.cost == estimate_cost(est.prompt_tokens, est.completion_tokens, "gpt-4o-mini")
    assert est.ceiling_cost is not None and est.cost is not None and est.ceiling_cost > est.cost
    assert est.ceiling_completion_tokens == 5 * 2048 * 2  # max_tokens, one re-ask each
    batch = estimate_paths([ARTICLES], remote(tmp_path), batch=True)
    assert batch.cost == pytest.approx(est.cost / 2)
    text = "\n".join(est.lines())
    assert "approximate" in text and "assumed 1,000 per request" in text and "$" in text


def test_dry_run_skips_done_articles_and_counts_cache_hits(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text(
        json.dumps({"id": "articles/000_de612b54d8028aa2.txt", "status": "ok", "digest": {}})
        + "\n"
        + json.dumps(
            {
                "id": "articles/001_c7d2eb9492ec713f.txt",
                "status": "error",
                "error": {"reason": "empty"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    before = out.read_bytes()
    est = estimate_paths([ARTICLES], remote(tmp_path), output=out, limit=2)
    assert (est.skipped, est.articles, est.requests) == (2, 2, 2)
    assert out.read_bytes() == before  # a dry run writes nothing
    # An unpriced model: tokens, and no invented cost.
    unpriced = estimate_paths([ARTICLES], remote(tmp_path, model="my-deployment"))
    assert unpriced.cost is None and any(
        "no price for my-deployment" in x for x in unpriced.lines()
    )
    custom = estimate_paths(
        [ARTICLES], remote(tmp_path, model="my-deployment"), prices=parse_prices(TOML)
    )
    assert custom.cost is not None and custom.cost > 0


async def test_dry_run_counts_a_cached_article_as_free(tmp_path: Path) -> None:
    from khabar.pipeline import Summarizer
    from khabar.testing import MockTransport

    mock = MockTransport()
    settings = remote(tmp_path).model_copy(update={"base_url": mock.base_url})
    async with Summarizer(settings, transport=mock) as s:
        await s.asummarize(seed("003"), article_id="x")
    import asyncio

    est = await asyncio.to_thread(estimate_paths, [ARTICLES], settings)
    assert (est.from_cache, est.requests) == (1, 4)


@pytest.mark.slow
def test_dry_run_counts_with_the_embedded_models_tokenizer(tmp_path: Path) -> None:
    settings = Settings(provider="local", cache_dir=tmp_path / "cache", local_download=False)
    est = estimate_paths([ARTICLES], settings)
    assert "own tokenizer" in est.method and est.model.startswith("SmolLM2")
    assert est.cost == 0 and est.requests == 5
    # An English-only tokenizer splits Arabic into far more pieces than chars/3.
    assert est.prompt_tokens > estimate_paths([ARTICLES], remote(tmp_path)).prompt_tokens


def test_price_table_type_is_frozen() -> None:
    table = PriceTable(models={"m": Price(1, 1)})
    with pytest.raises(AttributeError):
        table.currency = "EUR"  # type: ignore[misc]


def test_dry_run_needs_no_key_and_counts_remembered_failures(tmp_path: Path) -> None:
    import asyncio

    from khabar.pipeline import Summarizer
    from khabar.testing import MockTransport, Reply

    keyless = Settings(model="gpt-4o-mini", provider="openai", cache_dir=tmp_path / "cache")
    assert estimate_paths([ARTICLES], keyless).requests == 5  # no client is built
    mock = MockTransport()
    mock.script(Reply.text("{ broken"), Reply.text("{ broken"))
    failing = Settings(
        model="gpt-4o-mini",
        provider="openai",
        base_url=mock.base_url,
        api_key=SENTINEL_KEY,
        cache_dir=tmp_path / "cache",
    )

    async def fail_once() -> None:
        async with Summarizer(failing, transport=mock) as s:
            with pytest.raises(Exception, match="did not match the digest schema"):
                await s.asummarize(seed("003"), article_id="x")

    asyncio.run(fail_once())
    est = estimate_paths([ARTICLES], failing)
    assert (est.remembered, est.requests) == (1, 4)
