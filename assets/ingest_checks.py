"""Per-drop checks on log_entries: parse rate (warn < 99%, error < 90%) and not empty; each result says what it found."""

import dagster as dg

from pipeline.core.storage.lake import read_report
from pipeline.partitions import log_drops
from resources.storage import LakeResource

from .ingest import log_entries

PARSE_RATE_WARN = 0.99
PARSE_RATE_ERROR = 0.90


@dg.asset_check(asset=log_entries, partitions_def=log_drops,
                description="Share of records read that were normalized (warns below 99%, errors below 90%).")
def log_entries_parse_rate(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    report = read_report(lake.lake_url, context.partition_key, lake.storage_options())
    if report.get("parse_rate") is None:  # nothing was read: no rate to judge (log_entries_not_empty speaks)
        return dg.AssetCheckResult(passed=True, metadata={"parse_rate": "n/a", "rows_read": 0, "rows_rejected": 0},
                                   description="Parse rate n/a: nothing was read (log_entries_not_empty judges that).")
    rate, read, rejected = float(report["parse_rate"]), int(report["rows_read"]), int(report["rows_rejected"])
    severity = dg.AssetCheckSeverity.ERROR if rate < PARSE_RATE_ERROR else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=rate >= PARSE_RATE_WARN,
        severity=severity,
        description=f"Parse rate {rate:.2%}: {read - rejected:,} of {read:,} records normalized, {rejected:,} "
                    f"quarantined (warn below {PARSE_RATE_WARN:.0%}, error below {PARSE_RATE_ERROR:.0%}).",
        metadata={
            "parse_rate": rate,
            "rows_read": read,
            "rows_rejected": rejected,
            "reject_reasons": dg.MetadataValue.json(report.get("reject_reasons", {})),
        },
    )


@dg.asset_check(asset=log_entries, partitions_def=log_drops, description="The drop produced at least one entry.")
def log_entries_not_empty(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    report = read_report(lake.lake_url, context.partition_key, lake.storage_options())
    kept = int(report["rows_kept"])
    return dg.AssetCheckResult(
        passed=kept > 0, severity=dg.AssetCheckSeverity.ERROR, metadata={"rows_kept": kept},
        description=f"The drop produced {kept:,} entries." if kept else "The drop produced no entries at all.")
