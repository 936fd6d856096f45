"""A report for Jupyter: `Report(data)` displays itself inside an iframe (`srcdoc`), so its CSS never touches the
notebook's, and can be saved as HTML, Markdown or JSON."""
from __future__ import annotations

from html import escape
from pathlib import Path

import pyarrow as pa

from .data import build_report_data
from .render import render_html, render_json, render_markdown


class Report:
    """Report data with its renderings; `height` is the iframe's height in pixels (the page scrolls inside it)."""

    def __init__(self, data: dict, template: str = "default", sign: bool = False, height: int = 900):
        self.data, self.template, self.sign, self.height = data, template, sign, int(height)

    @classmethod
    def from_warehouse(cls, warehouse, entries: pa.Table | None = None, *, lake: str | None = None,
                       template: str = "default", sign: bool = False, **options) -> "Report":
        """From a DuckDB connection or the path of a warehouse file (opened read-only); the charts draw `entries`,
        else the last week of the `lake` (a path or fsspec URL, e.g. "data/lake") when given."""
        if entries is None and lake is not None:
            from .data import chart_entries

            entries = chart_entries(lake)
        if isinstance(warehouse, (str, Path)):
            from ..storage.warehouse_lock import connect_warehouse

            with connect_warehouse(str(warehouse), read_only=True) as con:  # waits while a run holds the file
                return cls(build_report_data(con, entries, **options), template, sign)
        return cls(build_report_data(warehouse, entries, **options), template, sign)

    @property
    def html(self) -> str:
        return render_html(self.data, self.template, self.sign)

    def markdown(self) -> str:
        return render_markdown(self.data)

    def json(self) -> str:
        return render_json(self.data)

    def _repr_html_(self) -> str:
        # srcdoc is an attribute: the whole page is escaped into it, and the sandbox allows no script at all.
        return (f'<iframe class="strata-report" srcdoc="{escape(self.html, quote=True)}" sandbox="" '
                f'title="{escape(str(self.data.get("title", "Strata report")), quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #e2e8f0;border-radius:8px"></iframe>')

    def show(self) -> None:
        """Display in the running notebook (needs IPython)."""
        try:
            from IPython.display import display
        except ImportError as exc:
            raise RuntimeError("Report.show() needs IPython (run it in Jupyter), or use Report.save(path)") from exc
        display(self)

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write the report; the format follows the suffix (.html, .md, .json) unless `fmt` is given."""
        path = Path(path)
        fmt = fmt or {".md": "md", ".json": "json"}.get(path.suffix.lower(), "html")
        text = {"html": lambda: self.html, "md": self.markdown, "json": self.json}[fmt]()
        path.write_text(text, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"Report({self.data.get('title')!r}, template={self.template!r}, sign={self.sign})"
