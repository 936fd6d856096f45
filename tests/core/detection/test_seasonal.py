"""Seasonal, overdispersed request rates: diurnal bursty traffic raises no alerts, an outage at peak does."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from pipeline.core.detectors.rates import request_rate_scores, RequestRate
from pipeline.core.detectors.seasonal import exclusive_group_cumsum, seasonal_request_scores, slot_of

DAY = 86400
BUCKET = 300


def diurnal_counts(days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """5-minute buckets from a Monday: a daily cycle (quiet nights, busy afternoons), sessions arriving in bursts
    (a Poisson number of sessions, each a geometric number of requests): overdispersed against Poisson."""
    rng = np.random.default_rng(seed)
    starts = np.arange(days * DAY // BUCKET) * float(BUCKET) + 4 * DAY  # 1970-01-05 was a Monday
    hour = (starts / 3600) % 24
    level = 0.3 + 5.0 * np.exp(-((hour - 15) ** 2) / 18)
    sessions = rng.poisson(level)
    counts = np.array([rng.geometric(0.4, s).sum() if s else 0 for s in sessions], dtype=float)
    return starts, counts


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0, 100)), min_size=1, max_size=60))
def testexclusive_group_cumsum_matches_a_loop(pairs):
    groups = np.array([g for g, _ in pairs])
    values = np.array([v for _, v in pairs])
    start = np.arange(5, dtype=float) * 10
    seen = dict(enumerate(start))
    expected = []
    for g, v in pairs:
        expected.append(seen[g])
        seen[g] += v
    assert np.allclose(exclusive_group_cumsum(values, groups, start), expected)


def test_slots_split_hours_and_weekends():
    monday_9 = 4 * DAY + 9 * 3600
    assert slot_of(np.array([monday_9, monday_9 + 5 * DAY, monday_9 + 6 * DAY])).tolist() == [9, 33, 33]


def test_diurnal_bursty_traffic_is_quiet_and_an_outage_is_not():
    starts, counts = diurnal_counts(14, 1)
    sigma, expected, state = seasonal_request_scores(starts, counts, None)
    scored = ~np.isnan(sigma)
    assert scored.mean() > 0.7  # after two days of history most buckets are judged by the profile
    false_alarms = int((np.abs(sigma[scored]) >= 4).sum())
    ewma = request_rate_scores(counts, RequestRate().state()).scores
    ewma_alarms = int((np.abs(ewma[~np.isnan(ewma)]) >= 4).sum())
    assert false_alarms <= 1 and ewma_alarms > false_alarms
    # state round trip: scoring the second week from the first week's state gives the same sigmas
    half = len(starts) // 2
    _, _, first = seasonal_request_scores(starts[:half], counts[:half], None)
    again, _, _ = seasonal_request_scores(starts[half:], counts[half:], first)
    assert np.allclose(again, sigma[half:], equal_nan=True)
    # an hour with no traffic at 15:00 on day 10: every bucket of it is well below the profile (at ~13 requests per
    # 5 minutes and this burstiness one empty bucket is ~2.7 sigma; longer buckets make an outage alert on its own)
    outage = counts.copy()
    peak = np.flatnonzero((starts >= 4 * DAY + 10 * DAY + 15 * 3600) & (starts < 4 * DAY + 10 * DAY + 16 * 3600))
    outage[peak] = 0
    s2, _, _ = seasonal_request_scores(starts, outage, None)
    assert (s2[peak] <= -2.5).all()
    hourly = counts.reshape(-1, 12).sum(axis=1)
    h_out = outage.reshape(-1, 12).sum(axis=1)
    s3, _, _ = seasonal_request_scores(starts[::12], h_out, None)
    assert s3[peak[0] // 12] < -4 and np.nanmax(np.abs(seasonal_request_scores(starts[::12], hourly, None)[0])) < 4
