"""The invariant commands of `strata`: discover, save, check-staleness, compare, init and emit-tests.
`register(subparsers)` adds them to the parser that pipeline.cli builds."""
from __future__ import annotations

from .options import add_source_command

import builtins
import json
from collections import Counter
from pathlib import Path

STATUS_ORDER = ("violated", "degraded", "missing", "holds")
COMPARE_ORDER = ("new", "removed", "improved", "degraded", "stable")
BASELINE_NAME = "strata.baseline.strata.json"


# --- shared steps ------------------------------------------------------------------------------------------
def _read(args):
    """(entries, ingest result, config) for the command's SOURCE."""
    from .options import config_from_args, storage_options
    from ..core.ingest.engine import ingest

    cfg = config_from_args(args)
    table, result = ingest(args.source, drop=None, config=cfg, storage_options=storage_options())
    return table, result, cfg


def _settings(cfg, name: str, default):
    """An `invariants:` setting of strata.yml, or the default when the config has no such key."""
    value = getattr(getattr(cfg, "invariants", None), name, None)
    return default if value is None else value


def _families(args, cfg) -> list[str] | None:
    from ..core.invariants.discover import discover  # noqa: F401  (registers the built-in miners)
    from ..core.invariants.registry import MINERS

    wanted = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else _settings(cfg, "families", None)
    if wanted:
        known = {m.family for m in MINERS.values()} | set(MINERS)
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(f"--types: unknown families {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    return wanted or None


def _mine(args, table, cfg):
    from ..core.invariants import discover_with_findings

    min_confidence = args.min_confidence if args.min_confidence is not None else _settings(cfg, "min_confidence", 0.8)
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"--min-confidence must be between 0 and 1, got {min_confidence}")
    families = _families(args, cfg)
    invariants, findings = discover_with_findings(table, min_confidence=min_confidence, families=families)
    return invariants, {"source": args.source, "rows": table.num_rows, "min_confidence": min_confidence,
                        "families": families, "findings": findings}


def _load_baseline(path: str, opts: dict):
    from ..core.invariants import load_baseline

    try:
        return load_baseline(path, opts)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: no such baseline file") from exc


def _mining_args(sp) -> None:
    sp.add_argument("--min-confidence", type=float, help="keep invariants holding on at least this share (default 0.8 "
                    "or invariants.min_confidence of strata.yml)")
    sp.add_argument("--types", help="comma-separated families: structural,statistical,pii,relational,semantic,"
                    "temporal,session (default: all)")


def print(*values, **kwargs) -> None:  # noqa: A001  every line this module prints is masked: PII never reaches a terminal
    from ..core.invariants.pii_mask import for_people

    builtins.print(*(for_people(str(v)) for v in values), **kwargs)


def _emit(data: dict) -> None:
    from ..core.invariants.pii_mask import for_people

    builtins.print(json.dumps(for_people(json.loads(json.dumps(data, default=str)))))  # masked as data, not as text


def _table(rows: list[tuple], header: tuple) -> list[str]:
    widths = [min(64, max(len(str(r[i])) for r in rows + [header])) for i in range(len(header) - 1)]
    return ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1]) for r in [header] + rows]


# --- commands ------------------------------------------------------------------------------------------------
def cmd_discover(args) -> int:
    from ..core.invariants.codegen import printable

    table, _, cfg = _read(args)
    invariants, meta = _mine(args, table, cfg)
    findings = meta["findings"]
    if args.format == "json":
        _emit({"rows": table.num_rows, "invariants": [inv.to_dict() for inv in invariants], "findings": findings})
        return 0
    print(f"{len(invariants)} invariant(s) on {table.num_rows:,} rows")
    _print_findings(findings)
    for family in dict.fromkeys(inv.family for inv in invariants):
        members = [inv for inv in invariants if inv.family == family]
        print(f"\n{printable(family, False)} ({len(members)})")
        rows = [(printable(i.id, False), f"{i.confidence:.3f}", f"{i.support}/{i.total}", i.severity,
                 printable(i.description, False)) for i in members]
        print("\n".join(_table(rows, ("ID", "CONF", "SUPPORT/TOTAL", "SEVERITY", "DESCRIPTION"))))
    return 0


def _print_findings(findings: list[dict]) -> None:
    """Leaks found while mining: reported as findings (never kept as invariants), with row locations only."""
    if not findings:
        return
    print(f"\nfindings ({len(findings)})")
    for f in findings:
        where = ", ".join(f"line {e['line']}" if e.get("line") is not None else str(e.get("entry_id"))
                          for e in f.get("examples", [])[:3])
        print(f"  [{f['severity']}] {f['title']}" + (f" (e.g. {where})" if where else ""))


def cmd_save(args) -> int:
    from .options import storage_options
    from ..core.invariants import save_baseline

    table, _, cfg = _read(args)
    invariants, meta = _mine(args, table, cfg)
    path = save_baseline(invariants, args.out, meta, storage_options=storage_options())
    if args.format == "json":
        _emit({"path": path, "rows": table.num_rows, "invariants": len(invariants), "findings": meta["findings"]})
    else:
        print(f"saved {len(invariants)} invariant(s) mined from {table.num_rows:,} rows -> {path}")
        _print_findings(meta["findings"])
    return 0


def cmd_check_staleness(args) -> int:
    from .options import storage_options
    from ..core.invariants import check_staleness
    from ..core.invariants.codegen import printable

    baseline = _load_baseline(args.baseline, storage_options())
    table, _, cfg = _read(args)
    degraded_pp = args.degraded_pp if args.degraded_pp is not None else float(_settings(cfg, "degraded_pp", 10.0))
    violated_pp = args.violated_pp if args.violated_pp is not None else float(_settings(cfg, "violated_pp", 30.0))
    results = check_staleness(baseline, table, degraded_pp, violated_pp)
    counts = Counter(r.status for r in results)
    counts = {s: counts.get(s, 0) for s in STATUS_ORDER}
    code = 1 if counts["violated"] else 0
    if args.format == "json":
        _emit({"rows": table.num_rows, "baseline": args.baseline, "degraded_pp": degraded_pp, "violated_pp": violated_pp,
               "counts": counts, "invariants": [
                   {k: r.to_dict()[k] for k in ("id", "family", "severity", "status", "confidence_then", "confidence_now",
                                                "drop_pp", "support", "total", "description", "evidence")}
                   for r in results]})
        return code
    print(f"{len(results)} invariant(s) checked on {table.num_rows:,} rows: "
          + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for status in STATUS_ORDER[:3]:
        members = [r for r in results if r.status == status]
        if members:
            print(f"\n{status} ({len(members)})")
            rows = [(printable(r.id, False), f"{r.confidence_then:.3f} -> {r.confidence_now:.3f}",
                     f"{-r.drop_pp:+.1f} pp", r.severity, printable(r.description, False)) for r in members]
            print("\n".join(_table(rows, ("ID", "CONFIDENCE", "CHANGE", "SEVERITY", "DESCRIPTION"))))
    return code


def cmd_compare(args) -> int:
    from .options import storage_options
    from ..core.invariants import compare
    from ..core.invariants.codegen import printable

    from ..core.invariants.baseline_io import read_baseline_document

    opts = storage_options()
    before, after = _load_baseline(args.a, opts), _load_baseline(args.b, opts)
    findings = (read_baseline_document(args.b, opts).get("metadata") or {}).get("findings") or []
    result = compare(before, after, tolerance_pp=args.tolerance_pp, findings_b=findings)
    data = result.to_dict()
    counts = {name: len(data[name]) for name in COMPARE_ORDER}
    regressions = [c.id for c in result.regressions()]
    code = 1 if result.fails(args.fail_on) else 0
    if args.format == "json":
        _emit({"a": args.a, "b": args.b, "counts": counts, "regressions": regressions, "fail_on": args.fail_on,
               "findings_b": findings, **data})
        return code
    print(", ".join(f"{n} {name}" for name, n in counts.items())
          + (f"; {len(regressions)} regression(s)" if regressions else ""))
    _print_findings(findings)
    for name in COMPARE_ORDER[:4]:
        if data[name]:
            print(f"\n{name} ({len(data[name])})")
            rows = [(printable(c["id"], False), _conf(c["confidence_before"]) + " -> " + _conf(c["confidence_after"]),
                     printable(c["detail"], False) or "-", printable(c["description"], False)) for c in data[name]]
            print("\n".join(_table(rows, ("ID", "CONFIDENCE", "DETAIL", "DESCRIPTION"))))
    return code


def _conf(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def cmd_init(args) -> int:
    from .options import storage_options
    from ..core.invariants import save_baseline
    from ..core.starter_config import starter_yaml

    folder = Path(args.dir)
    config_path, baseline_path = folder / "strata.yml", folder / BASELINE_NAME
    existing = [str(p) for p in (config_path, baseline_path) if p.exists()]
    if existing and not args.force:
        raise ValueError(f"{', '.join(existing)} already exist(s); pass --force to overwrite")
    table, result, cfg = _read(args)
    invariants, meta = _mine(args, table, cfg)
    folder.mkdir(parents=True, exist_ok=True)
    config_path.write_text(starter_yaml(result, table), encoding="utf-8")
    save_baseline(invariants, baseline_path, meta, storage_options=storage_options())
    if args.format == "json":
        _emit({"config": str(config_path), "baseline": str(baseline_path), "invariants": len(invariants),
               "rows": table.num_rows})
    else:
        print(f"wrote {config_path} (edit the roles if a field was misread)")
        print(f"wrote {baseline_path}: {len(invariants)} invariant(s) mined from {table.num_rows:,} rows")
        print(f"next: strata check-staleness NEW_SOURCE --baseline {baseline_path}")
    return 0


def cmd_emit_tests(args) -> int:
    from ..core.invariants.codegen import emit_pytest

    table, _, cfg = _read(args)
    invariants, _meta = _mine(args, table, cfg)
    code = emit_pytest(invariants, source_hint=args.source,
                       degraded_pp=float(_settings(cfg, "degraded_pp", 10.0)),
                       violated_pp=float(_settings(cfg, "violated_pp", 30.0)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(code, encoding="utf-8")
    if args.format == "json":
        _emit({"path": args.out, "tests": len(invariants), "rows": table.num_rows})
    else:
        print(f"wrote {len(invariants)} test(s) -> {args.out}; run: pytest {args.out} --strata-source {args.source}")
    return 0


# --- parser ----------------------------------------------------------------------------------------------
def register(subparsers) -> None:
    """Add the invariant commands to the `strata` parser."""
    sp = add_source_command(subparsers, "discover", "mine invariants from a source and print them")
    _mining_args(sp)
    sp.set_defaults(func=cmd_discover)

    sp = add_source_command(subparsers, "save", "mine invariants and save them as a baseline (*.strata.json)")
    sp.add_argument("-o", "--out", required=True, help="baseline file (the .strata.json suffix is added if missing)")
    _mining_args(sp)
    sp.set_defaults(func=cmd_save)

    sp = add_source_command(subparsers, "check-staleness", "re-check a baseline on a source; exit 1 when an invariant is violated")
    sp.add_argument("--baseline", required=True, help="baseline file (*.strata.json), path or URL")
    sp.add_argument("--degraded-pp", type=float, help="confidence drop in points that degrades (default 10 or strata.yml)")
    sp.add_argument("--violated-pp", type=float, help="confidence drop in points that violates (default 30 or strata.yml)")
    sp.set_defaults(func=cmd_check_staleness)

    sp = subparsers.add_parser("compare", help="how baseline B differs from baseline A: new, removed, improved, "
                               "degraded, stable")
    sp.add_argument("a", help="the earlier baseline (*.strata.json)")
    sp.add_argument("b", help="the later baseline (*.strata.json)")
    sp.add_argument("--tolerance-pp", type=float, default=2.0, help="confidence change that counts (default 2 points)")
    sp.add_argument("--fail-on", choices=["regression", "critical", "degraded", "never"], default="regression",
                    help="exit 1 on: any statistically clear regression (default), critical ones only (PII), "
                    "any degraded or lost invariant, or never")
    sp.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    sp.set_defaults(func=cmd_compare)

    sp = add_source_command(subparsers, "init", "write a commented strata.yml and a first baseline for a source")
    sp.add_argument("--dir", default=".", help="where to write strata.yml and the baseline (default: .)")
    sp.add_argument("--force", action="store_true", help="overwrite existing files")
    _mining_args(sp)
    sp.set_defaults(func=cmd_init)

    sp = add_source_command(subparsers, "emit-tests", "mine invariants and write them as a pytest module")
    sp.add_argument("-o", "--out", required=True, help="pytest file to write, e.g. test_invariants.py")
    _mining_args(sp)
    sp.set_defaults(func=cmd_emit_tests)
