"""A populated sample warehouse for the report (used by the report tests), hostile rows for the escaping tests, and
`python -m tests.report_screenshot`, which renders the sample and saves a screenshot to docs/report.png (headless
Debian chromium driven by Playwright, 1280 px wide, the top 2600 px of the page)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.baselines import compute_baselines, store_baselines
from pipeline.core.detectors import detect_anomalies
from pipeline.core.storage.drift_store import DDL as DRIFT_DDL
from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.storage.invariant_store import DDL as INVARIANT_DDL
from pipeline.core.storage.warehouse import DDL as WAREHOUSE_DDL

START = datetime(2025, 3, 3, tzinfo=timezone.utc)
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]

INVARIANTS = [  # id, family, description, confidence, severity, status today, confidence now, samples
    ("pii:output:regex_absent:email", "pii", "Outputs never contain a valid e-mail address", 1.0, "critical",
     "violated", 0.9962, ["j***@e***.com", "m***@g***.com", "support-team@acme-corp.com"]),
    ("pii:output:regex_absent:phone", "pii", "Outputs never contain a US phone number", 1.0, "critical", "holds",
     1.0, []),
    ("pii:output:regex_absent:credit_card", "pii", "Outputs never contain a payment card number", 1.0, "critical",
     "degraded", 0.9991, ["**** **** **** 4242"]),
    ("pii:output:regex_absent:markdown", "pii", "Outputs never contain markdown formatting", 0.97, "info", "holds",
     0.968, []),
    ("structural:output:json_valid", "structural", "Output is valid JSON", 0.994, "error", "holds", 0.991, []),
    ("structural:output:json_keys:answer", "structural", "Output JSON always has the keys answer, escalate, confidence",
     0.993, "error", "degraded", 0.874, []),
    ("structural:status:in_set", "structural", "Status is one of ok, error", 1.0, "warning", "holds", 1.0, []),
    ("statistical:latency_ms:quantile_between", "statistical", "p95 of latency_ms stays between 1,020 and 1,480 ms",
     0.95, "warning", "violated", 0.41, []),
    ("statistical:completion_tokens:mean_between", "statistical", "Mean completion_tokens stays between 88 and 104",
     0.97, "warning", "holds", 0.96, []),
    ("statistical:cost_usd:max", "statistical", "cost_usd never exceeds $0.012 per request", 0.999, "error", "holds",
     0.999, []),
    ("relational:tool_calls:implies:issue_refund", "relational", "Refund questions call issue_refund", 0.92, "warning",
     "holds", 0.93, []),
    ("semantic:output:answers_question", "semantic", "The answer is on topic for the question", 0.9, "info",
     "unknown", 0.0, []),
    ("temporal:ts:monotonic", "temporal", "Timestamps increase within a session", 0.999, "warning", "holds", 1.0, []),
    ("session:session_id:turns_between", "session", "A session has 1 to 8 turns", 0.98, "info", "holds", 0.978, []),
]


def sample_entries(days: int = 7, per_hour: int = 36, seed: int = 7) -> pa.Table:
    """Canonical entries of a support bot: v1 then v2 (slower, longer answers) from day 5, a latency incident and an
    error burst on day 6, a cost spike on day 3."""
    rng = np.random.default_rng(seed)
    n = days * 24 * per_hour
    offsets = np.sort(rng.uniform(0, days * 86400, n))
    ts = np.datetime64(START.replace(tzinfo=None), "us") + (offsets * 1e6).astype("timedelta64[us]")
    hour = offsets / 3600
    v2 = hour >= 4 * 24 + 10
    incident = (hour >= 5 * 24 + 14) & (hour < 5 * 24 + 16.5)
    daily = 1 + 0.15 * np.sin((hour % 24) / 24 * 2 * np.pi)
    latency = rng.lognormal(6.75, 0.28, n) * daily * np.where(v2, 1.12, 1.0) * np.where(incident, 2.6, 1.0)
    completion = np.round(rng.normal(96, 22, n) * np.where(v2, 1.18, 1.0)).clip(8).astype(np.int64)
    prompt = rng.integers(180, 420, n)
    cost = (prompt * 0.15 + completion * 0.6) / 1e6 * np.where((hour > 2 * 24 + 9) & (hour < 2 * 24 + 10), 6.0, 1.0)
    status = np.where(rng.random(n) < np.where(incident, 0.22, 0.015), "error", "ok")
    models = np.where(rng.random(n) < 0.8, "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06")
    output = ["x" * int(c * 4.1) for c in completion]
    columns = {
        "entry_id": [f"e{i:06d}" for i in range(n)], "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "drop": [f"{(START + timedelta(days=int(o // 86400))).date()}" for o in offsets], "line": np.arange(n),
        "service": ["support-bot"] * n, "model": models, "version": np.where(v2, "v2", "v1"),
        "output": output, "latency_ms": latency.round(1), "prompt_tokens": prompt, "completion_tokens": completion,
        "cost_usd": cost, "status": status,
    }
    table = pa.table({k: pa.array(v) if not isinstance(v, pa.Array) else v for k, v in columns.items()})
    missing = [f for f in CANONICAL_SCHEMA if f.name not in table.column_names]
    for f in missing:
        table = table.append_column(f, pa.nulls(n, f.type))
    return table.select(CANONICAL_SCHEMA.names).cast(CANONICAL_SCHEMA)


def populate_warehouse(con, entries: pa.Table | None = None) -> pa.Table:
    """Every table the report reads, filled the way the pipeline fills them; returns the entries it was built from."""
    entries = entries if entries is not None else sample_entries()
    for stmt in WAREHOUSE_DDL + INVARIANT_DDL + DRIFT_DDL:
        con.execute(stmt)
    drops = sorted(set(entries.column("drop").to_pylist()))
    for i, drop in enumerate(drops):
        kept = int(np.sum(np.array(entries.column("drop").to_pylist()) == drop))
        rejected = [0, 3, 0, 12, 1, 0, 4][i % 7]
        con.execute("INSERT INTO drops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            drop, kept + rejected, kept, rejected, kept / (kept + rejected), kept * 912, 2 + i % 2,
            json.dumps({"jsonl": 1, **({"csv": 1} if i % 2 else {})}), json.dumps({"openai": 1}),
            f"data/lake/log_entries/drop={drop}", START + timedelta(days=i + 1, hours=1)])
    window = {"start": str(START), "end": str(START + timedelta(days=len(drops)))}
    store_baselines(con, compute_baselines(entries.filter(pc.less(entries.column("ts"), pa.scalar(
        START + timedelta(days=4), pa.timestamp("us", tz="UTC"))))), window, START + timedelta(days=4))
    found, _ = detect_anomalies(entries)
    con.register("_a", found)
    con.execute("CREATE TABLE IF NOT EXISTS anomalies AS SELECT ''::VARCHAR AS drop, * FROM _a LIMIT 0")
    con.execute("INSERT INTO anomalies SELECT strftime(ts, '%Y-%m-%d'), * FROM _a")
    con.unregister("_a")
    _invariants(con, window, len(drops))
    _drift(con, drops)
    return entries


def _invariants(con, window: dict, days: int) -> None:
    mined = START + timedelta(days=1)
    for iid, family, text, conf, sev, _status, _now, samples in INVARIANTS:
        evidence = {"violations": 0, "share": conf, **({"samples": []} if family == "pii" else {})}
        con.execute("INSERT INTO invariants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            iid, family, text, conf, int(conf * 2400), 2400, sev, json.dumps({"kind": iid.split(":")[2],
            "field": iid.split(":")[1], **({"pattern": iid.split(":")[3]} if family == "pii" else {})}),
            json.dumps(evidence), window["start"], window["end"], mined])
    for day in range(2, days + 1):
        at = START + timedelta(days=day, hours=2)
        last = day == days
        for iid, family, _text, conf, sev, status, now, samples in INVARIANTS:
            c_now = now if last else conf - (conf - now) * (day - 1) / days / 3
            st = status if last else ("holds" if status != "unknown" else "unknown")
            total = 864
            evidence = {"violations": round((1 - c_now) * total), "share": c_now,
                        **({"samples": samples if last else samples[:1]} if family == "pii" else {}),
                        "examples": [{"entry_id": "e000001", "value": "raw text never shown"}]}
            con.execute("INSERT INTO staleness VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                at, iid, family, sev, st, conf, c_now, (conf - c_now) * 100, round(c_now * total), total,
                json.dumps(evidence), str(at - timedelta(days=1)), str(at)])


def _drift(con, drops: list[str]) -> None:
    scores = [0.04, 0.06, 0.05, 0.09, 0.31, 0.52, 0.27]
    for i, drop in enumerate(drops[1:]):
        s = scores[i % len(scores)]
        verdict = "SHIP" if s < 0.1 else "MONITOR" if s < 0.3 else "REVIEW" if s < 0.5 else "BLOCK"
        report = _drift_report(s, verdict, drops[i], drop, i)
        con.execute("INSERT INTO drift_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            START + timedelta(days=i + 2, hours=3), "drop", drop, drops[i], drop, s, report["ci"][0], report["ci"][1],
            verdict, 6048, 864, json.dumps([h["text"] for h in report["hypotheses"]]), json.dumps(report)])
    report = _drift_report(0.38, "REVIEW", "v1", "v2", 9)
    con.execute("INSERT INTO drift_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        START + timedelta(days=len(drops), hours=3), "version", "v1 -> v2", "v1", "v2", 0.38, report["ci"][0],
        report["ci"][1], "REVIEW", 3400, 2648, json.dumps([h["text"] for h in report["hypotheses"]]), json.dumps(report)])


def _drift_report(score: float, verdict: str, base: str, cur: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    dims = [("latency_ms", "numeric", "performance", "ks", 0.21, "wasserstein_norm"),
            ("completion_tokens", "numeric", "output", "ks", 0.17, "wasserstein_norm"),
            ("cost_usd", "numeric", "cost", "ks", 0.12, "wasserstein_norm"),
            ("outcome", "categorical", "quality", "chi2", 48.2, "cohens_h"),
            ("status", "categorical", "reliability", "chi2", 9.1, "cohens_h"),
            ("tool_calls", "set", "behavior", "chi2", 3.3, "js_distance"),
            ("output_kind", "categorical", "output", "chi2", 0.8, "js_distance")]
    out = []
    for j, (name, kind, group, test, stat, effect_name) in enumerate(dims):
        p = float(10 ** -(rng.uniform(0, 9) * score * 2.5 / (j + 1)))
        sc = float(min(1.0, score * 1.8 / (j + 1) + rng.uniform(0, 0.03)))
        out.append({"name": name, "kind": kind, "group": group, "test": test, "statistic": stat * (0.5 + score),
                    "p_value": p, "p_adjusted": min(1.0, p * len(dims)), "effect": sc * 0.6,
                    "effect_name": effect_name, "score": sc, "weight": [2.0, 1.5, 1.5, 2.0, 1.0, 1.0, 0.5][j],
                    "significant": p * len(dims) < 0.05 and sc > 0.1})
    hyps = [{"text": "latency_ms rose 12% (p50 860 → 965 ms) since v2's longer system prompt", "dimension": "latency_ms",
             "contribution": 0.41},
            {"text": "Answers are 18% longer (completion_tokens 96 → 113)", "dimension": "completion_tokens",
             "contribution": 0.28},
            {"text": "Escalations went from 4.9% to 7.2% of conversations", "dimension": "outcome",
             "contribution": 0.17}][: 1 + int(score * 6)] if score >= 0.1 else []
    delta = score * 1.9
    return {"score": score, "ci": [max(0.0, score - 0.04), min(1.0, score + 0.05)], "verdict": verdict,
            "baseline_label": base, "current_label": cur, "n_baseline": 6048, "n_current": 864, "dimensions": out,
            "hypotheses": hyps, "financial_impact": {
                "currency": "USD", "per_10k_baseline": 8.31, "per_10k_current": 8.31 + delta, "delta_per_10k": delta,
                "delta_pct": delta / 8.31 * 100,
                "text": f"+${delta:.2f} per 10k requests (+{delta / 8.31:.1%}) at current volume"}}


HOSTILE = '<script>document.title="pwned"</script></style>"><img src=x onerror="document.title=1"> ü 💥 שלום'
# What the browser tests plant in log-derived text: each must show as text, never run, never be templated.
PAYLOADS = ("<script>window.__pwned=1</script>", '"><img src=x onerror="window.__pwned=2">', "{{ 7*7 }}")


def add_hostile_rows(con, text: str = HOSTILE) -> None:
    """User-derived text that must show as text: in an anomaly (segment, explanation), a PII invariant (kind,
    description, a sample next to a clear e-mail address), a version diff (labels, hypothesis, dimension)."""
    con.execute("INSERT INTO anomalies SELECT drop, ts + INTERVAL 1 SECOND, 'evil', 1, ?, metric, value, expected, "
                "99.0, ['zscore'], 'critical', ? FROM anomalies ORDER BY ts LIMIT 1", [text, text])
    con.execute("INSERT INTO invariants VALUES (?, 'pii', ?, 1.0, 10, 10, 'critical', ?, ?, NULL, NULL, now())",
                ["pii:output:regex_absent:" + text, text, json.dumps({"kind": "regex_absent", "pattern": text}),
                 json.dumps({"samples": [text, "leak: alice.smith@example.org"]})])
    report = _drift_report(0.9, "BLOCK", text, text, 3)
    report["hypotheses"] = [{"text": text, "dimension": text, "contribution": 1.0}]
    report["financial_impact"]["text"] = text
    report["dimensions"][0]["name"] = text
    con.execute("INSERT INTO drift_results VALUES (now(), 'version', ?, ?, ?, 0.9, 0.8, 0.95, 'BLOCK', 10, 10, ?, ?)",
                [text, text, text, json.dumps([text]), json.dumps(report)])


def add_payload_rows(con, payloads: tuple[str, ...] = PAYLOADS) -> None:
    """Every payload through `add_hostile_rows`, plus a drop whose formats and vendors are named by them and a newest
    drop drift whose hypotheses are them (so the summary and the latest-drop block show them too)."""
    for text in payloads:
        add_hostile_rows(con, text)
    last = con.execute("SELECT max(ingested_at) FROM drops").fetchone()[0]
    names = json.dumps({text: 1 for text in payloads})
    con.execute("INSERT INTO drops VALUES ('hostile', 10, 10, 0, 1.0, 100, 1, ?, ?, 'data/lake/hostile', ?)",
                [names, names, last + timedelta(minutes=5)])
    subject = con.execute("SELECT max(subject) FROM drift_results WHERE kind = 'drop'").fetchone()[0]
    report = _drift_report(0.31, "REVIEW", subject, "hostile", 5)
    report["hypotheses"] = [{"text": text, "dimension": "latency_ms", "contribution": 0.3} for text in payloads]
    at = con.execute("SELECT max(computed_at) + INTERVAL 1 HOUR FROM drift_results WHERE kind = 'drop'").fetchone()[0]
    con.execute("INSERT INTO drift_results VALUES (?, 'drop', 'hostile', ?, 'hostile', 0.31, 0.27, 0.36, 'REVIEW', "
                "6048, 10, ?, ?)", [at, subject, json.dumps(list(payloads)), json.dumps(report)])


# --- the browser ----------------------------------------------------------------------------------------------
def chromium_path() -> str:
    """Debian's chromium (or $STRATA_CHROMIUM): never a browser Playwright downloads."""
    return os.environ.get("STRATA_CHROMIUM") or CHROMIUM


def launch(playwright):
    """Headless Chromium through Playwright, from `chromium_path()`, with nothing running in the background that
    could reach the network."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"])


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 2600) -> None:
    """A PNG of a local HTML file in a `width`-wide viewport: the full page, cut at `height` pixels (Playwright
    driving `chromium_path()`; Chromium's own --screenshot when Playwright is not installed)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        done = _cli_screenshot(html_path, png_path, width, height)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            full = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(path=str(png_path), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(full, height)})
        finally:
            browser.close()


def _cli_screenshot(html_path: Path, png_path: Path, width: int, height: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium_path(), *chromium_flags(profile), f"--screenshot={png_path.resolve()}",
                               f"--window-size={width},{height}", html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)


def chromium_flags(profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}"]


def main(argv: list[str] | None = None) -> int:
    import argparse

    import duckdb

    from pipeline.core.report import build_report_data, render_html

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-o", "--out", default="docs/report.png", help="PNG to write (relative to the repository)")
    p.add_argument("--template", choices=["default", "eu-ai-act"], default="default")
    p.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    p.add_argument("--height", type=int, default=2600, help="the page is cut at this many pixels")
    p.add_argument("--html", help="screenshot this report (e.g. make demo's data/artifacts/reports/report.html) "
                                  "instead of one built from the sample warehouse")
    args = p.parse_args(argv)
    if not Path(chromium_path()).exists():
        print(f"{chromium_path()} not found (apt-get install chromium, or set STRATA_CHROMIUM)", file=sys.stderr)
        return 2
    target = ROOT / args.out
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(args.html) if args.html else Path(tmp) / "report.html"
        if not args.html:
            con = duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
            entries = populate_warehouse(con)
            data = build_report_data(con, entries, title="Support bot — daily report",
                                     now=START + timedelta(days=7, hours=6))
            page.write_text(render_html(data, template=args.template, sign=True), encoding="utf-8")
        try:
            screenshot(page, target, width=args.width, height=args.height)
        except Exception as exc:  # noqa: BLE001 - the browser's own message is the useful part
            print(f"screenshot failed: {exc}", file=sys.stderr)
            return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
