"""Findings: what is wrong right now (invariants, staleness, critical anomalies, drift), read from the warehouse tables
as one evaluation that the dedup state machine compares with the previous one."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import quote, urlencode

from ..invariants.pii_mask import for_people, mask_pii


SEVERITY_RANK = {"warning": 1, "critical": 2}
KIND_SOURCE = {"invariant_violated": "staleness", "staleness_violated": "staleness", "anomaly_critical": "anomalies",
               "drift_review": "drift", "drift_block": "drift", "run_failed": "runs"}
WAREHOUSE_SOURCES = frozenset({"staleness", "anomalies", "drift"})  # what one warehouse evaluation covers
MAX_EVIDENCE, MAX_TEXT = 5, 300


def clip(text, limit: int = MAX_TEXT) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Finding:
    """One thing wrong, under a stable key (kind family + subject) so repeated evaluations can be deduplicated."""

    key: str
    kind: str
    severity: str
    title: str
    where: dict = field(default_factory=dict)  # drop, segment, service, model, version, metric, subject, invariant
    score: float | None = None  # sigma (anomalies) or drift score
    drop_pp: float | None = None  # confidence drop in percentage points (invariants)
    verdict: str | None = None  # drift verdict
    evidence: tuple = ()
    links: dict = field(default_factory=dict)  # dagster asset/run URL, report path
    observed_at: str | None = None  # ISO time of the rows it was read from

    def __post_init__(self):
        if not self.key:
            raise ValueError("a finding needs a key")
        # alert text is for people: PII-shaped values masked before clipping (the key keeps a stable pseudonym)
        object.__setattr__(self, "key", mask_pii(str(self.key), stable=True))
        object.__setattr__(self, "title", for_people(str(self.title or "")))
        object.__setattr__(self, "where", for_people({str(k): v if v is None else str(v)
                                                      for k, v in self.where.items()}))
        object.__setattr__(self, "evidence", tuple(for_people(str(e)) for e in self.evidence if e))
        object.__setattr__(self, "links", {str(k): mask_pii(str(v)) for k, v in self.links.items() if v})
        if self.kind not in KIND_SOURCE:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r} (warning or critical)")
        object.__setattr__(self, "title", clip(str(self.title or "").strip() or self.key, 150))
        object.__setattr__(self, "score", finite(self.score))
        object.__setattr__(self, "drop_pp", finite(self.drop_pp))
        object.__setattr__(self, "where", {str(k): clip(v, 200) for k, v in self.where.items() if v not in (None, "")})
        object.__setattr__(self, "evidence", tuple(clip(e) for e in self.evidence if e)[:MAX_EVIDENCE])
        object.__setattr__(self, "links", {str(k): str(v) for k, v in self.links.items() if v})

    @property
    def source(self) -> str:
        return KIND_SOURCE[self.kind]

    @property
    def how_bad(self) -> str:
        parts = []
        if self.verdict:
            parts.append(f"verdict {self.verdict}")
        if self.score is not None:
            parts.append(f"score {self.score:.2f}" + ("σ" if self.kind == "anomaly_critical" else ""))
        if self.drop_pp is not None:
            parts.append(f"confidence −{self.drop_pp:.1f} pp")
        return ", ".join(parts) or self.severity

    def to_dict(self) -> dict:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["evidence"] = tuple(known.get("evidence") or ())
        return cls(**known)


@dataclass(frozen=True)
class Links:
    """Builds Dagster UI and artifact links; an empty base means no link."""

    dagster_url: str = ""
    artifacts_url: str = ""

    def asset(self, asset_key: str, partition: str | None = None) -> str | None:
        if not self.dagster_url:
            return None
        url = f"{self.dagster_url.rstrip('/')}/assets/{quote(asset_key)}"
        return url + "?" + urlencode({"view": "partitions", "partition": partition}) if partition else url

    def run(self, run_id: str) -> str | None:
        return f"{self.dagster_url.rstrip('/')}/runs/{quote(run_id)}" if self.dagster_url and run_id else None

    def report(self) -> str | None:
        """The team report the strata_report asset writes (it is rewritten daily, after the staleness check)."""
        return f"{self.artifacts_url.rstrip('/')}/reports/report.html" if self.artifacts_url else None


def _loads(text, default):
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def _iso(ts) -> str | None:
    return ts.isoformat() if isinstance(ts, datetime) else None


def _has(con, table: str) -> bool:
    q = "SELECT 1 FROM duckdb_tables() WHERE table_name = ? UNION ALL SELECT 1 FROM duckdb_views() WHERE view_name = ?"
    return bool(con.sql(q, params=[table, table]).fetchall())


def _rows(con, query: str, params: list) -> list[dict]:
    return con.sql(query, params=params).to_arrow_table().to_pylist()


def evaluated_drops(con, since: datetime | None, until: datetime | None = None) -> list[tuple[str, datetime]]:
    """The drops one evaluation covers: those ingested after `since` (and by `until`), else the newest one alone."""
    if not _has(con, "drops"):
        return []
    bound = "ingested_at <= ?" if until is not None else "TRUE"
    extra = [until] if until is not None else []
    if since is not None:
        new = con.sql(f"SELECT drop, ingested_at FROM drops WHERE ingested_at > ? AND {bound} ORDER BY ingested_at, drop",
                      params=[since, *extra]).fetchall()
        if new:
            return new
    return con.sql(f"SELECT drop, ingested_at FROM drops WHERE ingested_at IS NOT NULL AND {bound} "
                   "ORDER BY ingested_at DESC, drop DESC LIMIT 1", params=extra).fetchall()


def staleness_findings(con, links: Links) -> list[Finding]:
    """Invariants the newest daily check found violated: critical (or PII) ones are critical, the rest warnings."""
    if not _has(con, "staleness"):
        return []
    has_inv = _has(con, "invariants")
    join = ("LEFT JOIN invariants i USING (id)" if has_inv else "")
    cols = "i.description, i.evidence AS mined_evidence" if has_inv else "NULL AS description, NULL AS mined_evidence"
    rows = _rows(con, f"""SELECT s.*, {cols} FROM staleness s {join}
        WHERE s.checked_at = (SELECT max(checked_at) FROM staleness) AND s.status = 'violated' ORDER BY s.id""", [])
    out = []
    for r in rows:
        pii = r["family"] == "pii"
        critical = pii or r["severity"] == "critical"
        ev, mined = _loads(r["evidence"], {}), _loads(r["mined_evidence"], {})
        then, now, total = finite(r["confidence_then"]), finite(r["confidence_now"]), r["total"]
        violations = ev.get("violations")
        if not isinstance(violations, int) and total is not None and r["support"] is not None:
            violations = total - r["support"]
        samples = [clip(mask_pii(s, loose=True), 60) for s in (mined.get("samples") or []) if isinstance(s, str)][:3] if pii else []
        name = r["description"] or r["id"]
        out.append(Finding(
            key=f"invariant:{r['id']}", kind="invariant_violated" if critical else "staleness_violated",
            severity="critical" if critical else "warning",
            title=f"PII leak: {name}" if pii else (f"Critical invariant violated: {name}" if critical
                                                  else f"Invariant no longer holds: {name}"),
            where={"invariant": r["id"], "family": r["family"],
                   "window": f"{r['window_start']} → {r['window_end']}" if r["window_start"] else None},
            drop_pp=r["drop_pp"],
            evidence=(
                f"confidence {then:.1%} → {now:.1%}" if then is not None and now is not None else None,
                f"{violations:,} of {total:,} rows violate it" if isinstance(violations, int) and total else None,
                f"redacted samples: {', '.join(samples)}" if samples else None),
            links={"dagster": links.asset("invariant_staleness"), "report": links.report()},
            observed_at=_iso(r["checked_at"])))
    return out


def anomaly_findings(con, drops: list[str], links: Links) -> list[Finding]:
    """Critical anomalies in the evaluated drops, one finding per (metric, segment)."""
    if not drops or not _has(con, "anomalies"):
        return []
    rows = _rows(con, """
        WITH a AS (SELECT *, CASE WHEN isfinite(score) THEN abs(score) ELSE -1 END AS rank FROM anomalies
                   WHERE severity = 'critical' AND list_contains(?, drop))
        SELECT metric, coalesce(segment, '') AS segment, count(*) AS n, count(DISTINCT drop) AS drops,
               arg_max(score, rank) AS score, arg_max(value, rank) AS value, arg_max(expected, rank) AS expected,
               arg_max(explanation, rank) AS explanation, arg_max(drop, rank) AS drop, max(ts) AS last_ts
        FROM a GROUP BY ALL ORDER BY metric, segment""", [list(drops)])
    out = []
    for r in rows:
        service, model, version = (r["segment"].split("|") + [None, None, None])[:3]
        score, value, expected = finite(r["score"]), finite(r["value"]), finite(r["expected"])
        out.append(Finding(
            key=f"anomaly:{r['metric']}:{r['segment'] or '*'}", kind="anomaly_critical", severity="critical",
            title=f"{r['metric']} anomalies in {r['segment'] or 'all traffic'}",
            where={"drop": r["drop"], "segment": r["segment"], "service": service, "model": model,
                   "version": version, "metric": r["metric"]},
            score=score,
            evidence=(f"{r['n']:,} critical anomal{'y' if r['n'] == 1 else 'ies'} in {r['drops']} drop(s)",
                      f"worst: {value:g} vs expected {expected:g}" if value is not None and expected is not None else None,
                      r["explanation"]),
            links={"dagster": links.asset("anomalies", r["drop"]), "report": links.report()}, observed_at=_iso(r["last_ts"])))
    return out


def drift_findings(con, drops: list[str], links: Links) -> list[Finding]:
    """REVIEW/BLOCK verdicts of the evaluated drops (one stream key) and of the newest version comparison."""
    if not _has(con, "drift_results"):
        return []
    rows = _rows(con, """SELECT * FROM drift_results WHERE verdict IN ('REVIEW', 'BLOCK') AND (
            (kind = 'drop' AND list_contains(?, subject)) OR
            (kind = 'version' AND computed_at = (SELECT max(computed_at) FROM drift_results WHERE kind = 'version')))
        ORDER BY kind, subject""", [list(drops)])
    out = []
    for r in rows:
        report = _loads(r["report"], {})
        impact = report.get("financial_impact") if isinstance(report.get("financial_impact"), dict) else {}
        lo, hi = finite(r["ci_lo"]), finite(r["ci_hi"])
        block = r["verdict"] == "BLOCK"
        is_drop = r["kind"] == "drop"
        out.append(Finding(
            # drops form one stream: drift that persists across drops is one alert, not one per drop
            key="drift:drop" if is_drop else f"drift:version:{r['subject']}",
            kind="drift_block" if block else "drift_review", severity="critical" if block else "warning",
            title=f"Drift {r['verdict']}: {r['current_label']} vs {r['baseline_label']}",
            where={"drop": r["subject"]} if is_drop else {"subject": r["subject"], "version": r["current_label"]},
            score=r["score"], verdict=r["verdict"],
            evidence=(f"95% CI {lo:.2f}–{hi:.2f}, n {r['n_baseline']:,} vs {r['n_current']:,}"
                      if lo is not None and hi is not None and r["n_baseline"] is not None and r["n_current"] is not None
                      else None,
                      *[h for h in _loads(r["hypotheses"], [])[:3] if isinstance(h, str)],
                      impact.get("text") if isinstance(impact.get("text"), str) else None),
            links={"dagster": links.asset("drop_drift", r["subject"]) if is_drop else links.asset("version_drift"),
                   "report": links.report()},
            observed_at=_iso(r["computed_at"])))
    return out


def merge_by_key(findings: list[Finding]) -> list[Finding]:
    """One finding per key: the most severe, then the highest score (several drops in one evaluation)."""
    best: dict[str, Finding] = {}
    for f in findings:
        cur = best.get(f.key)
        if cur is None or (SEVERITY_RANK[f.severity], abs(f.score or 0)) > (SEVERITY_RANK[cur.severity], abs(cur.score or 0)):
            best[f.key] = f
    return list(best.values())


def collect_findings(con, since: datetime | None = None, *, until: datetime | None = None,
                     links: Links = Links()) -> list[Finding]:
    """Everything wrong as of now: the newest staleness check, critical anomalies and drift of the drops ingested
    after `since` (the newest drop when none), and the newest version comparison."""
    drops = [d for d, _ in evaluated_drops(con, since, until)]
    found = staleness_findings(con, links) + anomaly_findings(con, drops, links) + drift_findings(con, drops, links)
    return merge_by_key(found)
