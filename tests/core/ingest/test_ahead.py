"""`ahead`: chunks computed on a helper thread reach the lake writer in order, errors surface in the writer's thread,
and a writer that stops early stops (and closes) the producer. Chunk bounds (the last chunk halved so the final write
is short) cover every row once, and any chunking gives the same entries, counts and rejects."""
import json
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.config import StrataConfig
from pipeline.core.ingest.drop_ingest import ahead, ingest_drop
from pipeline.core.ingest.engine import chunk_bounds, ingest
from pipeline.core.storage.lake import read_entries, read_quarantine


def test_order_and_values_are_kept():
    assert list(ahead(iter(range(50)))) == list(range(50))
    assert list(ahead(iter([]))) == []


def test_a_producer_error_reaches_the_consumer_after_the_chunks_before_it():
    def gen():
        yield 1
        yield 2
        raise ValueError("bad chunk")

    got = []
    with pytest.raises(ValueError, match="bad chunk"):
        for c in ahead(gen()):
            got.append(c)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_closes_the_producer():
    closed = threading.Event()

    def gen():
        try:
            for i in range(1000):
                yield i
        finally:
            closed.set()

    it = ahead(gen())
    assert next(it) == 0
    it.close()
    assert closed.wait(5)
    assert not any(t.name == "strata-ingest-ahead" and t.is_alive() for t in threading.enumerate())


@given(n=st.integers(0, 2000), chunk=st.integers(1, 600))
def test_chunk_bounds_cover_every_row_once_in_order(n, chunk):
    bounds = chunk_bounds(n, chunk)
    assert [s for s, _ in bounds] == [sum(r for _, r in bounds[:i]) for i in range(len(bounds))]
    assert sum(r for _, r in bounds) == n
    assert all(0 < r <= chunk for _, r in bounds)
    full = -(-n // chunk)  # chunks of `chunk` rows, the last one partial
    last = n - (full - 1) * chunk
    assert len(bounds) == full + (full > 1 and last > max(1, chunk // 2))


def test_chunk_bounds_halve_only_a_large_last_chunk():
    assert chunk_bounds(1_000_000, 250_000)[-2:] == [(750_000, 125_000), (875_000, 125_000)]
    assert chunk_bounds(300_000, 250_000) == [(0, 250_000), (250_000, 50_000)]
    assert chunk_bounds(200_000, 250_000) == [(0, 200_000)]
    assert chunk_bounds(0, 250_000) == []


def _drop(tmp_path):
    rows = []
    for i in range(41):
        rec = {"ts": f"2026-11-01T10:00:{i % 60:02d}Z", "model": "gpt-4o", "prompt": f"q{i}", "latency_ms": i, "x": [i]}
        if i % 9 == 4:
            rec["latency_ms"] = "slow"  # a field reject, reported in its chunk
        rows.append(json.dumps(rec))
    rows.insert(17, '{"model": "gpt-4o", "prompt": ')  # a malformed line
    path = tmp_path / "drop.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("chunk", [1, 2, 5, 16, 250_000])
def test_any_chunking_gives_the_same_entries_counts_and_rejects(tmp_path, chunk):
    path = _drop(tmp_path)
    whole, res = ingest(str(path), drop="d")
    cfg = StrataConfig()
    cfg.reading.chunk_rows = chunk
    table, got = ingest(str(path), drop="d", config=cfg)
    assert table.to_pylist() == whole.to_pylist()
    assert (got.rows_read, got.rows_kept, got.rows_rejected) == (res.rows_read, res.rows_kept, res.rows_rejected) == (42, 36, 6)
    assert [(r.line, r.reason, r.raw) for r in got.rejects] == [(r.line, r.reason, r.raw) for r in res.rejects]
    lake = tmp_path / f"lake{chunk}"
    ingest_drop(str(path), str(lake), "d", cfg)
    assert read_entries(str(lake), "d").to_pylist() == whole.to_pylist()
    assert read_quarantine(str(lake), "d").column("line").to_pylist() == [r.line for r in res.rejects]
