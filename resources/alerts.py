"""Alert delivery resources: Slack (bot token or incoming webhooks), a signed generic webhook, alerting settings
(dedup, re-notify, digest, retries) and Prometheus output. Empty URLs/tokens/channels mean "disabled"."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Callable, Iterator

import dagster as dg
import httpx
from pydantic import Field

from pipeline.core.alerts.delivery import RetryPolicy, slack_api_attempt, slack_webhook_attempt, webhook_attempt
from pipeline.core.alerts.dispatch import Target
from pipeline.core.alerts.messages import slack_alert, slack_digest, webhook_body
from pipeline.core.alerts.prometheus import StrataMetrics
from pipeline.core.settings import ALERT_ENV, TRUE, setting_number

SEVERITIES = ("critical", "warning")


def _slack_message(batch):
    return slack_alert(batch[0]) if len(batch) == 1 else slack_digest(batch)


class SlackAlertResource(dg.ConfigurableResource):
    """Posts alerts to Slack: with a bot token through chat.postMessage to a channel per severity, else to incoming
    webhooks (one URL per severity). Block Kit blocks plus fallback text."""

    bot_token: str = Field(default="", description="Slack bot token (xoxb-…); empty: use the incoming webhooks.")
    webhook_url: str = Field(default="", description="Incoming webhook for critical alerts (used without a bot token).")
    warning_webhook_url: str = Field(default="", description="Incoming webhook for warnings; empty: warnings not sent.")
    critical_channel: str = Field(default="", description="Channel for critical alerts (bot token); empty: disabled.")
    warning_channel: str = Field(default="", description="Channel for warnings and digests (bot token); empty: disabled.")
    base_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL (tests: a loopback).")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout in seconds.")

    def enabled(self) -> bool:
        return bool(self.bot_token or self.webhook_url or self.warning_webhook_url)

    @contextmanager
    def open_targets(self) -> Iterator[list[Target]]:
        from slack_sdk import WebClient, WebhookClient

        secrets = (self.bot_token, self.webhook_url, self.warning_webhook_url)
        targets = []
        if self.bot_token:
            # retry_handlers=[]: retries, backoff and Retry-After are ours, with an injectable sleep
            client = WebClient(token=self.bot_token, base_url=self.base_url, timeout=self.timeout_seconds,
                               retry_handlers=[])
            for severity, channel in (("critical", self.critical_channel), ("warning", self.warning_channel)):
                if channel:
                    targets.append(Target(f"slack:{severity}", severity, lambda b, c=channel: slack_api_attempt(
                        client, c, *_slack_message(b)), secrets))
        else:
            for severity, url in (("critical", self.webhook_url), ("warning", self.warning_webhook_url)):
                if url:
                    hook = WebhookClient(url, timeout=self.timeout_seconds, retry_handlers=[])
                    targets.append(Target(f"slack:{severity}", severity, lambda b, h=hook: slack_webhook_attempt(
                        h, *_slack_message(b)), secrets))
        yield targets


class WebhookAlertResource(dg.ConfigurableResource):
    """POSTs alerts as JSON to a URL per severity, signed with X-Strata-Timestamp and X-Strata-Signature
    ("sha256=" + HMAC-SHA256(secret, "<timestamp>." + body)); receivers check it with verify_signature."""

    critical_url: str = Field(default="", description="URL receiving critical alerts; empty: disabled.")
    warning_url: str = Field(default="", description="URL receiving warnings (a digest per tick); empty: disabled.")
    secret: str = Field(default="", description="HMAC secret for the signature headers; empty: unsigned.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout in seconds.")

    def enabled(self) -> bool:
        return bool(self.critical_url or self.warning_url)

    @contextmanager
    def open_targets(self, clock: Callable[[], float] = time.time) -> Iterator[list[Target]]:
        with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as client:
            targets = [Target(f"webhook:{severity}", severity,
                              lambda b, u=url: webhook_attempt(client, u, webhook_body(b), self.secret, clock),
                              (self.secret, url))
                       for severity, url in (("critical", self.critical_url), ("warning", self.warning_url)) if url]
            yield targets


class AlertSettings(dg.ConfigurableResource):
    """How often to tell people: dedup window, re-notify interval, digesting warnings, retries and links."""

    dedup_window_minutes: float = Field(default=60, ge=0, le=10 * 365 * 1440,
                                        description="A key reappearing within this is not re-sent.")
    renotify_hours: float = Field(default=4, gt=0, le=10 * 365 * 24, description="Remind about a still-open key this often.")
    digest_warnings: bool = Field(default=True, description="Batch warnings into one message per target per tick.")
    max_attempts: int = Field(default=3, ge=1, description="HTTP attempts per delivery within one tick.")
    backoff_base_seconds: float = Field(default=1.0, ge=0, description="Backoff before retry n: up to base * 2**(n-1).")
    backoff_cap_seconds: float = Field(default=30.0, ge=0, description="Longest wait between attempts (and the "
                                       "longest Retry-After honored within a tick).")
    settle_seconds: float = Field(default=120, ge=0, description="Drops younger than this wait a tick, so their "
                                  "anomalies and drift are written before they are evaluated.")
    dagster_url: str = Field(default="", description="Dagster UI base URL for links in alerts; empty: no links.")
    tick_budget_seconds: float = Field(default=30.0, gt=0, le=45, description="No delivery starts (and no retry waits) "
                                       "past this many seconds into a tick; the rest is sent next tick. With the 10 s "
                                       "request timeout a tick stays under Dagster's 60 s sensor limit.")
    storm_threshold: int = Field(default=5, ge=1, description="More critical notifications than this for one target "
                                 "in one tick go out as one summary message.")

    def window(self) -> timedelta:
        return timedelta(minutes=self.dedup_window_minutes)

    def renotify(self) -> timedelta:
        return timedelta(hours=self.renotify_hours)

    def policy(self, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, base=self.backoff_base_seconds,
                           cap=self.backoff_cap_seconds, sleep=sleep)


class PrometheusResource(dg.ConfigurableResource):
    """Where the Strata gauges go: a textfile for node-exporter's collector and/or a Pushgateway."""

    textfile_path: str = Field(default="", description="Path of the .prom file to (atomically) rewrite; empty: off.")
    pushgateway_url: str = Field(default="", description="Pushgateway base URL; empty: no push.")
    job_name: str = Field(default="strata", description="Pushgateway job label (path /metrics/job/<job_name>).")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Push timeout in seconds.")

    def enabled(self) -> bool:
        return bool(self.textfile_path or self.pushgateway_url)

    def publish(self, con) -> list[str]:
        """Read the warehouse and write/push; returns what was done."""
        if not self.enabled():
            return []
        metrics, done = StrataMetrics.from_warehouse(con), []
        if self.textfile_path:
            metrics.write_textfile(self.textfile_path)
            done.append(f"textfile {self.textfile_path}")
        if self.pushgateway_url:
            metrics.push(self.pushgateway_url, self.job_name, self.timeout_seconds)
            done.append("pushgateway")
        return done


def alert_resources(env: dict | None = None) -> dict[str, dg.ConfigurableResource]:
    """The alert resources for Definitions, read from the environment (unset variables default to empty)."""
    env = os.environ if env is None else env
    for name, (default, _) in ALERT_ENV.items():
        env.setdefault(name, default)
    return {
        "slack_alerts": SlackAlertResource(
            bot_token=dg.EnvVar("STRATA_SLACK_BOT_TOKEN"), webhook_url=dg.EnvVar("STRATA_SLACK_WEBHOOK_URL"),
            warning_webhook_url=dg.EnvVar("STRATA_SLACK_WARNING_WEBHOOK_URL"),
            critical_channel=dg.EnvVar("STRATA_SLACK_CRITICAL_CHANNEL"),
            warning_channel=dg.EnvVar("STRATA_SLACK_WARNING_CHANNEL")),
        "alert_webhook": WebhookAlertResource(
            critical_url=dg.EnvVar("STRATA_ALERT_WEBHOOK_URL"), warning_url=dg.EnvVar("STRATA_ALERT_WEBHOOK_WARNING_URL"),
            secret=dg.EnvVar("STRATA_ALERT_WEBHOOK_SECRET")),
        "alert_settings": AlertSettings(
            dagster_url=dg.EnvVar("STRATA_DAGSTER_URL"),
            dedup_window_minutes=setting_number(env, "STRATA_ALERT_DEDUP_MINUTES"),
            renotify_hours=setting_number(env, "STRATA_ALERT_RENOTIFY_HOURS"),
            digest_warnings=env["STRATA_ALERT_DIGEST_WARNINGS"].strip().lower() in TRUE,
            max_attempts=int(env["STRATA_ALERT_MAX_ATTEMPTS"])),
        "prometheus": PrometheusResource(textfile_path=dg.EnvVar("STRATA_PROMETHEUS_TEXTFILE"),
                                         pushgateway_url=dg.EnvVar("STRATA_PUSHGATEWAY_URL")),
    }
