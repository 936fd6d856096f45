"""`strata diff`: behavioral drift between two sources, or between two values of a column (version, model,
prompt_version) in one source, with verdict-based exit codes for CI. `register(subparsers)` adds the command."""
from __future__ import annotations

import sys

FAIL_EXIT = 1


def register(sub) -> None:
    sp = sub.add_parser("diff", help="what changed in behavior between A and B (or --by a column), how sure, what it costs")
    sp.add_argument("a", metavar="A", help="baseline source (path, glob, directory, fsspec URL), or the only source with --by")
    sp.add_argument("b", metavar="B", nargs="?", help="current source (omit to split A with --by)")
    sp.add_argument("--by", help="split one source by this column: version, model, prompt_version, service, ... "
                                 "(default: drift.by in strata.yml, i.e. version)")
    sp.add_argument("--baseline", help="--by value for the baseline (default: the second newest value)")
    sp.add_argument("--current", help="--by value for the current side (default: the newest value)")
    sp.add_argument("--format", choices=["text", "md", "json", "html"], default="text")
    sp.add_argument("-o", "--output", help="write the result here instead of stdout")
    sp.add_argument("--fail-above", type=float, metavar="SCORE", help=f"exit {FAIL_EXIT} when the score is above this")
    sp.add_argument("--fail-on", choices=["MONITOR", "REVIEW", "BLOCK"],
                    help=f"exit {FAIL_EXIT} when the verdict is this or worse")
    sp.add_argument("--bootstrap", type=int, metavar="N", help="resamples for the CI (default 1000; 0 = none)")
    sp.add_argument("--seed", type=int, help="seed of the bootstrap (default 0)")
    sp.add_argument("--input-format", choices=["jsonl", "json", "csv", "tsv", "logfmt", "access_log", "parquet", "avro"],
                    help="skip content sniffing and read as this format")
    sp.add_argument("--vendor", help="skip vendor detection")
    sp.set_defaults(func=cmd_diff)


def _read(source: str, cfg):
    from .options import storage_options
    from ..core.ingest.engine import ingest

    table, _ = ingest(source, drop=None, config=cfg, storage_options=storage_options())
    if table.num_rows == 0:
        raise ValueError(f"{source}: no entries could be read")
    return table


def cmd_diff(args) -> int:
    from .options import config_from_args
    from ..core.drift.engine import diff_entries, exceeds, split_by, to_dict
    from ..core.drift.render import RENDERERS

    cfg = config_from_args(args)
    settings = cfg.drift.model_copy(deep=True)
    if args.bootstrap is not None:
        if args.bootstrap < 0:
            raise ValueError(f"--bootstrap must be >= 0, got {args.bootstrap}")
        settings.bootstrap = args.bootstrap
    if args.seed is not None:
        settings.seed = args.seed
    if args.fail_above is not None and not 0 <= args.fail_above <= 1:
        raise ValueError(f"--fail-above must be between 0 and 1 (the score's range), got {args.fail_above}")
    if args.b is not None:
        if args.by or args.baseline or args.current:
            raise ValueError("give either two sources (A B) or one source with --by/--baseline/--current, not both")
        a, b, a_label, b_label = _read(args.a, cfg), _read(args.b, cfg), args.a, args.b
    else:
        by = args.by or settings.by
        same = by == settings.by  # the configured pair belongs to the configured column only
        a, b, a_label, b_label = split_by(_read(args.a, cfg), by, args.baseline or (settings.baseline if same else None),
                                          args.current or (settings.current if same else None))
    result = diff_entries(a, b, settings, cfg.price_table(), baseline_label=a_label, current_label=b_label)
    report = to_dict(result)
    text = RENDERERS[args.format](report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        print(f"{report['verdict']} {report['score']:.3f} -> {args.output}", file=sys.stderr)
    else:
        print(text)
    failed = (args.fail_above is not None and report["score"] > args.fail_above) or \
             (args.fail_on is not None and exceeds(report["verdict"], args.fail_on))
    return FAIL_EXIT if failed else 0
