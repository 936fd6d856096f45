"""Streamed OpenAI calls: proxies for `Stream`/`AsyncStream` that pass chunks through and finalize the LLM span
exactly once (exhaustion, break + garbage collection, close, context exit or exception), with time to first chunk,
merged text and tool-call deltas, and usage; the usage-only chunk is hidden when the SDK injected the request for it."""
from __future__ import annotations

import time
from typing import Any

from .core import Span
from .logrec import set_usage
from .runtime import get_runtime


def field_of(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None) if not isinstance(obj, dict) else obj.get(name)
    except Exception:  # noqa: BLE001
        return None


def _read_chunk(chunk: Any) -> tuple:
    """openai's ChatCompletionChunk read with plain attribute reads (the per-chunk hot path), all before anything is
    kept: (model, usage, [(choice index, content, tool call deltas, finish reason)])."""
    deltas = []
    for c in chunk.choices or ():
        d = c.delta
        idx = c.index or 0
        deltas.append((idx if type(idx) is int else 0, d.content, d.tool_calls, c.finish_reason))
    return chunk.model, chunk.usage, deltas


class Accumulator:
    """Folds chunks (chat.completion.chunk) or events (Responses API) into the final output and usage."""

    def __init__(self, op: str) -> None:
        self.op = op
        self.text: dict[int, list[str]] = {}
        self.tools: dict[int, dict] = {}
        self.finish: dict[int, str] = {}
        self.model = None
        self.usage = None
        self.first_ns: int | None = None
        self.response = None  # Responses API: the completed response object

    def add(self, chunk: Any) -> None:
        if self.first_ns is None:
            self.first_ns = time.time_ns()
        if self.op == "responses":
            kind = field_of(chunk, "type")
            if kind == "response.output_text.delta":
                self.text.setdefault(0, []).append(field_of(chunk, "delta") or "")
            elif kind in ("response.completed", "response.incomplete", "response.failed"):
                self.response = field_of(chunk, "response")
            return
        if type(chunk) is not dict:
            try:
                read = _read_chunk(chunk)
            except Exception:  # noqa: BLE001 - not shaped like openai's ChatCompletionChunk: the careful reads below
                read = None
            if read is not None:
                self._apply(*read)
                return
        self.model = field_of(chunk, "model") or self.model
        usage = field_of(chunk, "usage")
        if usage is not None:
            self.usage = usage
        for choice in field_of(chunk, "choices") or ():
            idx = field_of(choice, "index") or 0
            delta = field_of(choice, "delta")
            content = field_of(delta, "content")
            if content:
                self.text.setdefault(idx, []).append(content)
            for tc in field_of(delta, "tool_calls") or ():
                self._tool_delta(tc)
            reason = field_of(choice, "finish_reason")
            if reason:
                self.finish[idx] = reason

    def _apply(self, model: Any, usage: Any, deltas: list) -> None:
        self.model = model or self.model
        if usage is not None:
            self.usage = usage
        for idx, content, calls, reason in deltas:
            if content:
                self.text.setdefault(idx, []).append(content)
            for tc in calls or ():
                self._tool_delta(tc)
            if reason:
                self.finish[idx] = reason

    def _tool_delta(self, tc: Any) -> None:
        slot = self.tools.setdefault(field_of(tc, "index") or 0, {"id": None, "type": "function",
                                                              "function": {"name": "", "arguments": ""}})
        slot["id"] = field_of(tc, "id") or slot["id"]
        fn = field_of(tc, "function")
        if fn is not None:
            slot["function"]["name"] += field_of(fn, "name") or ""
            slot["function"]["arguments"] += field_of(fn, "arguments") or ""

    def output(self) -> list[dict]:
        msg: dict = {"role": "assistant", "content": "".join(self.text.get(0, []))}
        if self.tools:
            msg["tool_calls"] = [self.tools[i] for i in sorted(self.tools)]
        return [msg]


def usage_only(chunk: Any) -> bool:
    return not field_of(chunk, "choices") and field_of(chunk, "usage") is not None


class _Base:
    def __init__(self, stream: Any, span: Span, op: str, injected: bool, record) -> None:
        self._stream = stream
        self._span = span
        self._acc = Accumulator(op)
        self._injected = injected
        self._record = record  # (span, response) for the Responses API's completed response
        self._done = False

    def _finish(self, how: str, exc: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        try:
            s, acc = self._span, self._acc
            s.attrs["strata.stream.end"] = how
            if acc.first_ns is not None:
                s.attrs["strata.ttft_ms"] = round((acc.first_ns - s.start_ns) / 1e6, 3)
            if acc.response is not None:
                self._record(s, acc.response)
            else:
                if acc.model:
                    s.attrs["gen_ai.response.model"] = acc.model
                if acc.finish:
                    s.attrs["gen_ai.response.finish_reasons"] = [acc.finish[i] for i in sorted(acc.finish)]
                if acc.usage is not None:
                    set_usage(s, acc.model or s.attrs.get("gen_ai.request.model"),
                              field_of(acc.usage, "prompt_tokens") or field_of(acc.usage, "input_tokens"),
                              field_of(acc.usage, "completion_tokens") or field_of(acc.usage, "output_tokens"))
                s.set_output(acc.output())
            if exc is not None:
                s.record_exception(exc)
            s.end()
        except Exception:  # noqa: BLE001
            get_runtime().count("internal_errors")

    def __getattr__(self, name: str) -> Any:  # response, _iterator, ... of the underlying stream
        return getattr(self._stream, name)

    def __del__(self) -> None:
        try:
            self._finish("garbage_collected")
        except Exception:  # noqa: BLE001
            pass


class StreamProxy(_Base):
    def __iter__(self) -> "StreamProxy":
        return self

    def __next__(self) -> Any:
        try:
            while True:
                chunk = next(self._stream)
                self._acc.add(chunk)
                if self._injected and usage_only(chunk):
                    continue
                return chunk
        except StopIteration:
            self._finish("exhausted")
            raise
        except BaseException as exc:
            self._finish("error", exc)
            raise

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish("closed")

    def __enter__(self) -> "StreamProxy":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncStreamProxy(_Base):
    def __aiter__(self) -> "AsyncStreamProxy":
        return self

    async def __anext__(self) -> Any:
        try:
            while True:
                chunk = await self._stream.__anext__()
                self._acc.add(chunk)
                if self._injected and usage_only(chunk):
                    continue
                return chunk
        except StopAsyncIteration:
            self._finish("exhausted")
            raise
        except BaseException as exc:
            self._finish("error", exc)
            raise

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            self._finish("closed")

    async def __aenter__(self) -> "AsyncStreamProxy":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
