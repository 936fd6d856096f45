"""The publish stage: the team report (HTML with inline SVG charts, plus Markdown and JSON) written to the artifacts
folder from what the warehouse holds."""
from datetime import datetime, timezone

import dagster as dg
import fsspec
from dagster_duckdb import DuckDBResource

from pipeline.core.report import build_report_data, render_html, render_json, render_markdown
from pipeline.core.report.data import chart_entries
from resources.storage import LakeResource

from .anomalies import anomalies, baselines
from .drift import drop_drift, version_drift
from .invariants import invariant_staleness, invariants


def report_url(artifacts_url: str, fmt: str) -> str:
    return f"{artifacts_url.rstrip('/')}/reports/report.{fmt}"


@dg.asset(group_name="publish", deps=[invariants, invariant_staleness, baselines, anomalies, drop_drift, version_drift],
          kinds={"html"}, pool="duckdb",
          description="The team report: summary, invariants with staleness, anomalies over time, drift with CI and "
                      "verdict, version diff, PII (redacted). One self-contained HTML file, also as Markdown and JSON.")
def strata_report(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource) -> dg.MaterializeResult:
    opts = lake.storage_options()
    entries = chart_entries(lake.lake_url, opts)
    with warehouse.get_connection() as con:
        con.execute("SET TimeZone = 'UTC'")
        data = build_report_data(con, entries, title="Strata report", now=datetime.now(timezone.utc))
    written = {}
    for fmt, render in (("html", render_html), ("md", render_markdown), ("json", render_json)):
        fs, path = fsspec.core.url_to_fs(report_url(lake.artifacts_url, fmt), **opts)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        text = render(data)
        with fs.open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written[fmt] = (path, len(text.encode("utf-8")))
    summary = data.get("summary") or {}
    context.log.info(f"report written to {written['html'][0]}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(written["html"][0]),
        "markdown_path": dg.MetadataValue.path(written["md"][0]),
        "json_path": dg.MetadataValue.path(written["json"][0]),
        "html_bytes": int(written["html"][1]),
        **_numbers(summary),
        "summary": dg.MetadataValue.md(_headline(data)),
    })


def _numbers(summary: dict, prefix: str = "") -> dict:
    """The summary's numbers, nested keys joined with `_` (int or float: the UI plots them across runs)."""
    out = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}_"))
        elif isinstance(value, int) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = int(value)
        elif isinstance(value, float):
            out[f"{prefix}{key}"] = float(value)
    return {k: v for k, v in out.items() if not k.startswith(("formats_", "vendors_"))}


def _headline(data: dict) -> str:
    lines = render_markdown(data).splitlines()
    return "\n".join(lines[:40])
