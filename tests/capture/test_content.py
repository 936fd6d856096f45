"""Content modes, PII scrubbing against the invariant family's validators, hostile objects, failing masks, import."""
from __future__ import annotations

import hashlib
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

import strata_capture as sc
from strata_capture.scrub import content_text, jsonable, scrub

from .helpers import published_spans

PII_TEXT = ("mail jane.doe@example.com or call (415) 555-2671, ssn 123-45-6789, card 4111-1111-1111-1111, "
            "ip 192.168.10.20, iban DE89 3704 0044 0532 0130 00")
SCRUBBED = ("mail <EMAIL> or call <PHONE>, ssn <SSN>, card <CREDIT_CARD>, ip <IPV4>, iban <IBAN>")


def test_scrub_replaces_every_kind():
    assert scrub(PII_TEXT) == SCRUBBED
    assert scrub("order 1234, fictional 212-555-0123, not a card 4111 1111 1111 1112") == \
        "order 1234, fictional 212-555-0123, not a card 4111 1111 1111 1112"


PIECES = st.sampled_from(["jane@example.com", "(415) 555-2671", "123-45-6789", "4111 1111 1111 1111", "10.0.0.1",
                          "GB82 WEST 1234 5698 7654 32", "212-555-0123", "999.1.1.1", "4111 1111 1111 1112", " ", "x",
                          "-", "7", "@", "."])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(PIECES | st.text(alphabet="0123456789 -.@ab", max_size=8), max_size=8).map("".join),
                min_size=1, max_size=40))
def test_scrubbed_text_holds_no_pii_the_invariant_family_finds(texts):
    """Reference: the invariant family's DuckDB detector (same rules) finds nothing in what the SDK writes, and
    finds something in every text the SDK changed for a reason."""
    from pipeline.core.invariants.text_scan import detect_pii_in_strings

    scrubbed = [scrub(t) for t in texts]
    assert detect_pii_in_strings(scrubbed) == [set()] * len(texts)
    for text, out, found in zip(texts, scrubbed, detect_pii_in_strings(texts)):
        assert (out != text) == bool(found), (text, out, found)
        assert scrub(out) == out


class Hostile:
    def __repr__(self):
        raise RuntimeError("repr exploded")

    def __str__(self):
        raise RuntimeError("str exploded")


class Huge:
    def __repr__(self):
        return "x" * 1_000_000


def test_hostile_values_never_raise():
    cyclic: list = []
    cyclic.append(cyclic)
    out = jsonable({"h": Hostile(), "c": cyclic, "big": Huge(), 3: b"\x00\x01", "f": float("nan")})
    assert out["h"] == "<unrepresentable Hostile>"
    assert len(out["big"]) == 2001 and out["3"] == "<2 bytes>" and out["f"] == "nan"
    assert content_text(Hostile(), "scrub", 100) == "<unrepresentable Hostile>"


def test_modes_and_failing_mask_end_to_end(capture):
    results = {}
    for mode in ("scrub", "hash", "none", "raw"):
        capture(content=mode)

        @sc.observe(name="echo")
        def echo(text, obj):
            return text

        echo(PII_TEXT, Hostile())
        assert sc.flush(5)["completed"]
        results[mode] = [s for s in published_spans(capture.drops) if s["name"] == "echo"][-1]["attrs"]
        sc.shutdown()
        import shutil
        shutil.rmtree(capture.drops)
    assert results["scrub"]["output.value"] == SCRUBBED
    assert "<unrepresentable Hostile>" in results["scrub"]["input.value"]
    assert results["hash"]["output.value"] == "sha256:" + hashlib.sha256(SCRUBBED.encode()).hexdigest()
    assert "output.value" not in results["none"] and "input.value" not in results["none"]
    assert results["raw"]["output.value"] == PII_TEXT

    def bad_mask(text):
        raise ValueError("mask bug")

    capture(mask=bad_mask)

    @sc.observe(name="masked")
    def masked(text):
        return text

    masked("secret project Falcon")
    assert sc.flush(5)["completed"]
    attrs = [s for s in published_spans(capture.drops) if s["name"] == "masked"][0]["attrs"]
    assert attrs["output.value"] == attrs["input.value"] == "<content dropped: mask failed>"
    assert sc.stats()["mask_failures"] == 2


def test_custom_mask_applies_after_scrub(capture):
    capture(mask=lambda t: t.replace("Falcon", "<PROJECT>"))

    @sc.observe(name="masked")
    def masked(text):
        return text

    masked("Falcon ships, mail a@b.io")
    assert sc.flush(5)["completed"]
    assert published_spans(capture.drops)[0]["attrs"]["output.value"] == "<PROJECT> ships, mail <EMAIL>"


def test_import_is_standard_library_only():
    code = ("import sys, strata_capture as sc; sc.observe(lambda: 1); "
            "bad = [m for m in ('numpy', 'pyarrow', 'duckdb', 'dagster', 'fsspec', 'openai', 'pandas', "
            "'prometheus_client', 'pipeline') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_settings_from_environment(monkeypatch, tmp_path):
    from strata_capture.config import from_env

    env = {"STRATA_CAPTURE_DROP_URL": "s3://b/drops", "STRATA_CAPTURE_SERVICE": "svc", "STRATA_CAPTURE_CONTENT": "hash",
           "STRATA_CAPTURE_SAMPLE_RATE": "0.25", "STRATA_CAPTURE_EXIT_TIMEOUT_S": "1.5",
           "STRATA_CAPTURE_STORAGE_OPTIONS": '{"anon": true}', "STRATA_CAPTURE_INJECT_STREAM_USAGE": "true",
           "STRATA_CAPTURE_MAX_SPOOL_BYTES": "1000000"}
    s = from_env(env, service="explicit")
    assert (s.drop_url, s.service, s.content, s.sample_rate, s.exit_timeout_s) == ("s3://b/drops", "explicit", "hash", 0.25, 1.5)
    assert s.storage_options == {"anon": True} and s.inject_stream_usage is True and s.max_spool_bytes == 1_000_000


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12))
def test_fast_json_matches_json_dumps(value):
    """Reference: the hot path's prebuilt encoder writes what json.dumps writes."""
    import json

    from strata_capture.scrub import dumps

    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_unicode_and_lone_surrogates_reach_the_drop(capture):
    capture()

    @sc.observe(name="odd")
    def odd(text):
        return text

    odd("caf\u00e9 \U0001f600 \ud800 line\nbreak \x00 \"quoted\" \\")
    assert sc.flush(5)["completed"]
    [s] = published_spans(capture.drops)
    assert s["attrs"]["output.value"] == "caf\u00e9 \U0001f600 ? line\nbreak \x00 \"quoted\" \\"
