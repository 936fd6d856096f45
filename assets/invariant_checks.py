"""Per-drop asset checks on log_entries, one per invariant family: does the drop keep the baseline's invariants?"""
import dagster as dg

from pipeline.core.storage.invariant_store import baseline_url, markdown_table
from pipeline.core.invariants import check_staleness, load_baseline
from pipeline.core.storage.lake import read_entries
from pipeline.partitions import log_drops
from resources.storage import LakeResource, StrataConfigResource

from .ingest import log_entries

# family -> (check name, blocking, severity when it fails)
FAMILY_CHECKS = {
    "pii": ("log_entries_pii_free", True, dg.AssetCheckSeverity.ERROR),
    "structural": ("log_entries_structure_holds", False, dg.AssetCheckSeverity.WARN),
    "statistical": ("log_entries_statistics_hold", False, dg.AssetCheckSeverity.WARN),
    "relational": ("log_entries_relations_hold", False, dg.AssetCheckSeverity.WARN),
    "semantic": ("log_entries_semantics_hold", False, dg.AssetCheckSeverity.WARN),
    "temporal": ("log_entries_temporal_stable", False, dg.AssetCheckSeverity.WARN),
    "session": ("log_entries_sessions_hold", False, dg.AssetCheckSeverity.WARN),
}


def _family_result(name: str, severity: dg.AssetCheckSeverity, results, rows: int) -> dg.AssetCheckResult:
    counts = {s: sum(r.status == s for r in results) for s in ("holds", "degraded", "violated", "missing")}
    bad = [r.to_dict() for r in results if r.status in ("violated", "degraded")]
    return dg.AssetCheckResult(
        check_name=name,
        passed=counts["violated"] == 0,
        severity=severity,
        metadata={
            "held": int(counts["holds"]),
            "violated": int(counts["violated"]),
            "degraded": int(counts["degraded"]),
            "missing": int(counts["missing"]),
            "rows": int(rows),
            "not_holding": dg.MetadataValue.md(
                markdown_table(bad, ["id", "status", "confidence_then", "confidence_now"]) if bad else "all hold"),
        },
    )


@dg.multi_asset_check(
    name="log_entries_invariant_families",
    specs=[dg.AssetCheckSpec(name, asset=log_entries, partitions_def=log_drops, blocking=blocking,
                             description=f"The drop keeps the baseline's {family} invariants (violated fails the check).")
           for family, (name, blocking, _) in FAMILY_CHECKS.items()],
)
def log_entries_invariant_families(context: dg.AssetCheckExecutionContext, lake: LakeResource,
                                   strata_config: StrataConfigResource):
    """One step per drop: the baseline and the drop are read once, every family's check comes out of one pass."""
    cfg = strata_config.get().invariants
    try:
        baseline = load_baseline(baseline_url(lake.artifacts_url), lake.storage_options())
    except FileNotFoundError:
        for name, _, _ in FAMILY_CHECKS.values():
            yield dg.AssetCheckResult(check_name=name, passed=True,
                                      metadata={"note": "no baseline mined yet", "held": 0, "violated": 0})
        return
    entries = read_entries(lake.lake_url, context.partition_key, lake.storage_options())
    # window-length-dependent invariants (returning users) are not comparable on a single drop
    usable = [i for i in baseline if i.family in FAMILY_CHECKS and not i.window_dependent]
    results = check_staleness(usable, entries, degraded_pp=cfg.degraded_pp, violated_pp=cfg.violated_pp)
    for family, (name, _, severity) in FAMILY_CHECKS.items():
        yield _family_result(name, severity, [r for r in results if r.family == family], entries.num_rows)


family_checks = [log_entries_invariant_families]
