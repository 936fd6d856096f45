"""`strata ingest` and `strata summary`: a source into the lake, or a look at what it holds."""
from __future__ import annotations

import json
import sys

from .options import add_source_command, config_from_args, progress, storage_options


def cmd_ingest(args) -> int:
    from ..core.ingest.drop_ingest import ingest_drop

    cfg = config_from_args(args)
    opts = storage_options()
    with progress(args.format == "text", "ingest") as tick:
        done = ingest_drop(args.source, args.out, args.drop or "cli", cfg, opts, opts, progress=tick)
    result, written = done.result, done.written
    if args.format == "json":
        summary = {**result.summary(), "entries_path": written.entries_path, "quarantine_path": written.quarantine_path}
        print(json.dumps({**summary, "problems": result.problems(cfg.reading.max_reject_share)}, default=str))
        return verdict(result, cfg)
    rate = "n/a" if result.parse_rate is None else f"{result.parse_rate:.2%}"
    print(f"read {result.rows_read:,} rows from {len(result.sources)} object(s): "
          f"kept {result.rows_kept:,}, rejected {result.rows_rejected:,} ({rate} parsed)")
    print(f"formats: {', '.join(f'{k} x{v}' for k, v in result.formats.items()) or '-'}"
          + (f"; vendors: {', '.join(result.vendors)}" if result.vendors else ""))
    if result.reject_reasons:
        print("rejects: " + "; ".join(f"{k} x{v}" for k, v in result.reject_reasons.items()))
    if result.sample:
        print(f"sampled: {result.sample.get('note')}")
    print(f"entries -> {written.entries_path}")
    print(f"quarantine -> {written.quarantine_path}")
    return verdict(result, cfg)


def verdict(result, cfg) -> int:
    """Exit code 1 (problems on stderr) when a source yielded nothing or rejected more than reading.max_reject_share."""
    problems = result.problems(cfg.reading.max_reject_share)
    for p in problems:
        print(f"strata: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_summary(args) -> int:
    from ..core.ingest import ingest
    from ..core.ingest.summary import summarize, summary_text

    cfg = config_from_args(args)
    table, result = ingest(args.source, drop=None, config=cfg, storage_options=storage_options())
    summary = summarize(table, result)
    print(json.dumps(summary, default=str) if args.format == "json" else summary_text(summary))
    return verdict(result, cfg)


def register(sub) -> None:
    sp = add_source_command(sub, "ingest", "normalize a source into Parquet under DIR (rejects under DIR/quarantine/)")
    sp.add_argument("--out", required=True, help="output directory or URL")
    sp.add_argument("--drop", help="drop name to record (default: cli)")
    sp.set_defaults(func=cmd_ingest)
    sp = add_source_command(sub, "summary", "what a source holds: formats, roles, counts, time range, models")
    sp.set_defaults(func=cmd_summary)
