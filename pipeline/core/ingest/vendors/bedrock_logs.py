"""Amazon Bedrock model-invocation logs (CloudWatch / S3: {schemaType: ModelInvocationLog, input, output, ...}).

One entry per invocation: the request body under input.inputBodyJson, the response under output.outputBodyJson (any
provider shape Bedrock returns: Converse, Claude Messages, Titan, Llama, Mistral, Cohere), token counts from the log's
own inputTokenCount / outputTokenCount, errors from errorCode / output.outputBodyJson.message.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, first, flat_mapping, to_int
from .providers import bedrock_model, error_of, read_response, request_input


def expand(rec: dict) -> list[dict]:
    inp, out = as_dict(rec.get("input")), as_dict(rec.get("output"))
    body = out.get("outputBodyJson")
    read = read_response(body)
    err = first(rec.get("errorCode"), error_of(body) if not read else None, read.get("refused"))
    return [{
        "ts": rec.get("timestamp"),
        "request_id": rec.get("requestId"),
        "user_id": as_dict(rec.get("identity")).get("arn"),
        "model": first(bedrock_model(rec.get("modelId")), read.get("model")),
        "provider": "bedrock",
        "input": request_input(inp.get("inputBodyJson")),
        "output": None if err else read.get("output"),
        "latency_ms": read.get("latency_ms"),
        "ttft_ms": read.get("ttft_ms"),
        "prompt_tokens": first(to_int(inp.get("inputTokenCount")), read.get("prompt_tokens")),
        "completion_tokens": first(to_int(out.get("outputTokenCount")), read.get("completion_tokens")),
        "status": "error" if err else "ok",
        "error": err,
        "tool_calls": read.get("tool_calls") or [],
        "vendor_detail": {k: v for k, v in (("operation", rec.get("operation")), ("region", rec.get("region")),
                                            ("finish_reason", read.get("finish_reason"))) if v is not None},
    }]


def detect(rec: dict) -> float:
    if rec.get("schemaType") == "ModelInvocationLog" or ("modelId" in rec and isinstance(rec.get("input"), dict)
                                                         and "inputBodyJson" in rec["input"]):
        return 1.0
    return 0.0


ADAPTER = VendorAdapter("bedrock_logs", detect, flat_mapping(), expand)
