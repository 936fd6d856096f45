"""Subprocess body for the process-death matrix: `python death_worker.py CASE N` writes N finished spans (traces of
one root and nine children) under the capture settings in the environment, then ends the way CASE says."""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time

import strata_capture as sc


def write(n: int, prefix: str) -> None:
    i = 0
    while i < n:
        with sc.span(f"{prefix}-{i}", kind="agent"):
            i += 1
            for _ in range(min(9, n - i)):
                with sc.span(f"{prefix}-{i}", kind="tool"):
                    i += 1


def mp_child(n: int) -> None:
    write(n, "child")


def main(case: str, n: int) -> None:
    sc.configure()
    if case == "normal":
        write(n, "main")
    elif case == "sink_down":
        write(n, "main")
        print(f"done {time.monotonic()}", flush=True)  # CLOCK_MONOTONIC: comparable across processes
    elif case == "thread_sys_exit":
        def body():
            write(n, "thread")
            sys.exit(3)  # ends only this thread; the interpreter then exits normally
        t = threading.Thread(target=body)
        t.start()
        t.join()
    elif case == "mp_fork_child":
        write(n // 2, "parent")
        p = multiprocessing.get_context("fork").Process(target=mp_child, args=(n - n // 2,))
        p.start()
        p.join()
        assert p.exitcode == 0
    elif case == "fork_after_configure":
        write(n // 2, "parent")
        pid = os.fork()
        if pid == 0:
            write(n - n // 2, "child")
            os._exit(0)  # no atexit, no flush: the parent's exit publishes the child's segment
        os.waitpid(pid, 0)
    elif case in ("sigterm", "sigkill"):
        with sc.span("open-root", kind="agent"):  # never finishes: its children are published as orphans
            for i in range(n):
                with sc.span(f"main-{i}", kind="tool"):
                    pass
            print("ready", flush=True)
            time.sleep(60)
    else:
        raise SystemExit(f"unknown case {case}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
