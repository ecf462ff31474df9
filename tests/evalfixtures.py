"""Gold annotations for eval tests (real strings from the seed articles) and the perfect digest."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from khabar.core.digest import (
    CitedSentence,
    DateFact,
    Digest,
    NumberFact,
    Organization,
    Person,
    Place,
    Provenance,
    Quote,
    Source,
    Support,
)
from khabar.evals.gold import Gold, load_gold_dir

# evals/articles/001_c7d2eb9492ec713f.txt: Zelensky and Biden's call, with an
# appended story (Christophe Lemoine on LCI, Kursk) that is not the main story.
GOLD_AR_YAML = """\
article: 001_c7d2eb9492ec713f.txt
language: ar
summary_en: >
  Ukrainian President Volodymyr Zelensky said on Monday, after a phone call with
  US President Joe Biden, that the two countries had begun work on a bilateral
  security agreement. The US House of Representatives approved a new $61 billion
  aid package for Ukraine on Saturday.
summary_src: >
  أكد الرئيس الأوكراني فولوديمير زيلينسكي يوم الاثنين، بعد مكالمة هاتفية مع جو بايدن،
  أن البلدين بدأا العمل على توقيع اتفاق أمني ثنائي. ووافق مجلس النواب الأميركي يوم السبت
  على حزمة مساعدات لأوكرانيا بقيمة 61 مليار دولار.
key_facts:
  - text: Zelensky and Biden spoke by phone
    keywords: [[Biden], [phone, call]]
  - text: work began on a bilateral security agreement
    keywords: [[security], [agreement, pact, deal]]
  - text: the House approved $61 billion of aid
    keywords: [[61], [billion, bn]]
people:
  - name_en: Volodymyr Zelensky
    aliases: [Zelenskyy, Zelenskiy, Volodymyr Zelenskyy, فولوديمير زيلينسكي, زيلينسكي]
    role: President of Ukraine
  - name_en: Joe Biden
    aliases: [Biden, جو بايدن, بايدن]
    role: President of the United States
organizations:
  - name_en: US House of Representatives
    aliases: [House of Representatives, مجلس النواب الأميركي]
  - name_en: US Congress
    aliases: [Congress, الكونغرس الأميركي]
locations:
  - name_en: Washington
    aliases: [واشنطن]
    kind: city
  - name_en: Kyiv
    aliases: [Kiev, كييف]
    kind: city
  - name_en: Ukraine
    aliases: [أوكرانيا]
    kind: country
sources:
  - name_en: AFP
    aliases: [Agence France-Presse, فرانس برس]
numbers:
  - value: 61000000000
    unit: USD
    counts: value of the US aid package
    text: "61 مليار دولار"
dates:
  - text: يوم الاثنين
    iso: null
    refers_to: Zelensky's statement after the call
  - text: يوم السبت
    iso: null
    refers_to: the House vote on the aid package
quotes:
  - speaker_en: Volodymyr Zelensky
    speaker_aliases: [Zelenskyy, زيلينسكي]
    text_src: "بدأا العمل على توقيع اتفاق أمني"
  - speaker_en: Joe Biden
    speaker_aliases: [Biden, بايدن]
    text_src: "الاحتياجات العاجلة لأوكرانيا في ساحة المعركة"
not_main_story:
  - kind: appended_story
    starts_with: "فرنسا تبرر سماح بايدن"
  - kind: source_line
    starts_with: "المصدر: موقع النيلين"
leak:
  people: [Christophe Lemoine, كريستوف لوموان]
  organizations: [LCI]
  locations: [Kursk, كورسك]
  sources: [Al Nilein, موقع النيلين]
  numbers: [40]
"""

# evals/articles/000_de612b54d8028aa2.txt: Zelensky in Brussels (Persian, Solar Hijri date).
GOLD_FA_YAML = """\
article: 000_de612b54d8028aa2.txt
language: fa
summary_en: >
  Ukrainian President Volodymyr Zelensky travelled to Brussels to sign three security
  agreements, including one with the European Union that commits all 27 member states
  to support Ukraine.
summary_src: >
  ولودیمیر زلنسکی، رییس‌جمهوری اوکراین، برای امضای سه توافقنامه امنیتی از جمله با
  اتحادیه اروپا به بروکسل سفر کرد.
key_facts:
  - text: Zelensky went to Brussels
    keywords: [Brussels]
  - text: security agreements with the EU
    keywords: [[security], [European Union, EU]]
people:
  - name_en: Volodymyr Zelensky
    aliases: [Zelenskyy, ولودیمیر زلنسکی, زلنسکی]
organizations:
  - name_en: European Union
    aliases: [EU, اتحادیه اروپا]
locations:
  - name_en: Brussels
    aliases: [بروکسل]
    kind: city
sources:
  - name_en: X
    aliases: [Twitter, شبکه اجتماعی ایکس]
numbers:
  - value: 27
    unit: null
    counts: EU member states committed by the agreement
    text: "۲۷"
dates:
  - text: روز پنجشنبه هفتم تیر
    iso: --06-27
    refers_to: Zelensky's post on X
quotes:
  - speaker_en: Volodymyr Zelensky
    speaker_aliases: [زلنسکی]
    text_src: "برای اولین بار، این توافق تعهد تمامی ۲۷ کشور عضو را به منظور ارائه حمایت قابل توجه از اوکراین، بدون توجه به هر گونه تغییر داخلی، تضمین میکند."
"""


REPO = Path(__file__).resolve().parents[1]
SEED_GOLD = REPO / "evals" / "gold"


def seed_golds() -> dict[str, Gold]:
    """The hand-written gold of the five seed articles (evals/gold/)."""
    return load_gold_dir(SEED_GOLD)


def cited(summary: str) -> list[CitedSentence]:
    """A summary as cited sentences, each citing a stand-in excerpt (the metrics never read it)."""
    parts = re.split(r"(?<=[.!?])\s+", " ".join(summary.split()))
    return [CitedSentence(text=p, cites=["x"]) for p in parts if p]


def gold_from_yaml(text: str) -> Gold:
    """Validate gold written as YAML text, as :func:`khabar.evals.gold.load_gold` would."""
    return Gold.model_validate(yaml.safe_load(text))


def _native(names: list[str], fallback: str) -> str:
    """The first name in a non-Latin script: what an article in Arabic/Persian writes."""
    return next((n for n in names if not n.isascii()), fallback)


_PLACE_KINDS = set(get_args(Place.model_fields["kind"].annotation))


def provenance(**values: Any) -> Provenance:
    fields: dict[str, Any] = {
        "model": "test-model",
        "provider": "test",
        "mode": "tools",
        "prompt_version": "p1",
        "schema_version": "s1",
        "khabar_version": "0.1.0",
    }
    fields.update(values)
    return Provenance(**fields)


def digest_from_gold(gold: Gold) -> Digest:
    """The perfect digest of ``gold``: every main-story fact, nothing else, all verified."""
    people = [
        Person(
            name_en=p.name_en,
            name_src=_native(p.aliases, p.name_en),
            role=p.role,
            evidence=_native(p.aliases, p.name_en),
        )
        for p in gold.people
    ]
    organizations = [
        Organization(name_en=o.name_en, name_src=_native(o.aliases, o.name_en), evidence="x")
        for o in gold.organizations
    ]
    locations = [
        Place(
            name_en=p.name_en,
            name_src=_native(p.aliases, p.name_en),
            kind=cast(Any, p.kind if p.kind in _PLACE_KINDS else "other"),
            evidence="x",
        )
        for p in gold.locations
    ]
    sources = [
        Source(name_en=s.name_en, name_src=_native(s.aliases, s.name_en), evidence="x")
        for s in gold.sources
    ]
    numbers = [
        NumberFact(value=n.value, unit=n.unit, counts=n.counts, evidence=n.text or "x")
        for n in gold.numbers
    ]
    dates = [
        DateFact(text=d.text, refers_to=d.refers_to, iso=d.iso, evidence=d.text) for d in gold.dates
    ]
    quotes = [
        Quote(speaker_en=q.speaker_en, text_src=q.text_src, text_en="...", evidence=q.text_src)
        for q in gold.quotes
    ]
    n_facts = len(people) + len(organizations) + len(locations) + len(sources)
    n_facts += len(numbers) + len(dates) + len(quotes)
    en, src = cited(gold.summary_en), cited(gold.summary_src)
    return Digest(
        article_id=gold.article.rsplit(".", 1)[0],
        language=gold.language,
        title_en="Title",
        title_src="عنوان",
        summary_en=" ".join(s.text for s in en),
        summary_src=" ".join(s.text for s in src),
        summary_en_sentences=en,
        summary_src_sentences=src,
        support=Support(status="verified", facts_kept=n_facts, sentences_kept=len(en) + len(src)),
        people=people,
        organizations=organizations,
        locations=locations,
        dates=dates,
        numbers=numbers,
        quotes=quotes,
        sources=sources,
        provenance=provenance(facts_verified=n_facts),
    )
