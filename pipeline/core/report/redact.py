"""Masks a PII sample again before it is shown: samples should arrive redacted, but a report never trusts that."""
from __future__ import annotations

import re

from ..invariants.pii_mask import mask_pii, pii_spans

MAX_SAMPLE_CHARS = 80
_LONG_DIGITS = re.compile(r"[0-9](?:[ .()/-]?[0-9]){5,}", re.ASCII)


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
    # loose on purpose (candidates, not validated): masking a harmless number in a sample costs nothing
    text = mask_pii(sample, loose=True)
    text = _LONG_DIGITS.sub(_mask_digits, text)
    return text[:MAX_SAMPLE_CHARS] + ("…" if len(text) > MAX_SAMPLE_CHARS else "")


def looks_unredacted(sample: str) -> bool:
    """True when the text still holds something a PII pattern matches in clear."""
    return bool(pii_spans(sample, loose=True) or _LONG_DIGITS.search(sample))
