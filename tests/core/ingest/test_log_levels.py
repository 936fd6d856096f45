"""Log levels and severities standing in for a status: WARN/warning lines are requests that did not fail (ok),
ERROR/FATAL/ALERT lines errors; GCP Cloud Logging `severity` and OTel logs `severityText` / `severity_text` are read
like `level`, while numeric levels (OTel `severityNumber`, pino's 30/50) are never read as HTTP status codes.
Records written for these tests in the shapes of JSON service logs, logfmt, Python server logs, Cloud Logging and
OTel log exports."""
import json

import pytest

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.role_names import is_log_level, name_scores
from pipeline.core.ingest.schema_infer import infer_schema


def write(tmp_path, name, lines):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    table, result = ingest(str(p))
    return table, result


def assigned(result):
    return {a["role"]: a["path"] for a in result.sources[0].schema["assignments"]}


def test_jsonl_warn_and_warning_levels_are_ok(tmp_path):
    levels = ["INFO", "WARN", "warning", "ERROR", "Warning", "debug", "error", "WARN"]
    lines = [json.dumps({"ts": f"2026-12-03T09:0{i}:00Z", "level": lv, "model": "gpt-4o-mini", "prompt": f"question {i}",
                         "latency_ms": 200 + i}) for i, lv in enumerate(levels)]
    table, result = write(tmp_path, "svc.jsonl", lines)
    assert assigned(result)["status"] == "$.level"
    assert table.column("status").to_pylist() == ["ok", "ok", "ok", "error", "ok", "ok", "error", "ok"]


def test_logfmt_warn_level_is_ok(tmp_path):
    levels = ["info", "warn", "error", "warning", "info", "fatal"]
    lines = [f'time=2026-12-03T09:1{i}:00Z level={lv} model=claude-3-5-haiku duration_ms={300 + i} msg="chat done"'
             for i, lv in enumerate(levels)]
    table, result = write(tmp_path, "gw.logfmt", lines)
    assert result.formats == {"logfmt": 1}
    assert table.column("status").to_pylist() == ["ok", "ok", "error", "ok", "ok", "error"]
    assert table.column("latency_ms").to_pylist() == [300.0, 301.0, 302.0, 303.0, 304.0, 305.0]


def test_server_log_line_level_is_the_status(tmp_path):
    """Python logging lines carrying a JSON payload: the line's level (kept as `log_level`) is the status."""
    levels = ["INFO", "WARNING", "ERROR", "INFO", "WARNING"]
    lines = [f'2026-12-03 09:2{i}:00,123 {lv} app.llm: {json.dumps({"model": "gpt-4o", "prompt": f"q{i}", "latency_ms": 100 + i})}'
             for i, lv in enumerate(levels)]
    table, result = write(tmp_path, "app.log", lines)
    assert result.formats == {"server_log": 1}
    assert assigned(result)["status"] == "$.log_level"
    assert table.column("status").to_pylist() == ["ok", "ok", "error", "ok", "ok"]


def test_cloud_logging_severity_is_the_status(tmp_path):
    severities = ["INFO", "WARNING", "ERROR", "DEFAULT", "ALERT", "CRITICAL", "NOTICE", "DEBUG", "EMERGENCY", "INFO"]
    lines = [json.dumps({"severity": s, "timestamp": f"2026-12-03T10:0{i}:00.250Z", "logName": "projects/p/logs/llm",
                         "jsonPayload": {"model": "gemini-2.0-flash", "prompt": f"question {i}", "latency_ms": 400 + i},
                         "insertId": f"1abc{i:02d}xyz"}) for i, s in enumerate(severities)]
    table, result = write(tmp_path, "cloud.jsonl", lines)
    assert assigned(result)["status"] == "$.severity"
    assert table.column("status").to_pylist() == ["ok", "ok", "error", "ok", "error", "error", "ok", "ok", "error", "ok"]
    assert table.column("model").to_pylist()[0] == "gemini-2.0-flash"


def otel_log(i, text, number, **extra):
    rec = {"timestamp": f"2026-12-03T11:0{i}:00.000000Z", "observedTimestamp": f"2026-12-03T11:0{i}:00.100000Z",
           "severityText": text, "severityNumber": number, "traceId": f"5b8efff798038103d269b633813fc6{i:02d}",
           "spanId": f"eee19b7ec3c1b1{i:02d}", "body": f"llm call {i}",
           "attributes": {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10 + i},
           "resource": {"service.name": "chat-api"}}
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


LEVELS = [("INFO", 9), ("WARN", 13), ("ERROR", 17), ("FATAL", 21), ("DEBUG", 5), ("INFO", 9), ("ERROR", 17), ("WARN", 13)]


def test_otel_log_records_severity_text_is_the_status(tmp_path):
    """Log records logged inside a GenAI span carry its trace and span ids and gen_ai attributes: they are log lines,
    not spans (a span adapter would call every one ok), and their severity text is the status."""
    lines = [json.dumps(otel_log(i, t, n)) for i, (t, n) in enumerate(LEVELS)]
    table, result = write(tmp_path, "otel_logs.jsonl", lines)
    assert result.vendors == {}
    assert assigned(result)["status"] == "$.severityText"
    assert table.column("status").to_pylist() == ["ok", "ok", "error", "error", "ok", "ok", "error", "ok"]
    assert table.column("trace_id").to_pylist()[2] == "5b8efff798038103d269b633813fc602"


def test_otel_severity_number_alone_is_read_on_its_scale(tmp_path):
    """Without severityText, the number is read on OTel's scale (17+ ERROR/FATAL is an error), never as an HTTP code
    (below 400, so all ok)."""
    lines = [json.dumps(otel_log(i, None, n)) for i, (_, n) in enumerate(LEVELS)]
    table, result = write(tmp_path, "otel_numbers.jsonl", lines)
    assert assigned(result)["status"] == "$.severityNumber"
    assert table.column("status").to_pylist() == ["ok", "ok", "error", "error", "ok", "ok", "error", "ok"]


def test_numeric_levels_are_read_on_their_scale():
    """pino / bunyan levels (30 info, 40 warn, 50 error) and syslog severities (0-7, 3 err) on a field named level."""
    recs = [{"time": 1764770000000 + i, "level": lv, "model": "gpt-4o", "msg": f"call {i}", "responseTime": 20 + i}
            for i, lv in enumerate([30, 30, 50, 40, 30, 60, 30, 30])]
    assert [(s.path, s.transform) for s in infer_schema(recs).mapping.roles["status"]] == [("$.level", "pino_level")]
    syslog = [dict(r, level=lv) for r, lv in zip(recs, [6, 6, 3, 4, 6, 2, 7, 5])]
    assert [(s.path, s.transform) for s in infer_schema(syslog).mapping.roles["status"]] == [("$.level", "syslog_severity")]
    recs_words = [dict(r, level={30: "info", 40: "warn", 50: "error", 60: "fatal"}[r["level"]]) for r in recs]
    assert [src.path for src in infer_schema(recs_words).mapping.roles["status"]] == ["$.level"]


def test_numeric_levels_on_no_known_scale_are_no_status():
    """Numbers on a level-named field that fit no scale (a 1-100 verbosity): no status rather than HTTP-code reading."""
    recs = [{"time": 1764770000000 + i, "level": lv, "model": "gpt-4o", "msg": f"call {i}"}
            for i, lv in enumerate([15, 42, 77, 99, 15, 8, 33, 61])]
    assert "status" not in infer_schema(recs).mapping.roles


@pytest.mark.parametrize("transform, levels, want", [
    ("pino_level", [10, 20, 30, 40, 50, 60], ["ok"] * 4 + ["error"] * 2),
    ("syslog_severity", [0, 1, 2, 3, 4, 5, 6, 7], ["error"] * 4 + ["ok"] * 4),
    ("otel_severity", [1, 8, 9, 12, 13, 16, 17, 20, 21, 24], ["ok"] * 6 + ["error"] * 4),
])
def test_level_transforms_in_config(tmp_path, transform, levels, want):
    """Each numeric-level transform set by hand (strata.yml role override), boundaries included; a word is no status."""
    from pipeline.core.config import StrataConfig

    lines = [json.dumps({"ts": f"2026-12-03T09:00:{i:02d}Z", "lvl": lv, "model": "m"}) for i, lv in enumerate(levels)]
    lines.append(json.dumps({"ts": "2026-12-03T09:01:00Z", "lvl": "INFO", "model": "m"}))
    p = tmp_path / "svc.jsonl"
    p.write_text("\n".join(lines) + "\n")
    cfg = StrataConfig.model_validate({"roles": {"status": {"path": "$.lvl", "transform": transform}}})
    table, _ = ingest(str(p), config=cfg)
    assert table.column("status").to_pylist() == want + [None]


@pytest.mark.parametrize("key, named", [("level", True), ("severity", True), ("severityText", True),
                                        ("severity_text", True), ("log_level", True), ("levelname", True),
                                        ("severityNumber", False), ("severity_number", False), ("level_of_detail", False)])
def test_log_level_names(key, named):
    assert is_log_level(key) is named
    assert (name_scores((key,)).get("status", (0.0,))[0] == 0.4) is named
