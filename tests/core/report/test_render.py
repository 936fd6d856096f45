"""Rendering: HTML escapes everything user-derived and holds no URL or script, the EU AI Act template has its
evidence table and disclaimer, signing detects tampering, Markdown carries the same numbers, JSON round-trips."""
import hashlib
import json
import re
from datetime import timedelta

import duckdb
import pytest

from pipeline.core.report import build_report_data, render_html, render_json, render_markdown, verify_report
from pipeline.core.report.render import BODY_END, BODY_START, body_sha256
from pipeline.core.invariants.pii_mask import for_people
from pipeline.core.report.values import clean
from tests.report_screenshot import HOSTILE, START, add_hostile_rows, populate_warehouse

DISCLAIMER = ("This report assists post-market monitoring under Article 72 of the EU AI Act; it does not replace "
              "legal review.")


@pytest.fixture(scope="module")
def data():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    entries = populate_warehouse(con)
    add_hostile_rows(con)
    yield build_report_data(con, entries, title=HOSTILE + " <!--strata-body-start-->", now=START + timedelta(days=8))
    con.close()


@pytest.fixture(scope="module")
def empty():
    return build_report_data(duckdb.connect(":memory:"))


@pytest.mark.parametrize("template", ["default", "eu-ai-act"])
def test_user_text_is_escaped_and_nothing_can_run_or_fetch(data, template):
    html = render_html(data, template, sign=True)
    assert not re.search(r"<\s*script", html, re.I) and not re.search(r"<\s*img", html, re.I)
    assert html.count("</style>") == 1 and html.count("<style>") == 1  # only ours
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html or \
        "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in html
    assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
    assert not re.search(r"(?:https?:)?//[a-z0-9]", html.replace("default-src", ""), re.I)  # no URL at all
    assert not re.search(r"<[^>]*\bsrc\s*=", html, re.I) and "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "alice.smith@example.org" not in html and "a***@e***.org" in html  # a clear sample is masked again
    assert "ü 💥 שלום" in html


def test_sections_in_order_with_badges(data):
    html = render_html(data)
    positions = [html.index(f'<section id="{s}">') for s in ("summary", "invariants", "anomalies", "drift", "pii")]
    assert positions == sorted(positions)
    assert 'class="badge verdict verdict-block lg"' in html and ".verdict-ship{background:#16a34a}" in html
    assert ".verdict-monitor{background:#d97706}" in html and ".verdict-review{background:#ea580c}" in html
    assert ".verdict-block{background:#dc2626}" in html
    assert html.count('class="chart timeseries"') == 6 and html.count('class="chart drift"') == 1
    assert "Generated at <b>2025-03-11 00:00 UTC</b>" in html and "Strata <b>0.1.0</b>" in html
    assert "tbody tr:nth-child(even)" in html and "@media print" in html


def test_empty_report_says_not_computed(empty):
    html = render_html(empty)
    assert html.count("not computed yet") >= 5
    md = render_markdown(empty)
    assert md.count("_Not computed yet._") == 4 and "Ingest statistics: not computed yet" in md


def test_eu_ai_act_template(data):
    html = render_html(data, "eu-ai-act")
    assert DISCLAIMER in html
    for row in ("Data collection", "Performance monitoring", "Incident / anomaly detection", "Drift monitoring",
                "Personal-data safeguards", "Corrective actions"):
        assert f"<td><b>{row}</b></td>" in html
    for pointer in ('href="#summary"', 'href="#invariants"', 'href="#anomalies"', 'href="#drift"', 'href="#pii"'):
        assert pointer in html
    assert "[provider name and address — to be completed]" in html and "[deployer name — to be completed]" in html
    assert "Period covered" in html and "2025-03-03 00:00 UTC → " in html
    s = data["summary"]
    assert f"{s['rows_kept']:,} entries kept of {s['rows_read']:,} read" in html
    assert html.index('id="article-72"') < html.index('<section id="summary">')


def test_unknown_template_is_refused(data):
    with pytest.raises(ValueError, match="unknown template"):
        render_html(data, "fancy")


def test_signature_covers_the_body_and_detects_tampering(data):
    html = render_html(data, "eu-ai-act", sign=True)
    assert verify_report(html)
    body = html.split(BODY_START)[1].split(BODY_END)[0]
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert f'<meta name="strata-body-sha256" content="{digest}">' in html
    assert f'<code class="sha256">{digest}</code>' in html and body_sha256(html) == digest
    first_number = re.search(r"\d,\d{3}", body)
    tampered = html.replace(first_number.group(0), first_number.group(0).replace(",", ",9", 1), 1)
    assert not verify_report(tampered)
    assert not verify_report(html.replace(digest, "0" * 64))
    assert not verify_report(html.replace(f'<code class="sha256">{digest}', f'<code class="sha256">{"1" * 64}'))
    assert not verify_report(html.replace(BODY_END, ""))
    assert not verify_report(html.replace(BODY_START, BODY_START * 2))
    assert not verify_report(render_html(data, "eu-ai-act"))  # unsigned
    assert not verify_report(None) and not verify_report("")


def test_signing_is_deterministic_and_unsigned_pages_show_no_hash(data):
    assert render_html(data, sign=True) == render_html(data, sign=True)
    plain = render_html(data)
    assert "strata-body-sha256" not in plain and "@@" not in plain
    assert body_sha256(plain) == body_sha256(render_html(data, sign=True))  # signing leaves the body as it is


def test_markdown_has_the_same_numbers(data):
    md, html = render_markdown(data), render_html(data)
    s = data["summary"]
    for text in (f"{s['rows_kept']:,}", f"{s['rows_read']:,}", f"{s['parse_rate'] * 100:.2f}%",
                 f"{s['anomalies']['total']} ({s['anomalies']['critical']} critical, {s['anomalies']['warning']} warning)"):
        assert text in md
    for a in data["anomalies"]["top"]:
        score = f"{a['score']:+.1f}σ"
        assert score in md and score in html
    for fam in data["invariants"]["families"]:
        for inv in fam["invariants"]:
            assert f"{inv['confidence']:.3f}" in md and f"{inv['confidence']:.3f}" in html
    v = data["drift"]["version"]
    assert f"{v['score']:.3f}" in md and f"{v['ci_lo']:.3f}–{v['ci_hi']:.3f}" in md


def test_markdown_escapes_user_text(data):
    md = render_markdown(data)
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md
    anomaly_rows = [ln for ln in md.splitlines() if ln.startswith("| 2025-") and "σ |" in ln]  # segments hold pipes
    assert len(anomaly_rows) == 20 and "support-bot\\|gpt-4o" in anomaly_rows[1]
    assert all(ln.replace("\\|", "").count("|") == 9 for ln in anomaly_rows)  # 8 cells, none split


def test_json_round_trips_with_the_documented_keys(data):
    text = render_json(data)
    back = json.loads(text)
    assert back == json.loads(json.dumps(for_people(clean(data))))  # what is written for people: PII masked
    assert back["schema_version"] == 1
    assert set(back["summary"]) >= {"drops", "rows_read", "rows_kept", "rows_rejected", "parse_rate", "formats",
                                    "vendors", "invariants", "anomalies", "drift", "pii"}
    assert set(back["anomalies"]["charts"][0]) == {"metric", "unit", "anomalies", "series", "band", "markers",
                                                   "markers_total"}
    assert set(back["drift"]["version"]) >= {"score", "ci_lo", "ci_hi", "verdict", "dimensions", "hypotheses",
                                             "financial_impact"}
    stamps = re.findall(r'"(?:ts|generated_at|computed_at|checked_at|start|end)": "([^"]+)"', text)
    assert stamps and all(s.endswith("Z") for s in stamps)
    for line in render_json.__doc__.splitlines():  # the documented top-level keys are the real ones
        key = line.strip().split(" ")[0]
        if re.fullmatch(r"[a-z_]+", key) and line.startswith("      ") and not line.startswith("       "):
            assert key in back, key
