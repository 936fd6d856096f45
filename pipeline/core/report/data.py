"""Reads everything a Strata report shows from the DuckDB warehouse (and, when given, recent lake entries) into one
JSON-ready dict; its shape is the report's stable JSON schema (schema_version 1, documented in render.render_json)."""
from __future__ import annotations

import importlib.metadata
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..invariants.pii_rules import PII_KINDS
from .anomalies import anomalies_section
from .redact import looks_unredacted, redact_sample
from .values import clean, integer, iso, load_json, number, parse_time, relations, rows
from .workflow import workflow_section

SCHEMA_VERSION = 1
SEVERITY_ORDER = ("critical", "error", "warning", "info")
STATUS_ORDER = ("violated", "degraded", "unknown", "holds")
VERDICT_ORDER = ("SHIP", "MONITOR", "REVIEW", "BLOCK")
FAMILY_ORDER = ("pii", "structural", "statistical", "relational", "semantic", "temporal", "session")
TOP_DIMENSIONS = 12
CHART_DAYS = 7  # the charts show the lake's last week of entries (the asset and the CLI read that much)
MAX_SAMPLES = 5
FINANCIAL_KEYS = ("currency", "per_10k_baseline", "per_10k_current", "delta_per_10k", "delta_pct", "text")
LATEST_STALENESS = "(SELECT * FROM staleness QUALIFY row_number() OVER (PARTITION BY id ORDER BY checked_at DESC) = 1)"


def build_report_data(con, entries: pa.Table | None = None, *, title: str = "Strata report", now: datetime | None = None,
                      max_points: int = 400) -> dict:
    """Every section of the report. A section whose warehouse table is missing (or unreadable) has
    `"computed": false` and is shown as "not computed yet"; `entries` (canonical lake entries) feed the charts."""
    if int(max_points) < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    present = relations(con)
    sections = {
        "invariants": _guard(_invariants, con, present),
        "anomalies": _guard(anomalies_section, con, present, entries, int(max_points)),
        "drift": _guard(_drift, con, present, int(max_points)),
        "pii": _guard(_pii, con, present),
        "workflow": workflow_section(entries),
    }
    summary = _summary(con, present, sections)
    return {
        "schema_version": SCHEMA_VERSION,
        "title": str(title),
        "generated_at": iso(now or datetime.now(timezone.utc)),
        "strata_version": _version(),
        "window": _window(con, present, entries, sections),
        "summary": summary,
        **sections,
    }


def chart_entries(lake_url: str, storage_options: dict | None = None) -> pa.Table | None:
    """The lake's last CHART_DAYS of entries (what the charts draw); None when the lake has none."""
    from ..storage.lake import list_lake_drops, read_window

    if not list_lake_drops(lake_url, storage_options):
        return None
    entries, _ = read_window(lake_url, days=CHART_DAYS, storage_options=storage_options)
    return entries if entries.num_rows else None


def _guard(section, con, present, *args) -> dict:
    """A section, or a not-computed one naming the error when its table has an unexpected shape."""
    try:
        return section(con, present, *args)
    except duckdb.Error as exc:
        return {"computed": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}


def _version() -> str:
    try:
        return importlib.metadata.version("strata")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --- summary -------------------------------------------------------------------------------------------------
def _summary(con, present: set[str], sections: dict) -> dict:
    out: dict = {"computed": "drops" in present, "drops": 0, "rows_read": 0, "rows_kept": 0, "rows_rejected": 0,
                 "bytes": 0, "parse_rate": None, "formats": {}, "vendors": {}, "first_ingested_at": None,
                 "last_ingested_at": None}
    if out["computed"]:
        try:
            out.update(_drops(con))
        except duckdb.Error as exc:
            out.update(computed=False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    inv = sections["invariants"]
    statuses = [i["status"] for f in inv.get("families", []) for i in f["invariants"]]
    out["invariants"] = {"total": len(statuses), **{s: statuses.count(s) for s in STATUS_ORDER},
                         "unchecked": statuses.count(None)}
    an = sections["anomalies"]
    out["anomalies"] = {"total": an.get("total", 0), **{s: an.get("by_severity", {}).get(s, 0)
                                                          for s in ("critical", "warning")}}
    personal = [f for f in sections["pii"].get("findings", []) if f["personal_data"]]
    out["pii"] = {"findings": len(personal), "violations": sum(f["violations"] or 0 for f in personal)}
    latest = sections["drift"].get("latest")
    out["drift"] = {k: latest[k] for k in ("verdict", "score", "subject", "computed_at")} if latest else None
    return out


def _drops(con) -> dict:
    totals = rows(con, """SELECT count(*) AS drops, coalesce(sum(rows_read), 0) AS rows_read,
        coalesce(sum(rows_kept), 0) AS rows_kept, coalesce(sum(rows_rejected), 0) AS rows_rejected,
        coalesce(sum(bytes), 0) AS bytes, min(ingested_at) AS first_ingested_at, max(ingested_at) AS last_ingested_at,
        sum(rows_kept)::DOUBLE / nullif(sum(rows_read), 0) AS parse_rate FROM drops""")[0]
    formats: dict[str, int] = {}
    vendors: dict[str, int] = {}
    for fmt, ven in con.sql("SELECT formats, vendors FROM drops").fetchall():  # one row per drop: few
        for target, text in ((formats, fmt), (vendors, ven)):
            parsed = load_json(text, {}) or {name: 1 for name in load_json(text, []) if isinstance(name, str)}
            for name, n in parsed.items():
                target[str(name)] = target.get(str(name), 0) + (integer(n) or 0)
    return {**{k: (int(v) if isinstance(v, (int, float)) and k != "parse_rate" else v) for k, v in totals.items()},
            "formats": dict(sorted(formats.items(), key=lambda kv: -kv[1])),
            "vendors": dict(sorted(vendors.items(), key=lambda kv: -kv[1]))}


def _window(con, present: set[str], entries: pa.Table | None, sections: dict) -> dict:
    """The span of the data the report covers: entries, anomalies and the windows invariants were mined/checked on."""
    times = []
    if entries is not None and entries.num_rows and "ts" in entries.column_names:
        times += [pc.min(entries.column("ts")).as_py(), pc.max(entries.column("ts")).as_py()]
    queries = {"anomalies": "SELECT min(ts), max(ts) FROM anomalies",
               "invariants": "SELECT min(window_start), max(window_end) FROM invariants",
               "staleness": f"SELECT min(window_start), max(window_end) FROM {LATEST_STALENESS}"}
    for table, sql in queries.items():
        if table in present:
            try:
                times += list(con.sql(sql).fetchall()[0])
            except duckdb.Error:
                pass
    parsed = [t for t in map(parse_time, times) if t is not None]
    start, end = (min(parsed), max(parsed)) if parsed else (None, None)
    return {"start": iso(start), "end": iso(end), "seconds": (end - start).total_seconds() if parsed else None}


# --- invariants ----------------------------------------------------------------------------------------------
def _invariants(con, present: set[str]) -> dict:
    if "invariants" not in present:
        return {"computed": False, "total": 0, "checked_at": None, "families": []}
    join = (f"LEFT JOIN {LATEST_STALENESS} s USING (id)" if "staleness" in present else
            "LEFT JOIN (SELECT NULL::VARCHAR AS id, NULL AS status, NULL::DOUBLE AS confidence_then, "
            "NULL::DOUBLE AS confidence_now, NULL::DOUBLE AS drop_pp, NULL::TIMESTAMPTZ AS checked_at) s USING (id)")
    found = rows(con, f"""SELECT i.id, i.family, i.description, i.confidence, i.support, i.total, i.severity, s.status,
                                 s.confidence_then, s.confidence_now, s.drop_pp, s.checked_at
                          FROM invariants i {join} ORDER BY i.family, i.id""")
    families: dict[str, list] = {}
    for r in sorted(found, key=lambda r: (_rank(r["severity"], SEVERITY_ORDER), _rank(r["status"], STATUS_ORDER),
                                          r["confidence"] if r["confidence"] is not None else 2.0)):
        families.setdefault(r["family"] or "unknown", []).append(r)
    order = sorted(families, key=lambda f: (_rank(f, FAMILY_ORDER), f))
    checked = [r["checked_at"] for r in found if r["checked_at"]]
    return {"computed": True, "total": len(found), "checked_at": max(checked) if checked else None,
            "families": [{"family": f, "count": len(families[f]), "invariants": families[f]} for f in order]}


def _rank(value, order: tuple) -> int:
    return order.index(value) if value in order else len(order)


# --- drift ---------------------------------------------------------------------------------------------------
def _drift(con, present: set[str], max_points: int) -> dict:
    if "drift_results" not in present:
        return {"computed": False, "history": [], "latest": None, "version": None}
    # a drop is placed at its last entry (stored by drop_drift), else at the time it was scored
    history = rows(con, f"""SELECT * FROM (
                              SELECT computed_at, coalesce(TRY_CAST(CASE WHEN json_valid(report) THEN
                                     json_extract_string(report, '$.current_window.end') END AS TIMESTAMPTZ),
                                     computed_at) AS placed_at, subject, score, ci_lo, ci_hi, verdict
                              FROM drift_results WHERE kind = 'drop' ORDER BY placed_at DESC NULLS LAST LIMIT {max_points})
                            ORDER BY placed_at""")
    latest = _drift_row(con, "drop")
    version = _drift_row(con, "version")
    return {"computed": True, "history": history, "latest": latest, "version": version}


def _drift_row(con, kind: str) -> dict | None:
    found = rows(con, """SELECT computed_at, subject, baseline_label, current_label, score, ci_lo, ci_hi, verdict,
                                n_baseline, n_current, hypotheses, report
                         FROM drift_results WHERE kind = ? ORDER BY computed_at DESC NULLS LAST LIMIT 1""", [kind])
    if not found:
        return None
    row = found[0]
    report, stored = load_json(row.pop("report"), {}), load_json(row.pop("hypotheses"), [])
    texts = [h.get("text") for h in report.get("hypotheses", []) if isinstance(h, dict)] or stored
    money = report.get("financial_impact") if isinstance(report.get("financial_impact"), dict) else {}
    row["hypotheses"] = [str(t) for t in texts if t is not None]
    row["financial_impact"] = {k: clean(money.get(k)) for k in FINANCIAL_KEYS} if money else None
    row["dimensions"] = _dimensions(report.get("dimensions"))
    return row


def _dimensions(dims) -> list[dict]:
    """The top dimensions: significant first, then by weighted score."""
    keys = ("name", "kind", "group", "test", "statistic", "p_value", "p_adjusted", "effect", "effect_name", "score",
            "weight", "significant")
    kept = [{k: clean(d.get(k)) for k in keys} for d in (dims if isinstance(dims, list) else []) if isinstance(d, dict)]
    for d in kept:
        d["significant"] = d["significant"] is True
        d["name"], d["test"] = str(d["name"] or "?"), str(d["test"] or "")
    kept.sort(key=lambda d: (not d["significant"], -(number(d["score"]) or 0) * (number(d["weight"]) or 1)))
    return kept[:TOP_DIMENSIONS]


# --- PII -----------------------------------------------------------------------------------------------------
def _pii(con, present: set[str]) -> dict:
    """PII invariants with their latest staleness check: kind, counts and redacted samples, nothing else of evidence."""
    if "invariants" not in present and "staleness" not in present:
        return {"computed": False, "findings": []}
    mined = {r["id"]: r for r in rows(con, """SELECT id, description, severity, support, total, check_spec, evidence
                                              FROM invariants WHERE family = 'pii'""")} if "invariants" in present else {}
    checked = {r["id"]: r for r in rows(con, f"""SELECT id, severity, status, support, total, evidence, checked_at,
                                                        confidence_then, confidence_now
                                                 FROM {LATEST_STALENESS} WHERE family = 'pii'""")
               } if "staleness" in present else {}
    findings = [_pii_finding(i, mined.get(i), checked.get(i)) for i in dict.fromkeys([*mined, *checked])]
    findings.sort(key=lambda f: (_rank(f["status"], STATUS_ORDER), _rank(f["severity"], SEVERITY_ORDER),
                                 -(f["violations"] or 0), f["id"]))
    return {"computed": True, "findings": findings}


def _pii_finding(pid: str, mined: dict | None, checked: dict | None) -> dict:
    mined, checked = mined or {}, checked or {}
    spec = load_json(mined.get("check_spec"), {})
    now, then = load_json(checked.get("evidence"), {}), load_json(mined.get("evidence"), {})
    support = checked.get("support", mined.get("support"))
    total = checked.get("total", mined.get("total"))
    violations = integer((now if checked else then).get("violations"))
    if violations is None and support is not None and total is not None:
        violations = int(total) - int(support)
    raw = now.get("samples") or then.get("samples") or []
    samples = [redact_sample(s) for s in (raw if isinstance(raw, list) else [])[:MAX_SAMPLES]]
    kind = str(spec.get("pattern") or spec.get("regex") or pid.rsplit(":", 1)[-1])
    return {"id": pid, "kind": kind, "personal_data": kind in PII_KINDS,
            "description": mined.get("description"), "severity": checked.get("severity") or mined.get("severity"),
            "status": checked.get("status"), "violations": violations, "support": support, "total": total,
            "checked_at": checked.get("checked_at"), "samples": [s for s in samples if s is not None],
            "remasked": sum(1 for s in (raw if isinstance(raw, list) else [])[:MAX_SAMPLES]
                            if isinstance(s, str) and looks_unredacted(s))}

