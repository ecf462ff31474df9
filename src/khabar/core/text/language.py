"""Language detection in code: Arabic, Persian, Urdu and a few others, by letters and function words."""

from __future__ import annotations

import collections
import re

# ---------------------------------------------------------------------------------------
# Language detection
# ---------------------------------------------------------------------------------------

# Letters only one of the two languages writes (strong), and the yeh/kaf code points
# each prefers (weak: some Persian sites type Arabic ي and ك).
_FA_STRONG = frozenset("پچژگ")
_AR_STRONG = frozenset("ةىإأؤ")
_FA_WEAK = frozenset("یک")
_AR_WEAK = frozenset("يك")
_UR_LETTERS = frozenset("ٹڈڑںےھ")
_YEH_KAF = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی"})


def _spellings(words: str) -> frozenset[str]:
    # Each word as typed with Persian and with Arabic yeh/kaf: matching then needs no
    # per-word normalization (measured: translate() was a third of a cache hit's time).
    persian = words.translate(_YEH_KAF).split()
    arabic = [w.replace("ی", "ي").replace("ک", "ك") for w in persian]
    return frozenset(persian + arabic)


# Function words that are frequent in one language and (nearly) absent from the other;
# alef forms are kept as typed, which still tells آن (fa) from أن (ar).
_FA_WORDS = _spellings("است را این می های برای شد کرد شده نیز آن یک ها اند بود هم خود کند کنند شود")
_AR_WORDS = _spellings("في على إلى الى التي الذي عن أن كان قد هذا هذه ذلك لم بعد مع التى إن")
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


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, decided in code from script and function words.

    Arabic and Persian share a script; they are told apart by the letters only
    one uses (پ چ ژ گ, Persian ی/ک vs Arabic ي/ك/ة) and by function words
    (است، را، می vs في، على، الذي), which also works for Persian sites that
    type Arabic yeh and kaf. Returns ``"und"`` when nothing can be said.

    >>> detect_language("او گفت این توافق تعهد تمامی کشورها را تضمین میکند.")
    'fa'
    >>> detect_language("أكد الرئيس الأوكراني أن البلدين بدأا العمل على توقيع اتفاق أمني")
    'ar'
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
        # Counted at C speed (str.count, Counter): this runs on every article, cache hits too.
        fa = ar = 0.0
        for word, n in collections.Counter(sample.split()).items():
            if word in _FA_WORDS:
                fa += 3.0 * n
            elif word in _AR_WORDS:
                ar += 3.0 * n
            elif len(word) > 3 and word.startswith(("ال", "وال", "بال")):
                ar += n

        def letters(chars: frozenset[str]) -> int:
            return sum(sample.count(ch) for ch in chars)

        fa += 2.0 * letters(_FA_STRONG) + 0.5 * letters(_FA_WEAK)
        ar += 2.0 * letters(_AR_STRONG) + 0.5 * letters(_AR_WEAK)
        ur = letters(_UR_LETTERS)
        if ur > 0.01 * scripts["arab"] and ur * 5 > fa:
            return "ur"
        return "fa" if fa > ar else "ar"
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
