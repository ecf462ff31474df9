"""Numbers as a text states them: digits in any script, scale words, number words.

Digits: thousands are grouped with ``,`` ``٬`` or the Arabic comma ``،`` (``30،000``),
or with dots when that cannot be a decimal (``360.000``, ``1.500.000``); the decimal
mark is ``.`` or ``٫``, and ``٬`` or ``,`` before one or two digits when a scale or
"percent" follows (``۲٬۵۲ میلیون``). A hyphen is a minus sign only where nothing
precedes it but a space, and not after a number (``F-16``, ``10 -15``).

Words (:mod:`.number_words`) are read per language, as whole words: Arabic words may
carry the proclitics و ف ب ل ك ال (stems of three letters or more), Persian words carry
none. Compounds are read as one number (بیست و پنج, خمسة وعشرين, ثلاثة عشر,
۱۲ هزار و ۵۰۰, مليون ونصف) and so are ordinals (سی و ششمین, الثالثة عشر). Words that
are numbers only in some contexts are read only there: Persian یک, نه and ده before a
counted noun or inside a compound, سی not inside a spelled acronym (بی بی سی), الاثنين
never (Monday), "في المئة" as "percent", plural scales (آلاف) only after a count.
Arabic duals state two on the nouns :mod:`.number_words` lists (شقيقان, بدرجتين,
صندوقي استثمار); "and a half" after a noun of measure adds a half (حبة ونصف 1.5, ثلاث
سنوات ونصف 3.5, یک ماه و نیم 1.5); Persian adjectives of a count and of a scale read as
the count (چهارساله‌ام 4, ۲.۲ میلیونی 2,200,000; a scale adjective only after a count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..digest import NumberFact
from ..text.fold import fold
from . import date_words as dw
from . import number_words as nw

# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedNumber:
    """A number stated in a text: its value (scale words applied) and where it was."""

    value: float
    text: str
    start: int
    end: int
    ordinal: bool = False
    percent: bool = False


_DASHES = "-−‐‑–"


@dataclass
class _Atom:
    value: float
    kind: str
    ordinal: bool = False
    plural: bool = False
    language: str = ""
    wa: bool = False  # a glued conjunction: وعشرين
    definite: bool = False  # a glued article: الثالث
    digits: bool = False
    year_like: bool = False
    counted: bool = False  # Persian glued to a counted noun: دوسال
    construct: bool = False  # a dual before its genitive: صندوقي استثمار
    adjective: bool = False  # a scale made an adjective: ۲.۲ میلیونی, only after a count


def _languages(language: str | None) -> tuple[str, ...]:
    if language is None:
        return ("fa", "ar", "en")
    return (language,) if language in ("fa", "ar", "en") else ("fa", "ar", "en")


_MONDAY = frozenset(fold(w) for w in ("اثنين", "اثنان"))
_HARAKAT = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"


def _lookup(key: str, raw: str, languages: tuple[str, ...]) -> _Atom | None:
    """The number word ``key`` (folded) is, in the first of ``languages`` that has it."""
    for lang in languages:
        if lang == "fa" and key in nw.PERSIAN:
            w = nw.PERSIAN[key]
            return _Atom(w.value, w.kind, w.ordinal, w.plural, "fa")
        if lang == "fa" and key in nw.PERSIAN_SCALE_ADJECTIVES:
            return _Atom(nw.PERSIAN_SCALE_ADJECTIVES[key], nw.SCALE, language="fa", adjective=True)
        if lang == "fa":
            # A number glued to the noun it counts: دوسال, یکبار (a space or ZWNJ dropped).
            for cut in range(2, len(key) - 1):
                head = nw.PERSIAN.get(key[:cut])
                if not head or head.ordinal or head.kind == nw.SCALE:
                    continue
                tail = nw.PERSIAN.get(key[cut:])
                scale = tail.value if tail and tail.kind == nw.SCALE and not tail.ordinal else None
                scale = scale or nw.PERSIAN_SCALE_ADJECTIVES.get(key[cut:])
                if scale:
                    # یک‌هزار, دوهزار, دوهزارنفری: the scale is part of the number
                    return _Atom(head.value * scale, nw.SCALE, language="fa", counted=True)
                if key[cut:] in nw.PERSIAN_COUNTED_FORMS:
                    return _Atom(head.value, head.kind, False, False, "fa", counted=True)
        if lang == "en" and key in nw.ENGLISH:
            w = nw.ENGLISH[key]
            return _Atom(w.value, w.kind, w.ordinal, w.plural, "en")
        if lang != "ar":
            continue
        hamza = "ئ" in raw
        if key in nw.ARABIC_NO_HAMZA and any(c in raw for c in "أإ"):
            continue
        # The duals that fold to a final ه end in ه: ابنيه, not أبنية "buildings".
        teh_marbuta = raw.rstrip(_HARAKAT).endswith("ة")
        if key in nw.ARABIC and (hamza or key not in nw.ARABIC_NEEDS_HAMZA):
            w = nw.ARABIC[key]
            if w.kind == nw.DUAL and teh_marbuta:
                continue
            return _Atom(w.value, w.kind, w.ordinal, w.plural, "ar", construct=w.construct)
        for clitic in nw.ARABIC_CLITICS:
            stem = key[len(clitic) :]
            if not key.startswith(clitic) or stem not in nw.ARABIC:
                continue
            if stem in nw.ARABIC_NEEDS_HAMZA and not hamza:
                break
            if stem in nw.ARABIC_NO_HAMZA and any(c in raw for c in "أإ"):
                break
            if len(stem) < nw.ARABIC_MIN_STEM_WITH_CLITIC and clitic != "ال":
                break
            w = nw.ARABIC[stem]
            if w.kind == nw.DUAL and teh_marbuta:
                break
            definite = clitic.endswith("ال") or clitic == "لل"
            if definite and (stem in _MONDAY or w.construct or w.kind in (nw.SCALE, nw.HUNDRED, nw.SCALE_DUAL)):  # fmt: skip
                # الاثنين is Monday; المئة is "percent" (في المئة), الآلاف "the
                # thousands", الألف the letter alif more often than "the thousand".
                break
            return _Atom(w.value, w.kind, w.ordinal, w.plural, "ar", wa=clitic.startswith("و"), definite=definite, construct=w.construct)  # fmt: skip
    return None


_WA = fold("و")
_HALF = frozenset(fold(w) for w in ("نیم", "نصف"))
_HALF_CLITICS = tuple(fold(c) for c in ("و", "ب", "ل", "ف", "ك", "وب", "ول"))
_WA_HALF = frozenset(fold(w) for w in ("ونصف", "ونیم"))
_OR_TO = frozenset(fold(w) for w in ("یا", "تا"))
_WEEKDAY = fold("شنبه")
_HA = fold("ها")
_ATHLETICS = fold("میدانی")
_CONTEXTUAL_FA = frozenset(fold(w) for w in ("یک", "نه", "ده"))
_DAH = fold("ده")
_NAH = fold("نه")
_NUMBER_NOUNS = nw.folded_words("شماره رقم نمره")
# An ordinal after these is a title or an idiom: سرهنگ دوم (lieutenant colonel), دست
# دوم (second-hand); دهم after می is the verb "I give" (می دهم، قول دهم).
_NOT_ORDINAL_AFTER = nw.folded_words("سرهنگ سرتیپ دریادار ستوان سروان دست می نمی قول")
_AVVAL = fold("اول")
_FIRST = nw.folded_words("الأول أول اول")
_SI = fold("سی")
_HANDS = fold("اليدين")
_DEY = fold("دی")
_SECOND = frozenset(fold(w) for w in ("ثانية", "الثانية"))
_MARRA = fold("مرة")
_OXIDE = fold("أكسيد")
_BAR = fold("بر")
# Words after which Persian ده is not "ten" but "village" ("در ده را"), or a suffix.
_FA_FUNCTION = nw.folded_words("و در به از را که با تا برای است بود شد هم نیز این آن یا ها های ای")
# Words that make a following scale vague: چند هزار "several thousand", عشرات الآلاف.
_VAGUE = nw.folded_words("چند چندین عدة بضعة بضع عشرات مئات ده‌ها صدها هزاران several few")


class _Reader:
    """Reads the numbers of one text, token after token."""

    def __init__(self, text: str, languages: tuple[str, ...]) -> None:
        self.text = text
        self.languages = languages
        self.toks = nw.tokens(text)
        self.atoms: list[_Atom | None] = []
        for tok in self.toks:
            if tok.kind == "num":
                integer = tok.value.is_integer() and not tok.grouped
                year = integer and len(tok.text) == 4 and (1300 <= tok.value <= 1499 or 1900 <= tok.value <= 2100)  # fmt: skip
                self.atoms.append(_Atom(tok.value, "digits", digits=True, year_like=year))
            else:
                # A word in Latin letters is English whatever the article's language.
                latin = tok.text.isascii()
                langs = ("en",) if latin else languages
                self.atoms.append(_lookup(tok.key, tok.text, langs) if tok.kind == "word" else None)
        for i, tok in enumerate(self.toks):
            # "الأول من أكتوبر", "اول اکتبر": "first" is a number as the day of a month.
            if tok.key in _FIRST and self.atoms[i] is None and self._month_follows(i):
                self.atoms[i] = _Atom(
                    1.0, nw.UNIT, True, language="fa" if tok.key == _AVVAL else "ar"
                )

    def _month_follows(self, i: int) -> bool:
        j = i + 1
        while self._key(j) in dw.BETWEEN_DAY_AND_MONTH and j <= i + 2:
            j += 1
        return self._key(j) in dw.UNAMBIGUOUS_MONTH_WORDS

    def _key(self, i: int) -> str:
        return self.toks[i].key if 0 <= i < len(self.toks) else ""

    def _atom(self, i: int) -> _Atom | None:
        return self.atoms[i] if 0 <= i < len(self.atoms) else None

    def read(self) -> list[ParsedNumber]:
        found: list[ParsedNumber] = []
        i = 0
        while i < len(self.toks):
            atom = self.atoms[i]
            got = self._number_at(i, atom) if atom is not None and self._starts(i, atom) else None
            half = self._half_after(i, counted=False) if got is None and atom is None else None
            if half is not None:
                # حبة ونصف, ساعة ونصف: one and a half of the noun.
                start, end = self.toks[i].start, self.toks[half].end
                got = ParsedNumber(1.5, self.text[start:end], start, end), half + 1
            if got is None:
                i += 1
                continue
            number, i = got
            found.append(number)
        return found

    def _teen_follows(self, i: int) -> bool:
        """Whether an Arabic عشر / عشرة (forming a teen) follows the word at ``i``."""
        nxt = self._atom(i + 1)
        return bool(nxt and nxt.language == "ar" and nxt.kind == nw.UNIT and nxt.value == 10 and not nxt.wa and not nxt.definite)  # fmt: skip

    def _tens_follow(self, i: int, atom: _Atom) -> bool:
        """Whether و + tens follow an Arabic ordinal حادي: الحادي والعشرين (21st)."""
        nxt = self._atom(i + 1)
        return atom.ordinal and bool(nxt and nxt.wa and nxt.kind == nw.TEN)

    def _starts(self, i: int, atom: _Atom) -> bool:
        """Whether a number may begin with the word at ``i`` (context rules)."""
        if atom.digits:
            return True
        key, prev, nxt = self._key(i), self._key(i - 1), self._key(i + 1)
        teen_head_alone = not self._teen_follows(i) and not self._tens_follow(i, atom)
        if atom.plural or atom.adjective or (atom.kind == nw.TEEN_HEAD and teen_head_alone):
            return False  # آلاف alone is "thousands"; أحد alone is "one of" or Sunday
        if atom.kind == nw.SCALE and prev in _VAGUE:
            return False
        if atom.kind == nw.ZERO and (self._atom(i - 1) or self._atom(i + 1) or nxt == _HANDS):
            return False  # "15 صفر 1440": the month Safar; صفر اليدين: empty-handed
        if atom.language == "ar" and atom.ordinal:
            if prev in nw.MONTH_HEADS:
                return False  # كانون الثاني, تشرين الثاني, ربيع الثاني: month names
            if key in _SECOND and self._atom(i - 1) is not None:
                return False  # "30 ثانية" is thirty seconds
            if not atom.definite and not self._teen_follows(i):
                if key.endswith("ه"):
                    # A feminine ordinal agrees with the noun before it (محاولة خامسة,
                    # دولة ثالثة); ثانية is also "a second" (مرة ثانية is not), رابعة a name.
                    if not prev.endswith("ه") or (key in _SECOND and prev != _MARRA):
                        return False
                elif nxt == _OXIDE:
                    return False  # ثاني أكسيد الكربون: carbon dioxide
        if atom.language == "fa":
            if atom.ordinal and prev in _NOT_ORDINAL_AFTER:
                return False
            if atom.ordinal and atom.value == 1 and not self._month_follows(i):
                return False  # یکم alone is "first": a count only as a day (یکم مهر)
            if key == _SI and (prev in nw.LETTER_NAMES or nxt in nw.LETTER_NAMES - {_DEY}):
                return False  # بی بی سی, سی ان ان
            if atom.kind in (nw.UNIT, nw.TEEN) and not atom.ordinal:
                if nxt == _WEEKDAY:
                    return False  # سه شنبه: Tuesday
                following = self._atom(i + 1)
                if following and following.ordinal and following.language == "fa":
                    return False  # دو سوم: two thirds
                if nxt == _WA and self._key(i + 2) == _ATHLETICS:
                    return False  # دو و میدانی: athletics
            if atom.ordinal and atom.kind in (nw.UNIT, nw.TEEN, nw.HUNDRED, nw.SCALE):
                before = self._atom(i - 1)
                if before and before.language == "fa" and not before.ordinal and before.value < 100:
                    return False  # the denominator of دو سوم, یک چهارم
        return True

    def _alone_ok(self, i: int, atom: _Atom) -> bool:
        """Whether a single word (no compound) is a number here."""
        key = self._key(i)
        if (
            atom.language == "fa"
            and key in _CONTEXTUAL_FA
            and not atom.ordinal
            and not atom.counted
        ):
            # یک is also "a", نه "not", ده "village": a number before a counted noun,
            # next to another number (یک صفر, یک بر صفر), or in "یک یا دو", "هشت تا نه".
            nxt, prev = self._key(i + 1), self._key(i - 1)
            if nxt in nw.PERSIAN_COUNTED or prev in _NUMBER_NOUNS:
                return True  # یک سال, شماره یک
            if key != _NAH and nxt in nw.PERSIAN_COUNTED_SPACED:
                return True  # ده ساله (نه ساله: نه is also "not")
            following = self._atom(i + 1)
            if (
                key != _NAH
                and following is not None
                and (following.digits or following.kind == nw.ZERO)
            ):
                return True  # a score: یک صفر (نه یک is "not a")
            if nxt in _OR_TO | {_BAR} and self._atom(i + 2) is not None:
                return True
            if prev in _OR_TO | {_BAR} and self._atom(i - 2) is not None:
                return True
            # ده before a noun is "ten"; "village" ends a phrase (در ده، به ده رفت).
            nxt_tok = self.toks[i + 1] if i + 1 < len(self.toks) else None
            return (
                key == _DAH
                and nxt_tok is not None
                and nxt_tok.kind == "word"
                and nxt not in _FA_FUNCTION
            )
        if atom.construct:
            # صندوقي استثمار: the dual's genitive follows; صندوقي alone is "my fund".
            nxt_tok = self.toks[i + 1] if i + 1 < len(self.toks) else None
            return nxt_tok is not None and nxt_tok.kind == "word" and not nxt_tok.text.isascii()
        return not (atom.language == "en" and key == "one")

    def _number_at(self, i: int, first: _Atom) -> tuple[ParsedNumber, int] | None:
        start = self.toks[i].start
        total, current, last_scale = 0.0, first.value, math.inf
        state = "digits" if first.digits else first.kind
        if first.kind in (nw.SCALE, nw.SCALE_DUAL):
            total, current, state = first.value, 0.0, "scale"
            last_scale = first.value if first.kind == nw.SCALE else first.value / 2
        if first.digits:
            start = self._minus_start(i)
            if start < self.toks[i].start:
                current = -current
        ordinal = first.ordinal
        end_tok, used = i, 1
        while True:
            j = end_tok + 1
            if j >= len(self.toks) or (ordinal and first.language == "fa") or state == "closed":
                break  # a Persian ordinal ends its compound: سی و ششمین
            key, nxt = self._key(j), self.atoms[j]
            if (state == nw.TEEN_HEAD and self._teen_follows(end_tok)) or (
                state == nw.UNIT
                and first.language == "ar"
                and 1 <= current % 100 <= 9
                and self._teen_follows(end_tok)
            ):
                # ثلاثة عشر, الثالثة عشرة, أحد عشر
                current += 10
                state, end_tok, used = "teen", j, used + 1
                continue
            if (
                state == "digits"
                and self.toks[end_tok].end == self.toks[j].start
                and key in nw.GLUED_SCALES
            ):
                current *= nw.GLUED_SCALES[key]  # $3m, 2.5bn
                state, end_tok, used = "glued", j, used + 1
                continue
            if key in _WA_HALF or (key == _WA and self._key(j + 1) in _HALF):
                # دو و نیم, مليون ونصف
                if state == "scale" and current == 0:
                    total += 0.5 * last_scale
                elif state in (nw.UNIT, nw.TEEN, nw.TEN, nw.HUNDRED, nw.DUAL, "digits", "teen"):
                    current += 0.5  # دو و نیم, عامين ونصف
                else:
                    break
                state, end_tok, used = "half", j if key in _WA_HALF else j + 1, used + 1
                continue
            if nxt is not None and not nxt.wa:
                # Juxtaposed: ثلاث مائة, ۱۰ هزار, ثلاثة آلاف, دو و نیم میلیون.
                if (
                    nxt.kind == nw.HUNDRED
                    and nxt.value == 100
                    and 1 <= current <= 9
                    and state in (nw.UNIT, "digits")
                ):
                    current *= 100
                    state, end_tok, used = nw.HUNDRED, j, used + 1
                    continue
                if nxt.kind == nw.SCALE and state == "scale" and current == 0 and not nxt.plural:
                    if nxt.value <= last_scale or self.toks[end_tok].key not in nw.SCALE_WORDS:
                        break
                    # هزار میلیارد (a thousand billion), ألف مليار
                    total *= nxt.value
                    last_scale = total
                    end_tok, used = j, used + 1
                    state = "closed" if nxt.adjective else state
                    continue
                if (
                    nxt.kind == nw.SCALE
                    and nxt.value < last_scale
                    and state != "scale"
                    and current != 0
                ):
                    if nxt.plural and not (3 <= current <= 10 or state == "digits"):
                        break  # آلاف after a count of 3 to 10
                    if first.year_like and used == 1 and nxt.value == 1e3:
                        break  # "سال ۲۰۱۰ هزار نفر": a year, then a thousand people
                    total += current * nxt.value
                    current, last_scale = 0.0, nxt.value
                    state, end_tok, used = "scale", j, used + 1
                    state = "closed" if nxt.adjective else state  # ۲.۲ میلیونی ends there
                    continue
                break
            # Joined by و (a word of its own, or glued: وعشرين).
            k = j + 1 if key == _WA else j
            nxt = self._atom(k)
            if nxt is None or not (key == _WA or nxt.wa) or nxt.plural:
                break
            if nxt.kind in (nw.SCALE, nw.SCALE_DUAL, nw.TEEN_HEAD, nw.ZERO):
                break
            if nxt.digits != first.digits and not (state == "scale" and current == 0):
                break  # "خمسة و3" is not a compound
            if nxt.digits and not (state == "scale" and current == 0):
                break  # "2019 و 2020" are two numbers; "۱۲ هزار و ۵۰۰" is one
            if not nxt.digits and nxt.language != first.language and not first.digits:
                break
            v, low = nxt.value, current % 100
            ok = (
                (state == "scale" and current == 0 and v < last_scale)
                or (state == nw.HUNDRED and v < 100)
                # Persian writes tens first (بیست و پنج), Arabic units first (خمسة وعشرين).
                or (state == nw.TEN and nxt.kind == nw.UNIT and v < 10 and first.language != "ar")
                or (
                    state in (nw.UNIT, nw.TEEN_HEAD)
                    and nxt.kind == nw.TEN
                    and 1 <= low <= 9
                    and first.language == "ar"
                )
            )
            following = self._atom(k + 1)
            if not ok or (
                state == "scale"
                and following
                and following.kind == nw.SCALE
                and following.value >= last_scale
            ):
                break  # "۲٫۸۹ میلیون و ۲٬۵۲ میلیون" are two numbers
            current += v
            ordinal = ordinal or nxt.ordinal
            state = "digits" if nxt.digits else nxt.kind
            end_tok, used = k, used + 1
        if used == 1 and not first.digits and not self._alone_ok(i, first):
            return None
        if self._key(end_tok + 1) == _HA:
            return None  # ده ها, صد ها: "tens of", "hundreds of"
        end, after, percent = self.toks[end_tok].end, end_tok + 1, False
        key = self._key(after)
        if after < len(self.toks) and (
            self.toks[after].text in ("%", "٪") or key in nw.PERCENT_WORDS
        ):
            percent, end, after = True, self.toks[after].end, after + 1
        elif key in (nw.FI, "per") and self._key(after + 1) in (nw.PERCENT_AFTER_FI | {"cent"}):
            percent, end, after = True, self.toks[after + 1].end, after + 2
        value = total + current
        half = self._half_after(after, counted=True)
        if half is not None and not (percent or ordinal) and value.is_integer():
            value, end, after = value + 0.5, self.toks[half].end, half + 1  # ثلاث سنوات ونصف
        return ParsedNumber(value, self.text[start:end], start, end, ordinal, percent), after

    def _half_after(self, j: int, counted: bool) -> int | None:
        """The token of نصف / نیم when a noun of measure at ``j`` is followed by "and a half".

        ``counted``: after a number (سنوات, سال); else a singular Arabic noun alone, which
        may carry a proclitic (لمدة ساعة ونصف, بساعة ونصف) but not the article.
        """
        key = self._key(j)
        if not counted:
            stems = [key] + [key[len(c) :] for c in _HALF_CLITICS if key.startswith(c)]
            units = nw.ARABIC_HALF_UNITS if "ar" in self.languages else frozenset()
            key = next((stem for stem in stems if stem in units), "")
            if not key:
                return None
        elif not (
            ("ar" in self.languages and key in nw.ARABIC_HALF_UNITS_COUNTED)
            or ("fa" in self.languages and key in nw.PERSIAN_HALF_UNITS)
        ):
            return None
        if self._key(j + 1) in _WA_HALF:
            half = j + 1
        elif self._key(j + 1) == _WA and self._key(j + 2) in _HALF:
            half = j + 2
        else:
            return None
        # "حبة ونصف الكوب" is "a pill and half the cup": after نصف, a definite word is its
        # genitive unless it restates the unit (ساعة ونصف الساعة, خمس سنوات ونصف السنة).
        nxt = self._key(half + 1)
        genitive = nxt.startswith("ال") and nxt[2:] != key
        if genitive and (key in nw.ARABIC_HALF_UNITS or nxt[2:] not in nw.ARABIC_HALF_UNITS):
            return None
        return half

    def _minus_start(self, i: int) -> int:
        """Where a number begins when a minus sign stands before it (a hyphen rarely is one)."""
        tok = self.toks[i]
        dash = self.toks[i - 1] if i > 0 else None
        if dash is None or dash.text not in _DASHES or dash.end != tok.start:
            return tok.start
        before = self.text[dash.start - 1] if dash.start > 0 else " "
        if not (before.isspace() or before in "(["):
            return tok.start  # F-16, 2019-2020, Par-3
        if i >= 2 and self.toks[i - 2].kind == "num":
            return tok.start  # 10 -15 is a range
        return dash.start


def parse_numbers(text: str, language: str | None = None) -> list[ParsedNumber]:
    """Every number ``text`` states, in order, with scale words applied.

    ``language`` is "ar", "fa" or "en"; None reads the words of all three.

    >>> [n.value for n in parse_numbers("بقيمة 2.4 مليار يورو")]
    [2400000000.0]
    >>> [n.value for n in parse_numbers("حدود ۱۰ هزار خارجی")]
    [10000.0]
    >>> [n.value for n in parse_numbers("سه توافقنامه امنیتی")]
    [3.0]
    >>> [n.value for n in parse_numbers("بیست و پنج نفر", "fa")]
    [25.0]
    """
    return _Reader(text, _languages(language)).read()


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def number_matches(value: float, evidence: str, language: str | None = None) -> bool:
    """True when ``evidence`` states ``value`` (a percentage may be given as 0.12 or 12).

    >>> number_matches(2_400_000_000, "عقودا لتسليم ذخائر لأوكرانيا بقيمة 2.4 مليار يورو")
    True
    >>> number_matches(2.4, "بقيمة 2.4 مليار يورو")
    False
    """
    for number in parse_numbers(evidence, language):
        if _close(number.value, value) or _close(number.value, abs(value)):
            return True
        if number.percent and _close(number.value / 100, value):
            return True
    return False


_CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("دولار", "دلار", "dollar", "$"),
    "EUR": ("يورو", "یورو", "euro", "€"),
    "GBP": ("جنيه استرليني", "پوند", "pound", "£", "إسترليني"),
    "IRR": ("ریال", "ريال", "rial"),
    "IRT": ("تومان", "toman"),
    "SAR": ("ريال سعودي", "riyal"),
    "EGP": ("جنيه", "pound"),
    "AED": ("درهم", "dirham"),
    "RUB": ("روبل", "rouble", "ruble"),
    "JPY": ("ين", "ین", "yen"),
    "CNY": ("يوان", "یوان", "yuan"),
}


def _unit_problem(fact: NumberFact) -> str | None:
    unit = (fact.unit or "").strip().upper()
    words = _CURRENCIES.get(unit)
    if words is None:
        return None
    folded = fold(fact.evidence)
    if any(fold(w) and fold(w) in folded for w in words) or any(w in fact.evidence for w in words):
        return None
    return f"the unit {unit} is not what the evidence states"
