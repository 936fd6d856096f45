"""The process-wide capture runtime: settings, spool writer, counters, optional metrics, background publisher,
`configure` / `flush` / `shutdown` / `stats`, and the exit and fork hooks.

At exit the open segment is sealed and one final publish round runs in a daemon thread for at most `exit_timeout_s`;
whatever is not published stays in the spool for the next start, a sidecar or `python -m strata_capture publish`.
After `fork` the child drops its parent's segment and publisher thread and opens its own on its first span.
"""
from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

from .config import Settings, from_env
from .spool import SpoolWriter

_LOCK = threading.Lock()
_RUNTIME: "Runtime | None" = None


def resource_of(settings: Settings) -> dict:
    res = {"service.name": settings.service, "telemetry.sdk.name": "strata_capture",
           "telemetry.sdk.language": "python"}
    if settings.version:
        res["service.version"] = settings.version
    if settings.environment:
        res["deployment.environment.name"] = settings.environment
    return res


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = time.time_ns  # span start and end times; replaceable for reproducible timings (the demo's)
        self.counters: dict[str, int] = {}
        self._pid = os.getpid()
        self.writer = SpoolWriter(settings.spool_path, resource_of(settings), settings.segment_bytes,
                                  settings.segment_age_s, settings.max_spool_bytes, self._dropped)
        self.sink = None
        self._publishes = settings.publisher == "thread" and bool(settings.drop_url)  # settings are frozen
        self.metrics = None
        if settings.metrics != "off":
            from .metrics import make_metrics

            self.metrics = make_metrics(required=settings.metrics == "on")
        from .publisher import Publisher  # deferred: only a publishing process needs it

        self.publisher = Publisher(settings.spool_path, None, settings.orphan_timeout_s, lambda: self.writer.path)
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        if settings.drop_url and settings.publisher == "thread" and self.spool_has_work():
            self._start_thread()  # recovery at start: what an earlier process left is published now

    def spool_has_work(self) -> bool:
        """Anything in the spool besides the lock file (segments, staged objects, carried spans, a journal)."""
        try:
            return any(n != ".publish.lock" and (n != "outbox" or os.listdir(os.path.join(self.settings.spool_path, n)))
                       for n in os.listdir(self.settings.spool_path))
        except OSError:
            return False

    # ---- hot path
    def pid(self) -> int:
        return self._pid

    def write(self, data: bytes) -> None:
        if self._closed:
            self.count("spans_after_shutdown")
        if self.writer.append(data):
            counters = self.counters
            counters["spans_written"] = counters.get("spans_written", 0) + 1
            if self._thread is None and self._publishes:
                self._start_thread()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def _dropped(self, reason: str) -> None:
        self.count("spans_dropped")
        self.count(f"spans_dropped_{reason}")
        if self.metrics is not None:
            self.metrics.dropped(reason)

    # ---- publishing
    def _sink(self):
        if self.sink is None and self.settings.drop_url:
            from .sink import make_sink

            self.sink = make_sink(self.settings.drop_url, self.settings.storage_options)
            self.publisher.sink = self.sink
        return self.sink

    def _start_thread(self) -> None:
        with _LOCK:
            if self._thread is not None or self._closed:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._loop, name="strata-capture-publisher", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        interval = self.settings.flush_interval_s
        while not self._stop.wait(interval):
            self.writer.seal(only_if_older_than=self.settings.segment_age_s)
            report = self.publish_round()
            interval = self.settings.flush_interval_s if not report.errors else min(interval * 2, 60.0)

    def publish_round(self, final: bool = False, force: bool = False, deadline: float | None = None):
        from .publisher import RoundReport

        report = RoundReport()
        if not self._round_lock.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
            report.locked_out = True
            return report
        try:
            self._sink()
            report = self.publisher.run(final=final, force=force, deadline=deadline)
            self._refresh_spool_size()
        except Exception as exc:  # noqa: BLE001 - never into the application
            report.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            self._round_lock.release()
        self.count("spans_published", report.spans_published)
        self.count("objects_published", report.objects_published)
        if report.errors:
            self.count("publish_errors", len(report.errors))
        return report

    def _refresh_spool_size(self) -> None:
        total = 0
        for root, _, files in os.walk(self.settings.spool_path):
            for n in files:
                try:
                    total += os.path.getsize(os.path.join(root, n))
                except OSError:
                    pass
        self.writer.other_bytes = max(0, total - self.writer.bytes)

    def flush(self, timeout: float | None = None, final: bool = False) -> dict:
        """Seal the open segment and publish within `timeout` seconds; what was published and what is pending."""
        self.writer.seal()
        timeout = self.settings.exit_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        box: list = []
        worker = threading.Thread(target=lambda: box.append(self.publish_round(final=final, deadline=deadline)),
                                  name="strata-capture-flush", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        report = box[0] if box else None
        return {"completed": report is not None and not report.errors and not report.locked_out
                and report.pending_objects == 0,
                "spans_published": report.spans_published if report else 0,
                "objects_published": report.objects_published if report else 0,
                "pending_objects": report.pending_objects if report else None,
                "pending_segments": report.pending_segments if report else None,
                "errors": list(report.errors) if report else ["timed out"]}

    def shutdown(self, timeout: float | None = None) -> dict:
        if self._closed:
            return {"completed": True, "spans_published": 0}
        self._closed = True
        self._stop.set()
        if self.settings.drop_url and self.settings.publisher == "thread":
            if not self.counters.get("spans_written") and not self.spool_has_work():
                return {"completed": True, "spans_published": 0}  # nothing to do: no sink, no imports at exit
            return self.flush(timeout, final=True)
        self.writer.seal()
        return {"completed": True, "spans_published": 0, "spool_only": True}

    # ---- fork
    def before_fork(self) -> None:
        self.writer.before_fork()

    def after_fork_parent(self) -> None:
        self.writer.after_fork_parent()

    def after_fork_child(self) -> None:
        self.writer.after_fork_child()
        self._pid = os.getpid()
        self._thread = None
        self._stop = threading.Event()
        self._round_lock = threading.Lock()
        self.counters = {}


def configure(**settings: Any) -> Settings:
    """Set up capture (every setting also from STRATA_CAPTURE_*); reconfiguring flushes the previous runtime."""
    global _RUNTIME
    new = Runtime(from_env(**settings))
    with _LOCK:
        old, _RUNTIME = _RUNTIME, new
    if old is not None:
        old.shutdown(timeout=old.settings.exit_timeout_s)
    return new.settings


def get_runtime() -> Runtime:
    rt = _RUNTIME
    if rt is None:
        with _LOCK:
            if _RUNTIME is None:
                globals()["_RUNTIME"] = Runtime(from_env())
            rt = _RUNTIME
    return rt


def current_runtime() -> Runtime | None:
    return _RUNTIME


def _at_exit() -> None:
    rt = _RUNTIME
    if rt is not None and rt.pid() == os.getpid():
        try:
            rt.shutdown()
        except Exception:  # noqa: BLE001
            pass


def _before_fork() -> None:
    if _RUNTIME is not None:
        _RUNTIME.before_fork()


def _after_fork_parent() -> None:
    if _RUNTIME is not None:
        _RUNTIME.after_fork_parent()


def _after_fork_child() -> None:
    if _RUNTIME is not None:
        _RUNTIME.after_fork_child()


atexit.register(_at_exit)
os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)
