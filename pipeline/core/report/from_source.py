"""Build a warehouse from one log source, for `strata report LOGS`: the pipeline's stages (invariants mined and
checked on the last day, baselines, anomalies, version drift) run in one DuckDB connection, usually in memory."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc

from ..storage.anomaly_store import store_anomalies
from ..baselines import compute_baselines, store_baselines
from ..config import StrataConfig
from ..detectors import detect_anomalies
from ..drift.engine import diff_entries, split_by, to_dict
from ..storage.drift_store import store_drift
from ..storage.invariant_store import record_staleness, save_invariants
from ..invariants import check_staleness, discover
from ..storage.lake import last_days
from ..storage.warehouse import record_drop


def analyze_entries(con, entries: pa.Table, ingest_summary: dict, config: StrataConfig, drop: str) -> dict:
    """Fill `con` the way the Dagster jobs fill the warehouse; returns what ran (stage -> count or skip reason)."""
    entries = entries.take(pc.sort_indices(entries, [("ts", "ascending"), ("line", "ascending")]))
    now = datetime.now(timezone.utc)
    ts = entries.column("ts")
    window = {"start": str(pc.min(ts).as_py()), "end": str(pc.max(ts).as_py()), "rows": entries.num_rows,
              "drops": [drop]}
    record_drop(con, drop, {**ingest_summary, "entries_path": None})
    done: dict = {"drop": drop}

    inv = config.invariants
    mined = discover(entries, min_confidence=inv.min_confidence, families=inv.families)
    done["invariants"] = save_invariants(con, mined, window)
    last, last_window = last_days(entries, window, inv.staleness_window_days)
    results = check_staleness([i for i in mined if not i.window_dependent], last,
                              degraded_pp=inv.degraded_pp, violated_pp=inv.violated_pp)
    spanned = [i for i in mined if i.window_dependent]  # e.g. returning-user share: only comparable over it all
    if spanned:
        results += check_staleness(spanned, entries, degraded_pp=inv.degraded_pp, violated_pp=inv.violated_pp)
    done["staleness"] = record_staleness(con, results, last_window, now)

    done["baselines"] = store_baselines(con, compute_baselines(entries), window, now)
    found, _ = detect_anomalies(entries)
    done["anomalies"] = store_anomalies(con, drop, found)

    drift = config.drift
    try:
        a, b, base, cur = split_by(entries, drift.by, drift.baseline, drift.current)
    except ValueError as exc:  # one version only: nothing to diff, which is not an error
        done["version_drift"] = str(exc)
    else:
        report = to_dict(diff_entries(a, b, drift, config.price_table(), baseline_label=base, current_label=cur))
        store_drift(con, "version", f"{base} -> {cur}", report, now)
        done["version_drift"] = report["verdict"]
    return done
