"""Bedrock's recorded streams -> the response the same call returns unstreamed (used by `streams.assemble`).

ConverseStream events as boto3 gives them (`messageStart`, `contentBlockStart` with a `toolUse` start,
`contentBlockDelta` with `delta.text` / `delta.toolUse.input` / `delta.reasoningContent`, `contentBlockStop`,
`messageStop` with `stopReason`, `metadata` with `usage` and `metrics.latencyMs`) become a Converse response
(`output.message.content`, `stopReason`, `usage`, `metrics`). InvokeModelWithResponseStream events
(`{"chunk": {"bytes": <base64 JSON>}}`) are unwrapped into the model's own chunks; chunks of no known stream
(Titan `outputText`, Llama `generation`, Mistral `outputs`, Cohere `generations`) are joined into a native body with
the counts of `amazon-bedrock-invocationMetrics`. An exception event (`throttlingException`, ...) makes the call an
error.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

CONVERSE_KEYS = ("messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop")


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def exception_of(events: list[dict]) -> dict | None:
    """The error body of the first exception event (`{"<name>Exception": {"message": ...}}`), else None."""
    for e in events:
        for k, v in e.items():
            if isinstance(k, str) and k[:1].islower() and k.endswith("Exception") and isinstance(v, dict):
                return {"error": {"type": k, "message": v.get("message") or v.get("Message") or k}}
    return None


def is_converse(c: dict) -> bool:
    return any(k in c for k in CONVERSE_KEYS) or (exception_of([c]) is not None and len(c) == 1)


def converse(events: list[dict]) -> dict:
    role, blocks, stop, usage, metrics = "assistant", {}, None, None, None
    for e in events:
        if "messageStart" in e:
            role = _d(e["messageStart"]).get("role") or role
        elif "contentBlockStart" in e:
            s = _d(e["contentBlockStart"])
            tool = _d(_d(s.get("start")).get("toolUse"))
            if tool:
                blocks[s.get("contentBlockIndex", len(blocks))] = {"toolUse": {
                    "toolUseId": tool.get("toolUseId"), "name": tool.get("name"), "input": ""}}
        elif "contentBlockDelta" in e:
            s = _d(e["contentBlockDelta"])
            d, b = _d(s.get("delta")), blocks.setdefault(s.get("contentBlockIndex", 0), {})
            if isinstance(d.get("text"), str):
                b["text"] = b.get("text", "") + d["text"]
            piece = _d(d.get("toolUse")).get("input")
            if isinstance(piece, str):
                tool = b.setdefault("toolUse", {"input": ""})
                tool["input"] = (tool.get("input") or "") + piece
            thought = _d(d.get("reasoningContent")).get("text")
            if isinstance(thought, str):
                r = b.setdefault("reasoningContent", {"reasoningText": {"text": ""}})["reasoningText"]
                r["text"] += thought
        elif "messageStop" in e:
            stop = _d(e["messageStop"]).get("stopReason") or stop
        elif "metadata" in e:
            m = _d(e["metadata"])
            usage = m.get("usage") if isinstance(m.get("usage"), dict) else usage
            metrics = m.get("metrics") if isinstance(m.get("metrics"), dict) else metrics
    content = []
    for k in sorted(blocks, key=str):
        b = blocks[k]
        if isinstance(_d(b.get("toolUse")).get("input"), str):
            try:
                b["toolUse"]["input"] = json.loads(b["toolUse"]["input"] or "{}")
            except ValueError:
                pass  # arguments cut short stay the text they are
        content.append(b)
    out: dict = {"output": {"message": {"role": role, "content": content}}, "stopReason": stop}
    if usage:
        out["usage"] = usage
    if metrics:
        out["metrics"] = metrics
    return out


def unwrap_chunks(events: list[dict]) -> list[dict] | None:
    """The model's own chunks of InvokeModelWithResponseStream events; None when a chunk cannot be read."""
    out = []
    for e in events:
        raw = _d(e.get("chunk")).get("bytes")
        if raw is None:
            continue
        if isinstance(raw, str) and not raw.lstrip().startswith("{"):
            try:
                raw = base64.b64decode(raw, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return None
        try:
            chunk = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return None
        if not isinstance(chunk, dict):
            return None
        out.append(chunk)
    return out


def _head(v: Any) -> dict:
    return _d(v[0]) if isinstance(v, list) and v else {}


def _first_text(c: dict) -> str | None:
    for v in (c.get("outputText"), c.get("generation"), c.get("completion"), _head(c.get("outputs")).get("text"),
              _head(c.get("generations")).get("text")):
        if isinstance(v, str):
            return v
    return None


def native(chunks: list[dict]) -> dict | None:
    """Chunks of a non-Claude model (or Claude's text completions) joined into a Llama-shaped native body."""
    texts, stop, metrics, counts = [], None, {}, {}
    for c in chunks:
        t = _first_text(c)
        if t is not None:
            texts.append(t)
        stop = (c.get("completionReason") or c.get("stop_reason") or _head(c.get("outputs")).get("stop_reason")
                or _head(c.get("generations")).get("finish_reason") or stop)
        metrics = _d(c.get("amazon-bedrock-invocationMetrics")) or metrics
        for k in ("prompt_token_count", "generation_token_count", "inputTextTokenCount", "totalOutputTextTokenCount"):
            if isinstance(c.get(k), int):
                counts[k] = c[k]
    if not texts and not metrics:
        return None
    prompt = metrics.get("inputTokenCount", counts.get("prompt_token_count", counts.get("inputTextTokenCount")))
    output = metrics.get("outputTokenCount", counts.get("generation_token_count",
                                                        counts.get("totalOutputTextTokenCount")))
    out = {"generation": "".join(texts), "stop_reason": stop, "prompt_token_count": prompt,
           "generation_token_count": output}
    return {**out, "amazon-bedrock-invocationMetrics": metrics} if metrics else out
