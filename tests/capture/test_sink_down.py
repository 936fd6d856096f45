"""Sink down (a stopped moto server) or hanging (a loopback server that accepts and never answers): the application
exits within exit_timeout_s + 0.5 s with the spool intact, and the spans are published once the sink is back."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import s3fs
from moto.server import ThreadedMotoServer

from tests.s3_server import CREDS, moto_endpoint

from .helpers import value_of
from .test_process_death import WORKER, env_for

N = 1_000
EXIT_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def moto_up():
    with moto_endpoint() as endpoint:
        yield endpoint


def stopped_moto() -> str:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    server.stop()
    return f"http://{host}:{port}"


class Silent:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.conns: list = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def spool_lines(spool: str) -> int:
    total = 0
    for root, _, files in os.walk(spool):
        for n in files:
            if n.endswith((".seg", ".open")):
                with open(os.path.join(root, n), "rb") as f:
                    total += sum(1 for _ in f) - 1  # minus the resource header
    return total


@pytest.mark.parametrize("sink", ["stopped_moto", "silent_server"])
def test_exit_is_bounded_and_spool_survives_then_publishes(tmp_path, moto_up, sink):
    silent = Silent() if sink == "silent_server" else None
    endpoint = silent.url if silent else stopped_moto()
    bucket = f"b{time.time_ns()}"
    fs_up = s3fs.S3FileSystem(**CREDS, client_kwargs={"endpoint_url": moto_up}, skip_instance_cache=True)
    fs_up.mkdir(bucket)
    env = env_for(tmp_path)
    env.update({"STRATA_CAPTURE_DROP_URL": f"s3://{bucket}/drops", "STRATA_CAPTURE_EXIT_TIMEOUT_S": str(EXIT_TIMEOUT),
                "STRATA_CAPTURE_STORAGE_OPTIONS": json.dumps({**CREDS, "client_kwargs": {"endpoint_url": endpoint}}),
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        proc = subprocess.Popen([sys.executable, str(WORKER), "sink_down", str(N)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline().split()
        assert line and line[0] == "done", proc.stderr.read()
        proc.wait(timeout=30)
        elapsed = time.monotonic() - float(line[1])
    finally:
        if silent:
            silent.close()
    assert proc.returncode == 0
    assert elapsed <= EXIT_TIMEOUT + 0.5, elapsed
    outbox = os.path.join(tmp_path / "spool", "outbox")
    staged = sum(len(files) for _, _, files in os.walk(outbox)) if os.path.isdir(outbox) else 0
    assert spool_lines(str(tmp_path / "spool")) == N or staged > 0  # still in segments, or converted and waiting
    assert not fs_up.exists(f"{bucket}/drops")

    env["STRATA_CAPTURE_STORAGE_OPTIONS"] = json.dumps({**CREDS, "client_kwargs": {"endpoint_url": moto_up}})
    out = subprocess.run([sys.executable, "-m", "strata_capture", "publish"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["pending_objects"] == 0
    names = set()
    import gzip
    for path in fs_up.find(f"{bucket}/drops"):
        assert "/capture-death-" in path and "/_staging/" not in path
        for doc in map(json.loads, gzip.decompress(fs_up.cat(path)).splitlines()):
            for block in doc["resourceSpans"]:
                assert value_of(block["resource"]["attributes"][0]["value"]) == "death"
                names.update(s["name"] for sc_ in block["scopeSpans"] for s in sc_["spans"])
    assert len(names) == N
