"""Text layer: folding for matching (this part), decoding, language detection, boilerplate.

``fold`` is the one normalization that grounding and evaluation share. It
removes every difference that separates a scraped page from a model's copy
of it: Arabic vs Persian yeh and kaf, hamza-carrying alefs, ZWNJ and
whitespace (present, absent or swapped for each other), diacritics, tatweel,
punctuation and quotation-mark styles, Persian/Arabic-Indic digits, case.
"""

from __future__ import annotations

import collections
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .models import StrippedBlock

__all__ = [
    "CleanedArticle",
    "Decoded",
    "clean_article",
    "decode_bytes",
    "detect_language",
    "fold",
    "fold_with_map",
    "normalize_text",
    "to_ascii_digits",
    "truncate",
]

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

_LETTERS = {
    "ي": "ی",  # Arabic yeh -> Persian yeh
    "ى": "ی",  # alef maksura
    "ئ": "ی",
    "ك": "ک",  # Arabic kaf -> keheh
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ؤ": "و",
    "ة": "ه",
    "ۀ": "ه",
    "ہ": "ه",
    "ە": "ه",
}


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic (٠-٩) and Persian (۰-۹) digits with ASCII digits.

    >>> to_ascii_digits("۱۷ و ٢٧")
    '17 و 27'
    """
    return text.translate(_DIGITS)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str, depth: int = 0) -> str:
    """The folded form of one character ('' when it does not count for matching)."""
    if ch in _LETTERS:
        return _LETTERS[ch]
    code = ord(ch)
    if code in _DIGITS:
        return _DIGITS[code]
    cat = unicodedata.category(ch)
    # Mn: harakat, shadda, superscript alef, Quranic marks. Cf: ZWNJ, ZWJ, RLM, LRM.
    # Z*: any space. P*: punctuation and every quotation-mark style. Cc: controls.
    if cat in ("Mn", "Cf", "Zs", "Zl", "Zp", "Cc") or cat.startswith("P"):
        return ""
    if ch == "\u0640":  # tatweel (category Lm)
        return ""
    if ch.isspace():
        return ""
    # NFKC turns presentation forms (ﻻ, ﺑ...) and full-width Latin into base letters;
    # what it produces is folded again (¯ becomes a space and a combining macron).
    norm = unicodedata.normalize("NFKC", ch).casefold()
    if norm == ch or depth > 2:
        return norm
    return "".join(_fold_char(c, depth + 1) for c in norm)


def fold(text: str) -> str:
    """Fold ``text`` into its matching key.

    Two strings that a reader would call "the same words" fold to the same key.

    >>> fold("می‌کند") == fold("میکند") == fold("می کند")
    True
    >>> fold("رئيس الجمهورية") == fold("رییس الجمهوریه")
    True
    """
    return "".join(map(_fold_char, text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``.

    The map lets a match in folded space be reported as a span of the original.
    """
    # map() and a comprehension rather than an append loop: this runs on every article.
    parts = list(map(_fold_char, text))
    index = [i for i, part in enumerate(parts) for _ in part]
    return "".join(parts), index


# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """Bytes read as text: the text, the encoding used, and what was worth a warning."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# File signatures of formats people scrape next to articles by mistake.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or .docx/.xlsx)"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x7fELF", "an executable"),
)


def _arabic_letter_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff") / len(letters)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    return bad / len(text)


def decode_bytes(data: bytes, *, source: str) -> Decoded:
    """Decode the bytes of an article, or raise an :class:`~khabar.errors.InputError` naming ``source``.

    Order: a byte-order mark; UTF-8; Windows-1256 when that yields Arabic script
    (old Arabic and Persian sites still serve it); UTF-16 without a mark; then
    charset-normalizer's best guess. Mixed encodings (a UTF-8 file with a few
    stray bytes) decode with the bad bytes replaced and a warning saying how many.
    Binary input (NUL bytes, images, archives) raises ``BinaryInputError``.

    >>> decode_bytes("سلام".encode("utf-8"), source="a.txt").encoding
    'utf-8'
    >>> decode_bytes("خبر عاجل".encode("cp1256"), source="b.txt").encoding
    'windows-1256'
    """
    from .errors import BinaryInputError, DecodeError

    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise BinaryInputError(f"{source}: this is {what}, not text")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"{source}: starts with a {encoding} byte-order mark but is not {encoding}"
                ) from exc

    if b"\x00" in data:
        # UTF-16 without a BOM is the one text encoding full of NULs.
        for encoding in ("utf-16-le", "utf-16-be"):
            if len(data) % 2:
                break
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if (
                "\x00" not in text
                and _control_share(text) < 0.01
                and any(ch.isalpha() for ch in text)
            ):
                return Decoded(
                    text, encoding, (f"{source}: read as {encoding} (no byte-order mark)",)
                )
        raise BinaryInputError(f"{source}: holds NUL bytes; this is a binary file, not text")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _control_share(text) > 0.05:
            raise BinaryInputError(f"{source}: mostly control characters; this is not text")
        return Decoded(text, "utf-8")

    # Mostly UTF-8 with a few bad bytes: keep the text, say how much was lost.
    lossy = data.decode("utf-8", errors="replace")
    bad = lossy.count("\ufffd")
    if bad and bad <= max(3, len(lossy) // 200):
        return Decoded(
            lossy,
            "utf-8",
            (f"{source}: mixed encodings; {bad} invalid byte sequences replaced with U+FFFD",),
        )

    strict_cp1256: str | None
    try:
        strict_cp1256 = data.decode("cp1256")
    except UnicodeDecodeError:
        strict_cp1256 = None
    if strict_cp1256 is not None and _arabic_letter_share(strict_cp1256) > 0.5:
        return Decoded(
            strict_cp1256, "windows-1256", (f"{source}: not UTF-8; decoded as Windows-1256",)
        )

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        text = str(best)
        if _control_share(text) < 0.01:
            return Decoded(
                text, best.encoding, (f"{source}: not UTF-8; decoded as {best.encoding} (a guess)",)
            )
    raise DecodeError(f"{source}: the bytes are in no text encoding khabar recognizes")


# ---------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------

# Control characters but tab and newline, and BOMs in the middle of concatenated files.
# A regex, not str.translate: translate with a dict is ten times slower on long text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufeff]")


def normalize_text(text: str) -> str:
    """Canonical form of an article's text before anything else reads it.

    NFC, Unix line ends, no control characters or stray BOMs, no trailing
    spaces, at most one blank line in a row. Letters are left alone (no
    yeh/kaf folding here): this text is what the model sees and what evidence
    spans point into. Idempotent.

    >>> normalize_text("سطر اول  \\r\\n\\r\\n\\r\\nسطر دوم\\x00")
    'سطر اول\\n\\nسطر دوم'
    """
    text = unicodedata.normalize("NFC", text)
    text = (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
        .replace("\u2029", "\n\n")
    )
    text = _CONTROLS.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] == "":
                continue
            out.append("")
        else:
            out.append(line)
    while out and out[0] == "":
        out.pop(0)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


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


# ---------------------------------------------------------------------------------------
# Boilerplate: the page is not the story
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanedArticle:
    """The main story's text, and every block removed from the page with its kind."""

    text: str
    stripped: tuple[StrippedBlock, ...] = ()


_BULLETS = "•·●▪◦*-–—>»« \t"


# "Read also" in Arabic spellings (إقرأ / اقرأ / أقرأ, أيضا / أيضاً / ايضا) and Persian.
_READ_ALSO = re.compile(
    r"^(?:[إاأ]قر[أا]\s+(?:[أا]يض[اً]+|كذلك)|بیشتر\s+بخوانید|بخوانید|همچنین\s+بخوانید|پیشنهاد\s+ویژه)\s*[:：.]?\s*"
)
_RELATED = re.compile(
    r"^(?:مقالات\s+(?:مشابهة|ذات\s+صلة|متعلقة)|أخبار\s+(?:ذات\s+صلة|متعلقة|مشابهة)|اخبار\s+(?:مرتبط|مشابه)|"
    r"مطالب\s+(?:مرتبط|مشابه)|موضوعات\s+(?:ذات\s+صلة|متعلقة)|شاهد\s+أيضا|اقرأ\s+المزيد)\s*[:：]?\s*$"
)
_SOURCE_LINE = re.compile(r"^(?:المصدر|مصدر\s+الخبر|منبع)\s*[:|：]")
_KEYWORDS = re.compile(
    r"^(?:كلمات\s+دلالية|الكلمات\s+المفتاحية|وسوم|الوسوم|برچسب[‌ ]?ها|کلمات\s+کلیدی|کلیدواژه[‌ ]?ها)\s*[:|：]?"
)
_DONATION = re.compile(
    r"(?:ادعمنا\s+بالتبرع|تبرع\s+الآن|ساهم\s+في\s+دعم|حمایت\s+مالی|کمک\s+مالی\s+به)"
)
_PROMO = re.compile(
    r"^(?:تابع\s+(?:أحدث|آخر)\s+الأخبار|تابعونا\s+على|حمل\s+تطبيق|اشترك\s+في|انضم\s+إلى\s+قناتنا|"
    r"اقرأ\s+المقال\s+الأصلي|عضویت\s+در\s+کانال|ما\s+را\s+در\s+.+\s+دنبال\s+کنید)"
)
# How long a line may be and still read as a headline (a "read also" teaser).
_HEADLINE_MAX = 160


def _content(line: str) -> str:
    return line.strip().lstrip(_BULLETS).strip()


def _next_nonblank(lines: list[str], j: int) -> int:
    """The index of the first non-blank line from ``j`` on (``len(lines)`` when none)."""
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j


def _is_headline(line: str) -> bool:
    """Short and not a finished sentence: how a teaser headline looks."""
    text = _content(line)
    return 0 < len(text) <= _HEADLINE_MAX and not text.endswith((".", "!", "…"))


def clean_article(text: str) -> CleanedArticle:
    """Strip what is certainly not the main story from a scraped page.

    Two kinds of things go:

    * lines that are boilerplate wherever they stand: "read also" teasers
      (``اقرأ أيضاً: <headline>``, or the marker alone and the headline on the
      next line), app and channel promotions, donation appeals;
    * everything after the first end-of-article line (``المصدر:`` / ``منبع:``
      source lines, keyword lists, "related articles" headers, the link to the
      original): what follows such a line on a scraped page is other stories,
      never more of this one. It is recorded block by block: related headlines,
      read-also teasers, and ``appended_story`` for the paragraphs of another
      article pasted under this one.

    Agency credits such as ``فرانس برس`` before the end stay: they attribute the
    main story. Nothing is dropped unrecorded: the stripped blocks come back
    with the text.

    >>> page = "متن خبر اصلی.\\n\\nاقرأ أيضاً: عنوان آخر\\n\\nبقية الخبر."
    >>> clean_article(page).text
    'متن خبر اصلی.\\n\\nبقية الخبر.'
    """
    lines = text.split("\n")
    keep: list[str] = []
    stripped: list[StrippedBlock] = []
    seen_content = 0
    i = 0
    n = len(lines)

    def add(kind: str, body: str) -> None:
        body = body.strip()
        if not body:
            return
        if stripped and stripped[-1].kind == kind and kind in ("related", "appended_story"):
            stripped[-1] = StrippedBlock(kind=kind, text=stripped[-1].text + "\n" + body)
        else:
            stripped.append(StrippedBlock(kind=kind, text=body))

    while i < n:
        line = lines[i]
        content = _content(line)
        if not content:
            keep.append(line)
            i += 1
            continue
        end_of_article = seen_content > 0 and (
            _SOURCE_LINE.match(content)
            or _KEYWORDS.match(content)
            or _RELATED.match(content)
            or content.startswith(("اقرأ المقال الأصلي", "اقرا المقال الاصلي"))
        )
        read_also = _READ_ALSO.match(content)
        if read_also and seen_content > 0:
            rest = content[read_also.end() :].strip()
            if rest:
                add("read_also", content)
                i += 1
                continue
            j = _next_nonblank(lines, i + 1)
            # The marker alone: the teaser headline is on the next line. When an
            # app promotion or a whole article follows, this is another story.
            k = _next_nonblank(lines, j + 1) if j < n else n
            if k < n and _PROMO.match(_content(lines[k])):
                end_of_article = True
            elif j < n and _is_headline(lines[j]):
                add("read_also", content + "\n" + _content(lines[j]))
                i = j + 1
                continue
            else:
                add("read_also", content)
                i += 1
                continue
        if end_of_article:
            _strip_tail(lines[i:], add)
            break
        if _DONATION.search(content):
            add("donation", content)
        elif _PROMO.match(content):
            add("promo", content)
        else:
            keep.append(line)
            seen_content += 1
        i += 1

    body = normalize_text("\n".join(keep))
    return CleanedArticle(text=body, stripped=tuple(stripped))


def _strip_tail(lines: list[str], add: Callable[[str, str], None]) -> None:
    """Record, block by block, everything after the end of the main story."""
    i = 0
    n = len(lines)
    in_related = False
    while i < n:
        content = _content(lines[i])
        if not content:
            i += 1
            continue
        bullet = lines[i].strip()[:1] in "•·●▪◦*-–—"
        read_also = _READ_ALSO.match(content)
        if _SOURCE_LINE.match(content):
            add("source_line", content)
            in_related = False
        elif _KEYWORDS.match(content):
            add("keywords", content)
            in_related = False
        elif _RELATED.match(content):
            add("related", content)
            in_related = True
        elif _DONATION.search(content):
            add("donation", content)
        elif _PROMO.match(content):
            add("promo", content)
        elif read_also:
            rest = content[read_also.end() :].strip()
            if not rest:
                j = _next_nonblank(lines, i + 1)
                if j < n and _is_headline(lines[j]):
                    rest = _content(lines[j])
                    i = j
            add("read_also", (content + "\n" + rest) if rest and rest not in content else content)
            in_related = False
        elif bullet or (in_related and _is_headline(lines[i])):
            add("related", content)
        else:
            add("appended_story", content)
            in_related = False
        i += 1


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_chars`` at a paragraph or sentence end; True when cut.

    >>> truncate("جملة أولى. جملة ثانية.", 12)
    ('جملة أولى.', True)
    """
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    for sep in ("\n\n", "\n", ". ", "。", "؟ ", "! ", ".", "؟", " "):
        cut = head.rfind(sep)
        if cut >= max_chars // 2:
            return head[: cut + len(sep.rstrip()) if sep.strip() else cut].rstrip(), True
    return head.rstrip(), True
