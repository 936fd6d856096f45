"""PII validators on true and false cases, overlap priority, and vectorized detection against a per-string reference."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.invariants.pii_rules import (PII_PATTERNS, VALIDATORS, card_network, luhn_ok, resolve_overlaps,
                                                valid_card, valid_email, valid_iban, valid_ipv4, valid_phone, valid_ssn)
from pipeline.core.invariants.text_scan import detect_pii_in_strings


def test_luhn_and_cards():
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")  # off by one digit
    assert valid_card("4111 1111 1111 1111")
    assert not valid_card("4111 1111 1111 1112")
    assert card_network("2221000000000009") == "mastercard" and valid_card("2221000000000009")  # 2-series
    assert card_network("2720999999999996") == "mastercard" and valid_card("2720-9999-9999-9996")
    assert card_network("2721000000000004") is None  # just past the 2-series range
    assert card_network("5555555555554444") == "mastercard"
    assert card_network("378282246310005") == "amex" and valid_card("378282246310005")
    assert card_network("6011111111111117") == "discover" and valid_card("6011111111111117")
    assert card_network("3530111333300000") == "jcb" and valid_card("3530111333300000")
    assert card_network("30569309025904") == "diners" and valid_card("30569309025904")
    assert card_network("6200000000000005") == "unionpay" and valid_card("6200000000000005")
    assert not valid_card("1234567812345670")  # Luhn-valid but no network starts with 1
    assert not valid_card("411111111111")  # 12 digits


def test_ssn_rules():
    assert valid_ssn("219-09-9999")
    assert not valid_ssn("666-12-3456")
    assert not valid_ssn("000-12-3456")
    assert not valid_ssn("912-12-3456")
    assert not valid_ssn("219-00-9999")
    assert not valid_ssn("219-09-0000")


def test_phone_rules():
    assert valid_phone("(212) 867-5309")
    assert valid_phone("+1 415-555-2671")
    assert not valid_phone("212-555-0100")  # 555-01xx is reserved for fiction
    assert not valid_phone("212-555-0199")
    assert valid_phone("212-555-0200")
    assert not valid_phone("911-867-5309")  # N11 area code
    assert not valid_phone("212-411-5309")  # N11 exchange
    assert not valid_phone("112-867-5309")  # area code starts with 1
    assert not valid_phone("212-067-5309")  # exchange starts with 0


def test_ipv4_iban_email():
    assert valid_ipv4("192.168.1.1") and valid_ipv4("0.0.0.0") and valid_ipv4("255.255.255.255")
    assert not valid_ipv4("999.1.1.1") and not valid_ipv4("256.1.1.1")
    assert valid_iban("DE89 3704 0044 0532 0130 00") and valid_iban("GB82WEST12345698765432")
    assert not valid_iban("DE89 3704 0044 0532 0130 01")  # bad checksum
    assert not valid_iban("DE89 3704 0044 0532 0130")  # wrong length for DE
    assert not valid_iban("XX89 3704 0044 0532 0130 00")  # unknown country
    assert valid_iban("NO93 8601 1117 947")  # shortest IBAN
    assert valid_email("jane.doe@example.com") and valid_email("a+b@sub.example.co.uk")
    assert not valid_email("jane..doe@example.com") and not valid_email("jane@-example.com")


def test_detection_in_text():
    found = detect_pii_in_strings([
        "write to jane.doe@example.com", "call (212) 867-5309", "fake 212-555-0123", "ssn 666-12-3456",
        "ssn 219-09-9999", "card 4111 1111 1111 1111.", "card 4111 1111 1111 1112", "ip 999.1.1.1",
        "ip 10.0.0.1", "iban DE89 3704 0044 0532 0130 01", "iban DE89 3704 0044 0532 0130 00", None, "",
    ])
    assert found == [{"email"}, {"phone"}, set(), set(), {"ssn"}, {"credit_card"}, set(), set(), {"ipv4"}, set(),
                     {"iban"}, set(), set()]


def test_card_inside_iban_is_not_a_card():
    # The grouped IBAN's 18-digit run "6011 0000 1234 5678 91" is itself a Luhn-valid Discover number.
    iban = "DE77 6011 0000 1234 5678 91"
    inner = "6011 0000 1234 5678 91"
    assert valid_iban(iban) and valid_card(inner)
    assert re.search(PII_PATTERNS["credit_card"], iban, re.ASCII).group(0) == inner
    assert resolve_overlaps([("credit_card", inner), ("iban", iban)]) == [("iban", iban)]
    assert detect_pii_in_strings([f"pay to {iban} today", f"card {inner} alone"]) == [{"iban"}, {"credit_card"}]


def reference_kinds(text: str | None) -> set[str]:
    """Plain per-string detection: Python's re over the whole string, the validators, the overlap rule."""
    if text is None:
        return set()
    found = [(kind, m.group(0)) for kind, pattern in PII_PATTERNS.items()
             for m in re.finditer(pattern, text, re.ASCII) if VALIDATORS[kind](m.group(0))]
    return {k for k, _ in resolve_overlaps(found)}


FRAGMENTS = st.sampled_from([
    "jane.doe@example.com", "x@y.io", "a..b@c.de", "(212) 867-5309", "212-555-0150", "+1 415 555 2671", "911-555-1234",
    "219-09-9999", "666-01-2345", "4111 1111 1111 1111", "4111111111111112", "2221000000000009", "378282246310005",
    "192.168.1.1", "999.1.1.1", "1.2.3.4.5", "DE89 3704 0044 0532 0130 00", "GB33BUKB20201555555555", "NO9386011117947",
    "DE89 3704 0044 0532 0130 01", "DE77 6011 0000 1234 5678 91", "6011 0000 1234 5678 91", "kb-123", "v1.4.2", "0.87", " ", "-", ".", "@", "(", ")", "\n", "é", "Contact:",
])
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(alphabet="0123456789 -.()@+abcXYZ", max_size=12)), max_size=8).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=25))
def test_vectorized_detection_matches_reference(texts):
    assert detect_pii_in_strings(texts) == [reference_kinds(t) for t in texts]
