"""Masks a PII sample again before it is shown: samples should arrive redacted, but a report never trusts that."""
from __future__ import annotations

import re

from ..invariants.pii_rules import PII_PATTERNS

MAX_SAMPLE_CHARS = 80
_EMAIL = re.compile(PII_PATTERNS["email"], re.ASCII)
# Loose on purpose (the candidate patterns, without validators): masking a harmless number costs nothing.
_DIGIT_KINDS = re.compile("|".join(f"(?:{PII_PATTERNS[k]})" for k in ("iban", "credit_card", "ssn", "phone", "ipv4")),
                          re.ASCII)
_LONG_DIGITS = re.compile(r"[0-9](?:[ .()/-]?[0-9]){5,}", re.ASCII)


def _mask_email(match: re.Match) -> str:
    local, _, domain = match.group(0).rpartition("@")
    labels = domain.split(".")
    return f"{local[:1]}***@{labels[0][:1]}***.{labels[-1]}"


def _mask_digits(match: re.Match) -> str:
    """Every letter and digit but the last two becomes `*`; separators stay, so the shape remains readable."""
    text = match.group(0)
    keep = {i for i, c in enumerate(text) if c.isalnum()}
    last = sorted(keep)[-2:]
    return "".join("*" if i in keep and i not in last else c for i, c in enumerate(text))


def redact_sample(sample) -> str | None:
    """The sample with any e-mail, phone, SSN, card, IPv4, IBAN or long digit run masked; None for non-strings."""
    if not isinstance(sample, str):
        return None
    text = sample[:MAX_SAMPLE_CHARS] + ("…" if len(sample) > MAX_SAMPLE_CHARS else "")
    text = _EMAIL.sub(_mask_email, text)
    text = _DIGIT_KINDS.sub(_mask_digits, text)
    return _LONG_DIGITS.sub(_mask_digits, text)


def looks_unredacted(sample: str) -> bool:
    """True when the text still holds something a PII pattern matches in clear."""
    return bool(_EMAIL.search(sample) or _DIGIT_KINDS.search(sample) or _LONG_DIGITS.search(sample))
