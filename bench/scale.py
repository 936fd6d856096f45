"""Scale-out: drops per minute through ingest_job with 1, 2 and 4 concurrent runs (separate processes, as the queued
run coordinator launches them) on the embedded DuckDB-file warehouse and on the Delta store (local disk), and the
warehouse read time of the report's queries on both. The reference is the DuckDB store at 1 run, measured in the same
process. Worker processes are started and have each run one whole drop of their own (imports, JIT compilation,
first-use caches) before the clock starts, so the clock sees steady-state run workers at every concurrency (the same
for both stores). Each (store, runs) trial is repeated STRATA_BENCH_REPEATS times (default 3), the repeats interleaved (every
configuration once, then again), and the median is reported; the 1 -> 2 and 1 -> 4 speedups are the medians of the
per-repeat ratios (1 and 2 runs measured back to back, so a load change between repeats cancels). Last line: one
JSON object.

    python bench/scale.py            # STRATA_BENCH_DROPS (default 8) drops of STRATA_BENCH_ROWS (default 2000) rows
    STRATA_BENCH_CONCURRENCY=1,2 STRATA_BENCH_STORES=delta python bench/scale.py   # a subset (1 must be in it)
"""
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.storage.drops import KEY_SEP  # noqa: E402

N_DROPS = int(os.environ.get("STRATA_BENCH_DROPS", "8"))
ROWS = int(os.environ.get("STRATA_BENCH_ROWS", "2000"))
REPEATS = int(os.environ.get("STRATA_BENCH_REPEATS", "3"))
CONCURRENCY = tuple(int(n) for n in os.environ.get("STRATA_BENCH_CONCURRENCY", "1,2,4").split(","))
STORES = tuple(os.environ.get("STRATA_BENCH_STORES", "duckdb,delta").split(","))
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def make_drops(folder: Path, count: int = N_DROPS) -> list[str]:
    folder.mkdir(parents=True)
    rng = random.Random(7)
    keys = []
    for d in range(count):
        lines = []
        for i in range(ROWS):
            lines.append(json.dumps({
                "timestamp": f"2026-11-{1 + d:02d}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
                "prompt": f"question {rng.randint(0, 10**6)}", "response": {"text": '{"answer": "ok"}'},
                "model": rng.choice(["gpt-4o-mini", "gpt-4o"]), "latency_ms": round(rng.lognormvariate(6, 0.4), 1),
                "usage": {"prompt_tokens": rng.randint(5, 500), "completion_tokens": rng.randint(5, 300)},
                "session_id": f"s{i // 5}", "status": "ok" if rng.random() > 0.02 else "error"}))
        # one service per drop: the run queue runs one run per service at a time (oldest first), so concurrent runs
        # in production are runs of different services; runs of one service never overlap
        (folder / f"svc-{d + 1:02d}").mkdir()
        (folder / f"svc-{d + 1:02d}" / f"day-{d + 1:02d}.jsonl").write_text("\n".join(lines) + "\n")
        keys.append(f"svc-{d + 1:02d}{KEY_SEP}day-{d + 1:02d}.jsonl")
    return keys


def _prepare(root: Path, store: str, count: int) -> tuple[dict, list[str]]:
    """A root with `count` drops, an instance that knows them, and the environment that points a run at it."""
    import dagster as dg

    keys = make_drops(root / "drops", count)
    (root / "home").mkdir()
    instance_yaml = (ROOT / "deploy" / "embedded" / "dagster.yaml").read_text()
    if store == "delta":  # as docs/deployment.md says for the Delta warehouse: pool `duckdb` no longer serializes
        instance_yaml = instance_yaml.replace("default_limit: 1", "default_limit: 8")
        assert "default_limit: 8" in instance_yaml
    (root / "home" / "dagster.yaml").write_text(instance_yaml)
    env = _env(root, store)
    os.environ.update(env)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("log_drops", keys)
    return env, keys


def _init(env: dict, store: str, warm_base: str, ready) -> None:
    """Each worker runs one whole drop in a private root before the clock starts, so lazy imports, JIT compilation
    and first-use caches are paid outside the measurement (otherwise N workers pay them N times inside it, which
    reads as CPU growing with concurrency); then it points at the trial's root."""
    warm_env, warm_keys = _prepare(Path(warm_base) / str(os.getpid()), store, 1)
    _run(warm_keys[0])
    os.environ.update(env)
    with ready.get_lock():
        ready.value += 1


def _run(key: str) -> tuple[bool, float]:
    """One drop's run; its success and the CPU seconds the run's process spent on it (all its threads)."""
    import dagster as dg

    from pipeline.definitions import defs

    cpu = time.process_time()
    with dg.DagsterInstance.get() as instance:
        res = defs.resolve_job_def("ingest_job").execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET)
    return res.success, time.process_time() - cpu


def _env(root: Path, store: str) -> dict:
    return {"DAGSTER_HOME": str(root / "home"), "STRATA_DROPS_URL": str(root / "drops"),
            "STRATA_LAKE_URL": str(root / "lake"), "STRATA_ARTIFACTS_URL": str(root / "artifacts"),
            "STRATA_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
            "STRATA_WAREHOUSE_URL": str(root / "delta") if store == "delta" else "", "STRATA_DROP_DEPTH": "2"}


def trial(base: Path, store: str, runs: int, repeat: int = 0) -> dict:
    root = base / f"{store}-{runs}-{repeat}"
    env, keys = _prepare(root, store, N_DROPS)
    ctx = mp.get_context("spawn")
    ready = ctx.Value("i", 0)
    pool = ctx.Pool(runs, initializer=_init, initargs=(env, store, str(base / f"warm-{store}-{runs}-{repeat}"), ready))
    try:
        while ready.value < runs:  # every worker warmed, none started on the trial's drops
            time.sleep(0.05)
        t0 = time.perf_counter()
        done = pool.map(_run, keys, chunksize=1)
        elapsed = time.perf_counter() - t0
    finally:
        pool.close()
        pool.join()
    cpu = sum(c for _, c in done)
    # busy_cores: CPU the runs used per second of wall time; 1 run using ~0.8 core leaves room for 2 on 2 free cores
    return {"store": store, "runs": runs, "drops": len(keys), "failed": [ok for ok, _ in done].count(False),
            "seconds": round(elapsed, 2), "drops_per_minute": round(len(keys) / elapsed * 60, 2),
            "cpu_s_per_drop": round(cpu / len(keys), 2), "busy_cores": round(cpu / elapsed, 2), "root": str(root)}


def read_time(root: Path, store: str, repeat: int = 3) -> float:
    """Median seconds to open the warehouse and build the report's data from it (all its queries)."""
    from pipeline.core.report import build_report_data

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        if store == "delta":
            from pipeline.core.storage.store_delta import DeltaStore

            con = DeltaStore(str(root / "delta")).reader()
        else:
            from pipeline.core.storage.warehouse_lock import connect_warehouse

            con = connect_warehouse(str(root / "warehouse.duckdb"), read_only=True)
        try:
            build_report_data(con, None)
        finally:
            con.close()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def speedups(results: list[dict], store: str, runs: int) -> list[float]:
    """Per repeat: drops/min at `runs` over drops/min at 1 run, both from the same repeat."""
    rate = {(r["store"], r["runs"], r["repeat"]): r["drops_per_minute"] for r in results}
    return [rate[(store, runs, k)] / rate[(store, 1, k)] for k in range(REPEATS)]


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="strata-bench-scale-"))
    results = []
    try:
        for k in range(REPEATS):
            for store in STORES:
                for runs in CONCURRENCY:
                    r = {**trial(base, store, runs, k), "repeat": k}
                    results.append(r)
                    print(f"repeat {k}  {store:6s} runs={runs}  {r['drops']} drops in {r['seconds']:7.2f} s  "
                          f"{r['drops_per_minute']:6.2f} drops/min  {r['cpu_s_per_drop']:.2f} CPU s/drop  "
                          f"busy cores {r['busy_cores']:.2f}  failed={r['failed']}  "
                          f"load={os.getloadavg()[0]:.1f}", flush=True)
        last = REPEATS - 1
        reads = {s: read_time(Path(next(r["root"] for r in results
                                        if r["store"] == s and r["runs"] == max(CONCURRENCY) and r["repeat"] == last)), s)
                 for s in STORES}
        for s, t in reads.items():
            print(f"report read ({s}): {t * 1000:.0f} ms")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    rate = {(s, n): statistics.median(r["drops_per_minute"] for r in results if r["store"] == s and r["runs"] == n)
            for s in STORES for n in CONCURRENCY}
    ref = rate[(STORES[0], 1)]
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
    ratio = {f"{s}_speedup_1_to_{n}": [round(x, 3) for x in speedups(results, s, n)]
             for s in STORES for n in CONCURRENCY if n > 1}
    out = {"bench": "scale", "drops": N_DROPS, "rows_per_drop": ROWS, "repeats": REPEATS, "cpus": os.cpu_count(),
           "drops_per_minute_median": {f"{s}_{n}": round(rate[(s, n)], 2) for s, n in rate},
           "reference": f"{STORES[0]}_1", "ratio_to_reference": {f"{s}_{n}": round(rate[(s, n)] / ref, 3) for s, n in rate},
           **{k: round(statistics.median(v), 3) for k, v in ratio.items()},
           "speedups_per_repeat": ratio,
           "report_read_ms": {s: round(t * 1000, 1) for s, t in reads.items()},
           "busy_cores_median": {f"{s}_{n}": statistics.median(r["busy_cores"] for r in results
                                                                if r["store"] == s and r["runs"] == n) for s, n in rate},
           "failed_runs": sum(r["failed"] for r in results), "peak_rss_mb": round(peak_mb, 1),
           "load_average_1m": round(os.getloadavg()[0], 2)}
    print(json.dumps(out))
    return 0 if out["failed_runs"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
