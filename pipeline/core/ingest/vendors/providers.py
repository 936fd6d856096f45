"""What a provider's request and response bodies say: the answer the model gave, the tools it called, usage, errors.

Bodies of OpenAI chat.completion / Responses (also Mistral, Azure OpenAI, LiteLLM), Anthropic Messages (also Bedrock
InvokeModel for Claude, Message Batches results) and legacy Text Completions, Bedrock Converse, Gemini generateContent
(thinking tokens are output tokens), Cohere v2 and v1 chat. Only the response side gives output, tool calls and
usage; tools the request *offered* are never taken for calls.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from .base import as_dict, as_list, decode_json, dig, first, to_int
from .refusals import refusal

# host fragment -> provider
_HOSTS = (
    ("openai.azure.com", "azure"), ("api.openai.com", "openai"), ("anthropic.com", "anthropic"),
    ("bedrock", "bedrock"), ("generativelanguage.googleapis.com", "google"), ("aiplatform.googleapis.com", "google"),
    ("cohere", "cohere"), ("mistral.ai", "mistral"), ("groq.com", "groq"), ("together", "together"),
    ("deepseek.com", "deepseek"), ("x.ai", "xai"), ("openrouter.ai", "openrouter"),
)


def provider_of_url(url: Any) -> str | None:
    host = (urlparse(url).hostname or "") if isinstance(url, str) and "//" in url else ""
    return next((p for frag, p in _HOSTS if frag in host), None)


def bedrock_model(v: Any) -> Any:
    """A Bedrock model ARN names its model after `foundation-model/` or `inference-profile/`; an application inference
    profile's ARN names no model and stays as it is."""
    if isinstance(v, str) and v.startswith("arn:") and ("/" in v):
        kind, _, rest = v.split(":", 5)[-1].partition("/")
        if kind in ("foundation-model", "inference-profile") and rest:
            return rest
    return v


def model_of_url(url: Any) -> str | None:
    """Bedrock /model/{id}/invoke|converse, Gemini /models/{m}:generateContent, Azure /openai/deployments/{d}/."""
    if not isinstance(url, str):
        return None
    raw = urlparse(url).path if "//" in url else url
    # matched before unquoting too: a Bedrock model ARN travels URL-encoded, its "/" as %2F
    for path in (raw, unquote(raw)):
        for pat in (r"/model/([^/]+)/(?:invoke|converse)", r"/models/([^/:]+):", r"/deployments/([^/]+)/"):
            m = re.search(pat, path)
            if m:
                return bedrock_model(unquote(m.group(1)))
    return None


def _texts(blocks: Any, text_key: str = "text", skip: tuple = ("thinking", "redacted_thinking")) -> str | None:
    texts = [b.get(text_key) for b in as_list(blocks) if isinstance(b, dict) and isinstance(b.get(text_key), str)
             and b.get("type") not in skip and not b.get("thought")]
    return "".join(texts) or None  # a stream's closing empty part is no answer


def _read_openai(b: dict) -> dict:
    msg = as_dict(dig(b, "choices", 0, "message"))
    content = msg.get("content")
    if isinstance(content, list):
        content = _texts(content)
    outputs = as_list(b.get("output"))
    calls = [dig(c, "function", "name") for c in as_list(msg.get("tool_calls"))]
    calls += [o.get("name") for o in outputs if isinstance(o, dict) and o.get("type") == "function_call"]
    parts = [c for o in outputs if isinstance(o, dict) and o.get("type") == "message" for c in as_list(o.get("content"))]
    resp_text = _texts(parts)
    usage = as_dict(b.get("usage"))
    return {
        "output": first(content, resp_text, dig(b, "choices", 0, "text")),
        "refusal_text": first(msg.get("refusal"), _texts(parts, "refusal")),  # the model's refusal in its own words
        "tool_calls": calls,
        "finish_reason": dig(b, "choices", 0, "finish_reason") or b.get("status"),
        "prompt_tokens": first(usage.get("prompt_tokens"), usage.get("input_tokens")),
        "completion_tokens": first(usage.get("completion_tokens"), usage.get("output_tokens")),
    }


def _read_anthropic(b: dict) -> dict:
    blocks = as_list(b.get("content"))
    usage = as_dict(b.get("usage"))
    prompt = to_int(usage.get("input_tokens"))
    cache = sum(to_int(usage.get(k)) or 0 for k in ("cache_creation_input_tokens", "cache_read_input_tokens"))
    return {
        "output": _texts(blocks),
        "tool_calls": [x.get("name") for x in blocks if isinstance(x, dict) and x.get("type") in ("tool_use",
                                                                                                   "server_tool_use")],
        "finish_reason": b.get("stop_reason"),
        "prompt_tokens": prompt + cache if prompt is not None else None,
        "completion_tokens": usage.get("output_tokens"),
    }


def _read_converse(b: dict) -> dict:
    blocks = as_list(dig(b, "output", "message", "content"))
    usage = as_dict(b.get("usage"))
    return {
        "output": _texts(blocks),
        "tool_calls": [dig(x, "toolUse", "name") for x in blocks],
        "finish_reason": b.get("stopReason"),
        "prompt_tokens": usage.get("inputTokens"),
        "completion_tokens": usage.get("outputTokens"),
        "latency_ms": dig(b, "metrics", "latencyMs"),
    }


def _read_gemini(b: dict) -> dict:
    parts = as_list(dig(b, "candidates", 0, "content", "parts"))
    usage = as_dict(b.get("usageMetadata"))
    cand, thoughts = to_int(usage.get("candidatesTokenCount")), to_int(usage.get("thoughtsTokenCount"))
    return {
        "output": _texts(parts),
        "tool_calls": [dig(p, "functionCall", "name") for p in parts],
        "finish_reason": dig(b, "candidates", 0, "finishReason"),
        "prompt_tokens": usage.get("promptTokenCount"),
        "completion_tokens": None if cand is None and thoughts is None else (cand or 0) + (thoughts or 0),
        "model": b.get("modelVersion"),
        "request_id": b.get("responseId"),
    }


def _read_cohere(b: dict) -> dict:
    msg = as_dict(b.get("message"))
    tokens = as_dict(dig(b, "usage", "tokens")) or as_dict(dig(b, "usage", "billed_units"))
    return {
        "output": _texts(msg.get("content")),
        "tool_calls": [dig(c, "function", "name") for c in as_list(msg.get("tool_calls"))],
        "finish_reason": b.get("finish_reason"),
        "prompt_tokens": tokens.get("input_tokens"),
        "completion_tokens": tokens.get("output_tokens"),
    }


def _read_cohere_v1(b: dict) -> dict:
    """Cohere v1 /chat: `text`, tool calls as {name, parameters}, usage in meta.tokens, token_count or billed units."""
    meta = as_dict(b.get("meta"))
    tokens, counts = as_dict(meta.get("tokens")), as_dict(b.get("token_count"))
    billed = as_dict(meta.get("billed_units"))
    return {
        "output": b.get("text") or None,
        "tool_calls": [c.get("name") for c in as_list(b.get("tool_calls")) if isinstance(c, dict)],
        "finish_reason": b.get("finish_reason"),
        "prompt_tokens": first(tokens.get("input_tokens"), counts.get("prompt_tokens"), billed.get("input_tokens")),
        "completion_tokens": first(tokens.get("output_tokens"), counts.get("response_tokens"),
                                   billed.get("output_tokens")),
        "request_id": first(b.get("response_id"), b.get("generation_id")),
    }


def _read_text_completion(b: dict) -> dict:
    """Anthropic's legacy /v1/complete (also Claude v2 on Bedrock InvokeModel): the answer in `completion`."""
    return {"output": b.get("completion") or None, "tool_calls": [], "finish_reason": b.get("stop_reason"),
            "prompt_tokens": None, "completion_tokens": None}


def _read_embedding(b: dict) -> dict:
    """Embedding calls (OpenAI-style `{object: list, data: [{object: embedding}]}`, Cohere embed): usage only."""
    return {"output": None, "tool_calls": [], "finish_reason": None,
            "prompt_tokens": first(dig(b, "usage", "prompt_tokens"), dig(b, "meta", "billed_units", "input_tokens")),
            "completion_tokens": None}


def _read_bedrock_native(b: dict) -> dict:
    """InvokeModel bodies of non-Claude Bedrock models: Titan (results), Llama (generation), Mistral (outputs),
    Cohere (generations), AI21 (completions)."""
    first_of = lambda k: as_dict(dig(b, k, 0))  # noqa: E731
    text = first(first_of("results").get("outputText"), b.get("generation") if isinstance(b.get("generation"), str)
                 else None, first_of("outputs").get("text"), first_of("generations").get("text"),
                 dig(b, "completions", 0, "data", "text"))
    return {
        "output": text,
        "tool_calls": [],
        "finish_reason": first(first_of("results").get("completionReason"), b.get("stop_reason"),
                               first_of("outputs").get("stop_reason"), first_of("generations").get("finish_reason")),
        "prompt_tokens": first(b.get("inputTextTokenCount"), b.get("prompt_token_count")),
        "completion_tokens": first(first_of("results").get("tokenCount"), b.get("generation_token_count")),
    }


def response_shape(b: Any) -> str | None:
    """Which provider's response body this is, by its own structure."""
    if not isinstance(b, dict):
        return None
    if isinstance(b.get("choices"), list) or b.get("object") in ("chat.completion", "response", "text_completion"):
        return "openai"
    if b.get("type") == "message" and isinstance(b.get("content"), list):
        return "anthropic"
    if isinstance(dig(b, "output", "message"), dict):
        return "converse"
    if isinstance(b.get("candidates"), list) or isinstance(b.get("usageMetadata"), dict) or \
            isinstance(dig(b, "promptFeedback", "blockReason"), str):  # a blocked prompt has no candidates
        return "gemini"
    if isinstance(b.get("message"), dict) and ("finish_reason" in b or isinstance(b.get("usage"), dict)):
        return "cohere"
    if dig(b, "data", 0, "object") == "embedding" or (isinstance(b.get("embeddings"), (dict, list)) and "meta" in b):
        return "embedding"
    if isinstance(b.get("text"), str) and any(k in b for k in ("generation_id", "response_id", "finish_reason")):
        return "cohere_v1"
    if isinstance(b.get("completion"), str) and (b.get("type") == "completion" or "stop_reason" in b):
        return "text_completion"
    if any(isinstance(b.get(k), list) for k in ("results", "outputs", "generations", "completions")) or \
            isinstance(b.get("generation"), str):
        return "bedrock_native"
    return None


_READERS = {"openai": _read_openai, "anthropic": _read_anthropic, "converse": _read_converse, "gemini": _read_gemini,
            "cohere": _read_cohere, "bedrock_native": _read_bedrock_native, "cohere_v1": _read_cohere_v1,
            "text_completion": _read_text_completion, "embedding": _read_embedding}
_SHAPE_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "converse": "bedrock", "gemini": "google",
                   "cohere": "cohere", "bedrock_native": "bedrock", "cohere_v1": "cohere",
                   "text_completion": "anthropic", "embedding": None}


def error_of(body: Any, explicit_only: bool = False) -> str | None:
    """The error message of an error body: {error: {message}}, {error: "..."}, and (unless `explicit_only`, for
    bodies of a failed HTTP status) {message} alone, {detail} or plain text."""
    body = decode_json(body)
    if isinstance(body, str):
        return None if explicit_only else (body.strip()[:2000] or None)
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        return first(err.get("message"), err.get("type"), err.get("code"))
    if isinstance(err, str) and err:
        return err
    if response_shape(body) is None and not explicit_only:
        return first(body.get("message") if isinstance(body.get("message"), str) else None,
                     body.get("detail") if isinstance(body.get("detail"), str) else None, body.get("Message"))
    return None


def read_response(body: Any) -> dict:
    """Answer, called tools, finish reason, usage (plus model/id when the body has them) of a response body, and
    `refused` ("blocked: <reason>") when the provider's safety system refused to answer (vendors/refusals.py)."""
    body = decode_json(body)
    shape = response_shape(body)
    if shape is None:
        return {}
    out = _READERS[shape](body)
    out["tool_calls"] = [t for t in out.get("tool_calls", []) if isinstance(t, str) and t]
    out["prompt_tokens"] = to_int(out.get("prompt_tokens"))
    out["completion_tokens"] = to_int(out.get("completion_tokens"))
    out.setdefault("model", None)
    out["model"] = first(out["model"], body.get("model"))
    out["request_id"] = first(out.get("request_id"), body.get("id") if isinstance(body.get("id"), str) else None)
    out["created"] = first(body.get("created"), body.get("created_at"), body.get("createTime"))  # createTime: Vertex
    out["shape_provider"] = _SHAPE_PROVIDER[shape]
    # a Bedrock stream's closing metrics (kept by the stream assembly): the whole call and its first byte, in ms
    metrics = as_dict(body.get("amazon-bedrock-invocationMetrics"))
    out["latency_ms"] = first(out.get("latency_ms"), metrics.get("invocationLatency"))
    out["ttft_ms"] = metrics.get("firstByteLatency")
    out["refused"] = refusal(shape, body)
    if out["refused"] and not out.get("output"):
        out["output"] = None  # nothing answered: no output, never an empty one
    return out


def request_input(body: Any) -> Any:
    """The conversation a request body sent (messages / contents / prompt / input; embed `texts`, rerank `query`), never
    its tool definitions."""
    body = as_dict(decode_json(body))
    return first(body.get("messages"), body.get("contents"), body.get("prompt"), body.get("input"),
                 body.get("inputText"), body.get("message"), body.get("texts"), body.get("query"))
