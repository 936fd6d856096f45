"""Alerting engine: findings from the warehouse, dedup/escalation state, signed webhook and Slack bodies, delivery
with retries, the alert log, and Prometheus metrics (no Dagster here; resources/ and sensors/ wire it up)."""
from .dedup import Deduper, KeyState, Notification
from .delivery import DeliveryResult, Outcome, RetryPolicy, deliver
from .dispatch import Target, dispatch
from .findings import WAREHOUSE_SOURCES, Finding, Links, collect_findings, evaluated_drops
from .signing import sign, signed_headers, verify_signature

__all__ = ["Deduper", "DeliveryResult", "Finding", "KeyState", "Links", "Notification", "Outcome", "RetryPolicy",
           "Target", "WAREHOUSE_SOURCES", "collect_findings", "deliver", "dispatch", "evaluated_drops", "sign",
           "signed_headers", "verify_signature"]
