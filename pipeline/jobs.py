"""Jobs: ingest_job (one drop, through anomalies and drift), learn_job (invariants, suite, baselines, version drift),
staleness_job (daily check, then the report), publish_job (the report alone)."""
import dagster as dg

from pipeline.partitions import log_drops

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest") | dg.AssetSelection.assets("anomalies", "drop_drift"),
    partitions_def=log_drops,
    description="Normalize one log drop into the lake, record its schema, check it against the invariants, score "
                "anomalies and drift against the baseline window.",
)

learn_job = dg.define_asset_job(
    "learn_job",
    selection=dg.AssetSelection.groups("learn") | dg.AssetSelection.assets("version_drift"),
    description="Mine invariants and per-segment baselines over the baseline window, regenerate the pytest suite and "
                "diff the newest version against the previous one.",
)

staleness_job = dg.define_asset_job(
    "staleness_job",
    selection=dg.AssetSelection.assets("invariant_staleness") | dg.AssetSelection.groups("publish"),
    description="Check every baseline invariant against the last day of data, store the result and publish the report.",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.groups("publish"),
    description="Rewrite the team report (HTML, Markdown, JSON) from what the warehouse holds now.",
)
