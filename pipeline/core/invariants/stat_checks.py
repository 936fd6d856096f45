"""Check kinds that need whole distributions or groups: quantiles, correlations, two-sample tests, group stats."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .model import CheckResult
from .stats import (Z_DEFAULT, ceiling_gate, cliffs_delta_from_u, cramers_v, fisher_interval, mean_interval,
                    quantile_interval, quantile_se, ratio_confidence, share_confidence)
from .text_scan import qident

STAT_KINDS = ("max_quantile", "correlation", "two_sample", "unique", "consistent_within",
              "group_size_between", "group_stat_between")
TWO_SAMPLE_CAP = 100_000  # per window; larger windows are thinned evenly (and the evidence says so)


def run(ev, check: dict) -> CheckResult:
    return globals()["_" + check["kind"]](ev, check)


def _result(check: dict, conf: float, support: int, total: int, evidence: dict) -> CheckResult:
    if total == 0:
        return CheckResult(False, 0.0, 0, 0, {"reason": "no applicable rows"}, missing=True)
    holds = conf >= float(check.get("min_confidence", 1.0)) - 1e-12
    return CheckResult(holds=holds, confidence=float(conf), support=int(support), total=int(total), evidence=evidence)


def _max_quantile(ev, check):
    rows, vals = ev.values(check["field"], check.get("measure"), check.get("where"))
    q, bound = float(check["q"]), float(check["max"])
    if len(vals) == 0:
        return _result(check, 0.0, 0, 0, {})
    value, lo, hi = quantile_interval(vals, q, float(check.get("z", Z_DEFAULT)))
    over = vals > bound
    worst = rows[over][np.argsort(-vals[over], kind="stable")][:5]
    se_now = quantile_se(vals, q)
    gate, score = ceiling_gate(value, bound, se_now, float(check.get("se") or 0.0),
                               min_effect=float(check.get("min_effect", 0.10)))
    evidence = {"quantile_now": value, "interval": [lo, hi], "share_within": float(1 - over.mean()),
                "se": se_now, "excess_z": score, "gate": gate,
                "examples": ev.examples(worst, [{"value": float(v)} for v in np.sort(vals[over])[::-1][:5]])}
    return _result(check, ratio_confidence(lo, bound, at_least=False), int((~over).sum()), len(vals), evidence)


def aligned(ev, a: str, a_measure, b: str, b_measure) -> tuple[np.ndarray, np.ndarray]:
    """Values of two columns (or their lengths) on the rows where both are known."""
    full = np.full((2, ev.n), np.nan)
    for i, (name, measure) in enumerate(((a, a_measure), (b, b_measure))):
        rows, vals = ev.values(name, measure)
        full[i, rows] = vals
    keep = ~np.isnan(full).any(axis=0)
    return full[0, keep], full[1, keep]


def spearman(ev, x: str, x_measure, y: str, y_measure) -> tuple[float, int]:
    """(Spearman's rho, n), cached per pair so mining and evaluation rank once; nan when undefined."""
    key = ("spearman", x, x_measure, y, y_measure)
    if key not in ev.cache:
        from scipy.stats import spearmanr

        a, b = aligned(ev, x, x_measure, y, y_measure)
        ok = len(a) >= 10 and np.ptp(a) > 0 and np.ptp(b) > 0
        ev.cache[key] = (float(spearmanr(a, b).statistic) if ok else math.nan, len(a))
    return ev.cache[key]


def _correlation(ev, check):
    rho, n = spearman(ev, check["x"], check.get("x_measure"), check["y"], check.get("y_measure"))
    if not math.isfinite(rho):
        return _result(check, 1.0 if n else 0.0, 0, n, {"reason": "too few or constant values"})
    lo, hi = fisher_interval(rho, n, float(check.get("z", Z_DEFAULT)))
    sign = 1 if check.get("sign", 1) >= 0 else -1
    near = hi if sign > 0 else -lo
    conf = ratio_confidence(near, float(check["min_abs"]), at_least=True)
    return _result(check, conf, n, n, {"rho": rho, "interval": [lo, hi], "n": n})


def _thin(a: np.ndarray) -> np.ndarray:
    if len(a) <= TWO_SAMPLE_CAP:
        return a
    return a[np.linspace(0, len(a) - 1, TWO_SAMPLE_CAP).astype(np.int64)]


def _two_sample(ev, check):
    order = ev.time_order()  # early and late halves of the rows in time order
    early_rows, late_rows = order[: len(order) // 2], order[len(order) // 2 :]
    alpha, floor = float(check.get("alpha", 0.001)), float(check.get("min_effect", 0.147))
    test = check.get("test", "mannwhitney")
    evidence: dict = {"test": test, "split": "time halves"}
    if test in ("mannwhitney", "ks"):
        rows, vals = ev.values(check["field"], check.get("measure"))
        full = np.full(ev.n, np.nan)
        full[rows] = vals
        early, late = full[early_rows], full[late_rows]
        early, late = early[~np.isnan(early)], late[~np.isnan(late)]
        sampled = len(early) > TWO_SAMPLE_CAP or len(late) > TWO_SAMPLE_CAP
        early, late = _thin(early), _thin(late)
        if len(early) < 20 or len(late) < 20:  # too little to test: nothing contradicts stability
            n = len(early) + len(late)
            return _result(check, 1.0, n, n, {**evidence, "reason": "fewer than 20 values in a window"})
        if test == "ks":
            from scipy.stats import ks_2samp

            res = ks_2samp(early, late)
            effect, p, name = float(res.statistic), float(res.pvalue), "ks_d"
        else:
            from scipy.stats import mannwhitneyu

            res = mannwhitneyu(early, late, method="asymptotic")
            effect, p, name = abs(cliffs_delta_from_u(float(res.statistic), len(early), len(late))), float(res.pvalue), "cliffs_delta"
        evidence.update({"early_median": float(np.median(early)), "late_median": float(np.median(late)), "sampled": sampled})
        n = len(early) + len(late)
    else:  # chi2 on categories: the field's values, or event/non-event when `value` is given
        col = ev.table.column(check["field"]).combine_chunks()
        if "value" in check:
            col = pc.equal(col, pa.scalar(check["value"]))
        codes = col.cast(pa.string()).dictionary_encode()
        idx = codes.indices.to_numpy(zero_copy_only=False).astype(float)
        idx = np.where(codes.indices.is_null().to_numpy(zero_copy_only=False), np.nan, idx)
        k = len(codes.dictionary)
        e, l = idx[early_rows], idx[late_rows]
        e, l = e[~np.isnan(e)].astype(int), l[~np.isnan(l)].astype(int)
        table = np.vstack([np.bincount(e, minlength=k), np.bincount(l, minlength=k)])
        effect, p = cramers_v(table)
        name, n = "cramers_v", int(table.sum())
        labels = codes.dictionary.to_pylist()
        evidence.update({"early": _shares(labels, table[0]), "late": _shares(labels, table[1])})
    drifted = p < alpha and effect >= floor
    evidence.update({"p_value": p, name: effect, "effect": effect, "min_effect": floor, "alpha": alpha})
    conf = 1.0 - effect if drifted else 1.0
    return _result(check, conf, n, n, evidence)


def _shares(labels, counts) -> dict:
    total = counts.sum() or 1
    return {str(k): round(float(c) / total, 6) for k, c in zip(labels, counts) if c}


def _group_rows(ev, check) -> str:
    f = qident(check["field"])
    return f"SELECT {f} AS g, count(*) AS n, min(_row) AS r FROM {ev.relation} WHERE {f} IS NOT NULL GROUP BY {f}"


def _unique(ev, check):
    f = qident(check["field"])
    total, distinct = ev.con.sql(f"SELECT count({f}), count(DISTINCT hash({f})) FILTER (WHERE {f} IS NOT NULL) FROM {ev.relation}").fetchall()[0]
    if total == distinct:  # hash collisions only lower the distinct count, so equality proves uniqueness
        return _result(check, 1.0 if total else 0.0, int(total), int(total), {"duplicates": 0, "examples": []})
    groups = _group_rows(ev, check)
    total, support = ev.con.sql(f"SELECT sum(n), sum(n) FILTER (WHERE n = 1) FROM ({groups})").fetchall()[0]
    dup_rows = [r for (r,) in ev.con.sql(
        f"SELECT _row FROM {ev.relation} WHERE {f} IN (SELECT g FROM ({groups}) WHERE n > 1) ORDER BY _row LIMIT 5").fetchall()]
    total, support = int(total or 0), int(support or 0)
    return _result(check, support / total if total else 0.0, support, total,
                   {"duplicates": total - support, "examples": ev.examples(dup_rows)})


def _consistent_within(ev, check):
    f, g = qident(check["field"]), qident(check["group"])
    base = (f"SELECT {g} AS g, count(*) AS n, count(DISTINCT {f}) AS d, min(_row) AS r FROM {ev.relation} "
            f"WHERE {g} IS NOT NULL AND {f} IS NOT NULL GROUP BY {g}")
    total, support, groups, bad, rows = ev.con.sql(
        f"SELECT sum(n), sum(n) FILTER (WHERE d = 1), count(*), count(*) FILTER (WHERE d > 1), "
        f"arg_min(r, r, 5) FILTER (WHERE d > 1) FROM ({base})").fetchall()[0]
    total, support = int(total or 0), int(support or 0)
    return _result(check, support / total if total else 0.0, support, total,
                   {"groups": int(groups or 0), "inconsistent_groups": int(bad or 0), "examples": ev.examples(sorted(rows or []))})


def _group_size_between(ev, check):
    lo, hi = float(check["min"]), float(check["max"])
    inside = f"n BETWEEN {lo} AND {hi}"
    total, support, rows, sizes = ev.con.sql(
        f"SELECT count(*), count(*) FILTER (WHERE {inside}), arg_min(r, r, 5) FILTER (WHERE NOT {inside}), "
        f"arg_min(n, r, 5) FILTER (WHERE NOT {inside}) FROM ({_group_rows(ev, check)})").fetchall()[0]
    total, support = int(total or 0), int(support or 0)
    return _result(check, support / total if total else 0.0, support, total,
                   {"examples": ev.examples(rows or [], [{"group_size": int(n)} for n in sizes or []])})


def _group_stat_between(ev, check):
    stat, z = check["stat"], float(check.get("z", Z_DEFAULT))
    lo, hi = check.get("min"), check.get("max")
    f = qident(check["field"])
    if stat == "returning_share":
        o = qident(check["other"])
        sizes = np.asarray(ev.con.sql(
            f"SELECT count(DISTINCT {o}) AS n FROM {ev.relation} WHERE {f} IS NOT NULL AND {o} IS NOT NULL GROUP BY {f}").fetchnumpy()["n"])
        hits = int((sizes >= 2).sum())
    else:
        sizes = np.asarray(ev.con.sql(f"SELECT n FROM ({_group_rows(ev, check)})").fetchnumpy()["n"])
        hits = int((sizes == 1).sum())
    groups = len(sizes)
    if groups == 0:
        return _result(check, 0.0, 0, 0, {})
    if stat == "mean_size":
        mean, m_lo, m_hi = mean_interval(sizes.astype(float), z)
        conf = 1.0
        if hi is not None and m_lo > float(hi):
            conf = ratio_confidence(m_lo, float(hi), at_least=False)
        elif lo is not None and m_hi < float(lo):
            conf = ratio_confidence(m_hi, float(lo), at_least=True)
        evidence = {"mean": mean, "interval": [m_lo, m_hi]}
    else:
        conf = share_confidence(hits, groups, lo, hi, z)
        evidence = {"share": hits / groups}
    evidence["groups"] = groups
    return _result(check, conf, hits if stat != "mean_size" else groups, groups, evidence)
