"""Alerting made visible in Dagster: `alerts` is an external asset (the alert_sensor writes it, Dagster never
materializes it), downstream of what raises findings. Each alert_sensor tick records one observation on it with the
tick's numbers (findings open, notifications due, delivered, failed, skipped, pending), so the asset page plots them
and shows the latest; the tick itself no longer hides them in its log."""
from __future__ import annotations

from datetime import datetime

import dagster as dg

from .metadata import OWNERS, TAGS

alerts = dg.AssetSpec(
    "alerts",
    group_name="alerting",
    deps=["anomalies", "drop_drift", "version_drift", "invariant_staleness"],
    kinds={"slack"},
    owners=OWNERS,
    tags=TAGS,
    description="Alert notifications on violated invariants, critical anomalies and drift REVIEW/BLOCK, deduplicated "
                "and delivered by alert_sensor; each tick observes findings, due, delivered, failed, pending.",
    metadata={"dagster/table_name": "alert_log"},
)

COUNTS = ("findings", "due", "delivered", "failed", "skipped", "pending", "run_failures")


def alert_counts(con, since: datetime) -> dict[str, int]:
    """The numbers of one tick: open findings and pending retries from alert_state; notifications due and their
    delivery outcomes from the alert_log rows written since the tick started."""
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    out = dict.fromkeys(COUNTS, 0)
    if "alert_state" in tables:
        out["findings"], out["pending"] = con.execute(
            "SELECT count(*) FILTER (active), count(*) FILTER (pending IS NOT NULL) FROM alert_state").fetchone()
    if "alert_log" in tables:
        row = con.execute(
            """SELECT count(DISTINCT notification_id), count(*) FILTER (status = 'delivered'),
                      count(*) FILTER (status = 'failed'), count(*) FILTER (status = 'skipped'),
                      count(DISTINCT notification_id) FILTER (kind = 'run_failed')
               FROM alert_log WHERE attempted_at >= ?""", [since]).fetchone()
        out.update(zip(("due", "delivered", "failed", "skipped", "run_failures"), row))
    return {k: int(v or 0) for k, v in out.items()}


def alert_observation(warehouse, since: datetime, summary: str) -> list[dg.AssetObservation]:
    """One observation of `alerts` for the tick; none when the warehouse cannot be read (alerting already logged)."""
    try:
        with warehouse.get_connection() as con:
            counts = alert_counts(con, since)
    except Exception:
        return []
    return [dg.AssetObservation("alerts", metadata={**counts, "summary": summary})]
