"""Metadata helpers shared by the asset modules: the canonical column schema with descriptions, tables as Dagster
TableMetadataValue (typed columns, every row, no Markdown overflow), absolute URIs, and the owners/tags every asset
carries. Nothing here reads data; callers pass what they computed."""
from __future__ import annotations

import math
import os
from typing import Iterable

import dagster as dg

OWNERS = ["team:strata"]
TAGS = {"domain": "llm-observability"}
TABLE_ROWS = 200  # a metadata table is for reading in the UI; the warehouse holds the rest

# One line per canonical column: what the UI shows next to `dagster/column_schema`.
COLUMN_DESCRIPTIONS = {
    "entry_id": "Stable id of the entry (drop, source, line).",
    "ts": "When the call happened, UTC.",
    "drop": "The drop (partition key) the entry came from.",
    "source": "Object inside the drop the entry was read from.",
    "line": "Line or record number inside the source object.",
    "request_id": "Request id of the LLM call.",
    "session_id": "Conversation or session the call belongs to.",
    "user_id": "End user (pseudonymous id as logged).",
    "trace_id": "Trace id, when calls are spans of one trace.",
    "service": "The application or agent that made the call.",
    "model": "Model name.",
    "provider": "Model provider (openai, anthropic, ...).",
    "version": "Prompt or application version.",
    "environment": "Deployment environment (prod, staging, ...).",
    "operation": "Endpoint, route, operation, span, function, prompt or agent name: a segment part when logged.",
    "input": "Prompt text (flattened messages).",
    "output": "Completion text.",
    "output_kind": "text, json, tool_call or empty: what the output looks like.",
    "latency_ms": "Call latency in milliseconds.",
    "ttft_ms": "Time to first token in milliseconds, when logged.",
    "prompt_tokens": "Input tokens.",
    "completion_tokens": "Output tokens.",
    "cost_usd": "Cost in USD (logged, or filled from the price table).",
    "status": "ok or error.",
    "error": "Error message when the call failed.",
    "tool_calls": "Names of the tools the model called.",
    "branch_path": "Branch decisions of the run (from->to), in call order.",
    "outcome": "Business outcome when logged (resolved, escalated, ...).",
    "attributes": "Every other raw field, as JSON.",
}


def canonical_column_schema() -> dg.TableSchema:
    """The canonical entry schema (pipeline.core.entry_schema) as a Dagster TableSchema, one description per column."""
    from pipeline.core.entry_schema import CANONICAL_SCHEMA

    return dg.TableSchema(columns=[
        dg.TableColumn(name=f.name, type=str(f.type), description=COLUMN_DESCRIPTIONS.get(f.name, ""),
                       constraints=dg.TableColumnConstraints(nullable=f.nullable))
        for f in CANONICAL_SCHEMA])


def _cell(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(float(value), 4)
    text = str(value).replace("\n", " ")
    return text if len(text) <= 200 else text[:199] + "…"


def _type(values: Iterable) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int}:
        return "int"
    if kinds and kinds <= {int, float}:
        return "float"
    if kinds == {bool}:
        return "bool"
    return "string"


def table(rows: list[dict], columns: list[str], limit: int = TABLE_ROWS) -> dg.TableMetadataValue:
    """Rows as a typed Dagster table (the UI renders and scrolls it); cells are plain values, text is clipped."""
    kept = [{c: _cell(r.get(c)) for c in columns} for r in rows[:limit]]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, _type(r[c] for r in kept)) for c in columns])
    return dg.MetadataValue.table(records=[dg.TableRecord(r) for r in kept], schema=schema)


def absolute_uri(url: str) -> str:
    """A URL as a user can open it: local paths become file:// URIs, remote URLs are kept."""
    if "://" in url:
        return url
    return "file://" + os.path.abspath(url)


def numbers(values: dict, keys: Iterable[str]) -> dict:
    """Every listed key present (0 when absent), so the UI's plots across runs have a point per run."""
    return {k: values.get(k, 0) for k in keys}
