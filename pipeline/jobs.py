"""Jobs: ingest_job materializes one drop's ingest stage (log_entries, log_schema and their checks)."""
import dagster as dg

from pipeline.partitions import log_drops

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest"),
    partitions_def=log_drops,
    description="Normalize one log drop into the lake and record its schema.",
)
