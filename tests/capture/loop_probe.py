"""Who stalls the event loop: every callback's wall and thread-CPU time, and how much of that CPU was spent in
strata_capture's own code on the loop (the wrapper's start and after-call sections, each stream chunk's fold, the
stream's finalization: scrub, serialize, spool write). Thread CPU time is not inflated when a loaded machine
preempts the process, so "ours" stays a property of the code, not of the machine's load; a garbage collection that
happens to start inside one of our sections (any allocation can trigger one) is counted apart, in `gc_ms`.

`with LoopProbe() as probe: ...` patches asyncio's Handle._run and those sections for the duration."""
from __future__ import annotations

import asyncio.events
import gc
import time
from dataclasses import dataclass, field

from strata_capture import openai_wrap, streams


def percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class LoopProbe:
    ours_ns: int = 0  # running total of thread CPU in our sections, garbage collections excluded
    gc_ns: int = 0  # running total of thread CPU in garbage collections
    _gc_start: int = 0
    sections: dict = field(default_factory=dict)  # section name -> [thread CPU ns per call]
    callbacks: list = field(default_factory=list)  # (wall ns, thread CPU ns, ours ns, GC ns) per loop callback
    _saved: list = field(default_factory=list)

    def _timed(self, name: str, fn):
        per_call = self.sections.setdefault(name, [])

        def timed(*args, **kwargs):
            t, g = time.thread_time_ns(), self.gc_ns
            try:
                return fn(*args, **kwargs)
            finally:
                d = time.thread_time_ns() - t - (self.gc_ns - g)
                self.ours_ns += d
                per_call.append(d)
        return timed

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.thread_time_ns()
        else:
            self.gc_ns += time.thread_time_ns() - self._gc_start

    def __enter__(self) -> "LoopProbe":
        gc.callbacks.append(self._on_gc)
        handle_run = asyncio.events.Handle._run
        probe = self

        def run(handle) -> None:
            w, c, o, g = time.perf_counter_ns(), time.thread_time_ns(), probe.ours_ns, probe.gc_ns
            handle_run(handle)
            probe.callbacks.append((time.perf_counter_ns() - w, time.thread_time_ns() - c, probe.ours_ns - o,
                                    probe.gc_ns - g))

        targets = [(openai_wrap, "_start"), (openai_wrap, "_after"), (streams.Accumulator, "add"),
                   (streams.AsyncStreamProxy, "_finish")]
        self._saved = [(asyncio.events.Handle, "_run", handle_run, "_run" in vars(asyncio.events.Handle))]
        asyncio.events.Handle._run = run
        for owner, name in targets:
            self._saved.append((owner, name, getattr(owner, name), name in vars(owner)))
            setattr(owner, name, self._timed(name.strip("_"), getattr(owner, name)))
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._on_gc)
        for owner, name, original, own in reversed(self._saved):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # it was inherited: drop the patch to expose the base class's again

    def summary(self, over_ms: float = 1.0) -> dict:
        """Callbacks over `over_ms` (wall): how many ran our code; how many our code tipped over (their CPU minus
        ours is under the limit: without our code they would not have used that much); how many used that much
        CPU at all (else the process was preempted); how many spent that long in one garbage collection; our share
        of the slow callbacks' CPU; callbacks in which our code alone used `over_ms` (many buffered chunks folded in
        one callback); the p99 and max thread CPU per call of each of our sections (microseconds)."""
        limit = over_ms * 1e6
        slow = [c for c in self.callbacks if c[0] > limit]
        ours_per_cb = [c[2] for c in self.callbacks if c[2]]
        out = {"callbacks": len(self.callbacks), "slow_callbacks": len(slow),
               "slow_with_our_code": sum(1 for c in slow if c[2]),
               "slow_tipped_by_our_code": sum(1 for c in slow if c[1] > limit >= c[1] - c[2]),
               "slow_cpu_over_limit": sum(1 for c in slow if c[1] > limit),
               "slow_gc_over_limit": sum(1 for c in slow if c[3] > limit),
               "our_share_of_slow_cpu": sum(c[2] for c in slow) / max(1, sum(c[1] for c in slow)),
               "callbacks_with_1ms_of_our_code": sum(1 for c in self.callbacks if c[2] > limit),
               "ours_per_callback_p99_us": percentile(ours_per_cb, 0.99) / 1e3,
               "ours_per_callback_max_us": max(ours_per_cb, default=0) / 1e3, "gc_ms": self.gc_ns / 1e6}
        for name, values in self.sections.items():
            out[f"{name}_calls"] = len(values)
            out[f"{name}_p99_us"] = percentile(values, 0.99) / 1e3
            out[f"{name}_max_us"] = max(values, default=0) / 1e3
        return out
