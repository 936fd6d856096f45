"""The PII sweep ("Done when" of the issue): the whole pipeline (ingest, learn, staleness, report, alerts to loopback
Slack and webhook receivers) and the CLI run over logs with PII planted in every field; then every artifact Strata
writes for people is scanned with the PII rules: reports in all formats, baselines, generated suites, warehouse tables
other than the lake, alert payloads, Dagster metadata and CLI output. Zero hits. Slow (about a minute): it is the
one end-to-end run of this folder."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from werkzeug import Response

from tests.leaks.pii_planting import EMAIL, PLANTED, leaks

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
USERS = PLANTED["email"]
LOOPBACK = ("127.0.0.1",)  # the receivers' and the Dagster UI's own address, printed by Strata, not from the logs


def _row(rng: random.Random, i: int, t0: datetime, day: int) -> dict:
    card, ssn, phone = rng.choice(PLANTED["credit_card"]), rng.choice(PLANTED["ssn"]), rng.choice(PLANTED["phone"])
    ip, iban, user = rng.choice(PLANTED["ipv4"]), rng.choice(PLANTED["iban"]), USERS[i % len(USERS)]
    spike = day == 1 and i % 97 == 0
    return {
        "timestamp": (t0 + timedelta(days=day, seconds=40 * i)).isoformat().replace("+00:00", "Z"),
        "model": "gpt-4o-mini", "service": "support-bot", "version": f"v{day + 1}",
        "user_id": user, "session_id": f"sess-{phone}" if i % 3 else f"{user}/{i // 5}",
        "prompt": f"Hi, I am {user}, SSN {ssn}, card {card}, call me at {phone}",
        "response": f"Thanks! We charged {card} and wrote to {user}; your IBAN {iban} is on file. "
                    + ("I'm sorry, I cannot help." if i % 11 == 0 else "Done."),
        "tool_calls": [{"name": "lookup_customer", "arguments": json.dumps({"email": user, "ip": ip, "iban": iban})}],
        "error": f"upstream 203.0.113.195 refused {user}" if i % 13 == 0 else None,
        "latency_ms": (9000 + rng.random() * 500) if spike else 300 + rng.random() * 200,
        "prompt_tokens": 40 + i % 20, "completion_tokens": 80 + i % 30, "status": "error" if i % 13 == 0 else "ok",
        "client_ip": ip, "metadata": {"phone": phone, "account": iban, "note": f"ssn={ssn}"},
    }


def _write_drops(drops: Path) -> None:
    rng = random.Random(5)
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    drops.mkdir(parents=True)
    for day in range(2):
        rows = [_row(rng, i, t0, day) for i in range(400)]
        (drops / f"2026-11-2{day}_support__prod.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _run(args: list[str], env: dict, cwd: Path, ok=(0, 1)) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in ok, (args, done.stdout[-2000:], done.stderr[-4000:])
    return done.stdout + done.stderr


def _warehouse_text(path: Path) -> dict[str, str]:
    """The text of every warehouse table (the lake is Parquet, not a table): its text columns, where PII could be
    carried (a DOUBLE such as 0.380896818450422 is a statistic, though the card rule reads its digits)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute("SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN "
                           "information_schema.tables t USING (table_schema, table_name) WHERE t.table_type = "
                           "'BASE TABLE' AND (c.data_type LIKE '%VARCHAR%' OR c.data_type LIKE '%JSON%')").fetchall()
        out: dict[str, list[str]] = {}
        for table, column in cols:
            values = con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall()
            out.setdefault(table, []).extend(str(v[0]) for v in values)
        return {t: "\n".join(v) for t, v in out.items()}
    finally:
        con.close()


def _dagster_metadata(home: Path) -> dict[str, str]:
    """Materialization and asset-check metadata of every run the demo made (what the Dagster UI shows)."""
    import dagster as dg

    out = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            for rec in instance.all_logs(run.run_id):
                event = rec.dagster_event
                if event is not None and event.event_type_value in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION",
                                                                    "ASSET_OBSERVATION"):
                    out[f"{run.job_name}/{rec.step_key}/{event.event_type_value}/{len(out)}"] = repr(
                        event.event_specific_data)
    return out


@pytest.fixture
def receivers(httpserver):
    got: list[tuple[str, str]] = []

    def keep(request):
        got.append((request.path, request.get_data(as_text=True)))
        return Response("ok", status=200)

    for path in ("/slack/critical", "/slack/warning", "/hook/critical", "/hook/warning"):
        httpserver.expect_request(path).respond_with_handler(keep)
    return httpserver, got


def test_no_pii_reaches_anything_written_for_people(tmp_path, receivers):
    server, received = receivers
    drops, lake, artifacts = tmp_path / "drops", tmp_path / "lake", tmp_path / "artifacts"
    warehouse, home = tmp_path / "warehouse.duckdb", tmp_path / "dagster_home"
    _write_drops(drops)
    home.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STRATA_")},
           "STRATA_DROPS_URL": str(drops), "STRATA_LAKE_URL": str(lake), "STRATA_ARTIFACTS_URL": str(artifacts),
           "STRATA_WAREHOUSE_PATH": str(warehouse), "DAGSTER_HOME": str(home),
           "STRATA_SLACK_WEBHOOK_URL": server.url_for("/slack/critical"),
           "STRATA_SLACK_WARNING_WEBHOOK_URL": server.url_for("/slack/warning"),
           "STRATA_ALERT_WEBHOOK_URL": server.url_for("/hook/critical"),
           "STRATA_ALERT_WEBHOOK_WARNING_URL": server.url_for("/hook/warning"),
           "STRATA_ALERT_WEBHOOK_SECRET": "sweep-secret-123", "PYTHONPATH": str(REPO)}
    out = {"demo": _run([PY, "-m", "pipeline.demo"], env, REPO)}
    day1, day2 = sorted(str(p) for p in drops.iterdir())
    cli = [PY, "-m", "pipeline.cli"]
    base = tmp_path / "cli.strata.json"
    out["discover"] = _run(cli + ["discover", day1], env, tmp_path)
    out["discover-json"] = _run(cli + ["discover", day1, "--format", "json"], env, tmp_path)
    out["save"] = _run(cli + ["save", day1, "-o", str(base)], env, tmp_path)
    out["staleness"] = _run(cli + ["check-staleness", day2, "--baseline", str(base)], env, tmp_path)
    out["staleness-json"] = _run(cli + ["check-staleness", day2, "--baseline", str(base), "--format", "json"], env,
                                 tmp_path)
    out["diff"] = _run(cli + ["diff", day1, day2, "--format", "json"], env, tmp_path)
    out["summary"] = _run(cli + ["summary", day2], env, tmp_path)
    out["watch"] = _run(cli + ["watch", day2], env, tmp_path)
    out["emit-tests"] = _run(cli + ["emit-tests", day1, "-o", str(tmp_path / "suite" / "test_mined.py")], env, tmp_path)
    for fmt in ("html", "md", "json"):
        out[f"report-{fmt}"] = _run(cli + ["report", str(warehouse), "--format", fmt, "-o",
                                           str(tmp_path / f"cli-report.{fmt}"), "--lake", str(lake)], env, tmp_path)
    out["suite-run"] = _run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "suite"),
                             "--strata-source", day2], env, tmp_path, ok=(0, 1))

    written = {str(p.relative_to(tmp_path)): p.read_text(errors="replace")
               for p in [*artifacts.rglob("*"), *tmp_path.glob("cli-report.*"), base, *(tmp_path / "suite").rglob("*.py")]
               if p.is_file()}
    kinds = {Path(k).suffix for k in written}
    assert {".html", ".md", ".json", ".py"} <= kinds, sorted(written)
    tables = _warehouse_text(warehouse)
    metadata = _dagster_metadata(home)
    assert any("preview" in m for m in metadata.values()), "no log_entries preview among the Dagster metadata"
    assert {"invariants", "staleness", "alert_log", "alert_state"} <= set(tables)
    assert received, "the loopback Slack and webhook receivers got nothing"
    assert any(p.startswith("/slack") for p, _ in received) and any(p.startswith("/hook") for p, _ in received)

    hits = {}
    for name, text in [*(("output " + k, v) for k, v in out.items()), *(("file " + k, v) for k, v in written.items()),
                       *(("table " + k, v) for k, v in tables.items()),
                       *(("dagster " + k, v) for k, v in metadata.items()),
                       *((f"alert {i} {p}", body) for i, (p, body) in enumerate(received))]:
        found = [f for f in leaks(text) if f[1] not in LOOPBACK]
        if found:
            hits[name] = sorted(set(found))[:5]
    assert not hits, json.dumps(hits, indent=1)
    assert EMAIL in (drops / Path(day1).name).read_text()  # the drops (and the lake) keep the data as it was
