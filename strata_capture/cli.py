"""The publish command, shared by `python -m strata_capture publish` and `strata capture publish` (registered into
Strata's CLI with `register(subparsers)`): convert and upload a spool from outside the application (a sidecar with
`--watch`, or recovery after a crash). Settings come from STRATA_CAPTURE_* and the flags."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .config import from_env
from .publisher import Publisher
from .sink import make_sink


def add_publish_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--drop-url", help="where drops go (default: $STRATA_CAPTURE_DROP_URL)")
    p.add_argument("--spool-dir", help="the spool to publish (default: $STRATA_CAPTURE_SPOOL_DIR, else per service)")
    p.add_argument("--service", help="service name (default: $STRATA_CAPTURE_SERVICE); picks the default spool")
    p.add_argument("--watch", action="store_true", help="keep publishing every --interval seconds")
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--force", action="store_true", help="publish incomplete traces too (their writers are gone)")


def run_publish(args: argparse.Namespace) -> int:
    settings = from_env(drop_url=args.drop_url, spool_dir=args.spool_dir, service=args.service)
    if not settings.drop_url:
        print("no drop URL: pass --drop-url or set STRATA_CAPTURE_DROP_URL", file=sys.stderr)
        return 2
    publisher = Publisher(settings.spool_path, make_sink(settings.drop_url, settings.storage_options),
                          settings.orphan_timeout_s)
    while True:
        report = publisher.run(final=not args.watch, force=args.force)
        print(json.dumps({"spans_published": report.spans_published, "objects_published": report.objects_published,
                          "pending_objects": report.pending_objects, "pending_segments": report.pending_segments,
                          "torn_lines": report.torn_lines, "errors": report.errors}), flush=True)
        if not args.watch:
            return 1 if report.errors else 0
        time.sleep(args.interval)


def register(subparsers) -> None:
    """Adds `capture publish` to an argparse subparsers object (Strata's `strata` command)."""
    capture = subparsers.add_parser("capture", help="the capture SDK's spool: publish it as drops")
    sub = capture.add_subparsers(dest="capture_command", required=True)
    pub = sub.add_parser("publish", help="convert and upload a capture spool (sidecar or recovery)")
    add_publish_arguments(pub)
    pub.set_defaults(func=run_publish)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m strata_capture")
    sub = ap.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="convert and upload a capture spool (sidecar or recovery)")
    add_publish_arguments(pub)
    pub.set_defaults(func=run_publish)
    args = ap.parse_args(argv)
    return args.func(args)
