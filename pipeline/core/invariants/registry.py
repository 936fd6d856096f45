"""Miner registry: built-in families and user miners register here, and discovery runs whatever is registered."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from .model import Invariant


@dataclass
class MiningContext:
    """What built-in miners receive: the entries, the shared evaluator (DuckDB connection, caches) and settings."""

    entries: pa.Table
    evaluator: object
    min_confidence: float = 0.8
    embedder: object | None = None
    semantic_sample: int = 5000
    seed: int = 0

    @property
    def con(self):
        return self.evaluator.con

    @property
    def relation(self) -> str:
        return self.evaluator.relation

    @property
    def n(self) -> int:
        return self.evaluator.n

    def present(self) -> set[str]:
        return self.evaluator.present()

    def sql(self, query: str) -> list[tuple]:
        """Run a query; `{t}` stands for the entries relation."""
        return self.con.sql(query.replace("{t}", self.relation)).fetchall()

    def column(self, query: str):
        """First column of a query as a numpy array (for per-group figures: no Python objects per group)."""
        result = self.con.sql(query.replace("{t}", self.relation)).fetchnumpy()
        return next(iter(result.values()))


@dataclass(frozen=True)
class Miner:
    name: str
    family: str
    fn: Callable
    wants_context: bool


MINERS: dict[str, Miner] = {}


def register_miner(name: str, family: str | None = None, *, context: bool = False):
    """Decorator registering a miner.

    A user miner is a function of the entries table returning invariants (as in Sediment); built-in miners pass
    `context=True` and receive a MiningContext instead. Registering a name again replaces the earlier miner."""

    def wrap(fn: Callable) -> Callable:
        MINERS[name] = Miner(name=name, family=family or "custom", fn=fn, wants_context=context)
        return fn

    return wrap


def unregister_miner(name: str) -> None:
    MINERS.pop(name, None)


def registered_miners(families=None) -> list[Miner]:
    wanted = set(families) if families is not None else None
    return [m for m in MINERS.values() if wanted is None or m.family in wanted or m.name in wanted]


def run_miner(miner: Miner, ctx: MiningContext) -> list[Invariant]:
    try:
        found = miner.fn(ctx) if miner.wants_context else miner.fn(ctx.entries)
    except Exception as exc:  # name the miner: a user miner's bug should be easy to place
        raise RuntimeError(f"miner {miner.name!r} ({miner.family}) failed: {exc}") from exc
    found = list(found or [])
    for inv in found:
        if not isinstance(inv, Invariant):
            raise TypeError(f"miner {miner.name!r} returned {type(inv).__name__}, expected Invariant")
    return found
