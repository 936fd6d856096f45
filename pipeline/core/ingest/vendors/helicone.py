"""Helicone request logs -> one entry per request: custom-log ingest payloads and read-side request rows.

Ingest timings are {seconds, milliseconds} pairs, which a mapping cannot add up, so expand adds the start time and
latency under `_derived`, with the response body's answer and called tools read by the provider readers (OpenAI,
Anthropic, Gemini... shapes) and the provider label in lower case; everything else is read by the mapping.
"""
from __future__ import annotations

from typing import Any

from ..mapping import Mapping
from .base import VendorAdapter, dig, first, iso_utc, sources, to_float
from .providers import read_response


def _ms(t: Any) -> float | None:
    s, ms = to_float(dig(t, "seconds")), to_float(dig(t, "milliseconds"))
    return None if s is None else s * 1000.0 + (ms or 0.0)


def expand(rec: dict) -> list[dict]:
    # the provider's response body read by the provider readers: answer and called tools of any provider's shape
    read = read_response(first(dig(rec, "providerResponse", "json"), rec.get("response_body")))
    provider = rec.get("provider")
    derived = {"output": read.get("output"), "tool_calls": read.get("tool_calls") or None,
               "provider": provider.lower() if isinstance(provider, str) else None,
               "status": "error" if read.get("refused") else None, "error": read.get("refused")}
    if "timing" in rec:
        start, end = _ms(dig(rec, "timing", "startTime")), _ms(dig(rec, "timing", "endTime"))
        derived["ts"] = iso_utc(int(round(start * 1000))) if start is not None else None
        derived["latency_ms"] = end - start if start is not None and end is not None else None
    return [{**rec, "_derived": derived}]


_REQ, _RESP = ("providerRequest", "json"), ("providerResponse", "json")
_META = ("providerRequest", "meta")

MAPPING = Mapping(
    {
        "ts": sources(("_derived", "ts"), ("request_created_at",), transform="timestamp"),
        "request_id": sources(("request_id",), (*_RESP, "id"), ("response_id",)),
        "session_id": sources((*_META, "Helicone-Session-Id"), ("request_properties", "Helicone-Session-Id")),
        "user_id": sources((*_META, "Helicone-User-Id"), ("request_user_id",)),
        "model": sources((*_RESP, "model"), (*_REQ, "model"), ("response_model",), ("model_override",),
                         ("request_model",), ("model",), ("request_body", "model")),
        "provider": sources(("_derived", "provider")),
        "version": sources((*_META, "Helicone-Property-Version"), ("request_properties", "Helicone-Property-Version")),
        "environment": sources((*_META, "Helicone-Property-Environment"),
                               ("request_properties", "Helicone-Property-Environment")),
        "input": sources((*_REQ, "messages"), (*_REQ, "prompt"), (*_REQ, "contents"), ("request_body", "messages"),
                         ("request_body", "prompt"), transform="text"),
        "output": sources(("_derived", "output"), (*_RESP, "choices", 0, "message", "content"),
                          (*_RESP, "content", 0, "text"),
                          (*_RESP, "candidates", 0, "content", "parts", 0, "text"), ("providerResponse", "textBody"),
                          ("response_body", "choices", 0, "message", "content"),
                          ("response_body", "content", 0, "text"),
                          transform="text"),
        "latency_ms": sources(("_derived", "latency_ms"), ("delay_ms",)),
        "prompt_tokens": sources((*_RESP, "usage", "prompt_tokens"), (*_RESP, "usage", "input_tokens"),
                                 (*_RESP, "usageMetadata", "promptTokenCount"), (*_RESP, "prompt_token_count"),
                                 ("prompt_tokens",)),
        "completion_tokens": sources((*_RESP, "usage", "completion_tokens"), (*_RESP, "usage", "output_tokens"),
                                     (*_RESP, "usageMetadata", "candidatesTokenCount"),
                                     (*_RESP, "generation_token_count"), ("completion_tokens",)),
        "cost_usd": sources(("costUSD",), ("cost",)),
        "status": sources(("_derived", "status"), ("providerResponse", "status"), ("response_status",),
                          transform="status"),
        "error": sources((*_RESP, "error", "message"), ("response_body", "error", "message"), ("_derived", "error"),
                         transform="text"),
        "tool_calls": sources("$._derived.tool_calls[*]",
                              "$.providerResponse.json.choices[*].message.tool_calls[*].function.name",
                              "$.response_body.choices[*].message.tool_calls[*].function.name"),
    }
)


def detect(rec: dict) -> float:
    if isinstance(rec.get("providerRequest"), dict) and "providerResponse" in rec:
        return 1.0
    if "request_id" in rec and "response_body" in rec and ("delay_ms" in rec or "request_created_at" in rec):
        return 0.9
    return 0.0


ADAPTER = VendorAdapter("helicone", detect, MAPPING, expand)
