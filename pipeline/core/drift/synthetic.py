"""Baseline/current pairs of synthetic entries where the current side carries exactly one planted behavior change
(or none), for the drift engine's tests and benches."""
from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from ..invariants.synthetic import Drift, generate_entries

NEUTRAL = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None,
                escalation_factor=1.0)
CHANGES: dict[str, Drift] = {
    "latency": replace(NEUTRAL, latency_factor=1.4),
    "tool_removed": replace(NEUTRAL, removed_tool="lookup_order"),
    "escalations": replace(NEUTRAL, escalation_factor=3.0),
    "model_switch": replace(NEUTRAL, model_switch=("gpt-4o", "gpt-4.1"), switch_after=0.2),
    "json_key_added": replace(NEUTRAL, added_json_key="lang"),
    "cost": NEUTRAL,  # the price change is applied to cost_usd after generation (tokens stay equal)
}
COST_FACTOR = 1.3
CURRENT_SEED_OFFSET = 7919  # the current side is an independent sample, never a copy of the baseline


def drift_corpus(n: int, seed: int = 0, change: str | None = None) -> tuple[pa.Table, pa.Table]:
    """(baseline, current): `n` entries each, a week apart, from different seeds; the current side carries
    `change` (one of CHANGES) or nothing (an A/A pair from the same distribution)."""
    if change is not None and change not in CHANGES:
        raise ValueError(f"unknown change {change!r}; expected one of {', '.join(CHANGES)} or None")
    baseline = generate_entries(n, seed, drift=NEUTRAL, start="2025-01-06")
    current = generate_entries(n, seed + CURRENT_SEED_OFFSET, drift=CHANGES.get(change, NEUTRAL), start="2025-01-13")
    if change == "cost":
        i = current.schema.get_field_index("cost_usd")
        cost = pc.round(pc.multiply(current.column(i), COST_FACTOR), 6)
        current = current.set_column(i, current.schema.field(i), cost)
    return baseline, current
