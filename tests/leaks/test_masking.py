"""Item 12 (the function) and item 13: one masking function on the PII rules; Markdown and HTML reports neutralize
mentions, issue references, bare links, images and bidi controls from log text."""
from __future__ import annotations

import re

import duckdb
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from pipeline.core.invariants.codegen import emit_pytest
from pipeline.core.invariants.model import Invariant
from pipeline.core.invariants.pii_mask import BIDI_CONTROLS, find_pii, for_people, mask_pii, mask_value
from pipeline.core.report import build_report_data, render_html, render_json, render_markdown
from tests.leaks.pii_planting import ALL, EMAIL, PLANTED, leaks
from tests.report_screenshot import add_hostile_rows, populate_warehouse

FILLER = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@pytest.mark.parametrize("kind, value", [(k, v) for k, vs in PLANTED.items() for v in vs])
def test_each_planted_value_is_pii_and_is_masked(kind, value):
    assert any(k == kind for k, _ in find_pii(f"x {value} y"))
    masked = mask_pii(f"user {value}, again {value}.")
    assert value not in masked and not leaks(masked)
    assert masked.startswith("user ") and masked.endswith(".")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FILLER, st.sampled_from(ALL)), max_size=5), FILLER)
def test_masked_text_holds_nothing_the_rules_find(pieces, tail):
    """Reference: the PII rules themselves; whatever surrounds the values, the scan finds nothing after masking."""
    text = " ".join(f"{a} {v}" for a, v in pieces) + " " + tail
    masked = mask_pii(text)
    assert find_pii(masked) == []
    assert mask_pii(masked) == masked  # masking is idempotent
    for _, value in pieces:
        assert value not in masked


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="@0123456789"),
               max_size=80))
def test_text_without_digits_or_at_signs_is_unchanged(text):
    assert mask_pii(text) == text


def test_mask_value_walks_plain_data_and_pii_shaped_numbers():
    data = {"user": EMAIL, EMAIL: [1, 2.5, 4111111111111111, 987654321098, {"ip": "203.0.113.195"}], "n": None}
    out = mask_value(data)
    assert not leaks(repr(out))
    assert out["n"] is None and 1 in next(iter(v for k, v in out.items() if isinstance(v, list)))
    assert 987654321098 in next(v for k, v in out.items() if isinstance(v, list))  # not a card: kept
    assert mask_pii(f"keys {EMAIL}", stable=True) == mask_pii(f"keys {EMAIL}", stable=True) != f"keys {EMAIL}"


def test_generated_suite_and_its_failure_message_hold_no_pii(tmp_path):
    inv = Invariant(id="set:user_id", family="structural", description=f"user_id is always one of {EMAIL}, 123-45-6789",
                    confidence=1.0, support=10, total=10, severity="warning",
                    check={"kind": "set", "field": "user_id", "values": [EMAIL, "carol@examplecorp.com"]},
                    evidence={"examples": ["4111 1111 1111 1111", "(415) 867-5309"]})
    source = emit_pytest([inv], baseline_path=f"/home/{EMAIL}/b.strata.json", source_hint="203.0.113.195:/logs")
    assert not leaks(source)
    compile(source, "suite", "exec")
    from pipeline.pytest_plugin import describe

    message = describe("violated", {"id": "x", "confidence": 1.0}, 0.5, 5, 10,
                       {"violations": 5, "examples": [EMAIL, "SSN 123-45-6789"]})
    assert not leaks(message) and "violated" in message


LIVE_TEXT = ("ping @octocat and @acme/security, see #123 and GH-7 org/repo#45, visit https://evil.example/x "
             "or www.evil.example, ![track](https://evil.example/p.png) [click](http://evil.example) "
             "\u202eevil\u202c \u2066x\u2069 \u200e\u200f")
LIVE = [r"(?<![\w`])@[A-Za-z0-9]", r"#[0-9]", r"\bGH-[0-9]", r"https?://", r"\bwww\.", r"!\[", r"(?<!\\)\[[^\]]*\]\("]


@pytest.fixture(scope="module")
def hostile_data():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    entries = populate_warehouse(con)
    add_hostile_rows(con, LIVE_TEXT + f" {EMAIL} 4111 1111 1111 1111")
    yield build_report_data(con, entries, title="report for " + LIVE_TEXT)
    con.close()


def _visible_markdown(md: str) -> str:
    return md.replace("<!-- -->", "\x00")  # the inert break: a mention split by it is not a mention


def test_markdown_report_has_no_live_mentions_refs_links_images_or_bidi(hostile_data):
    md = render_markdown(hostile_data)
    assert "octocat" in md  # the text is still there, made inert
    text = _visible_markdown(md)
    for pattern in LIVE:
        assert not re.search(pattern, text), (pattern, re.search(pattern, text))
    assert not any(c in md for c in BIDI_CONTROLS) and "&lt;U+202E&gt;" in md
    assert not leaks(md)


@pytest.mark.parametrize("template", ["default", "eu-ai-act"])
def test_html_and_json_reports_have_no_bidi_controls_or_pii(hostile_data, template):
    html = render_html(hostile_data, template)
    assert not any(c in html for c in BIDI_CONTROLS) and "&lt;U+202E&gt;" in html
    assert not leaks(html)
    js = render_json(hostile_data)
    assert not any(c in js for c in BIDI_CONTROLS) and not leaks(js)


def test_for_people_keeps_structure():
    out = for_people({"a": ["\u202ex", EMAIL], "b": 3, "c": (1, "\u2066")})
    assert out == {"a": ["<U+202E>x", mask_pii(EMAIL)], "b": 3, "c": (1, "<U+2066>")}
