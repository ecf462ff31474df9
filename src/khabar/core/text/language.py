"""Language detection in code: Arabic, Persian, Urdu and a few others, by letters and function words."""

from __future__ import annotations

import collections
import re

# ---------------------------------------------------------------------------------------
# Language detection
# ---------------------------------------------------------------------------------------

# Letters only one of the two languages writes. Persian never writes ة ى إ; it
# writes أ and ؤ in a few loanwords (تأکید، مؤسسه، رؤسا: about 2 per 1000 words,
# against 100 in Arabic), so those two count half.
_FA_STRONG = frozenset("پچژگ")
_AR_STRONG = frozenset("ةىإ")
_AR_HAMZA = frozenset("أؤ")
# Persian ی and ک: Arabic sites type ي and ك. The reverse is not evidence: many
# Persian sites (Fars News among them) type Arabic ي and ك, so ي/ك only break ties.
_FA_WEAK = frozenset("یک")
_AR_WEAK = frozenset("يك")
# Letters only Urdu writes among the three (retroflexes, noon ghunna, yeh barree,
# heh goal ہ). Not do-chashmi heh ھ: Urdu-style keyboards and PDF extraction give it
# for plain ه, so Arabic and Persian typed or extracted that way carry it too.
_UR_LETTERS = frozenset("ٹڈڑںےۓہ")
# ZWNJ joins Persian verb prefixes and plural suffixes (می‌شود، کشورها): about 50 per
# 1000 words of Persian news, none in Arabic.
_ZWNJ = "\u200c"
_YEH_KAF = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی"})
# What a word may carry around it and still be that word: «است.» is است.
_PUNCT = ".,;:!?\"'()[]{}«»،؛؟…“”‘’*-–—/\\|<>#%"


def _spellings(words: str) -> frozenset[str]:
    # Each word as written here (إلى with its alef maksura), and as typed with Persian
    # and with Arabic yeh/kaf: matching then needs no per-word normalization
    # (measured: translate() was a third of a cache hit's time).
    persian = words.translate(_YEH_KAF).split()
    arabic = [w.replace("ی", "ي").replace("ک", "ك") for w in persian]
    return frozenset(words.split() + persian + arabic)


# Function words, auxiliaries and a few news staples frequent in one language and
# (nearly) absent from the other, measured on the real corpora (../shared/corpora:
# BBC Arabic, NTREX, Fars, Tasnim, Hamshahri): each is under 1 per 1000 words in the
# other language.
# Words carrying پ چ ژ گ are left out: the letters already count. Left out on
# purpose: او and اما and یا (Arabic typed without hamza: أو، أما، يا), من and ما
# (both languages), بین and حتی (both), هم (Arabic "they": a short Arabic headline
# "من هم؟" has nothing else).
_FA_WORDS = _spellings(
    "است را این می نمی های برای شد کرد شده نیز آن یک ها اند بود خود کند کنند شود"
    " با از که در تا بر وی باید خواهد دارد داد هستند نیست آنها اینکه همچنین شوند"
    # Past tenses and the news words Arabic says otherwise (بالمئة، ألف، عام).
    " شدند کردند نبود یافت درصد هزار سال"
) - {"مي"}  # Arabic مي is the name Mai; Persian مي‌ (Fars) is caught by its ZWNJ

# به is Persian's commonest preposition (29 per 1000 words) and a real Arabic word
# ("with it", under 1 per 1000): it counts a third of a function word.
_FA_WEAK_WORDS = _spellings("به")
# على is added as typed, not through _spellings: its yeh spellings علي / علی are the
# name Ali in both languages (and Fars types it علي).
_AR_WORDS = _spellings(
    "في إلى الى التي الذي عن أن كان قد هذا هذه ذلك لم بعد مع التى إن"
    " قال وقال كما أو حيث منذ خلال لا كانت أنه هو وقد وفي ثم إلا لدى هل"
) | {"على"}

# Urdu postpositions and copulas (کا، کے، ہے، میں...): Urdu is decided by its own
# letters; these weigh it against the Persian letters and words it shares.
_UR_WORDS = frozenset({"کا", "کی", "کے", "ہے", "ہیں", "نے", "سے", "کو", "میں", "اور", "یہ", "وہ"})

_EN_WORDS = frozenset(
    ["the", "of", "and", "to", "in", "is", "that", "for", "on", "with", "was", "said", "by"]
)
_FR_WORDS = frozenset(["le", "la", "les", "des", "est", "une", "dans", "pour", "que", "qui", "sur"])
_ES_WORDS = frozenset(["el", "los", "las", "del", "que", "una", "por", "para", "con", "se"])
_DE_WORDS = frozenset(["der", "die", "das", "und", "ist", "nicht", "mit", "von", "den", "sich"])


# Arabic script, presentation forms included.
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\ufb50-\ufeff]")
# Other scripts whose language the script alone (nearly) decides.
_OTHER_SCRIPTS = (
    # Latin letters only: the Latin block also holds digits and punctuation.
    ("latn", re.compile("[A-Za-z\u00c0-\u024f]")),
    ("cyrl", re.compile("[\u0400-\u04ff]")),
    ("hebr", re.compile("[\u0590-\u05ff]")),
    ("kana", re.compile("[\u3040-\u30ff]")),
    ("hani", re.compile("[\u4e00-\u9fff]")),
    ("deva", re.compile("[\u0900-\u097f]")),
    ("grek", re.compile("[\u0370-\u03ff]")),
)


def _count(sample: str, chars: frozenset[str]) -> int:
    return sum(sample.count(ch) for ch in chars)


def _arabic_script_language(sample: str, arabic: int) -> str:
    """Arabic, Persian or Urdu for a sample written mostly in Arabic script."""
    # Counted at C speed (str.count, str.replace, Counter): this runs on every
    # article, cache hits too.
    ur_letters = _count(sample, _UR_LETTERS)
    ur = 5.0 * ur_letters
    fa = 2.0 * _count(sample, _FA_STRONG) + 0.5 * _count(sample, _FA_WEAK)
    fa += sample.count(_ZWNJ)
    ar = 2.0 * _count(sample, _AR_STRONG) + _count(sample, _AR_HAMZA)
    if "ھ" in sample:  # do-chashmi heh typed for ه: هذا typed ھذا is still هذا
        sample = sample.replace("ھ", "ه")
    # ZWNJ as a space: می‌شود and کشورها hold the words می and ها.
    for token, n in collections.Counter(sample.replace(_ZWNJ, " ").split()).items():
        word = token.strip(_PUNCT)
        if word in _FA_WORDS:
            fa += 3.0 * n
        elif word in _AR_WORDS:
            ar += 3.0 * n
        elif word in _FA_WEAK_WORDS:
            fa += n
        elif word in _UR_WORDS:
            ur += 3.0 * n
        elif len(word) > 3 and word.startswith(("ال", "وال", "بال")):
            ar += n
    if ur_letters > 0.01 * arabic and ur > fa and ur > ar:
        return "ur"
    if fa == ar:
        # Nothing else tells them apart (a name, a short headline): the yeh and kaf
        # as typed, Arabic when even those are missing.
        return "fa" if _count(sample, _FA_WEAK) > _count(sample, _AR_WEAK) else "ar"
    return "fa" if fa > ar else "ar"


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, decided in code from script and function words.

    Arabic and Persian share a script; they are told apart by the letters only
    one uses (پ چ ژ گ and ZWNJ vs ة ى إ), by function words in either yeh/kaf
    spelling (است، را، می، برای vs في، على، الذي) and only then by the yeh and
    kaf as typed: many Persian sites (Fars News) type Arabic ي and ك. Urdu needs
    its own letters (ٹ ڈ ڑ ں ے ہ): do-chashmi heh ھ alone is a keyboard habit.
    Returns ``"und"`` when nothing can be said.

    >>> detect_language("او گفت این توافق تعهد تمامی کشورها را تضمین میکند.")
    'fa'
    >>> detect_language("أكد الرئيس الأوكراني أن البلدين بدأا العمل على توقيع اتفاق أمني")
    'ar'
    >>> detect_language("قيمت جهاني اورانيوم 19 درصد افزايش يافت")
    'fa'
    """
    sample = text[:4000]  # a few paragraphs decide; whole 50 kB pages cost time for nothing
    arabic = len(_ARABIC_SCRIPT.findall(sample))
    scripts: dict[str, int] = {"arab": arabic} if arabic else {}
    # The common case is decided at once: a page that is mostly Arabic script.
    if arabic * 2 <= len(sample):
        for name, pattern in _OTHER_SCRIPTS:
            count = len(pattern.findall(sample))
            if count:
                scripts[name] = count
    if not scripts:
        return "und"
    script = max(scripts, key=lambda k: scripts[k])
    if script == "arab":
        return _arabic_script_language(sample, scripts["arab"])
    simple = {"cyrl": "ru", "hebr": "he", "kana": "ja", "hani": "zh", "deva": "hi", "grek": "el"}
    if script in simple:
        return simple[script]
    if script == "latn":
        words = [w.strip(".,;:!?\"'()").lower() for w in sample.split()]
        counts = {
            lang: sum(1 for w in words if w in vocab)
            for lang, vocab in (
                ("en", _EN_WORDS),
                ("fr", _FR_WORDS),
                ("es", _ES_WORDS),
                ("de", _DE_WORDS),
            )
        }
        best = max(counts, key=lambda k: counts[k])
        return best if counts[best] else "und"
    return "und"
