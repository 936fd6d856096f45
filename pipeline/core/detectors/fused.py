"""detect_anomalies' fast path (numba, the `fast` extra): one compiled pass over a series runs every numeric detector
(z-score, EWMA, CUSUMs, rolling MAD/IQR over one shared sorted window), the sigma-equivalent calibration, the
combination and the alert rule, and writes out only the points that alert. Same formulas as the reference classes;
tests check it against run_series + alerts. Configurations it does not cover fall back to the numpy path."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .base import IQR_TO_SIGMA, MAD_TO_SIGMA, MEANAD_TO_SIGMA
from .calibration import CENTRE_VARIANCE, ROBUST_SCALE_EFFICIENCY
from .compiled import quantile
from .compiled import njit
from .sorted_window import mad_lower_bound, mad_sigma, mean_abs_dev, slide_in
from .window import FAST, FAST_MIN_POINTS

KINDS = {"zscore": 0, "ewma": 1, "cusum": 2, "mad": 3, "iqr": 4}
DIRECTIONS = {"both": 0, "up": 1, "down": -1}
NAN = math.nan
CENTRE_VARIANCE_MAD, CENTRE_VARIANCE_IQR = CENTRE_VARIANCE["mad"], CENTRE_VARIANCE["iqr"]  # plain floats for numba
ROBUST_EFFICIENCY = ROBUST_SCALE_EFFICIENCY


class Hits(NamedTuple):
    names: list[str]
    rows: np.ndarray  # positions (in the series) of the points that alert
    scores: np.ndarray  # len(rows) x d, sigma-equivalent
    expected: np.ndarray  # len(rows) x d
    state: dict[str, dict]


def _sigma_equivalent(t, dof, factor):
    v = max(dof, 1.0)
    u = t / factor
    z = math.sqrt(v * math.log1p(u * u / v)) * ((8.0 * v + 1.0) / (8.0 * v + 3.0))
    return math.copysign(z, u)


def _decide(xi, kind, fp, st, raw, cal, deferred, s, c, med, policy, confirm, alone, direction):
    """A candidate point: deferred MAD scores made exact, every score calibrated into `cal`, combined, and the
    alert rule of ensemble.alerts applied (with the metric's direction). True when the point alerts."""
    thr, crit, quorum = policy[0], policy[1], policy[2]
    d = kind.shape[0]
    best, combined = -1.0, NAN
    msig = NAN
    for j in range(d):
        if deferred[j]:  # the exact MAD after all
            if msig != msig:
                msig = mad_sigma(s, c, med)
            raw[j] = (xi - med) / max(msig, max(fp[j, 1], fp[j, 2] * abs(med)))
        r = raw[j]
        kj = kind[j]
        if kj != 2 and r == r:
            m = max(st[j, 0] - 1.0, 2.0)  # points learned before this one
            if kj == 0:
                r = _sigma_equivalent(r, m - 1.0, math.sqrt(1.0 + 1.0 / m))
            elif kj == 1:
                m = min(m, (2.0 - fp[j, 3]) / fp[j, 3])
                r = _sigma_equivalent(r, m - 1.0, math.sqrt(1.0 + 1.0 / m))
            else:
                m = min(m, fp[j, 7])
                cv = CENTRE_VARIANCE_MAD if kj == 3 else CENTRE_VARIANCE_IQR
                r = _sigma_equivalent(r, ROBUST_EFFICIENCY * m, math.sqrt(1.0 + cv / m))
        cal[j] = r
        a = abs(r) if r == r else -1.0
        if a > best:
            best, combined = a, r
    mag = abs(combined) if combined == combined else 0.0
    agree, voting, confirmed, has_confirm, alone_hit = 0, 0, False, False, False
    for j in range(d):
        r = cal[j]
        if alone[j]:
            alone_hit = alone_hit or abs(r) >= thr
            continue
        voting += 1
        ok = abs(r) >= thr and combined == combined and ((r > 0 and combined > 0) or (r < 0 and combined < 0))
        agree += 1 if ok else 0
        if confirm[j]:
            has_confirm = True
            confirmed = confirmed or ok
    hit = (mag >= thr and agree >= min(quorum, voting) and (confirmed or not has_confirm)) or alone_hit or mag >= crit
    if direction == 1:
        return hit and combined > 0
    if direction == -1:
        return hit and combined < 0
    return hit


def _run(x, kind, share, fp, st, s, ring, wstate, policy, confirm, alone, direction, hit_rows, hit_scores,
         hit_expected):
    """fp[j]: warmup, abs_floor, rel_floor, alpha, k, h, alarm_sigma, window. st[j]: n, mean, m2, var, hi, lo,
    prior centre, prior sigma (prior q25/q75 for IQR). share[j]: the first z-score/CUSUM with the same running
    stats and floors (itself if none). wstate: window count, ring head. Returns the hit count."""
    d = kind.shape[0]
    thr = policy[0]
    raw = np.empty(d)
    deferred = np.zeros(d, dtype=np.bool_)
    zbuf = np.empty(d)  # the standardized value and the mean before it, per group owner
    mbuf = np.empty(d)
    exp = np.empty(d)
    cal = np.empty(d)
    c, head = int(wstate[0]), int(wstate[1])
    w = 0
    for j in range(d):
        if kind[j] >= 3:
            w = int(fp[j, 7])
    hits = 0
    for i in range(x.shape[0]):
        xi = x[i]
        if not math.isfinite(xi):
            continue
        med = q25 = q75 = msig = meanad = NAN
        if c > 0:
            med = (s[(c - 1) >> 1] + s[c >> 1]) / 2
        candidate = False
        for j in range(d):
            kj = kind[j]
            deferred[j] = False
            n = st[j, 0]
            floor_abs, floor_rel = fp[j, 1], fp[j, 2]
            r = NAN
            e = NAN
            if kj == 0 or kj == 2:  # z-score and CUSUM: running mean/std, computed once per group sharing them
                o = share[j]
                if o == j:
                    mean = st[j, 1]
                    sd = math.sqrt(st[j, 2] / (n - 1)) if n > 1 else 0.0
                    zbuf[j] = (xi - mean) / max(sd, max(floor_abs, floor_rel * abs(mean)))
                    mbuf[j] = mean
                    delta = xi - mean  # Welford
                    st[j, 1] = mean + delta / (n + 1.0)
                    st[j, 2] += delta * (xi - st[j, 1])
                e = mbuf[o] if n > 0 else NAN
                if n >= fp[j, 0]:
                    z = zbuf[o]
                    if kj == 0:
                        r = z
                    else:
                        k, h = fp[j, 4], fp[j, 5]
                        hi = max(0.0, st[j, 4] + (z - k))
                        lo = max(0.0, st[j, 5] + (-z - k))
                        r = fp[j, 6] * (hi if hi >= lo else -lo) / h
                        if hi >= h or lo >= h:
                            hi, lo = 0.0, 0.0
                        st[j, 4], st[j, 5] = hi, lo
            elif kj == 1:  # EWMA
                e = st[j, 1] if n > 0 else NAN
                if n >= fp[j, 0]:
                    sigma = max(math.sqrt(st[j, 3]), max(floor_abs, floor_rel * abs(st[j, 1])))
                    r = (xi - st[j, 1]) / sigma
                a = fp[j, 3]
                keep = 1.0 - a
                if n == 0:
                    st[j, 1], st[j, 3] = xi, 0.0
                else:
                    dd = xi - st[j, 1]
                    st[j, 3] = (keep * a) * (dd * dd) + keep * st[j, 3]
                    st[j, 1] = a * xi + keep * st[j, 1]
            else:  # rolling MAD (3) or IQR (4) over the shared window
                ready = c >= min(fp[j, 0], w)
                if kj == 3:
                    if ready:
                        centre = med
                        floor = max(floor_abs, floor_rel * abs(med))
                        if msig != msig and n >= fp[j, 0] and \
                                abs(xi - med) < thr * max(MAD_TO_SIGMA * mad_lower_bound(s, c, med), floor):
                            deferred[j] = True  # its score is below the threshold: exact only if needed
                            sigma = np.inf
                        else:
                            if msig != msig:
                                msig = mad_sigma(s, c, med)
                            sigma = msig
                    else:
                        centre, sigma = st[j, 6], MAD_TO_SIGMA * st[j, 7]
                else:
                    if ready:
                        if q25 != q25:
                            q25, q75 = quantile(s, c, 0.25), quantile(s, c, 0.75)
                        if q75 > q25:
                            sigma = (q75 - q25) / IQR_TO_SIGMA
                        else:
                            if meanad != meanad:
                                meanad = mean_abs_dev(s, c, med)
                            sigma = MEANAD_TO_SIGMA * meanad
                        centre = (q25 + q75) / 2
                    else:
                        centre = (st[j, 6] + st[j, 7]) / 2
                        sigma = (st[j, 7] - st[j, 6]) / IQR_TO_SIGMA
                e = centre
                if n >= fp[j, 0] and centre == centre:
                    r = (xi - centre) / max(sigma, max(floor_abs, floor_rel * abs(centre)))
            st[j, 0] = n + 1.0
            raw[j] = r
            if deferred[j]:
                raw[j] = 0.0
            exp[j] = e
            if abs(r) >= thr:  # calibration never makes a score louder: below this nothing can alert
                candidate = True
        if candidate and _decide(xi, kind, fp, st, raw, cal, deferred, s, c, med, policy, confirm, alone,
                                 direction):
            hit_rows[hits] = i
            for j in range(d):
                hit_scores[hits, j] = cal[j]
                hit_expected[hits, j] = exp[j]
            hits += 1
        if w > 0:
            c, head = slide_in(s, ring, c, w, head, xi)
    wstate[0], wstate[1] = c, head
    return hits


if njit is not None:
    _sigma_equivalent = njit(cache=True, nogil=True)(_sigma_equivalent)
    _decide = njit(cache=True, nogil=True)(_decide)
    _run = njit(cache=True, nogil=True)(_run)


def supported(states: dict[str, dict]) -> bool:
    """Whether the compiled pass covers these detectors: known kinds, no long-run sigma floor, and the MAD and IQR
    detectors (if any) over one window holding the same values."""
    if FAST is None:
        return False
    windows = [s for s in states.values() if s.get("kind") in ("mad", "iqr")]
    if any(s.get("kind") not in KINDS or s["params"].get("scale_floor", 0.0) for s in states.values()):
        return False
    return all(s["params"]["window"] == windows[0]["params"]["window"] and s["values"] == windows[0]["values"]
               for s in windows)


def score_hits(values: np.ndarray, states: dict[str, dict], policy, direction: str = "both",
               min_points: int = FAST_MIN_POINTS) -> Hits | None:
    """The points of one series that alert under `policy` (an AlertPolicy), their sigma-equivalent scores and
    expected values per detector, and the states after the series; None when `supported` says no, or for series
    shorter than `min_points` (the numpy path is as fast there, and a process that only sees small batches, like
    `strata watch`, never waits for the compiler)."""
    if len(values) < min_points or not supported(states):
        return None
    names = list(states)
    d = len(names)
    kind = np.array([KINDS[states[k]["kind"]] for k in names], dtype=np.int64)
    fp = np.zeros((d, 8))
    st = np.zeros((d, 8))
    kept: list[float] = []
    for j, name in enumerate(names):
        s, p = states[name], states[name]["params"]
        fp[j] = (p["warmup"], p["abs_floor"], p["rel_floor"], p.get("alpha", 0.0), p.get("k", 0.0), p.get("h", 1.0),
                 p.get("alarm_sigma", 3.0), p.get("window", 0))
        prior = (s.get("prior_median"), s.get("prior_mad")) if s["kind"] == "mad" else \
            (s.get("prior_q25"), s.get("prior_q75"))
        st[j] = (s["n"], s.get("mean", 0.0), s.get("m2", 0.0), s.get("var", 0.0), s.get("hi", 0.0), s.get("lo", 0.0),
                 NAN if prior[0] is None else prior[0], NAN if prior[1] is None else prior[1])
        if s["kind"] in ("mad", "iqr"):
            kept = list(s["values"])
    w = int(max((fp[j, 7] for j in range(d) if kind[j] >= 3), default=0))
    x = np.ascontiguousarray(values, dtype=np.float64)
    sorted_window, ring = np.empty(w + 1), np.empty(max(w, 1))
    sorted_window[:len(kept)] = np.sort(np.array(kept, dtype=np.float64))
    ring[:len(kept)] = kept
    wstate = np.array([len(kept), 0], dtype=np.int64)
    pol = np.array([policy.threshold, policy.critical, float(policy.quorum)])
    confirm = np.array([n in policy.confirm for n in names], dtype=np.bool_)
    alone = np.array([n in policy.alone for n in names], dtype=np.bool_)
    rows = np.empty(x.size, dtype=np.int64)
    scores, expected = np.empty((x.size, d)), np.empty((x.size, d))
    share = np.arange(d, dtype=np.int64)
    for j in range(d):
        for o in range(j):
            if kind[j] in (0, 2) and kind[o] in (0, 2) and share[o] == o and \
                    (st[j, :3] == st[o, :3]).all() and (fp[j, 1:3] == fp[o, 1:3]).all():
                share[j] = o
                break
    found = _run(x, kind, share, fp, st, sorted_window, ring, wstate, pol, confirm, alone, DIRECTIONS[direction],
                 rows, scores, expected)
    c, head = int(wstate[0]), int(wstate[1])
    window_values = (ring[head:c].tolist() + ring[:head].tolist()) if c == w and w else ring[:c].tolist()
    new = {}
    for j, name in enumerate(names):
        s = dict(states[name])
        s["n"] = int(st[j, 0])
        kind_name = s["kind"]
        if kind_name in ("zscore", "cusum"):
            s["mean"], s["m2"] = float(st[share[j], 1]), float(st[share[j], 2])
        if kind_name == "cusum":
            s["hi"], s["lo"] = float(st[j, 4]) + 0.0, float(st[j, 5]) + 0.0
        if kind_name == "ewma":
            s["mean"], s["var"] = float(st[j, 1]), float(st[j, 3])
        if kind_name in ("mad", "iqr"):
            s["values"] = list(window_values)
        new[name] = s
    return Hits(names, rows[:found].copy(), scores[:found].copy(), expected[:found].copy(), new)
