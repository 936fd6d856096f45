"""Lake writes: a re-materialized drop replaces the old one whole; a failed write leaves the old drop untouched."""
import pyarrow as pa
import pytest

from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.storage.lake import DropWriter, read_entries, read_report, write_drop
from pipeline.core.ingest.records import Reject


def entries(n, tag):
    t = CANONICAL_SCHEMA.empty_table().to_pydict()
    rows = {k: [None] * n for k in t}
    rows["entry_id"] = [f"{tag}{i}" for i in range(n)]
    rows["input"] = [tag] * n
    return pa.Table.from_pydict(rows, schema=CANONICAL_SCHEMA)


def test_write_replace_and_quarantine(tmp_path):
    lake = str(tmp_path / "lake")
    w = write_drop(lake, "d/1 x", [entries(3, "a"), entries(2, "a")], lambda: [Reject("s", 4, "bad", b"\xff")], lambda: {"n": 1})
    assert w.rows == 5 and "drop=d%2F1%20x" in w.entries_path
    assert read_entries(lake, "d/1 x").num_rows == 5 and read_report(lake, "d/1 x") == {"n": 1}
    write_drop(lake, "d/1 x", [entries(1, "b")], lambda: [], lambda: {"n": 2})
    t = read_entries(lake, "d/1 x")
    assert t.column("input").to_pylist() == ["b"] and read_report(lake, "d/1 x") == {"n": 2}
    assert not (tmp_path / "lake" / "_staging").exists() or not any((tmp_path / "lake" / "_staging").iterdir())


def test_quarantine_keeps_original_bytes(tmp_path):
    import pyarrow.parquet as pq

    lake = str(tmp_path / "lake")
    w = write_drop(lake, "q", [], lambda: [Reject("src.jsonl", 7, "malformed JSON", b"{\xff", 120)], lambda: {})
    q = pq.read_table(f"{w.quarantine_path}/rejects.parquet").to_pylist()
    assert q == [{"drop": "q", "source": "src.jsonl", "line": 7, "offset": 120, "field": None,
                  "reason": "malformed JSON", "raw": b"{\xff"}]


def test_failure_mid_write_keeps_previous_drop(tmp_path):
    lake = str(tmp_path / "lake")
    write_drop(lake, "d", [entries(2, "old")], lambda: [], lambda: {})

    def exploding():
        yield entries(1, "new")
        raise RuntimeError("object store went away")

    with pytest.raises(RuntimeError):
        write_drop(lake, "d", exploding(), lambda: [], lambda: {})
    assert read_entries(lake, "d").column("input").to_pylist() == ["old", "old"]
    assert not any((tmp_path / "lake" / "_staging").iterdir())
