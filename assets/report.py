"""The publish stage: the team report (HTML with inline SVG charts, plus Markdown and JSON) written to the artifacts
folder from what the warehouse holds. Runs after the daily learn (automation) or on demand (publish_job); a
freshness policy turns it red when the morning's report is missing."""
from datetime import datetime, timezone

import dagster as dg
from dagster_duckdb import DuckDBResource

from resources.storage import LakeResource

from .anomalies import anomalies, baselines
from .automation import downstream, morning
from .drift import drop_drift, version_drift
from .ingest import log_schema
from .invariants import invariant_staleness, invariants
from .metadata import OWNERS, TAGS, absolute_uri, table


def report_url(artifacts_url: str, fmt: str) -> str:
    return f"{artifacts_url.rstrip('/')}/reports/report.{fmt}"


@dg.asset(group_name="publish",
          deps=[log_schema, invariants, invariant_staleness, baselines, anomalies, drop_drift, version_drift],
          kinds={"html"}, pool="duckdb", owners=OWNERS, tags=TAGS, code_version="2",
          automation_condition=downstream, freshness_policy=morning,
          description="The team report: summary, invariants with staleness, anomalies over time, drift with CI and "
                      "verdict, version diff, PII (redacted). One self-contained HTML file, also as Markdown and JSON.")
def strata_report(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: DuckDBResource) -> dg.MaterializeResult:
    from pipeline.core.report import build_report_data, render_html, render_json, render_markdown
    from pipeline.core.report.data import chart_entries
    from pipeline.core.storage.atomic_file import write_text_atomic

    opts = lake.storage_options()
    entries = chart_entries(lake.lake_url, opts)
    with warehouse.get_connection() as con:
        con.execute("SET TimeZone = 'UTC'")
        data = build_report_data(con, entries, title="Strata report", now=datetime.now(timezone.utc))
    written = {}
    for fmt, render in (("html", render_html), ("md", render_markdown), ("json", render_json)):
        text = render(data)  # written whole: a reader opening the report mid-write sees the old one or the new
        path = write_text_atomic(report_url(lake.artifacts_url, fmt), text, opts)
        written[fmt] = (path, len(text.encode("utf-8")))
    summary = data.get("summary") or {}
    context.log.info(f"report written to {written['html'][0]}")
    html_url = absolute_uri(report_url(lake.artifacts_url, "html"))
    figures = _numbers(summary)
    return dg.MaterializeResult(metadata={
        "dagster/uri": html_url,
        "url": dg.MetadataValue.url(html_url),
        "path": dg.MetadataValue.path(written["html"][0]),
        "markdown_path": dg.MetadataValue.path(written["md"][0]),
        "json_path": dg.MetadataValue.path(written["json"][0]),
        "html_bytes": int(written["html"][1]),
        **figures,
        "summary": table([{"figure": k, "value": float(v)} for k, v in figures.items()], ["figure", "value"]),
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

