"""Turns records (JSON objects with positions) into canonical entries with DuckDB, splitting off rejects."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..entry_schema import CANONICAL_SCHEMA
from .attributes_sql import record_shape, sample_dicts
from .mapping import Mapping, attributes_patch
from .normalize_sql import build_query
from .records import Reject


NO_BLANK_LINES_KEY = b"strata.no_blank_lines"  # records-table metadata set by the fast path: every line starts with `{`


@dataclass
class NormalizeResult:
    entries: pa.Table
    rejects: list[Reject] = field(default_factory=list)


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for heavy scans, pinned to UTC so timestamps never depend on the host's zone."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # a query over 2 s would draw one on stdout (the CLI's JSON)
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
        no_blank = (records.schema.metadata or {}).get(NO_BLANK_LINES_KEY) == b"1"
        shape = record_shape(sample_dicts(records), json.loads(attributes_patch(mapping)))
        table = con.sql(build_query(mapping, name, drop, no_blank, shape)).to_arrow_table()
    finally:
        con.unregister(name)
    rejects: list[Reject] = []
    err = table.column("_error")
    if err.null_count < len(err):
        rejects += _field_rejects(table.filter(pc.is_valid(err)), records)
        table = table.filter(pc.is_null(err))
    entries = table.drop_columns(["_sub", "_error"]).cast(CANONICAL_SCHEMA)
    return NormalizeResult(entries, rejects)


def _field_rejects(bad: pa.Table, records: pa.Table) -> list[Reject]:
    """Rejects for rows whose typed fields could not be read, with the record's original text (looked up, rare)."""
    keys = bad.select(["source", "line", "_sub"]).rename_columns(["source", "line", "sub"])
    raws = records.join(keys, ["source", "line", "sub"], join_type="inner").select(["source", "line", "sub", "raw"])
    raw_of = {(r["source"], r["line"], r["sub"]): r["raw"] for r in raws.to_pylist()}
    out = []
    for row in bad.select(["source", "line", "_sub", "_error"]).to_pylist():
        msg = row["_error"]
        field_name = msg.split(" ", 2)[1] if msg.startswith("field ") else None
        raw = raw_of.get((row["source"], row["line"], row["_sub"]))
        out.append(Reject(row["source"], row["line"], msg, _strip_eol(raw), field=field_name))
    return out
