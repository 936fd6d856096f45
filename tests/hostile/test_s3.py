"""The blank-lines case (and a NUL line) on S3: s3fs against moto's ThreadedMotoServer on loopback."""
from __future__ import annotations

import time

import pytest
import s3fs
from moto.server import ThreadedMotoServer

from pipeline.core.ingest import ingest
from pipeline.core.ingest.drop_ingest import ingest_drop
from pipeline.core.storage.lake import read_entries

from .helpers import jsonl, line

CREDS = {"key": "testing", "secret": "testing"}


@pytest.fixture
def s3(monkeypatch):
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    opts = {**CREDS, "client_kwargs": {"endpoint_url": f"http://{host}:{port}"}}
    fs = s3fs.S3FileSystem(**opts, skip_instance_cache=True)
    bucket = f"logs-{time.time_ns()}"
    fs.mkdir(bucket)
    yield fs, bucket, opts
    server.stop()


def test_blank_lines_before_records_on_s3(s3, tmp_path):
    fs, bucket, opts = s3
    fs.pipe(f"{bucket}/drop1/a.jsonl", b"\n" * 70_000 + jsonl(100))
    bad = line(3).replace(b"answer 3", b"ans\x00wer")
    fs.pipe(f"{bucket}/drop1/b.jsonl", b"\r\n" * 40_000 + jsonl(3) + bad + b"\n")
    table, r = ingest(f"s3://{bucket}/drop1", storage_options=opts)
    assert (r.rows_kept, r.rows_rejected, r.formats) == (103, 1, {"jsonl": 2})
    assert r.rejects[0].raw == bad and r.rejects[0].source == f"s3://{bucket}/drop1/b.jsonl"
    out = ingest_drop(f"s3://{bucket}/drop1", f"s3://{bucket}/lake", "d1", storage_options=opts,
                      lake_storage_options=opts)
    assert read_entries(f"s3://{bucket}/lake", "d1", opts).num_rows == 103 == out.result.rows_kept
