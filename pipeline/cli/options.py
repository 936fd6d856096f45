"""Option handling every command group shares: the strata.yml settings, storage options, the source arguments and a
progress bar. Command modules import from here; this module imports none of them."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from ..core.config import load_config

INPUT_FORMATS = ["jsonl", "json", "csv", "tsv", "logfmt", "access_log", "parquet", "avro"]
VENDORS_HELP = "skip vendor detection (openai, langsmith, langfuse, otel_genai, helicone, weave, mlflow, datadog)"


def storage_options() -> dict:
    """fsspec storage options from STRATA_STORAGE_OPTIONS / STRATA_S3_ENDPOINT_URL."""
    from ..core.settings import storage_options_from_env

    return storage_options_from_env()


def config_from_args(args):
    """strata.yml (from --config, $STRATA_CONFIG or the working directory) with the command's reading overrides."""
    cfg = load_config(args.config)
    if getattr(args, "input_format", None):
        cfg.reading.format_hint = args.input_format
    if getattr(args, "vendor", None):
        cfg.reading.vendor_hint = args.vendor
    return cfg


@contextmanager
def progress(enabled: bool, desc: str):
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


def add_source_command(sub, name: str, help_: str):
    """A subcommand reading one SOURCE, with the reading overrides and an output format."""
    sp = sub.add_parser(name, help=help_)
    sp.add_argument("source", help="path, glob, directory, fsspec URL (s3://, gs://, az://, file://) or - for stdin")
    sp.add_argument("--input-format", choices=INPUT_FORMATS, help="skip content sniffing and read as this format")
    sp.add_argument("--vendor", help=VENDORS_HELP)
    sp.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    return sp
