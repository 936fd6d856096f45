"""`strata watch`: anomalies of a generated JSONL log as JSON lines (line, request_id, metric, severity), priming,
equality with scoring the whole file at once, stdin, and --follow in a subprocess (appended lines, a line split
across writes, Ctrl-C, truncation reported on stderr)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SPIKE = 2000  # 0-based entry index: file line 2001


def rows(start: int, n: int, spikes=(), seed=7, request_ids=True):
    rng = np.random.default_rng(seed + start)
    out = []
    for i in range(start, start + n):
        lat = 60_000.0 if i in spikes else round(float(rng.lognormal(np.log(800), 0.25)), 1)
        r = {"timestamp": (T0 + timedelta(seconds=2 * i)).isoformat(), "model": "gpt-4o", "service": "chat",
             "latency_ms": lat, "prompt_tokens": int(rng.integers(90, 110)),
             "completion_tokens": int(rng.integers(40, 60)), "output": "the answer is fine", "status": "ok"}
        if request_ids:
            r["request_id"] = f"req-{i:05d}"
        out.append(r)
    return out


def jsonl(rs) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rs).encode()


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    path = tmp_path_factory.mktemp("watch") / "app.jsonl"
    path.write_bytes(jsonl(rows(0, 3000, spikes={SPIKE})))
    return path


def run(capsys, *args):
    code = main(["watch", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_reports_the_spike(log, capsys):
    code, out, _ = run(capsys, log, "--format", "json")
    assert code == 0
    found = [json.loads(line) for line in out.splitlines()]  # every line is valid JSON
    assert found and all(set(a) >= {"request_id", "ts", "line", "metric", "value", "expected", "score", "detectors",
                                    "severity", "explanation"} for a in found)
    spike = [a for a in found if a["line"] == SPIKE + 1 and a["metric"] == "latency_ms"]
    assert len(spike) == 1
    a = spike[0]
    assert a["request_id"] == f"req-{SPIKE:05d}" and a["severity"] == "critical" and a["value"] == 60_000
    assert a["ts"] == "2026-01-01T01:06:40Z" and a["score"] > 6 and 500 < a["expected"] < 1200
    assert "cusum" in a["detectors"]
    assert len(found) <= 5  # lognormal noise alone hardly alerts


def test_text_output_and_summary(log, capsys):
    code, out, err = run(capsys, log)
    assert code == 0
    line = next(x for x in out.splitlines() if "line 2001" in x)
    assert "CRITICAL" in line and "latency_ms" in line and "60,000" in line and "req=req-02000" in line
    assert "σ" in line and "chat|gpt-4o" in line
    assert "3,000 entries scored" in err


def test_prime_suppresses_the_first_n(log, capsys):
    _, out, _ = run(capsys, log, "--format", "json", "--prime", 2500)
    assert all(json.loads(x)["line"] is None or json.loads(x)["line"] > 2500 for x in out.splitlines())
    assert not any(json.loads(x)["line"] == SPIKE + 1 for x in out.splitlines())
    _, out, _ = run(capsys, log, "--format", "json", "--prime", 1000)
    assert any(json.loads(x)["line"] == SPIKE + 1 for x in out.splitlines())


def test_streaming_in_polls_equals_scoring_at_once(log, monkeypatch):
    import pipeline.core.watch as watch_mod
    from pipeline.core.detectors import detect_anomalies
    from pipeline.core.ingest.engine import ingest

    table, _ = ingest(str(log))
    whole, _ = detect_anomalies(table)
    monkeypatch.setattr(watch_mod, "READ_BYTES", 100_003)  # read in uneven batches, cut at line ends
    w, scorer, found, polls = watch_mod.Watcher(str(log)), watch_mod.StreamScorer(), [], 0
    while True:
        before = w.offset
        found += scorer.score(w.poll(final=True))
        if w.offset == before:
            break
        polls += 1
    assert polls > 5 and w.next_line == 3001 and scorer.seen == 3000
    assert sorted((a["line"], a["metric"]) for a in found if a["line"]) == \
        sorted((r["line"], r["metric"]) for r in whole.to_pylist() if r["line"])


def test_no_request_id_gives_null_and_bad_args_exit_2(tmp_path, capsys):
    p = tmp_path / "n.jsonl"
    p.write_bytes(jsonl(rows(0, 600, spikes={500}, request_ids=False)))
    _, out, _ = run(capsys, p, "--format", "json")
    a = next(json.loads(x) for x in out.splitlines() if json.loads(x)["line"] == 501)
    assert a["request_id"] is None
    assert run(capsys, p, "--threshold", "0")[0] == 2


def strata_watch(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "watch", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def lines_until(stream, pred, timeout=20.0):
    """Lines read from stream until one satisfies pred (a thread, so a silent process cannot hang the test)."""
    got, hit = [], threading.Event()

    def pump():
        for line in stream:
            got.append(line)
            if pred(line):
                hit.set()
                return

    threading.Thread(target=pump, daemon=True).start()
    assert hit.wait(timeout), f"not seen in {timeout}s: {got}"
    return got


def test_stdin_source(log):
    p = subprocess.run([sys.executable, "-m", "pipeline.cli", "watch", "-", "--format", "json"], cwd=REPO,
                       input=log.read_bytes(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert any(json.loads(x)["line"] == SPIKE + 1 for x in p.stdout.decode().splitlines())


def test_follow_reports_appended_spike_with_its_line(tmp_path):
    path = tmp_path / "live.jsonl"
    path.write_bytes(jsonl(rows(0, 1500, spikes={1000})))
    p = strata_watch(path, "--follow", "--format", "json", "--poll", "0.05", "--max-seconds", "30")
    try:
        lines_until(p.stdout, lambda x: json.loads(x)["line"] == 1001)  # the watcher is up and has read the file
        more = jsonl(rows(1500, 500, spikes={1800}))
        cut = more.index(b"\n", len(more) // 2) - 20  # the second write completes a line the first one started
        with open(path, "ab") as fh:
            fh.write(more[:cut])
            fh.flush()
            time.sleep(0.3)
            fh.write(more[cut:])
        got = lines_until(p.stdout, lambda x: json.loads(x)["line"] == 1801)
        a = json.loads(got[-1])
        assert (a["metric"], a["request_id"], a["severity"]) == ("latency_ms", "req-01800", "critical")
        p.send_signal(signal.SIGINT)  # Ctrl-C ends it quietly
        assert p.wait(timeout=20) == 0
        assert "line(s) rejected" not in p.stderr.read()  # the split line was held until complete
    finally:
        p.kill()


def test_follow_stops_on_truncation(tmp_path):
    path = tmp_path / "live.jsonl"
    path.write_bytes(jsonl(rows(0, 1200, spikes={1100})))
    p = strata_watch(path, "--follow", "--format", "json", "--poll", "0.05", "--max-seconds", "30")
    try:
        lines_until(p.stdout, lambda x: json.loads(x)["line"] == 1101)
        path.write_bytes(jsonl(rows(0, 10)))  # truncated in place (same inode), like `> app.jsonl`
        assert p.wait(timeout=20) == 1
        err = p.stderr.read()
        assert "was truncated" in err and "stopping" in err
    finally:
        p.kill()
    assert os.path.exists(path)
