"""Shared helpers for the alert tests: a DuckDB warehouse file with every table the pipeline writes, filled with a
known mix of findings (and decoys that must not become findings)."""
import json
from datetime import datetime, timedelta, timezone

import duckdb

from pipeline.core.storage import invariant_store, warehouse
from pipeline.core.baselines import DDL as BASELINES_DDL
from pipeline.core.storage import drift_store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SEGMENT = "support-bot|gpt-4o|v2"
ANOMALIES_DDL = """CREATE TABLE IF NOT EXISTS anomalies (drop VARCHAR, ts TIMESTAMPTZ, entry_id VARCHAR, line BIGINT,
    segment VARCHAR, metric VARCHAR, value DOUBLE, expected DOUBLE, score DOUBLE, detectors VARCHAR[],
    severity VARCHAR, explanation VARCHAR)"""


def drift_report(score, verdict, base="7 days before", cur="d3", hypotheses=("latency up 40% on gpt-4o",)):
    return {"score": score, "ci": [score - 0.1, score + 0.1], "verdict": verdict, "baseline_label": base,
            "current_label": cur, "n_baseline": 1000, "n_current": 200, "dimensions": [],
            "hypotheses": [{"text": h, "dimension": "latency_ms", "contribution": 0.5} for h in hypotheses],
            "financial_impact": {"currency": "USD", "per_10k_baseline": 1.0, "per_10k_current": 1.5,
                                 "delta_per_10k": 0.5, "delta_pct": 50.0, "text": "+$0.50 per 10k requests (+50%)"}}


def create_tables(con) -> None:
    warehouse.ensure_tables(con)
    for stmt in invariant_store.DDL + drift_store.DDL + [BASELINES_DDL, ANOMALIES_DDL]:
        con.execute(stmt)


def add_drop(con, drop: str, at: datetime, rows_kept: int = 100) -> None:
    con.execute("INSERT INTO drops VALUES (?, ?, ?, 0, 1.0, 1000, 1, '{\"jsonl\": 1}', '{}', NULL, ?)",
                [drop, rows_kept, rows_kept, at])


def add_anomaly(con, drop, metric, score, severity="critical", segment=SEGMENT, value=900.0, expected=100.0,
                explanation="latency 9σ above the segment median"):
    con.execute("INSERT INTO anomalies VALUES (?, ?, 'e1', 1, ?, ?, ?, ?, ?, ['robust_z'], ?, ?)",
                [drop, NOW, segment, metric, value, expected, score, severity, explanation])


def add_staleness(con, at, inv_id, family, severity, status, then=0.99, now=0.5, support=50, total=100, evidence=None):
    con.execute("INSERT INTO staleness VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-11-19', '2026-11-20')",
                [at, inv_id, family, severity, status, then, now, round((then - now) * 100, 6), support, total,
                 json.dumps(evidence if evidence is not None else {"violations": total - support})])


def make_warehouse(path) -> str:
    """Three drops an hour apart (d1, d2, d3 newest) and rows in every table; returns the file path."""
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        for i, d in enumerate(["d1", "d2", "d3"]):
            add_drop(con, d, NOW - timedelta(hours=3 - i), rows_kept=100 * (i + 1))
        con.execute("INSERT INTO invariants VALUES ('pii-email', 'pii', 'no e-mail addresses in responses', 1.0, 100, 100,"
                    " 'critical', '{}', ?, '2026-11-01', '2026-11-14', ?)",
                    [json.dumps({"samples": ["j***@e***.com", "ü***@ö***.de"], "count": 2}), NOW])
        con.execute("INSERT INTO invariants VALUES ('lat-p95', 'statistics', 'latency p95 under 2 s', 0.97, 97, 100,"
                    " 'warning', '{}', '{}', '2026-11-01', '2026-11-14', ?)", [NOW])
        # an older check (ignored) and the newest one
        add_staleness(con, NOW - timedelta(days=2), "old-only", "structure", "critical", "violated")
        day = NOW - timedelta(days=1)
        add_staleness(con, day, "pii-email", "pii", "critical", "violated", then=1.0, now=0.97, support=97, total=100)
        add_staleness(con, day, "lat-p95", "statistics", "warning", "violated", then=0.97, now=0.52)
        add_staleness(con, day, "struct-1", "structure", "error", "degraded", then=0.99, now=0.85)
        add_staleness(con, day, "holds-1", "structure", "critical", "holds", then=0.99, now=0.99)
        add_anomaly(con, "d3", "latency_ms", 7.5)
        add_anomaly(con, "d3", "latency_ms", float("nan"))
        add_anomaly(con, "d3", "latency_ms", -9.1, value=5.0, explanation="latency collapsed")
        add_anomaly(con, "d3", "latency_ms", 3.2, severity="warning")
        add_anomaly(con, "d3", "total_tokens", 12.0, segment=None)
        add_anomaly(con, "d2", "cost_usd", 8.0)
        add_anomaly(con, "d1", "cost_usd", 6.0)
        drift_store.store_drift(con, "drop", "d2", drift_report(0.8, "BLOCK", cur="d2"), NOW - timedelta(hours=2))
        drift_store.store_drift(con, "drop", "d3", drift_report(0.4, "REVIEW"), NOW - timedelta(hours=1))
        drift_store.store_drift(con, "drop", "d1", drift_report(0.1, "SHIP", cur="d1"), NOW - timedelta(hours=3))
        drift_store.store_drift(con, "version", "v1 -> v2", drift_report(0.9, "BLOCK", "v1", "v2"), NOW - timedelta(days=3))
        drift_store.store_drift(con, "version", "v2 -> v3", drift_report(0.45, "REVIEW", "v2", "v3"), NOW - timedelta(hours=5))
    finally:
        con.close()
    return str(path)
