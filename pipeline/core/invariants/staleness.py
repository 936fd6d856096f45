"""Staleness: re-check baseline invariants on new entries (holds / degraded / violated / missing), and compare baselines."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pyarrow as pa

from .pii_mask import mask_value
from .evaluator import Evaluator
from .model import Invariant, _plain
from .text_scan import is_pii

STATUSES = ("holds", "degraded", "violated", "missing")


@dataclass
class StalenessResult:
    id: str
    family: str
    description: str
    severity: str
    status: str
    confidence_then: float
    confidence_now: float
    drop_pp: float
    support: int
    total: int
    check: dict
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _plain(asdict(self))


def _drop_pp(then: float, now: float) -> float:
    # rounded so that 0.95 -> 0.85 is exactly 10 pp, not 10.000000000000002
    return round((then - now) * 100, 6)


def classify(inv: Invariant, confidence_now: float, violations: int, missing: bool,
             degraded_pp: float = 10, violated_pp: float = 30) -> str:
    if missing:
        return "missing"
    drop = _drop_pp(inv.confidence, confidence_now)
    critical_pii = inv.severity == "critical" and (inv.family == "pii" or is_pii(inv.check))
    if drop > violated_pp or (critical_pii and violations > 0):
        return "violated"
    if drop > degraded_pp:
        return "degraded"
    return "holds"


def check_staleness(baseline: list[Invariant], entries: pa.Table, degraded_pp: float = 10, violated_pp: float = 30,
                    embedder=None, con=None) -> list[StalenessResult]:
    """Evaluate every baseline invariant on `entries` and say whether it still holds.

    degraded: confidence fell by more than `degraded_pp` points; violated: by more than `violated_pp`, or a
    critical PII invariant saw any violation; missing: the field it reads is gone or all null. The results are
    written for people (CLI, warehouse `staleness.evidence`, reports, alerts): PII-shaped values in the description,
    check and evidence are masked."""
    ev = Evaluator(entries, con=con, embedder=embedder)
    try:
        results = ev.evaluate_many([inv.check for inv in baseline])
    finally:
        ev.close()
    out = []
    for inv, res in zip(baseline, results):
        violations = res.total - res.support if res.evidence.get("violations") is not None else 0
        status = classify(inv, res.confidence, violations, res.missing, degraded_pp, violated_pp)
        out.append(StalenessResult(
            id=inv.id, family=inv.family, description=mask_value(inv.description), severity=inv.severity, status=status,
            confidence_then=inv.confidence, confidence_now=res.confidence,
            drop_pp=0.0 if res.missing else _drop_pp(inv.confidence, res.confidence),
            support=res.support, total=res.total, check=mask_value(inv.check), evidence=mask_value(res.evidence)))
    return out


@dataclass
class Compared:
    id: str
    description: str
    confidence_before: float | None
    confidence_after: float | None
    detail: str = ""


@dataclass
class Comparison:
    new: list[Compared] = field(default_factory=list)
    removed: list[Compared] = field(default_factory=list)
    improved: list[Compared] = field(default_factory=list)
    degraded: list[Compared] = field(default_factory=list)
    stable: list[Compared] = field(default_factory=list)

    def to_dict(self) -> dict:
        return _plain(asdict(self))

    def category_of(self, invariant_id: str) -> str | None:
        for name in ("new", "removed", "improved", "degraded", "stable"):
            if any(c.id == invariant_id for c in getattr(self, name)):
                return name
        return None


# Bounds where a lower ceiling is better (latency, tokens, cost, error and refusal rates, outliers, duplicates).
_CEILINGS = {"max_quantile": "max", "semantic_outlier_rate": "max_rate", "near_duplicate_rate": "max_rate"}


def _ceiling(inv: Invariant) -> float | None:
    key = _CEILINGS.get(inv.kind)
    if key is None and inv.kind == "share_between" and "min" not in inv.check:
        key = "max"
    return float(inv.check[key]) if key and inv.check.get(key) is not None else None


def compare(a: list[Invariant], b: list[Invariant], tolerance_pp: float = 2.0, bound_tolerance: float = 0.05) -> Comparison:
    """How baseline `b` differs from baseline `a`, by invariant id.

    A confidence change beyond `tolerance_pp` points is improved/degraded; so is a ceiling (a p95, an error-rate
    bound) that moved by more than `bound_tolerance` relative, lower being better."""
    before, after = {i.id: i for i in a}, {i.id: i for i in b}
    out = Comparison()
    for iid, inv in after.items():
        if iid not in before:
            out.new.append(Compared(iid, inv.description, None, inv.confidence))
    for iid, inv in before.items():
        if iid not in after:
            out.removed.append(Compared(iid, inv.description, inv.confidence, None))
            continue
        new = after[iid]
        change = _drop_pp(new.confidence, inv.confidence)  # positive: confidence rose
        item = Compared(iid, new.description, inv.confidence, new.confidence, f"confidence {change:+.2f} pp")
        old_cap, new_cap = _ceiling(inv), _ceiling(new)
        if change > tolerance_pp:
            out.improved.append(item)
        elif change < -tolerance_pp:
            out.degraded.append(item)
        elif old_cap is not None and new_cap is not None and abs(new_cap - old_cap) > bound_tolerance * max(abs(old_cap), 1e-12):
            item.detail = f"bound {old_cap:.6g} -> {new_cap:.6g}"
            (out.improved if new_cap < old_cap else out.degraded).append(item)
        else:
            out.stable.append(item)
    return out
