"""The Delta Lake warehouse store (delta-rs: no JVM, no catalog service): one Delta table per warehouse table under a
URL on local disk or S3. Every write is one Delta commit, so readers see the previous version or the next, never
half; concurrent writers from many processes or pods are safe (S3 conditional writes; a lost race re-reads the log
and retries, up to `max_commit_retries` inside delta-rs and `attempts` here for races it reports as errors).

- per-drop tables are partitioned by `drop`; `replace` is an overwrite with a predicate (one commit per drop);
- `append` with a token stores it as a Delta app transaction (appId = token): a token seen before is a no-op;
- `reader()` is an in-memory DuckDB connection with a view per table over its Arrow dataset (nothing downloaded,
  no DuckDB extension).
"""
from __future__ import annotations

import random
import time
from typing import Mapping

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from .store import PARTITION_COLUMN, WarehouseStore, sql_literal, where_sql

LAKE_TABLES = frozenset({"log_entries", "quarantine"})  # large: read in place, never copied
# views the DuckDB warehouse defines next to its tables, recreated on every Delta reader (name -> (table, SQL))
DERIVED_VIEWS = {"latest_baselines": ("baselines", "SELECT * FROM baselines "
                                      "WHERE computed_at = (SELECT max(computed_at) FROM baselines)")}
MAX_COMMIT_RETRIES = 100  # delta-rs's own rebase-and-retry on a lost commit race (sized for many writers)


def delta_storage_options(fsspec_options: dict | None) -> dict[str, str]:
    """delta-rs (object_store) options from Strata's fsspec/s3fs options: keys, endpoint, region, plain HTTP."""
    o = dict(fsspec_options or {})
    ck = o.pop("client_kwargs", {}) or {}
    out: dict[str, str] = {}
    names = {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY", "token": "AWS_SESSION_TOKEN",
             "endpoint_url": "AWS_ENDPOINT_URL", "region_name": "AWS_REGION"}
    for src in (o, ck):
        for k, v in src.items():
            if k in names and v:
                out[names[k]] = str(v)
            elif k.isupper() or k.startswith(("aws_", "AWS_", "azure_", "google_")):
                out[k] = str(v)
    if out.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        out.setdefault("AWS_ALLOW_HTTP", "true")
    if "AWS_ENDPOINT_URL" in out:
        out.setdefault("AWS_REGION", "us-east-1")
    return out


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, CommitFailedError):
        return True
    text = str(exc).lower()
    return isinstance(exc, DeltaError) and any(w in text for w in (
        "already exists", "version", "conflict", "concurrent", "precondition", "transaction"))


class DeltaStore(WarehouseStore):
    kind = "delta"

    def __init__(self, url: str, storage_options: dict | None = None, attempts: int = 20):
        self.url = url.rstrip("/")
        self.options = delta_storage_options(storage_options)
        self.attempts = attempts
        self.retries = 0  # commit races this store lost and retried (beyond delta-rs's own rebases)

    def path(self, table: str) -> str:
        return f"{self.url}/{table}"

    def _table(self, table: str) -> DeltaTable | None:
        try:
            return DeltaTable(self.path(table), storage_options=self.options)
        except TableNotFoundError:
            return None

    def _retry(self, fn):
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - only commit races are retried
                if attempt == self.attempts - 1 or not _retryable(exc):
                    raise
                self.retries += 1
                time.sleep(min(0.05 * 2 ** attempt, 1.0) * (0.5 + random.random()))

    def _props(self, txn: Transaction | None = None) -> CommitProperties:
        return CommitProperties(max_commit_retries=MAX_COMMIT_RETRIES, app_transactions=[txn] if txn else None)

    def _partitioning(self, data: pa.Table) -> list[str] | None:
        return [PARTITION_COLUMN] if PARTITION_COLUMN in data.column_names else None

    def replace(self, table, data, where: Mapping[str, object], ddl=None) -> int:
        predicate = where_sql(where)

        def go():
            write_deltalake(self.path(table), data, mode="overwrite", predicate=predicate,
                            partition_by=self._partitioning(data), storage_options=self.options,
                            commit_properties=self._props())
        if self._table(table) is None:
            self._create(table, data)
        self._retry(go)
        return data.num_rows

    def _create(self, table: str, data: pa.Table) -> None:
        """An empty table with `data`'s schema; losing the race to another creator is fine."""
        try:
            write_deltalake(self.path(table), data.schema.empty_table(), mode="ignore",
                            partition_by=self._partitioning(data), storage_options=self.options)
        except Exception as exc:  # noqa: BLE001
            if not _retryable(exc) or self._table(table) is None:
                raise

    def append(self, table, data, token=None, ddl=None) -> bool:
        app_id = f"strata:{token}" if token is not None else None

        def go() -> bool:
            dt = self._table(table)
            if app_id and dt is not None and (dt.transaction_version(app_id) or 0) >= 1:
                return False
            txn = Transaction(app_id=app_id, version=1) if app_id else None
            write_deltalake(dt if dt is not None else self.path(table), data, mode="append",
                            partition_by=self._partitioning(data) if dt is None else None,
                            storage_options=self.options, commit_properties=self._props(txn))
            return True
        if self._table(table) is None:
            self._create(table, data)
        return self._retry(go)

    def overwrite(self, table, data, ddl=None) -> int:
        self._retry(lambda: write_deltalake(self.path(table), data, mode="overwrite", schema_mode="overwrite",
                                            partition_by=self._partitioning(data), storage_options=self.options,
                                            commit_properties=self._props()))
        return data.num_rows

    def merge(self, table, data, keys: list[str], ddl=None) -> int:
        on = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
        if self._table(table) is None:
            self._create(table, data)

        def go():
            dt = self._table(table)
            (dt.merge(data, predicate=on, source_alias="s", target_alias="t", commit_properties=self._props())
               .when_matched_update_all().when_not_matched_insert_all().execute())
        self._retry(go)
        return data.num_rows

    def scan(self, table) -> pa.Table | None:
        dt = self._table(table)
        return None if dt is None else dt.to_pyarrow_table()

    def version(self, table: str) -> int | None:
        dt = self._table(table)
        return None if dt is None else dt.version()

    def tables(self) -> list[str]:
        from ..ingest.sources import filesystem

        fs = filesystem(self.url, _fsspec_options(self.options))
        base = fs._strip_protocol(self.url).rstrip("/")
        if not fs.exists(base):
            return []
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(base, detail=False, refresh=True)]
        return sorted(n for n in names if fs.exists(f"{base}/{n}/_delta_log"))

    def reader(self):
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET enable_progress_bar = false")
        for name in self.tables():
            dt = self._table(name)
            if dt is None:
                continue
            con.register(f"_delta_{name}", dt.to_pyarrow_dataset())
            # serving tables are small: copied in, they are tables like the file store's (the lake stays a view)
            kind = "VIEW" if name in LAKE_TABLES else "TABLE"
            con.execute(f'CREATE {kind} "{name}" AS SELECT * FROM "_delta_{name}"')
            if kind == "TABLE":
                con.unregister(f"_delta_{name}")
        present = set(self.tables())
        for view, (table, sql) in DERIVED_VIEWS.items():
            if table in present:
                con.execute(f'CREATE VIEW "{view}" AS {sql}')
        return con


def _fsspec_options(delta_options: dict[str, str]) -> dict:
    """The reverse mapping, for listing the warehouse URL with fsspec."""
    out: dict = {}
    if "AWS_ACCESS_KEY_ID" in delta_options:
        out["key"] = delta_options["AWS_ACCESS_KEY_ID"]
    if "AWS_SECRET_ACCESS_KEY" in delta_options:
        out["secret"] = delta_options["AWS_SECRET_ACCESS_KEY"]
    if "AWS_SESSION_TOKEN" in delta_options:
        out["token"] = delta_options["AWS_SESSION_TOKEN"]
    if "AWS_ENDPOINT_URL" in delta_options:
        out["client_kwargs"] = {"endpoint_url": delta_options["AWS_ENDPOINT_URL"]}
    return out


__all__ = ["DeltaStore", "delta_storage_options", "sql_literal"]
