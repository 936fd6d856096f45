"""Retries: full-jitter backoff bounds, Retry-After parsing, which outcomes are retried, and never raising."""
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.alerts import Outcome, RetryPolicy, deliver
from pipeline.core.alerts.delivery import classify_status, parse_retry_after


def scripted(*outcomes):
    calls = []

    def attempt():
        calls.append(1)
        o = outcomes[len(calls) - 1]
        if isinstance(o, Exception):
            raise o
        return o
    return attempt, calls


def policy(**kw):
    slept = []
    return RetryPolicy(sleep=slept.append, rng=lambda: 1.0, **kw), slept


@given(st.integers(1, 200), st.floats(0, 100), st.floats(0, 1000), st.floats(0, 1, exclude_max=True))
def test_backoff_is_full_jitter_within_the_capped_exponential(attempt, base, cap, r):
    p = RetryPolicy(base=base, cap=cap, rng=lambda: r)
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
    assert 0 <= p.backoff(attempt) <= ceiling
    assert p.backoff(attempt) == pytest.approx(r * ceiling)


def test_5xx_then_success_waits_the_backoff():
    p, slept = policy(max_attempts=4, base=0.5, cap=10)
    attempt, calls = scripted(classify_status(500), classify_status(502), classify_status(200))
    r = deliver("t", attempt, p)
    assert r.ok and len(calls) == 3 and slept == [0.5, 1.0]
    assert [a.outcome.status_code for a in r.attempts] == [500, 502, 200] and r.error is None


def test_4xx_is_final_but_408_and_429_are_retried():
    p, slept = policy(max_attempts=5)
    for status in (400, 401, 403, 404, 410, 422):
        attempt, calls = scripted(classify_status(status))
        r = deliver("t", attempt, p)
        assert not r.ok and len(calls) == 1 and r.error == f"HTTP {status}"
    assert slept == []
    for status in (408, 429):
        attempt, calls = scripted(classify_status(status), classify_status(204))
        assert deliver("t", attempt, p).ok and len(calls) == 2


def test_retry_after_is_honored_and_a_long_one_is_left_for_the_next_tick():
    p, slept = policy(max_attempts=3, base=1, cap=30)
    attempt, _ = scripted(classify_status(429, "7"), classify_status(200))
    assert deliver("t", attempt, p).ok and slept == [7.0]
    attempt, calls = scripted(classify_status(429, "3600"), classify_status(200))
    r = deliver("t", attempt, p)
    assert not r.ok and len(calls) == 1 and slept == [7.0] and "exceeds the 30s cap" in r.error


def test_attempts_run_out_and_exceptions_are_recorded_not_raised():
    p, slept = policy(max_attempts=2, base=2, cap=5)
    attempt, calls = scripted(Outcome(False, error="ReadTimeout: timed out", retryable=True),
                              Outcome(False, error="ReadTimeout: timed out", retryable=True))
    r = deliver("t", attempt, p)
    assert not r.ok and len(calls) == 2 and slept == [2.0] and r.error == "ReadTimeout: timed out"
    attempt, calls = scripted(RuntimeError("boom"))
    r = deliver("t", attempt, p)
    assert not r.ok and r.error == "RuntimeError: boom" and len(calls) == 1


def test_secrets_are_masked_in_errors():
    p, _ = policy(max_attempts=1)
    attempt, _ = scripted(Outcome(False, error="POST https://hooks.slack.com/services/T/B/secretpart failed"))
    r = deliver("t", attempt, p, redact=["https://hooks.slack.com/services/T/B/secretpart", "", "k"])
    assert r.error == "POST *** failed"


@pytest.mark.parametrize("value,expected", [
    ("1", 1.0), (" 2.5 ", 2.5), ("-3", 0.0), ("nan", None), ("inf", None), ("soon", None), (None, None), ("", None),
    ("Fri, 20 Nov 2026 12:00:30 GMT", 30.0), ("Fri, 20 Nov 2026 11:00:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=datetime(2026, 11, 20, 12, tzinfo=timezone.utc)) == expected
