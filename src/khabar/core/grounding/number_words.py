"""Number words of Arabic, Persian and English, and the tokens :mod:`.numbers` reads.

Every entry is a whole word as written (hamza, teh marbuta and yeh/kaf spellings are
folded away when the tables are built). A word is listed under the language that
writes it: Persian سی (30) and ده (10) are not Arabic words, so Arabic "بي بي سي" and
"والده" (his father) are never read as numbers. What a word means next to its
neighbours (the indefinite یک, the negation نه, the weekday الاثنين) is decided in
:mod:`.numbers`, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.fold import fold, to_ascii_digits

# Kinds of atom, by the place they take in a compound number.
UNIT = "unit"  # 1-9 (and 10 in Arabic, which forms teens: ثلاثة عشر)
TEEN_HEAD = "teen_head"  # أحد / إحدى / اثنا / حادي...: only before عشر
TEEN = "teen"  # 10-19 as one word (Persian یازده)
TEN = "ten"  # 20-90
HUNDRED = "hundred"  # 100-900
SCALE = "scale"  # 1e3, 1e6, 1e9, 1e12
SCALE_DUAL = "scale_dual"  # ألفين, مليوني: 2 x scale, a whole number by itself
ZERO = "zero"
DUAL = "dual"  # an Arabic dual noun: عامين "two years", a number by itself


@dataclass(frozen=True)
class Word:
    """One number word: its value, its kind, whether it is an ordinal, its language."""

    value: float
    kind: str
    language: str
    ordinal: bool = False
    # The plural of a scale (آلاف، ملايين): "thousands" by itself, a number only after a count.
    plural: bool = False
    # A dual before its genitive (صندوقي استثمار): a number only when a word follows.
    construct: bool = False


def folded_words(words: str) -> frozenset[str]:
    """The folded forms of the space-separated ``words``."""
    return frozenset(fold(w) for w in words.split())


def _add(table: dict[str, Word], words: str, word: Word) -> None:
    for w in words.split():
        table.setdefault(fold(w), word)


ARABIC: dict[str, Word] = {}
for _words, _value, _kind in (
    ("صفر", 0, ZERO),
    ("واحد واحدة واحدا", 1, UNIT),
    ("اثنان اثنين اثنتان اثنتين ثنتان ثنتين", 2, UNIT),
    # With the accusative ending (ثلاثًا، أربعًا) too: tanween folds away, its alif stays.
    ("ثلاث ثلاثة ثلاثا", 3, UNIT),
    ("أربع أربعة أربعا", 4, UNIT),
    ("خمس خمسة خمسا", 5, UNIT),
    ("ست ستة", 6, UNIT),
    ("سبع سبعة سبعا", 7, UNIT),
    ("ثمان ثماني ثمانية ثمانيا", 8, UNIT),
    ("تسع تسعة تسعا", 9, UNIT),
    ("عشر عشرة عشرا", 10, UNIT),
    ("أحد إحدى", 1, TEEN_HEAD),
    ("اثنا اثني اثنتا اثنتي", 2, TEEN_HEAD),
    ("عشرون عشرين", 20, TEN),
    ("ثلاثون ثلاثين", 30, TEN),
    ("أربعون أربعين", 40, TEN),
    ("خمسون خمسين", 50, TEN),
    ("ستون ستين", 60, TEN),
    ("سبعون سبعين", 70, TEN),
    ("ثمانون ثمانين", 80, TEN),
    ("تسعون تسعين", 90, TEN),
    ("مئة مائة", 100, HUNDRED),
    ("مئتان مئتين مائتان مائتين مئتا مئتي مائتا مائتي", 200, HUNDRED),
    ("ثلاثمائة ثلاثمئة", 300, HUNDRED),
    ("أربعمائة أربعمئة", 400, HUNDRED),
    ("خمسمائة خمسمئة", 500, HUNDRED),
    ("ستمائة ستمئة", 600, HUNDRED),
    ("سبعمائة سبعمئة", 700, HUNDRED),
    ("ثمانمائة ثمانمئة ثمانيمائة ثمانيمئة", 800, HUNDRED),
    ("تسعمائة تسعمئة", 900, HUNDRED),
    ("ألف", 1e3, SCALE),
    ("ألفا", 1e3, SCALE),
    ("مليون مليونا", 1e6, SCALE),
    ("مليار مليارا بليون", 1e9, SCALE),
    ("تريليون ترليون", 1e12, SCALE),
    ("ألفين ألفان ألفي", 2e3, SCALE_DUAL),
    ("مليونين مليونان مليوني", 2e6, SCALE_DUAL),
    ("مليارين ملياران ملياري", 2e9, SCALE_DUAL),
):
    _add(ARABIC, _words, Word(float(_value), _kind, "ar"))
# Folding turns ئ into ی: مئتين would fold like ميتين ("two dead"), مئتا like ميتًا
# ("dead"), مئة like مية ("water"). These words count only when written with ئ.
ARABIC_NEEDS_HAMZA = folded_words("مئة مئتان مئتين مئتا مئتي")
# And the reverse: وأحد ("and one of") folds like واحد ("one"); أبنية ("buildings") like
# ابنيه ("his two sons").
ARABIC_NO_HAMZA = folded_words(
    "واحد واحدة واحدا ابنيه ابنيها ابنيهم ابناه ابناها ابناهم ابنين ابنان"
)
for _words, _value in (("آلاف ألوف", 1e3), ("ملايين", 1e6), ("مليارات بلايين", 1e9)):
    _add(ARABIC, _words, Word(_value, SCALE, "ar", plural=True))
# Ordinals. "First" (أول، الأولى) is left out: it is also "beginning" and "prime"
# and names months (تشرين الأول); "second" as a word is also the unit of time
# (ثانية), handled in context.
for _words, _value, _kind in (
    ("ثاني ثانية ثان", 2, UNIT),
    ("ثالث ثالثة", 3, UNIT),
    ("رابع رابعة", 4, UNIT),
    ("خامس خامسة", 5, UNIT),
    ("سادس سادسة", 6, UNIT),
    ("سابع سابعة", 7, UNIT),
    ("ثامن ثامنة", 8, UNIT),
    ("تاسع تاسعة", 9, UNIT),
    ("عاشر عاشرة", 10, UNIT),
    ("حادي حادية", 1, TEEN_HEAD),
):
    _add(ARABIC, _words, Word(float(_value), _kind, "ar", ordinal=True))

# Arabic says "two X" with the dual of X: منذ عامين "two years ago", بهدفين "by two
# goals". The suffix is read only on nouns listed here, where it cannot be anything
# else: -ين/-ان on nouns whose plural is broken (عام/أعوام, صندوق/صناديق); only -ان on
# nouns with a sound plural, whose -ين is also the plural (لاعبين "players", لاعبان
# "two players"); -تين/-تان on nouns in ة, whose plural is -ات (محاولتين, درجتين).
# بلدان is also the plural of بلد, جيشان "surge", فوزان and صاروخان names: -ين only.
_BROKEN = (
    "عام يوم شهر أسبوع قرن عقد هدف شوط شخص طفل رجل زوج فريق طرف جانب بلد ابن صندوق شقيق"
    " حفيد اقتصاد فوز منعطف حزب جيش بنك صاروخ مطار قطار فيلم منزل بيت سبب نوع جندي عضو"
    " وزير هجوم انفجار اتفاق كتاب مسجد قارب قتيل جريح"
)
_SOUND = "لاعب مسؤول موظف مدرب صحفي دبلوماسي ناشط مواطن مرشح مسلح شرطي مهاجم معتقل مصاب"
_FEMININE = (
    "سنة ساعة دقيقة لحظة مرة دولة نقطة مباراة حكومة سيدة امرأة مرحلة جولة محاولة درجة"
    " ركلة تسديدة شقيقة ابنة طفلة فتاة زوجة طائرة سيارة شركة مدينة قرية جلسة عملية حالة"
    " قضية رصاصة قذيفة ضربة غارة سفينة طلقة صفقة فترة ولاية جائزة ميدالية رحلة نسخة"
    " قطعة رسالة خطوة لغة جامعة منظمة ليلة مدرسة كلمة حلقة دورة قارة مسابقة بطولة"
)
# Kin with a pronoun: ابناه / ابنيه "his two sons" (his son is ابنه), حفيداه, ابنتاها;
# written with ه, not ة (أبنية "buildings" and طفلية "childish" fold alike).
_KIN = "ابن حفيد شقيق طفل ابنة حفيدة شقيقة"
# Before its genitive the dual drops its ن: صندوقي استثمار "two investment funds",
# طرفي النزاع "the two parties". Read only before a word (numbers.py), and only for
# nouns whose -ي is not also an adjective (يومي "daily", شخصي "personal") or, often,
# "my" (ابني "my son").
_CONSTRUCT = "صندوق طرف"
for _noun in _BROKEN.split():
    _forms = [_noun + "ين"] + ([] if _noun in ("بلد", "فوز", "جيش", "صاروخ") else [_noun + "ان"])
    _add(ARABIC, " ".join(_forms), Word(2.0, DUAL, "ar"))
for _noun in _SOUND.split():
    _add(ARABIC, _noun + "ان", Word(2.0, DUAL, "ar"))
for _noun in _FEMININE.split():
    _add(ARABIC, f"{_noun[:-1]}تين {_noun[:-1]}تان", Word(2.0, DUAL, "ar"))
for _noun in _KIN.split():
    _stem = _noun[:-1] + "ت" if _noun.endswith("ة") else _noun
    _add(
        ARABIC,
        " ".join(_stem + e for e in ("اه", "اها", "اهم", "يه", "يها", "يهم")),
        Word(2.0, DUAL, "ar"),
    )
for _noun in _CONSTRUCT.split():
    _add(ARABIC, _noun + "ي", Word(2.0, DUAL, "ar", construct=True))

# Arabic words that take proclitics (و ف ب ل ك ال): a stem this short glued to one is
# more often another word (لست "I am not", وست, بست) than a number; the article alone
# (الست "the six") is still read.
ARABIC_MIN_STEM_WITH_CLITIC = 3
ARABIC_CLITICS = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "وب", "ول", "فب", "فل", "و", "ف", "ب", "ل", "ك")  # fmt: skip

PERSIAN: dict[str, Word] = {}
for _words, _value, _kind in (
    ("صفر", 0, ZERO),
    ("یک", 1, UNIT),
    ("دو", 2, UNIT),
    ("سه", 3, UNIT),
    ("چهار", 4, UNIT),
    ("پنج", 5, UNIT),
    ("شش شیش", 6, UNIT),
    ("هفت", 7, UNIT),
    ("هشت", 8, UNIT),
    ("نه", 9, UNIT),
    ("ده", 10, TEEN),
    ("یازده", 11, TEEN),
    ("دوازده", 12, TEEN),
    ("سیزده", 13, TEEN),
    ("چهارده", 14, TEEN),
    ("پانزده پونزده", 15, TEEN),
    ("شانزده", 16, TEEN),
    ("هفده هفتده", 17, TEEN),
    ("هجده هیجده هژده", 18, TEEN),
    ("نوزده", 19, TEEN),
    ("بیست", 20, TEN),
    ("سی", 30, TEN),
    ("چهل", 40, TEN),
    ("پنجاه", 50, TEN),
    ("شصت", 60, TEN),
    ("هفتاد", 70, TEN),
    ("هشتاد", 80, TEN),
    ("نود", 90, TEN),
    ("صد یکصد", 100, HUNDRED),
    ("دویست", 200, HUNDRED),
    ("سیصد", 300, HUNDRED),
    ("چهارصد", 400, HUNDRED),
    ("پانصد", 500, HUNDRED),
    ("ششصد", 600, HUNDRED),
    ("هفتصد", 700, HUNDRED),
    ("هشتصد", 800, HUNDRED),
    ("نهصد", 900, HUNDRED),
    ("هزار", 1e3, SCALE),
    ("میلیون ملیون", 1e6, SCALE),
    ("میلیارد ملیارد بیلیون", 1e9, SCALE),
    ("تریلیون", 1e12, SCALE),
):
    _add(PERSIAN, _words, Word(float(_value), _kind, "fa"))
# Persian ordinals are the cardinal plus ـم or ـمین (سوم for سه, سی‌ام for سی).
# یکم and اول (first) are dates' business, and only count inside a compound.
for _key, _word in list(PERSIAN.items()):
    if _word.kind in (ZERO, SCALE) and _key != fold("هزار"):
        continue
    _stems = {"سه": ("سو",), "سی": ("سیا", "سی ا")}.get(_key, (_key,))
    for _stem in _stems:
        # دومش "his second", دومی "the second one"
        for _suffix in ("م", "مین", "مش", "می"):
            _ordinal = fold(_stem + _suffix)
            PERSIAN.setdefault(_ordinal, Word(_word.value, _word.kind, "fa", ordinal=True))
PERSIAN.setdefault(fold("سی‌ام"), Word(30.0, TEN, "fa", ordinal=True))

ENGLISH: dict[str, Word] = {}
for _words, _value, _kind in (
    ("zero", 0, ZERO),
    ("one", 1, UNIT), ("two", 2, UNIT), ("three", 3, UNIT), ("four", 4, UNIT),
    ("five", 5, UNIT), ("six", 6, UNIT), ("seven", 7, UNIT), ("eight", 8, UNIT),
    ("nine", 9, UNIT), ("ten", 10, TEEN), ("eleven", 11, TEEN), ("twelve", 12, TEEN),
    ("thirteen", 13, TEEN), ("fourteen", 14, TEEN), ("fifteen", 15, TEEN),
    ("sixteen", 16, TEEN), ("seventeen", 17, TEEN), ("eighteen", 18, TEEN),
    ("nineteen", 19, TEEN), ("twenty", 20, TEN), ("thirty", 30, TEN), ("forty", 40, TEN),
    ("fifty", 50, TEN), ("sixty", 60, TEN), ("seventy", 70, TEN), ("eighty", 80, TEN),
    ("ninety", 90, TEN), ("hundred", 100, HUNDRED), ("dozen", 12, TEEN),
    ("thousand", 1e3, SCALE), ("million", 1e6, SCALE), ("billion", 1e9, SCALE),
    ("trillion", 1e12, SCALE),
):  # fmt: skip
    _add(ENGLISH, _words, Word(float(_value), _kind, "en"))

# Scale abbreviations count only glued to digits ("$3m", "2.5bn", "10k"): alone, "M"
# is M&S and "k" a letter.
GLUED_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}

# Words that say "percent" after a number (في المئة is two words: see numbers.py).
PERCENT_WORDS = folded_words("درصد بالمئة بالمائة percent المئة المائة")
# The first word of a two-word Arabic month name: an ordinal after it is the name
# (كانون الثاني is January, not "the second").
MONTH_HEADS = folded_words("كانون تشرين ربيع جمادى")
# Persian nouns that a bare یک / نه / ده counts: units of time, measure and money, and
# counters (نفر، تن، بار...). Elsewhere یک is the indefinite article ("یک منبع"), نه
# is "not" and ده is "village", so those words count only before one of these.
PERSIAN_COUNTED = folded_words(
    "ثانیه دقیقه ساعت روز شب شبانه‌روز هفته ماه سال سده قرن دهه هزاره"
    " نفر تن بار مورد عدد دستگاه فروند قطعه جلد نوبت فقره رأس راس باب"
    " درصد متر کیلومتر سانتیمتر میلیمتر کیلوگرم کیلو گرم لیتر هکتار مترمربع"
    " دلار یورو ریال تومان پوند درهم دینار روبل"
    " میلیون میلیارد هزار صد"
)
# Persian glues a number to the noun it counts and makes an adjective of it with ـه or
# ـی / ـای, which may take a pronoun (فرزند چهارساله‌ام "my four-year-old child",
# دونفری, پنج‌دقیقه‌ای). Not بار, تن, شب, روز: دوباره "again", یکباره "suddenly",
# یک‌تنه "single-handed", یکشبه "overnight", روزه "fasting".
_ADJECTIVE_NOUNS = folded_words("سال ماه ساعت دقیقه ثانیه هفته نفر متر کیلومتر درصد")
_ENCLITICS = ("", "م", "ام", "ت", "ات", "ش", "اش", "مان", "تان", "شان", "ی", "ای")
PERSIAN_COUNTED_FORMS = (
    frozenset(
        noun + suffix + enclitic
        for noun in _ADJECTIVE_NOUNS
        for suffix in (("ای",) if noun.endswith("ه") else ("ه", "ی"))
        for enclitic in _ENCLITICS
    )
    | PERSIAN_COUNTED
)
# Spaced after یک or ده (which count only before a counted noun): ده ساله, یک ماهه.
PERSIAN_COUNTED_SPACED = PERSIAN_COUNTED | folded_words("ساله ماهه")
# A scale made an adjective: جمعیت ۲.۲ میلیونی غزه "Gaza's 2.2-million population",
# ۱۰ هزارنفری, ۵۰ میلیون‌دلاری. Only after a count: "تظاهرات میلیونی" is a vast march.
# (Not ملیون / ملیارد: they fold like Arabic مليوني, ملياري "two million / billion".)
PERSIAN_SCALE_ADJECTIVES = {
    fold(scale) + tail: value
    for scale, value in (("هزار", 1e3), ("میلیون", 1e6), ("میلیارد", 1e9), ("تریلیون", 1e12))
    for tail in ("ی", *(noun + sfx for noun in PERSIAN_COUNTED for sfx in ("ی", "ه", "ای")))
}
# Nouns of measure after which و نصف / و نیم adds a half: حبة ونصف (1.5), ثلاث سنوات
# ونصف (3.5), یک ماه و نیم. The singular alone counts one (ساعة ونصف: an hour and a half).
ARABIC_HALF_UNITS = folded_words(
    "ساعة يوم أسبوع شهر سنة عام دقيقة قرن عقد متر كيلومتر كيلو كيلوغرام غرام لتر ميل طن"
    " حبة قطعة كوب ملعقة رغيف مرة ضعف درجة نقطة"
)
ARABIC_HALF_UNITS_COUNTED = ARABIC_HALF_UNITS | folded_words(
    "ساعات أيام يوما أسابيع أسبوعا أشهر شهور شهرا سنوات سنين أعوام عاما دقائق دقيقة قرون"
    " قرنا عقود عقدا أمتار مترا كيلومترات كيلومترا كيلوغرامات لترات لترا أميال ميلا أطنان"
    " طنا حبات قطع أكواب ملاعق مرات أضعاف ضعفا درجات نقاط"
)
PERSIAN_HALF_UNITS = PERSIAN_COUNTED - folded_words("میلیون میلیارد هزار صد درصد")

# Latin letters as Persian spells them: "بی بی سی" is BBC, "سی ان ان" CNN, "دی وی دی" DVD.
# A number word next to one of these is a letter of an acronym.
LETTER_NAMES = folded_words(
    "ای بی سی دی اف جی اچ آی کی ال ام ان او پی کیو آر اس تی یو وی دبلیو دابلیو دابیلو ایکس اکس وای زد"
)


# ---------------------------------------------------------------------------------------
# Tokens: words, and digits read with their separators
# ---------------------------------------------------------------------------------------

_DIGIT = "0-9٠-٩۰-۹"
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
# A word keeps its diacritics (a shadda must not split صدّقت into صد + قت) and the
# ZWNJ inside it (سه‌شنبه is Tuesday, ده‌ها "tens of": neither is a number).
_TOKEN = re.compile(
    rf"(?P<num>[{_DIGIT}]+(?:[.,٫٬،/][{_DIGIT}]+)*)"
    rf"|(?P<word>[^\W\d_][^\W\d_{_MARKS}]*(?:[{_MARKS}]+[^\W\d_]*)*"
    rf"(?:\u200c[^\W\d_{_MARKS}][^\W\d_{_MARKS}]*(?:[{_MARKS}]+[^\W\d_]*)*)*)"
    # Soft hyphens and direction marks are invisible: "بی\u00adبی\u00adسی" is بی بی سی.
    r"|(?P<other>[^\s\u00ad\u200b-\u200f\u2060\ufeff])"
)
_GROUP = re.compile(rf"[{_DIGIT}]+|[^{_DIGIT}]")


@dataclass
class Token:
    """A word, a number written in digits (its value read), or another sign."""

    kind: str  # "num", "word", "other"
    text: str
    start: int
    end: int
    key: str = ""  # folded word
    value: float = 0.0  # num
    grouped: bool = False  # num: written with a separator (1,500 or 2.5)


# ---------------------------------------------------------------------------------------
# Digits
# ---------------------------------------------------------------------------------------


def _digits_value(chunk: str, scale_follows: bool) -> list[tuple[float, int, int, bool]]:
    """The numbers in a run of digits and separators: (value, start, end, grouped)."""
    parts = _GROUP.findall(to_ascii_digits(chunk))
    groups, seps = parts[0::2], parts[1::2]
    offsets = [sum(len(p) for p in parts[:n]) for n in range(0, len(parts), 2)]
    out: list[tuple[float, int, int, bool]] = []
    i = 0
    while i < len(groups):
        j = i  # the last group this number takes
        int_digits = groups[i]
        thousands = None
        # Thousands: one kind of separator, each followed by exactly three digits.
        if i < len(seps) and seps[i] in ",٬،." and len(groups[i]) <= 3 and len(groups[i + 1]) == 3:
            sep, k = seps[i], i
            while k < len(seps) and seps[k] == sep and len(groups[k + 1]) == 3:
                k += 1
            ok = True
            if sep == ".":
                # A dot groups thousands only when it is repeated (1.500.000) or ends a
                # round group no one writes a decimal with (360.000, 3.500), and no
                # scale word follows ("20.500 مليار" is a decimal).
                ok = k - i >= 2 or (
                    k == len(seps)
                    and not scale_follows
                    and groups[i] != "0"
                    and groups[k].endswith("0")
                )
            if ok:
                thousands, int_digits, j = sep, "".join(groups[i : k + 1]), k
        frac = ""
        if j < len(seps):
            sep, digits = seps[j], groups[j + 1]
            last = j + 1 == len(groups) - 1
            if sep in ".٫":
                # 1403.04.07 is a date, not a decimal.
                decimal = thousands != "." and seps.count(sep) == 1
            elif sep in ",٬":
                # "۲٬۵۲ میلیون", "1,5 مليار": a comma before one or two final digits is a
                # decimal mark when a scale follows; elsewhere it separates a list.
                decimal = thousands is None and len(digits) <= 2 and last and scale_follows
            else:
                # Persian "۲/۵ درصد"; "12/5" alone is a date or a fraction.
                decimal = sep == "/" and len(seps) == 1 and len(digits) <= 2 and scale_follows
            if decimal:
                frac, j = digits, j + 1
        value = float(int_digits + ("." + frac if frac else ""))
        out.append((value, offsets[i], offsets[j] + len(groups[j]), j > i))
        i = j + 1
    return out


# ---------------------------------------------------------------------------------------
# Tokens and atoms
# ---------------------------------------------------------------------------------------

SCALE_WORDS = frozenset(
    k for table in (ARABIC, PERSIAN, ENGLISH) for k, w in table.items() if w.kind == SCALE
)
FI = fold("في")
PERCENT_AFTER_FI = frozenset(fold(w) for w in ("المئة", "المائة", "مئة", "مائة"))


def _raw_tokens(text: str) -> list[Token]:
    raw = [(m.lastgroup or "other", m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out: list[Token] = []
    for n, (kind, tok, start, end) in enumerate(raw):
        if kind != "num":
            out.append(Token(kind, tok, start, end, key=fold(tok) if kind == "word" else ""))
            continue
        after = [fold(r[1]) if r[0] == "word" else r[1] for r in raw[n + 1 : n + 3]] + ["", ""]
        scale_follows = (
            after[0] in SCALE_WORDS
            or after[0] in PERSIAN_SCALE_ADJECTIVES
            or after[0] in GLUED_SCALES
            or after[0] in PERCENT_WORDS
            or after[0] in ("%", "٪")
            or (after[0] == FI and after[1] in PERCENT_AFTER_FI)
        )
        for value, s, e, grouped in _digits_value(tok, scale_follows):
            out.append(Token("num", tok[s:e], start + s, start + e, value=value, grouped=grouped))
    return out


_HOUR_BEFORE = folded_words("الساعة ساعة ساعت")
_HOUR_AFTER = folded_words("صباحا صباحًا مساء مساءً ظهرا فجرا صبح عصر شب ظهر بامداد بعدازظهر am pm")


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``; "الساعة 7.55 صباحًا" is a time: hour and minutes are two numbers."""
    return _split_times(_raw_tokens(text))


def _split_times(toks: list[Token]) -> list[Token]:
    """ "الساعة 7.55 صباحًا" is a time, not a decimal: hour and minutes are two numbers."""
    out: list[Token] = []
    for n, tok in enumerate(toks):
        digits = to_ascii_digits(tok.text)
        hm = re.fullmatch(r"(\d{1,2})[.٫](\d{2})", digits) if tok.kind == "num" else None
        prev = toks[n - 1].key if n > 0 else ""
        nxt = toks[n + 1].key if n + 1 < len(toks) else ""
        if (
            hm
            and int(hm.group(1)) <= 24
            and int(hm.group(2)) < 60
            and (
                prev in _HOUR_BEFORE
                or nxt in _HOUR_AFTER
                or (nxt == fold("بعد") and n + 3 < len(toks) and toks[n + 3].key == fold("ظهر"))
            )
        ):
            cut = tok.start + len(hm.group(1))
            out.append(
                Token("num", tok.text[: len(hm.group(1))], tok.start, cut, value=float(hm.group(1)))
            )
            out.append(
                Token(
                    "num",
                    tok.text[len(hm.group(1)) + 1 :],
                    cut + 1,
                    tok.end,
                    value=float(hm.group(2)),
                )
            )
            continue
        out.append(tok)
    return out
