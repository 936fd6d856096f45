"""Schedules: learn invariants every morning, then check yesterday's data against them."""
import dagster as dg

from pipeline.jobs import learn_job, staleness_job

daily_learn_schedule = dg.ScheduleDefinition(
    name="daily_learn_schedule", job=learn_job, cron_schedule="0 5 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
daily_staleness_schedule = dg.ScheduleDefinition(
    name="daily_staleness_schedule", job=staleness_job, cron_schedule="30 5 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

schedules = [daily_learn_schedule, daily_staleness_schedule]
