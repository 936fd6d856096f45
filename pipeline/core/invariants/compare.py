"""Compare two baselines: which invariants are new, removed, improved, degraded or stable, judged with statistics
(a ceiling by its standard errors, a two-sided share by its intervals, a share of rows by a two-proportion test,
a critical invariant by its hits), and which of the changes are regressions a CI gate should fail on."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .model import Invariant, plain
from .stats import GATE_MIN_EFFECT, GATE_Z, ceiling_gate, two_proportion_z
from .text_scan import is_pii

FAIL_ON = ("regression", "critical", "degraded", "never")
SHARE_OF_ROWS = ("not_empty", "length_between", "json_valid", "json_type", "json_keys", "in_set", "type_is",
                 "min_value", "regex_absent", "regex_present", "prefix_in", "length_ratio_min", "unique",
                 "consistent_within", "group_size_between")
MIN_TESTED = 30  # below this many applicable rows a share change is judged by points alone
MIN_NEW_SHARE = 0.01  # a value or key new in B counts when it is at least this common there


@dataclass
class Compared:
    id: str
    description: str
    confidence_before: float | None
    confidence_after: float | None
    detail: str = ""
    severity: str = "warning"
    regression: bool = False  # a change for the worse that is statistically clear (or a critical invariant lost)


@dataclass
class Comparison:
    new: list[Compared] = field(default_factory=list)
    removed: list[Compared] = field(default_factory=list)
    improved: list[Compared] = field(default_factory=list)
    degraded: list[Compared] = field(default_factory=list)
    stable: list[Compared] = field(default_factory=list)

    def to_dict(self) -> dict:
        return plain(asdict(self))

    def category_of(self, invariant_id: str) -> str | None:
        for name in ("new", "removed", "improved", "degraded", "stable"):
            if any(c.id == invariant_id for c in getattr(self, name)):
                return name
        return None

    def regressions(self) -> list[Compared]:
        return [c for c in self.removed + self.degraded if c.regression]

    def fails(self, fail_on: str = "regression") -> bool:
        """Whether a gate with this policy fails: any regression, a critical one only, any degraded or removed
        invariant at all, or never."""
        if fail_on not in FAIL_ON:
            raise ValueError(f"fail_on must be one of {FAIL_ON}, got {fail_on!r}")
        if fail_on == "never":
            return False
        if fail_on == "degraded":
            return bool(self.degraded) or bool(self.regressions())
        if fail_on == "critical":
            return any(c.severity == "critical" for c in self.regressions())
        return bool(self.regressions())


def _critical(inv: Invariant) -> bool:
    return inv.severity == "critical" and (inv.family == "pii" or is_pii(inv.check))


def _pp(then: float, now: float) -> float:
    return round((then - now) * 100, 6)


def _quantile_change(a: Invariant, b: Invariant) -> tuple[str, str] | None:
    """(direction, detail) for a quantile ceiling whose bound moved beyond both baselines' standard errors."""
    old, new = float(a.check["max"]), float(b.check["max"])
    se_a, se_b = float(a.check.get("se") or 0.0), float(b.check.get("se") or 0.0)
    worse, z_up = ceiling_gate(new, old, se_b, se_a)
    better, _ = ceiling_gate(old, new, se_a, se_b)
    rel = (new - old) / abs(old) if old else 0.0
    detail = f"bound {old:.6g} -> {new:.6g} ({rel:+.0%}, {z_up:+.1f} se)"
    if worse != "holds":
        return ("regression" if worse == "violated" else "degraded"), detail
    if better != "holds":
        return "improved", detail
    return None


def _share_change(a: Invariant, b: Invariant) -> tuple[str, str] | None:
    """A share bound ([min, max] Wilson intervals of each baseline's share) that moved: the two intervals do not
    overlap. A ceiling-only share (an error rate) is worse when it rises; a two-sided mix share either way."""
    lo_a, hi_a = a.check.get("min"), a.check.get("max")
    lo_b, hi_b = b.check.get("min"), b.check.get("max")
    obs_a, obs_b = (a.evidence or {}).get("observed"), (b.evidence or {}).get("observed")
    shown = f"share {obs_a:.1%} -> {obs_b:.1%}" if obs_a is not None and obs_b is not None else ""
    if lo_a is None or lo_b is None:  # ceilings: the upper Wilson ends at z=3, and the observed shares
        if hi_a is None or hi_b is None or obs_a is None or obs_b is None:
            return None
        n_a, n_b = int((a.evidence or {}).get("n") or a.total), int((b.evidence or {}).get("n") or b.total)
        z = two_proportion_z(round(obs_a * n_a), n_a, round(obs_b * n_b), n_b)
        detail = f"{shown} ({z:+.1f} sd)"
        if z >= GATE_Z and obs_b >= obs_a * (1 + GATE_MIN_EFFECT):
            return "regression", detail
        if z <= -GATE_Z and obs_a >= obs_b * (1 + GATE_MIN_EFFECT):
            return "improved", detail
        return None
    if float(lo_b) > float(hi_a) or float(hi_b) < float(lo_a):  # disjoint intervals: the share moved
        ratio = max(float(obs_b or 0), 1e-12) / max(float(obs_a or 0), 1e-12)
        big = ratio >= 1 + GATE_MIN_EFFECT or ratio <= 1 / (1 + GATE_MIN_EFFECT)
        return ("regression" if big else "degraded"), f"{shown} (intervals do not overlap)"
    return None


def _rows_change(a: Invariant, b: Invariant, tolerance_pp: float) -> tuple[str, str] | None:
    change = _pp(b.confidence, a.confidence)  # positive: confidence rose
    detail = f"confidence {change:+.2f} pp"
    if abs(change) <= tolerance_pp:
        return None
    if a.kind in SHARE_OF_ROWS and min(a.total, b.total) >= MIN_TESTED:
        z = two_proportion_z(a.support, a.total, b.support, b.total)
        if abs(z) < GATE_Z:
            return None
        detail += f" ({z:+.1f} sd)"
        return ("improved", detail) if change > 0 else ("regression", detail)
    return ("improved", detail) if change > 0 else ("degraded", detail)


def _shares_of(inv: Invariant, after: dict) -> dict:
    """Known shares of values or keys in B: the invariant's own evidence, or its `required` sibling's key shares."""
    ev = inv.evidence or {}
    shares = dict(ev.get("value_shares") or ev.get("key_shares") or {})
    shares.update(ev.get("sometimes_present") or {})
    sibling = after.get(inv.id.replace(":allowed", ":required")) if inv.id.endswith(":allowed") else None
    if sibling is not None:
        shares.update((sibling.evidence or {}).get("key_shares") or {})
    return shares


def _set_change(a: Invariant, b: Invariant, after: dict) -> tuple[str, str] | None:
    """A domain or an allowed-key list that gained members in B, each common enough (>= MIN_NEW_SHARE of B's rows,
    or required in B) that sampling cannot explain it: new JSON keys, new categories."""
    key = "allowed" if a.kind == "json_keys" else "values"
    old, new = a.check.get(key), b.check.get(key)
    if old is None or new is None:
        return None
    added = [v for v in new if v not in set(old)]
    shares = _shares_of(b, after)
    common = [v for v in added if float(shares.get(str(v), 0.0)) >= MIN_NEW_SHARE]
    if not common:
        return None
    what = "keys" if key == "allowed" else "values"
    return "regression", f"new {what}: {', '.join(map(str, common[:5]))}"


def _judge(a: Invariant, b: Invariant, tolerance_pp: float, after: dict) -> tuple[str, str] | None:
    if a.kind in ("json_keys", "in_set") and b.kind == a.kind and (found := _set_change(a, b, after)):
        return found
    if _critical(a):
        hits_a, hits_b = a.total - a.support, b.total - b.support
        if hits_b > 0 and hits_b > hits_a:
            return "regression", f"{hits_b} of {b.total} rows hit it (was {hits_a})"
        if hits_b < hits_a:
            return "improved", f"{hits_b} of {b.total} rows hit it (was {hits_a})"
        return None
    if a.kind == "max_quantile" and b.kind == "max_quantile":
        return _quantile_change(a, b)
    if a.kind == "share_between" and b.kind == "share_between":
        return _share_change(a, b)
    return _rows_change(a, b, tolerance_pp)


def compare(a: list[Invariant], b: list[Invariant], tolerance_pp: float = 2.0, findings_b: list[dict] | None = None
            ) -> Comparison:
    """How baseline `b` differs from baseline `a`, by invariant id. A removed critical invariant (a PII rule that
    no longer holds, so `b`'s discovery reported it as a finding) is a regression; `findings_b` (b's recorded
    findings) only adds their counts to the detail."""
    before, after = {i.id: i for i in a}, {i.id: i for i in b}
    found = {f.get("invariant_id"): f for f in findings_b or []}
    out = Comparison()
    for iid, inv in after.items():
        if iid not in before:
            out.new.append(Compared(iid, inv.description, None, inv.confidence, severity=inv.severity))
    for iid, inv in before.items():
        if iid not in after:
            lost = _critical(inv)
            detail = (found[iid].get("title", "") if iid in found else
                      ("critical invariant no longer holds" if lost else ""))
            out.removed.append(Compared(iid, inv.description, inv.confidence, None, detail, inv.severity, lost))
            continue
        new = after[iid]
        verdict = _judge(inv, new, tolerance_pp, after)
        item = Compared(iid, new.description, inv.confidence, new.confidence,
                        f"confidence {_pp(new.confidence, inv.confidence):+.2f} pp", inv.severity)
        if verdict is None:
            out.stable.append(item)
            continue
        direction, item.detail = verdict
        if direction == "improved":
            out.improved.append(item)
        else:
            item.regression = direction == "regression"
            out.degraded.append(item)
    return out
