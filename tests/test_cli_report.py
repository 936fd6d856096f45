"""`strata report`: writes html, md or json (the path printed), the EU AI Act template signed, charts from local lake
entries, and exit 2 with the file named on stderr for a missing or unreadable warehouse."""
import argparse
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline import cli
from pipeline.cli.report import register
from pipeline.core.report import verify_report
from tests.report_screenshot import populate_warehouse, sample_entries


def run(argv, monkeypatch) -> int:
    """`strata ...` through pipeline.cli.main, with the report command registered if the CLI does not have it yet."""
    build = cli.build_parser

    def parser():
        p = build()
        sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        if "report" not in sub.choices:
            register(sub)
        return p

    monkeypatch.setattr(cli, "build_parser", parser)
    return cli.main(argv)


@pytest.fixture(autouse=True)
def no_default_lake(tmp_path, monkeypatch):
    """Reports read ./data/lake by default: point that at nothing, so a developer's demo data never leaks in."""
    monkeypatch.setenv("STRATA_LAKE_URL", str(tmp_path / "no-lake"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("wh")
    entries = sample_entries(days=3, per_hour=12)
    path = root / "strata.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        populate_warehouse(con, entries)
        for drop in con.sql("SELECT drop FROM drops").fetchall():  # point drops at a local lake
            folder = root / "lake" / f"drop={drop[0]}"
            folder.mkdir(parents=True)
            pq.write_table(entries.filter(entries.column("drop").to_pandas().eq(drop[0]).to_numpy()),
                           folder / "part-00000.parquet")
            con.execute("UPDATE drops SET entries_path = ? WHERE drop = ?", [str(folder), drop[0]])
    return path


@pytest.mark.parametrize("fmt,check", [
    ("html", lambda t: t.startswith("<!doctype html>") and "Anomalies over time" in t),
    ("md", lambda t: t.startswith("# Team report") and "## 4. Drift" in t),
    ("json", lambda t: json.loads(t)["schema_version"] == 1),
])
def test_writes_each_format_and_prints_the_path(warehouse, tmp_path, capsys, monkeypatch, fmt, check):
    out = tmp_path / "sub" / f"report.{fmt}"
    assert run(["report", str(warehouse), "-o", str(out), "--format", fmt, "--title", "Team report"], monkeypatch) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert check(out.read_text(encoding="utf-8"))


def test_local_lake_entries_feed_the_charts(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    assert run(["report", str(warehouse), "-o", str(out), "--format", "json"], monkeypatch) == 0
    charts = json.loads(out.read_text())["anomalies"]["charts"]
    latency = next(c for c in charts if c["metric"] == "latency_ms")
    assert latency["series"]["points_in"] == 3 * 24 * 12


def test_eu_ai_act_signed(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "eu.html"
    assert run(["report", str(warehouse), "-o", str(out), "--template", "eu-ai-act", "--sign"], monkeypatch) == 0
    html = out.read_text(encoding="utf-8")
    assert verify_report(html) and "Article 72 evidence" in html
    assert not verify_report(html.replace("Drops ingested", "Drops ingestet"))


def test_missing_or_unreadable_warehouse_exits_2(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "nope.duckdb"
    assert run(["report", str(missing), "-o", str(tmp_path / "r.html")], monkeypatch) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such warehouse file" in err
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    assert run(["report", str(junk), "-o", str(tmp_path / "r.html")], monkeypatch) == 2
    assert str(junk) in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_empty_warehouse_still_reports(tmp_path, capsys, monkeypatch):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    out = tmp_path / "r.md"
    assert run(["report", str(path), "-o", str(out), "--format", "md"], monkeypatch) == 0
    assert "_Not computed yet._" in out.read_text()


def test_unwritable_output_exits_2(warehouse, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert run(["report", str(warehouse), "-o", str(blocker / "r.html")], monkeypatch) == 2
    assert str(blocker / "r.html") in capsys.readouterr().err


def test_a_log_source_is_analyzed_then_reported(tmp_path, capsys, monkeypatch):
    """Logs instead of a warehouse: every stage runs in memory; the sample v2 deploy shows as version drift."""
    from pipeline.core.sample_drops import write_sample_drops

    write_sample_drops(tmp_path / "drops", rows_per_drop=600)
    out = tmp_path / "r.json"
    source = str(tmp_path / "drops" / "2026-11-1*_support-bot.jsonl*")
    assert run(["report", source, "-o", str(out), "--format", "json"], monkeypatch) == 0
    data = json.loads(out.read_text())
    assert data["summary"]["rows_kept"] == 1200 and data["summary"]["rows_rejected"] == 3
    assert data["summary"]["invariants"]["total"] >= 10
    assert data["anomalies"]["computed"] and data["pii"]["computed"]
    version = data["drift"]["version"]
    assert (version["baseline_label"], version["current_label"]) == ("v1", "v2")
    assert version["verdict"] in ("REVIEW", "BLOCK")
    assert any("search_kb" in h for h in version["hypotheses"])


def test_a_missing_log_source_exits_2_naming_it(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "nothing-here.jsonl"
    assert run(["report", str(missing), "-o", str(tmp_path / "r.html")], monkeypatch) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_warehouse_report_reads_the_lake_for_its_charts(warehouse, tmp_path, monkeypatch):
    """--lake (default $STRATA_LAKE_URL) supplies the last week of entries, as the strata_report asset does."""
    lake = tmp_path / "lake"
    entries = sample_entries(days=3, per_hour=12)
    folder = lake / "log_entries" / "drop=all"  # the lake's layout: log_entries/drop=<key>/*.parquet
    folder.mkdir(parents=True)
    pq.write_table(entries, folder / "part-00000.parquet")
    out = tmp_path / "r.json"
    monkeypatch.setenv("STRATA_LAKE_URL", str(lake))
    assert run(["report", str(warehouse), "-o", str(out), "--format", "json"], monkeypatch) == 0
    charts = json.loads(out.read_text())["anomalies"]["charts"]
    latency = next(c for c in charts if c["metric"] == "latency_ms")
    assert latency["series"]["points_in"] == entries.num_rows
