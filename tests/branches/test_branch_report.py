"""The report's workflow section: branch shares of the latest drop against the earlier ones, in HTML (escaped,
PII masked) and Markdown; absent when no entry has a branch decision."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from pipeline.core.report import build_report_data, render_html, render_json, render_markdown

from .helpers import branch_table


def _entries() -> pa.Table:
    before = branch_table([0.08] * 3, runs=200, seed=1, drop="d1")
    now = branch_table([0.31], runs=200, seed=2, drop="d2", start=datetime(2026, 1, 1, 3, tzinfo=timezone.utc))
    evil = pa.array([["triage-><script>alert(1)</script>", "x->mail jane.doe@example.com"]] * 5, pa.list_(pa.string()))
    extra = now.slice(0, 5).set_column(now.schema.get_field_index("branch_path"), "branch_path", evil)
    return pa.concat_tables([before, now, extra])


def test_workflow_section_data_and_html():
    data = build_report_data(duckdb.connect(":memory:"), _entries())
    w = data["workflow"]
    assert w["computed"] and w["now_label"] == "drop d2" and w["runs_before"] == 600 and w["runs_now"] == 205
    top = w["branches"][0]
    assert top["branch"] in ("triage->human_review", "triage->auto_reply", "auto_reply->close")
    human = next(b for b in w["branches"] if b["branch"] == "triage->human_review")
    assert 0.05 < human["before"] < 0.11 and 0.25 < human["now"] < 0.37 and abs(human["delta"]) > 0.15
    html = render_html(data)
    assert 'id="workflow"' in html and "triage-&gt;human_review" in html and "<script>alert(1)" not in html
    assert "jane.doe@example.com" not in html and "jane.doe" not in json.dumps(data["workflow"])
    md = render_markdown(data)
    assert "## 6. Workflow" in md and "| triage-&gt;human\\_review | " in md and "<script>" not in md
    assert "jane.doe" not in md
    assert json.loads(render_json(data))["workflow"]["runs_now"] == 205


def test_no_branches_no_section():
    t = branch_table([0.1], runs=20).drop_columns(["branch_path"])
    data = build_report_data(duckdb.connect(":memory:"), t)
    assert data["workflow"] == {"computed": False}
    assert 'id="workflow"' not in render_html(data) and "Workflow" not in render_markdown(data)
