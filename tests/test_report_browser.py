"""The report in a real browser: headless Chromium (Debian's, driven by Playwright, no downloaded browser) loads it
from disk, offline, with no console error, no page error and no request beyond the file itself; hostile log content
(script tags, an attribute breakout, a template expression) shows as text and never runs; every section is there with
its inline SVG charts; PII shows redacted only; the EU AI Act page carries its evidence and a verifiable hash; the
full-page screenshot is far from blank. Skips when Chromium or Playwright is missing, unless
STRATA_REQUIRE_CHROMIUM=1 (CI), where that is a failure."""
import os
import re
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.core.report import build_report_data, render_html, verify_report
from tests.report_screenshot import PAYLOADS, START, add_payload_rows, chromium_path, launch, populate_warehouse, \
    sample_entries

TITLE = "Support bot " + " ".join(PAYLOADS)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
SECTIONS = ("summary", "invariants", "anomalies", "drift", "pii")
ARTICLE_72_ROWS = ("Data collection", "Performance monitoring", "Incident / anomaly detection", "Drift monitoring",
                   "Personal-data safeguards", "Corrective actions")


def _unavailable(reason: str):
    if os.environ.get("STRATA_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{reason}, and STRATA_REQUIRE_CHROMIUM=1 requires the browser tests to run")
    pytest.skip(f"{reason}: the report's browser tests need Debian's chromium (apt-get install chromium, or set "
                "STRATA_CHROMIUM) and playwright (the dev extra)")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not Path(chromium_path()).is_file():
        _unavailable(f"no Chromium at {chromium_path()}")
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def data():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    entries = populate_warehouse(con, sample_entries(days=4, per_hour=20))
    add_payload_rows(con)
    yield build_report_data(con, entries, title=TITLE, now=START + timedelta(days=5))
    con.close()


class Loaded:
    """A page opened from disk in an offline context, and everything it did while loading."""

    def __init__(self, browser, path: Path):
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, offline=True)
        self.page = self.context.new_page()
        self.console, self.errors, self.requests, self.failed = [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.goto(self.url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def close(self):
        self.context.close()

    def assert_report(self, data: dict):
        """What every rendered report must pass: clean load, hostile text inert, all sections, PII redacted."""
        self.assert_clean()
        self.assert_hostile_text_stayed_text()
        self.assert_sections(data)
        self.assert_pii_redacted()

    def assert_clean(self):
        """No console error or warning (a CSP violation is one), no uncaught error, nothing fetched but the file."""
        assert [t for kind, t in self.console if kind in ("error", "warning")] == []
        assert self.errors == []
        assert self.requests == [self.url] and self.failed == []  # no CDN, font, image or beacon

    def assert_hostile_text_stayed_text(self):
        page = self.page
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('script, img, iframe, object, embed').length") == 0
        assert page.evaluate("document.querySelectorAll('[onerror], [onload], [src]').length") == 0
        assert page.title().startswith(TITLE)
        assert page.inner_text("h1") == TITLE  # the payloads are the visible title, as typed
        body = page.inner_text("body")
        assert "49" not in page.inner_text("h1")  # {{ 7*7 }} was not evaluated by a template
        for payload in PAYLOADS:
            for where in ("section#summary", "section#anomalies", "section#drift", "section#pii"):
                assert payload in page.inner_text(where), (payload, where)  # formats, segments, hypotheses, kinds
            assert body.count(payload) >= 6, payload
        segments = page.locator("section#anomalies table.anomalies tbody td:nth-child(2)").all_inner_texts()
        assert set(PAYLOADS) <= set(segments)  # shown as segment names in the top anomalies table

    def assert_sections(self, data: dict):
        page = self.page
        for section in SECTIONS:
            assert page.locator(f"section#{section}").count() == 1, section
            assert page.locator(f"section#{section} h2").is_visible(), section
        assert page.locator("section#summary svg.chart.bars").count() == 2  # invariants by status, by severity
        charts = data["anomalies"]["charts"]
        assert len(charts) >= 3
        assert page.locator("section#anomalies svg.chart.timeseries").count() == len(charts)
        assert page.locator("section#anomalies svg.chart.timeseries circle.marker").count() >= sum(
            1 for c in charts for _ in c["markers"]) > 0
        assert page.locator("section#drift svg.chart.drift").count() == 1
        assert page.locator("section#drift svg.chart.drift circle.point").count() == len(data["drift"]["history"])
        drift = page.inner_text("section#drift")
        assert "Latest drop:" in drift and "Version diff:" in drift
        assert page.locator("section#drift svg.chart.bars").count() == 1  # score per dimension of the version diff
        assert page.locator("section#pii tbody tr").count() == len(data["pii"]["findings"])
        for svg in page.locator("svg.chart").all():  # every chart drawn at a real size, with an accessible title
            box = svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 30
            assert svg.locator("title").first.text_content()

    def assert_pii_redacted(self):
        page = self.page
        everything = page.evaluate("document.documentElement.textContent")  # hidden text and SVG titles included
        assert EMAIL.findall(everything) == [] and EMAIL.findall(page.content()) == []
        assert "alice.smith" not in page.content() and "support-team@" not in page.content()
        chips = page.locator("section#pii .chip").all_inner_texts()
        assert chips and any("***@" in c for c in chips) and "leak: a***@e***.org" in chips


def png_pixels(png: bytes) -> np.ndarray:
    """The RGB(A) pixels of an 8-bit, non-interlaced PNG (what Chromium writes), decoded with zlib and struct. Rows
    are unfiltered along anti-diagonals, so each step is one vectorized update (Paeth is sequential within a row)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, [], None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + chunk) == struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = head
    assert depth == 8 and interlace == 0 and colour in (2, 6), head
    ch = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * ch)
    kinds, data = raw[:, 0].astype(np.int16), raw[:, 1:].reshape(h, w, ch).astype(np.int16)
    out = np.zeros((h + 1, w + 1, ch), np.int16)  # a zero row above and a zero column left, as the filters assume
    for d in range(h + w - 1):
        y = np.arange(max(0, d - w + 1), min(h, d + 1))
        x = d - y
        a, b, c = out[y + 1, x], out[y, x + 1], out[y, x]  # left, up, up-left (already decoded)
        k = kinds[y][:, None]
        pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        predicted = np.select([k == 1, k == 2, k == 3, k == 4], [a, b, (a + b) >> 1, paeth], 0)
        out[y + 1, x + 1] = (data[y, x] + predicted) & 255
    return out[1:, 1:].astype(np.uint8)


def colour_stats(pixels: np.ndarray) -> tuple[int, float]:
    """How many distinct RGB colours, and the share of pixels in the most common one."""
    rgb = pixels[..., :3].astype(np.int32)
    packed = (rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).ravel()
    counts = np.bincount(packed, minlength=1 << 24)
    return int(np.count_nonzero(counts)), float(counts.max() / packed.size)


def test_png_decoder_reads_every_filter():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    rows = []
    for y, kind in enumerate([0, 1, 2, 3, 4, 4]):  # encode each row with one filter type
        cur = image[y].astype(np.int16).ravel()
        prev = image[y - 1].astype(np.int16).ravel() if y else np.zeros_like(cur)
        left = np.concatenate([np.zeros(3, np.int16), cur[:-3]])
        upleft = np.concatenate([np.zeros(3, np.int16), prev[:-3]])
        p = left + prev - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        predicted = [0, left, prev, (left + prev) >> 1, paeth][kind]
        rows.append(bytes([kind]) + ((cur - predicted) & 255).astype(np.uint8).tobytes())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 6, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    assert np.array_equal(png_pixels(png), image)


def test_default_report_in_the_browser(browser, data, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_html(data), encoding="utf-8")
    loaded = Loaded(browser, path)
    try:
        loaded.assert_report(data)
        shot = loaded.page.screenshot(full_page=True)
        height = loaded.page.evaluate("document.documentElement.scrollHeight")
    finally:
        loaded.close()
    blank_path = tmp_path / "blank.html"
    blank_path.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    blank = Loaded(browser, blank_path)
    try:
        empty = blank.page.screenshot(full_page=True)
    finally:
        blank.close()
    pixels = png_pixels(shot)
    assert pixels.shape[:2] == (height, 1280) and height > 3000
    colours, top_share = colour_stats(pixels)
    assert colours > 1000 and top_share < 0.8  # text, charts and badges: not one flat colour
    assert colour_stats(png_pixels(empty)) == (1, 1.0)
    assert len(shot) > 20 * len(empty)


def test_eu_ai_act_report_in_the_browser(browser, data, tmp_path):
    html = render_html(data, template="eu-ai-act", sign=True)
    path = tmp_path / "eu.html"
    path.write_text(html, encoding="utf-8")
    loaded = Loaded(browser, path)
    try:
        loaded.assert_report(data)
        page = loaded.page
        rows = page.locator("section#article-72 tbody tr")
        assert [r.split("\t")[0].strip() for r in rows.all_inner_texts()] == list(ARTICLE_72_ROWS)
        for link in page.locator("section#article-72 a").all():  # every pointer lands on a section of the page
            assert page.locator(link.get_attribute("href")).count() == 1
        disclaimer = page.locator("section#article-72 .disclaimer")
        assert disclaimer.is_visible() and "Article 72" in disclaimer.inner_text()
        assert "does not replace legal review" in disclaimer.inner_text()
        shown = page.inner_text("code.sha256")
        assert re.fullmatch(r"[0-9a-f]{64}", shown)
        assert page.get_attribute('meta[name="strata-body-sha256"]', "content") == shown
    finally:
        loaded.close()
    assert verify_report(html)
    body = html.index("<!--strata-body-start-->")
    at = html.index("Data collection", body)  # one character of the visible body
    assert not verify_report(html[:at] + "d" + html[at + 1:])
