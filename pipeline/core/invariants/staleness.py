"""Staleness: re-check baseline invariants on new entries (holds / degraded / violated / missing), and compare baselines."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pyarrow as pa

from .pii_mask import mask_value
from .evaluator import Evaluator
from .model import Invariant, plain
from .compare import Compared, Comparison, compare  # noqa: F401  (re-exported)
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
        return plain(asdict(self))


def _drop_pp(then: float, now: float) -> float:
    # rounded so that 0.95 -> 0.85 is exactly 10 pp, not 10.000000000000002
    return round((then - now) * 100, 6)


def classify(inv: Invariant, confidence_now: float, violations: int, missing: bool,
             degraded_pp: float = 10, violated_pp: float = 30, gate: str | None = None) -> str:
    """The status of one re-checked invariant. `gate` is the evaluator's verdict for ceilings (a quantile or an
    error rate whose interval lies above its bound); the worse of it and the confidence drop wins."""
    if missing:
        return "missing"
    drop = _drop_pp(inv.confidence, confidence_now)
    critical_pii = inv.severity == "critical" and (inv.family == "pii" or is_pii(inv.check))
    if drop > violated_pp or (critical_pii and violations > 0) or gate == "violated":
        return "violated"
    if drop > degraded_pp or gate == "degraded":
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
        status = classify(inv, res.confidence, violations, res.missing, degraded_pp, violated_pp,
                          gate=res.evidence.get("gate"))
        out.append(StalenessResult(
            id=inv.id, family=inv.family, description=mask_value(inv.description), severity=inv.severity, status=status,
            confidence_then=inv.confidence, confidence_now=res.confidence,
            drop_pp=0.0 if res.missing else _drop_pp(inv.confidence, res.confidence),
            support=res.support, total=res.total, check=mask_value(inv.check), evidence=mask_value(res.evidence)))
    return out
