"""Ingest stage: raw_log_drops (the drops in object storage, external), log_entries (drop -> normalized lake Parquet +
quarantine) and log_schema (roles and evolution, in the warehouse)."""

import os

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.core.storage.lake import read_report
from pipeline.partitions import log_drops
from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .metadata import OWNERS, TAGS, absolute_uri, canonical_column_schema, table

PREVIEW_COLUMNS = ["ts", "service", "model", "input", "output", "latency_ms", "status"]

raw_log_drops = dg.AssetSpec(
    "raw_log_drops",
    partitions_def=log_drops,
    group_name="sources",
    kinds={"s3"} if os.environ.get("STRATA_DROPS_URL", "").startswith("s3://") else {"file"},
    owners=OWNERS,
    tags=TAGS,
    description="Raw log drops as they land in object storage (one partition per drop; Strata never writes here). "
                "The new-drop sensor records each drop it finds as an observation (bytes, objects, modified).",
    metadata={"dagster/uri": absolute_uri(os.environ.get("STRATA_DROPS_URL") or "data/drops")},
)


def _preview(preview) -> dg.TableMetadataValue:
    """The first rows, prompts and completions masked: metadata is read by people, PII must not reach it."""
    from pipeline.core.invariants.pii_mask import for_people
    from pipeline.core.report.redact import redact_sample

    rows = preview.select([c for c in PREVIEW_COLUMNS if c in preview.column_names]).to_pylist()
    for r in rows:
        for c in ("input", "output"):
            r[c] = redact_sample(r.get(c))
        r["ts"] = r["ts"].isoformat() if r.get("ts") is not None else None
    return table(for_people(rows), PREVIEW_COLUMNS)  # every cell, not only the texts (ids, services can hold PII)


@dg.asset(
    partitions_def=log_drops,
    group_name="ingest",
    deps=[raw_log_drops],
    kinds={"parquet"},
    owners=OWNERS,
    tags=TAGS,
    code_version="2",
    description="Normalized canonical entries of one log drop, in the lake; rejected records in quarantine.",
)
def log_entries(
    context: dg.AssetExecutionContext,
    object_store: ObjectStoreResource,
    lake: LakeResource,
    strata_config: StrataConfigResource,
) -> dg.MaterializeResult:
    from pipeline.core.ingest.drop_ingest import ingest_drop

    drop = context.partition_key
    objects = object_store.objects_for(drop)
    done = ingest_drop(objects, lake.lake_url, drop, strata_config.get(), object_store.storage_options(), lake.storage_options())
    r = done.result
    context.log.info(f"drop {drop}: kept {r.rows_kept:,} of {r.rows_read:,} rows from {len(objects)} object(s)")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(r.rows_kept),
            "dagster/column_schema": canonical_column_schema(),
            "dagster/uri": absolute_uri(done.written.entries_path),
            "dagster/table_name": "lake_entries",
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
            "preview": _preview(done.preview),
        }
    )


ROLE_COLUMNS = ["role", "path", "confidence", "evidence"]


@dg.asset(
    partitions_def=log_drops,
    group_name="ingest",
    deps=[log_entries],
    kinds={"duckdb"},
    pool="duckdb",
    owners=OWNERS,
    tags=TAGS,
    code_version="2",
    description="Which raw field plays which role in the drop, with confidence and evidence, and schema changes within it.",
)
def log_schema(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource) -> dg.MaterializeResult:
    from pipeline.core.storage.warehouse import record_drop, refresh_lake_views

    drop = context.partition_key
    report = read_report(lake.lake_url, drop, lake.storage_options())
    with warehouse_store(warehouse) as store:
        written = record_drop(store, drop, report)
        refresh_lake_views(store, lake.lake_url)
    roles, changes = written["roles"], written["changes"]
    confidences = [r[4] for r in roles]
    role_rows = [{"role": r[2], "path": r[3], "confidence": float(r[4]), "evidence": str(r[5])}
                 for r in sorted(roles, key=lambda r: r[2])]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(len(roles)),
            "dagster/table_name": "log_schemas",
            "roles_assigned": int(len({r[2] for r in roles})),
            "mean_confidence": float(sum(confidences) / len(confidences)) if confidences else 0.0,
            "schema_changes": int(len(changes)),
            "roles": table(role_rows, ROLE_COLUMNS),
            "changes": table([{"change": c[6]} for c in changes], ["change"]),
            "vendors": dg.MetadataValue.json(report.get("vendors", {})),
        }
    )
