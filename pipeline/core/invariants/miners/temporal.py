"""Temporal invariants: output length, latency, error rate and model mix stay the same from the early to the late window."""
from __future__ import annotations

from ..model import make_invariant
from ..registry import register_miner

FAMILY = "temporal"
ALPHA = 0.001
CLIFFS_SMALL = 0.147  # Romano et al.: |delta| below this is negligible
CRAMERS_SMALL = 0.1  # Cohen: V below this is negligible


def _stable(field, label, what, **test) -> object:
    check = {"kind": "two_sample", "field": field, "split": "time", "alpha": ALPHA, **test}
    effect = "Cliff's delta" if test["test"] == "mannwhitney" else "Cramér's V"
    return make_invariant(
        FAMILY, check, f"{what} is the same early and late in the window (no {effect} >= {test['min_effect']} at p < {ALPHA})",
        field_label=label, severity="info")


@register_miner("temporal", FAMILY, context=True)
def mine_temporal(ctx) -> list:
    present = ctx.present()
    if "ts" not in present:
        return []
    found = []
    if "output" in present:
        found.append(_stable("output", "output.length", "Output length distribution", test="mannwhitney",
                             measure="length", min_effect=CLIFFS_SMALL))
    if "latency_ms" in present:
        found.append(_stable("latency_ms", "latency_ms", "Latency distribution", test="mannwhitney", min_effect=CLIFFS_SMALL))
    if "status" in present:
        found.append(_stable("status", "status.error", "Error rate", test="chi2", value="error", min_effect=CRAMERS_SMALL))
    if "model" in present:
        found.append(_stable("model", "model", "Model mix", test="chi2", min_effect=CRAMERS_SMALL))
    return found
