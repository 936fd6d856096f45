"""Delimited, logfmt, access-log and columnar readers: exact values and positions, rejects for bad input, round trips."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import string
import sys

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.mapping import FieldSource, Mapping
from pipeline.core.ingest.normalize import normalize_records
from pipeline.core.ingest.readers.access_log import read_access_log
from pipeline.core.ingest.readers.columnar import read_avro, read_parquet
from pipeline.core.ingest.readers.csv_reader import read_delimited
from pipeline.core.ingest.readers.logfmt import read_logfmt
from pipeline.core.ingest.records import RECORDS_SCHEMA

TEN_MB = 10 * 1024 * 1024


def rows(parsed) -> list[tuple[int, dict]]:
    assert parsed.records.schema == RECORDS_SCHEMA
    assert set(parsed.records.column("sub").to_pylist()) <= {0}
    lines, raws = parsed.records.column("line").to_pylist(), parsed.records.column("raw").to_pylist()
    return [(ln, json.loads(raw)) for ln, raw in zip(lines, raws)]


def rejects(parsed) -> list[tuple[int, str, bytes]]:
    return [(r.line, r.reason, r.raw) for r in parsed.rejects]


# ---------------------------------------------------------------- delimited

LLM_CSV = (
    b"timestamp,model,prompt,response,latency_ms\n"
    b'2024-05-01T12:00:00Z,gpt-4o,"Summarize, briefly: ""the report""\nand list, the risks",Sure.,812.5\n'
    b"2024-05-01T12:00:01Z,claude-3-haiku,Hello,,95\n"
    b'2024-05-01T12:00:02Z,o1,"tabs\tand | pipes; too","multi\nline\nanswer",1203.25\n'
)


def test_csv_llm_log_values_and_lines():
    parsed = read_delimited(LLM_CSV, "s3://b/logs.csv")
    assert parsed.format == "csv" and parsed.rejects == [] and parsed.bytes_read == len(LLM_CSV)
    assert rows(parsed) == [
        (2, {"timestamp": "2024-05-01T12:00:00Z", "model": "gpt-4o",
             "prompt": 'Summarize, briefly: "the report"\nand list, the risks', "response": "Sure.", "latency_ms": 812.5}),
        (4, {"timestamp": "2024-05-01T12:00:01Z", "model": "claude-3-haiku", "prompt": "Hello", "response": None,
             "latency_ms": 95.0}),
        (5, {"timestamp": "2024-05-01T12:00:02Z", "model": "o1", "prompt": "tabs\tand | pipes; too",
             "response": "multi\nline\nanswer", "latency_ms": 1203.25}),
    ]
    assert parsed.records.column("source").to_pylist() == ["s3://b/logs.csv"] * 3


def test_csv_types_and_nulls():
    data = b"n,x,flag,note,empty\n1,1.5,true,NA,\n2,,false,fine,\n,NaN,,null,\n"
    # null tokens (NA, null, NaN, empty) are null in typed columns; in a text column only the empty string is
    assert [r for _, r in rows(read_delimited(data, "t"))] == [
        {"n": 1, "x": 1.5, "flag": True, "note": "NA", "empty": None},
        {"n": 2, "x": None, "flag": False, "note": "fine", "empty": None},
        {"n": None, "x": None, "flag": None, "note": "null", "empty": None},
    ]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_other_delimiters_sniffed(delimiter):
    d = delimiter.encode()
    data = b"model" + d + b"prompt" + d + b"tokens\ngpt-4o" + d + b'"a, b' + d + b' c"' + d + b"12\no1" + d + b"x" + d + b"7\n"
    parsed = read_delimited(data, "t")
    assert parsed.format == ("tsv" if delimiter == "\t" else "csv")
    assert rows(parsed) == [(2, {"model": "gpt-4o", "prompt": f"a, b{delimiter} c", "tokens": 12}),
                            (3, {"model": "o1", "prompt": "x", "tokens": 7})]


def test_csv_bom_and_crlf():
    data = b"\xef\xbb\xbf" + b'model,prompt\r\ngpt-4o,"two\r\nlines"\r\n\r\no1,done\r\n'
    assert rows(read_delimited(data, "t")) == [(2, {"model": "gpt-4o", "prompt": "two\r\nlines"}), (5, {"model": "o1", "prompt": "done"})]
    assert rows(read_delimited(b"a,b\r1,2\r3,4\r", "t")) == [(2, {"a": 1, "b": 2}), (3, {"a": 3, "b": 4})]


def test_csv_empty_header_only_and_blank():
    for data in (b"", b"\n\n", b"   \r\n"):
        parsed = read_delimited(data, "t")
        assert parsed.num_records == 0 and parsed.rejects == []
    parsed = read_delimited(b"timestamp,model,prompt\n", "t")
    assert parsed.num_records == 0 and parsed.rejects == []


def test_csv_ragged_rows_are_rejected_with_physical_lines():
    data = b'a,b,c\n1,"x\ny",3\n4,5\n\n6,7,8,9\n10,"q,""r""",12\n13,,15\n'
    parsed = read_delimited(data, "t")
    assert rows(parsed) == [(2, {"a": 1, "b": "x\ny", "c": 3}), (7, {"a": 10, "b": 'q,"r"', "c": 12}),
                            (8, {"a": 13, "b": None, "c": 15})]
    assert rejects(parsed) == [(4, "expected 3 fields, found 2", b"4,5"), (6, "expected 3 fields, found 4", b"6,7,8,9")]
    assert [r.offset for r in parsed.rejects] == [16, 21]


def test_csv_invalid_utf8_line_is_rejected_others_typed():
    data = b"model,tokens\ngpt-4o,12\no1,\xff\xfe\nclaude,7\n"
    parsed = read_delimited(data, "t")
    assert rows(parsed) == [(2, {"model": "gpt-4o", "tokens": 12}), (4, {"model": "claude", "tokens": 7})]
    assert rejects(parsed) == [(3, "invalid UTF-8", b"o1,\xff\xfe")]
    header_broken = read_delimited(b"mod\xe9l,n\nx,1\n", "t")
    assert rows(header_broken) == [(2, {"mod\ufffdl": "x", "n": 1})]


def test_csv_unterminated_quote_at_eof():
    data = b'model,prompt\ngpt-4o,fine\no1,"never closed\nstill, inside\n'
    parsed = read_delimited(data, "t")
    assert rows(parsed) == [(2, {"model": "gpt-4o", "prompt": "fine"})]
    assert rejects(parsed) == [(3, "unterminated quoted field at end of input", b'o1,"never closed\nstill, inside')]


def test_csv_stray_quote_in_unquoted_field_is_literal():
    data = b'product,size\nTV 55" screen,2\nradio,3\nlamp,"4"\n'
    assert rows(read_delimited(data, "t")) == [(2, {"product": 'TV 55" screen', "size": 2}), (3, {"product": "radio", "size": 3}),
                                               (4, {"product": "lamp", "size": 4})]


def test_csv_ten_megabyte_field_and_line():
    prompt = "word, " * (TEN_MB // 6)
    data = b'model,prompt\ngpt-4o,"' + prompt.encode() + b'"\no1,x\n'
    parsed = read_delimited(data, "t")
    assert [(ln, r["model"], len(r["prompt"])) for ln, r in rows(parsed)] == [(2, "gpt-4o", len(prompt)), (3, "o1", 1)]
    header_only = read_delimited(b"h" * TEN_MB + b"\n", "t")
    assert header_only.num_records == 0


def test_csv_long_integer_ids_stay_exact():
    data = b"trace_id,n,big\n12345678901234567890123,1,1e+16\n9007199254740993,2,2.5e+16\n"
    assert rows(read_delimited(data, "t")) == [(2, {"trace_id": "12345678901234567890123", "n": 1, "big": 1e16}),
                                               (3, {"trace_id": "9007199254740993", "n": 2, "big": 2.5e16})]


def test_csv_duplicate_and_empty_header_names_become_unique_keys():
    assert rows(read_delimited(b"a,a, ,b \n1,2,3,4\n", "t")) == [(2, {"a": 1, "a_2": 2, "column_3": 3, "b": 4})]


def test_csv_type_widens_when_a_late_block_disagrees():
    data = b"id,v\n" + b"1,2\n" * 400_000 + b"abc,3\n"  # the last value lies beyond the first 1 MiB block
    parsed = read_delimited(data, "t")
    assert parsed.num_records == 400_001
    assert (parsed.records.column("line")[-1].as_py(), json.loads(parsed.records.column("raw")[-1].as_py())) == (
        400_002, {"id": "abc", "v": 3})
    assert json.loads(parsed.records.column("raw")[0].as_py()) == {"id": "1", "v": 2}


def test_csv_binary_garbage_never_fails():
    import random

    blob = random.Random(7).randbytes(50_000)
    parsed = read_delimited(blob, "t", ",")
    for _, r in rows(parsed):
        assert isinstance(r, dict)
    assert all(r.reason for r in parsed.rejects)


# any unicode, with the characters that matter to quoting and splitting drawn often
_TEXT = st.text(st.one_of(st.sampled_from('",;|\t\r\n =\\\'{}'), st.characters(exclude_categories=("Cs",))), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_TEXT, st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False)),
             min_size=1, max_size=15),
    st.sampled_from([",", "\t", ";", "|"]),
    # with a "\n" terminator Python's writer leaves a lone "\r" unquoted, which no reader can tell from a line break
    st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL), ("\r\n", csv.QUOTE_NONNUMERIC)]),
)
def test_csv_round_trip(data_rows, delimiter, dialect):
    buf = io.StringIO()
    terminator, quoting = dialect
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerow(["text", "n", "x"])
    table = [("marker, so the column stays text", 0, 0.5)] + data_rows
    starts = []
    for row in table:
        starts.append(1 + len(re.findall(r"\r\n|\r|\n", buf.getvalue())))
        writer.writerow(row)
    parsed = read_delimited(buf.getvalue().encode(), "t", delimiter)
    assert parsed.rejects == []
    got = rows(parsed)
    assert [ln for ln, _ in got] == starts
    assert [(r["text"], r["n"], r["x"]) for _, r in got] == [(t or None, n, x) for t, n, x in table]


# ---------------------------------------------------------------- logfmt

LOGFMT = (
    b'ts=2024-05-01T12:00:00Z level=info model=gpt-4o msg="chat \\"ok\\", done" latency_ms=812.5 tokens=42 cached\n'
    b"\n"
    b"ts=2024-05-01T12:00:01Z level=error model=o1 err= retry=2 id=007 trace=123456789012345678901 ok=false\n"
)


def test_logfmt_values_typed():
    parsed = read_logfmt(LOGFMT, "t")
    assert parsed.format == "logfmt" and parsed.rejects == []
    assert rows(parsed) == [
        (1, {"ts": "2024-05-01T12:00:00Z", "level": "info", "model": "gpt-4o", "msg": 'chat "ok", done',
             "latency_ms": 812.5, "tokens": 42, "cached": True}),
        (3, {"ts": "2024-05-01T12:00:01Z", "level": "error", "model": "o1", "err": None, "retry": 2, "id": "007",
             "trace": "123456789012345678901", "ok": False}),
    ]


def test_logfmt_go_escapes_and_duplicate_keys():
    data = b'a="caf\\xc3" b="tab\\there" b=2 c="\\u00e9\\n"\nx=1 y="raw\ttab"\n'
    assert rows(read_logfmt(data, "t")) == [(1, {"a": "caf\xc3", "b": 2, "c": "\u00e9\n"}), (2, {"x": 1, "y": "raw\ttab"})]


def test_logfmt_garbage_lines_rejected_with_reasons():
    data = b'level=info msg=ok\nplain text line\nmsg="unterminated\na="x"y\n\xff\xfe=1\nlevel=warn\n'
    parsed = read_logfmt(data, "t")
    assert rows(parsed) == [(1, {"level": "info", "msg": "ok"}), (6, {"level": "warn"})]
    assert rejects(parsed) == [
        (2, "not logfmt: no key=value pairs", b"plain text line"),
        (3, "not logfmt: unbalanced quote or text outside key=value pairs", b'msg="unterminated'),
        (4, "not logfmt: unbalanced quote or text outside key=value pairs", b'a="x"y'),
        (5, "invalid UTF-8", b"\xff\xfe=1"),
    ]


def test_logfmt_bom_crlf_empty_and_huge_line():
    assert rows(read_logfmt(b"\xef\xbb\xbfa=1\r\nb=\"x y\"\r\n", "t")) == [(1, {"a": 1}), (2, {"b": "x y"})]
    for data in (b"", b"\n \n"):
        parsed = read_logfmt(data, "t")
        assert parsed.num_records == 0 and parsed.rejects == []
    big = "p" * TEN_MB
    assert rows(read_logfmt(f'model=o1 prompt="{big}"\n'.encode(), "t")) == [(1, {"model": "o1", "prompt": big})]


def test_logfmt_binary_garbage_never_fails():
    import random

    parsed = read_logfmt(random.Random(3).randbytes(20_000), "t")
    assert all(isinstance(r, dict) for _, r in rows(parsed))
    assert parsed.num_records + len(parsed.rejects) >= 1


_KEYS = st.text(string.ascii_letters + string.digits + "_.-/", min_size=1, max_size=8)
_VALUES = st.one_of(_TEXT, st.integers(-(10**17), 10**17), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none())
_BARE_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_./:-]*")


def _logfmt_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if _BARE_SAFE.fullmatch(v) and v not in ("true", "false"):
        return v
    return json.dumps(v, ensure_ascii=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=6), min_size=1, max_size=10))
def test_logfmt_round_trip(records):
    text = "".join(" ".join(f"{k}={_logfmt_value(v)}" for k, v in rec.items()) + "\n" for rec in records)
    parsed = read_logfmt(text.encode(), "t")
    assert parsed.rejects == []
    typed = lambda d: {k: (type(v).__name__, v) for k, v in d.items()}  # noqa: E731 - True must not equal 1
    assert [(ln, typed(r)) for ln, r in rows(parsed)] == [(i + 1, typed(rec)) for i, rec in enumerate(records)]


# ---------------------------------------------------------------- access logs

ACCESS = (
    b'127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
    b'"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n'
    b'10.0.0.1 - - [01/May/2024:12:00:01 +0200] "POST /v1/chat/completions HTTP/1.1" 500 - "-" "python-httpx/0.27" 1.234\n'
    b"garbage line from a crashed writer\n"
    b'10.0.0.2 - - [01/May/2024:12:00:02 +0000] "GET / HTTP/1.1" 200 5 "-" "say \\"hi\\"" 1523\n'
    b'10.0.0.3 - - [01/May/2024:12:00:03 +0000] "\\x16\\x03\\x01" 400 157\n'
    b'10.0.0.4 - - [99/Foo/2024:00:00:03 +0000] "GET / HTTP/1.1" 200 5\n'
)


def test_access_log_fields():
    parsed = read_access_log(ACCESS, "t")
    assert parsed.format == "access_log"
    got = rows(parsed)
    assert got[0] == (1, {
        "remote_addr": "127.0.0.1", "remote_user": "frank", "time": "2000-10-10T20:55:36Z", "method": "GET",
        "path": "/apache_pb.gif", "protocol": "HTTP/1.0", "request": None, "status": 200, "bytes": 2326,
        "referer": "http://www.example.com/start.html", "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
        "request_time_ms": None})
    assert got[1][0] == 2
    second = got[1][1]
    assert (second["time"], second["status"], second["bytes"], second["referer"], second["request_time_ms"]) == (
        "2024-05-01T10:00:01Z", 500, None, None, 1234.0)  # nginx $request_time in seconds
    third = got[2][1]
    assert (got[2][0], third["user_agent"], third["request_time_ms"]) == (4, 'say "hi"', 1.523)  # Apache %D in microseconds
    probe = got[3][1]
    assert (got[3][0], probe["method"], probe["request"], probe["status"], probe["user_agent"]) == (5, None, "\\x16\\x03\\x01", 400, None)
    assert [(ln, reason) for ln, reason, _ in rejects(parsed)] == [
        (3, "not an access log line (common/combined)"),
        (6, "access log line with an unreadable time (expected dd/Mon/yyyy:HH:MM:SS +zzzz)"),
    ]
    assert parsed.rejects[0].raw == b"garbage line from a crashed writer"


def test_access_log_bom_crlf_invalid_utf8_empty_and_huge():
    line = b'1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET /a HTTP/1.1" 200 1\r\n'
    data = b"\xef\xbb\xbf" + line + b'5.6.7.8 - - [01/May/2024:12:00:00 +0000] "GET /\xff HTTP/1.1" 200 1\r\n' + line
    parsed = read_access_log(data, "t")
    assert [(ln, r["remote_addr"], r["path"]) for ln, r in rows(parsed)] == [(1, "1.2.3.4", "/a"), (3, "1.2.3.4", "/a")]
    assert [(ln, reason) for ln, reason, _ in rejects(parsed)] == [(2, "invalid UTF-8")]
    for empty in (b"", b"\n\n"):
        assert read_access_log(empty, "t").num_records == 0
    huge_path = "/" + "a" * TEN_MB
    big = f'1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET {huge_path} HTTP/1.1" 200 1\n'.encode()
    assert rows(read_access_log(big, "t"))[0][1]["path"] == huge_path
    assert rejects(read_access_log(b"x" * TEN_MB, "t"))[0][:2] == (1, "not an access log line (common/combined)")


def test_access_log_binary_garbage_never_fails():
    import random

    parsed = read_access_log(random.Random(5).randbytes(20_000), "t")
    assert parsed.num_records == 0 and len(parsed.rejects) >= 1


# ---------------------------------------------------------------- normalize on read records


def test_access_log_normalizes_to_canonical_values():
    mapping = Mapping({"ts": [FieldSource("$.time")], "status": [FieldSource("$.status")],
                       "latency_ms": [FieldSource("$.request_time_ms")], "service": [FieldSource("$.path")]})
    entries = normalize_records(read_access_log(ACCESS, "t").records, mapping, drop="d1").entries
    got = [tuple(r.values()) for r in entries.select(["line", "ts", "status", "latency_ms", "service"]).to_pylist()]
    utc = dt.timezone.utc
    assert got == [
        (1, dt.datetime(2000, 10, 10, 20, 55, 36, tzinfo=utc), "ok", None, "/apache_pb.gif"),
        (2, dt.datetime(2024, 5, 1, 10, 0, 1, tzinfo=utc), "error", 1234.0, "/v1/chat/completions"),  # status 500
        (4, dt.datetime(2024, 5, 1, 12, 0, 2, tzinfo=utc), "ok", 1.523, "/"),
        (5, dt.datetime(2024, 5, 1, 12, 0, 3, tzinfo=utc), "error", None, None),  # status 400, unsplittable request
    ]


def test_csv_and_logfmt_normalize_to_canonical_values():
    paths = {"ts": "$.timestamp", "model": "$.model", "input": "$.prompt", "output": "$.response", "latency_ms": "$.latency_ms"}
    mapping = Mapping({role: [FieldSource(path)] for role, path in paths.items()})
    entries = normalize_records(read_delimited(LLM_CSV, "t").records, mapping).entries
    first = entries.to_pylist()[0]
    assert (first["ts"], first["model"], first["provider"], first["input"], first["latency_ms"]) == (
        dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc), "gpt-4o", "openai",
        'Summarize, briefly: "the report"\nand list, the risks', 812.5)
    assert entries.column("output").to_pylist() == ["Sure.", None, "multi\nline\nanswer"]
    paths = {"ts": "$.ts", "status": "$.level", "prompt_tokens": "$.tokens", "latency_ms": "$.latency_ms"}
    lf = Mapping({role: [FieldSource(path)] for role, path in paths.items()})
    lf_entries = normalize_records(read_logfmt(LOGFMT, "t").records, lf).entries
    assert lf_entries.select(["line", "status", "prompt_tokens", "latency_ms"]).to_pylist() == [
        {"line": 1, "status": "ok", "prompt_tokens": 42, "latency_ms": 812.5},  # level info
        {"line": 3, "status": "error", "prompt_tokens": None, "latency_ms": None},
    ]


# ---------------------------------------------------------------- parquet and avro


def _parquet(table: pa.Table, **kw) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def test_parquet_nested_timestamps_bytes():
    utc = dt.timezone.utc
    stamps = [dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=utc), None, dt.datetime(2024, 5, 1, tzinfo=utc)]
    table = pa.table({
        "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
        "local": pa.array([dt.datetime(2024, 5, 1, 8), None, None], pa.timestamp("ms")),
        "usage": [{"prompt_tokens": 3, "completion_tokens": 4, "detail": {"cached": True}}, None,
                  {"prompt_tokens": 1, "completion_tokens": None, "detail": None}],
        "sig": [b"\x00\xff", None, b""],
        "tools": [["search", "calc"], [], None],
        "score": [float("nan"), 0.25, float("inf")],
        "cost": pa.array([decimal.Decimal("0.0123"), None, None], pa.decimal128(10, 4)),
    })
    parsed = read_parquet(_parquet(table, row_group_size=2), "x.parquet")
    assert parsed.format == "parquet" and parsed.rejects == []
    assert rows(parsed) == [
        (1, {"ts": "2024-05-01T12:00:00.250000Z", "local": "2024-05-01T08:00:00",
             "usage": {"prompt_tokens": 3, "completion_tokens": 4, "detail": {"cached": True}}, "sig": "AP8=",
             "tools": ["search", "calc"], "score": None, "cost": 0.0123}),
        (2, {"ts": None, "local": None, "usage": None, "sig": None, "tools": [], "score": 0.25, "cost": None}),
        (3, {"ts": "2024-05-01T00:00:00Z", "local": None, "usage": {"prompt_tokens": 1, "completion_tokens": None, "detail": None},
             "sig": "", "tools": None, "score": None, "cost": None}),
    ]


def test_parquet_empty_and_corrupt():
    assert read_parquet(_parquet(pa.table({"a": pa.array([], pa.int64())})), "e.parquet").num_records == 0
    good = _parquet(pa.table({"a": list(range(1000))}))
    for bad in (good[: len(good) // 2], good[:-5], b"PAR1" + b"\x00" * 100, b""):
        with pytest.raises(ValueError, match=r"s3://b/x\.parquet: corrupt or truncated Parquet.*cannot be partially salvaged"):
            read_parquet(bad, "s3://b/x.parquet")


AVRO_SCHEMA = {
    "type": "record", "name": "Call", "fields": [
        {"name": "id", "type": "long"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "usage", "type": ["null", {"type": "record", "name": "Usage", "fields": [{"name": "prompt_tokens", "type": "int"}]}]},
        {"name": "blob", "type": "bytes"},
        {"name": "cost", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 4}},
        {"name": "score", "type": "double"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    ],
}


def _avro(records, schema=AVRO_SCHEMA) -> bytes:
    buf = io.BytesIO()
    fastavro.writer(buf, schema, records)
    return buf.getvalue()


def test_avro_logical_types_nested_and_bytes():
    recs = [
        {"id": 1, "ts": dt.datetime(2024, 5, 1, 12, 0, 1, tzinfo=dt.timezone.utc), "usage": {"prompt_tokens": 7},
         "blob": b"\x01\x02", "cost": decimal.Decimal("0.0123"), "score": float("nan"), "day": dt.date(2024, 5, 1)},
        {"id": 2, "ts": dt.datetime(2024, 5, 1, 12, 0, 2, tzinfo=dt.timezone.utc), "usage": None,
         "blob": b"", "cost": decimal.Decimal("1"), "score": 0.5, "day": dt.date(2024, 5, 2)},
    ]
    parsed = read_avro(_avro(recs), "x.avro")
    assert parsed.format == "avro" and parsed.rejects == []
    assert rows(parsed) == [
        (1, {"id": 1, "ts": "2024-05-01T12:00:01Z", "usage": {"prompt_tokens": 7}, "blob": "AQI=", "cost": 0.0123,
             "score": None, "day": "2024-05-01"}),
        (2, {"id": 2, "ts": "2024-05-01T12:00:02Z", "usage": None, "blob": "", "cost": 1.0, "score": 0.5, "day": "2024-05-02"}),
    ]


def test_avro_union_of_scalars_falls_back_to_per_record_json():
    schema = {"type": "record", "name": "R", "fields": [{"name": "v", "type": ["long", "string"]}, {"name": "f", "type": "double"}]}
    parsed = read_avro(_avro([{"v": 1, "f": float("inf")}, {"v": "two", "f": 1.5}], schema), "u.avro")
    assert rows(parsed) == [(1, {"v": 1, "f": None}), (2, {"v": "two", "f": 1.5})]


def test_avro_empty_and_corrupt():
    assert read_avro(_avro([]), "e.avro").num_records == 0
    good = _avro([{"id": i, "ts": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "usage": None, "blob": b"x",
                   "cost": decimal.Decimal("0"), "score": 0.0, "day": dt.date(2024, 1, 1)} for i in range(500)])
    for bad in (good[:-10], good[:40], b"Obj\x01garbage", b""):
        with pytest.raises(ValueError, match=r"x\.avro: corrupt or truncated Avro.*cannot be partially salvaged"):
            read_avro(bad, "x.avro")


def test_avro_missing_fastavro_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastavro", None)
    with pytest.raises(ImportError, match=r"pip install strata\[avro\]"):
        read_avro(b"Obj\x01", "x.avro")
