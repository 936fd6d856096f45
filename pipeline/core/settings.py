"""Environment settings shared by the CLI and the Dagster resources (names are listed in .env.example)."""
from __future__ import annotations

import json
import math
import os

ENV_STORAGE_OPTIONS = "STRATA_STORAGE_OPTIONS"
ENV_S3_ENDPOINT = "STRATA_S3_ENDPOINT_URL"


def storage_options_from_env(env: dict | None = None) -> dict:
    """fsspec storage options: $STRATA_STORAGE_OPTIONS (JSON) plus the S3 endpoint shortcut."""
    env = os.environ if env is None else env
    opts: dict = {}
    raw = env.get(ENV_STORAGE_OPTIONS, "").strip()
    if raw:
        try:
            opts = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ENV_STORAGE_OPTIONS}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(opts, dict):
            raise ValueError(f"{ENV_STORAGE_OPTIONS}: expected a JSON object of fsspec storage options")
    if env.get(ENV_S3_ENDPOINT):
        opts.setdefault("client_kwargs", {})["endpoint_url"] = env[ENV_S3_ENDPOINT]
    return opts


# Every setting, its default for the embedded local setup, and what it means (README and .env.example list the same).
DEFAULTS: dict[str, tuple[str, str]] = {
    "STRATA_DROPS_URL": ("./data/drops", "where raw log drops land (any fsspec URL: s3://bucket/prefix, gs://, az://)"),
    "STRATA_DROP_DEPTH": ("1", "how many folder levels under the drops URL make one drop key"),
    "STRATA_LAKE_URL": ("./data/lake", "normalized Parquet per drop and quarantine"),
    "STRATA_ARTIFACTS_URL": ("./data/artifacts", "reports, generated test suites, baseline JSON"),
    "STRATA_WAREHOUSE_PATH": ("./data/warehouse.duckdb", "the DuckDB warehouse file"),
    "STRATA_WAREHOUSE_URL": ("", "Delta Lake warehouse URL (s3://bucket/warehouse); empty: the DuckDB file"),
    "STRATA_CONFIG": ("", "path to strata.yml (empty: ./strata.yml or a parent's, if any)"),
    "STRATA_STORAGE_OPTIONS": ("", "fsspec storage options as JSON, e.g. {\"key\": ..., \"secret\": ...}"),
    "STRATA_S3_ENDPOINT_URL": ("", "S3-compatible endpoint (MinIO, moto, R2); empty for AWS"),
    "STRATA_MAX_DROPS_PER_TICK": ("20", "new drops the sensor requests per tick at most"),
    "STRATA_MIN_DROP_AGE_SECONDS": ("0", "ignore drops modified more recently than this (still uploading)"),
}
# Alert delivery (resources/alerts.py); empty means disabled.
ALERT_ENV: dict[str, tuple[str, str]] = {
    "STRATA_SLACK_BOT_TOKEN": ("", "Slack bot token (chat.postMessage); empty: use the Slack incoming webhooks"),
    "STRATA_SLACK_WEBHOOK_URL": ("", "Slack incoming webhook for critical alerts"),
    "STRATA_SLACK_WARNING_WEBHOOK_URL": ("", "Slack incoming webhook for warnings"),
    "STRATA_SLACK_CRITICAL_CHANNEL": ("", "Slack channel for critical alerts (with a bot token)"),
    "STRATA_SLACK_WARNING_CHANNEL": ("", "Slack channel for warnings (with a bot token)"),
    "STRATA_ALERT_WEBHOOK_URL": ("", "URL receiving critical alerts as signed JSON"),
    "STRATA_ALERT_WEBHOOK_WARNING_URL": ("", "URL receiving warnings as signed JSON"),
    "STRATA_ALERT_WEBHOOK_SECRET": ("", "HMAC secret signing the alert webhook"),
    "STRATA_DAGSTER_URL": ("", "Dagster UI base URL for links in alerts, e.g. http://localhost:3000"),
    "STRATA_PROMETHEUS_TEXTFILE": ("", "textfile-collector path for Strata's Prometheus gauges"),
    "STRATA_PUSHGATEWAY_URL": ("", "Prometheus Pushgateway URL"),
    "STRATA_ALERT_DEDUP_MINUTES": ("60", "the same finding within this many minutes is sent once"),
    "STRATA_ALERT_RENOTIFY_HOURS": ("4", "remind about a finding that stays open this often"),
    "STRATA_ALERT_DIGEST_WARNINGS": ("true", "send warnings as one digest per target per tick"),
    "STRATA_ALERT_MAX_ATTEMPTS": ("3", "HTTP attempts per delivery within one tick"),
}
DEFAULTS.update(ALERT_ENV)
_INTS = ("STRATA_DROP_DEPTH", "STRATA_MAX_DROPS_PER_TICK", "STRATA_ALERT_MAX_ATTEMPTS")
_FLOATS = ("STRATA_MIN_DROP_AGE_SECONDS", "STRATA_ALERT_DEDUP_MINUTES", "STRATA_ALERT_RENOTIFY_HOURS")
# The largest value each number may take (ten years in its unit): beyond it a date computed at tick time overflows.
FLOAT_MAX = {"STRATA_MIN_DROP_AGE_SECONDS": 10 * 365 * 86400.0, "STRATA_ALERT_DEDUP_MINUTES": 10 * 365 * 1440.0,
             "STRATA_ALERT_RENOTIFY_HOURS": 10 * 365 * 24.0}
INT_MAX = {"STRATA_DROP_DEPTH": 32, "STRATA_MAX_DROPS_PER_TICK": 100_000, "STRATA_ALERT_MAX_ATTEMPTS": 100}


def setting_number(env, name: str) -> float:
    """A numeric setting checked at load: finite, >= 0 and within FLOAT_MAX; the error names the variable."""
    raw = env[name]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > FLOAT_MAX.get(name, math.inf):
        raise ValueError(f"{name}={raw!r}: expected a number >= 0 (finite, at most {FLOAT_MAX.get(name, math.inf):g})")
    return value
_BOOLS = ("STRATA_ALERT_DIGEST_WARNINGS",)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def apply_defaults(env: dict | None = None) -> None:
    """Fill unset settings with their local defaults, then validate them; errors name the variable."""
    env = os.environ if env is None else env
    for name, (default, _) in DEFAULTS.items():
        env.setdefault(name, default)
    for name in _INTS:
        raw = env[name].strip()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= INT_MAX[name]:
            raise ValueError(f"{name}={env[name]!r}: expected a positive whole number (at most {INT_MAX[name]})")
    for name in _FLOATS:
        setting_number(env, name)
    for name in _BOOLS:
        if env[name].strip().lower() not in TRUE + FALSE:
            raise ValueError(f"{name}={env[name]!r}: expected true or false")
    storage_options_from_env(env)
