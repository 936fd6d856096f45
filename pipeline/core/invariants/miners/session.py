"""Session invariants: turns per session range and average, single-turn share, returning-user rate."""
from __future__ import annotations

import numpy as np

from ..model import make_invariant
from ..registry import register_miner
from ..stats import mean_interval, wilson_interval
from ._common import num, pct

FAMILY = "session"


@register_miner("session", FAMILY, context=True)
def mine_session(ctx) -> list:
    present = ctx.present()
    if "session_id" not in present:
        return []
    sizes = np.asarray(ctx.column("SELECT count(*) AS n FROM {t} WHERE session_id IS NOT NULL GROUP BY session_id"))
    if len(sizes) < 2:
        return []
    lo, hi = int(sizes.min()), int(sizes.max())
    mean, m_lo, m_hi = mean_interval(sizes.astype(float))
    singles = int((sizes == 1).sum())
    s_lo, s_hi = wilson_interval(singles, len(sizes))
    window = "(depends on the window length: compare windows of the same span)"
    found = [
        make_invariant(FAMILY, {"kind": "group_size_between", "field": "session_id", "min": lo, "max": hi},
                       f"Sessions have between {lo} and {hi} turns", qualifier="turns", severity="info",
                       evidence={"sessions": len(sizes)}),
        make_invariant(FAMILY, {"kind": "group_stat_between", "field": "session_id", "stat": "mean_size",
                                "min": round(m_lo, 4), "max": round(m_hi, 4)},
                       f"Average turns per session stays between {num(m_lo)} and {num(m_hi)}", qualifier="mean_turns",
                       severity="info", evidence={"observed": mean, "sessions": len(sizes)}),
        make_invariant(FAMILY, {"kind": "group_stat_between", "field": "session_id", "stat": "single_share",
                                "min": round(s_lo, 6), "max": round(s_hi, 6)},
                       f"Single-turn sessions stay between {pct(s_lo)} and {pct(s_hi)} of sessions", qualifier="single_turn",
                       severity="info", evidence={"observed": singles / len(sizes)}),
    ]
    if "user_id" in present:
        per_user = np.asarray(ctx.column(
            "SELECT count(DISTINCT session_id) AS n FROM {t} WHERE user_id IS NOT NULL AND session_id IS NOT NULL GROUP BY user_id"))
        if len(per_user):
            back = int((per_user >= 2).sum())
            r_lo, r_hi = wilson_interval(back, len(per_user))
            found.append(make_invariant(
                FAMILY, {"kind": "group_stat_between", "field": "user_id", "other": "session_id", "stat": "returning_share",
                         "min": round(r_lo, 6), "max": round(r_hi, 6)},
                f"Returning users (2+ sessions) stay between {pct(r_lo)} and {pct(r_hi)} of users {window}",
                qualifier="returning", severity="info",
                evidence={"observed": back / len(per_user), "users": len(per_user), "window_dependent": True}))
    return found
