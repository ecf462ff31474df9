"""Language detection on real strings: Persian typed with Arabic letters, ھ-typed text, Urdu.

Strings are quoted from real pages: the corpora in ``../shared/corpora`` (README.txt
names each source), the full ANT corpus of Arabic news (antcorpus.multisource.data),
and public repositories holding Arabic and Persian typed on Urdu-style keyboards or
extracted from PDFs (where initial ه comes out as ھ).
"""

from __future__ import annotations

import json

import pytest

from khabar.core.text import detect_language

from .conftest import REPO

CORPORA = REPO.parent / "shared" / "corpora"

# Fars News titles (../shared/corpora/farsnews_language-ml) typed with Arabic ي and ك:
# every one was detected as Arabic before issue #10; ids are the corpus record ids.
FARS_TITLES = [
    pytest.param("لغو جلسه كميته تفحص مجلس با مشايي و ملك\u200cزاده", id="fars-news-1.json#9"),
    pytest.param(
        "«منطق و عقل»،«حماسه و عزت» و «عاطفه» عناصر اصلي عاشورا هستند", id="fars-news-1.json#34"
    ),
    pytest.param("زرند كرمان مقابل شهرداري شهركرد به پيروزي رسيد", id="fars-news-1.json#53"),
    pytest.param(
        "زمين\u200cهاي با كاربري ورزشي منطقه 22 شناسايي مي\u200cشوند", id="fars-news-1.json#75"
    ),
    pytest.param("رئال مادريد مقابل بارسلونا به برتري رسيد", id="fars-news-1.json#84"),
    pytest.param(
        "توانمندي و تعهد ملت در بهمن و اسفند امسال به نمايش در مي\u200cآيد",
        id="fars-news-1.json#86",
    ),
    pytest.param(
        "تداوم وضعيت فعلي نشريات محلي اردبيل را به تعطيلي مي\u200cكشاند", id="fars-news-1.json#95"
    ),
    pytest.param("خداحافظي نشان از تيزهوشي هادي ساعي داشت", id="fars-news-1.json#253"),
    pytest.param(
        "نرخ كرايه اتوبوسهاي بين شهري با 20 درصد كاهش به قيمت قبلي بازگشت", id="fars-news-2.json#49"
    ),
    pytest.param(
        "راهيابي 409 شاعر به مرحله نهايي جشنواره سراسري شعر خط سوم", id="fars-news-2.json#82"
    ),
    pytest.param("ظهور ايده\u200cهاي برتر در بخش خصوصي", id="fars-news-2.json#84"),
    pytest.param("قيمت جهاني اورانيوم 19 درصد افزايش يافت", id="fars-news-2.json#94"),
    pytest.param(
        "تاكيد فرمانده نيروي زميني سپاه بر هوشياري نيروهاي نظامي", id="fars-news-2.json#125"
    ),
    pytest.param(
        "46 اثر برگزيده جشنواره كتاب برتر كودك و نوجوان 11 آبان معرفي مي\u200cشوند",
        id="fars-news-2.json#141",
    ),
    pytest.param(
        "تغييرات آيين\u200cنامه شوراي فرهنگ عمومي شهرستان\u200cها ابلاغ مي\u200cشود",
        id="fars-news-2.json#152",
    ),
    pytest.param(
        "امسال 20 ميليارد تومان از اقتصاد ملي دريافت مي\u200c\u200cشود", id="fars-news-2.json#179"
    ),
    pytest.param("عناوين مهم روزنامه\u200cهاي امروز روسيه", id="fars-news-2.json#250"),
    pytest.param(
        "حضور حماسي مردم يزد در صحنه، معادلات جهاني را به نفع ايران تغيير مي\u200cدهد",
        id="fars-news-2.json#266",
    ),
    pytest.param("تيم آدلايد هراسي از زيكو ندارد", id="fars-news-2.json#268"),
    pytest.param("«كتاب جغرافياي تاريخي قطر» به فارسي منتشر شد", id="fars-news-2.json#274"),
    pytest.param(
        "سيب\u200cزميني\u200cكاران مهربان در معرض ورشكستگي قرار دارند", id="fars-news-3.json#0"
    ),
    pytest.param(
        "ايلاف: الجزاير بين واشنگتن و تهران ميانجيگري مي\u200cكند", id="fars-news-3.json#23"
    ),
    pytest.param(
        "تاكيد فرماندار ايالت لارا ونزوئلا بر گسترش همكاري\u200cها با ايران",
        id="fars-news-3.json#27",
    ),
    pytest.param(
        "همه اغذيه فروشي\u200cها به طور متوسط 2 بار در ايام نوروز بازديد شدند",
        id="fars-news-3.json#49",
    ),
    pytest.param(
        "اندونزي از آمريكا مي خواهد در مبارزه با تروريسم در جنوب شرق آسيا دخالت نكند",
        id="fars-news-3.json#125",
    ),
    pytest.param("تأكيد شهردار مشهد بر رفع مزاحمت\u200cهاي مشاغل شهري", id="fars-news-3.json#163"),
    pytest.param("مهاجراني: شكست مقابل مكزيك حقيقت فوتبال ايران نبود", id="fars-news-3.json#215"),
    pytest.param(
        "توسعه ناوگان حمل و  نقل ريلي از تلفات جاده\u200cاي مي\u200c\u200cكاهد",
        id="fars-news-3.json#238",
    ),
    pytest.param(
        "كره شمالي از برنامه صلح\u200cآميز هسته\u200cاي خود دست نمي\u200cكشد",
        id="fars-news-3.json#248",
    ),
    pytest.param(
        "تفسير رخدادهاي داخلي ايران بر اساس نتايج انتخابات رياست جمهوري آمريكا",
        id="fars-news-3.json#253",
    ),
    pytest.param(
        "مؤذن زاده: 2 ميليون تن از اهداف برنامه سوم در بخش فولاد محقق نشد", id="fars-news-4.json#15"
    ),
    pytest.param("ابراهيمي: تعيين عوارض براي 5 محور ورودي مازندران", id="fars-news-4.json#83"),
    pytest.param("تيم هيات خوزستان بر سكوي نخست دسته برتر ايستاد", id="fars-news-4.json#164"),
    pytest.param(
        "امضاي سند همكاري بين ايران، افغانستان و قطر در جشنواره فيلم كوتاه",
        id="fars-news-4.json#219",
    ),
    pytest.param("بصيرت و درك صحيح از جامعه مانع از گمراهي مي\u200cشود", id="fars-news-4.json#227"),
    pytest.param(
        "نمايندگان تشكل\u200cهاي دانشجويي از سايت فوريت\u200cهاي پليس بازديد كردند",
        id="fars-news-4.json#249",
    ),
    pytest.param("برگزاري مسابقات واليبال جام فجر در قم", id="fars-news-4.json#259"),
    pytest.param(
        "مستند «اين باغ تشنه است» حاتمي\u200cكيا امشب پخش مي\u200cشود", id="fars-news-5.json#31"
    ),
    pytest.param(
        "رؤساي ستادهاي بازرسي انتخابات 30 استان كشور منصوب شدند", id="fars-news-5.json#82"
    ),
    pytest.param(
        "جريانهاي مشكوك و نفوذي صهيونيست،\u200c متهم رديف اول انفجارهاي اخير عراق هستند",
        id="fars-news-5.json#85",
    ),
    pytest.param(
        "ترديد نسبت به ادعاي روس\u200cها درباره عدم فروش سلاح به ارمنستان",
        id="fars-news-5.json#259",
    ),
]


@pytest.mark.parametrize("title", FARS_TITLES)
def test_fars_title_typed_with_arabic_yeh_kaf_is_persian(title: str) -> None:
    assert detect_language(title) == "fa"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # Arabic with do-chashmi heh (and Persian yeh) for ه: all were "ur" before.
        pytest.param(
            "إذا رغبت بإرجاع طلبك مقابل استرداد المبلغ المدفوع أو استبدالھ بمنتجات معینة فإنھ لدیك مھلھ "
            "یوم من تاریخ الفاتورة لعمل ذلك. تتطلب عملیة الإرجاع ھذه توافر شرطان أساسیان",
            "ar",
            id="ar-store-policy",
        ),
        pytest.param(
            "نحن ھنا لنكون شركاءكم في ھذه الرحلة، ملتزمون بتوفیر بیئة آمنة وداعمة تساعد في نمو أطفالكم "
            "على جمیع الأصعدة الجسدیة والنفسیة والعقلیة.",
            "ar",
            id="ar-clinic-page",
        ),
        pytest.param(
            "إتفاقیة تسویق إلكتروني أبرمت ھذه الاتفاقیة الیوم الاربعاء الموافق",
            "ar",
            id="ar-contract",
        ),
        # Persian with ھ.
        pytest.param(
            "تعداد تحلیل وضعیت شاخص ھا و برنامه ھای فرھنگی در واحدھای شھرستان ھای استان",
            "fa",
            id="fa-dashboard-title",
        ),
        pytest.param(
            "فراوان جامعه و متخصصان را می طلبد تا با نرم افزارھا شناخت بیشتری را برای طراحان رایانه ای "
            "علی الخصوص طراحان خلاقی و فرھنگ پیشرو در زبان فارسی ایجاد کرد.",
            "fa",
            id="fa-typography-essay",
        ),
        # Urdu stays Urdu: its own letters (ے ں ٹ ہ) and postpositions.
        pytest.param(
            "وزیر اعظم نریندر مودی نے کہا کہ ہمیں مل کر جموں و کشمیر کو نئی بلندیوں تک لے جانا ہے۔ جموں "
            "و کشمیر کے لوگ کرپشن سے نفرت کرتے ہیں۔ میں نے اس کے درد کو محسوس کیا ہے۔",
            "ur",
            id="ur-news",
        ),
        pytest.param("مجلہ فرھنگستان: پاک ایران ثقافت کا امین", "ur", id="ur-short-title"),
    ],
)
def test_urdu_heh_does_not_make_urdu(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "title",
    [
        # Short Arabic headlines (ANT corpus) with little else than a word Persian also
        # writes: "they" (هم), the name Mai (مي), آن in "آن الأوان", "with it" (به).
        pytest.param('هل "آن أوان الرحيل"؟', id="time-has-come"),
        pytest.param("من هم ضيوف برامجنا؟", id="who-are-they"),
        pytest.param("وفاء عامر وإدوارد يهاجمان وليد فواز بسبب مي سليم", id="name-mai"),
        pytest.param('نادين نجيم: صداقتي قوية بعابد فهد و"طريق" يجمعني به', id="with-him"),
        pytest.param("لماذا أقال ترامب وزير خارجيته.. ومن من هم أصدقاء تيلرسون؟", id="friends"),
        # BBC Arabic: علي (Ali) is a name in both languages, not the preposition على.
        pytest.param("مصر: الحكومة توافق علي مشروع قانون الاستثمار الجديد", id="egyptian-ali"),
    ],
)
def test_short_arabic_headline_stays_arabic(title: str) -> None:
    assert detect_language(title) == "ar"


# --- measured on the corpora ----------------------------------------------------------


def records(folder: str, name: str = "data.jsonl") -> list[dict[str, str]]:
    path = CORPORA / folder / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


needs_corpora = pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is absent")


@needs_corpora
def test_fars_titles_are_persian() -> None:
    # Before issue #10: 157 of 200 (43 detected as Arabic). Measured now: 198 of 200;
    # the two left carry no Persian word a rule can see (عمليات تخريبي جديد عليه
    # مساجد ايتاليا; افزايش 31 درصدي مسافران نوروزي قمصر كاشان).
    rows = records("farsnews_language-ml")
    persian = sum(detect_language(r["title"]) == "fa" for r in rows)
    assert persian >= 198, persian


@needs_corpora
@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("ant_multisource_bbc_arabic", "data.jsonl"),
        ("ntrex128", "ar.jsonl"),
        ("hf_datasets_dummy_news", "data.jsonl"),
        ("bbc_simorgh_fixtures", "data.jsonl"),
        ("farsnews_language-ml", "data.jsonl"),
        ("persian_news_gold_farzadjannati", "data.jsonl"),
        ("pn_summary_samples", "data.jsonl"),
        ("ntrex128", "fa.jsonl"),
    ],
    ids=lambda v: str(v),
)
def test_corpus_articles_and_arabic_titles_keep_their_label(folder: str, name: str) -> None:
    rows = [r for r in records(folder, name) if r.get("text")]
    wrong = [r["id"] for r in rows if detect_language(r["text"]) != r["language"]]
    assert not wrong
    # Arabic titles too: the Persian rules must not take short Arabic headlines.
    arabic_titles = [r for r in rows if r["language"] == "ar" and r.get("title")]
    wrong = [r["title"] for r in arabic_titles if detect_language(r["title"]) != "ar"]
    assert not wrong
