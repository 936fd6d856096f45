"""Turns any Arrow table into records (one JSON object per row) in a single DuckDB pass, with JSON-safe values."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..mapping import sql_str
from ..records import RECORDS_SCHEMA

_ISO = "'%Y-%m-%dT%H:%M:%S.%f'"


def _json_safe(expr: str, typ: pa.DataType, depth: int = 0) -> str | None:
    """SQL making `expr` render as intended under to_json, or None when DuckDB's rendering is already right.

    Timestamps become ISO-8601 ('Z' when zoned; the session is UTC), bytes base64, durations milliseconds,
    and non-finite floats null (to_json would print NaN/Infinity, which is not JSON).
    """
    t = pa.types
    if t.is_dictionary(typ):
        return _json_safe(expr, typ.value_type, depth)
    if t.is_timestamp(typ):
        iso = f"replace(strftime({expr}, {_ISO}), '.000000', '')"
        return f"({iso} || 'Z')" if typ.tz else iso
    if t.is_binary(typ) or t.is_large_binary(typ) or t.is_fixed_size_binary(typ) or t.is_binary_view(typ):
        return f"to_base64({expr})"
    if t.is_floating(typ):
        return f"(CASE WHEN isfinite({expr}) THEN {expr} END)"
    if t.is_duration(typ):
        return f"(epoch({expr}) * 1000.0)"
    if t.is_struct(typ):
        parts, changed = [], False
        for f in typ:
            sub = f"struct_extract({expr}, {sql_str(f.name)})"
            safe = _json_safe(sub, f.type, depth + 1)
            changed = changed or safe is not None
            parts.append(f"{sql_str(f.name)}: {safe or sub}")
        if not changed:
            return None
        return f"(CASE WHEN {expr} IS NULL THEN NULL ELSE {{{', '.join(parts)}}} END)"
    if t.is_list(typ) or t.is_large_list(typ) or t.is_fixed_size_list(typ) or t.is_list_view(typ):
        var = f"x{depth}"
        inner = _json_safe(var, typ.value_type, depth + 1)
        return f"list_transform({expr}, lambda {var}: {inner})" if inner else None
    if t.is_map(typ):
        var = f"e{depth}"
        k = _json_safe(f"{var}.key", typ.key_type, depth + 1)
        v = _json_safe(f"{var}.value", typ.item_type, depth + 1)
        if not (k or v):
            return None
        entry = f"{{'key': {k or var + '.key'}, 'value': {v or var + '.value'}}}"
        return f"map_from_entries(list_transform(map_entries({expr}), lambda {var}: {entry}))"
    return None


def _duckdb_ready(table: pa.Table) -> pa.Table:
    """Cast the few Arrow types DuckDB cannot scan (half floats) to ones it can."""
    for i, f in enumerate(table.schema):
        if pa.types.is_float16(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.float32()))
    return table


def json_keys(names: list[str]) -> list[str]:
    """Column names as distinct, non-empty keys: '' becomes column_<n>, repeats get _2, _3, ..."""
    out, seen = [], set()
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        key, k = base, 2
        while key in seen:
            key, k = f"{base}_{k}", k + 1
        seen.add(key)
        out.append(key)
    return out


def json_objects(table: pa.Table, null_strings: tuple[str, ...] = (), con=None) -> pa.Array:
    """One JSON object text per row of `table`, keyed by json_keys(column names) in column order, as large_string.

    Top-level text values equal to one of `null_strings` (e.g. "" or Apache's "-") become null.
    """
    from ..normalize import connect

    con = con or connect()
    rel = "_strata_arrow_rows"
    parts = []
    for i, (f, key) in enumerate(zip(table.schema, json_keys(table.column_names))):
        col = f"c{i}"  # registered under positional names: any key is fine, not every name is a usable column
        expr = _json_safe(col, f.type) or col
        if null_strings and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            expr = f"(CASE WHEN {col} IN ({', '.join(sql_str(v) for v in null_strings)}) THEN NULL ELSE {col} END)"
        parts.append(f"{sql_str(key)}: {expr}")
    if not parts:
        return pa.array(["{}"] * table.num_rows, pa.large_string())
    con.register(rel, _duckdb_ready(table).rename_columns([f"c{i}" for i in range(table.num_columns)]))
    try:
        out = con.sql(f"SELECT to_json({{{', '.join(parts)}}}) AS raw FROM {rel}").to_arrow_table()
    finally:
        con.unregister(rel)
    if out.num_rows != table.num_rows:
        raise RuntimeError(f"JSON rendering returned {out.num_rows} rows for {table.num_rows}")
    return out.column("raw").combine_chunks().cast(pa.large_string())


def records_table(source: str, lines: np.ndarray, raw: pa.Array) -> pa.Table:
    """A RECORDS_SCHEMA table from positions and JSON texts (sub is always 0 for these formats)."""
    n = len(raw)
    return pa.table(
        {
            "source": pa.repeat(pa.scalar(source, pa.string()), n),
            "line": pa.array(np.asarray(lines, dtype=np.int64)),
            "sub": pa.array(np.zeros(n, dtype=np.int32)),
            "raw": raw,
        },
        schema=RECORDS_SCHEMA,
    )
