"""Per-segment baselines: count, mean, std, median, MAD, quantiles, IQR and a histogram per metric, in one DuckDB pass."""
from __future__ import annotations

import json

import pyarrow as pa

from .ingest.normalize import connect

# metric -> SQL over canonical entries (names match the detectors' metrics where both exist)
METRIC_SQL = {
    "latency_ms": "latency_ms::DOUBLE",
    "prompt_tokens": "prompt_tokens::DOUBLE",
    "completion_tokens": "completion_tokens::DOUBLE",
    "cost_usd": "cost_usd",
    "output_chars": "length(output)::DOUBLE",
    "error": "CASE WHEN status IS NULL THEN NULL WHEN status = 'error' THEN 1.0 ELSE 0.0 END",
    "tool_calls": "len(tool_calls)::DOUBLE",
    "latency_per_token_ms": "CASE WHEN completion_tokens > 0 THEN latency_ms::DOUBLE / completion_tokens END",
}
SEGMENT_COLUMNS = ("service", "model", "version")
HISTOGRAM_BINS = 20
MAX_ATTRIBUTE_METRICS = 10


def numeric_attributes(con, table: str = "e", min_share: float = 0.95, min_rows: int = 20,
                       limit: int = MAX_ATTRIBUTE_METRICS) -> list[str]:
    """Top-level keys of the raw fields kept in `attributes` that are numbers in at least `min_share` of the
    entries that have them (a field the schema found but no role took: queue_ms, retries, score...). Keys are
    plain identifiers only, so they are safe as JSON paths and column names."""
    rows = con.sql(f"""
        WITH k AS (SELECT attributes AS a, unnest(json_keys(attributes)) AS key FROM {table}
                   WHERE attributes IS NOT NULL AND json_valid(attributes) AND json_type(attributes) = 'OBJECT')
        SELECT key, count(*) FILTER (WHERE json_type(a, '$.' || key) IN ('BIGINT', 'UBIGINT', 'DOUBLE')) AS numeric,
               count(*) AS n
        FROM k WHERE regexp_full_match(key, '[A-Za-z_][A-Za-z0-9_]{{0,63}}')
        GROUP BY key HAVING numeric >= {min_rows} AND numeric >= {min_share} * n
        ORDER BY numeric DESC, key LIMIT {limit}""").fetchall()
    return [r[0] for r in rows]


def _attribute_sql(key: str) -> str:
    return (f"TRY_CAST(json_extract_string(CASE WHEN json_valid(attributes) THEN attributes END, '$.{key}') "
            "AS DOUBLE)")


def segment_sql(columns=SEGMENT_COLUMNS) -> str:
    """The segment key as text, e.g. `support-bot|gpt-4o|v2` (a missing part is `-`), as the detectors key segments."""
    return " || '|' || ".join(f"coalesce({c}, '-')" for c in columns)


def compute_baselines(entries: pa.Table, segment_columns=SEGMENT_COLUMNS, bins: int = HISTOGRAM_BINS) -> pa.Table:
    """One row per (segment, metric), plus the segment `all`; histogram = equal-width counts between min and max.
    Metrics: the canonical ones, plus `attr.<key>` for each numeric field left in `attributes`."""
    con = connect()
    con.register("e", entries)
    metric_sql = dict(METRIC_SQL)
    if "attributes" in entries.column_names:
        metric_sql.update({f"attr.{k}": _attribute_sql(k) for k in numeric_attributes(con)})
    values = ", ".join(f'{sql} AS "{name}"' for name, sql in metric_sql.items())
    seg = segment_sql(segment_columns)
    con.execute(f"""
        CREATE TEMP TABLE v AS
        UNPIVOT (SELECT {seg} AS segment, {values} FROM e UNION ALL BY NAME SELECT 'all' AS segment, {values} FROM e)
        ON {', '.join(f'"{m}"' for m in metric_sql)} INTO NAME metric VALUE value""")
    stats = con.sql(f"""
        WITH s AS (
            SELECT segment, metric, count(*) AS n, avg(value) AS mean, stddev_samp(value) AS std,
                   median(value) AS median, quantile_cont(value, [0.25, 0.5, 0.75, 0.95, 0.99]) AS q,
                   min(value) AS lo, max(value) AS hi
            FROM v GROUP BY ALL),
        d AS (
            SELECT v.segment, v.metric, median(abs(v.value - s.median)) AS mad,
                   histogram(least({bins - 1}, floor((v.value - s.lo) / nullif(s.hi - s.lo, 0) * {bins}))::INT) AS h
            FROM v JOIN s USING (segment, metric) GROUP BY ALL)
        SELECT s.segment, s.metric, s.n AS count, s.mean, coalesce(s.std, 0) AS std, s.median, d.mad,
               s.q[1] AS p25, s.q[2] AS p50, s.q[3] AS p75, s.q[4] AS p95, s.q[5] AS p99, s.q[3] - s.q[1] AS iqr,
               s.lo AS min, s.hi AS max, d.h AS hist
        FROM s JOIN d USING (segment, metric) ORDER BY s.segment, s.metric""").fetchall()
    cols = ["segment", "metric", "count", "mean", "std", "median", "mad", "p25", "p50", "p75", "p95", "p99", "iqr",
            "min", "max"]
    rows = {c: [r[i] for r in stats] for i, c in enumerate(cols)}
    rows["histogram"] = [json.dumps([int((r[-1] or {}).get(b, 0)) for b in range(bins)]) for r in stats]
    return pa.table(rows)


DDL = """CREATE TABLE IF NOT EXISTS baselines (
    computed_at TIMESTAMPTZ, window_start VARCHAR, window_end VARCHAR, segment VARCHAR, metric VARCHAR, count BIGINT,
    mean DOUBLE, std DOUBLE, median DOUBLE, mad DOUBLE, p25 DOUBLE, p50 DOUBLE, p75 DOUBLE, p95 DOUBLE, p99 DOUBLE,
    iqr DOUBLE, min DOUBLE, max DOUBLE, histogram VARCHAR)"""


def store_baselines(target, table: pa.Table, window: dict, computed_at, token: str | None = None) -> int:
    """Append (history is kept, so baselines are comparable across days) through the warehouse store (`target`: a
    store or a DuckDB connection); `token` (the run id) makes a retried step a no-op. `latest_baselines` shows the
    newest set (a view in the DuckDB file; the Delta store's reader recreates it)."""
    from datetime import timezone

    from .storage.store import as_store

    store = as_store(target)
    n = table.num_rows
    at = computed_at if computed_at.tzinfo else computed_at.replace(tzinfo=timezone.utc)
    start, end = (None if window.get(k) is None else str(window[k]) for k in ("start", "end"))
    head = {"computed_at": pa.array([at] * n, pa.timestamp("us", tz="UTC")),
            "window_start": pa.array([start] * n, pa.string()),
            "window_end": pa.array([end] * n, pa.string())}
    # an empty window computes columns of Arrow's null type, which Delta cannot store: give them the DDL's types
    text, whole = ("segment", "metric", "histogram"), ("count",)
    cols = {c: table.column(c) if table.column(c).type != pa.null() else table.column(c).cast(
        pa.string() if c in text else pa.int64() if c in whole else pa.float64()) for c in table.column_names}
    rows = pa.table({**head, **cols})
    store.append("baselines", rows, token=token, ddl=DDL)
    if store.kind == "duckdb":
        store.con.execute("CREATE OR REPLACE VIEW latest_baselines AS SELECT * FROM baselines "
                          "WHERE computed_at = (SELECT max(computed_at) FROM baselines)")
    return n
