"""Invariant and CheckResult: the plain data that mining, evaluation, staleness and baseline files share."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")


def invariant_id(family: str, field_name: str, kind: str, qualifier: str | None = None) -> str:
    """Stable, readable id: the same invariant mined twice gets the same id."""
    parts = [family, field_name, kind] + ([str(qualifier)] if qualifier not in (None, "") else [])
    return ":".join(re.sub(r"\s+", "_", p.strip()) for p in parts)


def plain(value: Any) -> Any:
    """JSON-able copy: numpy scalars become Python numbers, tuples become lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


@dataclass
class Invariant:
    id: str
    family: str
    description: str
    confidence: float
    support: int
    total: int
    severity: str
    check: dict
    evidence: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def kind(self) -> str:
        return self.check["kind"]

    @property
    def field(self) -> str | None:
        return self.check.get("field")

    @property
    def window_dependent(self) -> bool:
        """True when the statistic depends on the window's length: compare it only over a window of the same span."""
        return bool((self.evidence or {}).get("window_dependent"))

    def to_dict(self) -> dict:
        return plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "Invariant":
        return cls(
            id=data["id"],
            family=data["family"],
            description=data["description"],
            confidence=float(data["confidence"]),
            support=int(data["support"]),
            total=int(data["total"]),
            severity=data["severity"],
            check=dict(data["check"]),
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass
class CheckResult:
    """One evaluation of a check spec: `confidence` is comparable with the Invariant's confidence."""

    holds: bool
    confidence: float
    support: int
    total: int
    evidence: dict = field(default_factory=dict)
    missing: bool = False  # the field is absent or all null: nothing to judge

    def to_dict(self) -> dict:
        return plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        return cls(
            holds=bool(data["holds"]),
            confidence=float(data["confidence"]),
            support=int(data["support"]),
            total=int(data["total"]),
            evidence=dict(data.get("evidence") or {}),
            missing=bool(data.get("missing", False)),
        )


def make_invariant(
    family: str,
    check: dict,
    description: str,
    *,
    field_label: str | None = None,
    qualifier: str | None = None,
    severity: str = "warning",
    evidence: dict | None = None,
) -> Invariant:
    """A candidate from a miner; discovery fills confidence, support and total through the evaluator."""
    label = field_label or check.get("field") or "-"
    return Invariant(
        id=invariant_id(family, label, check["kind"], qualifier),
        family=family,
        description=description,
        confidence=0.0,
        support=0,
        total=0,
        severity=severity,
        check=plain(check),
        evidence=plain(evidence or {}),
    )
