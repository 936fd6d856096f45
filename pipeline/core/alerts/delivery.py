"""Delivery with retries: one HTTP attempt per call to Slack (Web API or incoming webhook) or a signed webhook,
retried with exponential backoff and full jitter; Retry-After is honored, 4xx other than 429 is final."""
from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Iterable
from urllib.error import URLError

import httpx
from slack_sdk.errors import SlackApiError

from .signing import signed_headers


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class Attempt:
    number: int
    outcome: Outcome
    waited: float = 0.0  # seconds slept before the next attempt (0 after the last)
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class DeliveryResult:
    target: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].outcome.ok

    @property
    def error(self) -> str | None:
        return None if self.ok or not self.attempts else self.attempts[-1].outcome.error


@dataclass
class RetryPolicy:
    """Up to `max_attempts` tries; before try n+1 sleep uniform(0, min(cap, base * 2**(n-1))) ("full jitter"), or the
    server's Retry-After. A Retry-After longer than `cap` ends this round: the alert stays pending for the next tick."""

    max_attempts: int = 3
    base: float = 1.0
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    deadline: float | None = None  # on `clock`: no retry waits past it (the tick's time budget)
    clock: Callable[[], float] = time.monotonic

    def until(self, deadline: float, clock: Callable[[], float] = time.monotonic) -> "RetryPolicy":
        return replace(self, deadline=deadline, clock=clock)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(max(attempt - 1, 0), 60))
        return max(0.0, self.rng() * ceiling)


def parse_retry_after(value, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def classify_status(status: int, retry_after=None, error: str | None = None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status)
    retryable = status == 429 or status >= 500 or status == 408
    return Outcome(ok=False, status_code=status, retryable=retryable, error=error or f"HTTP {status}",
                   retry_after=parse_retry_after(retry_after) if status in (429, 503) else None)


def deliver(target: str, attempt: Callable[[], Outcome], policy: RetryPolicy,
            redact: Iterable[str] = ()) -> DeliveryResult:
    """Run `attempt` until it succeeds, fails for good, or attempts run out. Never raises."""
    result = DeliveryResult(target)
    secrets = [s for s in redact if s and len(s) >= 6]  # masking a 1-char secret would mangle every message
    for number in range(1, max(1, policy.max_attempts) + 1):
        try:
            outcome = attempt()
        except Exception as exc:  # a client bug must not stop the tick: record it as a final failure
            outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
        if outcome.error and secrets:
            text = outcome.error
            for s in secrets:
                text = text.replace(s, "***")
            outcome = Outcome(outcome.ok, outcome.status_code, text, outcome.retryable, outcome.retry_after)
        last = number >= policy.max_attempts or outcome.ok or not outcome.retryable
        wait = 0.0
        if not last:
            wait = outcome.retry_after if outcome.retry_after is not None else policy.backoff(number)
            if wait > policy.cap:
                last, wait = True, 0.0
                outcome = Outcome(False, outcome.status_code, f"{outcome.error}; Retry-After {outcome.retry_after:g}s "
                                  f"exceeds the {policy.cap:g}s cap, left for the next tick", True, outcome.retry_after)
            elif policy.deadline is not None and policy.clock() + wait >= policy.deadline:
                last, wait = True, 0.0
                outcome = Outcome(False, outcome.status_code, f"{outcome.error}; the tick's time budget is spent, "
                                  "left for the next tick", True, outcome.retry_after)
        result.attempts.append(Attempt(number, outcome, wait))
        if last:
            break
        policy.sleep(wait)
    return result


def _network_error(exc: Exception) -> Outcome:
    return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, retryable=True)


def webhook_attempt(client: httpx.Client, url: str, body: bytes, secret: str = "",
                    clock: Callable[[], float] = time.time) -> Callable[[], Outcome]:
    """One signed POST of exactly `body`; re-signed with a fresh timestamp on every attempt."""
    def attempt() -> Outcome:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "strata-alerts"}
        if secret:
            headers.update(signed_headers(secret, body, now=clock()))
        try:
            resp = client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:  # timeouts, refused connections, resets: worth another try
            return _network_error(exc)
        return classify_status(resp.status_code, resp.headers.get("Retry-After"),
                               f"HTTP {resp.status_code}: {resp.text[:200]}" if resp.status_code >= 300 else None)
    return attempt


def slack_api_attempt(client, channel: str, text: str, blocks: list[dict]) -> Callable[[], Outcome]:
    """One chat.postMessage through a slack-sdk WebClient (built without its own retry handlers)."""
    def attempt() -> Outcome:
        try:
            client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            resp = exc.response
            status = int(getattr(resp, "status_code", 0) or 0)
            code = resp.get("error") if hasattr(resp, "get") else None
            if 200 <= status < 300:  # ok=false: channel_not_found, invalid_blocks, ... retrying will not help
                return Outcome(ok=False, status_code=status, error=f"slack: {code or 'error'}")
            headers = getattr(resp, "headers", {}) or {}
            retry_after = headers.get("Retry-After", headers.get("retry-after"))
            return classify_status(status, retry_after, f"HTTP {status}: slack {code or 'error'}")
        except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            return _network_error(exc)
        return Outcome(ok=True, status_code=200)
    return attempt


def slack_webhook_attempt(client, text: str, blocks: list[dict]) -> Callable[[], Outcome]:
    """One post to a Slack incoming webhook through slack-sdk's WebhookClient (HTTP errors come back as responses)."""
    def attempt() -> Outcome:
        try:
            resp = client.send(text=text, blocks=blocks)
        except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            return _network_error(exc)
        headers = resp.headers or {}
        return classify_status(resp.status_code, headers.get("Retry-After", headers.get("retry-after")),
                               f"HTTP {resp.status_code}: {str(resp.body)[:200]}" if resp.status_code >= 300 else None)
    return attempt
