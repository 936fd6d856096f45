"""Per-drop asset checks on log_entries, one per invariant family: does the drop keep the baseline's invariants?

Honest by construction: before any baseline is mined nothing is compared, and every check reports exactly that as a
warning (never a green pass); a family the baseline holds no invariant of is skipped (Dagster shows it as skipped).
Each result's description says what was checked and what was found."""
import dagster as dg

from pipeline.core.storage.invariant_store import baseline_url
from pipeline.core.storage.lake import read_entries
from pipeline.partitions import log_drops
from resources.storage import LakeResource, StrataConfigResource

from .ingest import log_entries
from .invariants import invariants
from .metadata import table

# family -> (check name, blocking, severity when it fails). None is blocking: the checks read the invariants baseline
# (declared, additional_deps), and invariants is downstream of log_entries, so a blocking check would be a cycle. A
# PII leak still fails as an ERROR, which Dagster's alerting and the asset health view see.
FAMILY_CHECKS = {
    "pii": ("log_entries_pii_free", False, dg.AssetCheckSeverity.ERROR),
    "structural": ("log_entries_structure_holds", False, dg.AssetCheckSeverity.WARN),
    "statistical": ("log_entries_statistics_hold", False, dg.AssetCheckSeverity.WARN),
    "relational": ("log_entries_relations_hold", False, dg.AssetCheckSeverity.WARN),
    "semantic": ("log_entries_semantics_hold", False, dg.AssetCheckSeverity.WARN),
    "temporal": ("log_entries_temporal_stable", False, dg.AssetCheckSeverity.WARN),
    "session": ("log_entries_sessions_hold", False, dg.AssetCheckSeverity.WARN),
}
STATUSES = ("holds", "degraded", "violated", "missing")
NO_BASELINE = "Not checked: no invariant baseline has been mined yet (run learn_job); nothing was compared."


def _family_result(family: str, name: str, severity: dg.AssetCheckSeverity, results, rows: int) -> dg.AssetCheckResult:
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    bad = [r.to_dict() for r in results if r.status in ("violated", "degraded")]
    found = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "none"
    worst = "; violated: " + ", ".join(r["id"] for r in bad if r["status"] == "violated")[:300] if counts["violated"] else ""
    return dg.AssetCheckResult(
        check_name=name,
        passed=counts["violated"] == 0,
        severity=severity,
        description=f"{len(results)} baseline {family} invariant(s) checked on {rows:,} entries: {found}{worst}.",
        metadata={
            "checked": int(len(results)),
            "held": int(counts["holds"]),
            "violated": int(counts["violated"]),
            "degraded": int(counts["degraded"]),
            "missing": int(counts["missing"]),
            "rows": int(rows),
            "not_holding": table(bad, ["id", "status", "confidence_then", "confidence_now"]),
        },
    )


@dg.multi_asset_check(
    name="log_entries_invariant_families",
    can_subset=True,
    specs=[dg.AssetCheckSpec(name, asset=log_entries, partitions_def=log_drops, blocking=blocking,
                             additional_deps=[invariants],
                             description=f"The drop keeps the baseline's {family} invariants (violated fails the check; "
                                         "reports 'not checked' as a warning until a baseline exists).")
           for family, (name, blocking, _) in FAMILY_CHECKS.items()],
)
def log_entries_invariant_families(context: dg.AssetCheckExecutionContext, lake: LakeResource,
                                   strata_config: StrataConfigResource):
    """One step per drop: the baseline and the drop are read once, every family's check comes out of one pass."""
    from pipeline.core.invariants import check_staleness, load_baseline

    cfg = strata_config.get().invariants
    selected = {key.name for key in context.selected_asset_check_keys}
    try:
        baseline = load_baseline(baseline_url(lake.artifacts_url), lake.storage_options())
    except FileNotFoundError:
        for name, _, _ in FAMILY_CHECKS.values():
            if name in selected:
                yield dg.AssetCheckResult(check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                          description=NO_BASELINE,
                                          metadata={"note": "no baseline mined yet", "checked": 0, "held": 0,
                                                    "violated": 0, "degraded": 0, "missing": 0})
        return
    entries = read_entries(lake.lake_url, context.partition_key, lake.storage_options())
    # window-length-dependent invariants (returning users) are not comparable on a single drop
    usable = [i for i in baseline if i.family in FAMILY_CHECKS and not i.window_dependent]
    results = check_staleness(usable, entries, degraded_pp=cfg.degraded_pp, violated_pp=cfg.violated_pp)
    for family, (name, blocking, severity) in FAMILY_CHECKS.items():
        mine = [r for r in results if r.family == family]
        if name not in selected:
            continue
        if not mine and (blocking or family == "pii"):  # PII always reports: a warning, never a pass or a gap
            yield dg.AssetCheckResult(check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                      description=f"Not checked: the baseline holds no {family} invariant usable on "
                                                  "one drop; nothing was compared.",
                                      metadata={"checked": 0, "rows": int(entries.num_rows)})
            continue
        if not mine:  # nothing of this family to compare: skipped, not passed
            context.log.info(f"{name}: the baseline holds no {family} invariant usable on one drop; skipped")
            continue
        yield _family_result(family, name, severity, mine, entries.num_rows)


family_checks = [log_entries_invariant_families]
