"""Relational invariants: output length against input length, refusal rate, and length/latency correlations."""
from __future__ import annotations

import math

from ..model import make_invariant
from ..registry import register_miner
from ..stat_checks import spearman
from ..stats import fisher_interval, wilson_interval
from ._common import pct

FAMILY = "relational"
MIN_RHO = 0.3  # weaker monotone relations are not worth promising
RATIO_QUANTILE = 0.001


def _correlation(ctx, x, x_measure, y, y_measure, label, what) -> list:
    rho, n = spearman(ctx.evaluator, x, x_measure, y, y_measure)
    if n < 30 or not math.isfinite(rho) or abs(rho) < MIN_RHO:
        return []
    lo, hi = fisher_interval(rho, n)
    sign = 1 if rho > 0 else -1
    min_abs = round(lo if sign > 0 else -hi, 4)
    check = {"kind": "correlation", "x": x, "y": y, "x_measure": x_measure, "y_measure": y_measure,
             "method": "spearman", "sign": sign, "min_abs": min_abs}
    direction = "rises" if sign > 0 else "falls"
    return [make_invariant(FAMILY, check, f"{what} {direction} with {label} (Spearman |rho| >= {min_abs:.2f}, baseline {rho:.2f})",
                           field_label=f"{x}{'.' + x_measure if x_measure else ''}~{y}{'.' + y_measure if y_measure else ''}",
                           severity="info", evidence={"rho": rho, "n": n})]


@register_miner("relational", FAMILY, context=True)
def mine_relational(ctx) -> list:
    present = ctx.present()
    found = []
    if {"input", "output"} <= present:
        ratios = ctx.sql("SELECT quantile_disc(length(output) / length(input), "
                         f"{RATIO_QUANTILE}) FROM {{t}} WHERE length(input) > 0 AND output IS NOT NULL")[0][0]
        if ratios is not None and ratios > 0:
            floor = math.floor(ratios * 1000) / 1000
            found.append(make_invariant(
                FAMILY, {"kind": "length_ratio_min", "field": "output", "other": "input", "min": floor},
                f"Output is at least {floor:g}x as long as its input", evidence={"quantile": RATIO_QUANTILE}))
        found += _correlation(ctx, "input", "length", "output", "length", "input length", "Output length")
    if "output" in present:
        check = {"kind": "share_between", "field": "output", "pattern": "refusal"}
        n, hits, _ = ctx.evaluator.counts([check])[0]
        hi = wilson_interval(hits, n)[1]
        found.append(make_invariant(
            FAMILY, {**check, "max": round(hi, 6)},
            f"Refusal/apology rate stays at or below {pct(hi)} (baseline {pct(hits / n if n else 0)})",
            qualifier="refusal", evidence={"observed": hits / n if n else 0.0, "n": n}))
    if {"latency_ms", "output"} <= present:
        found += _correlation(ctx, "output", "length", "latency_ms", None, "output length", "Latency")
    return found

