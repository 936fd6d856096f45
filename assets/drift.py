"""Drift assets: each drop against the baseline window before it (partitioned), and the newest version against the
previous one (or a configured pair); results to the warehouse, score/CI/dimensions as numeric metadata."""
from datetime import datetime, timezone

import dagster as dg
import pyarrow.compute as pc
from dagster_duckdb import DuckDBResource

from pipeline.core.drift.engine import diff_entries, split_by, to_dict
from pipeline.core.drift.render import to_markdown
from pipeline.core.storage.drift_store import store_drift
from pipeline.core.storage.lake import list_lake_drops, read_entries, read_window
from pipeline.partitions import log_drops
from resources.storage import LakeResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .ingest import log_entries


def _metadata(report: dict) -> dict:
    significant = [d for d in report["dimensions"] if d["significant"]]
    return {
        "score": float(report["score"]),
        "ci_lo": float(report["ci"][0]),
        "ci_hi": float(report["ci"][1]),
        "verdict": report["verdict"],
        "significant_dimensions": int(len(significant)),
        "n_baseline": int(report["n_baseline"]),
        "n_current": int(report["n_current"]),
        **{f"dim_{d['name']}": float(d["score"] or 0.0) for d in report["dimensions"]},
        "summary": dg.MetadataValue.md(to_markdown(report)),
    }


def same_services(baseline, current):
    """The baseline rows of the services the drop holds (a missing service is its own kind): a billing agent's drop
    is compared with the billing agent's past, not with the support bot's."""
    services = pc.unique(current.column("service"))
    keep = pc.is_in(baseline.column("service"), value_set=services.drop_null())
    if services.null_count:
        keep = pc.or_(pc.fill_null(keep, False), pc.is_null(baseline.column("service")))
    return baseline.filter(pc.fill_null(keep, False))


@dg.asset(partitions_def=log_drops, group_name="monitor", deps=[log_entries], kinds={"duckdb"}, pool="duckdb",
          description="Behavioral drift of the drop against the baseline window before it: score, 95% CI, verdict, why.")
def drop_drift(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
               strata_config: StrataConfigResource) -> dg.MaterializeResult:
    drop, opts, cfg = context.partition_key, lake.storage_options(), strata_config.get()
    current = read_entries(lake.lake_url, drop, opts)
    first = pc.min(current.column("ts")).as_py() if current.num_rows else None
    others = [d for d in list_lake_drops(lake.lake_url, opts) if d != drop]
    if first is None or not others:
        return dg.MaterializeResult(metadata={"skipped": "no earlier data to compare with yet",
                                              "n_current": int(current.num_rows)})
    baseline, window = read_window(lake.lake_url, days=cfg.drift.window_days, drops=others, storage_options=opts,
                                   end=first)
    baseline = same_services(baseline.filter(pc.fill_null(pc.less(baseline.column("ts"), first), False)), current)
    if baseline.num_rows == 0:
        return dg.MaterializeResult(metadata={"skipped": f"no entries of the drop's services in the "
                                                         f"{cfg.drift.window_days:g} days before {first:%Y-%m-%d %H:%M}",
                                                         "n_current": int(current.num_rows)})
    result = diff_entries(baseline, current, cfg.drift, cfg.price_table(),
                          baseline_label=f"{cfg.drift.window_days:g} days before", current_label=drop)
    report = to_dict(result)
    last = pc.max(current.column("ts")).as_py()
    report["current_window"] = {"start": first.isoformat(), "end": last.isoformat()}  # the report plots drops by it
    with warehouse_store(warehouse) as store:
        store_drift(store, "drop", drop, report, datetime.now(timezone.utc))
    return dg.MaterializeResult(metadata=_metadata(report))


@dg.asset(group_name="monitor", deps=[log_entries], kinds={"duckdb"}, pool="duckdb",
          description="Behavioral drift of the newest version against the previous one (or drift.baseline/current).")
def version_drift(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
                  strata_config: StrataConfigResource) -> dg.MaterializeResult:
    cfg = strata_config.get()
    entries, _ = read_window(lake.lake_url, days=None, storage_options=lake.storage_options())
    try:
        a, b, base, cur = split_by(entries, cfg.drift.by, cfg.drift.baseline, cfg.drift.current)
    except ValueError as exc:  # one version only, or no such column: nothing to compare, which is not a failure
        context.log.info(str(exc))
        return dg.MaterializeResult(metadata={"skipped": str(exc)})
    result = diff_entries(a, b, cfg.drift, cfg.price_table(), baseline_label=base, current_label=cur)
    report = to_dict(result)
    with warehouse_store(warehouse) as store:
        store_drift(store, "version", f"{base} -> {cur}", report, datetime.now(timezone.utc))
    return dg.MaterializeResult(metadata=_metadata(report))
