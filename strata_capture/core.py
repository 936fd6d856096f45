"""Spans: the current span and trace context (contextvars, so they follow `await` and copied contexts into threads),
the `span(...)` context manager (`with` and `async with`), branch decisions and explicit `log(...)` records.

A span is written when it ends: scrubbed, serialized to one line, appended to the spool. Nothing here raises into
the application; an internal failure is counted in `stats()["internal_errors"]`.
"""
from __future__ import annotations

import contextvars
import random
from typing import Any

from .runtime import get_runtime
from .encode import esc
from .scrub import MASK_FAILED, content_text, dumps, safe_repr

KINDS = ("agent", "chain", "tool", "retrieval", "llm", "workflow", "embedding", "branch", "span")
_getrandbits = random.getrandbits  # bound once: the hot path's id draws
CURRENT: contextvars.ContextVar["Span | None"] = contextvars.ContextVar("strata_capture_span", default=None)
TRACE_CONTEXT: contextvars.ContextVar[dict] = contextvars.ContextVar("strata_capture_context", default={})
_CONTEXT_ATTRS = {"session_id": "session.id", "user_id": "user.id", "request_id": "strata.request_id",
                  "prompt_version": "strata.prompt_version"}


_LLM_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")
_OTHER_KEYS = ("input.value", "output.value")


class Span:
    """One unit of work; use via `span(...)`, the decorator or the OpenAI wrapper. `end()` writes it (once)."""

    __slots__ = ("trace_id", "span_id", "parent_id", "name", "kind", "start_ns", "attrs", "error", "sampled",
                 "_token", "_done", "_rt")

    def __init__(self, name: str, kind: str = "span", parent: "Span | None" = None, attributes: dict | None = None,
                 version: str | None = None, environment: str | None = None) -> None:
        rt = get_runtime()
        self._rt = rt
        self.name = name
        self.kind = kind if kind in KINDS else "span"
        self._token = None
        self._done = False
        self.error: str | None = None
        if parent is None:
            parent = CURRENT.get()
        if parent is not None:
            self.trace_id, self.parent_id, self.sampled = parent.trace_id, parent.span_id, parent.sampled
            self.span_id = "%016x" % _getrandbits(64)
        else:
            ids = "%048x" % _getrandbits(192)  # one draw: 128 bits of trace id, 64 of span id
            self.trace_id, self.span_id, self.parent_id = ids[:32], ids[32:], None
            settings = rt.settings
            rate = settings.sample_rate
            self.sampled = settings.enabled and (rate >= 1.0 or random.random() < rate)
            if not self.sampled:
                rt.count("spans_sampled_out")
        attrs: dict = {}
        ctx = TRACE_CONTEXT.get()
        if ctx:
            for k, v in ctx.items():
                attrs[_CONTEXT_ATTRS.get(k, k)] = v
        if version:
            attrs["service.version"] = version
        if environment:
            attrs["deployment.environment.name"] = environment
        if attributes:
            for k, v in attributes.items():
                attrs[str(k)] = self.scrub_value(v)
        self.attrs = attrs
        self.start_ns = rt.clock()

    # ---- content and attributes (scrubbed as they are set: the raw value is never kept)
    def scrub_value(self, value: Any) -> Any:
        if isinstance(value, (bool, int, float)) or value is None:
            return value
        s = self._rt.settings
        if s.content == "raw":
            return value if isinstance(value, str) else content_text(value, "raw", s.max_field_chars)
        return content_text(value, "scrub", s.max_field_chars, s.mask)

    def set_input(self, value: Any) -> None:
        if self.sampled:
            self._set_content(0, value)

    def set_output(self, value: Any) -> None:
        if self.sampled:
            self._set_content(1, value)

    def _set_content(self, which: int, value: Any) -> None:
        try:
            st = self._rt.settings
            text = content_text(value, st.content, st.max_field_chars, st.mask)
            if text is not None:
                if text is MASK_FAILED:
                    self._rt.count("mask_failures")
                self.attrs[(_LLM_KEYS if self.kind == "llm" else _OTHER_KEYS)[which]] = text
        except Exception:  # noqa: BLE001
            self._rt.count("internal_errors")

    def set_attribute(self, key: str, value: Any) -> None:
        if self.sampled:
            try:
                self.attrs[str(key)] = self.scrub_value(value)
            except Exception:  # noqa: BLE001
                self._rt.count("internal_errors")

    def set_attributes(self, values: dict) -> None:
        for k, v in values.items():
            self.set_attribute(k, v)

    def record_exception(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {self.scrub_value(safe_str(exc))}"
        self.attrs["error.type"] = type(exc).__name__

    # ---- lifecycle
    def activate(self) -> "Span":
        self._token = CURRENT.set(self)
        return self

    def deactivate(self) -> None:
        if self._token is not None:
            try:
                CURRENT.reset(self._token)
            except ValueError:  # reset from another context (e.g. a generator finalized elsewhere)
                pass
            self._token = None

    def end(self, end_ns: int | None = None) -> None:
        if self._done:
            return
        self._done = True
        if not self.sampled:
            return
        rt = self._rt
        try:
            end_ns = end_ns or rt.clock()
            try:
                attrs = dumps(self.attrs)
            except (TypeError, ValueError, RecursionError):  # cycles or odd keys in user attributes
                attrs = dumps({str(k): v if isinstance(v, (str, int, float, bool)) else safe_repr(v)
                               for k, v in self.attrs.items()})
            parent = self.parent_id
            line = (f'{{"t":"{self.trace_id}","s":"{self.span_id}","p":'
                    f'{esc(parent) if parent else "null"},"n":{_name_json(self.name)},"k":"{self.kind}",'
                    f'"b":{self.start_ns},"e":{end_ns},"P":{rt.pid()},'
                    + (f'"x":{esc(self.error)},' if self.error is not None else "") + f'"a":{attrs}}}\n')
            rt.write(line.encode("utf-8", "replace"))  # a lone surrogate becomes "?"
            if rt.metrics is not None:
                rt.metrics.on_span(self.kind, self.attrs, (end_ns - self.start_ns) / 1e9, self.error)
        except Exception:  # noqa: BLE001
            rt.count("internal_errors")

    # ---- context manager protocol
    def __enter__(self) -> "Span":
        return self.activate()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.record_exception(exc)
        self.deactivate()
        self.end()

    async def __aenter__(self) -> "Span":
        return self.activate()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        self.__exit__(exc_type, exc, tb)


_NAMES: dict[str, str] = {}  # span name -> its JSON string; most processes use a few dozen names


def _name_json(name: str) -> str:
    text = _NAMES.get(name)
    if text is None:
        text = esc(name)
        if len(_NAMES) < 4096:  # bounded: names built from data (branch spans) must not grow memory
            _NAMES[name] = text
    return text


def safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "<unprintable>"
    return text if isinstance(text, str) else "<unprintable>"


def span(name: str, kind: str = "span", input: Any = None, attributes: dict | None = None,  # noqa: A002
         version: str | None = None, environment: str | None = None) -> Span:
    """`with span("lookup", kind="tool", input=args) as s: ...; s.set_output(result)` (also `async with`)."""
    s = Span(name, kind, attributes=attributes, version=version, environment=environment)
    if input is not None:
        s.set_input(input)
    return s


def current_span() -> Span | None:
    return CURRENT.get()


def branch(from_node: str, to_node: str, condition: Any = None, result: Any = None, context: Any = None) -> None:
    """Record a branch decision `from_node -> to_node` as a zero-length span under the current span."""
    try:
        s = Span(f"branch {from_node}->{to_node}", "branch",
                 attributes={"strata.branch.from": str(from_node), "strata.branch.to": str(to_node)})
        if condition is not None:
            s.set_attribute("strata.branch.condition", condition)
        if result is not None:
            s.set_attribute("strata.branch.result", result if isinstance(result, (bool, int, float)) else str(result))
        if context is not None:
            s.set_input(context)
        s.end(s.start_ns)
    except Exception:  # noqa: BLE001
        get_runtime().count("internal_errors")


class trace_context:
    """`with trace_context(session_id=..., user_id=..., request_id=..., prompt_version=...)`: attached to every span
    started inside (contextvars: survives `await`, and threads started with a copied context)."""

    def __init__(self, **values: Any) -> None:
        self.values = {k: str(v) for k, v in values.items() if v is not None}
        self._token = None

    def __enter__(self) -> "trace_context":
        self._token = TRACE_CONTEXT.set({**TRACE_CONTEXT.get(), **self.values})
        return self

    def __exit__(self, *exc: Any) -> None:
        TRACE_CONTEXT.reset(self._token)

    async def __aenter__(self) -> "trace_context":
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)
