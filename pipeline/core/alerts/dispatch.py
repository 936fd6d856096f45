"""Routing: each notification to every target for its severity (warnings optionally as one digest per target, a storm
of critical ones as one summary), skipping targets that already got it, so a retry after a partial failure never posts
twice. Bounded: no delivery starts once the tick's time budget is spent, and a target that timed out is left for the
next tick; what is not sent stays owed. An optional claim hook makes each (notification, target) go out once even when
ticks overlap."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Protocol

from .dedup import Notification
from .delivery import DeliveryResult, Outcome, RetryPolicy, deliver

STORM = 5  # more critical notifications than this for one target in one tick are sent as one summary


class Claims(Protocol):
    """Atomic claims (see alert_log.claim) on messages (`claim_key`): `take` returns (what this tick may send, what
    another tick just delivered); `settle` records the outcome."""

    def take(self, target: str, keys: list[str]) -> tuple[set[str], set[str]]: ...

    def settle(self, target: str, keys: list[str], delivered: bool) -> None: ...


def claim_key(n: Notification) -> str:
    """What overlapping ticks agree on (their notification ids differ in `since`): the key and the action."""
    return f"{n.key}|{n.action}"


@dataclass(frozen=True)
class Target:
    """A destination for one severity: `prepare(batch)` renders the batch once and returns a one-attempt sender."""

    name: str  # "slack:critical", "webhook:warning": what alert_log records (never a URL: they hold secrets)
    severity: str
    prepare: Callable[[list[Notification]], Callable[[], Outcome]]
    redact: tuple[str, ...] = ()  # secrets to mask in error texts


@dataclass(frozen=True)
class Sent:
    """One delivery (with its attempts) of a batch of notifications to one target."""

    target: str
    batch: tuple[Notification, ...]
    result: DeliveryResult


def batches(notifications: list[Notification], target: Target, digest_warnings: bool,
            already: Mapping[str, set[str]], storm: int = STORM) -> list[list[Notification]]:
    todo = [n for n in notifications if n.severity == target.severity and target.name not in already.get(n.id, set())]
    if digest_warnings and target.severity == "warning" and len(todo) > 1:
        return [todo]
    if target.severity == "critical" and len(todo) > storm:
        return [todo]  # a storm: one summary message, not a flood (and not one slow delivery after another)
    return [[n] for n in todo]


def dispatch(notifications: Iterable[Notification], targets: Iterable[Target], policy: RetryPolicy,
             digest_warnings: bool = True, already: Mapping[str, set[str]] | None = None, *,
             claims: Claims | None = None, deadline: float | None = None, storm: int = STORM,
             clock: Callable[[], float] = time.monotonic) -> tuple[list[Sent], list[Notification]]:
    """Deliver everything owed. Returns what was sent (for the log) and the notifications now delivered to every target
    of their severity; the others stay owed. A severity with no target counts as delivered: nobody to tell.
    `deadline` (on `clock`): no delivery starts after it and no retry waits past it. `claims`: a batch is cut to the
    notifications this tick could claim for the target."""
    notifications, targets, already = list(notifications), list(targets), dict(already or {})
    sent: list[Sent] = []
    got = {n.id: set(already.get(n.id, set())) for n in notifications}
    if deadline is not None:
        policy = policy.until(deadline, clock)
    for target in targets:
        for batch in batches(notifications, target, digest_warnings, already, storm):
            if deadline is not None and clock() >= deadline:
                break  # the time budget is spent: the rest stays owed, the next tick sends it
            if claims is not None:
                mine, elsewhere = claims.take(target.name, [claim_key(n) for n in batch])
                for n in batch:
                    if claim_key(n) in elsewhere:
                        got[n.id].add(target.name)  # another tick delivered this very message: done, not re-sent
                batch = [n for n in batch if claim_key(n) in mine]
                if not batch:
                    continue  # another tick is sending these (or has)
            try:
                attempt = target.prepare(batch)
            except Exception as exc:  # a rendering bug fails this batch, not the tick
                result = deliver(target.name, lambda exc=exc: Outcome(False, error=f"render: {exc}"), policy)
            else:
                result = deliver(target.name, attempt, policy, target.redact)
            if claims is not None:
                claims.settle(target.name, [claim_key(n) for n in batch], result.ok)
            sent.append(Sent(target.name, tuple(batch), result))
            if result.ok:
                for n in batch:
                    got[n.id].add(target.name)
            elif result.attempts and result.attempts[-1].outcome.retryable:
                break  # a target that is down or hanging gets no more of this tick's time
    done = [n for n in notifications
            if all(t.name in got[n.id] for t in targets if t.severity == n.severity)]
    return sent, done
