"""Durations written with their unit ("1.234567s" as TGI's JSON logs and Rust's Duration print them, "350ms", Go's
"1m2.5s"): read as milliseconds by the `duration_text` transform, and chosen by inference when a latency field holds
them. The SQL is checked against a plain Python reference on arbitrary compositions."""
import json

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.mapping import DURATION_UNITS, FieldSource
from pipeline.core.ingest.normalize_sql import _convert  # noqa: PLC2701 - the one SQL builder under test

CON = duckdb.connect()
SQL, _ = _convert(FieldSource("$.x", "duration_text"), "number", "v", "d", None)


def as_ms(text):
    return CON.execute(f"SELECT {SQL} FROM (SELECT ?::VARCHAR AS v)", [text]).fetchall()[0][0]


parts = st.lists(st.tuples(st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False),
                           st.sampled_from(sorted(DURATION_UNITS)), st.sampled_from(["", " "])), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(parts)
def test_composed_durations_equal_the_reference(ps):
    text = "".join(f"{n}{sp}{u}" for n, u, sp in ps)
    want = sum(float(n) * DURATION_UNITS[u] for n, u, _ in ps)
    got = as_ms(text)
    assert got is not None and abs(got - want) <= 1e-9 * max(1.0, abs(want))


def test_examples_and_what_is_not_a_duration():
    assert as_ms("1.234567s") == 1234.567 and as_ms("123.456ms") == 123.456 and as_ms("1m2.5s") == 62500.0
    assert abs(as_ms("12.3µs") - 0.0123) < 1e-12 and as_ms("2H") == 7_200_000.0
    for text in ("fast", "1.2", "", "1.2.3s", "s", "5 parsecs", "NaN", "-1s"):
        assert as_ms(text) is None, text


def test_inference_reads_tgi_json_log_durations(tmp_path):
    times = [0.25, 1.5, 2.75, 0.8, 1.1, 3.0]
    lines = [json.dumps({"timestamp": f"2026-12-01T10:0{i}:00Z", "level": "INFO", "fields": {"message": "Success"},
                         "target": "text_generation_router::server",
                         "span": {"total_time": f"{t:.6f}s", "queue_time": f"{i + 0.5}ms",
                                  "validation_time": f"{40 + i}µs", "name": "generate"}})
             for i, t in enumerate(times)]
    p = tmp_path / "tgi.jsonl"
    p.write_text("\n".join(lines) + "\n")
    table, result = ingest(str(p))
    assert table.column("latency_ms").to_pylist() == [t * 1000 for t in times]
    assert result.rows_rejected == 0


def test_other_duration_fields_and_log_levels_as_status(tmp_path):
    """A Go-style service log (a `took` field with composite durations, a `level` field): latency in ms from each
    value's own unit, and levels read as statuses (FATAL/ERROR errors, DEBUG/INFO/WARN ok)."""
    took = ["1m2.5s", "350ms", "2.25s", "900us", "1h0m1s", "75 ms"]
    want = [62500.0, 350.0, 2250.0, 0.9, 3601000.0, 75.0]
    levels = ["debug", "INFO", "warn", "FATAL", "error", "Info"]
    lines = [json.dumps({"time": f"2026-12-02T08:1{i}:00Z", "level": lv, "took": t, "msg": "handled /v1/chat"})
             for i, (t, lv) in enumerate(zip(took, levels))]
    p = tmp_path / "svc.jsonl"
    p.write_text("\n".join(lines) + "\n")
    table, _ = ingest(str(p))
    assert [round(x, 6) for x in table.column("latency_ms").to_pylist()] == want
    assert table.column("status").to_pylist() == ["ok", "ok", "ok", "error", "error", "ok"]


def test_duration_between_two_times_with_a_missing_end_is_no_latency_and_no_reject(tmp_path):
    """`duration_ms` from start to end: a record whose end is missing or null (a call that failed or never finished)
    has no latency and stays; an end that does not read is still a field reject."""
    from pipeline.core.config import StrataConfig

    rows = [{"request_id": "req-7f3aa", "t0": "2026-12-03T10:00:00Z", "t1": "2026-12-03T10:00:01.250Z", "model": "m"},
            {"request_id": "req-7f3ab", "t0": "2026-12-03T10:00:02Z", "model": "m"},
            {"request_id": "req-7f3ac", "t0": "2026-12-03T10:00:03Z", "t1": None, "model": "m"},
            {"request_id": "req-7f3ad", "t0": "2026-12-03T10:00:04Z", "t1": "not a time", "model": "m"}]
    p = tmp_path / "calls.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = StrataConfig.model_validate({"roles": {"latency_ms": {"path": "$.t0", "transform": "duration_ms",
                                                                "end_path": "$.t1"}}})
    table, result = ingest(str(p), config=cfg)
    assert [(r["request_id"], r["latency_ms"]) for r in table.to_pylist()] == [
        ("req-7f3aa", 1250.0), ("req-7f3ab", None), ("req-7f3ac", None)]
    assert [(r.line, r.field) for r in result.rejects] == [(4, "latency_ms")]
