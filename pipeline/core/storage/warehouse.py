"""Serving tables in the warehouse for ingest (drops, schemas, schema changes) and views over the lake. Writes go
through the warehouse store (store.py): each table's rows for a drop are replaced in one commit."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pyarrow as pa

from .store import as_store

TS = pa.timestamp("us", tz="UTC")
DROPS_SCHEMA = pa.schema([("drop", pa.string()), ("rows_read", pa.int64()), ("rows_kept", pa.int64()),
                          ("rows_rejected", pa.int64()), ("parse_rate", pa.float64()), ("bytes", pa.int64()),
                          ("objects", pa.int32()), ("formats", pa.string()), ("vendors", pa.string()),
                          ("entries_path", pa.string()), ("ingested_at", TS)])
SCHEMAS_SCHEMA = pa.schema([("drop", pa.string()), ("source", pa.string()), ("role", pa.string()), ("path", pa.string()),
                            ("confidence", pa.float64()), ("evidence", pa.string()), ("vendor", pa.string()),
                            ("updated_at", TS)])
CHANGES_SCHEMA = pa.schema([("drop", pa.string()), ("source", pa.string()), ("kind", pa.string()),
                            ("old_path", pa.string()), ("new_path", pa.string()), ("line", pa.int64()),
                            ("description", pa.string()), ("updated_at", TS)])


def rows_table(rows: list[list], schema: pa.Schema) -> pa.Table:
    """Row lists (in schema order) as an Arrow table of exactly `schema`."""
    return pa.Table.from_pylist([dict(zip(schema.names, r)) for r in rows], schema=schema)

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


def record_drop(target, drop: str, report: dict) -> dict:
    """Replace the drop's counts, its role assignments and schema changes (`target`: a store or a DuckDB
    connection); returns what was written, for metadata."""
    store = as_store(target)
    now = datetime.now(timezone.utc)
    row = [drop, report["rows_read"], report["rows_kept"], report["rows_rejected"], report["parse_rate"],
           report["bytes_read"], report["objects"], json.dumps(report["formats"]), json.dumps(report["vendors"]),
           report.get("entries_path"), now]
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
    where = {"drop": drop}
    store.replace("drops", rows_table([row], DROPS_SCHEMA), where, ddl=DDL[0])
    store.replace("log_schemas", rows_table(roles, SCHEMAS_SCHEMA), where, ddl=DDL[1])
    store.replace("schema_changes", rows_table(changes, CHANGES_SCHEMA), where, ddl=DDL[2])
    return {"roles": roles, "changes": changes}


def refresh_lake_views(target, lake_url: str) -> bool:
    """`lake_entries` / `lake_quarantine` views over the lake's Parquet (local lakes; remote ones need httpfs).
    `target` is a DuckDB connection or a store; a store without a DuckDB file (Delta) has no persistent views."""
    con = getattr(target, "con", None) if hasattr(target, "replace") else target
    if con is None:
        return False
    if "://" in lake_url and not lake_url.startswith("file://"):
        return False
    base = os.path.abspath(lake_url.removeprefix("file://")).rstrip("/")
    from .lake import lake_files

    for view, ds in (("lake_entries", "log_entries"), ("lake_quarantine", "quarantine")):
        glob = f"{base}/{ds}/drop=*/*.parquet"
        files = lake_files(base, ds)
        if any("/v-" in p for p in files):  # versioned drops: the files their manifests name (lake_layout.py)
            source = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in files) + "]"
        elif glob_has_files(glob):
            source = "'" + glob.replace("'", "''") + "'"
        else:
            continue
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet({source}, union_by_name = true)")
    return True


def glob_has_files(pattern: str) -> bool:
    import glob

    return bool(glob.glob(pattern))
