"""Prometheus gauges read from the warehouse (invariant statuses, anomalies, drift scores, rows ingested), written
for a node-exporter textfile collector or pushed to a Pushgateway."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

CORE_STATUSES = ("holds", "degraded", "violated")
SEVERITIES = ("warning", "critical")


def _has(con, table: str) -> bool:
    return bool(con.sql("SELECT 1 FROM duckdb_tables() WHERE table_name = ?", params=[table]).fetchall())


class StrataMetrics:
    """A registry holding the current values; build it with `from_warehouse(con)`."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.invariants = Gauge("strata_invariants", "Invariants per status in the newest staleness check",
                                ["status"], registry=self.registry)
        self.anomalies = Gauge("strata_anomalies", "Anomalies in the newest ingested drop, per severity",
                               ["severity"], registry=self.registry)
        self.drift_score = Gauge("strata_drift_score", "Drift score of the newest comparison of each kind",
                                 ["kind", "subject"], registry=self.registry)
        self.rows_ingested = Gauge("strata_rows_ingested_total", "Rows kept across all ingested drops",
                                   registry=self.registry)
        for status in CORE_STATUSES:
            self.invariants.labels(status=status).set(0)
        for severity in SEVERITIES:
            self.anomalies.labels(severity=severity).set(0)

    @classmethod
    def from_warehouse(cls, con) -> "StrataMetrics":
        m = cls()
        if _has(con, "staleness"):
            for status, n in con.sql("""SELECT status, count(*) FROM staleness
                    WHERE checked_at = (SELECT max(checked_at) FROM staleness) AND status IS NOT NULL
                    GROUP BY ALL""").fetchall():
                m.invariants.labels(status=status).set(n)
        has_drops = _has(con, "drops")
        if has_drops:
            m.rows_ingested.set(con.sql("SELECT coalesce(sum(rows_kept), 0) FROM drops").fetchall()[0][0])
        if has_drops and _has(con, "anomalies"):
            for severity, n in con.sql("""SELECT severity, count(*) FROM anomalies WHERE severity IS NOT NULL AND drop =
                    (SELECT drop FROM drops ORDER BY ingested_at DESC NULLS LAST, drop DESC LIMIT 1)
                    GROUP BY ALL""").fetchall():
                m.anomalies.labels(severity=severity).set(n)
        if _has(con, "drift_results"):
            # one series per kind: one per drop would grow without bound
            for kind, subject, score in con.sql("""SELECT kind, subject, score FROM drift_results
                    WHERE kind IS NOT NULL QUALIFY row_number() OVER (
                        PARTITION BY kind ORDER BY computed_at DESC NULLS LAST, subject) = 1""").fetchall():
                m.drift_score.labels(kind=kind, subject=subject or "").set(float("nan") if score is None else score)
        return m

    def write_textfile(self, path: str) -> None:
        """Atomic write (temp file + rename), as the textfile collector expects."""
        write_to_textfile(path, self.registry)

    def push(self, gateway_url: str, job: str = "strata", timeout: float = 10) -> None:
        """PUT to <gateway>/metrics/job/<job>: replaces this job's previous series."""
        push_to_gateway(gateway_url, job=job, registry=self.registry, timeout=timeout)
