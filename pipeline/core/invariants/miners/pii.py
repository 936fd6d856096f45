"""PII and output-habit invariants: no e-mail, phone, SSN, card, IPv4 or IBAN in outputs; markdown, code, URL habits and openers."""
from __future__ import annotations

from ..model import make_invariant
from ..pii_rules import PII_KINDS
from ..registry import register_miner
from ..text_scan import qident

FAMILY = "pii"
PII_LABELS = {"email": "e-mail address", "phone": "US phone number", "ssn": "US social security number",
              "credit_card": "payment card number", "ipv4": "IPv4 address", "iban": "IBAN"}
HABIT_LABELS = {"markdown": "markdown formatting", "code_block": "a fenced code block", "url": "a URL"}
OPENER_CHARS = 12


def _openers(ctx, field: str) -> list:
    c = qident(field)
    rows = ctx.sql(f"SELECT regexp_extract({c}, '^\\s*(\\S{{1,{OPENER_CHARS}}})', 1) AS o, count(*) FROM {{t}} "
                   f"WHERE {c} IS NOT NULL GROUP BY o ORDER BY 2 DESC, o LIMIT 3")
    total = ctx.evaluator.non_null(field)
    if not rows or not total or not rows[0][0]:
        return []
    opener, k = rows[0]
    return [make_invariant(FAMILY, {"kind": "prefix_in", "field": field, "values": [opener]},
                           f"{field.capitalize()} always opens with {opener!r}", qualifier="opener", severity="info",
                           evidence={"observed_share": k / total, "runners_up": {o: n / total for o, n in rows[1:]}})]


@register_miner("pii", FAMILY, context=True)
def mine_pii(ctx) -> list:
    if "output" not in ctx.present():
        return []
    found = [
        # critical: strict (any leak fails the check), whatever the baseline showed
        make_invariant(FAMILY, {"kind": "regex_absent", "field": "output", "pattern": kind, "min_confidence": 1.0},
                       f"Outputs never contain a valid {PII_LABELS[kind]}", qualifier=kind, severity="critical")
        for kind in PII_KINDS
    ]
    # Both directions are proposed; discovery keeps whichever holds often enough (never both).
    for habit, label in HABIT_LABELS.items():
        found.append(make_invariant(FAMILY, {"kind": "regex_absent", "field": "output", "pattern": habit},
                                    f"Outputs never contain {label}", qualifier=habit, severity="info"))
        found.append(make_invariant(FAMILY, {"kind": "regex_present", "field": "output", "pattern": habit},
                                    f"Outputs always contain {label}", qualifier=habit, severity="info"))
    return found + _openers(ctx, "output")

