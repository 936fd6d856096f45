"""An example application for the demo: a support bot traced with strata_capture, calling the real `openai` client
against a loopback server that speaks the OpenAI wire format (standard-library `http.server`, no network).

    python -m strata_capture.demo DROPS_DIR [--traces 60] [--service support-bot]

writes one capture drop (`DROPS_DIR/capture-<service>-<hour>/`) through the whole SDK path: decorator, wrapper
(plain and streamed calls), tool spans, branch decisions, PII scrubbing, spool, publisher. Needs `openai`.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import branch, configure, flush, observe, shutdown, trace_context, wrap_openai
from .runtime import get_runtime

QUESTIONS = ["Where is my order #{n}? My e-mail is jane.doe{n}@example.com", "I want a refund for order #{n}",
             "Can I change my delivery address? Call me at (415) 555-2671", "My card 4111 1111 1111 1111 was charged twice",
             "What are your opening hours?"]


class _OpenAIWire(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: a JSON completion, or an SSE stream (with usage when asked)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        prompt = json.dumps(body.get("messages", []))
        words = ("Thanks for reaching out. " + ("Your order is on its way." if "order" in prompt else
                                                 "A specialist will follow up shortly.")).split(" ")
        usage = {"prompt_tokens": 40 + len(prompt) // 8, "completion_tokens": len(words) * 2}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        model = body.get("model", "gpt-4o-mini") + "-2024-07-18"
        if not body.get("stream"):
            out = {"id": "chatcmpl-demo", "object": "chat.completion", "created": 1, "model": model, "usage": usage,
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": " ".join(words)}}]}
            self._send("application/json", json.dumps(out).encode())
            return
        chunks = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                   "choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}]}
                  for i, w in enumerate(words)]
        chunks.append({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
                           "usage": usage})
        self._send("text/event-stream",
                   ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode())

    def _send(self, content_type: str, data: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet
        return None


class DemoClock:
    """A reproducible clock for the demo's spans: starts at the current minute and advances by a seeded step
    (lognormal, about 12 ms) per reading, so every run writes the same latencies and the demo's figures repeat."""

    def __init__(self, seed: int = 11) -> None:
        self._rng = random.Random(seed)
        self._now = time.time_ns() // 60_000_000_000 * 60_000_000_000
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._now += int(self._rng.lognormvariate(2.5, 0.4) * 1e6)
            return self._now


def serve_openai_wire() -> ThreadingHTTPServer:
    """A loopback OpenAI-compatible server on a free port, serving in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIWire)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_bot(base_url: str, traces: int, seed: int = 7) -> None:
    import openai

    client = wrap_openai(openai.OpenAI(base_url=base_url, api_key="demo", max_retries=0))
    rng = random.Random(seed)

    @observe(kind="tool")
    def lookup_order(order_id: int) -> dict:
        return {"order_id": order_id, "status": rng.choice(["shipped", "processing", "delivered"])}

    @observe(kind="tool")
    def issue_refund(order_id: int) -> str:
        return "refund issued"

    @observe(kind="agent", name="support_agent")
    def support_agent(question: str) -> str:
        route = "orders" if "order" in question else "human_review" if "card" in question else "faq"
        branch("triage", route, condition="keyword routing", result=route)
        if route == "orders":
            lookup_order(order_id=rng.randint(1000, 9999))
            if "refund" in question:
                issue_refund(order_id=1)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "Summarize: " + question}])
        summary = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        return reply.choices[0].message.content + " " + summary

    for i in range(traces):
        with trace_context(session_id=f"session-{i // 3}", user_id=f"user-{i % 7}"):
            support_agent(QUESTIONS[i % len(QUESTIONS)].format(n=i))


def write_demo_drop(drops_dir: str, traces: int = 60, service: str = "support-bot") -> dict:
    """Run the bot against the loopback server and publish its drop into `drops_dir`; returns flush()'s report."""
    server = serve_openai_wire()
    try:
        with tempfile.TemporaryDirectory() as spool:
            configure(drop_url=drops_dir, spool_dir=spool, service=service, version="1.0.0", environment="demo",
                      flush_interval_s=3600, metrics="off")
            get_runtime().clock = DemoClock()
            try:
                run_bot(f"http://127.0.0.1:{server.server_address[1]}/v1", traces)
                return flush(30)
            finally:
                shutdown()
    finally:
        server.shutdown()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m strata_capture.demo")
    ap.add_argument("drops_dir")
    ap.add_argument("--traces", type=int, default=60)
    ap.add_argument("--service", default="support-bot")
    args = ap.parse_args(argv)
    report = write_demo_drop(args.drops_dir, args.traces, args.service)
    print(json.dumps(report))
    return 0 if report.get("completed") else 1


if __name__ == "__main__":
    raise SystemExit(main())
