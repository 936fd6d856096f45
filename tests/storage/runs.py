"""Real Dagster runs of `ingest_job` in separate processes, for tests/storage/test_concurrent_runs.py: each process is
started fresh (multiprocessing spawn, as the default run launcher starts one process per run), opens the on-disk
instance from $DAGSTER_HOME and executes one drop partition with `execute_job(reconstructable(...))`. The parent
reads the instance's event log afterwards: step windows, pool claims, errors. Shared with
tests/storage/test_daemon_queue.py (runs launched by the daemon's queue): the drops, the instance opened from its
folder, the event-log readers and the warehouse row checks."""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

N_ROWS = 120
SPIKE_LINE = 100  # one latency spike per drop, after the detectors' warm-up
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
# what a lost commit race or a lock would print, in any event message of a run
LOCK_OR_COMMIT = re.compile(r"lock|conflict|commit|concurrent|transaction|retr(y|ies)|precondition", re.IGNORECASE)
POOL_BLOCKED = re.compile(r"^Step (still )?blocked by limit for pool duckdb$")  # the pool at work, a warning by level


def drop_name(i: int) -> str:
    return f"svc{i}__day.jsonl"  # its own service per drop: detectors and drift never read another drop


def drop_rows(day: int, service: str, start_s: int = 0) -> list[dict]:
    """N_ROWS calls of `service`, one a second from 10:00:00 + `start_s` on 2026-11-<day>, steady latencies but one
    spike at SPIKE_LINE."""
    t0 = datetime(2026, 11, day, 10, tzinfo=timezone.utc) + timedelta(seconds=start_s)
    return [{"timestamp": (t0 + timedelta(seconds=j)).strftime("%Y-%m-%dT%H:%M:%SZ"), "service": service,
             "prompt": f"q{day}-{j}", "response": {"text": "ok"}, "model": "gpt-4o-mini",
             "latency_ms": 100 + (j % 7) + (20000 if j == SPIKE_LINE else 0),
             "usage": {"prompt_tokens": 10, "completion_tokens": 5}, "session_id": f"s{j // 4}", "status": "ok"}
            for j in range(N_ROWS)]


def write_drop(path: Path, day: int, service: str, start_s: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in drop_rows(day, service, start_s)) + "\n")
    return path


def write_drops(folder: Path, n: int) -> list[str]:
    for i in range(n):
        write_drop(folder / drop_name(i), 10 + i, f"svc{i}")
    return [drop_name(i) for i in range(n)]


def instance_yaml(pool_limit: int) -> str:
    """A SQLite instance whose pools hold per step (across runs) with `pool_limit` slots each."""
    return (f"concurrency:\n  pools:\n    granularity: op\n    default_limit: {pool_limit}\n"
            "telemetry:\n  enabled: false\n")


def instance(env: dict):
    """The on-disk instance of `env`'s DAGSTER_HOME, opened from its folder (this process's environment untouched)."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


def check_rows(read, keys: list[str]) -> None:
    """Every drop's rows in the warehouse exactly once; `read(table)` returns an Arrow table."""
    drops = read("drops").to_pylist()
    assert sorted(r["drop"] for r in drops) == sorted(keys)  # one row per drop
    assert {r["drop"]: r["rows_kept"] for r in drops} == {k: N_ROWS for k in keys}
    schemas = read("log_schemas").to_pylist()
    per_drop = {k: sorted((r["role"], r["path"]) for r in schemas if r["drop"] == k) for k in keys}
    assert len(set(map(tuple, per_drop.values()))) == 1 and per_drop[keys[0]]  # the same roles for every drop
    assert all(len(v) == len(set(v)) for v in per_drop.values())  # no role row twice
    # the one latency spike of each drop (line numbers count from 1), once, and nothing else
    spikes = sorted((r["drop"], r["line"], r["metric"], r["severity"]) for r in read("anomalies").to_pylist())
    assert spikes == sorted((k, SPIKE_LINE + 1, "latency_ms", "critical") for k in keys)


def ingest_job_def():
    from pipeline.definitions import defs

    return defs.resolve_job_def("ingest_job")


def run_drop(env: dict, key: str, out) -> None:
    """One run of ingest_job for drop `key` in this (fresh) process; puts (key, run_id, success) on `out`."""
    os.environ.update(env)
    import dagster as dg

    from pipeline.partitions import SERVICE_TAG, drop_service

    with dg.DagsterInstance.get() as instance:
        tags = {"dagster/partition": key, SERVICE_TAG: drop_service(key)}
        with dg.execute_job(dg.reconstructable(ingest_job_def), instance, tags=tags, run_config=QUIET) as result:
            out.put((key, result.run_id, result.success))


def step_windows(instance, run_id: str, steps: set[str]) -> list[tuple[float, float, str]]:
    """(start, end, step) of each of `steps` that ran in the run: STEP_START to its success or failure."""
    import dagster as dg

    starts, out = {}, []
    for rec in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
                                                  dg.DagsterEventType.STEP_FAILURE}):
        step = rec.step_key
        if step not in steps:
            continue
        if rec.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[step] = rec.timestamp
        else:
            out.append((starts[step], rec.timestamp, f"{run_id[:8]}:{step}"))
    return out


def overlaps(windows: list[tuple[float, float, str]], slack: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of windows that overlap in time by more than `slack` seconds."""
    ws = sorted(windows)
    return [(a[2], b[2]) for i, a in enumerate(ws) for b in ws[i + 1:] if b[0] < a[1] - slack]


def error_messages(instance, run_id: str) -> list[str]:
    """Failures and any message about a lock or a commit race in the run's event log."""
    import logging

    import dagster as dg

    bad = []
    for rec in instance.all_logs(run_id):
        ev = rec.dagster_event
        if ev is not None and ev.event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
            bad.append(f"{ev.event_type_value}: {ev.message}")
        elif rec.user_message and POOL_BLOCKED.match(rec.user_message):
            continue
        elif rec.level >= logging.WARNING or (rec.user_message and LOCK_OR_COMMIT.search(rec.user_message)):
            bad.append(rec.user_message)
    return bad


def blocked_steps(instance, run_id: str) -> set[str]:
    """Steps of the run that waited for a slot of pool `duckdb` (Dagster logs it when the claim is refused)."""
    return {rec.step_key for rec in instance.all_logs(run_id) if rec.user_message and POOL_BLOCKED.match(rec.user_message)}


def pool_steps(instance, run_id: str) -> set[str]:
    """Steps of the run that hold a pool (their op names a pool in the plan's snapshot)."""
    snap = instance.get_execution_plan_snapshot(instance.get_run_by_id(run_id).execution_plan_snapshot_id)
    return {s.key for s in snap.steps if getattr(s, "pool", None)}
