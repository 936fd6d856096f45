"""A loopback server speaking the OpenAI wire format (chat completions and responses, plain and SSE streams), for
the wrapper tests, the end-to-end tests and the benchmark. Records every request body it received."""
from __future__ import annotations

import json

from werkzeug import Request, Response

TOOL_DELTAS = [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
               {"index": 0, "function": {"arguments": '{"city":'}}, {"index": 0, "function": {"arguments": '"Paris"}'}}]


def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class OpenAIHandler:
    """`handler(request)` for pytest-httpserver; `reply` is the answer text; messages asking for "weather" get a
    streamed tool call; a request whose last message says "fail" gets HTTP 500."""

    def __init__(self, reply: str = "Hello there, friend", model: str = "gpt-4o-2024-08-06") -> None:
        self.reply, self.model, self.requests = reply, model, []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        self.requests.append(body)
        if request.path.endswith("/responses"):
            return self._responses(body)
        text = json.dumps(body.get("messages", []))
        if "fail" in text:
            return Response(json.dumps({"error": {"message": "boom", "type": "server_error"}}), 500,
                            content_type="application/json")
        usage = {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}
        if not body.get("stream"):
            msg = {"role": "assistant", "content": self.reply}
            return Response(json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                                        "model": self.model, "usage": usage,
                                        "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}),
                            content_type="application/json")
        chunks = [_chunk(self.model, {"role": "assistant", "content": ""})]
        if "weather" in text:
            chunks += [_chunk(self.model, {"tool_calls": [d]}) for d in TOOL_DELTAS]
            chunks.append(_chunk(self.model, {}, "tool_calls"))
        else:
            words = self.reply.split(" ")
            chunks += [_chunk(self.model, {"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
            chunks.append(_chunk(self.model, {}, "stop"))
        if "explode" in text:  # the stream breaks after one chunk: openai raises APIError on an error event
            sse = f"data: {json.dumps(chunks[1])}\n\n" + 'data: {"error": {"message": "overloaded"}}\n\n'
            return Response(sse, content_type="text/event-stream")
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": self.model,
                           "choices": [], "usage": usage})
        sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Response(sse, content_type="text/event-stream")

    def _responses(self, body: dict) -> Response:
        output = [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": self.reply, "annotations": []}]}]
        resp = {"id": "resp_1", "object": "response", "created_at": 1, "model": self.model, "status": "completed",
                "output": output, "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10,
                                            "input_tokens_details": {"cached_tokens": 0},
                                            "output_tokens_details": {"reasoning_tokens": 0}},
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
        if not body.get("stream"):
            return Response(json.dumps(resp), content_type="application/json")
        events = [{"type": "response.created", "sequence_number": 0, "response": {**resp, "status": "in_progress",
                                                                                  "output": []}}]
        events += [{"type": "response.output_text.delta", "sequence_number": i + 1, "item_id": "msg_1",
                    "output_index": 0, "content_index": 0, "delta": w, "logprobs": []}
                   for i, w in enumerate(self.reply.split(" "))]
        events.append({"type": "response.completed", "sequence_number": 99, "response": resp})
        sse = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
        return Response(sse, content_type="text/event-stream")
