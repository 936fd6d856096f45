"""Discovery: run every registered miner, measure each candidate with the one evaluator, keep and deduplicate."""
from __future__ import annotations

import pyarrow as pa

from . import miners as _builtin_miners  # noqa: F401  (registers the built-in families)
from .evaluator import Evaluator, known_kinds
from .miners.pii import PII_LABELS
from .model import Invariant
from .registry import MiningContext, registered_miners, run_miner
from .sql_checks import ROW_KINDS
from .stats import wilson_interval
from .pii_mask import mask_invariant

SHARE_OF_ROWS = ROW_KINDS + ("unique", "consistent_within", "group_size_between")
FAMILY_ORDER = ("structural", "statistical", "pii", "relational", "semantic", "temporal", "session")


def discover(
    entries: pa.Table,
    min_confidence: float = 0.8,
    families=None,
    embedder=None,
    semantic_sample: int = 5000,
    seed: int = 0,
    con=None,
) -> list[Invariant]:
    """Invariants that hold on at least `min_confidence` of the entries they apply to, deduplicated and sorted."""
    return discover_with_findings(entries, min_confidence, families, embedder, semantic_sample, seed, con)[0]


def discover_with_findings(
    entries: pa.Table,
    min_confidence: float = 0.8,
    families=None,
    embedder=None,
    semantic_sample: int = 5000,
    seed: int = 0,
    con=None,
) -> tuple[list[Invariant], list[dict]]:
    """(invariants, findings). A critical invariant (no e-mail, phone, SSN, card, IP or IBAN in outputs) that the
    entries break even once is never kept as an invariant with a confidence below 1: it is a finding, a leak to
    fix, with its count and example rows (entry ids and lines, never the leaked value)."""
    ev = Evaluator(entries, con=con, embedder=embedder)
    try:
        ctx = MiningContext(entries=entries, evaluator=ev, min_confidence=min_confidence, embedder=embedder,
                            semantic_sample=semantic_sample, seed=seed)
        candidates: list[Invariant] = []
        for miner in registered_miners(families):
            candidates += run_miner(miner, ctx)
        measured = _measure(ev, candidates)
    finally:
        ev.close()
    leaks = [inv for inv in measured if _leaking(inv)]
    findings = [leak_finding(inv) for inv in leaks]
    kept = [inv for inv in measured if inv.confidence >= min_confidence and not _leaking(inv)]
    # mined invariants are written for people (baselines, suites, reports, alerts): PII-shaped values masked
    return sorted((mask_invariant(i) for i in deduplicate(kept)), key=_order), findings


def _leaking(inv: Invariant) -> bool:
    return inv.severity == "critical" and inv.kind == "regex_absent" and inv.support < inv.total


def leak_finding(inv: Invariant) -> dict:
    """A finding for a critical invariant broken in the mined entries; examples keep row locations only."""
    hits = inv.total - inv.support
    label = PII_LABELS.get(inv.check.get("pattern"), inv.check.get("pattern") or "sensitive value")
    examples = [{k: e[k] for k in ("entry_id", "line") if k in e} for e in (inv.evidence or {}).get("examples", [])]
    return {"kind": "leak", "severity": "critical", "invariant_id": inv.id, "field": inv.field,
            "pattern": inv.check.get("pattern"), "hits": hits, "total": inv.total,
            "title": f"Leak: {hits} of {inv.total} {inv.field} values contain a valid {label}",
            "examples": examples}


def _measure(ev: Evaluator, candidates: list[Invariant]) -> list[Invariant]:
    """Fill confidence, support and total from the evaluator, so discovery and later checks agree by construction.
    Invariants of kinds the evaluator does not know are kept as their miner built them."""
    known = set(known_kinds())
    todo = [inv for inv in candidates if inv.check.get("kind") in known]
    results = ev.evaluate_many([inv.check for inv in todo]) if todo else []
    out = [inv for inv in candidates if inv.check.get("kind") not in known]
    for inv, res in zip(todo, results):
        if res.missing:
            continue
        inv.confidence, inv.support, inv.total = res.confidence, res.support, res.total
        inv.evidence = {**inv.evidence, **res.evidence}
        if inv.kind in SHARE_OF_ROWS and "min_confidence" not in inv.check and res.confidence < 1.0:
            # "holds" later means: no worse than this baseline beyond sampling noise
            inv.check["min_confidence"] = round(wilson_interval(res.support, res.total)[0], 6)
        out.append(inv)
    return out


def _order(inv: Invariant):
    rank = FAMILY_ORDER.index(inv.family) if inv.family in FAMILY_ORDER else len(FAMILY_ORDER)
    return rank, inv.id


def _width(inv: Invariant) -> float:
    return float(inv.check["max"]) - float(inv.check["min"])


def _better(a: Invariant, b: Invariant) -> Invariant:
    return a if (a.confidence, a.support) >= (b.confidence, b.support) else b


def deduplicate(invariants: list[Invariant]) -> list[Invariant]:
    """Drop invariants another one already implies:
    same id (keep the better measured); two length bounds on a field (keep the tighter); "never empty" when
    "min length >= 1" holds as often; a top-values domain equal to the full domain; two quantile ceilings on the
    same field and quantile (keep the lower); a domain that contains another held domain (keep the smaller)."""
    by_id: dict[str, Invariant] = {}
    for inv in invariants:
        by_id[inv.id] = _better(inv, by_id[inv.id]) if inv.id in by_id else inv
    items = list(by_id.values())
    drop: set[str] = set()

    def group(kind):
        g: dict[tuple, list[Invariant]] = {}
        for inv in items:
            if inv.kind == kind and inv.id not in drop:
                key = (inv.field, inv.check.get("measure"), inv.check.get("q"), str(inv.check.get("where") or ""))
                g.setdefault(key, []).append(inv)
        return g

    for members in group("length_between").values():
        best = min(members, key=lambda i: (_width(i), -i.confidence, i.id))
        drop.update(i.id for i in members if i is not best)
    for members in group("max_quantile").values():
        best = min(members, key=lambda i: (float(i.check["max"]), -i.confidence, i.id))
        drop.update(i.id for i in members if i is not best)
    lengths = {i.field: i for i in items if i.kind == "length_between" and i.id not in drop}
    for inv in items:
        bound = lengths.get(inv.field)
        if inv.kind == "not_empty" and bound and float(bound.check["min"]) >= 1 and bound.confidence >= inv.confidence:
            drop.add(inv.id)
    for members in group("in_set").values():
        ordered = sorted(members, key=lambda i: (len(i.check["values"]), i.id))
        for i, small in enumerate(ordered):
            for big in ordered[i + 1:]:
                if big.id in drop or small.id in drop:
                    continue
                if set(small.check["values"]) == set(big.check["values"]):
                    drop.add(small.id if "min_confidence" in small.check else big.id)
                elif set(small.check["values"]) < set(big.check["values"]) and small.confidence >= big.confidence:
                    drop.add(big.id)
    return [inv for inv in items if inv.id not in drop]
