"""Datadog spans on their own -> grouped per trace by ingest: APM traces (agent payloads / test snapshots:
[[span, ...], ...]) and LLM Observability spans written one per line (outside the intake payload)."""
from __future__ import annotations

from .base import VendorAdapter, flat_mapping
from .span_records import dd_any_span, is_dd_apm_span
from .spans import trace_entry


def detect(rec: dict) -> float:
    return 0.9 if is_dd_apm_span(rec) else 0.0


def expand(rec: dict) -> list[dict]:
    trace_id, span = dd_any_span(rec)
    return [trace_entry([span], trace_id)]


def spans(rec: dict) -> list:
    return [dd_any_span(rec)] if is_dd_apm_span(rec) else []


ADAPTER = VendorAdapter("datadog_apm", detect, flat_mapping(), expand, spans=spans)
