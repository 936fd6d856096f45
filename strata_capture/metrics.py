"""Optional Prometheus metrics (prometheus-client imported only when capture is configured with metrics on/auto):
LLM calls, tokens, cost, latency histogram, branch decisions and dropped spans, in the default registry."""
from __future__ import annotations

from typing import Any


class Metrics:
    def __init__(self, prom: Any) -> None:
        self.calls = prom.Counter("strata_capture_llm_calls_total", "LLM calls captured", ["model", "status"])
        self.tokens = prom.Counter("strata_capture_llm_tokens_total", "LLM tokens", ["model", "direction"])
        self.cost = prom.Counter("strata_capture_llm_cost_usd_total", "LLM cost in USD", ["model"])
        self.latency = prom.Histogram("strata_capture_llm_latency_seconds", "LLM call latency", ["model"],
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120))
        self.branches = prom.Counter("strata_capture_branch_decisions_total", "Branch decisions", ["from_node", "to_node"])
        self.drops = prom.Counter("strata_capture_dropped_spans_total", "Spans not written", ["reason"])

    def on_span(self, kind: str, attrs: dict, seconds: float, error: str | None) -> None:
        if kind == "llm":
            model = str(attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model") or "unknown")
            self.calls.labels(model, "error" if error else "ok").inc()
            self.latency.labels(model).observe(seconds)
            for key, direction in (("gen_ai.usage.input_tokens", "input"), ("gen_ai.usage.output_tokens", "output")):
                n = attrs.get(key)
                if isinstance(n, int) and n > 0:
                    self.tokens.labels(model, direction).inc(n)
            cost = attrs.get("gen_ai.usage.cost")
            if isinstance(cost, (int, float)) and cost > 0:
                self.cost.labels(model).inc(cost)
        elif kind == "branch":
            self.branches.labels(str(attrs.get("strata.branch.from")), str(attrs.get("strata.branch.to"))).inc()

    def dropped(self, reason: str) -> None:
        self.drops.labels(reason).inc()


_SINGLETON: list = []  # the collectors live in the process-wide registry: create them once


def make_metrics(required: bool = False) -> Metrics | None:
    if _SINGLETON:
        return _SINGLETON[0]
    try:
        import prometheus_client as prom
    except ImportError:
        if required:
            raise
        return None
    _SINGLETON.append(Metrics(prom))
    return _SINGLETON[0]
