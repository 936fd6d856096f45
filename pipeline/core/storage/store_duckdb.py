"""The DuckDB-file warehouse store (the embedded default): each write is one DuckDB transaction on the file, the
same statements the warehouse used before the store interface existed. One writer process at a time (Dagster pool
`duckdb`); opening waits for a lock held by another process (warehouse_lock.py)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Mapping

import pyarrow as pa

from .store import WarehouseStore, where_sql
from .warehouse_lock import DEFAULT_TIMEOUT_S, connect_warehouse

TOKENS_TABLE = "strata_commit_tokens"  # (tbl, token, committed_at): appends already applied


class DuckDBConnectionStore(WarehouseStore):
    """The store over an open DuckDB connection (the caller owns the connection)."""

    kind = "duckdb"

    def __init__(self, con):
        self.con = con

    @contextmanager
    def _arrow(self, data: pa.Table):
        name = f"_strata_in_{id(data)}"
        self.con.register(name, data)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def _create(self, table: str, src: str, ddl: str | None) -> None:
        self.con.execute(ddl if ddl else f'CREATE TABLE IF NOT EXISTS "{table}" AS SELECT * FROM {src} LIMIT 0')

    def _insert(self, table: str, src: str) -> None:
        self.con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {src}')

    @contextmanager
    def _transaction(self):
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def replace(self, table, data, where: Mapping[str, object], ddl=None) -> int:
        with self._arrow(data) as src, self._transaction():
            self._create(table, src, ddl)
            self.con.execute(f'DELETE FROM "{table}" WHERE {where_sql(where)}')
            if data.num_rows:
                self._insert(table, src)
        return data.num_rows

    def append(self, table, data, token=None, ddl=None) -> bool:
        with self._arrow(data) as src, self._transaction():
            self._create(table, src, ddl)
            if token is not None:
                self.con.execute(f"CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} "
                                 "(tbl VARCHAR, token VARCHAR, committed_at TIMESTAMPTZ DEFAULT now())")
                if self.con.execute(f"SELECT 1 FROM {TOKENS_TABLE} WHERE tbl = ? AND token = ?", [table, token]).fetchall():
                    return False
                self.con.execute(f"INSERT INTO {TOKENS_TABLE} (tbl, token) VALUES (?, ?)", [table, token])
            if data.num_rows:
                self._insert(table, src)
        return True

    def overwrite(self, table, data, ddl=None) -> int:
        with self._arrow(data) as src, self._transaction():
            self._create(table, src, ddl)
            self.con.execute(f'DELETE FROM "{table}"')
            if data.num_rows:
                self._insert(table, src)
        return data.num_rows

    def merge(self, table, data, keys: list[str], ddl=None) -> int:
        on = " AND ".join(f'"{table}"."{k}" IS NOT DISTINCT FROM s."{k}"' for k in keys)
        with self._arrow(data) as src, self._transaction():
            self._create(table, src, ddl)
            self.con.execute(f'DELETE FROM "{table}" WHERE EXISTS (SELECT 1 FROM {src} s WHERE {on})')
            if data.num_rows:
                self._insert(table, src)
        return data.num_rows

    def scan(self, table) -> pa.Table | None:
        if table not in self.tables():
            return None
        return self.con.sql(f'SELECT * FROM "{table}"').to_arrow_table()

    def tables(self) -> list[str]:
        rows = self.con.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = current_schema()").fetchall()
        return sorted(r[0] for r in rows if r[0] != TOKENS_TABLE)

    def reader(self):
        return self.con.cursor()


class DuckDBFileStore(DuckDBConnectionStore):
    """The store over a warehouse file, opened (waiting out other processes' locks) for the store's lifetime."""

    def __init__(self, path: str, read_only: bool = False, lock_timeout_s: float = DEFAULT_TIMEOUT_S):
        self.path = str(path)
        super().__init__(connect_warehouse(self.path, read_only=read_only, timeout_s=lock_timeout_s))

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
