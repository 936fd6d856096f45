"""Branch decisions reach the canonical entry: from SDK branch spans (one entry per trace, `from->to` in call order)
and from a generic `branch_path` list field in plain JSONL."""
from __future__ import annotations

import json

import strata_capture as sc
from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.ingest.drop_ingest import ingest_drop
from pipeline.core.ingest.vendors.branches import branch_step
from pipeline.core.storage.lake import read_entries

from tests.capture.helpers import ingest_one_drop
from .helpers import sdk_runs


def test_schema_has_branch_path():
    assert CANONICAL_SCHEMA.field("branch_path").type.value_type == "string"


def test_sdk_drop_fills_branch_path_in_call_order(tmp_path):
    drops = tmp_path / "drops"
    sc.configure(drop_url=str(drops), spool_dir=str(tmp_path / "spool"), service="bot", flush_interval_s=3600,
                 metrics="off")
    try:
        sdk_runs(40, human_share=0.25, seed=1)
        assert sc.flush(10)["completed"]
    finally:
        sc.shutdown()
    rows = ingest_one_drop(str(drops), str(tmp_path / "lake"))
    assert len(rows) == 40  # one entry per trace
    paths = [tuple(r["branch_path"]) for r in rows]
    assert set(paths) == {("triage->human_review",), ("triage->auto_reply", "auto_reply->close")}
    assert 0 < paths.count(("triage->human_review",)) < 40


def test_generic_branch_path_field(tmp_path):
    drop = tmp_path / "drops" / "d1"
    drop.mkdir(parents=True)
    lines = [{"timestamp": f"2026-01-01T00:{i:02d}:00Z", "model": "gpt-4o", "prompt": "hi", "response": "ok",
              "branch_path": ["router->faq"] if i % 2 else ["router->orders", "orders->refund"]} for i in range(20)]
    lines.append({"timestamp": "2026-01-01T00:30:00Z", "model": "gpt-4o", "prompt": "hi", "response": "ok"})
    (drop / "log.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = ingest_drop(str(drop), str(tmp_path / "lake"), "d1")
    assert result.result.summary()["rows_rejected"] == 0
    rows = sorted(read_entries(str(tmp_path / "lake"), "d1").to_pylist(), key=lambda r: r["ts"])
    assert rows[1]["branch_path"] == ["router->faq"]
    assert rows[0]["branch_path"] == ["router->orders", "orders->refund"]
    assert not rows[-1]["branch_path"]  # no decisions: empty (null or [])


def test_branch_step_adversarial():
    assert branch_step({"strata.branch.from": "a", "strata.branch.to": "b"}) == "a->b"
    assert branch_step({"strata.branch.to": "b"}) == "?->b"
    assert branch_step({"strata.branch.from": "a", "strata.branch.to": {"x": 1}}) is None
    assert branch_step({"strata.branch.from": "a\n\tb", "strata.branch.to": "c" * 500}) == "a b->" + "c" * 80
    assert branch_step({"other": 1}) is None
