"""Turns records (JSON objects with positions) into canonical entries with DuckDB, splitting off rejects."""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from .entry_schema import CANONICAL_SCHEMA
from .mapping import Mapping
from .normalize_sql import build_query, invalid_query
from .records import Reject


@dataclass
class NormalizeResult:
    entries: pa.Table
    rejects: list[Reject] = field(default_factory=list)


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for heavy scans, pinned to UTC so timestamps never depend on the host's zone."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _strip_eol(raw: str | None) -> bytes:
    return (raw or "").rstrip("\r\n").encode("utf-8", "surrogateescape")


def normalize_records(
    records: pa.Table, mapping: Mapping, drop: str | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> NormalizeResult:
    """Map every record through `mapping`; malformed records and unreadable typed fields become rejects."""
    con = con or connect()
    name = "_strata_records"
    con.register(name, records)
    try:
        rejects = [
            Reject(source=s, line=ln, reason=reason, raw=_strip_eol(raw))
            for s, ln, _sub, raw, reason in con.sql(invalid_query(name)).fetchall()
        ]
        table = con.sql(build_query(mapping, name, drop)).to_arrow_table()
    finally:
        con.unregister(name)
    err = table.column("_error")
    if err.null_count < len(err):
        import pyarrow.compute as pc

        bad = pc.is_valid(err)
        for row in table.filter(bad).select(["source", "line", "_error", "_raw"]).to_pylist():
            field_name = row["_error"].split(" ", 2)[1] if row["_error"].startswith("field ") else None
            rejects.append(Reject(row["source"], row["line"], row["_error"], _strip_eol(row["_raw"]), field=field_name))
        table = table.filter(pc.invert(bad))
    entries = table.drop_columns(["_error", "_raw"]).cast(CANONICAL_SCHEMA)
    return NormalizeResult(entries, rejects)
