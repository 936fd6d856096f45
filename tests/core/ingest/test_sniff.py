"""Format and encoding sniffing: content decides, the extension only breaks ties, cut heads and BOMs are handled."""
from __future__ import annotations

import io
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.ingest.sniff import delimiter_of, detect_encoding, sniff_format

LLM_CSV = (
    b"timestamp,model,prompt,response,latency_ms\n"
    b'2024-05-01T12:00:00Z,gpt-4o,"Summarize, briefly: ""the report""\nsecond line",Sure.,812.5\n'
    b"2024-05-01T12:00:01Z,claude-3-haiku,Hello,Hi there,95\n"
)
JSONL = b'{"ts": "2024-05-01T12:00:00Z", "model": "gpt-4o", "latency_ms": 812}\n{"ts": "2024-05-01T12:00:01Z", "model": "o1"}\n'
PRETTY = b'{\n  "data": [\n    {"model": "gpt-4o"},\n    {"model": "o1"}\n  ]\n}\n'
LOGFMT = (
    b'ts=2024-05-01T12:00:00Z level=info model=gpt-4o msg="chat completion \\"ok\\"" latency_ms=812.5 cached\n'
    b"ts=2024-05-01T12:00:01Z level=error model=o1 msg=timeout latency_ms=30000 retry=2\n"
)
COMBINED = (
    b'10.0.0.1 - - [01/May/2024:12:00:00 +0200] "POST /v1/chat/completions HTTP/1.1" 200 512 "-" "python-httpx/0.27.0"\n'
    b'10.0.0.2 - alice [01/May/2024:12:00:01 +0200] "GET /health HTTP/1.1" 500 - "https://x.test/" "curl/8.5, like Gecko"\n'
)
COMMON = b'127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n' * 3


@pytest.mark.parametrize(
    "head, expected",
    [
        (LLM_CSV, "csv"),
        (b"ts\tmodel\tprompt\n2024-05-01\tgpt-4o\tsay, hi\n2024-05-02\to1\tbye\n", "tsv"),
        (b"ts;model;cost\n2024-05-01;gpt-4o;0,12\n2024-05-02;o1;1,5\n", "csv"),
        (b"ts|model|prompt\n2024-05-01|gpt-4o|a, b; c\n2024-05-02|o1|d\n", "csv"),
        (JSONL, "jsonl"),
        (b'{"model": "gpt-4o", "usage": {"prompt_tokens": 3}}', "json"),
        (PRETTY, "json"),
        (b'[{"model": "gpt-4o"}, {"model": "o1"}]', "json"),
        (b'[\n  {"model": "gpt-4o"},\n  {"model": "o1"}\n]\n', "json"),
        (b'{"a": 1}\n{"a": 2}\nnot json at all\n{"a": 3}\n', "jsonl"),  # a garbage line stays a line-level reject
        (b'{\n "a": 1\n}\n{\n "a": 2\n}\n', "json"),  # concatenated pretty documents
        (LOGFMT, "logfmt"),
        (COMBINED, "access_log"),
        (COMMON, "access_log"),
        (b"[INFO] starting server\n[INFO] listening on :8080\n", "text"),
        (b"Hello, world. This is prose.\nIt has, several, commas here\n", "text"),
        (b"PAR1\x15\x04\x15\x00", "parquet"),
        (b"Obj\x01\x04\x14avro.codec", "avro"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(256)) * 4, "binary"),
        (b"", "empty"),
        (b" \n\r\n\t", "empty"),
    ],
)
def test_content_decides(head, expected):
    assert sniff_format(head) == expected


def test_real_parquet_file_is_parquet():
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1]}), buf)
    assert sniff_format(buf.getvalue()[:64], "export.json") == "parquet"  # magic beats a lying name


def test_boms_and_crlf():
    assert detect_encoding(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert sniff_format(b"\xef\xbb\xbf" + LLM_CSV.replace(b"\n", b"\r\n")) == "csv"
    assert sniff_format(b"\xef\xbb\xbf" + JSONL) == "jsonl"
    assert sniff_format(LOGFMT.replace(b"\n", b"\r\n")) == "logfmt"
    assert sniff_format(COMBINED.replace(b"\n", b"\r\n")) == "access_log"
    for codec, name in (("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be")):
        data = ("\ufeff" if codec == "utf-16-be" else "") + JSONL.decode()
        encoded = data.encode(codec)
        assert detect_encoding(encoded[:4]) == name
        assert sniff_format(encoded) == "jsonl"
    assert detect_encoding('{"a": 1}'.encode("utf-16-le")) == "utf-16-le"  # BOM-less, ASCII content
    assert detect_encoding(b"plain") == "utf-8"
    assert detect_encoding(b"") == "utf-8"


def test_head_cut_mid_line():
    big_jsonl = b"".join(json.dumps({"i": i, "prompt": "x" * 50}).encode() + b"\n" for i in range(100))
    assert sniff_format(big_jsonl[:1000]) == "jsonl"
    csv_data = b"a,b,c\n" + b'1,"two, and\nmore",3\n' * 50
    for cut in (100, 101, 103, 107):
        assert sniff_format(csv_data[:cut]) == "csv", cut
        assert delimiter_of(csv_data[:cut]) == ","
    assert sniff_format((LOGFMT * 20)[:-30]) == "logfmt"
    assert sniff_format((COMBINED * 20)[:-40]) == "access_log"
    assert sniff_format(b"[\n" + b'  {"a": 1},\n' * 100) == "json"  # array cut by the head


def test_long_second_line_cut_by_the_head():
    head = (b'{"a": 1}\n{"prompt": "' + b"z" * 100_000)[: 64 * 1024]
    assert sniff_format(head) == "jsonl"


def test_one_long_line_cut_by_the_head():
    head = (b'{"prompt": "' + b"y" * 100_000)[: 64 * 1024]
    assert sniff_format(head) == "jsonl"
    assert sniff_format(head, "dump.json") == "json"
    assert sniff_format(head, "dump.json.gz") == "json"


def test_extension_only_breaks_ties():
    single_column = b"prompt\nhello\nworld\n"
    assert sniff_format(single_column) == "text"
    assert sniff_format(single_column, "s3://bucket/prompts.csv") == "csv"
    assert sniff_format(single_column, "prompts.csv.zst") == "csv"
    both = b"a=1\tb=2\nc=3\td=4\ne=5\tf=6\n"  # valid logfmt and valid TSV
    assert sniff_format(both) == "logfmt"
    assert sniff_format(both, "x.tsv") == "tsv"
    assert sniff_format(JSONL, "x.csv") == "jsonl"
    assert sniff_format(b'{"a": 1}') == "json"
    assert sniff_format(b'{"a": 1}', "one.jsonl") == "jsonl"


@pytest.mark.parametrize(
    "head, expected",
    [
        (LLM_CSV, ","),
        (b'a;b;c\n"x,y,z";2;3\n"p,q";5;6\n', ";"),
        (b"a\tb\n1,5\t2\n3,5\t4\n", "\t"),
        (b'a|b\n"x;y"|2\n', "|"),
        (b"just one column\n", ","),
    ],
)
def test_delimiter_of(head, expected):
    assert delimiter_of(head) == expected


def test_mostly_access_log_with_garbage_lines():
    lines = COMBINED * 10 + b"garbage line\n"
    assert sniff_format(lines) == "access_log"


def test_random_bytes_never_raise():
    for seed in range(20):
        blob = random.Random(seed).randbytes(512)
        assert sniff_format(blob) in ("binary", "text", "empty", "csv", "tsv")
