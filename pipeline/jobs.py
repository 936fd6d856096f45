"""Jobs: ingest_job (one drop, through anomalies and drift), learn_job (invariants, suite, baselines, version drift),
staleness_job (daily check, then the report), publish_job (the report alone), checks_job (re-evaluate a drop's checks
against the current baseline, no re-ingest). All run in process (the Definitions' executor): no per-step subprocess.
The daily order itself is declarative (assets/automation.py); these jobs are for launching by hand and for the demo."""
import dagster as dg

from pipeline.partitions import log_drops

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest") | dg.AssetSelection.assets("anomalies", "drop_drift"),
    executor_def=dg.in_process_executor,
    tags={"strata/job": "ingest"},
    description="Normalize one log drop into the lake, record its schema, check it against the invariants, score "
                "anomalies and drift against the baseline window. One process, no per-step start; one run per "
                "service at a time (run queue limit on the strata/service tag).",
)

learn_job = dg.define_asset_job(
    "learn_job",
    selection=dg.AssetSelection.groups("learn") | dg.AssetSelection.assets("version_drift"),
    executor_def=dg.in_process_executor,
    description="Mine invariants and per-segment baselines over the baseline window, regenerate the pytest suite and "
                "diff the newest version against the previous one.",
)

staleness_job = dg.define_asset_job(
    "staleness_job",
    selection=dg.AssetSelection.assets("invariant_staleness") | dg.AssetSelection.groups("publish"),
    executor_def=dg.in_process_executor,
    description="Check every baseline invariant against the last day of data, store the result and publish the report.",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.groups("publish"),
    executor_def=dg.in_process_executor,
    description="Rewrite the team report (HTML, Markdown, JSON) from what the warehouse holds now.",
)

checks_job = dg.define_asset_job(
    "checks_job",
    selection=dg.AssetSelection.checks_for_assets("log_entries"),
    partitions_def=log_drops,  # a checks-only selection has no asset to infer the partitioning from
    executor_def=dg.in_process_executor,
    description="Re-evaluate one drop's checks (parse rate, invariant families) against the current baseline, "
                "without ingesting it again: after the first learn, the demo runs it for the drops ingested before.",
)
