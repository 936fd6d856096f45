"""alert_sensor (findings from the warehouse → dedup against stored state → Slack/webhook delivery → alert_log, plus
Prometheus output) and run_failure_alert_sensor (posts failed runs to Slack and the webhook's critical targets)."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Callable

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.alerts import alert_observation
from pipeline.core.alerts import (WAREHOUSE_SOURCES, Deduper, Finding, Links, Notification, collect_findings,
                                  dispatch, evaluated_drops)
from pipeline.core.alerts.alert_log import (claim, claims_connection, delivered_targets, load_states, record,
                                            save_states, settle)
from pipeline.core.alerts.dedup import utc_now
from pipeline.core.alerts.dispatch import Sent
from pipeline.core.alerts.findings import clip
from resources.alerts import AlertSettings, PrometheusResource, SlackAlertResource, WebhookAlertResource
from resources.storage import LakeResource
from resources.warehouse import warehouse_store


def parse_cursor(cursor: str | None) -> datetime | None:
    """The cursor is the ingested_at (ISO) of the newest drop already evaluated; anything unreadable starts over."""
    try:
        ts = datetime.fromisoformat(cursor) if cursor else None
    except ValueError:
        return None
    return ts if ts is None or ts.tzinfo else None


class WarehouseClaims:
    """Claims in the warehouse's `alert_claims` for one tick (its own owner id), a short connection per call so
    runs can write while Slack or a webhook is being talked to. With the Delta warehouse (`url` set) the claims live
    in a local DuckDB file instead (alert_log.claims_path: a Delta commit cannot claim atomically)."""

    def __init__(self, warehouse: DuckDBResource, clock: Callable[[], datetime] = utc_now,
                 claims_path: str | None = None):
        self.warehouse, self.clock, self.owner = warehouse, clock, uuid.uuid4().hex
        self.local = bool(getattr(warehouse, "url", "")) or claims_path is not None
        self.claims_path = claims_path

    def _connection(self):
        if not self.local:
            return self.warehouse.get_connection()
        from contextlib import closing

        return closing(claims_connection(self.claims_path))

    def take(self, target: str, keys: list[str]) -> tuple[set[str], set[str]]:
        with self._connection() as con:
            return claim(con, target, keys, self.owner, self.clock())

    def settle(self, target: str, keys: list[str], delivered: bool) -> None:
        with self._connection() as con:
            settle(con, target, keys, self.owner, delivered, self.clock())


def alert_tick(log, cursor: str | None, warehouse: DuckDBResource, artifacts_url: str, slack: SlackAlertResource,
               webhook: WebhookAlertResource, settings: AlertSettings, prometheus: PrometheusResource,
               clock: Callable[[], datetime] = utc_now, sleep=None,
               monotonic: Callable[[], float] = time.monotonic) -> tuple[str | None, str]:
    """One evaluation; returns (new cursor, summary). Delivery problems are recorded, not raised; only a warehouse
    that cannot be read or written raises (the sensor logs it and retries next tick). Bounded: deliveries stop at
    the tick's time budget (the rest stays owed), and each (notification, target) is claimed before it is sent."""
    deadline = monotonic() + settings.tick_budget_seconds
    now, since = clock(), parse_cursor(cursor)
    until = now - timedelta(seconds=settings.settle_seconds)
    with warehouse.get_connection() as con:
        states = load_states(con)
        drops = evaluated_drops(con, since, until)
        findings = collect_findings(con, since, until=until, links=Links(settings.dagster_url, artifacts_url))
    deduper = Deduper(states, settings.window(), settings.renotify(), clock)
    due = deduper.evaluate(findings, WAREHOUSE_SOURCES)
    sent: list[Sent] = []
    if due:
        with warehouse.get_connection() as con:
            already = delivered_targets(con, [n.id for n in due])
        # the warehouse connection is not held while talking to Slack or a webhook: runs may need to write
        with slack.open_targets() as slack_targets, webhook.open_targets() as hook_targets:
            targets = slack_targets + hook_targets
            policy = settings.policy() if sleep is None else settings.policy(sleep)
            sent, done = dispatch(due, targets, policy, settings.digest_warnings, already,
                                  claims=WarehouseClaims(warehouse, clock), deadline=deadline,
                                  storm=settings.storm_threshold, clock=monotonic)
        unrouted = [n for n in due if not any(t.severity == n.severity for t in targets)]
        for n in done + unrouted:
            deduper.delivered(n)
    with warehouse_store(warehouse) as store:  # the DuckDB file or Delta: the same two commits
        if due:
            record(store, sent, unrouted, now)
        save_states(store, deduper.states, now)
        con = store.reader()
        try:
            published = prometheus.publish(con)
        except Exception as exc:  # metrics are best effort; alerting has already happened
            log.warning(f"prometheus output failed: {type(exc).__name__}: {exc}")
            published = []
        finally:
            con.close()
    failed = [f"{s.target}: {s.result.error}" for s in sent if not s.result.ok]
    for line in failed:
        log.warning(f"alert delivery failed, will retry next tick: {line}")
    newest = max((ts for _, ts in drops), default=None)
    new_cursor = max(t for t in (since, newest) if t is not None).isoformat() if (since or newest) else cursor
    pending = sum(1 for s in deduper.states.values() if s.pending)
    if due and monotonic() >= deadline:
        log.warning(f"alert tick used its {settings.tick_budget_seconds:g}s budget: {pending} notification(s) left "
                    "for the next tick")
    summary = (f"{len(findings)} finding(s), {len(due)} notification(s) due, {sum(s.result.ok for s in sent)} "
               f"deliveries ok, {len(failed)} failed, {pending} pending" + (f"; metrics: {', '.join(published)}"
                                                                           if published else ""))
    return new_cursor, summary


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Alerts on violated invariants, critical anomalies and drift REVIEW/BLOCK: deduplicated, "
                       "delivered to Slack and the signed webhook, every attempt in alert_log; Prometheus gauges.")
def alert_sensor(context: dg.SensorEvaluationContext, warehouse: DuckDBResource, lake: LakeResource,
                 slack_alerts: SlackAlertResource, alert_webhook: WebhookAlertResource, alert_settings: AlertSettings,
                 prometheus: PrometheusResource) -> dg.SensorResult:
    started = utc_now()
    try:
        cursor, summary = alert_tick(context.log, context.cursor, warehouse, lake.artifacts_url, slack_alerts,
                                     alert_webhook, alert_settings, prometheus)
    except Exception as exc:  # alerting must never break the code location: log, keep the cursor, try next tick
        context.log.exception("alert sensor tick failed")
        return dg.SensorResult(skip_reason=clip(f"alerting failed, retrying next tick: {type(exc).__name__}: {exc}"),
                               cursor=context.cursor)
    context.log.info(summary)
    return dg.SensorResult(skip_reason=summary, cursor=cursor,
                           asset_events=alert_observation(warehouse, started, summary))  # numbers on the alerts asset


def run_failure_notification(run, message: str | None, dagster_url: str, now: datetime) -> Notification:
    finding = Finding(
        key=f"run:{run.job_name}:{run.run_id}", kind="run_failed", severity="critical", title=f"Run failed: {run.job_name}",
        where={"job": run.job_name, "run_id": run.run_id, "partition": run.tags.get("dagster/partition")},
        evidence=(message,), links={"dagster": Links(dagster_url).run(run.run_id)}, observed_at=now.isoformat())
    return Notification(key=finding.key, action="new", finding=finding, since=now)


@dg.run_failure_sensor(name="run_failure_alert_sensor", default_status=dg.DefaultSensorStatus.RUNNING,
                       minimum_interval_seconds=30,
                       description="Posts every failed run to the critical Slack target and the critical webhook.")
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, slack_alerts: SlackAlertResource,
                             alert_webhook: WebhookAlertResource, alert_settings: AlertSettings,
                             warehouse: DuckDBResource):
    if not (slack_alerts.enabled() or alert_webhook.enabled()):  # still recorded: alert_log holds every failed run
        try:
            now = utc_now()
            n = run_failure_notification(context.dagster_run, context.failure_event.message, alert_settings.dagster_url, now)
            with warehouse_store(warehouse) as store:
                record(store, [], [n], now)
        except Exception:
            context.log.exception("recording the run failure in alert_log failed")
        return dg.SkipReason("no Slack or webhook target configured; the failed run is recorded in alert_log")
    try:
        now = utc_now()
        n = run_failure_notification(context.dagster_run, context.failure_event.message, alert_settings.dagster_url, now)
        with slack_alerts.open_targets() as slack_targets, alert_webhook.open_targets() as hook_targets:
            critical = [t for t in slack_targets + hook_targets if t.severity == "critical"]
            if not critical:
                context.log.warning("alerts are configured without a critical target: run failure not posted")
            sent, _ = dispatch([n], critical, alert_settings.policy(), False)
        for s in sent:
            (context.log.info if s.result.ok else context.log.warning)(
                f"run failure alert {s.target}: {'delivered' if s.result.ok else s.result.error}")
        with warehouse_store(warehouse) as store:
            record(store, sent, at=now)
    except Exception:  # a broken alert path must not fail the sensor daemon
        context.log.exception("posting the run failure alert failed")
    return None


alert_sensors = [alert_sensor, run_failure_alert_sensor]
