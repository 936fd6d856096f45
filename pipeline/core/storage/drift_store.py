"""Warehouse tables for drift results: one row per comparison (drift_results) and one per dimension (drift_dimensions)."""
from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa

from .store import as_store
from .warehouse import TS, rows_table

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

RESULTS_SCHEMA = pa.schema([("computed_at", TS), ("kind", pa.string()), ("subject", pa.string()),
                            ("baseline_label", pa.string()), ("current_label", pa.string()), ("score", pa.float64()),
                            ("ci_lo", pa.float64()), ("ci_hi", pa.float64()), ("verdict", pa.string()),
                            ("n_baseline", pa.int64()), ("n_current", pa.int64()), ("hypotheses", pa.string()),
                            ("report", pa.string())])
DIMENSIONS_SCHEMA = pa.schema([("computed_at", TS), ("kind", pa.string()), ("subject", pa.string()), ("name", pa.string()),
                               ("dim_group", pa.string()), ("test", pa.string()), ("statistic", pa.float64()),
                               ("p_value", pa.float64()), ("p_adjusted", pa.float64()), ("effect", pa.float64()),
                               ("effect_name", pa.string()), ("score", pa.float64()), ("weight", pa.float64()),
                               ("significant", pa.bool_())])


def store_drift(target, kind: str, subject: str, report: dict, computed_at: datetime) -> None:
    """Replace the stored result for (kind, subject): a drop re-materialized keeps one row, history is per subject."""
    store = as_store(target)
    result = [computed_at, kind, subject, report["baseline_label"], report["current_label"], report["score"],
              report["ci"][0], report["ci"][1], report["verdict"], report["n_baseline"], report["n_current"],
              json.dumps([h["text"] for h in report["hypotheses"]]), json.dumps(report)]
    rows = [[computed_at, kind, subject, d["name"], d["group"], d["test"], d["statistic"], d["p_value"],
             d["p_adjusted"], d["effect"], d["effect_name"], d["score"], d["weight"], d["significant"]]
            for d in report["dimensions"]]
    where = {"kind": kind, "subject": subject}
    store.replace("drift_results", rows_table([result], RESULTS_SCHEMA), where, ddl=DDL[0])
    store.replace("drift_dimensions", rows_table(rows, DIMENSIONS_SCHEMA), where, ddl=DDL[1])
