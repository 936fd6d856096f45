"""build_report_data: every section read from a populated warehouse (values checked against the tables), an empty
one, missing and oddly shaped tables, NaN and huge inputs, and the downsampling against a numpy reference."""
import json
import math
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.report import SCHEMA_VERSION, build_report_data
from pipeline.core.report.anomalies import EVENT_METRICS, MAX_CHARTS, MAX_MARKERS, TOP_ANOMALIES
from pipeline.core.report.values import clean
from tests.report_screenshot import INVARIANTS, START, populate_warehouse

NOW = START + timedelta(days=7, hours=6)


def _con():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


@pytest.fixture(scope="module")
def populated():
    con = _con()
    entries = populate_warehouse(con)
    yield con, entries, build_report_data(con, entries, title="Daily", now=NOW)
    con.close()


def test_top_level_shape_is_the_schema(populated):
    _, _, d = populated
    assert list(d) == ["schema_version", "title", "generated_at", "strata_version", "window", "summary", "invariants",
                       "anomalies", "drift", "pii", "workflow"]
    assert d["schema_version"] == SCHEMA_VERSION == 1
    assert d["generated_at"] == "2025-03-10T06:00:00Z" and d["title"] == "Daily"
    json.dumps(d, allow_nan=False)  # JSON-safe as built


def test_summary_numbers_match_the_tables(populated):
    con, entries, d = populated
    s = d["summary"]
    read, kept, rejected = con.sql("SELECT sum(rows_read), sum(rows_kept), sum(rows_rejected) FROM drops").fetchall()[0]
    assert (s["drops"], s["rows_read"], s["rows_kept"], s["rows_rejected"]) == (7, read, kept, rejected)
    assert kept == entries.num_rows and rejected == 20
    assert s["parse_rate"] == pytest.approx(kept / read)
    assert s["formats"] == {"jsonl": 7, "csv": 3} and s["vendors"] == {"openai": 7}
    statuses = [row[5] for row in INVARIANTS]
    assert s["invariants"] == {"total": len(INVARIANTS), "violated": statuses.count("violated"),
                               "degraded": statuses.count("degraded"), "unknown": statuses.count("unknown"),
                               "holds": statuses.count("holds"), "unchecked": 0}
    total, critical = con.sql("SELECT count(*), count(*) FILTER (severity = 'critical') FROM anomalies").fetchall()[0]
    assert s["anomalies"]["total"] == total > 0 and s["anomalies"]["critical"] == critical
    assert s["drift"]["verdict"] == "BLOCK" and s["drift"]["subject"] == "2025-03-09"
    assert s["pii"] == {"findings": 3, "violations": 4}  # e-mail 3 + card 1; markdown is a habit, not personal data


def test_window_spans_entries_and_checks(populated):
    _, entries, d = populated
    assert d["window"]["start"] == "2025-03-03T00:00:00Z"
    assert d["window"]["end"] == "2025-03-10T02:00:00Z"  # the last staleness window ends after the last entry
    assert d["window"]["seconds"] == pytest.approx(7 * 86400 + 7200)


def test_invariants_grouped_by_family_with_latest_staleness(populated):
    _, _, d = populated
    inv = d["invariants"]
    assert [f["family"] for f in inv["families"]] == ["pii", "structural", "statistical", "relational", "semantic",
                                                     "temporal", "session"]
    assert sum(f["count"] for f in inv["families"]) == inv["total"] == len(INVARIANTS)
    latency = next(i for f in inv["families"] for i in f["invariants"] if i["id"].startswith("statistical:latency"))
    assert (latency["status"], latency["confidence_then"], latency["confidence_now"]) == ("violated", 0.95, 0.41)
    assert latency["drop_pp"] == pytest.approx(54.0)
    assert inv["checked_at"] == "2025-03-10T02:00:00Z"
    pii = inv["families"][0]["invariants"]
    assert [i["severity"] for i in pii][:3] == ["critical"] * 3 and pii[0]["status"] == "violated"  # worst first


def test_anomalies_top_and_charts(populated):
    con, _, d = populated
    an = d["anomalies"]
    top = an["top"]
    assert len(top) == TOP_ANOMALIES
    scores = [abs(a["score"]) for a in top]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(con.sql("SELECT max(abs(score)) FROM anomalies").fetchall()[0][0])
    charts = an["charts"]
    assert len(charts) == MAX_CHARTS
    with_anomalies = [m for m in an["by_metric"] if m not in EVENT_METRICS]  # events are listed, never charted
    assert [c["metric"] for c in charts][: len(with_anomalies)] == with_anomalies  # most anomalies first
    for c in charts:
        assert len(c["series"]["ts"]) == len(c["series"]["value"]) <= 400
        assert c["markers_total"] == an["by_metric"].get(c["metric"], 0) == len(c["markers"])
    lat = next(c for c in charts if c["metric"] == "latency_ms")
    p25, p50, p75 = con.sql("SELECT p25, p50, p75 FROM latest_baselines WHERE segment = 'all' AND metric = "
                            "'latency_ms'").fetchall()[0]
    assert (lat["band"]["kind"], lat["band"]["lo"], lat["band"]["mid"], lat["band"]["hi"]) == ("iqr", p25, p50, p75)
    assert lat["series"]["downsampled"] and lat["series"]["points_in"] == 6048
    assert lat["unit"] == "ms"
    rates = [c for c in charts if c["metric"] in ("request_rate", "error_rate")]
    assert rates and all(c["band"] is None for c in rates)  # rates have no per-entry baseline band


def test_drift_latest_version_and_history(populated):
    _, _, d = populated
    dr = d["drift"]
    assert [h["subject"] for h in dr["history"]] == [f"2025-03-0{i}" for i in range(4, 10)]
    assert dr["latest"]["subject"] == "2025-03-09" and dr["latest"]["score"] == 0.52
    assert len(dr["latest"]["hypotheses"]) == 3 and dr["latest"]["financial_impact"]["currency"] == "USD"
    v = dr["version"]
    assert (v["subject"], v["verdict"], v["ci_lo"], v["ci_hi"]) == ("v1 -> v2", "REVIEW", 0.34, 0.43)
    assert v["dimensions"][0]["significant"] and v["dimensions"][0]["name"] == "latency_ms"
    sig = [dim["significant"] for dim in v["dimensions"]]
    assert sig == sorted(sig, reverse=True)


def test_pii_shows_counts_and_redacted_samples_only(populated):
    _, _, d = populated
    findings = {f["kind"]: f for f in d["pii"]["findings"]}
    email = findings["email"]
    assert (email["status"], email["violations"], email["total"]) == ("violated", 3, 864)
    assert email["samples"] == ["j***@e***.com", "m***@g***.com", "s***@a***.com"]  # the clear one masked again
    assert email["remasked"] == 1
    assert "raw text never shown" not in json.dumps(d)  # evidence examples are never carried
    assert [f["kind"] for f in d["pii"]["findings"]][0] == "email"


def test_empty_warehouse_says_not_computed():
    d = build_report_data(_con(), now=NOW)
    for name in ("summary", "invariants", "anomalies", "drift", "pii"):
        assert d[name]["computed"] is False
    assert d["window"] == {"start": None, "end": None, "seconds": None}
    assert d["summary"]["drift"] is None and d["anomalies"]["charts"] == []


def test_tables_present_but_empty():
    con = _con()
    populate_warehouse(con, _entries([]))
    for table in ("drops", "invariants", "staleness", "anomalies", "drift_results", "baselines"):
        con.execute(f"DELETE FROM {table}")
    d = build_report_data(con, now=NOW)
    assert d["invariants"]["computed"] and d["invariants"]["families"] == []
    assert d["anomalies"]["computed"] and d["anomalies"]["total"] == 0 and d["anomalies"]["top"] == []
    assert d["drift"]["computed"] and d["drift"]["latest"] is None
    assert d["summary"]["parse_rate"] is None and d["summary"]["drops"] == 0


def test_an_unexpected_table_shape_spoils_only_its_section(populated):
    con = _con()
    con.execute("CREATE TABLE anomalies (ts TIMESTAMPTZ, metric VARCHAR)")  # no score, severity...
    con.execute("INSERT INTO anomalies VALUES (now(), 'latency_ms')")
    con.execute("CREATE TABLE drops AS SELECT 'd' AS drop, 5 AS rows_read, 5 AS rows_kept, 0 AS rows_rejected, "
                "1.0 AS parse_rate, 10 AS bytes, 1 AS objects, 'not json' AS formats, '[\"openai\"]' AS vendors, "
                "NULL AS entries_path, now() AS ingested_at")
    d = build_report_data(con, now=NOW)
    assert d["anomalies"]["computed"] is False and "BinderException" in d["anomalies"]["error"]
    assert d["summary"]["rows_kept"] == 5 and d["summary"]["formats"] == {} and d["summary"]["vendors"] == {"openai": 1}


def test_nan_nulls_and_bad_json_are_json_safe():
    con = _con()
    populate_warehouse(con, _entries([]))
    con.execute("INSERT INTO anomalies VALUES ('d', '2025-03-03 10:00:00+00', 'e1', 1, 'all', 'latency_ms', 'NaN', "
                "'Infinity', 'NaN', [], 'critical', NULL), ('d', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                "NULL, NULL, NULL), ('d', '2025-03-03 11:00:00+00', 'e2', 2, 'all', 'latency_ms', 900, 800, 5.0, "
                "['mad'], 'warning', 'ok')")
    con.execute("INSERT INTO drift_results VALUES (now(), 'drop', 'd1', 'a', 'b', 'NaN', NULL, NULL, 'SHIP', 1, 1, "
                "'not json', '{broken')")
    d = build_report_data(con, now=NOW)
    text = json.dumps(d, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert d["anomalies"]["top"][0]["score"] == 5.0  # a NaN score sorts last, not first
    assert d["anomalies"]["top"][1]["value"] is None
    latest = d["drift"]["latest"]
    assert latest["score"] is None and latest["hypotheses"] == [] and latest["dimensions"] == []
    lat = next(c for c in d["anomalies"]["charts"] if c["metric"] == "latency_ms")
    assert [m["value"] for m in lat["markers"]] == [900.0]  # markers need a finite value and a time


def test_huge_anomaly_table_is_capped():
    con = _con()
    populate_warehouse(con, _entries([]))
    con.execute("""INSERT INTO anomalies SELECT 'd', TIMESTAMPTZ '2025-03-03' + i * INTERVAL 1 SECOND, 'e' || i, i,
                   'seg|ü|💥', 'latency_ms', i, 1, (i % 1000) / 10.0, ['zscore'],
                   CASE WHEN i % 3 = 0 THEN 'critical' ELSE 'warning' END, 'x' FROM range(200000) t(i)""")
    d = build_report_data(con, now=NOW)
    chart = d["anomalies"]["charts"][0]
    assert chart["markers_total"] == 200_000 and len(chart["markers"]) == MAX_MARKERS
    assert min(abs(m["score"]) for m in chart["markers"]) >= 99.0 - 1e-9  # the highest scores are kept
    assert len(d["anomalies"]["top"]) == TOP_ANOMALIES and d["anomalies"]["top"][0]["segment"] == "seg|ü|💥"


def test_entries_with_gaps_nulls_and_nan():
    con = _con()
    populate_warehouse(con, _entries([]))
    t0 = datetime(2025, 3, 3, tzinfo=timezone.utc)
    entries = pa.table({"ts": pa.array([t0, None, t0 + timedelta(hours=1), t0 + timedelta(days=3)],
                                       pa.timestamp("us", tz="UTC")),
                        "latency_ms": [100.0, 5.0, float("nan"), 300.0], "status": ["ok", "ok", None, "error"]})
    d = build_report_data(con, entries, now=NOW, max_points=2)
    lat = next(c for c in d["anomalies"]["charts"] if c["metric"] == "latency_ms")
    assert lat["series"]["value"] == [100.0, 300.0] and lat["series"]["points_in"] == 2
    err = next(c for c in d["anomalies"]["charts"] if c["metric"] == "error_rate")
    assert sorted(err["series"]["value"]) == [0.0, 1.0]
    assert {c["metric"] for c in d["anomalies"]["charts"]} == {"latency_ms", "error_rate", "request_rate"}


def test_max_points_must_allow_a_line():
    with pytest.raises(ValueError, match="max_points"):
        build_report_data(_con(), max_points=1)


def _entries(latency: list[float], start=START) -> pa.Table:
    ts = [start + timedelta(seconds=i) for i in range(len(latency))]
    from pipeline.core.entry_schema import CANONICAL_SCHEMA

    cols = {f.name: pa.nulls(len(latency), f.type) for f in CANONICAL_SCHEMA}
    cols.update(entry_id=pa.array([f"e{i}" for i in range(len(latency))]), ts=pa.array(ts, pa.timestamp("us", tz="UTC")),
                latency_ms=pa.array(latency, pa.float64()), drop=pa.array(["d"] * len(latency)))
    return pa.table(cols, schema=CANONICAL_SCHEMA)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=300,
                unique_by=lambda p: p[0]),
       st.integers(2, 50))
def test_downsampling_is_the_median_per_time_bucket(points, max_points):
    """Reference: numpy median of each of `max_points` equal time buckets; every point when there are fewer."""
    con = _con()
    t = np.array([p[0] for p in points], dtype=np.int64)
    y = np.array([p[1] for p in points])
    entries = pa.table({"ts": pa.array(t, pa.timestamp("us", tz="UTC")), "latency_ms": y})
    chart = next(c for c in build_report_data(con, entries, max_points=max_points)["anomalies"]["charts"]
                 if c["metric"] == "latency_ms")
    order = np.argsort(t)
    if len(t) <= max_points:
        expected = list(y[order])
    else:
        lo, hi = t.min(), t.max()
        k = np.minimum(max_points - 1, np.floor((t - lo) * max_points / max(hi - lo, 1))).astype(int)
        buckets = sorted(set(k), key=lambda b: t[k == b].mean())
        expected = [float(np.median(y[k == b])) for b in buckets]
    assert chart["series"]["value"] == pytest.approx(clean(expected), rel=1e-9, abs=1e-9)
    assert chart["series"]["downsampled"] == (len(t) > max_points)
    assert all(math.isfinite(v) for v in chart["series"]["value"])


def test_drift_history_places_each_drop_at_its_last_entry():
    """Drops scored in one run (a backfill, the demo) still spread over the time their data covers."""
    con = _con()
    populate_warehouse(con, _entries([]))
    con.execute("DELETE FROM drift_results")
    for subject, end in (("late", "2025-03-05T10:00:00+00:00"), ("early", "2025-03-04T10:00:00+00:00")):
        report = json.dumps({"current_window": {"start": end, "end": end}})
        con.execute("INSERT INTO drift_results VALUES (now(), 'drop', ?, 'a', 'b', 0.2, 0.1, 0.3, 'MONITOR', 1, 1, "
                    "'[]', ?)", [subject, report])
    con.execute("INSERT INTO drift_results VALUES (now(), 'drop', 'old-style', 'a', 'b', 0.2, 0.1, 0.3, 'SHIP', 1, 1, "
                "'[]', '{}')")
    history = build_report_data(con, now=NOW)["drift"]["history"]
    assert [h["subject"] for h in history] == ["early", "late", "old-style"]
    assert history[0]["placed_at"].startswith("2025-03-04T10:00:00")
    assert history[2]["placed_at"] == history[2]["computed_at"]
