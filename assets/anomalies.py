"""Baselines per segment and metric (learn), and anomalies per drop with detector state carried from drop to drop,
with a check that turns red on critical anomalies. The detectors (scipy, numba) are imported inside the assets, so
loading the code location stays fast."""
from collections import Counter
from datetime import datetime, timezone

import dagster as dg
import fsspec
from dagster_duckdb import DuckDBResource

from pipeline.core.storage.lake import read_entries, read_window
from pipeline.partitions import drop_service, log_drops
from resources.storage import LakeResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .automation import learn
from .ingest import log_entries
from .metadata import OWNERS, TAGS, table

# every metric the detectors score; each gets a metric_* key on every run (0 when none), so the UI plots a line
ANOMALY_METRICS = ("latency_ms", "prompt_tokens", "completion_tokens", "cost_usd", "output_chars", "tool_calls",
                   "output_semantic", "request_rate", "error_rate", "branch_rate")
CRITICAL_CHECK = "no_critical_anomalies"


@dg.asset(group_name="learn", deps=[log_entries], kinds={"duckdb"}, pool="duckdb", owners=OWNERS, tags=TAGS,
          code_version="2", automation_condition=learn,
          description="Per segment (service x model x version) and metric: count, mean, std, median, MAD, quantiles, IQR, histogram.")
def baselines(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
              strata_config: StrataConfigResource) -> dg.MaterializeResult:
    from pipeline.core.baselines import compute_baselines, store_baselines

    entries, window = read_window(lake.lake_url, days=strata_config.get().invariants.window_days,
                                  storage_options=lake.storage_options())
    table_ = compute_baselines(entries)
    with warehouse_store(warehouse) as store:
        store_baselines(store, table_, window, datetime.now(timezone.utc), token=context.run_id)
    overall = [r for r in table_.to_pylist() if r["segment"] == "all"]
    p95 = {r["metric"]: float(r["p95"]) for r in overall if r["p95"] is not None}
    return dg.MaterializeResult(metadata={
        "dagster/row_count": int(table_.num_rows),
        "dagster/table_name": "baselines",
        "rows": int(window["rows"]),
        "segments": int(len(set(table_.column("segment").to_pylist())) - 1),
        "baselines": int(table_.num_rows),
        **{f"p95_{m}": p95.get(m, 0.0) for m in ANOMALY_METRICS[:6]},
        "overall": table(overall, ["metric", "count", "median", "mad", "p95", "p99"]),
    })


def state_url(artifacts_url: str, drop: str) -> str:
    import urllib.parse

    return f"{artifacts_url.rstrip('/')}/detector_state/drop={urllib.parse.quote(drop, safe='')}.json"


def previous_state(context, lake: LakeResource, drop: str) -> tuple[dict | None, str | None]:
    """State saved after the nearest earlier drop of the same service (in partition order) that has one; None means
    a fresh warm-up. Runs of one service are serialized oldest first (the run queue's strata/service limit), so that
    drop has finished; drops of other services, which may run beside this one, are never read."""
    from pipeline.core.detectors import loads_state

    keys = context.instance.get_dynamic_partitions(log_drops.name)
    service = drop_service(drop)
    earlier = [k for k in (keys[: keys.index(drop)] if drop in keys else []) if drop_service(k) == service]
    opts = lake.storage_options()
    for key in reversed(earlier):
        fs, path = fsspec.core.url_to_fs(state_url(lake.artifacts_url, key), **opts)
        if fs.exists(path):
            try:
                return loads_state(fs.cat_file(path).decode("utf-8")), key
            except ValueError as exc:  # unreadable (written before writes were atomic): resume from the one before
                context.log.warning(f"detector state of drop {key} is unreadable ({exc}); trying an earlier drop")
    return None, None


def _baseline_state(warehouse: DuckDBResource) -> tuple[dict | None, str | None]:
    """No earlier drop has state: prime the detectors from the newest stored baselines, when there are any."""
    from pipeline.core.detectors.priming import primed_state

    with warehouse.get_connection() as con:
        if not con.sql("SELECT 1 FROM duckdb_views() WHERE view_name = 'latest_baselines'").fetchall():
            return None, None
        rows = con.sql("SELECT * FROM latest_baselines").to_arrow_table().to_pylist()
    state = primed_state(rows)
    if not state:
        return None, None
    return state, f"baselines computed {rows[0]['computed_at']:%Y-%m-%d %H:%M} UTC"


def critical_check(sev: Counter, entries: int, top: list[dict]) -> dg.AssetCheckResult:
    crit = int(sev.get("critical", 0))
    where = "; worst: " + ", ".join(f"{r['metric']} in {r['segment']} ({r['score']:+.1f} sigma)" for r in top[:3]) \
        if crit else ""
    return dg.AssetCheckResult(
        check_name=CRITICAL_CHECK, passed=crit == 0, severity=dg.AssetCheckSeverity.ERROR,
        description=f"{entries:,} entries scored against their past: {crit} critical and "
                    f"{int(sev.get('warning', 0))} warning anomalies{where}.",
        metadata={"critical": crit, "warning": int(sev.get("warning", 0)), "entries": int(entries)})


@dg.asset(partitions_def=log_drops, group_name="monitor", deps=[log_entries, "baselines"], kinds={"duckdb"},
          pool="duckdb", owners=OWNERS, tags=TAGS, code_version="2",
          check_specs=[dg.AssetCheckSpec(CRITICAL_CHECK, asset="anomalies",
                                         description="The drop has no critical anomaly (any fails it as an error).")],
          description="Anomalies in the drop: every metric of every segment scored against the past only, in sigma "
                      "units; detectors resume from the previous drop's state, or are primed from the baselines.")
def anomalies(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource):
    import pyarrow.compute as pc

    from pipeline.core.detectors import detect_anomalies, dumps_state
    from pipeline.core.storage.anomaly_store import store_anomalies
    from pipeline.core.storage.atomic_file import write_text_atomic

    drop = context.partition_key
    entries = read_entries(lake.lake_url, drop, lake.storage_options())
    entries = entries.take(pc.sort_indices(entries, [("ts", "ascending"), ("line", "ascending")]))
    state, state_from = previous_state(context, lake, drop)
    if state is None:
        state, state_from = _baseline_state(warehouse)
    found, new_state = detect_anomalies(entries, state)
    # atomic: a crash mid-write must not leave the next drop a truncated state to resume from
    write_text_atomic(state_url(lake.artifacts_url, drop), dumps_state(new_state), lake.storage_options())
    with warehouse_store(warehouse) as store:
        store_anomalies(store, drop, found)
    rows = found.to_pylist()
    for r in rows:
        r["ts"] = r["ts"].isoformat() if r.get("ts") is not None else None
    sev, by_metric = Counter(r["severity"] for r in rows), Counter(r["metric"] for r in rows)
    top = sorted(rows, key=lambda r: -abs(r["score"]))
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": int(len(rows)),
        "dagster/table_name": "anomalies",
        "entries": int(entries.num_rows),
        "anomalies": int(len(rows)),
        "critical": int(sev.get("critical", 0)),
        "warning": int(sev.get("warning", 0)),
        **{f"metric_{m}": int(by_metric.get(m, 0)) for m in sorted(set(ANOMALY_METRICS) | set(by_metric))},
        "state_from": state_from or "fresh (warm-up)",
        "top": table(top, ["ts", "line", "segment", "metric", "score", "severity", "explanation"]),
    })
    yield critical_check(sev, int(entries.num_rows), top)
