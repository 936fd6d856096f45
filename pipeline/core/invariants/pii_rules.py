"""PII candidate regexes and validators for the invariant family: re-exported from `strata_capture.pii`, the one
dependency-free definition the capture SDK scrubs with too."""
from __future__ import annotations

from strata_capture.pii import (CARD_NETWORKS, IBAN_LENGTHS, PII_KINDS, PII_PATTERNS, PRIORITY, VALIDATORS,
                                card_network, digits_of, iban_core, luhn_ok, overlap_key, resolve_overlaps,
                                valid_card, valid_email, valid_iban, valid_ipv4, valid_phone, valid_ssn)

__all__ = ["CARD_NETWORKS", "IBAN_LENGTHS", "PII_KINDS", "PII_PATTERNS", "PRIORITY", "VALIDATORS", "card_network",
           "digits_of", "iban_core", "luhn_ok", "overlap_key", "resolve_overlaps", "valid_card", "valid_email",
           "valid_iban", "valid_ipv4", "valid_phone", "valid_ssn"]
