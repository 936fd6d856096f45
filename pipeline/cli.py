"""The `strata` command: a thin face over pipeline.core for CI jobs and terminals."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager

from .core.config import ConfigError, load_config
from .core.sources import SourceError


def _storage_options() -> dict:
    from .core.settings import storage_options_from_env

    return storage_options_from_env()


@contextmanager
def _progress(enabled: bool, desc: str):
    """A tqdm bar on stderr when it is a terminal; otherwise nothing."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=" rows", unit_scale=True, file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def _config(args):
    cfg = load_config(args.config)
    if getattr(args, "input_format", None):
        cfg.reading.format_hint = args.input_format
    if getattr(args, "vendor", None):
        cfg.reading.vendor_hint = args.vendor
    return cfg


def cmd_ingest(args) -> int:
    from .core.drop_ingest import ingest_drop

    cfg = _config(args)
    opts = _storage_options()
    with _progress(args.format == "text", "ingest") as tick:
        done = ingest_drop(args.source, args.out, args.drop or "cli", cfg, opts, opts, progress=tick)
    result, written = done.result, done.written
    if args.format == "json":
        summary = {**result.summary(), "entries_path": written.entries_path, "quarantine_path": written.quarantine_path}
        print(json.dumps(summary, default=str))
        return 0
    print(f"read {result.rows_read:,} rows from {len(result.sources)} object(s): "
          f"kept {result.rows_kept:,}, rejected {result.rows_rejected:,} ({result.parse_rate:.2%} parsed)")
    print(f"formats: {', '.join(f'{k} x{v}' for k, v in result.formats.items()) or '-'}"
          + (f"; vendors: {', '.join(result.vendors)}" if result.vendors else ""))
    if result.reject_reasons:
        print("rejects: " + "; ".join(f"{k} x{v}" for k, v in result.reject_reasons.items()))
    if result.sample:
        print(f"sampled: {result.sample.get('note')}")
    print(f"entries -> {written.entries_path}")
    print(f"quarantine -> {written.quarantine_path}")
    return 0


def cmd_summary(args) -> int:
    from .core.ingest import ingest
    from .core.summary import summarize, summary_text

    cfg = _config(args)
    table, result = ingest(args.source, drop=None, config=cfg, storage_options=_storage_options())
    summary = summarize(table, result)
    print(json.dumps(summary, default=str) if args.format == "json" else summary_text(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="strata", description="Know what your LLM system really does, from its logs.")
    p.add_argument("--config", help="strata.yml to use (default: $STRATA_CONFIG, else ./strata.yml or a parent's)")
    sub = p.add_subparsers(dest="command", required=True)

    def source_cmd(name: str, help_: str):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("source", help="path, glob, directory, fsspec URL (s3://, gs://, az://, file://) or - for stdin")
        sp.add_argument("--input-format", choices=["jsonl", "json", "csv", "tsv", "logfmt", "access_log", "parquet", "avro"],
                        help="skip content sniffing and read as this format")
        sp.add_argument("--vendor", help="skip vendor detection (openai, langsmith, langfuse, otel_genai, helicone, weave, mlflow, datadog)")
        sp.add_argument("--format", choices=["text", "json"], default="text", help="output format")
        return sp

    sp = source_cmd("ingest", "normalize a source into Parquet under DIR (rejects under DIR/quarantine/)")
    sp.add_argument("--out", required=True, help="output directory or URL")
    sp.add_argument("--drop", help="drop name to record (default: cli)")
    sp.set_defaults(func=cmd_ingest)
    sp = source_cmd("summary", "what a source holds: formats, roles, counts, time range, models")
    sp.set_defaults(func=cmd_summary)
    from .cli_invariants import register as register_invariants  # imported here: it imports helpers from this module

    register_invariants(sub, source_cmd)
    from .cli_watch import register as register_watch

    register_watch(sub, source_cmd)
    from .cli_diff import register as register_diff

    register_diff(sub)
    from .cli_report import register as register_report

    register_report(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SourceError, ConfigError, ValueError) as exc:
        print(f"strata: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
