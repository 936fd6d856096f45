"""The `strata` command: a thin face over pipeline.core for CI jobs and terminals, one module per command group."""
from __future__ import annotations

import argparse
import sys

from ..core.config import ConfigError
from ..core.ingest.sources import SourceError
from . import diff, ingest, invariants, report, watch


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="strata", description="Know what your LLM system really does, from its logs.")
    p.add_argument("--config", help="strata.yml to use (default: $STRATA_CONFIG, else ./strata.yml or a parent's)")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (ingest, invariants, watch, diff, report):
        group.register(sub)
    from strata_capture.cli import register as register_capture  # `strata capture publish`: the SDK's sidecar

    register_capture(sub)
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
