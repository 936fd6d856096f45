"""Routing: each notification to every target for its severity (warnings optionally as one digest per target), skipping
targets that already got it, so a retry after a partial failure never posts twice."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .dedup import Notification
from .delivery import DeliveryResult, Outcome, RetryPolicy, deliver


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
            already: Mapping[str, set[str]]) -> list[list[Notification]]:
    todo = [n for n in notifications if n.severity == target.severity and target.name not in already.get(n.id, set())]
    if digest_warnings and target.severity == "warning" and len(todo) > 1:
        return [todo]
    return [[n] for n in todo]


def dispatch(notifications: Iterable[Notification], targets: Iterable[Target], policy: RetryPolicy,
             digest_warnings: bool = True, already: Mapping[str, set[str]] | None = None
             ) -> tuple[list[Sent], list[Notification]]:
    """Deliver everything owed. Returns what was sent (for the log) and the notifications now delivered to every target
    of their severity; the others stay owed. A severity with no target counts as delivered: nobody to tell."""
    notifications, targets, already = list(notifications), list(targets), dict(already or {})
    sent: list[Sent] = []
    got = {n.id: set(already.get(n.id, set())) for n in notifications}
    for target in targets:
        for batch in batches(notifications, target, digest_warnings, already):
            try:
                attempt = target.prepare(batch)
            except Exception as exc:  # a rendering bug fails this batch, not the tick
                result = deliver(target.name, lambda exc=exc: Outcome(False, error=f"render: {exc}"), policy)
            else:
                result = deliver(target.name, attempt, policy, target.redact)
            sent.append(Sent(target.name, tuple(batch), result))
            if result.ok:
                for n in batch:
                    got[n.id].add(target.name)
    done = [n for n in notifications
            if all(t.name in got[n.id] for t in targets if t.severity == n.severity)]
    return sent, done
