"""The declarative daily order: the learn assets run on a morning cron once new drops have arrived since the tick,
everything downstream of them follows eagerly, and freshness policies turn a missed morning red.

Per-drop assets carry no condition: the new-drop sensor launches ingest_job for each drop, one run per service at a
time. The report ignores per-drop updates (it is republished after the daily learn, or on demand via publish_job)."""
from datetime import timedelta

import dagster as dg

LEARN_CRON = "0 5 * * *"  # mine invariants and baselines over the baseline window every morning, UTC
DEADLINE_CRON = "0 7 * * *"  # the morning's invariants and report must exist by 07:00 UTC
PER_DROP = dg.AssetSelection.assets("log_entries", "log_schema", "anomalies", "drop_drift", "raw_log_drops")

# The learn assets: after the 05:00 tick, once every upstream (any drop's log_entries) has updated since the tick.
learn = dg.AutomationCondition.on_cron(LEARN_CRON)
# Assets fed by the learn assets: as soon as they update (per-drop updates do not re-trigger them).
downstream = dg.AutomationCondition.eager().ignore(PER_DROP)

# Red when the morning's run did not happen: materialized between 05:00 and 07:00 UTC every day.
morning = dg.FreshnessPolicy.cron(deadline_cron=DEADLINE_CRON, lower_bound_delta=timedelta(hours=2))

automation_sensor = dg.AutomationConditionSensorDefinition(
    "strata_daily_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions: invariants, baselines and version drift at 05:00 UTC "
                "once new drops arrived; the suite, staleness and report follow as soon as what they read updates.",
)
