"""Datadog APM traces (agent payloads / test snapshots: [[span, ...], ...]) -> spans grouped per trace by ingest."""
from __future__ import annotations

from .base import VendorAdapter, flat_mapping
from .span_records import dd_apm_span, is_dd_apm_span
from .spans import trace_entry


def detect(rec: dict) -> float:
    return 0.9 if is_dd_apm_span(rec) else 0.0


def expand(rec: dict) -> list[dict]:
    trace_id, span = dd_apm_span(rec)
    return [trace_entry([span], trace_id)]


def spans(rec: dict) -> list:
    return [dd_apm_span(rec)] if is_dd_apm_span(rec) else []


ADAPTER = VendorAdapter("datadog_apm", detect, flat_mapping(), expand, spans=spans)
