"""The warehouse as a Dagster resource: a DuckDB file (default, `database`) or Delta Lake tables under `url`
(S3 or local). `get_connection()` is a DuckDB connection for SQL readers (on the DuckDB file it waits out other
processes' locks); `get_store()` is the store every warehouse writer goes through (pipeline/core/storage/store.py)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipeline.core.settings import storage_options_from_env
from pipeline.core.storage.store import WarehouseStore
from pipeline.core.storage.store_duckdb import DuckDBConnectionStore
from pipeline.core.storage.warehouse_lock import DEFAULT_TIMEOUT_S, connect_warehouse


class WarehouseResource(DuckDBResource):
    """Where the serving tables live. Empty `url`: the DuckDB file (one writer at a time, pool `duckdb`).
    `url` set (s3://bucket/warehouse or a folder): Delta tables, many concurrent writers."""

    url: str = Field(default="", description="Delta warehouse URL; empty: the DuckDB file at `database`")
    storage_options_json: str = ""
    s3_endpoint_url: Optional[str] = None
    lock_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, description="how long opening the DuckDB file waits "
                                  "for another process's lock before failing with the file's name")

    def _delta(self):
        from pipeline.core.storage.store_delta import DeltaStore

        env = {"STRATA_STORAGE_OPTIONS": self.storage_options_json or "",
               "STRATA_S3_ENDPOINT_URL": self.s3_endpoint_url or ""}
        return DeltaStore(self.url, storage_options_from_env(env))

    @contextmanager
    def get_connection(self):
        if self.url:
            con = self._delta().reader()
        else:
            con = connect_warehouse(self.database, timeout_s=self.lock_timeout_s,
                                    config={"custom_user_agent": "dagster", **self.connection_config})
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def get_store(self) -> Iterator[WarehouseStore]:
        if self.url:
            yield self._delta()
            return
        with self.get_connection() as con:
            yield DuckDBConnectionStore(con)


@contextmanager
def warehouse_store(resource) -> Iterator[WarehouseStore]:
    """The store behind a warehouse resource: `WarehouseResource.get_store()`, or for a plain `DuckDBResource`
    its connection wrapped (the same statements either way)."""
    if isinstance(resource, WarehouseResource):
        with resource.get_store() as store:
            yield store
        return
    with resource.get_connection() as con:
        yield DuckDBConnectionStore(con)
