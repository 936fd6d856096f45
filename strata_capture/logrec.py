"""`log(...)`: one explicit LLM call record with Strata's canonical field names, for calls made without the wrapper;
and the usage/cost attributes the wrapper shares."""
from __future__ import annotations

from typing import Any

from .core import Span, trace_context
from .runtime import get_runtime


def cost_usd(model: str | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    """Cost from the configured `prices` ({model: [USD per 1M input, USD per 1M output]}), else None."""
    price = get_runtime().settings.prices.get(model or "")
    if not price or (prompt_tokens is None and completion_tokens is None):
        return None
    return round(((prompt_tokens or 0) * float(price[0]) + (completion_tokens or 0) * float(price[1])) / 1e6, 12)


def set_usage(s: Span, model: str | None, prompt_tokens: Any, completion_tokens: Any, cost: Any = None) -> None:
    if isinstance(prompt_tokens, int):
        s.attrs["gen_ai.usage.input_tokens"] = prompt_tokens
    if isinstance(completion_tokens, int):
        s.attrs["gen_ai.usage.output_tokens"] = completion_tokens
    if cost is None:
        cost = cost_usd(model, prompt_tokens if isinstance(prompt_tokens, int) else None,
                        completion_tokens if isinstance(completion_tokens, int) else None)
    if isinstance(cost, (int, float)):
        s.attrs["gen_ai.usage.cost"] = float(cost)


def log(*, model: str | None = None, input: Any = None, output: Any = None,  # noqa: A002
        prompt_tokens: int | None = None, completion_tokens: int | None = None, latency_ms: float | None = None,
        cost_usd: float | None = None, status: str | None = None, error: str | None = None,
        tool_calls: list[str] | None = None, provider: str | None = None, name: str = "llm_call",
        session_id: str | None = None, user_id: str | None = None, request_id: str | None = None,
        prompt_version: str | None = None, attributes: dict | None = None) -> None:
    """Record one LLM call (under the current span if any); `tool_calls` become tool spans after it, in order."""
    try:
        ctx = {k: v for k, v in (("session_id", session_id), ("user_id", user_id), ("request_id", request_id),
                                 ("prompt_version", prompt_version)) if v is not None}
        with trace_context(**ctx) if ctx else _nullctx():
            end_ns = get_runtime().clock()
            s = Span(name, "llm", attributes=attributes)
            if latency_ms is not None:
                s.start_ns = end_ns - int(float(latency_ms) * 1e6)
            if model:
                s.attrs["gen_ai.request.model"] = model
            s.attrs["gen_ai.provider.name"] = provider or "openai"
            set_usage(s, model, prompt_tokens, completion_tokens, cost_usd)
            s.set_input(input)
            s.set_output(output)
            if error is not None or status == "error":
                s.error = f"error: {s.scrub_value(error or 'error')}"
            s.end(end_ns)
            for i, tool in enumerate(tool_calls or []):
                t = Span(str(tool), "tool", parent=s)
                t.parent_id = s.parent_id or s.span_id
                t.start_ns = end_ns + i + 1
                t.end(end_ns + i + 1)
    except Exception:  # noqa: BLE001
        get_runtime().count("internal_errors")


class _nullctx:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None

