"""Serving tables in the DuckDB warehouse for ingest (drops, schemas, schema changes) and views over the lake."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

DDL = [
    """CREATE TABLE IF NOT EXISTS drops (
        drop VARCHAR PRIMARY KEY, rows_read BIGINT, rows_kept BIGINT, rows_rejected BIGINT, parse_rate DOUBLE,
        bytes BIGINT, objects INTEGER, formats VARCHAR, vendors VARCHAR, entries_path VARCHAR, ingested_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS log_schemas (
        drop VARCHAR, source VARCHAR, role VARCHAR, path VARCHAR, confidence DOUBLE, evidence VARCHAR,
        vendor VARCHAR, updated_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS schema_changes (
        drop VARCHAR, source VARCHAR, kind VARCHAR, old_path VARCHAR, new_path VARCHAR, line BIGINT,
        description VARCHAR, updated_at TIMESTAMPTZ)""",
]


def ensure_tables(con) -> None:
    for stmt in DDL:
        con.execute(stmt)


def record_drop(con, drop: str, report: dict) -> dict:
    """Upsert the drop's counts, its role assignments and schema changes; returns what was written, for metadata."""
    ensure_tables(con)
    now = datetime.now(timezone.utc)
    con.execute("DELETE FROM drops WHERE drop = ?", [drop])
    con.execute(
        "INSERT INTO drops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [drop, report["rows_read"], report["rows_kept"], report["rows_rejected"], report["parse_rate"],
         report["bytes_read"], report["objects"], json.dumps(report["formats"]), json.dumps(report["vendors"]),
         report.get("entries_path"), now],
    )
    roles, changes = [], []
    for src in report.get("sources", []):
        schema = src.get("schema") or {}
        vendor = schema.get("vendor")
        if vendor:
            for role, cands in schema.get("mapping", {}).get("roles", {}).items():
                roles.append([drop, src["url"], role, " | ".join(c["path"] for c in cands), 1.0, f"{vendor} adapter", vendor, now])
        for a in schema.get("assignments", []):
            roles.append([drop, src["url"], a["role"], a["path"], a["confidence"], a.get("evidence", ""), None, now])
        evo = src.get("evolution") or {}
        for r, text in zip(evo.get("renames", []), evo.get("describe", [])):
            changes.append([drop, src["url"], "rename", r["old_path"], r["new_path"], r["first_new_line"], text, now])
    con.execute("DELETE FROM log_schemas WHERE drop = ?", [drop])
    con.execute("DELETE FROM schema_changes WHERE drop = ?", [drop])
    if roles:
        con.executemany("INSERT INTO log_schemas VALUES (?, ?, ?, ?, ?, ?, ?, ?)", roles)
    if changes:
        con.executemany("INSERT INTO schema_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", changes)
    return {"roles": roles, "changes": changes}


def refresh_lake_views(con, lake_url: str) -> bool:
    """`lake_entries` / `lake_quarantine` views over the lake's Parquet (local lakes; remote ones need httpfs)."""
    if "://" in lake_url and not lake_url.startswith("file://"):
        return False
    base = os.path.abspath(lake_url.removeprefix("file://")).rstrip("/")
    for view, ds in (("lake_entries", "log_entries"), ("lake_quarantine", "quarantine")):
        glob = f"{base}/{ds}/drop=*/*.parquet"
        if not glob_has_files(glob):
            continue
        con.execute(
            f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet('{glob.replace(chr(39), chr(39) * 2)}', union_by_name = true)"
        )
    return True


def glob_has_files(pattern: str) -> bool:
    import glob

    return bool(glob.glob(pattern))
