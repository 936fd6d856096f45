"""The canonical entry: one Arrow schema every log format is normalized into, and the roles inference can assign."""
from __future__ import annotations

import pyarrow as pa

TS_TYPE = pa.timestamp("us", tz="UTC")

CANONICAL_SCHEMA = pa.schema(
    [
        pa.field("entry_id", pa.string(), nullable=False),
        pa.field("ts", TS_TYPE),
        pa.field("drop", pa.string()),
        pa.field("source", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("request_id", pa.string()),
        pa.field("session_id", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("trace_id", pa.string()),
        pa.field("service", pa.string()),
        pa.field("model", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("version", pa.string()),
        pa.field("environment", pa.string()),
        pa.field("operation", pa.string()),  # endpoint, route, operation, span/function/prompt name, agent
        pa.field("input", pa.string()),
        pa.field("output", pa.string()),
        pa.field("output_kind", pa.string()),
        pa.field("latency_ms", pa.float64()),
        pa.field("ttft_ms", pa.float64()),  # time to first token
        pa.field("prompt_tokens", pa.int64()),
        pa.field("completion_tokens", pa.int64()),
        pa.field("cost_usd", pa.float64()),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("tool_calls", pa.list_(pa.string())),
        pa.field("branch_path", pa.list_(pa.string())),  # branch decisions `from->to` in call order
        pa.field("outcome", pa.string()),
        pa.field("attributes", pa.string()),
    ]
)

# Roles a raw field can play, with the kind of value each expects.
ROLE_KINDS: dict[str, str] = {
    "ts": "timestamp",
    "request_id": "string",
    "session_id": "string",
    "user_id": "string",
    "trace_id": "string",
    "service": "string",
    "model": "string",
    "provider": "string",
    "version": "string",
    "environment": "string",
    "operation": "string",
    "input": "text",
    "output": "text",
    "latency_ms": "number",
    "ttft_ms": "number",
    "prompt_tokens": "integer",
    "completion_tokens": "integer",
    "cost_usd": "number",
    "status": "string",
    "error": "text",
    "tool_calls": "names",
    "branch_path": "names",
    "outcome": "string",
}
ROLES = tuple(ROLE_KINDS)

# Columns computed by the engine rather than read from a raw field.
DERIVED_COLUMNS = ("entry_id", "drop", "source", "line", "output_kind", "attributes")

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("drop", pa.string()),
        pa.field("source", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("offset", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.binary()),
    ]
)


def empty_entries() -> pa.Table:
    return CANONICAL_SCHEMA.empty_table()
