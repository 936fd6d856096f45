"""Shared builders for the branch-decision tests: SDK runs with a chosen human_review share, and entry tables."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

import strata_capture as sc
from pipeline.core.entry_schema import CANONICAL_SCHEMA


def sdk_runs(n: int, human_share: float, seed: int = 0) -> None:
    """`n` traced runs through the SDK: triage -> human_review for a `human_share` of them, else -> auto_reply
    (and then auto_reply -> close)."""
    rng = np.random.default_rng(seed)
    human = rng.random(n) < human_share
    for i in range(n):
        with sc.span("agent", kind="agent", input={"ticket": i}) as root:
            if human[i]:
                sc.branch("triage", "human_review", condition="risk > 0.8")
            else:
                sc.branch("triage", "auto_reply", condition="risk <= 0.8")
                sc.branch("auto_reply", "close")
            sc.log(model="gpt-4o-mini", input=f"ticket {i}", output="ok", prompt_tokens=20, completion_tokens=5,
                   latency_ms=40)
            root.set_output("handled")


def branch_table(shares: list[float], runs: int = 200, seed: int = 0, start: datetime | None = None,
                 bucket: timedelta = timedelta(hours=1), drop: str = "d1") -> pa.Table:
    """Canonical entries: `runs` per bucket, bucket i taking triage->human_review with probability shares[i]."""
    rng = np.random.default_rng(seed)
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = []
    for b, share in enumerate(shares):
        human = rng.random(runs) < share
        for i in range(runs):
            ts = start + b * bucket + i * bucket / (runs + 1)
            path = ["triage->human_review"] if human[i] else ["triage->auto_reply", "auto_reply->close"]
            rows.append({"entry_id": f"{drop}-{b}-{i}", "ts": ts, "drop": drop, "service": "bot", "model": "m",
                         "status": "ok", "latency_ms": 100.0, "branch_path": path})
    cols = {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in CANONICAL_SCHEMA}
    return pa.table(cols, schema=CANONICAL_SCHEMA)
