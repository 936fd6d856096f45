"""Learn and monitor invariants: mine them over the baseline window, check their staleness daily (with a check that
turns red on violated invariants), emit the pytest suite. Heavy modules are imported inside the assets."""
from collections import Counter

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.core.storage.invariant_store import baseline_url, record_staleness, save_invariants, suite_url
from pipeline.core.storage.lake import last_days, read_window
from resources.storage import LakeResource, StrataConfigResource
from resources.warehouse import warehouse_store

from .automation import downstream, learn, morning
from .ingest import log_entries
from .metadata import OWNERS, TAGS, absolute_uri, table

FAMILIES = ("structural", "statistical", "pii", "relational", "semantic", "temporal", "session")
STATUSES = ("holds", "degraded", "violated", "missing")


@dg.asset(
    group_name="learn",
    deps=[log_entries],
    kinds={"duckdb", "json"},
    pool="duckdb",
    owners=OWNERS,
    tags=TAGS,
    code_version="2",
    automation_condition=learn,
    freshness_policy=morning,
    description="Behavioral invariants mined over the baseline window of recent drops; saved as baseline JSON and in the warehouse.",
)
def invariants(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
               strata_config: StrataConfigResource) -> dg.MaterializeResult:
    from pipeline.core.invariants import discover, save_baseline

    cfg = strata_config.get().invariants
    entries, window = read_window(lake.lake_url, days=cfg.window_days, storage_options=lake.storage_options())
    mined = discover(entries, min_confidence=cfg.min_confidence, families=cfg.families)
    path = save_baseline(mined, baseline_url(lake.artifacts_url), metadata={"window": window},
                         storage_options=lake.storage_options())
    with warehouse_store(warehouse) as store:
        save_invariants(store, mined, window)
    context.log.info(f"mined {len(mined)} invariants over {window['rows']:,} rows ({window['start']} .. {window['end']})")
    by_family, by_severity = Counter(i.family for i in mined), Counter(i.severity for i in mined)
    rows = [{"id": i.id, "family": i.family, "confidence": i.confidence, "severity": i.severity,
             "description": i.description} for i in mined]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(len(mined)),
            "dagster/table_name": "invariants",
            "dagster/uri": absolute_uri(path),
            "invariants": len(mined),
            "rows": int(window["rows"]),
            **{f"family_{f}": int(by_family.get(f, 0)) for f in FAMILIES},
            **{f"severity_{s}": int(by_severity.get(s, 0)) for s in ("critical", "warning", "info")},
            "window": dg.MetadataValue.json(window),
            "baseline_path": dg.MetadataValue.path(path),
            "table": table(rows, ["id", "family", "confidence", "severity", "description"]),
        }
    )


STALENESS_CHECK = "no_invariant_violated"


def staleness_check(counts: Counter, checked: int, rows: int) -> dg.AssetCheckResult:
    """Violated invariants fail it as an error, degraded ones as a warning; nothing checked is a warning too."""
    found = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
    if not checked:
        return dg.AssetCheckResult(check_name=STALENESS_CHECK, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   description="Not checked: the baseline holds no invariant.", metadata={"checked": 0})
    bad = counts.get("violated", 0) or counts.get("degraded", 0)
    return dg.AssetCheckResult(
        check_name=STALENESS_CHECK,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR if counts.get("violated", 0) else dg.AssetCheckSeverity.WARN,
        description=f"{checked} baseline invariant(s) checked on the last day ({rows:,} entries): {found}.",
        metadata={"checked": int(checked), **{s: int(counts.get(s, 0)) for s in STATUSES}},
    )


@dg.asset(
    group_name="monitor",
    deps=[invariants],
    kinds={"duckdb"},
    pool="duckdb",
    owners=OWNERS,
    tags=TAGS,
    code_version="2",
    automation_condition=downstream,
    check_specs=[dg.AssetCheckSpec(STALENESS_CHECK, asset="invariant_staleness",
                                   description="No baseline invariant is violated over the last day (degraded warns).")],
    description="Whether each baseline invariant still holds over the last day of data: holds / degraded / violated / missing.",
)
def invariant_staleness(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource,
                        strata_config: StrataConfigResource):
    from pipeline.core.invariants import check_staleness, load_baseline

    cfg = strata_config.get().invariants
    baseline = load_baseline(baseline_url(lake.artifacts_url), lake.storage_options())
    # one read of the baseline-length window; the last day is a slice of it (both end at the newest entry)
    long, long_window = read_window(lake.lake_url, days=max(cfg.window_days, cfg.staleness_window_days),
                                    storage_options=lake.storage_options())
    entries, window = last_days(long, long_window, cfg.staleness_window_days)
    daily = [i for i in baseline if not i.window_dependent]
    results = check_staleness(daily, entries, degraded_pp=cfg.degraded_pp, violated_pp=cfg.violated_pp)
    spanned = [i for i in baseline if i.window_dependent]
    if spanned:  # e.g. returning-user share: only comparable over a window as long as the baseline's
        results += check_staleness(spanned, long, degraded_pp=cfg.degraded_pp, violated_pp=cfg.violated_pp)
    with warehouse_store(warehouse) as store:
        record_staleness(store, results, window, token=context.run_id)  # a retried step never appends twice
    counts = Counter(r.status for r in results)
    bad = [r.to_dict() for r in results if r.status != "holds"]
    context.log.info(f"staleness: {dict(counts)}")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(len(results)),
            "dagster/table_name": "staleness",
            **{s: int(counts.get(s, 0)) for s in STATUSES},
            "rows": int(window["rows"]),
            "window": dg.MetadataValue.json(window),
            "not_holding": table(bad, ["id", "status", "confidence_then", "confidence_now", "drop_pp"]),
        }
    )
    yield staleness_check(counts, len(results), int(window["rows"]))


@dg.asset(
    group_name="learn",
    deps=[invariants],
    kinds={"python"},
    owners=OWNERS,
    tags=TAGS,
    code_version="2",
    automation_condition=downstream,
    description="The generated pytest file: one test per invariant, run against any log source with --strata-source.",
)
def invariant_suite(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    from pipeline.core.invariants import load_baseline
    from pipeline.core.invariants.codegen import emit_pytest
    from pipeline.core.storage.atomic_file import write_text_atomic

    src = baseline_url(lake.artifacts_url)
    baseline = load_baseline(src, lake.storage_options())
    code = emit_pytest(baseline, baseline_path=src)
    compile(code, "test_invariants.py", "exec")  # never publish a suite that does not even parse
    target = suite_url(lake.artifacts_url)
    write_text_atomic(target, code, lake.storage_options())  # a CI job fetching the suite never gets half of it
    return dg.MaterializeResult(
        metadata={"tests": len(baseline), "lines": code.count("\n"), "path": dg.MetadataValue.path(target),
                  "dagster/uri": absolute_uri(target)}
    )
