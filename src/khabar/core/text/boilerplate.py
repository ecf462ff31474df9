"""Boilerplate: the page is not the story. Strips what is certainly not the main story."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..digest import StrippedBlock
from .normalize import normalize_text

# ---------------------------------------------------------------------------------------
# Boilerplate: the page is not the story
# ---------------------------------------------------------------------------------------
#
# The rule for every pattern here: a line is stripped only when it cannot be a story
# sentence. Many Arabic imperatives are spelled like a past tense (ساهم "contribute!"
# and "he contributed", اشترك "subscribe!" and "he took part"), and a quotation can
# say anything, so the appeals below need a word that addresses the reader or names
# the site ("us", "our"), a short line, and no quotation marks.


@dataclass(frozen=True)
class CleanedArticle:
    """The main story's text, and every block removed from the page with its kind."""

    text: str
    stripped: tuple[StrippedBlock, ...] = ()


_BULLETS = "•·●▪◦*-–—>»« \t"
# A quotation is the story speaking, whatever it says; a colon inside a line
# introduces one (قال: ...، گفت: ...) or labels a teaser, which has its own rules.
# A colon that ends the line ("اضغط هنا:") introduces a link, not a quotation.
_QUOTE = re.compile('["«»“”„‹›]')
_COLON_INSIDE = re.compile("[:：](?!\\s*$)")
# A notice's label ("تنويه:", "توضیح:") is not a quotation's colon.
_LABEL = re.compile(r"^(?:تنويه|ملاحظة|إخلاء\s+مسؤولية|اخلاء\s+مسؤولية|توضیح|تذکر|نکته)\s*[:：]\s*")
# How long a line may be and still read as a headline (a "read also" teaser).
_HEADLINE_MAX = 160
# How long an appeal or disclaimer line may be: a call to donate or follow is one
# short sentence or two; a paragraph that mentions donations is a story.
_CALL_MAX = 160
_DISCLAIMER_MAX = 250


# Teaser markers that announce another story's headline, on the same line or the
# next: "read also" (إقرأ / اقرأ / أقرأ, أيضا / أيضاً / ايضا), CNN's "may interest you"
# (قد يهمك: / قد يهمك| / قد يهمك/), France24's "for more:" (للمزيد: / للمزيد -),
# "read more:" and Persian "read more / also". The ambiguous ones need a separator
# after them: للمزيد opens "for more, we asked..." sentences, بخوانید is any "read!",
# پیشنهاد ویژه is also "a special proposal"; and "read more" alone is a link line.
_SEP = r"[:：|/،\-–—.…]"
_READ_ALSO = re.compile(
    r"^(?:(?:[إاأ]قر[أا]\s+(?:[أا]يض[اً]+|كذلك)|قد\s+يهمك\s+[أا]يض[اً]+|بیشتر\s+بخوانید|"
    rf"همچنین\s+بخوانید)\s*{_SEP}*|(?:للمزيد|قد\s+يهمك|بخوانید)\s*(?:{_SEP}+|$)|"
    rf"(?:[إاأ]قر[أا]\s+المزيد|پیشنهاد\s+ویژه)\s*{_SEP}+(?=\s*\S))\s*"
)
_RELATED = re.compile(
    r"^(?:مقالات\s+(?:مشابهة|ذات\s+صلة|متعلقة)|أخبار\s+(?:ذات\s+صلة|متعلقة|مشابهة)|اخبار\s+(?:مرتبط|مشابه)|"
    r"مطالب\s+(?:مرتبط|مشابه)|موضوعات\s+(?:ذات\s+صلة|متعلقة)|شاهد\s+أيضا)\s*[:：]?\s*$"
)
_SOURCE_LINE = re.compile(r"^(?:المصدر|مصدر\s+الخبر|منبع)\s*[:|：]")
_KEYWORDS = re.compile(
    r"^(?:كلمات\s+دلالية|الكلمات\s+المفتاحية|وسوم|الوسوم|برچسب[‌ ]?ها|کلمات\s+کلیدی|کلیدواژه[‌ ]?ها)\s*[:|：]?"
)
# "Read more" alone is a link under a teaser: the line goes, nothing around it.
_MORE_LINK = re.compile(r"^(?:[إاأ]قر[أا]\s+المزيد|ادامه\s+مطلب|ادامه\s+خبر)\s*[.:…»]*$")
# "Click here" (اضغط / انقر هنا, اینجا کلیک کنید، اینجا را ببینید) only ever addresses
# the reader. A link line opens with it ("اضغط هنا لمعرفة...") or is a short purpose
# phrase ending with it ("لمتابعة المباراة على الحواسيب اللوحية، اضغط هنا...", "برای
# مشاهده کامل مقاله روی فایل مقابل کلیک کنید."). A sentence that carries the call
# in its middle ("التقرير الذي بثته قناتنا (لمشاهدة التقرير اضغط هنا)، تعيد نشره...")
# is a story sentence with a dead link in it: kept.
_CLICK = r"(?:(?:اضغط|إضغط|انقر|أنقر)\s+هنا|(?:اینجا|این\s+جا)\s+(?:کلیک\s+کنید|را\s+(?:ببینید|بخوانید)))"
_CLICK_HERE = re.compile(
    rf"^\(?{_CLICK}|^(?:و?ل|برای\s|هل\s)\S*(?:\s+\S+){{0,12}}?[\s،,؟?]*\(?(?:{_CLICK}|کلیک\s+کنید)\)?"
    r"\s*[.!:…*]*$"
)
# Appeals in the first person plural: "support us (by donating)", "donate now",
# "contribute to supporting our site", "support us financially". ادعمنا and تبرع الآن
# are imperatives wherever they stand; ساهم في دعم and ادعم are also "he contributed to
# supporting" and "I support", so they count only opening a sentence and with "our"
# on their object ("وساهم في دعم الجنيه ارتفاع التدفقات" is a story sentence).
_DONATION = re.compile(
    r"ادعمنا|ادعمونا|تبر[عّ]+(?:وا)?\s+(?:الآن|الان|لنا)|"
    r"(?:^|[.!؟?]\s+)(?:ادعم\s+\S+نا\b|ساهم(?:وا)?\s+(?:في|فى)\s+دعم(?:نا|\s+\S+نا\b))|"
    r"از\s+ما\s+حمایت\s+(?:مالی\s+)?کنید|(?:با|برای)\s+حمایت\s+مالی\s+از\s+ما\b"
)
# App and channel promotions at the start of a line ("follow the latest news on the
# app", "join our channel"). اشترك needs its object (otherwise "he took part in").
_PROMO = re.compile(
    r"^(?:تابع\s+(?:أحدث|آخر)\s+الأخبار|تابعونا\s+على|حمل\s+تطبيق|"
    r"اشترك\s+(?:في|فى)\s+(?:نشرتنا|النشرة|قناتنا|قناة|خدمة|موقعنا|صفحتنا|تطبيق)|"
    r"انضم\s+إلى\s+قناتنا|اقرأ\s+المقال\s+الأصلي|عضویت\s+در\s+کانال|ما\s+را\s+در\s+.+\s+دنبال\s+کنید)"
)
# "You can receive notifications of the main stories by downloading our app": the
# reader addressed (يمكنكم) about receiving news through an app.
_APP_PROMO = re.compile(
    r"^و?يمكنك(?:م)?\s+(?:استلام|تسلم|تلقي|متابعة)\s.*(?:إشعارات|تنبيهات|الأخبار|الموضوعات).*تطبيق"
)
# Persian "follow ... on the Telegram channel / Instagram page": the imperative
# plural دنبال کنید at the end of a short line naming a channel.
_FOLLOW_FA = re.compile(
    r"(?:کانال|تلگرام|اینستاگرام|توییتر|یوتیوب|صفحه)\S*\s.*دنبال\s+کنید\s*[.!]?$"
)
# Opinion disclaimers need three things: the line opens on published content as its
# subject (المقالات، الآراء، مطالب، یادداشت‌ها), it refers to this publication (المنشورة،
# هذا المقال، منتشر شده، این یادداشت), and it says the content is its author's view or
# does not necessarily reflect the outlet's. "The views in the report do not
# necessarily reflect the government's" fails the second and stays.
_DISCLAIMER_SUBJECT = re.compile(
    r"^(?:(?:جميع|كل|كافة|تمام|همه)\s+)?(?:ال)?(?:مقالات|مقال|آراء|مواد|تعليقات|هذا\s+المقال|ما\s+يُ?نشر|"
    r"مطالب|یادداشت|نظرات|مقاله|انتشار|این\s+یادداشت|این\s+مطلب|این\s+مقاله)"
)
_DISCLAIMER_SELF = re.compile(
    r"المنشور|هذا\s+المقال|هذه\s+المقالة|ننشر|يُ?نشر|الموقع|المدونة|"
    r"منتشر[\s\u200c]*(?:شده|می)|منتشره|این\s+(?:یادداشت|مطلب|مقاله|ستون|بخش|صفحه|سایت|رسانه|پایگاه)"
)
_DISCLAIMER_CLAIM = re.compile(
    r"(?:تمثل|تعبر\s+عن|يعبر\s+عن|تعبّر\s+عن|يعبّر\s+عن)\s+(?:فقط\s+)?(?:رأي|آراء|وجهة\s+نظر)\s+"
    r"(?:كتابها|كاتبها|كاتبيها|أصحابها|اصحابها|صاحبها|الكاتب|الكتاب|المؤلف)|"
    r"لا\s+(?:تعكس|يعكس|تعبر|يعبر|تعبّر|يعبّر|تمثل|يمثل)\s+(?:بالضرورة|بالضروره)|"
    r"لزوما|لزوماً|الزاما|الزاماً|به\s+(?:معنای|معنی|منزله)\s+تایید|"
    r"(?:دیدگاه|نظر)\s+(?:نویسنده|نگارنده)"
)
# One word every short-line rule below needs (click here, app, follow, donate, support,
# published content): one search tells most story lines apart before the others run.
_SHORT_TRIGGER = re.compile(
    r"هنا|کلیک|ببینید|بخوانید|تطبيق|دنبال|ادعم|تبر|ساهم|حمایت|مقال|آراء|مواد|تعليقات|نشر|"
    r"مطالب|مطلب|یادداشت|نظرات|انتشار"
)
# An op-ed's byline note, and where its disclaimer clause starts (split_byline_note).
_BYLINE = re.compile(r"^(?:هذا\s+)?(?:المقال|مقال|التقرير|تقرير)\s+بقلم\s")
_BYLINE_CLAIM = re.compile(
    r"[،,.]?\s*(?:و\s*)?(?:الآراء\s+الواردة|المقال\s+يعبر|المقال\s+يعكس|"
    r"لا\s+(?:تعكس|يعكس|تعبر|يعبر|تعبّر|يعبّر)\s+بالضرورة)"
)
# Attribution words: a line that reports someone's words is a story sentence.
_ATTRIBUTION = re.compile(r"\b(?:قال|وقال|أضاف|وأضاف|أكد|وأكد|بحسب|حسب|وفقا|وفقاً|گفت|افزود)\b")
# A line of two or more hashtags only (#ایران #اقتصاد): a tag list. One hashtag
# alone stays: BBC Trending puts the hashtag a story is about on its own line.
_HASHTAGS = re.compile(r"^#[^\s#،,]+(?:[\s،,]+#[^\s#،,]+)+[\s،,]*$")
# The end-of-message marker of Iranian agencies (IRNA, Borna, Fars): «انتهای پیام»,
# often with desk codes (انتهای‌پیام/86012/م20/د1000, انتهاي‌پيام/م*).
_END_MARKER = re.compile(r"^انتها[یي][\s\u200c]*پ[یي]ام\s*(?:/[\w\s/*.-]*)?$")
# What those agencies put under the marker: the reporter's credit (خبرنگار:مرضیه
# شهریاری, عکس: ...), desk codes (۲۱۳/۴۲, /م20/د1000).
_CREDIT = re.compile(
    r"^(?:خبرنگار|عکاس|عکس|گزارشگر|نویسنده|مترجم|ترجمه|ویراستار|دبیر|تنظیم|تهیه|تدوین|گردآوری)"
    r"(?:[\s\u200c]+\S+){0,2}\s*[:：]"
)
# A line under the marker that is more story: a paragraph, not a credit or a code.
_STORY_WORDS = 10
_SENTENCE_WORDS = 6
# A CMS placeholder left in the page (BBC: "English paragraph to be added here when
# functionality promoted to Optimo test"): a Latin-script line in an Arabic or Persian page.
_PLACEHOLDER = re.compile(r"\b(?:to\s+be\s+added\s+here|lorem\s+ipsum)\b", re.IGNORECASE)

# XML/HTML tags (TREC <DOC>, <DOCNO>, <TEXT>; a CMS's <span lang=...>). Attributes
# need a value, so "x <y and z> w" in prose is not a tag.
_TAG = re.compile(
    r"</?[A-Za-z][\w:.-]*(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))*\s*/?>"
)
_ELEMENT = re.compile(r"^<([A-Za-z][\w:.-]*)(?:\s[^>]*)?>(.*)</\1\s*>$")
# TREC and feed metadata elements: never story text, whatever they hold.
_METADATA_TAGS = frozenset(
    {"docno", "docid", "doctype", "docnum", "fileid", "url", "link", "src", "source", "cat"}
    | {"category", "time", "date", "datetime", "date_time", "lang", "language", "id"}
)
_ARABIC_LETTER = re.compile("[\u0620-\u064a\u0671-\u06d3\u06fa-\u06ff]")


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
    # A line ending with a colon introduces what follows ("...منها:"): a story line.
    return 0 < len(text) <= _HEADLINE_MAX and not text.endswith((".", "!", "…", ":", "："))


def _markup(line: str) -> tuple[str, str]:
    """``line`` without its tags, and what was removed ('' when there were none).

    A line that is one metadata element (``<DOCNO>BB-1</DOCNO>``, ``<URL>…</URL>``,
    ``<itemMeta>arabic/world-1</itemMeta>``) goes whole; otherwise only the tags go
    and the text between them stays (``<TITLE>عنوان</TITLE>`` keeps the headline).
    """
    stripped = line.strip()
    element = _ELEMENT.match(stripped)
    if element:
        name, inner = element.group(1).lower(), element.group(2).strip()
        # Metadata by name, or a single token (an id, a path, a URL) in no Arabic script.
        single = " " not in inner and not _ARABIC_LETTER.search(inner)
        if (name in _METADATA_TAGS or single) and not _TAG.search(inner):
            return "", stripped
    tags = _TAG.findall(line)
    if not tags:
        return line, ""
    return _TAG.sub("", line).strip(), " ".join(tags)


# A closing quotation mark glued to the next word: a scraper joined a teaser headline
# and the story's next sentence (للمزيد: منظمة "إيتا" تعلن "الوقف النهائي"وقد أعلنت...).
_GLUED = re.compile(r'["”»](?=[^\W\d_])')


def _split_glued(rest: str) -> tuple[str, str]:
    """A teaser's headline and the story text a scraper glued after it ('' when none)."""
    for m in _GLUED.finditer(rest):
        mark = m.group()
        # An ASCII quote closes on its even occurrences; ” and » always close.
        if mark != '"' or rest.count('"', 0, m.start() + 1) % 2 == 0:
            return rest[: m.end()], rest[m.end() :]
    return rest, ""


# A teaser appended to the last sentence of a paragraph: "...من تونس. للمزيد: اللاعبون
# العرب في الدوري الإنجليزي" (Sky News), "...، اقرأ المزيد: فيسبوك تغير من سياساتها"
# (CNN). It follows the end of a sentence or clause and runs to the end of the line.
_TAIL_TEASER = re.compile(
    r"(?<=[.!؟?،,…])\s*(?:للمزيد|[إاأ]قر[أا]\s+(?:المزيد|[أا]يض[اً]+)|قد\s+يهمك(?:\s+[أا]يض[اً]+)?)"
    r"\s*[:：|/\-–—]\s*\S[^\n]*$"
)


def _tail_teaser(content: str) -> tuple[str, str] | None:
    """(story, teaser) when a story line ends with an appended teaser, else None."""
    if not ("للمزيد" in content or "قرأ" in content or "قرا" in content or "يهمك" in content):
        return None
    m = _TAIL_TEASER.search(content)
    if not m or m.start() == 0:
        return None
    teaser = m.group().strip()
    if len(teaser) > _HEADLINE_MAX + 20 or teaser.endswith("."):
        return None  # a sentence, not a headline
    return content[: m.start()].rstrip(), teaser


def _line_kind(content: str) -> str | None:
    """The kind of boilerplate a whole line certainly is, or None for a story line."""
    if content.startswith("#") and _HASHTAGS.match(content):
        return "hashtags"
    if _END_MARKER.match(content):
        return "end_marker"
    if content.isascii() and len(content) <= _CALL_MAX and _PLACEHOLDER.search(content):
        return "markup"
    if _MORE_LINK.match(content):
        return "more_link"
    if not content[0].isalnum() and not any(ch.isalnum() for ch in content):
        return "separator"  # ----, ***, ====: no word in it
    if _PROMO.match(content):
        return "promo"
    # The rest are short lines only (most story paragraphs stop here, cheaply), and
    # never a quotation or a reported statement.
    if len(content) > _DISCLAIMER_MAX or not _SHORT_TRIGGER.search(content):
        return None
    if content.startswith(("تنويه", "ملاحظة", "إخلاء", "اخلاء", "توضیح", "تذکر", "نکته")):
        content = _LABEL.sub("", content, count=1)
    if _COLON_INSIDE.search(content) or _ATTRIBUTION.search(content):
        return None
    quoted = bool(_QUOTE.search(content))
    if len(content) <= _CALL_MAX:
        # Quotation marks around a brand ("غوغل") do not make "click here" a quotation.
        if _CLICK_HERE.search(content):
            return "more_link"
        if not quoted and (_APP_PROMO.match(content) or _FOLLOW_FA.search(content)):
            return "promo"
        if not quoted and _DONATION.search(content):
            return "donation"
    if (
        not quoted
        and _DISCLAIMER_SUBJECT.match(content)
        and _DISCLAIMER_SELF.search(content)
        and _DISCLAIMER_CLAIM.search(content)
    ):
        return "disclaimer"
    return None


def _split_byline_note(content: str) -> tuple[str, str] | None:
    """(byline, disclaimer) of an op-ed note, or None when ``content`` is not one.

    CNN: "هذا المقال بقلم <author>، <bio>، والآراء الواردة أدناه تعبر عن رأي الكاتب، ولا
    تعكس بالضرورة وجهة نظر شبكة CNN." The byline names the piece's author, a fact the
    digest needs; the clause after it is the disclaimer.
    """
    if not _BYLINE.match(content) or _QUOTE.search(content):
        return None
    cut = _BYLINE_CLAIM.search(content)
    if not cut or not _DISCLAIMER_CLAIM.search(content, cut.start()):
        return None
    return content[: cut.start()].rstrip(" ،,.") + ".", content[cut.start() :].lstrip(" ،,.")


def _teasers(lines: list[str], j: int) -> int:
    """How many teaser headlines follow a bare "read also" marker from line ``j`` on.

    The first headline may follow a blank line; a list continues on the very next
    lines (up to three). Four or more headline-like lines in a row are not a teaser
    list (sub-headings and a list in the story look like that): then only the first.
    """
    n = len(lines)
    if j >= n or not _is_headline(lines[j]):
        return 0
    count = 1
    while count < 4 and j + count < n and _is_headline(lines[j + count]):
        count += 1
    return 1 if count == 4 else count


def clean_article(text: str) -> CleanedArticle:
    """Strip what is certainly not the main story from a scraped page.

    Three kinds of things go:

    * markup: XML/HTML tags (TREC ``<DOC>``, ``<TEXT>``...) and metadata elements
      (``<DOCNO>``, ``<URL>``); the text between tags stays;
    * lines that are boilerplate wherever they stand: "read also" teasers
      (``اقرأ أيضاً: <headline>``, ``للمزيد: <headline>``, ``قد يهمك أيضا``, or the
      marker alone and the headlines on the next lines), "read more" and "click
      here" links, app and channel promotions, donation appeals, opinion
      disclaimers, hashtag lines, CMS placeholders, agency end-of-message markers;
    * what stands under an end-of-message marker («انتهای پیام»): the reporter's
      credit and desk codes, unless a paragraph follows (then the story goes on);
    * everything after the first end-of-article line (``المصدر:`` / ``منبع:``
      source lines, keyword lists, "related articles" headers, the link to the
      original): what follows such a line on a scraped page is other stories,
      never more of this one. It is recorded block by block: related headlines,
      read-also teasers, and ``appended_story`` for the paragraphs of another
      article pasted under this one.

    A line is stripped only when it cannot be a story sentence: a sentence that
    mentions donations or "read more", or quotes an appeal, stays. So does the
    headline of another story left in the page with no marker: it looks like the
    story's own sub-headings, and no rule here can tell them apart. Agency credits
    such as ``فرانس برس`` before the end stay: they attribute the main story.
    Nothing is dropped unrecorded: the stripped blocks come back with the text.

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
        if stripped and stripped[-1].kind == kind and kind in _MERGED:
            stripped[-1] = StrippedBlock(kind=kind, text=stripped[-1].text + "\n" + body)
        else:
            stripped.append(StrippedBlock(kind=kind, text=body))

    while i < n:
        line = lines[i]
        if "<" in line:
            line, tags = _markup(line)
            add("markup", tags)
            lines[i] = line  # the tail, if it starts here, sees the text without tags
        content = _content(line)
        if not content:
            if line.strip():  # only bullet characters: a rule (-----), not a word
                add("separator", line.strip())
            else:
                keep.append(line)
            i += 1
            continue
        end_of_article = seen_content > 0 and bool(
            _SOURCE_LINE.match(content)
            or _KEYWORDS.match(content)
            or _RELATED.match(content)
            or content.startswith(("اقرأ المقال الأصلي", "اقرا المقال الاصلي"))
        )
        read_also = _READ_ALSO.match(content)
        if read_also and seen_content > 0:
            rest = content[read_also.end() :].strip()
            if rest:
                headline, glued = _split_glued(rest)
                # A marker with a paragraph after it may be a story line that starts
                # that way: kept, since losing a story sentence is worse.
                if len(headline) <= _HEADLINE_MAX:
                    add("read_also", content[: len(content) - len(rest)] + headline)
                    if glued:
                        keep.append(glued)
                        seen_content += 1
                    i += 1
                    continue
            else:
                j = _next_nonblank(lines, i + 1)
                # The marker alone: the teaser headlines are on the next lines. When an
                # app promotion or a whole article follows, this is another story.
                k = _next_nonblank(lines, j + 1) if j < n else n
                if k < n and _PROMO.match(_content(lines[k])):
                    end_of_article = True
                else:
                    count = _teasers(lines, j)
                    add(
                        "read_also",
                        "\n".join([content] + [_content(x) for x in lines[j : j + count]]),
                    )
                    i = j + count if count else i + 1
                    continue
        if end_of_article:
            _strip_tail(lines[i:], add)
            break
        note = _split_byline_note(content)
        if note:
            keep.append(note[0])
            add("disclaimer", note[1])
            seen_content += 1
            i += 1
            continue
        teaser = _tail_teaser(content)
        if teaser:
            keep.append(teaser[0])
            add("read_also", teaser[1])
            seen_content += 1
            i += 1
            continue
        kind = _line_kind(content)
        matter = _end_matter(lines[i + 1 :]) if kind == "end_marker" and seen_content else None
        if matter is not None:
            # «انتهای پیام» ends the message: the credit and desk codes under it go too.
            add("end_marker", content)
            for matter_kind, matter_line in matter:
                add(matter_kind, matter_line)
            break
        if kind:
            add(kind, content)
        else:
            keep.append(line)
            seen_content += 1
        i += 1

    body = normalize_text("\n".join(keep))
    return CleanedArticle(text=body, stripped=tuple(stripped))


def _end_matter(lines: list[str]) -> list[tuple[str, str]] | None:
    """(kind, line) of every line under an end-of-message marker; None when more story follows.

    Under «انتهای پیام» come the reporter's credit (``byline``), and desk codes and
    any other short line the marker closes (``end_marker``, unless another rule names
    it). A line that reads as a paragraph (ten words or more, a finished sentence of
    six, or longer than a headline) means the story goes on: then nothing below the
    marker is removed for being there.
    """
    matter: list[tuple[str, str]] = []
    for line in lines:
        content = _content(line)
        if not content:
            continue
        words = len(content.split())
        sentence = words >= _SENTENCE_WORDS and content.endswith((".", "!", "؟", "?", "…"))
        if len(content) > _HEADLINE_MAX or words >= _STORY_WORDS or sentence:
            return None
        if _CREDIT.match(content):
            kind = "byline"
        elif _SOURCE_LINE.match(content):
            kind = "source_line"
        elif _KEYWORDS.match(content):
            kind = "keywords"
        else:
            kind = _line_kind(content) or "end_marker"
        matter.append((kind, content))
    return matter


# Kinds whose consecutive lines are one block (a list of headlines, a pasted article,
# the tag lines of a TREC header).
_MERGED = frozenset({"related", "appended_story", "markup"})


def _strip_tail(lines: list[str], add: Callable[[str, str], None]) -> None:
    """Record, block by block, everything after the end of the main story."""
    i = 0
    n = len(lines)
    in_related = False
    while i < n:
        line = lines[i]
        if "<" in line:
            line, tags = _markup(line)
            add("markup", tags)
        content = _content(line)
        if not content:
            if line.strip():
                add("separator", line.strip())
            i += 1
            continue
        bullet = line.strip()[:1] in "•·●▪◦*-–—"
        read_also = _READ_ALSO.match(content)
        kind = _line_kind(content)
        if _SOURCE_LINE.match(content):
            add("source_line", content)
            in_related = False
        elif _KEYWORDS.match(content):
            add("keywords", content)
            in_related = False
        elif _RELATED.match(content):
            add("related", content)
            in_related = True
        elif read_also:
            rest = content[read_also.end() :].strip()
            if not rest:
                j = _next_nonblank(lines, i + 1)
                if j < n and _is_headline(lines[j]):
                    rest = _content(lines[j])
                    i = j
            add("read_also", (content + "\n" + rest) if rest and rest not in content else content)
            in_related = False
        elif kind:
            add(kind, content)
        elif bullet or (in_related and _is_headline(line)):
            add("related", content)
        else:
            add("appended_story", content)
            in_related = False
        i += 1
