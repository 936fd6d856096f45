"""OpenAI API objects -> one entry per request, as a pure mapping (Batch output files can hold millions of lines).

Covers chat.completion objects, Batch API output/error lines (the completion under response.body), Batch input lines,
Responses API objects (object: "response") and recorded HTTP exchanges ({request: {body}, response: {headers, body}}).
"""
from __future__ import annotations

from ..mapping import FieldSource, Mapping
from .base import VendorAdapter, as_dict, dig, sources

# Where the response object sits: at the top (chat.completion / response) or under response.body (Batch output
# lines and recorded exchanges).
_BODIES = ((), ("response", "body"))


def _each(*tail: str | int) -> list[tuple]:
    return [(*b, *tail) for b in _BODIES]


# where a completion says why it stopped (chat completions; the Responses API's incomplete details)
_FINISH = (*_each("choices", 0, "finish_reason"), *_each("incomplete_details", "reason"))
# a refusal in the model's own words: structured outputs (content null, finish reason "stop"); Responses output items
_REFUSAL_TEXT = (*_each("choices", 0, "message", "refusal"), *_each("output", 0, "content", 0, "refusal"),
                 *_each("output", 1, "content", 0, "refusal"))

MAPPING = Mapping(
    {
        "ts": sources(*_each("created"), *_each("created_at"), transform="timestamp"),
        # custom_id (the Batch join key between input and output lines) is left unmapped so it stays in attributes
        "request_id": sources(("response", "request_id"), ("response", "headers", "x-request-id", 0), ("id",)),
        "user_id": sources(("user",), ("request", "body", "user"), ("body", "user")),
        "model": sources(*_each("model"), ("request", "body", "model"), ("body", "model")),
        "input": sources(("request", "body", "messages"), ("request", "body", "input"), ("body", "messages"),
                         ("body", "input"), transform="text"),
        "output": sources(
            *_each("choices", 0, "message", "content"),
            *_each("output", 0, "content", 0, "text"),
            *_each("output", 1, "content", 0, "text"),  # after a leading reasoning item
            *_each("choices", 0, "message", "tool_calls"),
            *_REFUSAL_TEXT,  # what the user was shown; the status says it was a refusal
            *_each("output"),
            transform="text",
        ),
        # The body carries no latency; recorded exchanges have the server time header, Responses a completion time.
        "latency_ms": sources(("response", "headers", "openai-processing-ms", 0))
        + [FieldSource("$.created_at", "duration_ms", end_path="$.completed_at")],
        "prompt_tokens": sources(*_each("usage", "prompt_tokens"), *_each("usage", "input_tokens")),
        "completion_tokens": sources(*_each("usage", "completion_tokens"), *_each("usage", "output_tokens")),
        # a content filter's stop comes first: the call itself succeeded (HTTP 200) but gave no answer
        "status": sources(*_FINISH, transform="refusal") + sources(*_REFUSAL_TEXT, transform="refusal_text")
        + sources(("response", "status_code"), ("response", "status", "code"), ("status",), transform="status")
        + sources(("error", "code"), ("error", "message"), transform="error_if_present"),
        "error": sources(("error", "message"), ("response", "body", "error", "message"), transform="text")
        + sources(*_FINISH, transform="refusal") + sources(*_REFUSAL_TEXT, transform="refusal_text"),
        "tool_calls": [FieldSource(p) for p in (
            "$.choices[*].message.tool_calls[*].function.name",
            "$.response.body.choices[*].message.tool_calls[*].function.name",
            "$.output[*].name",
            "$.response.body.output[*].name",
        )],
    },
    # a returned API object is a success unless a status or error code says otherwise
    constants={"provider": "openai", "status": "ok"},
)


def detect(rec: dict) -> float:
    obj = rec.get("object")
    if obj == "chat.completion" or (obj == "response" and "output" in rec):
        return 1.0
    if "custom_id" in rec:
        response = rec.get("response")
        if "response" in rec and (response is None or isinstance(response, dict)):  # Batch output / error line
            return 1.0 if str(rec.get("id", "")).startswith("batch_req") or dig(response, "body") else 0.7
        if isinstance(rec.get("body"), dict) and str(rec.get("url", "")).startswith("/v1/"):  # Batch input line
            return 0.9
    request, response = as_dict(rec.get("request")), as_dict(rec.get("response"))
    if request and response:
        body_obj = dig(response, "body", "object")
        if body_obj in ("chat.completion", "response") or "api.openai.com" in str(request.get("uri", "")):
            return 1.0
    return 0.0


ADAPTER = VendorAdapter("openai", detect, MAPPING, None)
