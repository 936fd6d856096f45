"""Warehouse tables for drift results: one row per comparison (drift_results) and one per dimension (drift_dimensions)."""
from __future__ import annotations

import json
from datetime import datetime

DDL = [
    """CREATE TABLE IF NOT EXISTS drift_results (
        computed_at TIMESTAMPTZ, kind VARCHAR, subject VARCHAR, baseline_label VARCHAR, current_label VARCHAR,
        score DOUBLE, ci_lo DOUBLE, ci_hi DOUBLE, verdict VARCHAR, n_baseline BIGINT, n_current BIGINT,
        hypotheses VARCHAR, report VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS drift_dimensions (
        computed_at TIMESTAMPTZ, kind VARCHAR, subject VARCHAR, name VARCHAR, dim_group VARCHAR, test VARCHAR,
        statistic DOUBLE, p_value DOUBLE, p_adjusted DOUBLE, effect DOUBLE, effect_name VARCHAR, score DOUBLE,
        weight DOUBLE, significant BOOLEAN)""",
]


def store_drift(con, kind: str, subject: str, report: dict, computed_at: datetime) -> None:
    """Replace the stored result for (kind, subject): a drop re-materialized keeps one row, history is per subject."""
    for stmt in DDL:
        con.execute(stmt)
    con.execute("DELETE FROM drift_results WHERE kind = ? AND subject = ?", [kind, subject])
    con.execute("DELETE FROM drift_dimensions WHERE kind = ? AND subject = ?", [kind, subject])
    con.execute("INSERT INTO drift_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        computed_at, kind, subject, report["baseline_label"], report["current_label"], report["score"],
        report["ci"][0], report["ci"][1], report["verdict"], report["n_baseline"], report["n_current"],
        json.dumps([h["text"] for h in report["hypotheses"]]), json.dumps(report)])
    rows = [[computed_at, kind, subject, d["name"], d["group"], d["test"], d["statistic"], d["p_value"],
             d["p_adjusted"], d["effect"], d["effect_name"], d["score"], d["weight"], d["significant"]]
            for d in report["dimensions"]]
    if rows:
        con.executemany("INSERT INTO drift_dimensions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
