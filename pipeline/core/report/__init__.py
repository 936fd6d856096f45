"""The Strata report: warehouse findings as one self-contained HTML page (inline SVG charts), Markdown or JSON.
`build_report_data` reads the warehouse into a dict; `render_html` / `render_markdown` / `render_json` present it."""
from .data import SCHEMA_VERSION, build_report_data
from .notebook import Report
from .render import TEMPLATES, render_html, render_json, render_markdown, verify_report

__all__ = ["SCHEMA_VERSION", "TEMPLATES", "Report", "build_report_data", "render_html", "render_json",
           "render_markdown", "verify_report"]
