"""The whole pipeline against the in-process fake endpoint: openai + instructor + httpx2 run for real."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from khabar import Summarizer
from khabar.errors import (
    AuthenticationError,
    EmptyArticleError,
    TransportError,
    ValidationFailedError,
)
from khabar.testing import Reply, digest_dict

from .conftest import SENTINEL_KEY, seed

ARTICLE_003 = seed("003")

PERSON_OK = {
    "name_en": "Jens Stoltenberg",
    "name_src": "ينس ستولتنبرغ",
    "role": "NATO Secretary General",
    "evidence": "أعلن الأمين العام لحلف شمال الأطلسي (ناتو) ينس ستولتنبرغ، مساعدة عسكرية إضافية لأوكرانيا",
}
PERSON_SHAPPS = {
    "name_en": "Grant Shapps",
    "name_src": "غرانت شابس",
    "role": "British defence secretary",
    # the model's copy differs from the page in yeh/kaf and quote marks only
    "evidence": "وتزامنت زيارة ستولتنبرغ مع زيارة لوزيري الدفاع البريطاني غرانت شابس",
}
NUMBER_OK = {
    "value": 2.4e9,
    "unit": "EUR",
    "counts": "value of ammunition contracts",
    "evidence": "أبرم عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو",
}
NUMBER_WRONG = {**NUMBER_OK, "value": 2.4e6}
PERSON_INVENTED = {
    "name_en": "Jens Stoltenberg",
    "name_src": "ينس ستولتنبرغ",
    "role": None,
    "evidence": "قال ستولتنبرغ إن روسيا ستخسر الحرب قبل نهاية العام",
}
# From the unrelated story pasted under 003: must never reach a digest.
PERSON_APPENDED = {
    "name_en": "Ukrainian authorities",
    "name_src": "السلطات الأوكرانية",
    "role": None,
    "evidence": "أعلنت السلطات الأوكرانية، اليوم الخميس، إصابة 21 شخصًا في قصف صاروخي",
}
NUMBER_APPENDED = {
    "value": 21,
    "unit": None,
    "counts": "people injured",
    "evidence": "إصابة 21 شخصًا في قصف صاروخي شنته روسيا على العاصمة الأوكرانية كييف",
}


def good_answer(**overrides: object) -> dict[str, object]:
    data = digest_dict(
        title_en="NATO chief pledges more support in surprise Kyiv visit",
        title_src="ستولتنبرغ يعلن مساعدة عسكرية إضافية لأوكرانيا",
        summary_en=[
            {
                "text": "NATO Secretary General Jens Stoltenberg visited Kyiv and announced more military aid.",
                "cites": [PERSON_OK["evidence"], "حيث التقى برئيسها فولوديمير زيلينسكي في كييف"],
            },
            {
                "text": "Ammunition contracts worth 2.4 billion euros were signed.",
                "cites": [NUMBER_OK["evidence"]],
            },
        ],
        summary_src=[
            {
                "text": "أعلن ستولتنبرغ مساعدة عسكرية إضافية لأوكرانيا خلال زيارة إلى كييف.",
                "cites": [PERSON_OK["evidence"], "حيث التقى برئيسها فولوديمير زيلينسكي في كييف"],
            }
        ],
        people=[PERSON_OK, PERSON_SHAPPS],
        organizations=[
            {
                "name_en": "NATO",
                "name_src": "حلف شمال الأطلسي",
                "evidence": "أعلن الأمين العام لحلف شمال الأطلسي (ناتو)",
            }
        ],
        locations=[
            {
                "name_en": "Kyiv",
                "name_src": "كييف",
                "kind": "city",
                "evidence": "حيث التقى برئيسها فولوديمير زيلينسكي في كييف",
            }
        ],
        dates=[
            {
                "text": "شباط/فبراير 2022",
                "refers_to": "start of the Russian invasion",
                "evidence": "التي تتصدّى للغزو الروسي منذ شباط/فبراير 2022",
            }
        ],
        numbers=[NUMBER_OK],
        quotes=[
            {
                "speaker_en": "Jens Stoltenberg",
                "text_src": "أقرب من أي وقت مضى إلى حلف شمال الأطلسي",
                "text_en": "closer than ever to NATO",
                "evidence": 'قبل أن يؤكد أن كييف "أقرب من أي وقت مضى إلى حلف شمال الأطلسي"',
            }
        ],
        sources=[
            {
                "name_en": "Interfax",
                "name_src": "إنترفاكس",
                "evidence": 'في تصريحات نقلتها وكالة "إنترفاكس" الأوكرانية',
            }
        ],
    )
    data.update(overrides)
    return data


@pytest.fixture
def server(mock):  # type: ignore[no-untyped-def]
    """No test here needs a socket: scripted answers and HTTP errors are served in-process."""
    return mock


async def run(settings, text: str = ARTICLE_003, *, transport=None, **kwargs):  # type: ignore[no-untyped-def]
    async with Summarizer(settings, transport=transport) as s:
        return await s.asummarize(text, article_id="003", **kwargs)


async def test_good_digest_every_fact_verified(server, settings_for) -> None:
    server.script(Reply.digest(good_answer()))
    digest = await run(settings_for(server), transport=server)
    assert digest.language == "ar"
    assert len(server.requests) == 1
    facts = [f for fields in digest.facts().values() for f in fields]
    assert len(facts) == 8
    for fact in facts:
        assert fact.span is not None
    assert digest.provenance.unverified_dropped == 0
    assert digest.provenance.facts_verified == 8
    assert digest.provenance.attempts == 1
    assert digest.provenance.cache_hit is False
    assert digest.provenance.prompt_tokens and digest.provenance.completion_tokens
    (date,) = digest.dates
    assert (date.calendar, date.iso) == ("gregorian", "2022-02")
    # What was stripped is recorded, and the appended story is not in the prompt.
    kinds = {b.kind for b in digest.provenance.stripped}
    assert kinds, "seed 003 carries boilerplate and an appended story"
    prompt = json.dumps(server.requests[0].body["messages"], ensure_ascii=False)
    assert "إصابة 21 شخصًا" not in prompt
    assert "روبرتا ميتسولا" in prompt


async def test_invented_evidence_is_reasked_then_accepted(server, settings_for) -> None:
    bad = good_answer(people=[PERSON_INVENTED])
    server.script(Reply.digest(bad), Reply.digest(good_answer()))
    digest = await run(settings_for(server), transport=server)
    assert len(server.requests) == 2
    assert digest.provenance.attempts == 2
    assert digest.provenance.unverified_dropped == 0
    # The re-ask tells the model what was wrong.
    reask = json.dumps(server.requests[1].body["messages"], ensure_ascii=False)
    assert "not supported by the article" in reask


async def test_wrong_number_still_wrong_after_reask_is_dropped_and_counted(
    server, settings_for
) -> None:
    bad = good_answer(numbers=[NUMBER_WRONG, NUMBER_OK])
    server.script(Reply.digest(bad), Reply.digest(bad))
    digest = await run(settings_for(server, max_reasks=1), transport=server)
    assert len(server.requests) == 2
    assert [n.value for n in digest.numbers] == [2.4e9]
    assert digest.provenance.unverified_dropped == 1
    (dropped,) = digest.provenance.dropped
    assert dropped.field == "numbers" and dropped.fact["value"] == 2.4e6
    assert any("failed grounding" in w for w in digest.provenance.warnings)


async def test_appended_story_facts_never_reach_the_digest(server, settings_for) -> None:
    leaky = good_answer(people=[PERSON_OK, PERSON_APPENDED], numbers=[NUMBER_OK, NUMBER_APPENDED])
    server.script(Reply.digest(leaky), Reply.digest(leaky))
    digest = await run(settings_for(server), transport=server)
    names = [p.name_src for p in digest.people]
    assert "السلطات الأوكرانية" not in names
    assert 21 not in [n.value for n in digest.numbers]
    assert digest.provenance.unverified_dropped == 2


async def test_malformed_json_is_reasked(server, settings_for) -> None:
    server.script(Reply.text('{"title_en": "NATO", "summary_en": '), Reply.digest(good_answer()))
    digest = await run(settings_for(server), transport=server)
    assert len(server.requests) == 2
    assert digest.provenance.attempts == 2
    assert digest.title_en.startswith("NATO chief")


async def test_429_then_success_honours_retry_after(server, settings_for) -> None:
    server.script(Reply.status(429, retry_after=0.5), Reply.digest(good_answer()))
    started = time.perf_counter()
    digest = await run(settings_for(server), transport=server)
    assert time.perf_counter() - started >= 0.45
    assert len(server.requests) == 2
    assert digest.provenance.transport_retries == 1
    assert digest.provenance.attempts == 1  # a transport retry is not a re-ask


async def test_500_then_success(server, settings_for) -> None:
    server.script(Reply.status(500), Reply.digest(good_answer()))
    digest = await run(settings_for(server), transport=server)
    assert digest.provenance.transport_retries == 1
    assert digest.provenance.unverified_dropped == 0


async def test_persistent_500_is_a_transport_error_naming_the_article(server, settings_for) -> None:
    server.script(*[Reply.status(503)] * 3)
    with pytest.raises(TransportError) as info:
        await run(settings_for(server, max_transport_retries=2), transport=server)
    assert len(server.requests) == 3  # 1 + 2 retries, never multiplied by openai or instructor
    assert "003" in str(info.value)
    assert SENTINEL_KEY not in str(info.value)


async def test_401_is_an_authentication_error_without_the_key(server, settings_for) -> None:
    server.script(
        Reply.status(401, body={"error": {"message": f"bad key {SENTINEL_KEY}", "type": "auth"}})
    )
    with pytest.raises(AuthenticationError) as info:
        await run(settings_for(server), transport=server)
    assert len(server.requests) == 1
    assert SENTINEL_KEY not in str(info.value)
    assert "OPENAI_API_KEY" in str(info.value)


async def test_cache_hit_refresh_and_bypass(server, settings_for) -> None:
    settings = settings_for(server)
    server.script(*[Reply.digest(good_answer())] * 3)
    first = await run(settings, transport=server)
    second = await run(settings, transport=server)
    assert len(server.requests) == 1
    assert second.provenance.cache_hit is True
    assert second.model_dump(exclude={"provenance"}) == first.model_dump(exclude={"provenance"})
    await run(settings, refresh=True, transport=server)
    assert len(server.requests) == 2
    await run(settings, use_cache=False, transport=server)
    assert len(server.requests) == 3


async def test_cache_key_covers_decoding_parameters(server, settings_for) -> None:
    server.script(*[Reply.digest(good_answer())] * 2)
    await run(settings_for(server, temperature=0.0), transport=server)
    await run(settings_for(server, temperature=0.7), transport=server)
    assert len(server.requests) == 2


async def test_corrupt_cache_entry_is_a_miss(server, settings_for, tmp_path: Path) -> None:
    settings = settings_for(server)
    server.script(*[Reply.digest(good_answer())] * 2)
    await run(settings, transport=server)
    import diskcache

    with diskcache.Cache(str(settings.resolved_cache_dir())) as raw:
        for key in list(raw):
            raw[key] = '{"not": "a digest"'
    digest = await run(settings, transport=server)
    assert digest.provenance.cache_hit is False
    assert len(server.requests) == 2


async def test_template_syntax_in_the_article_is_text(server, settings_for) -> None:
    article = "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %}\n" + ARTICLE_003
    server.script(Reply.digest(good_answer()))
    await run(settings_for(server), text=article, transport=server)
    user = server.requests[0].body["messages"][1]["content"]
    assert "{{ 7*7 }}" in user and "{% for x in range(3) %}" in user
    assert "49" not in user.split("<article>")[1].splitlines()[1]


async def test_empty_article_is_refused_before_any_call(server, settings_for) -> None:
    with pytest.raises(EmptyArticleError):
        await run(settings_for(server), text="  \n\t ", transport=server)
    assert server.requests == []


async def test_json_schema_mode_for_ollama(server, settings_for) -> None:
    server.script(Reply.digest(good_answer()))
    digest = await run(settings_for(server, provider="ollama"), transport=server)
    body = server.requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert "tools" not in body
    assert digest.provenance.mode == "JSON_SCHEMA"


def test_sync_summarize(server, settings_for) -> None:
    import khabar

    server.script(Reply.digest(good_answer()))
    digest = khabar.summarize(
        ARTICLE_003, settings=settings_for(server), article_id="x", transport=server
    )
    assert digest.article_id == "x"
    assert digest.people[0].name_en == "Jens Stoltenberg"


def test_instructor_is_used_through_its_public_api_only() -> None:
    """khabar never replaces a function inside instructor (the redesign removed the last patch)."""
    import importlib

    import instructor
    from instructor.v2.validation import async_validators

    before = async_validators.reject_async_validators
    from khabar.llm import factory, openai_compat

    importlib.reload(openai_compat)
    importlib.reload(factory)
    assert async_validators.reject_async_validators is before
    assert not getattr(before, "_khabar_remembers", False)
    assert instructor.from_openai.__module__.startswith("instructor")


async def test_reasks_are_accounted_what_they_cost_and_what_they_won(server, settings_for) -> None:
    bad = good_answer(people=[PERSON_INVENTED, PERSON_SHAPPS])
    server.script(Reply.digest(bad), Reply.digest(good_answer()))
    digest = await run(settings_for(server), transport=server)
    p = digest.provenance
    assert (p.attempts, p.reasks) == (2, 1)
    # The re-ask won back Stoltenberg, and with him the sentence that names him (a name
    # that no verified fact supported in the first answer).
    assert p.reask_gain_facts == 1 and p.reask_gain_sentences == 1
    # The fake endpoint's usage: a quarter of the prompt's characters, so the re-ask,
    # which carries the first answer and the problems, costs more than the first call.
    assert p.reask_prompt_tokens > 0 and p.reask_completion_tokens > 0
    assert p.prompt_tokens is not None and p.reask_prompt_tokens > p.prompt_tokens / 2


async def test_no_reask_costs_nothing_extra(server, settings_for) -> None:
    server.script(Reply.digest(good_answer()))
    p = (await run(settings_for(server), transport=server)).provenance
    assert (p.reasks, p.reask_prompt_tokens, p.reask_completion_tokens) == (0, 0, 0)


async def test_a_deterministic_failure_is_remembered_and_not_paid_again(
    server, settings_for
) -> None:
    broken = Reply.text('{"title_en": "cut off at the token limit", "summary_en": ')
    server.script(broken, broken)
    settings = settings_for(server, max_reasks=1)  # temperature 0, seed 0: deterministic
    for _ in range(2):
        with pytest.raises(ValidationFailedError) as caught:
            await run(settings, transport=server)
    assert len(server.requests) == 2  # the first run's two attempts; the rerun asked nothing
    assert "remembered" in str(caught.value) and "--retry-failed" in str(caught.value)
    # Asked to retry failures, it asks again (and the model now answers).
    server.script(Reply.digest(good_answer()))
    digest = await run(settings.model_copy(update={"retry_failed": True}), transport=server)
    assert len(server.requests) == 3 and digest.people


async def test_a_failure_is_not_remembered_when_decoding_is_not_deterministic(
    server, settings_for
) -> None:
    broken = Reply.text('{"title_en": "cut off')
    server.script(broken, broken, Reply.digest(good_answer()))
    settings = settings_for(server, max_reasks=1, temperature=0.7)
    with pytest.raises(ValidationFailedError):
        await run(settings, transport=server)
    digest = await run(settings, transport=server)
    assert len(server.requests) == 3 and digest.people
