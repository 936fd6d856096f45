"""Ingest stage: log_entries (drop -> normalized lake Parquet + quarantine) and log_schema (roles and evolution)."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.core.ingest.drop_ingest import ingest_drop, preview_markdown
from pipeline.core.storage.lake import read_report
from pipeline.core.storage.warehouse import record_drop, refresh_lake_views
from pipeline.partitions import log_drops
from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource


@dg.asset(
    partitions_def=log_drops,
    group_name="ingest",
    kinds={"parquet"},
    description="Normalized canonical entries of one log drop, in the lake; rejected records in quarantine.",
)
def log_entries(
    context: dg.AssetExecutionContext,
    object_store: ObjectStoreResource,
    lake: LakeResource,
    strata_config: StrataConfigResource,
) -> dg.MaterializeResult:
    drop = context.partition_key
    objects = object_store.objects_for(drop)
    done = ingest_drop(objects, lake.lake_url, drop, strata_config.get(), object_store.storage_options(), lake.storage_options())
    r = done.result
    context.log.info(f"drop {drop}: kept {r.rows_kept:,} of {r.rows_read:,} rows from {len(objects)} object(s)")
    return dg.MaterializeResult(
        metadata={
            "rows_read": int(r.rows_read),
            "rows_kept": int(r.rows_kept),
            "rows_rejected": int(r.rows_rejected),
            "parse_rate": float(r.parse_rate) if r.parse_rate is not None else dg.MetadataValue.text("n/a"),
            "bytes": int(r.bytes_read),
            "objects": int(len(r.sources)),
            "costs_filled": int(r.costs_filled),
            "format": ", ".join(f"{k} x{v}" for k, v in r.formats.items()) or "none",
            "vendor": ", ".join(r.vendors) or "generic",
            "reject_reasons": dg.MetadataValue.json(r.reject_reasons),
            "sampled": bool(r.sample is not None),
            "lake_path": dg.MetadataValue.path(done.written.entries_path),
            "quarantine_path": dg.MetadataValue.path(done.written.quarantine_path),
            "preview": dg.MetadataValue.md(preview_markdown(done.preview)),
        }
    )


def _roles_markdown(roles: list[list]) -> str:
    lines = ["| role | path | confidence | evidence |", "|---|---|---|---|"]
    for _drop, _src, role, path, conf, evidence, _vendor, _at in sorted(roles, key=lambda r: r[2]):
        lines.append(f"| {role} | `{path}` | {conf:.2f} | {str(evidence).replace('|', '/')} |")
    return "\n".join(lines)


@dg.asset(
    partitions_def=log_drops,
    group_name="ingest",
    deps=[log_entries],
    kinds={"duckdb"},
    pool="duckdb",
    description="Which raw field plays which role in the drop, with confidence and evidence, and schema changes within it.",
)
def log_schema(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource) -> dg.MaterializeResult:
    drop = context.partition_key
    report = read_report(lake.lake_url, drop, lake.storage_options())
    with warehouse.get_connection() as con:
        written = record_drop(con, drop, report)
        refresh_lake_views(con, lake.lake_url)
    roles, changes = written["roles"], written["changes"]
    confidences = [r[4] for r in roles]
    return dg.MaterializeResult(
        metadata={
            "roles_assigned": int(len({r[2] for r in roles})),
            "mean_confidence": float(sum(confidences) / len(confidences)) if confidences else 0.0,
            "schema_changes": int(len(changes)),
            "roles": dg.MetadataValue.md(_roles_markdown(roles)),
            "changes": dg.MetadataValue.md("\n".join(f"- {c[6]}" for c in changes) or "none"),
            "vendors": dg.MetadataValue.json(report.get("vendors", {})),
        }
    )
