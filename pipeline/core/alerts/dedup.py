"""Dedup state machine over evaluations: send a key once per window, re-notify while it persists, escalate at once,
say when it resolved; a delivery that failed stays pending until it succeeds. Time comes from an injected clock."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from .findings import SEVERITY_RANK, Finding, merge_by_key

OPENING = ("new", "escalated", "renotify")  # actions that tell people a key is (still) open
ACTIONS = OPENING + ("resolved",)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class KeyState:
    """What is known about one key: whether it is active, what people were last told, and what is still owed."""

    key: str
    finding: Finding
    active: bool = True
    opened_at: datetime | None = None
    last_seen: datetime | None = None
    last_sent_at: datetime | None = None  # last delivered opening message
    sent_severity: str | None = None  # severity of that message
    notified_open: bool = False  # people were told it is open and not (yet) that it resolved
    pending: str | None = None  # action owed, kept until delivered
    pending_since: datetime | None = None

    def owe(self, action: str | None, now: datetime) -> None:
        if action != self.pending:
            self.pending, self.pending_since = action, (now if action else None)


@dataclass(frozen=True)
class Notification:
    """A message owed for one key; `id` is stable across retries so each target gets it once."""

    key: str
    action: str
    finding: Finding
    since: datetime
    previous_severity: str | None = None

    @property
    def severity(self) -> str:
        return self.finding.severity

    @property
    def id(self) -> str:
        return f"{self.key}|{self.action}|{self.since.isoformat()}"


@dataclass
class Deduper:
    """Holds every key's state; `evaluate` takes one evaluation's findings and returns the notifications due now."""

    states: dict[str, KeyState] = field(default_factory=dict)
    window: timedelta = timedelta(hours=1)
    renotify: timedelta = timedelta(hours=4)
    clock: Callable[[], datetime] = utc_now

    def evaluate(self, findings: Iterable[Finding], sources: Iterable[str] | None = None) -> list[Notification]:
        """`sources`: the finding sources this evaluation covered; only their absent keys resolve (None: all)."""
        now = self.clock()
        covered = None if sources is None else set(sources)
        seen = set()
        for f in merge_by_key(list(findings)):
            seen.add(f.key)
            self._observe(f, now)
        for s in self.states.values():
            if s.active and s.key not in seen and (covered is None or s.finding.source in covered):
                s.active = False
                s.owe("resolved" if s.notified_open else None, now)
        return self.due()

    def _observe(self, f: Finding, now: datetime) -> None:
        s = self.states.get(f.key)
        if s is None:
            s = self.states[f.key] = KeyState(key=f.key, finding=f, opened_at=now)
            s.owe("new", now)
        elif not s.active:
            s.active, s.opened_at = True, now
            # an undelivered "resolved" means people still believe it is open: nothing new to say
            s.owe(None if s.notified_open else "new", now)
        s.finding, s.last_seen = f, now
        if not s.notified_open:
            return
        if SEVERITY_RANK[f.severity] > SEVERITY_RANK.get(s.sent_severity or "", 0):
            s.owe("escalated", now)
        elif s.pending is None and s.last_sent_at is not None and now - s.last_sent_at >= self.renotify:
            s.owe("renotify", now)

    def due(self) -> list[Notification]:
        """Owed notifications whose time has come ("new" waits out the window after the last opening message)."""
        now, out = self.clock(), []
        for s in sorted(self.states.values(), key=lambda s: s.key):
            if s.pending is None:
                continue
            if s.pending == "new" and s.last_sent_at is not None and now - s.last_sent_at < self.window:
                continue
            out.append(Notification(key=s.key, action=s.pending, finding=s.finding, since=s.pending_since,
                                    previous_severity=s.sent_severity))
        return out

    def delivered(self, n: Notification) -> None:
        """Record a notification as delivered to every target; a stale one (state moved on since) is ignored."""
        s = self.states.get(n.key)
        if s is None or s.pending != n.action or s.pending_since != n.since:
            return
        now = self.clock()
        if n.action in OPENING:
            s.last_sent_at, s.sent_severity, s.notified_open = now, n.finding.severity, True
        else:
            s.notified_open = False
        s.owe(None, now)

    def snapshot(self) -> dict[str, KeyState]:
        return {k: replace(v) for k, v in self.states.items()}
