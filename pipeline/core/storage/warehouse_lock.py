"""Opening the DuckDB warehouse file when another process holds it: retry with backoff on lock conflicts, for a
bounded time, then fail with an error naming the file (readers such as `strata report` and writers such as the
`anomalies` step both wait instead of failing on the first conflict)."""
from __future__ import annotations

import random
import time

import duckdb

DEFAULT_TIMEOUT_S = 60.0
_LOCK_WORDS = ("could not set lock", "conflicting lock", "lock on file", "resource temporarily unavailable")


class WarehouseBusy(RuntimeError):
    """The warehouse file stayed locked by another process for longer than the allowed wait."""

    def __init__(self, path: str, waited_s: float, cause: Exception):
        self.path, self.waited_s = path, waited_s
        first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        super().__init__(f"warehouse {path}: still locked by another process after {waited_s:.1f}s "
                         f"(a run or a notebook holds it; close it or raise the wait): {first}")


def is_lock_conflict(exc: BaseException) -> bool:
    """A DuckDB error raised because another process holds the file (not a corrupt or missing file)."""
    text = str(exc).lower()
    return isinstance(exc, (duckdb.IOException, duckdb.ConnectionException)) and any(w in text for w in _LOCK_WORDS)


def connect_warehouse(path: str, read_only: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S,
                      config: dict | None = None, first_delay_s: float = 0.02, max_delay_s: float = 1.0,
                      sleep=time.sleep, clock=time.monotonic) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, retried with jittered exponential backoff while the file is locked, for at most `timeout_s`."""
    start = clock()
    delay = first_delay_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config or {})
            con.execute("SET enable_progress_bar = false")  # a long query would draw one on stdout (CLI JSON)
            return con
        except Exception as exc:  # noqa: BLE001 - only lock conflicts are retried, everything else is raised as is
            if not is_lock_conflict(exc):
                raise
            waited = clock() - start
            if waited >= timeout_s:
                raise WarehouseBusy(str(path), waited, exc) from exc
            sleep(min(delay * (0.5 + random.random()), max(0.0, timeout_s - waited)))
            delay = min(delay * 2, max_delay_s)
