"""Vendor adapters: detect a known LLM-tracing format from sample records and map it to canonical entries."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from . import (anthropic_batch, bedrock_logs, datadog, datadog_apm, exchange, helicone, langfuse, langfuse_batch,
               langsmith, litellm, mlflow, openai, otel, sharegpt, weave)
from .base import VendorAdapter
from .span_records import record_spans

ADAPTERS: list[VendorAdapter] = [
    exchange.ADAPTER,  # first: an exchange with a non-OpenAI provider must not be read as OpenAI's (ties: list order)
    openai.ADAPTER,
    langsmith.ADAPTER,
    langfuse.ADAPTER,
    replace(otel.ADAPTER, spans=record_spans),  # span records are grouped per trace by the ingest trace stage
    helicone.ADAPTER,
    weave.ADAPTER,
    mlflow.ADAPTER,
    datadog.ADAPTER,
    datadog_apm.ADAPTER,
    litellm.ADAPTER,
    langfuse_batch.ADAPTER,
    sharegpt.ADAPTER,
    anthropic_batch.ADAPTER,
    bedrock_logs.ADAPTER,
]


def _score(adapter: VendorAdapter, rec: dict) -> float:
    try:
        return float(adapter.detect(rec)) if isinstance(rec, dict) else 0.0
    except Exception:  # a detector must never take ingestion down; an odd record just does not vote for it
        return 0.0


def detect_vendor(sample: list[dict], min_score: float = 0.5) -> VendorAdapter | None:
    """The adapter with the best mean confidence over the sample, if it reaches min_score (ties: list order)."""
    if not sample:
        return None
    best, best_score = None, min_score
    for adapter in ADAPTERS:
        score = sum(_score(adapter, rec) for rec in sample) / len(sample)
        if score >= best_score and (best is None or score > best_score):
            best, best_score = adapter, score
    return best


def expand_records(adapter: VendorAdapter, rows: Iterable[tuple]) -> list[tuple[int, int, dict]]:
    """(line, record) pairs -> (line, sub, record) triples; sub numbers the entries one record expands into.

    A record the adapter cannot expand is kept whole (with the reason), so it still maps or is rejected downstream.
    """
    out: list[tuple[int, int, dict]] = []
    for row in rows:
        line, rec = row[0], row[-1]
        if adapter.expand is None or not isinstance(rec, dict):
            out.append((line, 0, rec))
            continue
        try:
            expanded = adapter.expand(rec)
        except Exception as exc:  # noqa: BLE001 - vendor payloads are untrusted; keep the record, note why
            expanded = [{**rec, "vendor_expand_error": f"{type(exc).__name__}: {exc}"}]
        out.extend((line, sub, item) for sub, item in enumerate(expanded))
    return out


__all__ = ["ADAPTERS", "VendorAdapter", "detect_vendor", "expand_records"]
