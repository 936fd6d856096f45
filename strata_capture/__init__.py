"""strata_capture: the SDK inside an LLM application that writes the log drops Strata reads.

    import strata_capture as sc
    sc.configure(drop_url="s3://bucket/drops", service="support-bot")
    client = sc.wrap_openai(OpenAI())

    @sc.observe(kind="agent")
    def answer(question): ...

Every finished span is scrubbed and appended to an on-disk spool with one `os.write`; a publisher turns the spool
into gzip OTLP/JSON drops under `{drop_url}/capture-{service}-{hour}/`. Standard library only at import.
"""
from __future__ import annotations

from .config import Settings
from .core import Span, branch, current_span, span, trace_context
from .decorator import observe, track
from .logrec import log
from .openai_wrap import wrap_openai
from .runtime import configure, current_runtime, get_runtime

__version__ = "0.1.0"


def flush(timeout: float | None = None) -> dict:
    """Seal the spool and publish within `timeout` seconds (default `exit_timeout_s`); returns what was published."""
    return get_runtime().flush(timeout)


def shutdown(timeout: float | None = None) -> dict:
    """Final flush; spans recorded afterwards are still spooled (and counted) but not published by this process."""
    return get_runtime().shutdown(timeout)


def stats() -> dict:
    """Counters of this process: spans_written, spans_dropped(_reason), spans_sampled_out, spans_published,
    objects_published, publish_errors, mask_failures, internal_errors."""
    rt = current_runtime()
    return dict(rt.counters) if rt is not None else {}


__all__ = ["Settings", "Span", "branch", "configure", "current_span", "flush", "log", "observe", "shutdown", "span",
           "stats", "trace_context", "track", "wrap_openai"]
