"""Report for Jupyter: an iframe whose srcdoc is the escaped page (its CSS cannot leak), saving by suffix, and
building from a warehouse file."""
import html as htmllib
import json
import re

import duckdb
import pytest

from pipeline.core.report import Report, build_report_data, verify_report
from tests.report_screenshot import HOSTILE, add_hostile_rows, populate_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("nb") / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        populate_warehouse(con)
        add_hostile_rows(con)
    return path


def test_repr_html_is_an_iframe_with_escaped_srcdoc(warehouse):
    report = Report.from_warehouse(warehouse, title=HOSTILE, sign=True)
    shown = report._repr_html_()
    assert shown.startswith('<iframe class="strata-report" srcdoc="') and shown.endswith("></iframe>")
    srcdoc = re.search(r'srcdoc="([^"]*)"', shown).group(1)  # no raw quote ends the attribute early
    assert "<" not in srcdoc and ">" not in srcdoc
    assert htmllib.unescape(srcdoc) == report.html and verify_report(htmllib.unescape(srcdoc))
    assert 'sandbox=""' in shown and "<style" not in shown and "<script" not in shown
    assert 'title="&lt;script&gt;' in shown


def test_show_needs_ipython_or_displays(monkeypatch):
    report = Report(build_report_data(duckdb.connect(":memory:")))
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="IPython"):
            report.show()
        return
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    report.show()
    assert shown == [report]


def test_save_follows_the_suffix(warehouse, tmp_path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = Report.from_warehouse(con, template="eu-ai-act")
    assert report.save(tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert report.save(tmp_path / "r.md").read_text().startswith("# Strata report")
    assert json.loads(report.save(tmp_path / "r.json").read_text())["schema_version"] == 1
    assert "Article 72" in report.save(tmp_path / "r.txt", fmt="html").read_text()
    assert repr(report) == "Report('Strata report', template='eu-ai-act', sign=False)"


def test_from_warehouse_draws_the_lakes_last_week(warehouse, tmp_path):
    import pyarrow.parquet as pq

    from tests.report_screenshot import sample_entries

    entries = sample_entries(days=3, per_hour=10)
    folder = tmp_path / "lake" / "log_entries" / "drop=d1"
    folder.mkdir(parents=True)
    pq.write_table(entries, folder / "part-00000.parquet")
    charts = Report.from_warehouse(warehouse, lake=str(tmp_path / "lake")).data["anomalies"]["charts"]
    latency = next(c for c in charts if c["metric"] == "latency_ms")
    assert latency["series"]["points_in"] == entries.num_rows
    bare = Report.from_warehouse(warehouse, lake=str(tmp_path / "no-lake")).data["anomalies"]["charts"]
    assert all(not c.get("series") or not c["series"].get("ts") for c in bare)
