"""Responses a provider's own safety system refused: the call returned (often with HTTP 200) but gave no answer.

Read from what the body says, never guessed from the text: Gemini `promptFeedback.blockReason` (the prompt was
blocked, no candidates) or a candidate's `finishReason` SAFETY / RECITATION / BLOCKLIST / PROHIBITED_CONTENT / SPII
(and their IMAGE_ kinds); OpenAI `finish_reason: content_filter` (Responses: `incomplete_details.reason`); Anthropic
`stop_reason: refusal`; Bedrock Converse `stopReason: content_filtered`, or `guardrail_intervened` when the guardrail
trace shows a BLOCKED action (a guardrail that only masked, e.g. ANONYMIZED PII, let the answer through); Titan
`completionReason: CONTENT_FILTERED`; an OpenAI message's own `refusal` text (structured outputs: content null,
finish reason "stop"; Responses: an output item of type `refusal`); Cohere's `finish_reason: ERROR_TOXIC`. In spans:
a refusal among the finish reasons (`gen_ai.response.finish_reasons`, Vercel AI SDK `ai.response.finishReason`, whose
"content-filter" is OpenAI's "content_filter").
"""
from __future__ import annotations

from typing import Any

from ..mapping import REFUSAL_REASONS
from .base import as_dict, as_list, decode_json, dig

_MAX_DEPTH = 12  # guardrail traces nest assessments per guardrail id, policy and filter


def _blocked(reason: Any) -> str | None:
    return f"blocked: {reason}" if isinstance(reason, str) and reason else None


def _refused(reason: Any) -> str | None:
    """`blocked: <reason>` for a finish / stop reason that is a refusal (mapping.REFUSAL_REASONS), else None."""
    ok = isinstance(reason, str) and reason.lower().replace("-", "_") in REFUSAL_REASONS
    return _blocked(reason) if ok else None


def finish_refusal(reasons: Any) -> str | None:
    """`blocked: <reason>` for the first refusal among finish reasons given as one string, a list, or a list in a
    JSON string (OTel attributes flattened to text), else None."""
    if isinstance(reasons, str):
        decoded = decode_json(reasons)
        reasons = decoded if isinstance(decoded, list) else [reasons]
    for reason in as_list(reasons):
        if _refused(reason):
            return _refused(reason)
    return None


def _gemini(b: dict) -> str | None:
    feedback = as_dict(b.get("promptFeedback"))
    if feedback.get("blockReason"):
        text = _blocked(feedback["blockReason"])
        message = feedback.get("blockReasonMessage")
        return f"{text} ({message})" if text and isinstance(message, str) and message else text
    return _refused(dig(b, "candidates", 0, "finishReason"))


def _openai_refusal_text(b: dict) -> bool:
    if isinstance(dig(b, "choices", 0, "message", "refusal"), str) and dig(b, "choices", 0, "message", "refusal"):
        return True
    return any(as_dict(part).get("type") == "refusal" for item in as_list(b.get("output"))
               for part in as_list(as_dict(item).get("content")))


def _openai(b: dict) -> str | None:  # chat completions, else the Responses API
    reason = _refused(dig(b, "choices", 0, "finish_reason")) or _refused(dig(b, "incomplete_details", "reason"))
    return reason or (_blocked("refusal") if _openai_refusal_text(b) else None)


def _any_blocked_action(v: Any, depth: int = 0) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(v, dict):
        return v.get("action") == "BLOCKED" or any(_any_blocked_action(x, depth + 1) for x in v.values())
    return any(_any_blocked_action(x, depth + 1) for x in as_list(v))


def _converse(b: dict) -> str | None:
    stop = b.get("stopReason")
    if _refused(stop):
        return _refused(stop)
    if stop == "guardrail_intervened" and _any_blocked_action(dig(b, "trace", "guardrail")):
        return _blocked(stop)
    return None


def refusal(shape: str, b: dict) -> str | None:
    """`blocked: <reason>` when the provider refused to answer a response body of `shape` (providers.response_shape),
    else None."""
    if shape == "gemini":
        return _gemini(b)
    if shape == "openai":
        return _openai(b)
    if shape == "anthropic":
        return _refused(b.get("stop_reason"))
    if shape == "converse":
        return _converse(b)
    if shape == "bedrock_native":  # Titan
        return _refused(dig(b, "results", 0, "completionReason"))
    if shape in ("cohere", "cohere_v1") and str(b.get("finish_reason")).upper() == "ERROR_TOXIC":
        return _blocked(b["finish_reason"])
    return None
