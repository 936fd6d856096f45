"""What a source holds, in one dict: counts, formats, roles and their confidence, time range, models, latency and cost."""
from __future__ import annotations

import pyarrow as pa

from ..entry_schema import ROLE_KINDS
from .normalize import connect


def _roles(result) -> dict[str, dict]:
    """Per role: the source path(s) and the best confidence over objects ('vendor' when an adapter mapped it)."""
    roles: dict[str, dict] = {}
    for src in result.sources:
        schema = src.schema or {}
        if schema.get("vendor"):
            for role, cands in schema.get("mapping", {}).get("roles", {}).items():
                roles.setdefault(role, {"paths": [], "confidence": 1.0, "evidence": f"{schema['vendor']} adapter"})
                roles[role]["paths"] += [c["path"] for c in cands if c["path"] not in roles[role]["paths"]]
            continue
        for a in schema.get("assignments", []):
            r = roles.setdefault(a["role"], {"paths": [], "confidence": 0.0, "evidence": a.get("evidence", "")})
            if a["path"] not in r["paths"]:
                r["paths"].append(a["path"])
            if a["confidence"] > r["confidence"]:
                r["confidence"], r["evidence"] = a["confidence"], a.get("evidence", "")
    return roles


def summarize(entries: pa.Table, result) -> dict:
    con = connect()
    con.register("e", entries)
    stats = con.sql(
        """SELECT min(ts), max(ts), count(DISTINCT session_id), count(DISTINCT user_id),
                  quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95),
                  sum(prompt_tokens), sum(completion_tokens), sum(cost_usd),
                  avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END)
           FROM e"""
    ).fetchall()[0]
    top = lambda col: dict(con.sql(f"SELECT coalesce({col}, '(none)'), count(*) c FROM e GROUP BY 1 ORDER BY c DESC LIMIT 10").fetchall())  # noqa: E731
    filled = {}
    if entries.num_rows:
        for role in ROLE_KINDS:
            filled[role] = round(1 - entries.column(role).null_count / entries.num_rows, 4)
    evolution = [line for s in result.sources for line in (s.evolution or {}).get("describe", [])]
    return {
        **result.summary(),
        "time_range": [str(stats[0]) if stats[0] else None, str(stats[1]) if stats[1] else None],
        "sessions": stats[2],
        "users": stats[3],
        "latency_ms_p50": stats[4],
        "latency_ms_p95": stats[5],
        "prompt_tokens": stats[6],
        "completion_tokens": stats[7],
        "cost_usd": stats[8],
        "error_rate": stats[9],
        "models": top("model"),
        "services": top("service"),
        "versions": top("version"),
        "output_kinds": top("output_kind"),
        "roles": _roles(result),
        "filled": filled,
        "evolution": evolution,
        "left_empty": {r: why for src in result.sources for r, why in (src.schema or {}).get("left_empty", {}).items()},
        "notes": [n for src in result.sources for n in (src.schema or {}).get("notes", [])],
        "sources": [{k: v for k, v in s.to_dict().items() if k not in ("schema", "evolution")} for s in result.sources],
    }


def rate(v: float | None) -> str:
    """A share as a percentage, or "n/a" when there was nothing to measure it on."""
    return "n/a" if v is None else f"{v:.2%}"


def summary_text(s: dict) -> str:
    lines = [
        f"{s['objects']} object(s), {s['rows_read']:,} rows read, {s['rows_kept']:,} kept, "
        f"{s['rows_rejected']:,} rejected ({rate(s['parse_rate'])} parsed)"
        + (f", {s['rows_skipped']:,} log lines skipped" if s.get("rows_skipped") else ""),
        "formats: " + (", ".join(f"{k} x{v}" for k, v in s["formats"].items()) or "-")
        + ("; vendors: " + ", ".join(s["vendors"]) if s["vendors"] else ""),
        f"time range: {s['time_range'][0]} .. {s['time_range'][1]}",
    ]
    if s["latency_ms_p50"] is not None:
        lines.append(f"latency: p50 {s['latency_ms_p50']:,.0f} ms, p95 {s['latency_ms_p95']:,.0f} ms")
    if s["prompt_tokens"] is not None:
        cost = f", cost ${s['cost_usd']:,.4f}" if s["cost_usd"] is not None else ""
        lines.append(f"tokens: {s['prompt_tokens']:,} in / {(s['completion_tokens'] or 0):,} out{cost}")
    lines.append(f"error rate: {rate(s['error_rate'] if s['rows_kept'] else None)}; sessions: {s['sessions']:,}; users: {s['users']:,}")
    lines.append("models: " + ", ".join(f"{k} ({v:,})" for k, v in s["models"].items()))
    lines.append("roles:")
    for role, r in sorted(s["roles"].items()):
        lines.append(f"  {role:<18} {' | '.join(r['paths']):<40} {r['confidence']:.2f}  {r['evidence']}")
    for e in s["evolution"]:
        lines.append(f"schema change: {e}")
    if s["reject_reasons"]:
        lines.append("rejects: " + "; ".join(f"{k} x{v}" for k, v in s["reject_reasons"].items()))
    for raw in s.get("unrecognized_lines") or []:
        lines.append(f"  unrecognized: {raw!r}")
    empty = [r for r in ROLE_KINDS if s["filled"].get(r, 0) == 0 and r not in s["roles"]]
    if s["rows_kept"] and empty:
        lines.append("roles left empty (no field qualified): " + ", ".join(empty))
    for role, why in (s.get("left_empty") or {}).items():
        lines.append(f"  {role} left empty: {why}")
    for note in s.get("notes") or []:
        lines.append(f"note: {note}")
    return "\n".join(lines)
