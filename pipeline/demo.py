"""`make demo`: write sample drops, let the new-drop sensor find them, run every requested drop, learn, re-evaluate
the drops' checks against the baseline just mined (the first pass had none: it says "not checked"), publish, and print
where results are."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from pipeline.core.settings import apply_defaults


DERIVED = ("STRATA_LAKE_URL", "STRATA_WAREHOUSE_PATH", "STRATA_ARTIFACTS_URL")


def main() -> int:
    fresh = [name for name in DERIVED if name not in os.environ]
    apply_defaults()
    _clear_last_demo(fresh)
    import dagster as dg
    import duckdb

    from pipeline.core.sample_drops import write_sample_drops
    from pipeline.definitions import defs
    from sensors.new_drop import new_log_drop_sensor

    drops_dir = Path(os.environ["STRATA_DROPS_URL"])
    if not drops_dir.exists() or not any(drops_dir.iterdir()):
        made = write_sample_drops(drops_dir)
        print(f"wrote {len(made)} sample drops to {drops_dir}")
        print(_capture_drop(drops_dir))
    instance = dg.DagsterInstance.get()
    ctx = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs, resources=defs.resources)
    tick = new_log_drop_sensor.evaluate_tick(ctx)
    for req in tick.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    for event in tick.asset_events or []:  # the raw drops' observations, as the daemon records them
        instance.report_runless_asset_event(event)
    job = defs.resolve_job_def("ingest_job")
    failed = 0
    for req in tick.run_requests or []:
        tags = {**req.tags, "dagster/run_key": req.run_key, "dagster/sensor_name": new_log_drop_sensor.name}
        res = job.execute_in_process(partition_key=req.partition_key, instance=instance, tags=tags, raise_on_error=False,
                                     run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        failed += 0 if res.success else 1
        print(f"{'ok  ' if res.success else 'FAIL'} ingest_job[{req.partition_key}] run {res.run_id[:8]}")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    for name in ("learn_job", "checks_job", "staleness_job"):
        if name == "checks_job":  # the drops came before any baseline: check them again now that one exists
            failed += _recheck(defs, instance, [r.partition_key for r in tick.run_requests or []], quiet)
            continue
        res = defs.resolve_job_def(name).execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
        failed += 0 if res.success else 1
        print(f"{'ok  ' if res.success else 'FAIL'} {name} run {res.run_id[:8]}")
    alerts = _alert_tick(dg, instance, defs)
    wh = os.environ["STRATA_WAREHOUSE_PATH"]
    if Path(wh).exists():
        con = duckdb.connect(wh, read_only=True)
        rows = con.sql("SELECT drop, rows_read, rows_kept, rows_rejected, round(parse_rate * 100, 2), formats, vendors FROM drops ORDER BY drop").fetchall()
        print("\ndrop | rows read | kept | rejected | parse % | formats | vendors")
        for r in rows:
            print(" | ".join(str(x) for x in r))
        inv = con.sql("SELECT family, count(*), count(*) FILTER (severity = 'critical') FROM invariants GROUP BY 1 ORDER BY 1").fetchall()
        print("\ninvariants mined (family, count, critical): " + ", ".join(f"{f} {n} ({c})" for f, n, c in inv))
        an = con.sql("SELECT severity, count(*) FROM anomalies GROUP BY 1 ORDER BY 1").fetchall()
        print("anomalies: " + (", ".join(f"{s} {n}" for s, n in an) or "none"))
        st = con.sql("SELECT status, count(*) FROM staleness GROUP BY 1 ORDER BY 1").fetchall()
        print("staleness over the last day: " + ", ".join(f"{s} {n}" for s, n in st))
        tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
        if "drift_results" in tables:
            for kind, subject, score, lo, hi, verdict in con.sql(
                    "SELECT kind, subject, score, ci_lo, ci_hi, verdict FROM drift_results "
                    "ORDER BY kind, computed_at").fetchall():
                print(f"drift {kind:<7} {subject:<34} score {score:.3f} [{lo:.3f}, {hi:.3f}]  {verdict}")
        con.close()
    print(f"\nlake:       {os.path.abspath(os.environ['STRATA_LAKE_URL'])}")
    print(f"quarantine: {os.path.abspath(os.environ['STRATA_LAKE_URL'])}/quarantine")
    print(f"warehouse:  {os.path.abspath(wh)}  (tables: drops, log_schemas, schema_changes, invariants, staleness, baselines, anomalies, "
          "drift_results, drift_dimensions, alert_log, alert_state; views: lake_entries, lake_quarantine)")
    art = os.path.abspath(os.environ["STRATA_ARTIFACTS_URL"])
    print(f"artifacts:  {art}/baselines/invariants.strata.json, {art}/suites/test_invariants.py")
    print(f"report:     {art}/reports/report.html  (also report.md, report.json)")
    print(f"alerts:     {alerts}")
    print("UI:         make dev, then open http://127.0.0.1:3000")
    return 1 if failed else 0


def _recheck(defs, instance, drops: list[str], run_config: dict) -> int:
    """checks_job per drop: the invariant-family checks against the baseline just mined (no re-ingest)."""
    job, failed = defs.resolve_job_def("checks_job"), 0
    for drop in drops:
        res = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                     tags={"dagster/partition": drop})  # a checks-only job: no asset to infer the key from
        failed += 0 if res.success else 1
        evals = [e.asset_check_evaluation_data for e in res.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        bad = [e.check_name for e in evals if not e.passed]
        print(f"{'ok  ' if res.success else 'FAIL'} checks_job[{drop}] run {res.run_id[:8]}: {len(evals)} checks, "
              f"{len(bad)} not passing" + (f" ({', '.join(bad)})" if bad else ""))
    return failed


def _clear_last_demo(defaulted: list[str]) -> None:
    """A re-run replays the demo from its drops: the lake, warehouse and artifacts of the last run are removed, but
    only where they are the local defaults (a configured location is never touched). Otherwise the second run would
    check the drops against invariants the first one mined (and the genuine Langfuse traces, which hold an e-mail
    address, would fail the blocking PII check)."""
    import shutil

    cleared = []
    for name in defaulted:
        path = Path(os.environ[name])
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        path.with_name(path.name + ".wal").unlink(missing_ok=True)  # DuckDB's write-ahead log
        cleared.append(str(path))
    if cleared:
        print("demo: cleared the last run's " + ", ".join(cleared))


def _capture_drop(drops_dir: Path) -> str:
    """One more drop written by an application through the capture SDK (strata_capture.demo: a support bot with
    branch decisions, calling the openai client against a loopback OpenAI-wire server)."""
    from strata_capture.demo import write_demo_drop

    report = write_demo_drop(str(drops_dir), traces=60, service="support-bot")
    folders = sorted(p.name for p in drops_dir.glob("capture-support-bot-*"))
    return (f"wrote capture drop {', '.join(folders)} through strata_capture ({report.get('spans_published', 0)} "
            f"spans{'' if report.get('completed') else ', NOT completed'})")


def _alert_tick(dg, instance, defs) -> str:
    """One alert_sensor tick over what the jobs just wrote (no settle wait: the demo's drops are complete)."""
    from sensors.alerts import alert_sensor

    resources = {**defs.resources, "alert_settings": defs.resources["alert_settings"].model_copy(
        update={"settle_seconds": 0})}
    tick = alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources))
    configured = any(os.environ.get(k) for k in ("STRATA_SLACK_BOT_TOKEN", "STRATA_SLACK_WEBHOOK_URL",
                                                  "STRATA_SLACK_WARNING_WEBHOOK_URL", "STRATA_ALERT_WEBHOOK_URL",
                                                  "STRATA_ALERT_WEBHOOK_WARNING_URL"))
    targets = "" if configured else " (nothing configured to deliver to: see README, Alerts)"
    return f"{tick.skip_message or 'alert_sensor ran'}{targets}"


if __name__ == "__main__":
    sys.exit(main())
