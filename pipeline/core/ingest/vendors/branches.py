"""Branch decisions of one trace: the `from->to` path, in call order, from branch spans' attributes.

Read: the capture SDK's `strata.branch.from` / `strata.branch.to` (a zero-length span of kind `branch`), and the
same pair under `branch.from` / `branch.to` or `workflow.branch.from` / `workflow.branch.to`. A span with only a
target (`strata.branch.to`) records `?->to`.
"""
from __future__ import annotations

from typing import Any

BRANCH_KEYS = (("strata.branch.from", "strata.branch.to"), ("branch.from", "branch.to"),
               ("workflow.branch.from", "workflow.branch.to"))
MAX_STEPS = 256  # a runaway loop keeps its first decisions; the path stays one readable cell


def _label(v: Any) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    text = " ".join(str(v).split())[:80]
    return text or None


def branch_step(detail: dict) -> str | None:
    """`from->to` for one span's attributes, None when the span records no branch decision."""
    for key_from, key_to in BRANCH_KEYS:
        to = _label(detail.get(key_to))
        if to is not None:
            return f"{_label(detail.get(key_from)) or '?'}->{to}"
    return None


def branch_path(spans: list) -> list[str] | None:
    """The decisions of spans already in call order; None when there are none."""
    steps = [s for s in (branch_step(sp.detail) for sp in spans if sp.detail) if s is not None]
    return steps[:MAX_STEPS] or None
