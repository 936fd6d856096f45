"""The warehouse store interface: the five writes and one read every warehouse table goes through, whatever engine
holds it. `DuckDBFileStore` (store_duckdb.py) is today's single-file warehouse; `DeltaStore` (store_delta.py) keeps
each table as a Delta Lake table under a URL (local disk or S3) that many processes may write at once.

Writes:
- `replace(table, data, where)`: the rows matching `where` (column -> value, e.g. {"drop": key}) are replaced by
  `data` in one atomic commit (per-drop tables; a re-run leaves identical rows).
- `append(table, data, token)`: add rows; a token already applied to `table` makes the call a no-op (a retried step
  never double-writes). Returns whether rows were written.
- `overwrite(table, data)`: the table becomes `data`.
- `merge(table, data, keys)`: upsert on `keys` (alert state).
Reads: `scan(table)` (None when the table does not exist), `tables()`, and `reader()`, a DuckDB connection on which
every table can be queried by name (the report's and the alert sensor's SQL run unchanged on both stores).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Mapping

import pyarrow as pa

PARTITION_COLUMN = "drop"  # per-drop tables are partitioned by the drop key


class WarehouseStore(ABC):
    """One warehouse, whatever holds it. `ddl` arguments are the DuckDB CREATE TABLE statements the file store
    uses so its tables keep their declared types; the Delta store takes the schema from the Arrow data."""

    kind: str = "abstract"

    @abstractmethod
    def replace(self, table: str, data: pa.Table, where: Mapping[str, object], ddl: str | None = None) -> int: ...

    @abstractmethod
    def append(self, table: str, data: pa.Table, token: str | None = None, ddl: str | None = None) -> bool: ...

    @abstractmethod
    def overwrite(self, table: str, data: pa.Table, ddl: str | None = None) -> int: ...

    @abstractmethod
    def merge(self, table: str, data: pa.Table, keys: list[str], ddl: str | None = None) -> int: ...

    @abstractmethod
    def scan(self, table: str) -> pa.Table | None: ...

    @abstractmethod
    def tables(self) -> list[str]: ...

    @abstractmethod
    def reader(self):
        """A DuckDB connection where each table is queryable by name (close it when done)."""


def sql_literal(value) -> str:
    """A value as an SQL literal for a predicate (strings quoted with '' doubled; numbers and booleans as is)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def where_sql(where: Mapping[str, object], alias: str | None = None) -> str:
    prefix = f"{alias}." if alias else ""
    return " AND ".join(f'{prefix}"{col}" = {sql_literal(val)}' for col, val in where.items()) or "true"


def as_store(target) -> WarehouseStore:
    """A store for `target`: a store is returned as is; a DuckDB connection is wrapped (callers that still hold a
    connection, e.g. `strata report`'s in-memory warehouse, keep working)."""
    if isinstance(target, WarehouseStore):
        return target
    from .store_duckdb import DuckDBConnectionStore

    return DuckDBConnectionStore(target)
