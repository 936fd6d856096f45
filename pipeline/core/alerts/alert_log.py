"""Warehouse tables for alerting: `alert_log` (every delivery attempt, its status and error), `alert_state` (the
dedup state per key, so the window, re-notify and pending retries survive across sensor ticks and restarts) and
`alert_claims` (who is sending which notification to which target: claimed atomically, so two overlapping ticks never
send the same notification twice).

Writes go through the warehouse store (a store, or a DuckDB connection wrapped): `save_states` overwrites
`alert_state`, `record` appends to `alert_log`, so both work on the DuckDB file and on Delta. Reads take a DuckDB
connection (the file, or a Delta store's reader). Claims need an atomic read-modify-write that a Delta commit does
not give (two merges inserting the same new claim both commit under Delta's write-serializable isolation), so with
the Delta warehouse they live in a small local DuckDB file (`claims_path`): only one daemon runs sensors."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Iterable

import pyarrow as pa

from .dedup import KeyState, Notification
from .dispatch import Sent
from .findings import Finding
from ..storage.store import as_store

DDL = [
    """CREATE TABLE IF NOT EXISTS alert_log (
        attempted_at TIMESTAMPTZ, notification_id VARCHAR, key VARCHAR, action VARCHAR, severity VARCHAR, kind VARCHAR,
        title VARCHAR, target VARCHAR, attempt INTEGER, status VARCHAR, http_status INTEGER, error VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS alert_state (
        key VARCHAR PRIMARY KEY, kind VARCHAR, severity VARCHAR, active BOOLEAN, opened_at TIMESTAMPTZ,
        last_seen TIMESTAMPTZ, last_sent_at TIMESTAMPTZ, sent_severity VARCHAR, notified_open BOOLEAN,
        pending VARCHAR, pending_since TIMESTAMPTZ, finding VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS alert_claims (
        claim_key VARCHAR, target VARCHAR, status VARCHAR, lease_until TIMESTAMPTZ, owner VARCHAR,
        settled_at TIMESTAMPTZ, PRIMARY KEY (claim_key, target))""",
]
LEASE = timedelta(minutes=5)  # a claim whose tick died is taken over after this (a tick lasts well under a minute)
GUARD = timedelta(minutes=10)  # the same message (key + action) delivered this recently is never sent again
STATE_COLUMNS = ["key", "kind", "severity", "active", "opened_at", "last_seen", "last_sent_at", "sent_severity",
                 "notified_open", "pending", "pending_since", "finding"]
KEEP_RESOLVED = timedelta(days=30)  # quiet resolved keys older than this are forgotten
TS = pa.timestamp("us", tz="UTC")
LOG_SCHEMA = pa.schema([("attempted_at", TS), ("notification_id", pa.string()), ("key", pa.string()),
                        ("action", pa.string()), ("severity", pa.string()), ("kind", pa.string()),
                        ("title", pa.string()), ("target", pa.string()), ("attempt", pa.int32()),
                        ("status", pa.string()), ("http_status", pa.int32()), ("error", pa.string())])
STATE_SCHEMA = pa.schema([("key", pa.string()), ("kind", pa.string()), ("severity", pa.string()),
                          ("active", pa.bool_()), ("opened_at", TS), ("last_seen", TS), ("last_sent_at", TS),
                          ("sent_severity", pa.string()), ("notified_open", pa.bool_()), ("pending", pa.string()),
                          ("pending_since", TS), ("finding", pa.string())])
# the alert sensor's claims file when the warehouse is Delta (default $DAGSTER_HOME/strata_alert_claims.duckdb)
CLAIMS_ENV = "STRATA_ALERT_CLAIMS_PATH"


def claims_path(env: dict | None = None) -> str:
    """The local claims file used with the Delta warehouse: $STRATA_ALERT_CLAIMS_PATH, else
    $DAGSTER_HOME/strata_alert_claims.duckdb, else ./data/alert_claims.duckdb."""
    env = os.environ if env is None else env
    if env.get(CLAIMS_ENV):
        return env[CLAIMS_ENV]
    if env.get("DAGSTER_HOME"):
        return os.path.join(env["DAGSTER_HOME"], "strata_alert_claims.duckdb")
    return os.path.join("data", "alert_claims.duckdb")


def claims_connection(path: str | None = None):
    """A DuckDB connection to the local claims file (created with its folder; waits out another tick's lock)."""
    from ..storage.warehouse_lock import connect_warehouse

    path = path or claims_path()
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    con = connect_warehouse(path)
    ensure_tables(con)
    return con


def _rows_table(rows: list[list], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(schema.names, r)) for r in rows], schema=schema)


def ensure_tables(con) -> None:
    for stmt in DDL:
        con.execute(stmt)


def load_states(con) -> dict[str, KeyState]:
    ensure_tables(con)
    rows = con.sql(f"SELECT {', '.join(STATE_COLUMNS)} FROM alert_state ORDER BY key").to_arrow_table().to_pylist()
    out = {}
    for r in rows:
        out[r["key"]] = KeyState(
            key=r["key"], finding=Finding.from_dict(json.loads(r["finding"])), active=bool(r["active"]),
            opened_at=r["opened_at"], last_seen=r["last_seen"], last_sent_at=r["last_sent_at"],
            sent_severity=r["sent_severity"], notified_open=bool(r["notified_open"]), pending=r["pending"],
            pending_since=r["pending_since"])
    return out


def save_states(target, states: dict[str, KeyState], now: datetime, keep_resolved: timedelta = KEEP_RESOLVED) -> int:
    """Replace the stored state in one commit (`target`: a store or a DuckDB connection); returns the keys kept."""
    rows = [[s.key, s.finding.kind, s.finding.severity, s.active, s.opened_at, s.last_seen, s.last_sent_at,
             s.sent_severity, s.notified_open, s.pending, s.pending_since, json.dumps(s.finding.to_dict())]
            for s in states.values()
            if s.active or s.pending or s.last_seen is None or now - s.last_seen < keep_resolved]
    as_store(target).overwrite("alert_state", _rows_table(rows, STATE_SCHEMA), ddl=DDL[1])
    return len(rows)


def _row(at, n: Notification, target: str, attempt: int, status: str, http_status, error) -> list:
    return [at, n.id, n.key, n.action, n.severity, n.finding.kind, n.finding.title, target, attempt, status,
            http_status, error]


def record(target, sent: Iterable[Sent], unrouted: Iterable[Notification] = (), at: datetime | None = None) -> int:
    """One row per notification per attempt: delivered, retrying (another attempt follows), failed (left pending for
    the next tick) or skipped (no target configured for its severity), appended in one commit (`target`: a store or
    a DuckDB connection). Returns the rows written."""
    rows = []
    for s in sent:
        last = len(s.result.attempts)
        for a in s.result.attempts:
            status = "delivered" if a.outcome.ok else ("failed" if a.number == last else "retrying")
            rows += [_row(a.at, n, s.target, a.number, status, a.outcome.status_code, a.outcome.error) for n in s.batch]
    for n in unrouted:
        rows.append(_row(at, n, "none", 0, "skipped", None, f"no target configured for {n.severity} alerts"))
    if rows:
        as_store(target).append("alert_log", _rows_table(rows, LOG_SCHEMA), ddl=DDL[0])
    return len(rows)


def delivered_targets(con, notification_ids: Iterable[str]) -> dict[str, set[str]]:
    """Targets each notification already reached (a retry skips them)."""
    ids = list(notification_ids)
    if not ids:
        return {}
    ensure_tables(con)
    rows = con.sql("SELECT DISTINCT notification_id, target FROM alert_log WHERE status = 'delivered' "
                   "AND list_contains(?, notification_id)", params=[ids]).fetchall()
    out: dict[str, set[str]] = {}
    for nid, target in rows:
        out.setdefault(nid, set()).add(target)
    return out


def claim(con, target: str, claim_keys: Iterable[str], owner: str, now: datetime, lease: timedelta = LEASE,
          guard: timedelta = GUARD) -> tuple[set[str], set[str]]:
    """Claim the messages (`key|action`) this tick may send to `target`, in one transaction: a row per (message,
    target) is created pending, then `UPDATE ... WHERE status = 'pending' (or its lease ran out, or it was delivered
    longer than `guard` ago) RETURNING` takes it. Returns (taken, delivered by another tick within the guard). What
    another tick holds is in neither; a tick that loses a write conflict takes nothing."""
    keys = list(dict.fromkeys(claim_keys))
    if not keys:
        return set(), set()
    ensure_tables(con)
    try:  # forget claims settled long ago (own statement: a delete and re-insert of one key share no transaction)
        con.execute("DELETE FROM alert_claims WHERE status = 'delivered' AND settled_at < ?", [now - KEEP_RESOLVED])
    except Exception:  # a concurrent tick is pruning too: nothing lost
        pass
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO alert_claims SELECT unnest(?::VARCHAR[]), ?, 'pending', NULL, NULL, NULL "
                    "ON CONFLICT DO NOTHING", [keys, target])
        taken = con.execute(
            "UPDATE alert_claims SET status = 'claimed', lease_until = ?, owner = ? WHERE target = ? "
            "AND list_contains(?, claim_key) AND (status = 'pending' OR (status = 'claimed' AND lease_until < ?) "
            "OR (status = 'delivered' AND settled_at < ?)) RETURNING claim_key",
            [now + lease, owner, target, keys, now, now - guard]).fetchall()
        done = con.execute("SELECT claim_key FROM alert_claims WHERE target = ? AND list_contains(?, claim_key) "
                           "AND status = 'delivered' AND settled_at >= ?", [target, keys, now - guard]).fetchall()
        con.execute("COMMIT")
    except Exception:  # duckdb: a concurrent claim of the same rows conflicts; the other tick has them
        try:
            con.execute("ROLLBACK")
        except Exception:
            pass
        return set(), set()
    return {r[0] for r in taken}, {r[0] for r in done}


def settle(con, target: str, claim_keys: Iterable[str], owner: str, delivered: bool, now: datetime) -> None:
    """After the attempt: delivered claims are marked so (and guarded); failed ones go back to pending."""
    keys = list(claim_keys)
    if not keys:
        return
    con.execute("UPDATE alert_claims SET status = ?, lease_until = NULL, settled_at = ? WHERE target = ? AND owner = ? "
                "AND list_contains(?, claim_key)", ["delivered" if delivered else "pending", now, target, owner, keys])
