"""Small conversions shared by the report's readers: query rows as dicts, timestamps as ISO-8601 UTC, JSON-safe numbers."""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from decimal import Decimal


def relations(con) -> set[str]:
    """Tables and views of the connection's current schema (the warehouse tables a report can read)."""
    rows = con.sql("SELECT table_name FROM information_schema.tables "
                   "WHERE table_schema = current_schema() AND table_catalog = current_database()").fetchall()
    return {r[0] for r in rows}


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    """A query's rows as dicts of JSON-safe values (timestamps as ISO strings, NaN/inf as None)."""
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    names = rel.columns
    return [{k: clean(v) for k, v in zip(names, r)} for r in rel.fetchall()]


def clean(value):
    """A value JSON can hold without loss of meaning: finite floats, ISO timestamps, lists/dicts cleaned in depth."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return clean(value.item())
    return str(value)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """`2024-05-01T12:00:00Z` (UTC, seconds; microseconds only when present)."""
    if value is None:
        return None
    return utc(value).isoformat().replace("+00:00", "Z")


def parse_time(value) -> datetime | None:
    """A datetime from an ISO string, a `str(datetime)` or a datetime; None when it is not one."""
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def load_json(text, default):
    """Parsed JSON text, or `default` when it is missing, malformed or of another type than `default`."""
    if not isinstance(text, str):
        return default
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def number(value) -> float | None:
    """A finite float, or None (for None, NaN, inf, booleans and anything that is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def integer(value) -> int | None:
    f = number(value)
    return None if f is None else int(f)
