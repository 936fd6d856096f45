"""The report's anomalies section: counts, the top anomalies by score, and per metric a chart's data (values over
time downsampled to median per time bucket, the baseline band of segment 'all', anomaly markers)."""
from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from ..baselines import METRIC_SQL
from ..detectors.ensemble import UNITS
from ..ingest.normalize import connect
from .values import clean, iso, rows

MAX_CHARTS = 6
TOP_ANOMALIES = 20
MAX_MARKERS = 300  # per chart, the highest |score| first; the chart says how many it leaves out
RATE_BUCKET_SECONDS = 300  # the detectors' default bucket, so rate values match the anomalies' values
# Charted when entries are given, after the metrics that have anomalies (most anomalies first).
DEFAULT_METRICS = ("latency_ms", "completion_tokens", "prompt_tokens", "cost_usd", "output_chars", "error_rate",
                   "request_rate", "tool_calls")
EVENT_METRICS = {"unknown", "new_segment"}  # events, not series: listed among the top anomalies, never charted
_ATTR_KEY = re.compile(r"attr\.([A-Za-z_][A-Za-z0-9_]{0,63})")
_SCORE_DESC = "CASE WHEN isnan(score) THEN NULL ELSE abs(score) END DESC NULLS LAST"


def anomalies_section(con, present: set[str], entries: pa.Table | None, max_points: int) -> dict:
    computed = "anomalies" in present
    counts = _counts(con) if computed else {"total": 0, "by_severity": {}, "by_metric": {}}
    econ = _entries_connection(entries)
    try:
        charts = _charts(con, econ, present, counts["by_metric"], max_points)
    finally:
        if econ is not None:
            econ.close()
    top = rows(con, f"""SELECT drop, ts, segment, metric, value, expected, score, severity, explanation
                        FROM anomalies ORDER BY {_SCORE_DESC}, ts NULLS LAST LIMIT {TOP_ANOMALIES}""") if computed else []
    return {"computed": computed, **counts, "charts": charts, "top": top}


def _counts(con) -> dict:
    by_severity = dict(con.sql("SELECT coalesce(severity, 'unknown'), count(*) FROM anomalies GROUP BY 1 ORDER BY 1"
                               ).fetchall())
    by_metric = dict(con.sql("SELECT coalesce(metric, 'unknown'), count(*) AS n FROM anomalies GROUP BY 1 "
                             "ORDER BY n DESC, 1").fetchall())
    return {"total": int(sum(by_severity.values())), "by_severity": by_severity, "by_metric": by_metric}


def _entries_connection(entries: pa.Table | None):
    if entries is None or entries.num_rows == 0 or "ts" not in entries.column_names:
        return None
    econ = connect()
    econ.register("e", entries)
    return econ


def _charts(con, econ, present: set[str], by_metric: dict, max_points: int) -> list[dict]:
    bands = _bands(con, present)
    candidates = [m for m in by_metric if m not in EVENT_METRICS]
    if econ is not None:
        candidates += [m for m in DEFAULT_METRICS if m not in candidates]
    charts = []
    for metric in candidates:
        series = _series(econ, metric, max_points) if econ is not None else None
        if series is None and not by_metric.get(metric):
            continue
        charts.append({"metric": metric, "unit": UNITS.get(metric, ""), "anomalies": int(by_metric.get(metric, 0)),
                       "series": series or {"ts": [], "value": [], "points_in": 0, "downsampled": False,
                                           "start": None, "end": None},
                       "band": bands.get(metric)})
        if len(charts) == MAX_CHARTS:
            break
    if "anomalies" in present and charts:
        _add_markers(con, charts)
    for chart in charts:
        chart.setdefault("markers", [])
        chart.setdefault("markers_total", 0)
    return charts


def _bands(con, present: set[str]) -> dict[str, dict]:
    """Per metric, the baseline band of segment 'all': p25–p75 with the p50 line, else mean ± 3 std."""
    if "latest_baselines" in present:
        source = "latest_baselines"
    elif "baselines" in present:
        source = "(SELECT * FROM baselines WHERE computed_at = (SELECT max(computed_at) FROM baselines))"
    else:
        return {}
    out = {}
    for r in rows(con, f"SELECT metric, p25, p50, p75, mean, std, count, computed_at FROM {source} WHERE segment = 'all'"):
        if None not in (r["p25"], r["p50"], r["p75"]):
            out[r["metric"]] = {"kind": "iqr", "lo": r["p25"], "mid": r["p50"], "hi": r["p75"],
                                "label": "baseline p25–p75 (band), p50 (line)", "computed_at": r["computed_at"]}
        elif r["mean"] is not None and r["std"] is not None:
            out[r["metric"]] = {"kind": "sigma", "lo": r["mean"] - 3 * r["std"], "mid": r["mean"],
                                "hi": r["mean"] + 3 * r["std"], "label": "baseline mean ± 3σ (band), mean (line)",
                                "computed_at": r["computed_at"]}
    return out


def _value_sql(metric: str) -> str | None:
    """SQL giving (t = epoch microseconds, y) rows of a metric over the entries `e`; None for metrics without one."""
    if metric == "request_rate":
        return (f"SELECT epoch_us(time_bucket(INTERVAL {RATE_BUCKET_SECONDS} SECOND, ts)) AS t, count(*)::DOUBLE AS y "
                "FROM e WHERE ts IS NOT NULL GROUP BY 1")
    if metric == "error_rate":
        return (f"SELECT epoch_us(time_bucket(INTERVAL {RATE_BUCKET_SECONDS} SECOND, ts)) AS t, "
                "avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS y "
                "FROM e WHERE ts IS NOT NULL AND status IS NOT NULL GROUP BY 1")
    if (m := _ATTR_KEY.fullmatch(metric)) is not None:
        expr = (f"TRY_CAST(json_extract_string(CASE WHEN json_valid(attributes) THEN attributes END, '$.{m.group(1)}') "
                "AS DOUBLE)")
    elif metric in METRIC_SQL:
        expr = METRIC_SQL[metric]
    else:
        return None
    return f"SELECT epoch_us(ts) AS t, ({expr})::DOUBLE AS y FROM e WHERE ts IS NOT NULL"


def _series(econ, metric: str, max_points: int) -> dict | None:
    """The metric over time: every point when there are at most `max_points`, else the median of each of
    `max_points` equal time buckets (placed at the mean time of its points)."""
    sql = _value_sql(metric)
    if sql is None:
        return None
    try:
        table = econ.sql(f"""
            WITH v AS ({sql}), f AS (SELECT t, y FROM v WHERE y IS NOT NULL AND isfinite(y)),
            r AS (SELECT min(t) AS lo, max(t) AS hi, count(*) AS n FROM f),
            b AS (SELECT f.t, f.y, r.n, r.lo, r.hi, CASE WHEN r.n <= {max_points} THEN row_number() OVER (ORDER BY f.t)
                         ELSE least({max_points - 1}, floor((f.t - r.lo) * {max_points} / greatest(r.hi - r.lo, 1)))
                         END AS k FROM f, r)
            SELECT make_timestamp(round(avg(t))::BIGINT) AS ts, median(y) AS value, any_value(n) AS n,
                   make_timestamp(any_value(lo)) AS lo, make_timestamp(any_value(hi)) AS hi
            FROM b GROUP BY k ORDER BY ts""").to_arrow_table()
    except duckdb.BinderException:  # the entries lack a column this metric needs
        return None
    if table.num_rows == 0:
        return None
    n = int(table.column("n")[0].as_py())
    return {"ts": [iso(t) for t in table.column("ts").to_pylist()], "value": clean(table.column("value").to_pylist()),
            "points_in": n, "downsampled": n > table.num_rows, "start": iso(table.column("lo")[0].as_py()),
            "end": iso(table.column("hi")[0].as_py())}


def _add_markers(con, charts: list[dict]) -> None:
    """Each chart's anomalies (inside its series' time range when it has one), the highest |score| first, capped."""
    windows, params = [], []
    for chart in charts:
        series = chart["series"]
        if series["ts"]:
            windows.append("(metric = ? AND ts BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ)")
            params += [chart["metric"], series["start"], series["end"]]
        else:
            windows.append("(metric = ?)")
            params.append(chart["metric"])
    found = rows(con, f"""
        SELECT metric, ts, value, score, severity, segment, count(*) OVER (PARTITION BY metric) AS total FROM anomalies
        WHERE ts IS NOT NULL AND value IS NOT NULL AND isfinite(value) AND ({' OR '.join(windows)})
        QUALIFY row_number() OVER (PARTITION BY metric ORDER BY {_SCORE_DESC}, ts) <= {MAX_MARKERS}
        ORDER BY metric, ts""", params)
    by_metric: dict[str, list] = {}
    for r in found:
        by_metric.setdefault(r.pop("metric"), []).append(r)
    for chart in charts:
        markers = by_metric.get(chart["metric"], [])
        chart["markers_total"] = int(markers[0]["total"]) if markers else 0
        chart["markers"] = [{k: v for k, v in m.items() if k != "total"} for m in markers]
