"""Drift assets: each drop against the baseline window before it (partitioned), and the newest version against the
previous one (or a configured pair); results to the warehouse. Score and CI come first in the metadata, the
per-dimension scores are one table, and a verdict check turns the asset yellow at REVIEW and red at BLOCK. The drift
engine (scipy) is imported inside the assets."""
from datetime import datetime, timezone

import dagster as dg
import pyarrow.compute as pc
from dagster_duckdb import DuckDBResource

from pipeline.core.storage.lake import list_lake_drops, read_entries, read_window
from pipeline.partitions import log_drops
from resources.storage import LakeResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .automation import learn
from .ingest import log_entries
from .metadata import OWNERS, TAGS, table

VERDICT_CHECK = "drift_verdict"
DIMENSION_COLUMNS = ["name", "score", "significant", "group", "test", "effect", "effect_name", "p_adjusted", "n_a", "n_b"]


def _dimension_rows(report: dict) -> list[dict]:
    """One row per dimension, the strongest first (score 0 where the engine had none)."""
    rows = [{**d, "score": float(d.get("score") or 0.0), "significant": bool(d.get("significant"))}
            for d in report["dimensions"]]
    return sorted(rows, key=lambda d: -d["score"])


def _metadata(report: dict) -> dict:
    from pipeline.core.drift.render import to_markdown

    significant = [d for d in report["dimensions"] if d["significant"]]
    return {
        "score": float(report["score"]),
        "ci_lo": float(report["ci"][0]),
        "ci_hi": float(report["ci"][1]),
        "verdict": report["verdict"],
        "significant_dimensions": int(len(significant)),
        "n_baseline": int(report["n_baseline"]),
        "n_current": int(report["n_current"]),
        "dagster/table_name": "drift_results",
        "dimensions": table(_dimension_rows(report), DIMENSION_COLUMNS),
        "summary": dg.MetadataValue.md(to_markdown(report)),
    }


def _skipped(reason: str, n_current: int) -> dict:
    """Not compared: the numeric keys are still there (0), so every run has a point in the UI's plots."""
    return {"score": 0.0, "ci_lo": 0.0, "ci_hi": 0.0, "verdict": "NOT COMPARED", "significant_dimensions": 0,
            "n_baseline": 0, "n_current": int(n_current), "skipped": reason}


def verdict_check(metadata: dict, subject: str) -> dg.AssetCheckResult:
    """PASS passes; REVIEW fails as a warning, BLOCK as an error; nothing to compare against is a warning."""
    verdict = metadata["verdict"]
    if "skipped" in metadata:
        return dg.AssetCheckResult(check_name=VERDICT_CHECK, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   description=f"Not compared: {metadata['skipped']}.",
                                   metadata={"verdict": verdict, "score": 0.0})
    sev = dg.AssetCheckSeverity.ERROR if verdict == "BLOCK" else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=VERDICT_CHECK, passed=verdict == "PASS", severity=sev,
        description=f"{subject}: drift score {metadata['score']:.3f} (95% CI {metadata['ci_lo']:.3f}-"
                    f"{metadata['ci_hi']:.3f}) over {metadata['n_current']:,} entries vs {metadata['n_baseline']:,}, "
                    f"{metadata['significant_dimensions']} significant dimension(s): verdict {verdict}.",
        metadata={"verdict": verdict, "score": float(metadata["score"])})


def _verdict_spec(asset: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(VERDICT_CHECK, asset=asset, description="The drift verdict is PASS (REVIEW warns, "
                                                                      "BLOCK is an error).")]


def same_services(baseline, current):
    """The baseline rows of the services the drop holds (a missing service is its own kind): a billing agent's drop
    is compared with the billing agent's past, not with the support bot's."""
    services = pc.unique(current.column("service"))
    keep = pc.is_in(baseline.column("service"), value_set=services.drop_null())
    if services.null_count:
        keep = pc.or_(pc.fill_null(keep, False), pc.is_null(baseline.column("service")))
    return baseline.filter(pc.fill_null(keep, False))


@dg.asset(partitions_def=log_drops, group_name="monitor", deps=[log_entries], kinds={"duckdb"}, pool="duckdb",
          owners=OWNERS, tags=TAGS, code_version="2", check_specs=_verdict_spec("drop_drift"),
          description="Behavioral drift of the drop against the baseline window before it: score, 95% CI, verdict, why.")
def drop_drift(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
               strata_config: StrataConfigResource):
    metadata = _drop_drift(context.partition_key, lake, warehouse, strata_config)
    yield dg.MaterializeResult(metadata=metadata)
    yield verdict_check(metadata, f"drop {context.partition_key}")


def _drop_drift(drop: str, lake: LakeResource, warehouse: DuckDBResource, strata_config: StrataConfigResource) -> dict:
    from pipeline.core.drift.engine import diff_entries, to_dict
    from pipeline.core.storage.drift_store import store_drift

    opts, cfg = lake.storage_options(), strata_config.get()
    current = read_entries(lake.lake_url, drop, opts)
    first = pc.min(current.column("ts")).as_py() if current.num_rows else None
    others = [d for d in list_lake_drops(lake.lake_url, opts) if d != drop]
    if first is None or not others:
        return _skipped("no earlier data to compare with yet", current.num_rows)
    baseline, window = read_window(lake.lake_url, days=cfg.drift.window_days, drops=others, storage_options=opts,
                                   end=first)
    baseline = same_services(baseline.filter(pc.fill_null(pc.less(baseline.column("ts"), first), False)), current)
    if baseline.num_rows == 0:
        return _skipped(f"no entries of the drop's services in the {cfg.drift.window_days:g} days before "
                        f"{first:%Y-%m-%d %H:%M}", current.num_rows)
    result = diff_entries(baseline, current, cfg.drift, cfg.price_table(),
                          baseline_label=f"{cfg.drift.window_days:g} days before", current_label=drop)
    report = to_dict(result)
    last = pc.max(current.column("ts")).as_py()
    report["current_window"] = {"start": first.isoformat(), "end": last.isoformat()}  # the report plots drops by it
    with warehouse_store(warehouse) as store:
        store_drift(store, "drop", drop, report, datetime.now(timezone.utc))
    return _metadata(report)


@dg.asset(group_name="monitor", deps=[log_entries], kinds={"duckdb"}, pool="duckdb", owners=OWNERS, tags=TAGS,
          code_version="2", automation_condition=learn, check_specs=_verdict_spec("version_drift"),
          description="Behavioral drift of the newest version against the previous one (or drift.baseline/current).")
def version_drift(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
                  strata_config: StrataConfigResource):
    from pipeline.core.drift.engine import diff_entries, split_by, to_dict
    from pipeline.core.storage.drift_store import store_drift

    cfg = strata_config.get()
    entries, _ = read_window(lake.lake_url, days=None, storage_options=lake.storage_options())
    try:
        a, b, base, cur = split_by(entries, cfg.drift.by, cfg.drift.baseline, cfg.drift.current)
    except ValueError as exc:  # one version only, or no such column: nothing to compare, which is not a failure
        context.log.info(str(exc))
        metadata = _skipped(str(exc), entries.num_rows)
        yield dg.MaterializeResult(metadata=metadata)
        yield verdict_check(metadata, "versions")
        return
    result = diff_entries(a, b, cfg.drift, cfg.price_table(), baseline_label=base, current_label=cur)
    report = to_dict(result)
    with warehouse_store(warehouse) as store:
        store_drift(store, "version", f"{base} -> {cur}", report, datetime.now(timezone.utc))
    metadata = _metadata(report)
    yield dg.MaterializeResult(metadata=metadata)
    yield verdict_check(metadata, f"{base} -> {cur}")
