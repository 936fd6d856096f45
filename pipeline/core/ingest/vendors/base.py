"""The vendor adapter contract, plus the value helpers adapters share (JSON decoding, time parsing, flat mapping)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ..mapping import FieldSource, Mapping, json_path
from ..record_paths import decoded_json
from .streams import assemble, looks_like_sse


@dataclass(frozen=True)
class VendorAdapter:
    name: str  # "openai", "langsmith", "langfuse", "otel_genai", "helicone", "weave", "mlflow", "datadog"
    detect: Callable[[dict], float]  # confidence 0..1 that one top-level record is this vendor's
    mapping: Mapping  # applied in DuckDB to each (expanded) record
    expand: Callable[[dict], list[dict]] | None = None  # one top-level record/document -> the records to map
    # span-level formats: one record -> its (trace id, Span) pairs; ingest then groups them per trace over the drop
    spans: Callable[[dict], list] | None = None


# ---- defensive accessors: vendor records arrive with missing sections and wrong types


def as_dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else []


def dig(obj: Any, *keys: str | int) -> Any:
    """obj[k1][k2]... or None as soon as a step is missing or of the wrong type."""
    for k in keys:
        if isinstance(k, int):
            if not isinstance(obj, list) or not -len(obj) <= k < len(obj):
                return None
            obj = obj[k]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(k)
    return obj


def first(*values: Any) -> Any:
    """The first value that is not None / empty string."""
    for v in values:
        if v is not None and v != "":
            return v
    return None


def ident(v: Any) -> str | None:
    """An id usable as a key: strings as is, integers as text, anything else (objects, lists, floats) None."""
    if isinstance(v, str):
        return v
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else None


def to_int(v: Any) -> int | None:
    f = to_float(v)
    return None if f is None else int(round(f))


def to_float(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def decode_json(v: Any, depth: int = 2) -> Any:
    """Undo JSON-in-a-string encoding (vendors double-encode inputs, metadata and attribute values); a recorded stream
    (SSE transcript, chunk array, AWS event-stream bytes) becomes the one response it streamed (streams.assemble).
    Strings are decoded by `record_paths.decoded_json`, with no size limit: an adapter reads a big body whole."""
    for _ in range(depth):
        if not isinstance(v, str):
            break
        s = v.strip()
        if looks_like_sse(s):
            return assemble(s) or v
        if v[:1] == "\x00" or s.startswith(("AAA", "0000")):  # an AWS event stream: latin-1 text, base64 or hex
            return assemble(v) or v
        if not s or s[0] not in '"{[':
            break
        d = decoded_json(s, limit=None, strings=True)
        if d is None:  # not JSON (or nested past the parser's limit): kept as the text it is
            return (assemble(s) or v) if s[0] == "{" and "\n" in s else v  # JSON lines of a recorded stream
        v = d
    if isinstance(v, list) and v and isinstance(v[0], (dict, str)):
        return assemble(v) or v
    return v


def _joined_text(parts: Any) -> str | None:
    texts = [p.get("text") for p in as_list(parts) if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "".join(texts) if texts else None


def message_text(v: Any) -> Any:
    """The answer text of a provider response object, else the value as is (objects stay objects, for JSON text).

    Recognized: OpenAI chat.completion and Responses objects, Gemini responses and contents, content-block lists
    (Anthropic), LangChain generations, and a dict whose "content" is a string.
    """
    v = decode_json(v)
    if not isinstance(v, dict):
        return v
    response_parts = [c for item in as_list(v.get("output")) if isinstance(item, dict) and item.get("type") == "message"
                      for c in as_list(item.get("content"))]
    candidates = (
        dig(v, "choices", 0, "message", "content"),
        _joined_text(response_parts),
        _joined_text(dig(v, "candidates", 0, "content", "parts")),
        _joined_text(dig(v, "content", "parts")),
        _joined_text(v.get("content")) if isinstance(v.get("content"), list) else None,
        dig(v, "generations", 0, 0, "text"),
        v.get("content"),
    )
    text = next((c for c in candidates if isinstance(c, str) and c), None)
    if text is not None:
        return text
    tool_calls = dig(v, "choices", 0, "message", "tool_calls")  # an answer that is only tool calls
    return tool_calls if isinstance(tool_calls, list) and tool_calls else v


# ---- time

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_us(v: Any) -> int | None:
    """Microseconds since the epoch from ISO-8601 text or an epoch number (s/ms/us/ns guessed by magnitude)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        s = v.strip()
        try:
            v = int(s) if s.lstrip("-").isdigit() else float(s)
        except ValueError:
            try:
                dt = datetime.fromisoformat(s)
            except ValueError:
                return None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            return (dt - _EPOCH) // timedelta(microseconds=1)
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
    elif not isinstance(v, int):
        return None
    a = abs(v)
    if a >= 1e17:
        return int(v // 1000)
    if a >= 1e14:
        return int(v)
    if a >= 1e11:
        return int(round(v * 1000))
    return int(round(v * 1_000_000))


def iso_utc(us: int | None) -> str | None:
    try:
        return None if us is None else (_EPOCH + timedelta(microseconds=us)).isoformat()
    except OverflowError:  # beyond year 9999: no usable time
        return None


# ---- the mapping for adapters whose expand already yields near-canonical dicts

FLAT_KEYS = (
    "ts", "request_id", "session_id", "user_id", "trace_id", "service", "model", "provider", "version",
    "environment", "input", "output", "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "cost_usd",
    "status", "error", "tool_calls", "outcome", "branch_path",
)
_FLAT_TRANSFORMS = {"ts": "timestamp", "ttft_ms": "number", "input": "text", "output": "text", "error": "text",
                    "tool_calls": "names", "branch_path": "names", "status": "status"}


def flat_mapping(constants: dict[str, str] | None = None) -> Mapping:
    """Each canonical role read from the same-named top-level key (vendor extras stay behind in `attributes`)."""
    return Mapping(
        {k: [FieldSource(json_path(k), _FLAT_TRANSFORMS.get(k, "auto"))] for k in FLAT_KEYS},
        dict(constants or {}),
    )


def sources(*paths: tuple[str | int, ...] | str, transform: str = "auto", scale: float = 1.0) -> list[FieldSource]:
    """Candidates from key tuples: sources(("usage", "prompt_tokens"), ("response", "body", "usage", ...))."""
    return [FieldSource(p if isinstance(p, str) else json_path(*p), transform, scale) for p in paths]
