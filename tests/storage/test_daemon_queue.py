"""Drops ingested by runs the real daemon launches: `dagster-daemon run -w workspace.yaml` (sensor daemon, run queue,
run monitoring) on a temp SQLite instance configured as the `embedded` profile (deploy/embedded/dagster.yaml: the
`QueuedRunCoordinator` at 4 runs, one run per `strata/service` value; the default run launcher, which has the
location's code server start a fresh process per run), with drops grouped by service (`STRATA_DROP_DEPTH=2`,
`drops/<service>/<file>.jsonl`).

The `new_log_drop_sensor` finds the drops on its first tick and one more drop, written after that tick, on a later
tick (its 30 s interval); the test polls the instance read-only until every drop's run has finished, then asserts from
the run records and the event log: every drop has exactly one `ingest_job` run, requested by the sensor and tagged
with its drop and service, and it succeeded with no warning or error logged; each run ran in its own process (the
event log's "Started process for run (pid: N)"); runs of one service never overlapped in time (a run starts after the
previous one's RUN_SUCCESS) and started oldest drop first, the late drop last; runs of different services were in
progress together (one launched before another's RUN_SUCCESS: the queue launches one run per service in the same
pass; whether their steps also executed at the same moment is timing, seen in every run here but not asserted); no
pool slot is left claimed; every drop's rows are in the warehouse exactly once; each service's detectors resumed from
its own previous drop.

Variants: the DuckDB warehouse file with pool `duckdb` at 1 (the profile as shipped; no two runs' warehouse steps at
once), and a Delta warehouse in a local folder with the pool raised to 8 (docs/deployment.md; no step waits for the
pool). SLOW: 45-80 s per variant on a loaded 2-core machine, most of it the sensor's 30 s interval before the late
drop's tick and cold run processes."""
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipeline.core.storage.store_delta import DeltaStore
from pipeline.core.storage.store_duckdb import DuckDBFileStore
from tests.process_group import stop_group

from .runs import N_ROWS, blocked_steps, check_rows, error_messages, instance, overlaps, pool_steps, step_windows, \
    write_drop

REPO = Path(__file__).resolve().parents[2]
DAEMON = Path(sys.executable).parent / "dagster-daemon"
SERVICES = ("alpha", "beta", "gamma")
EARLY = 2  # drops per service present before the daemon starts
LATE = "alpha"  # its next drop is written after the sensor's first tick
DAY = 20
TIMEOUT_S = 300
PID = re.compile(r"^Started process for run \(pid: (\d+)\)")


def drop_path(drops: Path, service: str, i: int) -> Path:
    """A service's i-th drop, its 2 minutes of calls right after the previous drop's: drops/<service>/<start>.jsonl."""
    return write_drop(drops / service / f"2026-11-{DAY}T10{2 * i:02d}.jsonl", DAY, service, start_s=N_ROWS * i)


def layout(drops: Path) -> list[str]:
    """EARLY drops per service, modified in the past, oldest first: drop by drop, the services interleaved. Returns
    the drop keys (`<service>__<file>`) in modification order."""
    base = time.time() - 3600
    keys = []
    for i in range(EARLY):
        for s, service in enumerate(SERVICES):
            path = drop_path(drops, service, i)
            os.utime(path, (base + 60 * i + s, base + 60 * i + s))
            keys.append(f"{service}__{path.name}")
    return keys


def setup(tmp_path, warehouse_env: dict, pool_limit: int | None = None) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    config = yaml.safe_load((REPO / "deploy" / "embedded" / "dagster.yaml").read_text())
    assert config["concurrency"]["runs"]["tag_concurrency_limits"][0]["key"] == "strata/service"
    if pool_limit is not None:
        config["concurrency"]["pools"]["default_limit"] = pool_limit
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (home / "workspace.yaml").write_text(
        (REPO / "workspace.yaml").read_text().replace("working_directory: .", f"working_directory: {REPO}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATA_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO), "STRATA_DROPS_URL": str(tmp_path / "drops"),
                "STRATA_DROP_DEPTH": "2", "STRATA_LAKE_URL": str(tmp_path / "lake"),
                "STRATA_ARTIFACTS_URL": str(tmp_path / "artifacts"),
                "STRATA_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"), **warehouse_env})
    with instance(env) as inst:  # its SQLite storage created here: the daemon and the test's reads never race to it
        assert inst.get_runs() == []
    return env


@contextmanager
def daemon(env: dict, log_path: Path):
    """The real daemon from DAGSTER_HOME, in its own process group; SIGTERM, then SIGKILL, on the way out."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(DAEMON), "run", "-w", "workspace.yaml"], cwd=env["DAGSTER_HOME"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)


def ingest_records(inst) -> list:
    from dagster._core.storage.dagster_run import RunsFilter

    return list(inst.get_run_records(filters=RunsFilter(job_name="ingest_job")))


def wait_for(env: dict, proc, log_path: Path, done, what: str) -> list:
    """Poll the instance (read-only) every second until `done(records)`; the daemon must stay up meanwhile."""
    deadline = time.monotonic() + TIMEOUT_S
    with instance(env) as inst:
        while True:
            records = ingest_records(inst)
            if done(records):
                return records
            assert proc.poll() is None, f"the daemon exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: " \
                f"{[(r.dagster_run.tags.get('strata/drop'), r.dagster_run.status.value) for r in records]}\n" \
                f"{log_path.read_text()[-3000:]}"
            time.sleep(1)


def ingest_through_daemon(tmp_path, env: dict) -> tuple[list[str], list]:
    """Drops before the daemon starts, one more after the sensor's first tick; the finished runs' records."""
    keys = layout(tmp_path / "drops")
    log_path = tmp_path / "daemon.log"
    with daemon(env, log_path) as proc:
        first = wait_for(env, proc, log_path, lambda rs: len(rs) >= len(keys), "the sensor's first tick")
        late = drop_path(tmp_path / "drops", LATE, EARLY)
        keys.append(f"{LATE}__{late.name}")
        records = wait_for(env, proc, log_path, lambda rs: len(rs) >= len(keys) and all(
            r.dagster_run.is_finished for r in rs), "every drop's run to finish")
    assert len(first) == len(keys) - 1  # the first tick requested every drop present, the late one came later
    assert min(r.create_timestamp for r in records if r.dagster_run.tags["strata/drop"] == keys[-1]) > \
        max(r.create_timestamp for r in first)
    return keys, records


def lifecycle(inst, run_id: str) -> dict:
    """When the run was launched (RUN_STARTING, by the daemon's queue), started executing (RUN_START, in its own
    process) and succeeded (RUN_SUCCESS), and the pid of the process the launcher started for it."""
    out = {}
    for rec in inst.all_logs(run_id, of_type={dg.DagsterEventType.RUN_STARTING, dg.DagsterEventType.RUN_START,
                                              dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.ENGINE_EVENT}):
        ev = rec.dagster_event
        if ev.event_type != dg.DagsterEventType.ENGINE_EVENT:
            out[ev.event_type.name] = rec.timestamp
        elif m := PID.match(ev.message or ""):
            assert "pid" not in out, (run_id, out)
            out["pid"] = int(m.group(1))
    return out


def check_queue(env: dict, keys: list[str], records: list, serialized: bool) -> dict:
    """One successful, clean run per drop, each in its own process; per service one at a time, oldest first; runs of
    different services in progress together; every pool slot given back; the warehouse steps `serialized` by pool
    `duckdb` at 1, or never waiting for it. Returns each drop's run lifecycle."""
    by_drop = {r.dagster_run.tags["strata/drop"]: r for r in records}
    assert len(records) == len(by_drop) and sorted(by_drop) == sorted(keys)  # one run per drop, no other
    for key, rec in by_drop.items():
        run = rec.dagster_run
        assert run.status == dg.DagsterRunStatus.SUCCESS, (key, run.status)
        assert run.tags["dagster/sensor_name"] == "new_log_drop_sensor" and run.tags["dagster/partition"] == key
        assert run.tags["strata/service"] == key.split("__")[0]
    with instance(env) as inst:
        assert [(k, error_messages(inst, by_drop[k].dagster_run.run_id)) for k in keys] == [(k, []) for k in keys]
        life = {k: lifecycle(inst, by_drop[k].dagster_run.run_id) for k in keys}
        info = inst.event_log_storage.get_concurrency_info("duckdb")
        assert info.active_slot_count == 0 and info.pending_step_count == 0
        runs = [r.dagster_run.run_id for r in records]
        pooled = pool_steps(inst, runs[0])
        windows = [w for run_id in runs for w in step_windows(inst, run_id, pooled)]
        blocked = [s for run_id in runs for s in blocked_steps(inst, run_id)]
    assert pooled and len(windows) == len(runs) * len(pooled)
    crossing = [(a, b) for a, b in overlaps(windows, slack=0.5) if a.split(":")[0] != b.split(":")[0]]
    if serialized:  # pool duckdb at 1: never two runs' warehouse steps at once (0.5 s: events stamped, not slots)
        assert crossing == [], crossing[:3]
    else:  # pool raised: no warehouse step waited for a slot
        assert blocked == []
    assert all({"RUN_STARTING", "RUN_START", "RUN_SUCCESS", "pid"} <= set(v) for v in life.values()), life
    assert len({v["pid"] for v in life.values()}) == len(keys)  # a fresh process per run
    for service in SERVICES:
        mine = [k for k in keys if k.startswith(f"{service}__")]  # in modification order
        assert sorted(mine, key=lambda k: life[k]["RUN_STARTING"]) == mine, (service, life)  # oldest drop first
        for a, b in zip(mine, mine[1:]):  # the next is launched only after the previous succeeded
            assert life[a]["RUN_SUCCESS"] < life[b]["RUN_STARTING"], (a, b, life)
    together = [(a, b) for a in keys for b in keys if a.split("__")[0] < b.split("__")[0]
                and life[a]["RUN_STARTING"] < life[b]["RUN_SUCCESS"] and life[b]["RUN_STARTING"] < life[a]["RUN_SUCCESS"]]
    assert together, f"no two services' runs were in progress together: {life}"
    return life


def check_detector_chain(read, keys: list[str]) -> None:
    """Each service's detectors resumed from its own previous drop: the spike's score changes from drop to drop (the
    state carried on), the same way in every service (the services' drops are alike and no service read another's)."""
    score = {r["drop"]: r["score"] for r in read("anomalies").to_pylist() if r["metric"] == "latency_ms"}
    chains = {s: [round(score[k], 9) for k in keys if k.startswith(f"{s}__")] for s in SERVICES}
    assert len({tuple(c[:EARLY]) for c in chains.values()}) == 1, chains
    assert len(set(chains[LATE])) == len(chains[LATE]) == EARLY + 1, chains  # the late drop's chain went on


def test_daemon_queue_on_duckdb_file(tmp_path):
    env = setup(tmp_path, {"STRATA_WAREHOUSE_URL": ""})
    keys, records = ingest_through_daemon(tmp_path, env)
    check_queue(env, keys, records, serialized=True)

    def read(table):
        with DuckDBFileStore(env["STRATA_WAREHOUSE_PATH"], read_only=True) as store:  # the daemon has stopped
            return store.scan(table)

    check_rows(read, keys)
    check_detector_chain(read, keys)


def test_daemon_queue_on_delta(tmp_path):
    where = str(tmp_path / "warehouse")
    env = setup(tmp_path, {"STRATA_WAREHOUSE_URL": where}, pool_limit=8)
    keys, records = ingest_through_daemon(tmp_path, env)
    check_queue(env, keys, records, serialized=False)
    check_rows(DeltaStore(where, {}).scan, keys)
    check_detector_chain(DeltaStore(where, {}).scan, keys)

