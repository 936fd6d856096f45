"""PII candidate regexes (RE2- and Python-compatible) and the validators that confirm a candidate is real.

The one definition of the PII rules: the capture SDK scrubs with them and the invariant family
(`pipeline.core.invariants.pii_rules`) re-exports them. Standard library only.
"""
from __future__ import annotations

import re

# Candidate patterns: deliberately loose; the validators below decide. ASCII-only classes so DuckDB's RE2 and
# Python's `re` (with re.ASCII) agree on every match.
PII_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"(?:\+1[ .-]?)?(?:\([0-9]{3}\) ?|\b[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}\b",
    "ssn": r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
    "credit_card": r"\b[0-9](?:[ -]?[0-9]){12,18}\b",
    "ipv4": r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b",
    "iban": r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
}
PII_KINDS = tuple(PII_PATTERNS)

# When candidates overlap, the higher-priority kind wins: digits inside a valid IBAN are not also a card, a card
# is not also a phone number. Email is text, never overlapping the digit kinds.
PRIORITY = ("iban", "credit_card", "ssn", "phone", "ipv4")

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

# (first-digits range low, high, allowed lengths) per network; ranges compare on the same number of leading digits.
CARD_NETWORKS: dict[str, list[tuple[str, str, tuple[int, ...]]]] = {
    "visa": [("4", "4", (13, 16, 19))],
    "mastercard": [("51", "55", (16,)), ("2221", "2720", (16,))],
    "amex": [("34", "34", (15,)), ("37", "37", (15,))],
    "discover": [("6011", "6011", (16, 17, 18, 19)), ("644", "649", (16, 17, 18, 19)),
                 ("65", "65", (16, 17, 18, 19)), ("622126", "622925", (16, 17, 18, 19))],
    "diners": [("300", "305", (14, 15, 16, 17, 18, 19)), ("36", "36", (14, 15, 16, 17, 18, 19)),
               ("38", "39", (14, 15, 16, 17, 18, 19))],
    "jcb": [("3528", "3589", (16, 17, 18, 19))],
    "unionpay": [("62", "62", (16, 17, 18, 19))],
    "maestro": [(p, p, tuple(range(13, 20))) for p in ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763")],
    "mir": [("2200", "2204", (16, 17, 18, 19))],
}

_EMAIL_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", re.ASCII)


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    for network, ranges in CARD_NETWORKS.items():
        for low, high, lengths in ranges:
            head = digits[: len(low)]
            if len(digits) in lengths and low <= head <= high:
                return network
    return None


def valid_card(candidate: str) -> bool:
    d = digits_of(candidate)
    return 13 <= len(d) <= 19 and card_network(d) is not None and luhn_ok(d)


def valid_ssn(candidate: str) -> bool:
    area, group, serial = candidate.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def valid_phone(candidate: str) -> bool:
    """NANP: area and exchange codes start 2-9 and are not N11; 555-0100..0199 is the fictional range."""
    d = digits_of(candidate)
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    if len(d) != 10:
        return False
    area, exchange, line = d[:3], d[3:6], d[6:]
    for code in (area, exchange):
        if code[0] in "01" or code[1:] == "11":
            return False
    return not (exchange == "555" and "0100" <= line <= "0199")


def valid_ipv4(candidate: str) -> bool:
    return all(int(octet) <= 255 for octet in candidate.split("."))


def valid_iban(candidate: str) -> bool:
    """Country length and ISO 7064 mod-97; trailing groups that the loose pattern swallowed are ignored."""
    expected = IBAN_LENGTHS.get(candidate[:2])
    if expected is None:
        return False
    compact = ""
    for token in candidate.split(" "):
        if len(compact) >= expected:
            break
        compact += token
    if len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def iban_core(candidate: str) -> str:
    """The part of an IBAN candidate that validation used (for overlap checks)."""
    expected = IBAN_LENGTHS.get(candidate[:2], 0)
    compact = ""
    for token in candidate.split(" "):
        if len(compact) >= expected:
            break
        compact += token
    return compact


def valid_email(candidate: str) -> bool:
    local, _, domain = candidate.rpartition("@")
    if not local or len(local) > 64 or local[0] == "." or local[-1] == "." or ".." in local:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_EMAIL_LABEL.fullmatch(label) for label in labels) and labels[-1].isalpha()


VALIDATORS = {
    "email": valid_email,
    "phone": valid_phone,
    "ssn": valid_ssn,
    "credit_card": valid_card,
    "ipv4": valid_ipv4,
    "iban": valid_iban,
}


def overlap_key(kind: str, candidate: str) -> str:
    """Digits that a candidate occupies; a lower-priority candidate whose digits sit inside a higher one's is dropped."""
    return digits_of(iban_core(candidate) if kind == "iban" else candidate)


def resolve_overlaps(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep validated (kind, candidate) pairs of one text, dropping those shadowed by a higher-priority kind."""
    kept: list[tuple[str, str]] = []
    claimed: list[str] = []
    for kind in PRIORITY:
        for k, cand in found:
            if k != kind:
                continue
            key = overlap_key(k, cand)
            if any(key and key in c for c in claimed):
                continue
            kept.append((k, cand))
        claimed.extend(overlap_key(k, c) for k, c in kept if k == kind)
    kept.extend((k, c) for k, c in found if k == "email")
    return kept
