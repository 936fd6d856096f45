"""S3 for the storage tests: moto's ThreadedMotoServer on loopback (it enforces the conditional writes Delta relies
on), one per module, a fresh bucket per test."""
import time

import pytest
import s3fs
from tests.s3_server import CREDS, moto_endpoint



@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """(fs, bucket, fsspec storage options) for a fresh bucket."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    options = {**CREDS, "client_kwargs": {"endpoint_url": s3_endpoint}}
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    bucket = f"wh-{time.time_ns()}"
    fs.mkdir(bucket)
    return fs, bucket, options
