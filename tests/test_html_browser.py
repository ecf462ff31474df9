"""The HTML report in a real browser: Debian's Chromium, headless, driven by Selenium.

Marked ``browser`` and left out of the default run (like ``slow``); run with
``pytest -m browser``. They need ``apt-get install chromium chromium-driver`` and
selenium; when either is missing they FAIL, naming what to install: a skipped
browser test would pass a report no browser ever opened.

No network: the pages load from file://, Selenium Manager is kept offline
(``SE_OFFLINE``, and the driver's path is given), Chromium's background services
are off and its proxy is a dead port on 127.0.0.1, and each test checks that the
page asked for nothing.

``KHABAR_SCREENSHOTS=docs/screenshots pytest -m browser -k screenshots`` refreshes
the screenshots in the docs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from khabar.batch.html import render_html, write_html

from .test_html import FACT_KINDS, MARKUP, NOTE, _isolated_seeds, boundaries, by_id

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
# Read at import: conftest's isolation removes every KHABAR_* variable before each test.
SCREENSHOTS = os.environ.get("KHABAR_SCREENSHOTS")

# The text pane as the browser parsed it: its text without stripped blocks ([data-x]),
# and each mark with its offset in code points (Python's unit), tokens and colour.
READ_PANES = """
const out = {};
for (const art of document.querySelectorAll('article.rec')) {
  const pane = art.querySelector('.text');
  if (!pane) continue;
  let text = '';
  const marks = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { text += child.data; continue; }
      if (child.nodeType !== Node.ELEMENT_NODE || child.hasAttribute('data-x')) continue;
      if (child.tagName === 'MARK') {
        marks.push({at: Array.from(text).length, s: +child.dataset.s,
          f: (child.dataset.f || '').split(' ').filter(Boolean),
          c: (child.dataset.c || '').split(' ').filter(Boolean), text: child.textContent,
          bg: getComputedStyle(child).backgroundColor, rects: child.getClientRects().length});
      }
      walk(child);
    }
  };
  walk(pane);
  out[art.id] = {text, marks, dir: getComputedStyle(pane).direction, lang: pane.lang};
}
return out;
"""

# Whether an element's first box is inside the window and inside its scrolling pane.
IN_VIEW = """
const el = arguments[0];
const r = el.getClientRects()[0];
const pane = el.closest('.text');
const p = pane ? pane.getBoundingClientRect() : {top: 0, bottom: innerHeight};
return r.top >= 0 && r.bottom <= innerHeight && r.top >= p.top - 1 && r.bottom <= p.bottom + 1;
"""


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _isolated_seeds(tmp_path_factory.mktemp("html-browser-seeds"))


@pytest.fixture(scope="module")
def report(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html-report") / "seeds.html"
    path.write_text(render_html(records, title="khabar seed report", note=NOTE), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        pytest.fail(f"the browser tests need selenium (pip install -e '.[dev]'): {exc}", False)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.fail(f"{path} is missing: the browser tests need `{INSTALL}`", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1400,900", "--force-device-scale-factor=1", "--lang=en-US",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--disable-extensions",
        # Anything that still tried the network would meet a closed port on this machine.
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download a driver
        browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def open_page(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    driver.get_log("browser")  # start each test with empty logs
    driver.get_log("performance")
    driver.get(path.as_uri())


def assert_quiet(driver: Any, page: Path) -> None:
    """No console message at error level, and no request but the page itself."""
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    urls = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    assert urls <= {page.as_uri(), "data:,"}, urls


def article_of(records: list[dict[str, Any]], prefix: str) -> str:
    return f"a{records.index(by_id(records, prefix)) + 1}"


def fact_item(driver: Any, article: str, token: str) -> Any:
    return driver.find_element("css selector", f'#{article} li.fact[data-f="{token}"]')


def first_mark(driver: Any, article: str, attr: str, token: str) -> Any:
    return driver.find_element("css selector", f'#{article} .text mark[data-{attr}~="{token}"]')


def test_every_kept_fact_has_exactly_its_highlighted_segments_at_its_span(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    panes = driver.execute_script(READ_PANES)
    checked = 0
    for n, record in enumerate(records, start=1):
        if record["status"] != "ok":
            continue
        d, pane = record["digest"], panes[f"a{n}"]
        assert pane["text"] == d["text"], record["id"]
        assert all(m["at"] == m["s"] and m["rects"] > 0 for m in pane["marks"])
        cuts = boundaries(d)
        for kind in FACT_KINDS:
            for i, fact in enumerate(d[kind]):
                start, end = fact["span"]
                marks = [m for m in pane["marks"] if f"{kind}.{i}" in m["f"]]
                inner = sorted(p for p in cuts if start < p < end)
                # One element per segment: exactly one when nothing else cuts the span.
                assert [m["s"] for m in marks] == [start, *inner], (record["id"], kind, i)
                assert "".join(m["text"] for m in marks) == d["text"][start:end]
                # Highlighted: a colour the reader sees, not the transparent default.
                assert all(m["bg"] not in ("rgba(0, 0, 0, 0)", "transparent") for m in marks)
                checked += 1
    assert checked >= 25
    assert_quiet(driver, report)


def test_source_text_is_right_to_left(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    panes = driver.execute_script(READ_PANES)
    assert panes[article_of(records, "003-hand")]["dir"] == "rtl"
    assert panes[article_of(records, "003-hand")]["lang"] == "ar"
    assert panes[article_of(records, "000-hand")]["dir"] == "rtl"
    assert panes[article_of(records, "000-hand")]["lang"] == "fa"
    art = article_of(records, "000-hand")
    summary = driver.find_element("css selector", f'#{art} p[lang="fa"]')
    english = driver.find_element("css selector", f'#{art} p[lang="en"]')
    direction = "return getComputedStyle(arguments[0]).direction"
    assert driver.execute_script(direction, summary) == "rtl"
    assert driver.execute_script(direction, english) == "ltr"


def test_clicking_a_fact_scrolls_its_evidence_into_view_and_flashes_it(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    art = article_of(records, "000-hand")
    d = by_id(records, "000-hand")["digest"]
    # The last number's evidence is far down the article: out of the pane at first.
    token = f"numbers.{len(d['numbers']) - 1}"
    assert d["numbers"][-1]["span"][0] > 1500
    item, mark = fact_item(driver, art, token), first_mark(driver, art, "f", token)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
    assert driver.execute_script(IN_VIEW, mark) is False
    item.click()
    assert driver.execute_script(IN_VIEW, mark) is True
    assert "flash" in mark.get_attribute("class") and "on" in mark.get_attribute("class")
    assert "on" in item.get_attribute("class")
    assert_quiet(driver, report)


def test_hovering_a_fact_scrolls_the_article_pane_to_it(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(driver, report)
    art = article_of(records, "003-hand")
    d = by_id(records, "003-hand")["digest"]
    index = max(range(len(d["sources"])), key=lambda i: d["sources"][i]["span"][0])
    token = f"sources.{index}"
    item, mark = fact_item(driver, art, token), first_mark(driver, art, "f", token)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
    pane_top = "return arguments[0].closest('.text').scrollTop"
    before = driver.execute_script(pane_top, mark)
    assert driver.execute_script(IN_VIEW, mark) is False
    ActionChains(driver).move_to_element(item).perform()
    time.sleep(0.1)
    assert driver.execute_script(pane_top, mark) > before
    assert driver.execute_script(IN_VIEW, mark) is True
    assert "flash" in mark.get_attribute("class")
    assert_quiet(driver, report)


def test_clicking_a_highlight_lists_every_fact_there(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    art = article_of(records, "003-hand")
    d = by_id(records, "003-hand")["digest"]
    zelensky = next(i for i, p in enumerate(d["people"]) if p["name_en"] == "Volodymyr Zelensky")
    mark = first_mark(driver, art, "f", f"people.{zelensky}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", mark)
    mark.click()
    pop = driver.find_element("id", "pop")
    assert pop.is_displayed()
    labels = [b.text for b in pop.find_elements("css selector", "button")]
    assert any("Volodymyr Zelensky" in label for label in labels)
    assert any("Kyiv" in label for label in labels)  # the overlapping place
    assert len(labels) == len(mark.get_attribute("data-f").split()) + len(
        (mark.get_attribute("data-c") or "").split()
    )
    kyiv = next(b for b in pop.find_elements("css selector", "button") if "Kyiv" in b.text)
    kyiv.click()
    assert not pop.is_displayed()
    item = fact_item(driver, art, "locations.0")
    assert "on" in item.get_attribute("class")
    assert driver.execute_script(IN_VIEW, item) is True
    assert_quiet(driver, report)


def test_clicking_a_summary_sentence_shows_its_citations(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    art = article_of(records, "000-hand")
    sentence = driver.find_element("css selector", f'#{art} .sent[data-c="en.2"]')
    mark = first_mark(driver, art, "c", "en.2.0")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", sentence)
    assert driver.execute_script(IN_VIEW, mark) is False
    sentence.click()
    assert driver.execute_script(IN_VIEW, mark) is True
    assert "flash" in mark.get_attribute("class")
    assert_quiet(driver, report)


def test_index_filters_hide_rows_and_articles(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(driver, report)
    Select(driver.find_element("css selector", 'select[data-filter="status"]')).select_by_value(
        "error"
    )
    visible = (
        "return Array.from(document.querySelectorAll(arguments[0])).filter(e => !e.hidden).length"
    )
    assert driver.execute_script(visible, "tr[data-status]") == 1
    assert driver.execute_script(visible, "article.rec") == 1
    assert driver.find_element("id", "shown").text == f"1 of {len(records)} shown"
    Select(driver.find_element("css selector", 'select[data-filter="status"]')).select_by_value("")
    Select(driver.find_element("css selector", 'select[data-filter="lang"]')).select_by_value("fa")
    persian = sum(1 for r in records if (r.get("digest") or {}).get("language") == "fa")
    assert driver.execute_script(visible, "article.rec") == persian == 2
    assert_quiet(driver, report)


def test_a_hostile_article_renders_as_text_and_runs_nothing(
    driver: Any, records: list[dict[str, Any]], report: Path
) -> None:
    open_page(driver, report)
    assert driver.execute_script("return typeof window.pwned") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1
    assert driver.execute_script("return document.images.length") == 0
    art = article_of(records, "hostile")
    pane = driver.find_element("css selector", f"#{art} .text")
    assert MARKUP in pane.get_attribute("textContent")
    title = driver.find_element("css selector", f"#{art} h2").text
    assert title == "<script>window.pwned=3</script>"
    # Clicking around the hostile article runs nothing either.
    driver.find_element("css selector", f"#{art} li.fact").click()
    assert driver.execute_script("return typeof window.pwned") == "undefined"
    assert_quiet(driver, report)


def test_article_pages_of_a_large_report_work_alone(
    driver: Any, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    written = write_html(records, tmp_path / "big.html", per_article_threshold=2)
    persian = written[1 + records.index(by_id(records, "000-hand"))]
    open_page(driver, persian)
    d = by_id(records, "000-hand")["digest"]
    token = f"numbers.{len(d['numbers']) - 1}"
    item, mark = fact_item(driver, "a2", token), first_mark(driver, "a2", "f", token)
    item.click()
    assert driver.execute_script(IN_VIEW, mark) is True
    assert_quiet(driver, persian)
    open_page(driver, written[0])
    driver.find_element("css selector", "td a").click()
    assert driver.current_url == written[1].as_uri()


def test_screenshots_of_the_seed_report(
    driver: Any, records: list[dict[str, Any]], report: Path, tmp_path: Path
) -> None:
    """Arabic and Persian articles as a reader sees them (looked at by a person, not just saved)."""
    out = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    open_page(driver, report)
    shots = []
    for prefix, name, token in (("003-hand", "arabic", "people"), ("000-hand", "persian", "fact")):
        art = article_of(records, prefix)
        driver.execute_script(
            "document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", art
        )
        if token == "people":  # the overlap: the popover lists both facts
            d = by_id(records, prefix)["digest"]
            i = next(i for i, p in enumerate(d["people"]) if p["name_en"] == "Volodymyr Zelensky")
            first_mark(driver, art, "f", f"people.{i}").click()
        else:  # a fact selected: its evidence outlined in the text
            fact_item(driver, art, "people.0").click()
            driver.execute_script(
                "document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", art
            )
        time.sleep(1.7)  # past the flash animation, so the picture shows the resting state
        path = out / f"report-{name}.png"
        assert driver.save_screenshot(str(path))
        shots.append(path)
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.save_screenshot(str(out / "report-index.png"))
    shots.append(out / "report-index.png")
    for path in shots:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 40_000, path
    assert_quiet(driver, report)
