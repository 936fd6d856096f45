"""Recorded HTTP exchanges with any LLM provider (VCR / openllmetry cassettes, nock recordings) -> one entry each.

Shapes: {request: {method, uri, headers, body}, response: {status: {code, message} | status_code, headers, body}} and
nock's {scope, method, path, body, status, response, rawHeaders}. Bodies may be objects, JSON strings or VCR's
{"string": "..."}. Provider and model come from the body, else from the URL (Azure deployments, Bedrock model ids,
Gemini model paths). OpenAI's own exchanges with object bodies stay with the `openai` adapter (a pure mapping).
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from .base import VendorAdapter, as_dict, decode_json, dig, epoch_us, first, flat_mapping, iso_utc, to_float, to_int
from .providers import error_of, model_of_url, provider_of_url, read_response, request_input

_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "apim-request-id", "x-goog-request-id",
               "cf-ray")


def _body(v: Any) -> Any:
    if isinstance(v, dict) and set(v) <= {"string", "encoding"} and isinstance(v.get("string"), str):
        v = v["string"]
    return decode_json(v)


def _headers(v: Any) -> dict[str, str]:
    """Header dicts (values as lists or strings), HAR [{name, value}] and nock rawHeaders [k, v, k, v] -> {lower: v}."""
    out: dict[str, str] = {}
    if isinstance(v, list) and v and isinstance(v[0], dict):
        v = {h.get("name"): h.get("value") for h in v if isinstance(h, dict)}
    elif isinstance(v, list):
        v = {v[i]: v[i + 1] for i in range(0, len(v) - 1, 2) if isinstance(v[i], str)}
    for k, val in as_dict(v).items():
        val = val[0] if isinstance(val, list) and val else val
        if isinstance(k, str) and isinstance(val, (str, int, float)):
            out[k.lower()] = str(val)
    return out


def parts(rec: dict) -> dict | None:
    """url, request body, response body, status code, status text, headers of an exchange record (None if not one)."""
    req, resp = rec.get("request"), rec.get("response")
    if isinstance(req, dict) and isinstance(resp, dict) and isinstance(resp.get("content"), dict):  # HAR entry
        return {"url": req.get("url"), "request": _body(dig(req, "postData", "text")),
                "response": _body(dig(resp, "content", "text")), "code": to_int(resp.get("status")),
                "reason": resp.get("statusText"), "headers": _headers(resp.get("headers")),
                "started": rec.get("startedDateTime"), "time": to_float(rec.get("time"))}
    if isinstance(req, dict) and isinstance(resp, dict) and ("body" in req or "uri" in req or "url" in req):
        status = resp.get("status")
        return {
            "url": first(req.get("uri"), req.get("url")),
            "request": _body(req.get("body")),
            "response": _body(resp.get("body")) if "body" in resp else resp,
            "code": to_int(first(as_dict(status).get("code"), resp.get("status_code"),
                                 status if not isinstance(status, dict) else None)),
            "reason": first(as_dict(status).get("message"), resp.get("reason")),
            "headers": _headers(resp.get("headers")),
        }
    if isinstance(rec.get("scope"), str) and "path" in rec and "status" in rec:  # nock
        return {"url": rec["scope"] + str(rec.get("path") or ""), "request": _body(rec.get("body")),
                "response": _body(rec.get("response")), "code": to_int(rec.get("status")), "reason": None,
                "headers": _headers(rec.get("rawHeaders") or rec.get("headers"))}
    return None


def _latency(headers: dict, read: dict) -> float | None:
    timing = headers.get("server-timing", "")
    dur = timing.split("dur=", 1)[1].split(",")[0].split(";")[0] if "dur=" in timing else None
    # x-envoy-upstream-service-time: the provider's gateway time to its model servers (Cohere, Mistral), in ms
    return to_float(first(headers.get("openai-processing-ms"), headers.get("x-amzn-bedrock-invocation-latency"),
                          read.get("latency_ms"), dur, headers.get("x-envoy-upstream-service-time")))


def _ts(headers: dict) -> str | None:
    try:
        return parsedate_to_datetime(headers["date"]).isoformat() if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        return None


def exchange_entry(p: dict) -> dict:
    read = read_response(p["response"])
    code = p["code"]
    failed = code is not None and code >= 400
    # a failed status: any error text of the body; otherwise only an explicit {"error": ...} makes it an error (also
    # in a readable body: a Responses object of a failed call comes with HTTP 200, `status: failed` and its error)
    err = error_of(p["response"]) if failed else error_of(p["response"], explicit_only=True)
    refused = read.get("refused")  # a safety block comes with HTTP 200 and no answer: an error all the same
    # a refusal the model wrote (OpenAI `refusal`) is what the user was shown: it stays the output
    shown = read.get("refusal_text") if refused and not failed and err is None else None
    failed = failed or err is not None or refused is not None
    req = as_dict(p["request"])
    url_provider = provider_of_url(p["url"])
    return {
        "ts": first(iso_utc(epoch_us(read.get("created"))), p.get("started"), _ts(p["headers"])),
        "request_id": first(*(p["headers"].get(h) for h in _ID_HEADERS), read.get("request_id")),
        "model": first(read.get("model"), req.get("model"), req.get("modelId"), model_of_url(p["url"])),
        "provider": first(url_provider, read.get("shape_provider")),
        "input": request_input(req),
        "output": shown if failed else read.get("output"),
        "latency_ms": first(p.get("time"), _latency(p["headers"], read)),
        "ttft_ms": read.get("ttft_ms"),
        # Bedrock InvokeModel bodies of some models (Claude v2, AI21, Cohere) carry no usage; its headers do
        "prompt_tokens": first(read.get("prompt_tokens"), to_int(p["headers"].get("x-amzn-bedrock-input-token-count"))),
        "completion_tokens": first(read.get("completion_tokens"),
                                   to_int(p["headers"].get("x-amzn-bedrock-output-token-count"))),
        "status": "error" if failed else "ok",
        "error": first(err, refused, p["reason"], f"HTTP {code}") if failed else None,
        "tool_calls": read.get("tool_calls") or [],
        "vendor_detail": {k: v for k, v in (("finish_reason", read.get("finish_reason")), ("http_status", code),
                                            ("url", p["url"])) if v is not None},
    }


def _har_entries(rec: dict) -> list | None:
    entries = dig(rec, "log", "entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else None


def expand(rec: dict) -> list[dict]:
    har = _har_entries(rec)
    if har is not None:  # a HAR file: its LLM API calls (other page traffic is no entry)
        found = [(e, parts(e)) for e in har]
        return [exchange_entry(p) for _, p in found if p is not None and (provider_of_url(p["url"]) or
                                                                          read_response(p["response"]))] or [rec]
    p = parts(rec)
    return [exchange_entry(p)] if p is not None else [rec]


def detect(rec: dict) -> float:
    har = _har_entries(rec)
    if har is not None:
        return 1.0 if any((p := parts(e)) and provider_of_url(p["url"]) for e in har[:200]) else 0.0
    p = parts(rec)
    if p is None:
        return 0.0
    provider = provider_of_url(p["url"])
    raw_resp = as_dict(rec.get("response"))
    if provider == "openai" and isinstance(raw_resp.get("body"), dict) and "string" not in raw_resp["body"]:
        return 0.0  # OpenAI's own object bodies: the openai adapter's pure mapping reads them
    # an exchange with an unknown API and an unreadable body is left to inference (it reads any depth)
    failed = p["code"] is not None and p["code"] >= 400
    return 1.0 if provider or read_response(p["response"]) or error_of(p["response"], not failed) else 0.0


ADAPTER = VendorAdapter("http_exchange", detect, flat_mapping(), expand)
