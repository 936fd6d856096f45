"""`strata watch SOURCE`: score every entry of a log for anomalies as it is read, one line per anomaly (text or
JSON Lines); --follow keeps polling a local JSON Lines file for appended lines, like `tail -f`.
`register(subparsers)` adds the command to the parser that pipeline.cli builds; the work is done by
pipeline.core.watch."""
from __future__ import annotations

from .options import add_source_command

import json
import os
import sys
import time

COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ")
FOLLOWABLE = ("jsonl", "text", "empty")


def register(sub) -> None:
    sp = add_source_command(sub, "watch", "score a log for anomalies as it is read; --follow keeps watching appended lines")
    sp.add_argument("--follow", "-f", action="store_true",
                    help="after the end, keep polling for appended lines (local JSON Lines files)")
    sp.add_argument("--semantic", action="store_true", help="also score semantic novelty of outputs (HashingEmbedder)")
    sp.add_argument("--threshold", type=float, default=3.0, help="alert threshold in sigma (default 3)")
    sp.add_argument("--seed", type=int, default=0, help="seed for anything random (default 0)")
    sp.add_argument("--prime", type=int, default=0, metavar="N",
                    help="the first N entries only train the detectors (no output for them)")
    sp.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help="--follow polling interval (default 1)")
    sp.add_argument("--max-seconds", type=float, metavar="S", help="stop following after S seconds")
    sp.set_defaults(func=cmd_watch)


def _followable(args) -> bool:
    """Whether SOURCE is one local, uncompressed JSON Lines (or plain text) file the Watcher can read."""
    from ..core.ingest.sniff import sniff_format

    if args.source == "-" or not os.path.isfile(args.source):
        return False
    with open(args.source, "rb") as fh:
        head = fh.read(64 * 1024)
    if head.startswith(COMPRESSED_MAGIC):
        return False
    fmt = args.input_format or sniff_format(head, os.path.basename(args.source))
    return fmt in FOLLOWABLE


def _validate(args) -> None:
    if args.threshold <= 0:
        raise ValueError(f"--threshold must be positive, got {args.threshold}")
    if args.prime < 0:
        raise ValueError(f"--prime must be >= 0, got {args.prime}")
    if args.poll <= 0:
        raise ValueError(f"--poll must be positive, got {args.poll}")


def cmd_watch(args) -> int:
    import numpy as np

    from .options import config_from_args, storage_options
    from ..core.detectors import AlertPolicy, HashingEmbedder
    from ..core.watch import SourceChanged, StreamScorer, Watcher, segment_options, text_line

    _validate(args)
    np.random.seed(args.seed)  # nothing in the default detectors is random; this pins any future use
    cfg = config_from_args(args)
    policy = AlertPolicy(threshold=args.threshold, critical=max(6.0, args.threshold))
    scorer = StreamScorer(policy, HashingEmbedder() if args.semantic else None, prime=args.prime,
                          **segment_options(cfg))
    found = 0

    def emit(entries) -> None:
        nonlocal found
        for a in scorer.score(entries):
            print(json.dumps(a, ensure_ascii=False) if args.format == "json" else text_line(a))
            found += 1
        sys.stdout.flush()

    deadline = None if args.max_seconds is None else time.monotonic() + args.max_seconds
    status, rejects = 0, []
    try:
        if not _followable(args):
            if args.follow:
                raise ValueError(f"{args.source}: --follow needs a local, uncompressed JSON Lines file")
            from ..core.ingest.engine import IngestResult, iter_entries

            result = IngestResult()
            for entries in iter_entries(args.source, config=cfg, storage_options=storage_options(), result=result):
                emit(entries)
            rejects = result.rejects
        else:
            watcher = Watcher(args.source, cfg)
            rejects = watcher.rejects
            _drain(watcher, emit, final=not args.follow)
            while args.follow and (deadline is None or time.monotonic() < deadline):
                time.sleep(args.poll if deadline is None else max(0.0, min(args.poll, deadline - time.monotonic())))
                _drain(watcher, emit, final=False)
    except SourceChanged as exc:
        print(f"strata: watch: {exc}; stopping", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        pass
    if rejects:
        print(f"strata: watch: {len(rejects):,} line(s) rejected (first: line {rejects[0].line}: {rejects[0].reason})",
              file=sys.stderr)
    if args.format == "text":
        print(f"strata: watch: {scorer.seen:,} entries scored ({min(args.prime, scorer.seen):,} priming), "
              f"{found:,} anomalies", file=sys.stderr)
    return status


def _drain(watcher, emit, final: bool) -> None:
    """Poll until the watcher has consumed everything currently readable."""
    while True:
        before = watcher.offset
        emit(watcher.poll(final=final))
        if watcher.offset == before:
            return
