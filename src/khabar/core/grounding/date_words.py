"""Month names and day ordinals of the Gregorian, Solar Hijri and Lunar Hijri calendars.

Arabic writes Gregorian months two ways, by their Syriac names in the Levant and Iraq
(كانون الثاني، شباط، تموز) and by their Latin names elsewhere (يناير، فبراير، يوليو),
often both at once ("12 تموز/يوليو"). Persian writes Gregorian months by their French
names (ژانویه، ژوئن) and Solar months often glued to ماه ("شهریورماه", "آبان‌ماه").
"""

from __future__ import annotations

from ..text.fold import fold

GREGORIAN = [
    "يناير كانون_الثاني ژانویه ژانويه جانفي january jan",
    "فبراير شباط فوریه فيفري فبرایر february feb",
    "مارس آذار march mar",
    "أبريل ابريل إبريل نيسان آوریل اپریل أفريل april apr",
    "مايو أيار ماي مه می may",
    "يونيو حزيران جوان ژوئن june jun",
    "يوليو تموز جويلية ژوئیه جولای july jul",
    "أغسطس اغسطس آب أوت اوت اگوست august aug",
    "سبتمبر أيلول سپتامبر september sep sept",
    "أكتوبر اكتوبر تشرين_الأول اکتبر october oct",
    "نوفمبر تشرين_الثاني نوامبر november nov",
    "ديسمبر كانون_الأول دسامبر december dec",
]
SOLAR = [
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد امرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
]  # fmt: skip
LUNAR = [
    "محرم", "صفر", "ربيع_الأول ربیع_الاول", "ربيع_الثاني ربيع_الآخر ربیع_الثانی",
    "جمادى_الأولى جمادی_الاولی جمادى_الأول", "جمادى_الآخرة جمادى_الثانية جمادی_الثانیه",
    "رجب", "شعبان", "رمضان", "شوال", "ذو_القعدة ذي_القعدة ذی_القعده", "ذو_الحجة ذي_الحجة ذی_الحجه",
]  # fmt: skip

# (calendar, folded words of the name, month number); "_" joins a two-word name.
MONTHS: list[tuple[str, tuple[str, ...], int]] = []
for _calendar, _table in (("gregorian", GREGORIAN), ("solar_hijri", SOLAR), ("lunar_hijri", LUNAR)):
    for _number, _names in enumerate(_table, start=1):
        for _name in _names.split():
            MONTHS.append((_calendar, tuple(fold(w) for w in _name.split("_")), _number))
# Two-word names first: تشرين الأول must win over a bare word.
MONTHS.sort(key=lambda m: -len(m[1]))

# Words that are months only next to a day or a year: مه "fog", می the verb prefix,
# مهر "seal", دی "yesterday"/D, آب "water", صفر "zero", مارس "March" and "he practised".
AMBIGUOUS = frozenset(
    fold(w)
    for w in (
        "مه", "می", "مهر", "دی", "آب", "مارس", "ماي", "صفر", "رجب", "تیر", "may", "mar",
        "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    )
)  # fmt: skip
# Single-word month names that are nothing else: "الأول من أكتوبر" is 1 October.
UNAMBIGUOUS_MONTH_WORDS = frozenset(
    names[0] for _, names, _ in MONTHS if len(names) == 1 and names[0] not in AMBIGUOUS
)
SOLAR_MONTH_WORDS = frozenset(fold(w) for names in SOLAR for w in names.split())
MAH = fold("ماه")
# Words that may stand between a day and its month: "24 من يونيو", "27 من شهر رمضان".
BETWEEN_DAY_AND_MONTH = frozenset(fold(w) for w in ("من", "شهر", "ماه"))
# Words that may stand between a month and its year: "مهر ماه 94", "يونيو من عام 2018".
BETWEEN_MONTH_AND_YEAR = frozenset(fold(w) for w in ("ماه", "سال", "عام", "من", "لعام")) | {
    "،",
    ",",
}

PERSIAN_ORDINALS = {
    "یکم": 1, "اول": 1, "نخست": 1, "دوم": 2, "سوم": 3, "چهارم": 4, "پنجم": 5, "ششم": 6,
    "هفتم": 7, "هشتم": 8, "نهم": 9, "دهم": 10, "یازدهم": 11, "دوازدهم": 12, "سیزدهم": 13,
    "چهاردهم": 14, "پانزدهم": 15, "شانزدهم": 16, "هفدهم": 17, "هجدهم": 18, "هیجدهم": 18,
    "نوزدهم": 19, "بیستم": 20, "سیام": 30, "سی‌ام": 30,
}  # fmt: skip
PERSIAN_TENS = {"بیست": 20, "سی": 30}
ARABIC_ORDINALS = {
    "الأول": 1, "أول": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5, "السادس": 6,
    "السابع": 7, "الثامن": 8, "التاسع": 9, "العاشر": 10,
}  # fmt: skip
FOLDED_ORDINALS = {fold(k): v for k, v in (PERSIAN_ORDINALS | ARABIC_ORDINALS).items()}
FOLDED_TENS = {fold(k): v for k, v in PERSIAN_TENS.items()}
# Arabic days past the tenth are compounds, units first: الخامس عشر (15th), الخامس
# والعشرين (25th), الحادي والثلاثين (31st); العشرين and الثلاثين alone are the 20th and
# 30th. الحادي is "first" only inside a compound.
ARABIC_UNIT_ORDINALS = {fold(k): v for k, v in ARABIC_ORDINALS.items() if v < 10} | {
    fold("الحادي"): 1
}
ARABIC_TEEN = fold("عشر")
ARABIC_TENS = {
    fold(w): v for w, v in (("العشرين", 20), ("عشرين", 20), ("الثلاثين", 30), ("ثلاثين", 30))
}

# Words that introduce a year: "منذ عام 1506", "إلى عام 1870", "در سال ۱۸۲۲", with the
# proclitics Arabic glues to them (لعام، بعام، والعام).
ARABIC_YEAR_WORDS = frozenset(
    fold(p + w) for w in ("عام", "سنة") for p in ("", "ال", "ل", "لل", "ب", "بال", "و", "وال", "ول")
)
PERSIAN_YEAR_WORDS = frozenset({fold("سال")})
# A year explicitly Gregorian: "۱۴۵۳ میلادی", "1870 ميلادية", "للميلاد".
GREGORIAN_MARKS = frozenset(fold(w) for w in ("میلادی", "ميلادي", "ميلادية", "للميلاد"))

# Words that join the two ends of a range or a list of months: "از آوریل تا ژوئیه
# ۲۰۲۵", "من أبريل إلى يوليو 2025", "بين أبريل ويوليو" (a glued و is a proclitic).
RANGE_JOINERS = frozenset(fold(w) for w in ("تا", "الی", "إلى", "الى", "حتى", "وحتى", "لغاية", "و"))

# After ماه, the Persian name of May (می, مه) is the month only when what follows cannot
# be the verb that the prefix می would open: the end, a year, a comma, or these words
# ("ماه می سال گذشته", "ماه می ۲۰۲۴", "ماه مه و ژوئن"; not "یک ماه می گذرد").
AFTER_MAH_MAY = frozenset(
    fold(w) for w in ("سال", "گذشته", "امسال", "آینده", "پارسال", "میلادی", "جاری", "و", "در", "تا")
) | {"،", ","}
MAY_NAMES = frozenset(fold(w) for w in ("می", "مه"))
