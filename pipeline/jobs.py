"""Jobs: ingest_job (one drop, through anomalies), learn_job (invariants, suite, baselines), staleness_job (daily check)."""
import dagster as dg

from pipeline.partitions import log_drops

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest") | dg.AssetSelection.assets("anomalies"),
    partitions_def=log_drops,
    description="Normalize one log drop into the lake, record its schema, check it against the invariants, score anomalies.",
)

learn_job = dg.define_asset_job(
    "learn_job",
    selection=dg.AssetSelection.groups("learn"),
    description="Mine invariants and per-segment baselines over the baseline window and regenerate the pytest suite.",
)

staleness_job = dg.define_asset_job(
    "staleness_job",
    selection=dg.AssetSelection.assets("invariant_staleness"),
    description="Check every baseline invariant against the last day of data and store the result.",
)
