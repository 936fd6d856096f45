"""Warehouse tables for mined invariants and their daily staleness, plus the artifacts paths they are saved under."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow as pa

from .store import as_store
from .warehouse import TS, rows_table

BASELINE_NAME = "invariants.strata.json"

DDL = [
    """CREATE TABLE IF NOT EXISTS invariants (
        id VARCHAR PRIMARY KEY, family VARCHAR, description VARCHAR, confidence DOUBLE, support BIGINT, total BIGINT,
        severity VARCHAR, check_spec VARCHAR, evidence VARCHAR, window_start VARCHAR, window_end VARCHAR, mined_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS staleness (
        checked_at TIMESTAMPTZ, id VARCHAR, family VARCHAR, severity VARCHAR, status VARCHAR, confidence_then DOUBLE,
        confidence_now DOUBLE, drop_pp DOUBLE, support BIGINT, total BIGINT, evidence VARCHAR, window_start VARCHAR,
        window_end VARCHAR)""",
]


INVARIANTS_SCHEMA = pa.schema([("id", pa.string()), ("family", pa.string()), ("description", pa.string()),
                               ("confidence", pa.float64()), ("support", pa.int64()), ("total", pa.int64()),
                               ("severity", pa.string()), ("check_spec", pa.string()), ("evidence", pa.string()),
                               ("window_start", pa.string()), ("window_end", pa.string()), ("mined_at", TS)])
STALENESS_SCHEMA = pa.schema([("checked_at", TS), ("id", pa.string()), ("family", pa.string()), ("severity", pa.string()),
                              ("status", pa.string()), ("confidence_then", pa.float64()), ("confidence_now", pa.float64()),
                              ("drop_pp", pa.float64()), ("support", pa.int64()), ("total", pa.int64()),
                              ("evidence", pa.string()), ("window_start", pa.string()), ("window_end", pa.string())])


def baseline_url(artifacts_url: str) -> str:
    return f"{artifacts_url.rstrip('/')}/baselines/{BASELINE_NAME}"


def suite_url(artifacts_url: str) -> str:
    return f"{artifacts_url.rstrip('/')}/suites/test_invariants.py"


def _text(value) -> str | None:
    return None if value is None else str(value)


def save_invariants(target, invariants, window: dict) -> int:
    """Replace the serving set of invariants with a freshly mined one (`target`: a store or a DuckDB connection)."""
    now = datetime.now(timezone.utc)
    rows = [[i.id, i.family, i.description, float(i.confidence), int(i.support), int(i.total), i.severity,
             json.dumps(i.check, default=str), json.dumps(i.evidence, default=str), _text(window.get("start")),
             _text(window.get("end")), now]
            for i in invariants]
    as_store(target).overwrite("invariants", rows_table(rows, INVARIANTS_SCHEMA), ddl=DDL[0])
    return len(rows)


def record_staleness(target, results, window: dict, checked_at: datetime | None = None, token: str | None = None) -> int:
    """Append one staleness run (history is kept, so confidence can be followed over days); a `token` (e.g. the
    run id) already applied makes a retried step write nothing. Returns the rows written."""
    at = checked_at or datetime.now(timezone.utc)
    rows = [[at, r.id, r.family, r.severity, r.status, float(r.confidence_then), float(r.confidence_now), float(r.drop_pp),
             int(r.support), int(r.total), json.dumps(r.evidence, default=str), _text(window.get("start")),
             _text(window.get("end"))]
            for r in results]
    written = as_store(target).append("staleness", rows_table(rows, STALENESS_SCHEMA), token=token, ddl=DDL[1])
    return len(rows) if written else 0


def markdown_table(rows: list[dict], columns: list[str], limit: int = 40) -> str:
    """A Markdown table for asset metadata (cells escaped, long values cut)."""
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows[:limit]:
        cells = []
        for c in columns:
            v = r.get(c)
            s = f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))
            s = s.replace("|", "\\|").replace("\n", " ")
            cells.append(s if len(s) <= 80 else s[:79] + "…")
        out.append("| " + " | ".join(cells) + " |")
    if len(rows) > limit:
        out.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(out)
