"""`strata report`: a warehouse's findings (or a log source's, analyzed on the spot) as one self-contained HTML page,
Markdown or JSON written to a file. `register(subparsers)` adds the command."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ERROR_EXIT = 2
LAKE_DROPS = 7  # without a lake: the newest drops whose local entries (drops.entries_path) feed the charts
ENTRY_COLUMNS = ("ts", "latency_ms", "prompt_tokens", "completion_tokens", "cost_usd", "output", "status", "tool_calls",
                 "attributes", "drop", "branch_path")  # drop + branch_path: the workflow section


def register(sub) -> None:
    sp = sub.add_parser("report", help="write a report: summary, invariants, anomalies, drift, PII")
    sp.add_argument("source", metavar="SOURCE",
                    help="a Strata DuckDB warehouse file, or logs (path, glob, directory, URL) to analyze first")
    sp.add_argument("-o", "--out", required=True, help="file to write")
    sp.add_argument("--format", choices=["html", "md", "json"], default="html", help="output format (default html)")
    sp.add_argument("--template", choices=["default", "eu-ai-act"], default="default",
                    help="HTML layout; eu-ai-act arranges it as Article 72 post-market monitoring evidence")
    sp.add_argument("--sign", action="store_true", help="write the SHA-256 of the HTML body into the report")
    sp.add_argument("--title", default="Strata report", help="report title")
    sp.add_argument("--lake", help="warehouse only: the lake whose last week of entries feeds the charts "
                                   "(default $STRATA_LAKE_URL, else ./data/lake)")
    sp.add_argument("--input-format", choices=["jsonl", "json", "csv", "tsv", "logfmt", "access_log", "parquet", "avro"],
                    help="logs only: skip content sniffing and read as this format")
    sp.add_argument("--vendor", help="logs only: skip vendor detection")
    sp.set_defaults(func=cmd_report)


def _fail(message: str) -> int:
    print(f"strata: error: {message}", file=sys.stderr)
    return ERROR_EXIT


def cmd_report(args) -> int:
    import duckdb

    from ..core.report import build_report_data, render_html, render_json, render_markdown

    source = Path(args.source)
    if is_warehouse(source):
        if not source.is_file():
            return _fail(f"{source}: no such warehouse file")
        from ..core.storage.warehouse_lock import WarehouseBusy, connect_warehouse

        try:
            con = connect_warehouse(str(source), read_only=True)  # waits while a run holds the file
        except WarehouseBusy as exc:
            return _fail(str(exc))
        except duckdb.Error as exc:
            return _fail(f"{source}: not a readable DuckDB warehouse ({str(exc).splitlines()[0]})")
        try:
            con.execute("SET TimeZone = 'UTC'")
            entries = _window_entries(args.lake or os.environ.get("STRATA_LAKE_URL") or "./data/lake")
            data = build_report_data(con, entries if entries is not None else _lake_entries(con), title=args.title)
        except duckdb.Error as exc:
            return _fail(f"{source}: {str(exc).splitlines()[0]}")
        finally:
            con.close()
    else:
        data = _report_of_logs(args, build_report_data)
    if args.format == "html":
        text = render_html(data, template=args.template, sign=args.sign)
    else:
        text = render_markdown(data) if args.format == "md" else render_json(data)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(f"{out}: cannot write the report ({exc.strerror or exc})")
    print(out)
    return 0


def is_warehouse(path: Path) -> bool:
    """A local file that is a DuckDB database (its header carries the magic "DUCK" at byte 8), or named .duckdb."""
    if path.suffix in (".duckdb", ".ddb"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def _report_of_logs(args, build_report_data) -> dict:
    """Ingest the logs, run every stage into an in-memory warehouse, and read the report from it."""
    from .options import config_from_args, storage_options
    from ..core.ingest.engine import ingest
    from ..core.ingest.normalize import connect
    from ..core.report.from_source import analyze_entries

    cfg = config_from_args(args)
    entries, result = ingest(args.source, drop=None, config=cfg, storage_options=storage_options())
    if entries.num_rows == 0:
        raise ValueError(f"{args.source}: no entries could be read ({result.rows_rejected} rejected)")
    with connect() as con:  # UTC, no progress bar on stdout
        analyze_entries(con, entries, result.summary(), cfg, Path(str(args.source).rstrip("/")).name or "source")
        return build_report_data(con, entries, title=args.title)


def _window_entries(lake_url: str):
    """The lake's last week of entries, as the strata_report asset reads them; None (with a warning) without one."""
    from .options import storage_options
    from ..core.report.data import chart_entries

    try:
        return chart_entries(lake_url, storage_options())
    except (OSError, ValueError) as exc:
        print(f"strata: warning: lake {lake_url} not read ({exc}); charts show anomalies only", file=sys.stderr)
        return None


def _lake_entries(con):
    """Entries of the newest drops when their lake folders are local (for the charts); None when there are none."""
    import duckdb

    try:
        paths = [r[0] for r in con.sql(f"SELECT entries_path FROM drops WHERE entries_path IS NOT NULL "
                                       f"ORDER BY ingested_at DESC NULLS LAST LIMIT {LAKE_DROPS}").fetchall()]
    except duckdb.Error:  # no drops table yet
        return None
    files = [str(p) for path in paths if "://" not in path or path.startswith("file://")
             for p in sorted(Path(path.removeprefix("file://")).glob("*.parquet"))]
    if not files:
        return None
    try:
        rel = con.sql("SELECT * FROM read_parquet(?, union_by_name = true)", params=[files])
        cols = [c for c in ENTRY_COLUMNS if c in rel.columns]
        return rel.select(*[f'"{c}"' for c in cols]).to_arrow_table() if "ts" in cols else None
    except duckdb.Error as exc:
        print(f"strata: warning: lake entries not read ({str(exc).splitlines()[0]}); charts show anomalies only",
              file=sys.stderr)
        return None
