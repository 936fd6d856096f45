"""Warehouse tables for mined invariants and their daily staleness, plus the artifacts paths they are saved under."""
from __future__ import annotations

import json
from datetime import datetime, timezone

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


def baseline_url(artifacts_url: str) -> str:
    return f"{artifacts_url.rstrip('/')}/baselines/{BASELINE_NAME}"


def suite_url(artifacts_url: str) -> str:
    return f"{artifacts_url.rstrip('/')}/suites/test_invariants.py"


def _ensure(con) -> None:
    for stmt in DDL:
        con.execute(stmt)


def save_invariants(con, invariants, window: dict) -> int:
    """Replace the serving set of invariants with a freshly mined one."""
    _ensure(con)
    now = datetime.now(timezone.utc)
    con.execute("DELETE FROM invariants")
    rows = [[i.id, i.family, i.description, float(i.confidence), int(i.support), int(i.total), i.severity,
             json.dumps(i.check, default=str), json.dumps(i.evidence, default=str), window.get("start"), window.get("end"), now]
            for i in invariants]
    if rows:
        con.executemany("INSERT INTO invariants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def record_staleness(con, results, window: dict, checked_at: datetime | None = None) -> int:
    """Append one staleness run (history is kept, so confidence can be followed over days)."""
    _ensure(con)
    at = checked_at or datetime.now(timezone.utc)
    rows = [[at, r.id, r.family, r.severity, r.status, float(r.confidence_then), float(r.confidence_now), float(r.drop_pp),
             int(r.support), int(r.total), json.dumps(r.evidence, default=str), window.get("start"), window.get("end")]
            for r in results]
    if rows:
        con.executemany("INSERT INTO staleness VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


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
