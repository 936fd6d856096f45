"""Baselines per segment and metric (learn), and anomalies per drop with detector state carried from drop to drop."""
from collections import Counter
from datetime import datetime, timezone

import dagster as dg
import fsspec
import pyarrow.compute as pc
from dagster_duckdb import DuckDBResource

from pipeline.core.storage.anomaly_store import store_anomalies
from pipeline.core.baselines import compute_baselines, store_baselines
from pipeline.core.detectors import detect_anomalies, dumps_state, loads_state
from pipeline.core.detectors.priming import primed_state
from pipeline.core.storage.invariant_store import markdown_table
from pipeline.core.storage.lake import read_entries, read_window
from pipeline.partitions import log_drops
from resources.storage import LakeResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .ingest import log_entries


@dg.asset(group_name="learn", deps=[log_entries], kinds={"duckdb"}, pool="duckdb",
          description="Per segment (service x model x version) and metric: count, mean, std, median, MAD, quantiles, IQR, histogram.")
def baselines(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
              strata_config: StrataConfigResource) -> dg.MaterializeResult:
    entries, window = read_window(lake.lake_url, days=strata_config.get().invariants.window_days,
                                  storage_options=lake.storage_options())
    table = compute_baselines(entries)
    with warehouse.get_connection() as con:
        store_baselines(con, table, window, datetime.now(timezone.utc))
    overall = [r for r in table.to_pylist() if r["segment"] == "all"]
    return dg.MaterializeResult(metadata={
        "rows": int(window["rows"]),
        "segments": int(len(set(table.column("segment").to_pylist())) - 1),
        "baselines": int(table.num_rows),
        **{f"p95_{r['metric']}": float(r["p95"]) for r in overall if r["p95"] is not None},
        "overall": dg.MetadataValue.md(markdown_table(overall, ["metric", "count", "median", "mad", "p95", "p99"])),
    })


def _state_url(artifacts_url: str, drop: str) -> str:
    import urllib.parse

    return f"{artifacts_url.rstrip('/')}/detector_state/drop={urllib.parse.quote(drop, safe='')}.json"


def _previous_state(context, lake: LakeResource, drop: str) -> tuple[dict | None, str | None]:
    """State saved after the nearest earlier drop (in partition order) that has one; None means a fresh warm-up."""
    keys = context.instance.get_dynamic_partitions(log_drops.name)
    earlier = keys[: keys.index(drop)] if drop in keys else []
    opts = lake.storage_options()
    for key in reversed(earlier):
        fs, path = fsspec.core.url_to_fs(_state_url(lake.artifacts_url, key), **opts)
        if fs.exists(path):
            with fs.open(path, "r") as f:
                return loads_state(f.read()), key
    return None, None


def _baseline_state(warehouse: DuckDBResource) -> tuple[dict | None, str | None]:
    """No earlier drop has state: prime the detectors from the newest stored baselines, when there are any."""
    with warehouse.get_connection() as con:
        if not con.sql("SELECT 1 FROM duckdb_views() WHERE view_name = 'latest_baselines'").fetchall():
            return None, None
        rows = con.sql("SELECT * FROM latest_baselines").to_arrow_table().to_pylist()
    state = primed_state(rows)
    if not state:
        return None, None
    return state, f"baselines computed {rows[0]['computed_at']:%Y-%m-%d %H:%M} UTC"


@dg.asset(partitions_def=log_drops, group_name="monitor", deps=[log_entries], kinds={"duckdb"}, pool="duckdb",
          description="Anomalies in the drop: every metric of every segment scored against the past only, in sigma units.")
def anomalies(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource) -> dg.MaterializeResult:
    drop = context.partition_key
    entries = read_entries(lake.lake_url, drop, lake.storage_options())
    entries = entries.take(pc.sort_indices(entries, [("ts", "ascending"), ("line", "ascending")]))
    state, state_from = _previous_state(context, lake, drop)
    if state is None:
        state, state_from = _baseline_state(warehouse)
    found, new_state = detect_anomalies(entries, state)
    fs, path = fsspec.core.url_to_fs(_state_url(lake.artifacts_url, drop), **lake.storage_options())
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    with fs.open(path, "w") as f:
        f.write(dumps_state(new_state))
    with warehouse_store(warehouse) as store:
        store_anomalies(store, drop, found)
    rows = found.to_pylist()
    sev, by_metric = Counter(r["severity"] for r in rows), Counter(r["metric"] for r in rows)
    top = sorted(rows, key=lambda r: -abs(r["score"]))[:15]
    return dg.MaterializeResult(metadata={
        "entries": int(entries.num_rows),
        "anomalies": int(len(rows)),
        "critical": int(sev.get("critical", 0)),
        "warning": int(sev.get("warning", 0)),
        **{f"metric_{m}": int(n) for m, n in by_metric.items()},
        "state_from": state_from or "fresh (warm-up)",
        "top": dg.MetadataValue.md(markdown_table(top, ["ts", "line", "segment", "metric", "score", "severity", "explanation"])
                                   if top else "none"),
    })
