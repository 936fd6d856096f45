"""The report in a real browser: headless Chromium (Debian's, driven by Playwright, no downloaded browser) loads it
from disk with no console error, no page error and no request beyond the file itself; hostile log content shows as
text and never runs; the EU AI Act page carries its evidence and a verifiable hash; the screenshot is not blank.
Skips when Chromium is missing, unless STRATA_REQUIRE_CHROMIUM=1 (CI), where that is a failure."""
import os
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.core.report import build_report_data, render_html, verify_report
from tests.report_screenshot import HOSTILE, START, add_hostile_rows, populate_warehouse, sample_entries

CHROMIUM = os.environ.get("STRATA_CHROMIUM", "/usr/bin/chromium")
TITLE = "Support bot " + HOSTILE


def _require(reason: str):
    if os.environ.get("STRATA_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{reason} (STRATA_REQUIRE_CHROMIUM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _require(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def data():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    entries = populate_warehouse(con, sample_entries(days=4, per_hour=20))
    add_hostile_rows(con)
    yield build_report_data(con, entries, title=TITLE, now=START + timedelta(days=5))
    con.close()


def open_page(browser, path: Path):
    """Load a file; return the page and what happened: console messages, page errors, requested URLs."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    seen = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, seen


def png_size_and_colours(png: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the decompressed image data (a blank page has ~3)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    idat, pos = b"", 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_default_report_loads_clean_and_keeps_hostile_text_as_text(browser, data, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_html(data), encoding="utf-8")
    page, seen = open_page(browser, path)
    try:
        errors = [text for kind, text in seen["console"] if kind in ("error", "warning")]
        assert errors == [] and seen["errors"] == []
        assert seen["requests"] == [path.resolve().as_uri()]  # nothing else: no CDN, no image, no font
        assert page.title().startswith("Support bot <script>")  # the payload set no title: it is the text itself
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        assert page.evaluate("document.querySelectorAll('img').length") == 0  # the onerror <img> stayed text
        body = page.inner_text("body")
        assert '<script>document.title="pwned"</script>' in body and "onerror=" in body
        for section in ("summary", "invariants", "anomalies", "drift", "pii"):
            assert page.locator(f"section#{section}").count() == 1, section
        assert page.locator("section#anomalies svg").count() >= 3
        assert page.locator("section#drift svg").count() >= 1
        assert "alice.smith@example.org" not in body and "alice.smith@" not in page.content()
        assert "***" in page.inner_text("section#pii")
        shot = page.screenshot(full_page=True)
    finally:
        page.close()
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    page, _ = open_page(browser, blank)
    empty = page.screenshot(full_page=True)
    page.close()
    width, height, colours = png_size_and_colours(shot)
    assert width == 1280 and height > 3000
    assert colours > 200 and len(shot) > 20 * len(empty)
    assert png_size_and_colours(empty)[2] < 10


def test_eu_ai_act_report_is_signed_and_carries_its_evidence(browser, data, tmp_path):
    html = render_html(data, template="eu-ai-act", sign=True)
    path = tmp_path / "eu.html"
    path.write_text(html, encoding="utf-8")
    page, seen = open_page(browser, path)
    try:
        assert [t for k, t in seen["console"] if k == "error"] == [] and seen["errors"] == []
        assert seen["requests"] == [path.resolve().as_uri()]
        body = page.inner_text("body")
        assert "Article 72" in body and "does not replace legal review" in body
        rows = page.locator("section#article-72 tbody tr")
        assert rows.count() >= 5
        shown = page.inner_text("code.sha256")
        assert len(shown) == 64 and shown in html
    finally:
        page.close()
    assert verify_report(html)
    start = html.index("<!--strata-body-start-->") + 200
    tampered = html[:start] + ("X" if html[start] != "X" else "Y") + html[start + 1:]
    assert not verify_report(tampered)
