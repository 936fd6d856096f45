"""Helpers the miner families share: column roles, formatting and quick aggregate queries."""
from __future__ import annotations

from ...entry_schema import ROLE_KINDS
from ..text_scan import qident

NUMERIC = tuple(r for r, k in ROLE_KINDS.items() if k in ("number", "integer"))
STRINGS = tuple(r for r, k in ROLE_KINDS.items() if k == "string")
ID_COLUMNS = ("entry_id", "request_id", "trace_id")
# Values expected to change from one release or day to the next: never a set-membership invariant.
IDENTIFIER_COLUMNS = ID_COLUMNS + ("session_id", "user_id", "version", "ts", "drop", "source", "line")


def pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x < 0.9995 or x == 1 else f"{100 * x:.2f}%"


def num(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1e6 else f"{x:,.0f}"


def names(values, limit: int = 8) -> str:
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def mapped(ctx, roles) -> list[str]:
    """Roles from `roles` that the entries actually carry (present and not all null)."""
    present = ctx.present()
    return [r for r in roles if r in present]


def value_counts(ctx, column: str, limit: int = 1000) -> list[tuple[str, int]]:
    c = qident(column)
    if ctx.evaluator.is_list(column):
        q = f"SELECT v, count(*) FROM (SELECT unnest({c}) AS v FROM {{t}}) WHERE v IS NOT NULL GROUP BY v"
    else:
        q = f"SELECT {c}::VARCHAR, count(*) FROM {{t}} WHERE {c} IS NOT NULL GROUP BY 1"
    return ctx.sql(q + f" ORDER BY 2 DESC, 1 LIMIT {int(limit)}")
