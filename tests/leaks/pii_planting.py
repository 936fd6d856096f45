"""PII values for the leak tests, each valid under the PII rules (Luhn, mod-97, NANP, SSA), and the scan that says
whether any text still holds one."""
from __future__ import annotations

import re

from pipeline.core.invariants.pii_mask import find_pii

EMAIL = "alice.smith@example.org"
PLANTED = {
    "email": [EMAIL, "bob.jones+ops@corp-mail.co.uk", "carol@examplecorp.com"],
    "phone": ["(415) 867-5309", "212-456-7890"],
    "ssn": ["123-45-6789", "078-05-1121"],
    "credit_card": ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
    "ipv4": ["203.0.113.195", "192.168.14.77"],
    "iban": ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"],
}
ALL = [v for values in PLANTED.values() for v in values]


def leaks(text: str) -> list[tuple[str, str]]:
    """Every PII rule match in `text`, plus any planted value present verbatim (digits compared without separators)."""
    found = list(find_pii(text))
    squeezed = re.sub(r"[\s().-]", "", text)
    for value in ALL:
        if value in text or (not value.count("@") and re.sub(r"[\s().-]", "", value) in squeezed):
            found.append(("planted", value))
    return found
