"""`python -m strata_capture publish [--watch]`: publish a spool from outside the application (sidecar or recovery).

Settings come from STRATA_CAPTURE_* (drop URL, spool dir, storage options) and the flags below.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .config import from_env
from .publisher import Publisher
from .sink import make_sink


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strata_capture")
    sub = ap.add_subparsers(dest="cmd", required=True)
    pub = sub.add_parser("publish", help="convert and upload the spool")
    pub.add_argument("--drop-url")
    pub.add_argument("--spool-dir")
    pub.add_argument("--service")
    pub.add_argument("--watch", action="store_true", help="keep publishing every --interval seconds")
    pub.add_argument("--interval", type=float, default=5.0)
    pub.add_argument("--force", action="store_true", help="publish incomplete traces too (their writers are gone)")
    args = ap.parse_args(argv)
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
                          "errors": report.errors}), flush=True)
        if not args.watch:
            return 1 if report.errors else 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
